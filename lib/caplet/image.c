/* Images: taken from the node store when there (IfNotPresent), otherwise
 * pulled by a `capsule pull` child so the loop never blocks on a download;
 * one pull per reference (and credentials) however many executions wait
 * for it. A Capsule's imagePullSecrets come from recap-apiserver
 * (capsuleexecutions/NAME/pullcredentials, which gives them to the agent
 * of the execution's node only) and go to the pull on a pipe; an image
 * pulled with credentials is taken from the store only after a pull with
 * the asking execution's own credentials (or none) succeeded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"
#include "oci/image.h"
#include "oci/manifest.h"
#include "oci/pull.h"
#include "oci/ref.h"
#include "oci/store.h"

struct waiter {
	struct caplet_exec *x;
	caplet_image_cb cb;
	struct waiter *next;
};

/* One pull, shared by the executions that wait for the same image with the
 * same credentials: key is the reference, and for a Capsule with
 * imagePullSecrets also its namespace and their names. */
struct caplet_pull {
	struct recap_caplet *agent;
	struct caplet_pull *next;
	char *ref, *key;
	char **verify_args; /* --verify-key options (image_keys.c); NULL: none */
	struct waiter *waiters;
	struct caplet_proc *proc;
};

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (; a && v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *config_json(const struct recap_oci_config *cfg)
{
	json_t *j = json_object();
	if (!j || !cfg)
		return j;
	if (cfg->env)
		json_object_set_new(j, "Env", strv_json(cfg->env));
	if (cfg->entrypoint)
		json_object_set_new(j, "Entrypoint", strv_json(cfg->entrypoint));
	if (cfg->cmd)
		json_object_set_new(j, "Cmd", strv_json(cfg->cmd));
	if (cfg->working_dir && *cfg->working_dir)
		json_object_set_new(j, "WorkingDir", json_string(cfg->working_dir));
	return j;
}

/* 1: delivered from the store; 0: not there, or pulled with credentials
 * and not pulled for this execution just now (pulled: a pull with its
 * credentials, or with none, and its signature check, has just
 * succeeded): such an image is run only after the registry accepted the
 * credentials of the execution that asks for it, so one namespace's pull
 * secret never opens an image to another. */
static int deliver(struct recap_caplet *c, const char *ref, struct caplet_exec *x, caplet_image_cb cb,
		   bool pulled, char **ret_msg)
{
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_oci_store *s = NULL;
	struct recap_oci_image *img = NULL;
	int r = recap_oci_store_open(c->o.root, &s, &err);
	if (r >= 0)
		r = recap_oci_image_load(s, ref, &img, &err);
	recap_oci_store_close(s);
	if (r < 0) {
		if (ret_msg)
			*ret_msg = strdup(recap_error_message(err));
		return 0;
	}
	if (img->pulled_with_credentials && !pulled) {
		recap_oci_image_free(img);
		return 0;
	}
	_cleanup_json_ json_t *cfg = config_json(img->config);
	struct recap_caplet_image ci = {
	    .digest = img->manifest,
	    .layers = (const char *const *)img->layer_dirs,
	    .n_layers = img->n_layers,
	    .config = cfg,
	};
	cb(x, &ci, NULL, NULL);
	recap_oci_image_free(img);
	return 1;
}

static void pull_free(struct caplet_pull *p)
{
	struct caplet_pull **pp = &p->agent->pulls;
	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	free(p->ref);
	free(p->key);
	caplet_image_verify_args_free(p->verify_args);
	free(p);
}

/* What a pull's first line names ("CANONICAL sha256:... (...)") as
 * "REGISTRY/REPOSITORY@sha256:...": the content that was pulled (and
 * verified), whatever the tag names by the time it is loaded. NULL when the
 * line is not that. */
static char *pulled_digest_ref(const char *ref, const struct recap_buf *out)
{
	const char *sp = out && out->data ? strchr(out->data, ' ') : NULL;
	char digest[RECAP_OCI_DIGEST_MAX];
	_cleanup_oci_ref_ struct recap_oci_ref *r = NULL;
	if (!sp || sscanf(sp + 1, "%71s", digest) != 1 || recap_oci_digest_validate(digest, NULL) < 0 ||
	    recap_oci_ref_parse(ref, &r, NULL) < 0 || r->kind != RECAP_OCI_REF_REGISTRY)
		return NULL;
	char *s = NULL;
	return asprintf(&s, "%s/%s@%s", r->registry, r->repository, digest) < 0 ? NULL : s;
}

/* Hands every waiter the image, or why there is none (failed: NULL when
 * the pull succeeded; reason: the execution's reason, NULL for
 * ImagePullFailed), and forgets the pull. pulled: what the pull fetched
 * (pulled_digest_ref), taken instead of the reference when known. */
static void finish(struct caplet_pull *p, const char *pulled, const char *reason, const char *failed)
{
	struct recap_caplet *c = p->agent;
	struct waiter *w = p->waiters;
	p->waiters = NULL;
	char *ref = steal_ptr(p->ref);
	pull_free(p);
	if (failed)
		c->metric_pull_failures++;
	while (w) {
		struct waiter *next = w->next;
		_cleanup_free_ char *msg = NULL;
		if (failed || !deliver(c, pulled ? pulled : ref, w->x, w->cb, true, &msg)) {
			struct recap_buf b = RECAP_BUF_INIT(4096);
			const char *why = failed ? failed : msg;
			recap_buf_printf(&b, "pull %s: %s", ref, why && *why ? why : "failed");
			w->cb(w->x, NULL, failed ? reason : NULL, b.data ? b.data : "pull failed");
			recap_buf_free(&b);
		}
		free(w);
		w = next;
	}
	free(ref);
}

static void on_pulled(struct caplet_proc *proc, int64_t status, int sig, const struct recap_buf *out,
		      const char *errtail, void *data)
{
	struct caplet_pull *p = data;
	_cleanup_free_ char *pulled = status == 0 ? pulled_digest_ref(p->ref, out) : NULL;
	const char *reason = status == RECAP_OCI_PULL_EXIT_SIGNATURE ? RECAP_REASON_SIGNATURE_REFUSED : NULL;
	finish(p, pulled, reason, status != 0 ? (errtail && *errtail ? errtail : "failed") : NULL);
}

/* Runs `capsule pull`; auth_doc: a config.json with the credentials, given
 * on a pipe (fd 3), never in a file or on the command line; NULL: none. */
static int spawn_pull(struct caplet_pull *p, const char *auth_doc, struct recap_error **err)
{
	struct recap_caplet *c = p->agent;
	struct caplet_argv a;
	caplet_argv_executor(&a, c, false);
	caplet_argv_add(&a, "--registry-only"); /* the reference is cluster input */
	caplet_argv_add(&a, "pull");
	for (int i = 0; c->o.insecure[i]; i++) {
		caplet_argv_add(&a, "--insecure-registry");
		caplet_argv_add(&a, c->o.insecure[i]);
	}
	if (c->o.registry_config) {
		caplet_argv_add(&a, "--registry-config");
		caplet_argv_add(&a, c->o.registry_config);
	}
	if (auth_doc) {
		caplet_argv_add(&a, "--auth-fd");
		caplet_argv_add(&a, "3");
	}
	for (size_t i = 0; p->verify_args && p->verify_args[i]; i++)
		caplet_argv_add(&a, p->verify_args[i]);
	caplet_argv_add(&a, "--");
	caplet_argv_add(&a, p->ref);
	int r = caplet_argv_done(&a, err);
	if (r >= 0)
		r = caplet_proc_spawn(c->loop, (char *const *)a.v, auth_doc, auth_doc ? strlen(auth_doc) : 0,
				      on_pulled, p, &p->proc, err);
	if (r >= 0)
		c->metric_pulls++;
	return r;
}

/* recap-apiserver's answer: the registries' credentials, then the pull. */
static void on_credentials(const struct recap_kube_response *resp, void *data)
{
	struct caplet_pull *p = data;
	_cleanup_error_ struct recap_error *err = NULL;
	char *doc = NULL;
	json_t *auths = json_object_get(resp->object, "auths");
	if (resp->code != RECAP_KUBE_OK || !json_is_object(auths)) {
		struct recap_buf b = RECAP_BUF_INIT(2048);
		recap_buf_printf(&b,
				 "pull credentials (spec.capsule.imagePullSecrets) from recap-apiserver: %s",
				 resp->err ? recap_error_message(resp->err) : "the answer has no \"auths\"");
		finish(p, NULL, NULL, b.data ? b.data : "pull credentials refused");
		recap_buf_free(&b);
		return;
	}
	json_t *wrapped = json_pack("{s:O}", "auths", auths);
	doc = wrapped ? json_dumps(wrapped, JSON_COMPACT) : NULL;
	json_decref(wrapped);
	int r = doc ? spawn_pull(p, doc, &err) : recap_error_set(&err, ENOMEM, "out of memory");
	if (doc)
		explicit_bzero(doc, strlen(doc));
	free(doc);
	if (r < 0)
		finish(p, NULL, NULL, recap_error_message(err));
}

static int ask_credentials(struct caplet_pull *p, struct caplet_exec *x, struct recap_error **err)
{
	char path[1024];
	if (snprintf(path, sizeof(path), "/apis/%s/namespaces/%s/%s/%s/pullcredentials",
		     RECAP_SUBRESOURCES_GROUP_VERSION, x->ns, RECAP_RESOURCE_CAPSULE_EXECUTION,
		     x->name) >= (int)sizeof(path))
		return recap_error_set(err, ENAMETOOLONG, "the execution's name is too long");
	struct recap_kube_request req = {.method = "GET", .path = path};
	return recap_kube_request(p->agent->client, &req, on_credentials, p, err);
}

/* The key of the pull an execution waits for (struct caplet_pull). */
static char *pull_key(struct caplet_exec *x, const char *ref, json_t *secrets, const char *keys_tag)
{
	struct recap_buf b = RECAP_BUF_INIT(64 * 1024); /* the schema bounds it to a few KiB */
	int r = recap_buf_appends(&b, ref);
	if (r >= 0 && keys_tag)
		r = recap_buf_appends(&b, keys_tag);
	if (r >= 0 && json_array_size(secrets))
		r = recap_buf_printf(&b, "\n%s", x->ns);
	size_t i;
	json_t *s;
	json_array_foreach (secrets, i, s)
		if (r >= 0)
			r = recap_buf_printf(&b, "\n%s", recap_json_str(s, "name") ?: "");
	if (r < 0) {
		recap_buf_free(&b);
		return NULL;
	}
	return recap_buf_steal(&b);
}

static int pull_start(struct recap_caplet *c, struct caplet_exec *x, const char *ref, char *key,
		      char **verify_args, json_t *secrets, struct caplet_pull **ret, struct recap_error **err)
{
	struct caplet_pull *p = calloc(1, sizeof(*p));
	if (!p || !(p->ref = strdup(ref))) {
		free(p);
		free(key);
		caplet_image_verify_args_free(verify_args);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	p->agent = c;
	p->key = key;
	p->verify_args = verify_args;
	int r = json_array_size(secrets) ? ask_credentials(p, x, err) : spawn_pull(p, NULL, err);
	if (r < 0) {
		free(p->ref);
		free(p->key);
		caplet_image_verify_args_free(p->verify_args);
		free(p);
		return r;
	}
	p->next = c->pulls;
	c->pulls = p;
	*ret = p;
	return 0;
}

int caplet_image_check(json_t *exec, struct recap_error **err)
{
	const char *s = recap_api_profile_image(recap_api_exec_spec_capsule(exec));
	_cleanup_oci_ref_ struct recap_oci_ref *ref = NULL;
	int r = recap_oci_ref_parse(s, &ref, err);
	if (r < 0)
		return recap_error_wrap(err, -r, "spec.capsule.image");
	if (ref->kind != RECAP_OCI_REF_REGISTRY)
		return recap_error_set(err, EPERM,
				       "spec.capsule.image %s is an OCI layout on the node (oci:): a cluster "
				       "execution takes registry references only",
				       ref->canonical);
	return 0;
}

/* The policies' signature key sets for x (see caplet_policy_signature_sets):
 * 1 when there are some (*ret), 0 when none, < 0 (*msg) when they cannot
 * be read. */
static int signature_sets(struct caplet_exec *x, json_t **ret, char **msg)
{
	int r = caplet_policy_signature_sets(x->agent, x->ns, ret, msg);
	if (r < 0)
		return r;
	if (json_array_size(*ret) == 0) {
		json_decref(steal_ptr(*ret));
		return 0;
	}
	return 1;
}

/* An image a policy wants signed is never taken from the store as it is:
 * its pull checks the signature of the digest that then runs. */
bool caplet_image_from_store(struct caplet_exec *x, caplet_image_cb cb)
{
	const char *ref = recap_api_profile_image(recap_api_exec_spec_capsule(x->obj));
	_cleanup_json_ json_t *sets = NULL;
	_cleanup_free_ char *msg = NULL;
	return ref && *ref && signature_sets(x, &sets, &msg) == 0 &&
	       deliver(x->agent, ref, x, cb, false, NULL);
}

void caplet_image_get(struct caplet_exec *x, caplet_image_cb cb)
{
	struct recap_caplet *c = x->agent;
	json_t *capsule = recap_api_exec_spec_capsule(x->obj);
	const char *ref = recap_api_profile_image(capsule);
	json_t *secrets = recap_api_profile_image_pull_secrets(capsule);
	_cleanup_json_ json_t *sets = NULL;
	_cleanup_free_ char *msg = NULL, *tag = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	char **verify_args = NULL;
	if (!ref || !*ref) {
		cb(x, NULL, NULL, "spec.capsule.image is empty");
		return;
	}
	int signed_only = signature_sets(x, &sets, &msg);
	if (signed_only < 0) {
		/* keys a policy names but the controller has not (or could not)
		 * read: the image cannot be verified, so it is refused */
		bool no_keys = signed_only == -EAGAIN || signed_only == -ENOKEY;
		cb(x, NULL, no_keys ? RECAP_REASON_SIGNATURE_REFUSED : RECAP_REASON_POLICY_DENIED,
		   msg ? msg : "the policies cannot be read");
		return;
	}
	if (!signed_only && deliver(c, ref, x, cb, false, NULL))
		return;
	if (signed_only && caplet_image_verify_args(c, sets, &verify_args, &tag, &err) < 0) {
		cb(x, NULL, NULL, recap_error_message(err));
		return;
	}
	char *key = pull_key(x, ref, secrets, tag);
	if (!key) {
		caplet_image_verify_args_free(verify_args);
		cb(x, NULL, NULL, "out of memory");
		return;
	}
	struct caplet_pull *p = c->pulls;
	while (p && strcmp(p->key, key) != 0)
		p = p->next;
	if (p) {
		free(key);
		caplet_image_verify_args_free(verify_args);
	} else if (pull_start(c, x, ref, key, verify_args, secrets, &p, &err) < 0) {
		cb(x, NULL, NULL, recap_error_message(err));
		return;
	}
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w) {
		cb(x, NULL, NULL, "out of memory");
		return;
	}
	*w = (struct waiter){x, cb, p->waiters};
	p->waiters = w;
}
