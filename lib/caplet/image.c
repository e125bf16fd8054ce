/* Images: taken from the node store when there (IfNotPresent), otherwise
 * pulled by a `capsule pull` child so the loop never blocks on a download;
 * one pull per reference however many executions wait for it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"
#include "oci/image.h"
#include "oci/manifest.h"
#include "oci/ref.h"
#include "oci/store.h"

struct waiter {
	struct caplet_exec *x;
	caplet_image_cb cb;
	struct waiter *next;
};

struct caplet_pull {
	struct recap_caplet *agent;
	struct caplet_pull *next;
	char *ref;
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

/* 1: delivered from the store; 0: not there. */
static int deliver(struct recap_caplet *c, const char *ref, struct caplet_exec *x, caplet_image_cb cb,
		   char **ret_msg)
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
	_cleanup_json_ json_t *cfg = config_json(img->config);
	struct recap_caplet_image ci = {
	    .digest = img->manifest,
	    .layers = (const char *const *)img->layer_dirs,
	    .n_layers = img->n_layers,
	    .config = cfg,
	};
	cb(x, &ci, NULL);
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
	free(p);
}

static void on_pulled(struct caplet_proc *proc, int64_t status, int sig, const struct recap_buf *out,
		      const char *errtail, void *data)
{
	struct caplet_pull *p = data;
	struct recap_caplet *c = p->agent;
	struct waiter *w = p->waiters;
	p->waiters = NULL;
	char *ref = steal_ptr(p->ref);
	pull_free(p);
	if (status != 0)
		c->metric_pull_failures++;
	while (w) {
		struct waiter *next = w->next;
		_cleanup_free_ char *msg = NULL;
		if (status != 0 || !deliver(c, ref, w->x, w->cb, &msg)) {
			struct recap_buf b = RECAP_BUF_INIT(4096);
			const char *why = status != 0 ? errtail : msg;
			recap_buf_printf(&b, "pull %s: %s", ref, why && *why ? why : "failed");
			w->cb(w->x, NULL, b.data ? b.data : "pull failed");
			recap_buf_free(&b);
		}
		free(w);
		w = next;
	}
	free(ref);
}

static int pull_start(struct recap_caplet *c, const char *ref, struct caplet_pull **ret,
		      struct recap_error **err)
{
	struct caplet_pull *p = calloc(1, sizeof(*p));
	if (!p || !(p->ref = strdup(ref))) {
		free(p);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	p->agent = c;
	struct caplet_argv a;
	caplet_argv_executor(&a, c, false);
	caplet_argv_add(&a, "--registry-only"); /* the reference is cluster input */
	caplet_argv_add(&a, "pull");
	for (int i = 0; c->o.insecure[i]; i++) {
		caplet_argv_add(&a, "--insecure-registry");
		caplet_argv_add(&a, c->o.insecure[i]);
	}
	caplet_argv_add(&a, "--");
	caplet_argv_add(&a, ref);
	int r = caplet_argv_done(&a, err);
	if (r >= 0)
		r = caplet_proc_spawn(c->loop, (char *const *)a.v, NULL, 0, on_pulled, p, &p->proc, err);
	if (r < 0) {
		free(p->ref);
		free(p);
		return r;
	}
	p->next = c->pulls;
	c->pulls = p;
	c->metric_pulls++;
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

bool caplet_image_from_store(struct caplet_exec *x, caplet_image_cb cb)
{
	const char *ref = recap_api_profile_image(recap_api_exec_spec_capsule(x->obj));
	return ref && *ref && deliver(x->agent, ref, x, cb, NULL);
}

void caplet_image_get(struct caplet_exec *x, caplet_image_cb cb)
{
	struct recap_caplet *c = x->agent;
	const char *ref = recap_api_profile_image(recap_api_exec_spec_capsule(x->obj));
	if (!ref || !*ref) {
		cb(x, NULL, "spec.capsule.image is empty");
		return;
	}
	if (deliver(c, ref, x, cb, NULL))
		return;
	struct caplet_pull *p = c->pulls;
	while (p && strcmp(p->ref, ref) != 0)
		p = p->next;
	_cleanup_error_ struct recap_error *err = NULL;
	if (!p && pull_start(c, ref, &p, &err) < 0) {
		cb(x, NULL, recap_error_message(err));
		return;
	}
	struct waiter *w = calloc(1, sizeof(*w));
	if (!w) {
		cb(x, NULL, "out of memory");
		return;
	}
	*w = (struct waiter){x, cb, p->waiters};
	p->waiters = w;
}
