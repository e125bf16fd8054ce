/* The public keys a CapsulePolicy's images.signatures.publicKeyRefs name.
 *
 * Each is one key of a ConfigMap or Secret in the controller's signing-key
 * namespace, read by name (one get; no list, no watch), checked to be a PEM
 * public key, and written with the policy's status as status.signatures
 * {observedGeneration, publicKeys, message}: the node agents and the
 * admission check take them from there (policy/policy.h), all or none.
 * A read is reused for opts.signing_keys_check_s; after that the next pass
 * reads again, so a key rotated in its ConfigMap or Secret takes effect
 * within that time (the policy is queued again for it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/base64.h"
#include "base/json.h"
#include "controller/ctl.h"
#include "oci/signature.h"

#define KEY_PEM_MAX 8192 /* as publicKeys' items */

static const struct recap_kube_resource configmaps = {"", "v1", "configmaps", true};
static const struct recap_kube_resource secrets = {"", "v1", "secrets", true};

struct keys_read {
	json_t *pol;
	size_t governed, refused;
	size_t n, left;
	bool failed;  /* a get failed: the pass is retried, nothing written */
	json_t *keys; /* one slot per reference: the PEM, or null */
	char **whys;  /* one slot per reference: why it failed, or NULL */
	struct ref_ctx {
		struct keys_read *kr;
		size_t index;
	} * ctx;
};

static void keys_read_free(struct keys_read *kr)
{
	for (size_t i = 0; i < kr->n; i++)
		free(kr->whys[i]);
	free(kr->whys);
	free(kr->ctx);
	json_decref(kr->keys);
	json_decref(kr->pol);
	free(kr);
}

/* The value of key in obj's data (a Secret's decoded), or NULL with why. */
static char *value_of(json_t *obj, bool secret, const char *key, char **why)
{
	/* (the key is one name: "cosign.pub" is no path) */
	const char *v = json_string_value(json_object_get(json_object_get(obj, "data"), key));
	if (!v) {
		*why = strdup(json_object_get(json_object_get(obj, "binaryData"), key)
				  ? "is in binaryData; a PEM key belongs in data"
				  : "has no such key");
		return NULL;
	}
	if (!secret)
		return strdup(v);
	char *out = NULL;
	size_t len = 0;
	if (recap_base64_decode(v, strlen(v), &out, &len) < 0 || memchr(out, '\0', len)) {
		free(out);
		*why = strdup("is not base64 of a PEM key");
		return NULL;
	}
	return out;
}

static void ref_name(json_t *ref, bool *secret, const char **name, const char **key)
{
	json_t *r = json_object_get(ref, "secretKeyRef");
	*secret = r != NULL;
	if (!r)
		r = json_object_get(ref, "configMapKeyRef");
	*name = recap_json_str(r, "name");
	*key = recap_json_str(r, "key");
}

static void one_answered(struct ctl_op *op, const struct recap_kube_response *resp, bool ok, void *arg);

/* The status once every reference has answered. */
static void keys_done(struct ctl_op *op, struct keys_read *kr)
{
	struct recap_controller *ctl = op->ctl;
	json_t *refs = recap_api_policy_spec_images_signatures_public_key_refs(kr->pol);
	char msg[1024] = "";
	for (size_t i = 0; i < kr->n && !msg[0]; i++) {
		if (!kr->whys[i])
			continue;
		bool secret;
		const char *name, *key;
		ref_name(json_array_get(refs, i), &secret, &name, &key);
		snprintf(msg, sizeof(msg), "publicKeyRefs[%zu]: key \"%s\" of %s %s/%s %s", i, key ? key : "",
			 secret ? "Secret" : "ConfigMap", ctl->keys_ns, name ? name : "", kr->whys[i]);
	}
	json_t *sig =
	    json_pack("{s:I, s:O}", "observedGeneration", (json_int_t)recap_api_meta_generation(kr->pol),
		      "publicKeys", msg[0] ? json_array() : kr->keys);
	if (sig && msg[0])
		json_object_set_new(sig, "message", json_string(msg));
	recap_ctl_policy_status(op, kr->pol, kr->governed, kr->refused, sig);
	if (!msg[0])
		recap_kube_strmap_put(ctl->keys_read, recap_api_meta_name(kr->pol),
				      (void *)(uintptr_t)uv_now(ctl->loop), NULL);
	else
		recap_kube_strmap_remove(ctl->keys_read, recap_api_meta_name(kr->pol), NULL);
	keys_read_free(kr);
}

static void one_answered(struct ctl_op *op, const struct recap_kube_response *resp, bool ok, void *arg)
{
	struct ref_ctx *rc = arg;
	struct keys_read *kr = rc->kr;
	size_t i = rc->index;
	json_t *ref = json_array_get(recap_api_policy_spec_images_signatures_public_key_refs(kr->pol), i);
	bool secret;
	const char *name, *key;
	ref_name(ref, &secret, &name, &key);
	if (!ok) {
		kr->whys[i] = strdup("could not be read"); /* the pass failed and is retried */
	} else if (resp->code == RECAP_KUBE_ERR_NOT_FOUND) {
		kr->whys[i] = strdup("does not exist");
	} else if (resp->code == RECAP_KUBE_ERR_FORBIDDEN) {
		kr->whys[i] =
		    strdup(secret ? "may not be read by the controller (its RBAC names the Secrets it may "
				    "read: the chart's controller.signingKeySecrets)"
				  : "may not be read by the controller");
	} else {
		char *pem = value_of(resp->object, secret, key, &kr->whys[i]);
		struct recap_oci_sig_key *k = NULL;
		struct recap_error *e = NULL;
		if (pem && strlen(pem) > KEY_PEM_MAX) {
			char why[64];
			snprintf(why, sizeof(why), "holds %zu bytes (limit %d)", strlen(pem), KEY_PEM_MAX);
			kr->whys[i] = strdup(why);
		} else if (pem && recap_oci_sig_key_parse(key, pem, strlen(pem), &k, &e) < 0) {
			char why[512];
			snprintf(why, sizeof(why), "is not a usable public key: %s", recap_error_message(e));
			kr->whys[i] = strdup(why);
		} else if (pem) {
			json_array_set_new(kr->keys, i, json_string(pem));
		}
		recap_oci_sig_key_free(k);
		recap_error_free(e);
		free(pem);
	}
	kr->failed |= !ok;
	if (--kr->left == 0) {
		if (!kr->failed)
			keys_done(op, kr);
		else
			keys_read_free(kr);
	}
}

/* Whether the keys in pol's status are from a read of its generation
 * done less than signing_keys_check_s ago. */
static bool fresh(struct recap_controller *ctl, json_t *pol)
{
	const char *name = recap_api_meta_name(pol);
	if (!name || !recap_kube_strmap_contains(ctl->keys_read, name))
		return false;
	uint64_t at = (uintptr_t)recap_kube_strmap_get(ctl->keys_read, name);
	const char *why = recap_api_policy_status_signatures_message(pol);
	return recap_api_policy_status_signatures(pol) &&
	       recap_api_policy_status_signatures_observed_generation(pol) ==
		   recap_api_meta_generation(pol) &&
	       !(why && *why) && uv_now(ctl->loop) - at < ctl->opts.signing_keys_check_s * 1000;
}

int recap_ctl_policy_keys(struct ctl_op *op, json_t *pol, size_t governed, size_t refused)
{
	struct recap_controller *ctl = op->ctl;
	json_t *refs = recap_api_policy_spec_images_signatures_public_key_refs(pol);
	size_t n = json_array_size(refs);
	if (n == 0) {
		recap_kube_strmap_remove(ctl->keys_read, recap_api_meta_name(pol) ?: "", NULL);
		recap_ctl_policy_status(op, pol, governed, refused, NULL);
		return 0;
	}
	recap_ctl_op_requeue(op, ctl->opts.signing_keys_check_s * 1000000000ull);
	if (fresh(ctl, pol)) {
		recap_ctl_policy_status(op, pol, governed, refused,
					json_deep_copy(recap_api_policy_status_signatures(pol)));
		return 0;
	}
	struct keys_read *kr = calloc(1, sizeof(*kr));
	if (kr) {
		*kr = (struct keys_read){.pol = json_incref(pol),
					 .governed = governed,
					 .refused = refused,
					 .n = n,
					 .left = n,
					 .keys = json_array(),
					 .whys = calloc(n, sizeof(char *)),
					 .ctx = calloc(n, sizeof(struct ref_ctx))};
	}
	for (size_t i = 0; kr && kr->keys && i < n; i++)
		if (json_array_append_new(kr->keys, json_null()) < 0)
			break;
	if (!kr || !kr->keys || json_array_size(kr->keys) != n || !kr->whys || !kr->ctx) {
		if (kr)
			keys_read_free(kr);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		bool secret;
		const char *name, *key;
		ref_name(json_array_get(refs, i), &secret, &name, &key);
		kr->ctx[i] = (struct ref_ctx){kr, i};
		unsigned before = op->pending;
		if (name && key)
			recap_ctl_op_get_answered(op, secret ? &secrets : &configmaps, ctl->keys_ns, name,
						  CTL_OK_NOT_FOUND | CTL_OK_FORBIDDEN, one_answered,
						  &kr->ctx[i]);
		if (op->pending == before) {
			/* not sent (the pass failed), or a reference the API
			 * server's schema would have refused */
			kr->whys[i] = strdup("is not a reference with a name and a key");
			if (name && key)
				kr->failed = true;
			if (--kr->left == 0) {
				keys_read_free(kr);
				return 0;
			}
		}
	}
	return 0;
}
