#include "policy/rules.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "policy/image.h"
#include "base/quantity.h"

static const char *const fs_modes[] = {"None", "ReadOnly", "ReadWrite"};

int recap_policy_fs_rank(const char *mode)
{
	for (int i = 0; i < 3; i++) {
		if (mode && strcmp(mode, fs_modes[i]) == 0)
			return i;
	}
	return -1;
}

static bool has(json_t *v)
{
	return v && !json_is_null(v);
}

static bool list_has(json_t *list, const char *s)
{
	size_t i;
	json_t *item;
	json_array_foreach (list, i, item) {
		if (json_is_string(item) && strcmp(json_string_value(item), s) == 0)
			return true;
	}
	return false;
}

/* "<subject> is not allowed by <rule> <list as JSON>". */
static int not_allowed(struct recap_buf *why, const char **rule, const char *name, json_t *list,
		       const char *what, const char *value)
{
	_cleanup_free_ char *dump = list ? json_dumps(list, JSON_COMPACT) : NULL;
	*rule = name;
	recap_buf_printf(why, "%s \"%s\" is not allowed by %s %s", what, value, name, dump ? dump : "[]");
	return 1;
}

static int check_image(const struct policy_rules *r, json_t *spec, struct recap_buf *why, const char **rule)
{
	const char *image = recap_json_str(spec, "image");
	char normal[RECAP_IMAGE_REF_MAX + 1];
	if (!image || recap_policy_image_normalize(image, normal, sizeof(normal)) < 0)
		return recap_buf_printf(why, "spec.image: missing or longer than %d characters",
					RECAP_IMAGE_REF_MAX),
		       -EINVAL;
	if (json_is_array(r->images_allowed)) {
		bool ok = false;
		size_t i;
		json_t *p;
		json_array_foreach (r->images_allowed, i, p) {
			const char *pat = json_string_value(p);
			ok = ok || (pat && (recap_policy_glob_match(pat, image) ||
					    recap_policy_glob_match(pat, normal)));
		}
		if (!ok)
			return not_allowed(why, rule, "images.allowed", r->images_allowed, "image", image);
	}
	const char *digest = recap_policy_image_digest(image);
	if (r->require_digest && !digest) {
		*rule = "images.requireDigest";
		recap_buf_printf(why, "image \"%s\" is not pinned by a sha256 digest (images.requireDigest)",
				 image);
		return 1;
	}
	if (json_array_size(r->digests) > 0 && !(digest && list_has(r->digests, digest))) {
		*rule = "images.digests";
		recap_buf_printf(why, "image \"%s\" does not have one of the %zu digests of images.digests",
				 image, json_array_size(r->digests));
		return 1;
	}
	return 0;
}

static int check_lists(const struct policy_rules *r, json_t *spec, struct recap_buf *why, const char **rule)
{
	size_t i;
	json_t *item;
	json_t *add = recap_json_path(spec, "security.capabilities.add");
	json_array_foreach (add, i, item) {
		const char *cap = json_string_value(item);
		if (cap && !list_has(r->caps_allowed, cap))
			return not_allowed(why, rule, "capabilities.allowed", r->caps_allowed, "capability",
					   cap);
	}
	json_t *join = json_object_get(spec, "join");
	json_array_foreach (join, i, item) {
		const char *ns = json_string_value(item);
		if (ns && r->join_allowed && !list_has(r->join_allowed, ns))
			return not_allowed(why, rule, "join.allowed", r->join_allowed, "joining namespace",
					   ns);
	}
	return 0;
}

static int check_modes(const struct policy_rules *r, json_t *spec, struct recap_buf *why, const char **rule)
{
	const char *fs = recap_json_str(spec, "targetFilesystem");
	int rank = fs ? recap_policy_fs_rank(fs) : 1;
	if (rank < 0)
		return recap_buf_printf(
			   why, "spec.targetFilesystem: \"%s\" is not None, ReadOnly or ReadWrite", fs),
		       -EINVAL;
	if (rank > r->fs_max) {
		*rule = "targetFilesystem.max";
		recap_buf_printf(why, "targetFilesystem %s exceeds targetFilesystem.max %s", fs,
				 fs_modes[r->fs_max]);
		return 1;
	}
	const char *seccomp = recap_json_str(spec, "security.seccompProfile.type");
	if (seccomp && strcmp(seccomp, "Unconfined") == 0 && !r->allow_unconfined) {
		*rule = "seccomp.allowUnconfined";
		recap_buf_printf(
		    why, "seccompProfile Unconfined is not allowed (seccomp.allowUnconfined is false)");
		return 1;
	}
	/* a profile on the node may allow anything: only those the policy names */
	const char *prof = recap_json_str(spec, "security.seccompProfile.localhostProfile");
	if (seccomp && strcmp(seccomp, "Localhost") == 0 && (!prof || !list_has(r->localhost_profiles, prof)))
		return not_allowed(why, rule, "seccomp.allowedLocalhostProfiles", r->localhost_profiles,
				   "seccompProfile Localhost", prof ? prof : "");
	return 0;
}

/* A quantity field (int-or-string); *ret_text for messages. */
static int read_quantity(json_t *v, struct recap_quantity *ret, char *text, size_t size)
{
	if (json_is_integer(v))
		snprintf(text, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_string(v))
		snprintf(text, size, "%s", json_string_value(v));
	else
		return -EINVAL;
	return recap_quantity_parse(text, ret, NULL);
}

static int check_quantity(json_t *limits, const char *limit, const char *rule_name, json_t *spec,
			  const char *resource, struct recap_buf *why, const char **rule)
{
	json_t *max = json_object_get(limits, limit);
	if (!has(max))
		return 0;
	char max_text[64], text[64];
	struct recap_quantity qmax, q;
	if (read_quantity(max, &qmax, max_text, sizeof(max_text)) < 0)
		return *rule = rule_name, recap_buf_printf(why, "%s is not a quantity", rule_name),
		       -ENOTRECOVERABLE;
	json_t *v = recap_json_at(spec, "resources", "limits", resource, NULL);
	*rule = rule_name;
	if (!has(v)) {
		recap_buf_printf(why, "resources.limits.%s is required by limits.%s %s", resource, limit,
				 max_text);
		return 1;
	}
	if (read_quantity(v, &q, text, sizeof(text)) < 0)
		return recap_buf_printf(why, "spec.resources.limits.%s: \"%s\" is not a quantity", resource,
					text),
		       -EINVAL;
	if (recap_quantity_cmp(q, qmax) > 0) {
		recap_buf_printf(why, "%s limit %s exceeds limits.%s %s", resource, text, limit, max_text);
		return 1;
	}
	return 0;
}

static int check_number(json_t *limits, const char *limit, const char *rule_name, json_t *spec,
			const char *path, int64_t fallback, struct recap_buf *why, const char **rule)
{
	json_t *max = json_object_get(limits, limit);
	if (!has(max))
		return 0;
	if (!json_is_integer(max))
		return *rule = rule_name, recap_buf_printf(why, "%s is not an integer", rule_name),
		       -ENOTRECOVERABLE;
	int64_t v = recap_json_int(spec, path, fallback);
	if (v > json_integer_value(max)) {
		*rule = rule_name;
		recap_buf_printf(why, "%s %" PRId64 " exceeds limits.%s %" JSON_INTEGER_FORMAT, path, v,
				 limit, json_integer_value(max));
		return 1;
	}
	return 0;
}

static int check_limits(const struct policy_rules *r, json_t *spec, struct recap_buf *why, const char **rule)
{
	int v;
	if ((v = check_number(r->limits, "maxTimeoutSeconds", "limits.maxTimeoutSeconds", spec,
			      "timeoutSeconds", 300, why, rule)) != 0)
		return v;
	if ((v = check_quantity(r->limits, "maxMemory", "limits.maxMemory", spec, "memory", why, rule)) != 0)
		return v;
	if ((v = check_quantity(r->limits, "maxCPU", "limits.maxCPU", spec, "cpu", why, rule)) != 0)
		return v;
	return check_number(r->limits, "maxTailBytes", "limits.maxTailBytes", spec, "output.tailBytes", 4096,
			    why, rule);
}

int recap_policy_rules_check(const struct policy_rules *r, json_t *spec, struct recap_buf *why,
			     const char **rule)
{
	int v;
	if ((v = check_image(r, spec, why, rule)) != 0)
		return v;
	if ((v = check_lists(r, spec, why, rule)) != 0)
		return v;
	if ((v = check_modes(r, spec, why, rule)) != 0)
		return v;
	return check_limits(r, spec, why, rule);
}

int recap_policy_rules_from_spec(json_t *spec, struct policy_rules *r, struct recap_buf *why,
				 const char **rule)
{
	*r = (struct policy_rules){.fs_max = 1};
	if (!spec)
		return 0;
	r->images_allowed = json_object_get(json_object_get(spec, "images"), "allowed");
	if (has(r->images_allowed) && !json_is_array(r->images_allowed))
		return *rule = "images.allowed", recap_buf_printf(why, "images.allowed is not a list"),
		       -ENOTRECOVERABLE;
	if (!json_is_array(r->images_allowed))
		r->images_allowed = NULL;
	r->require_digest = recap_json_bool(spec, "images.requireDigest", 0);
	r->digests = recap_json_path(spec, "images.digests");
	r->caps_allowed = recap_json_path(spec, "capabilities.allowed");
	r->join_allowed = recap_json_path(spec, "join.allowed");
	if (!json_is_array(r->join_allowed))
		r->join_allowed = NULL;
	const char *max = recap_json_str(spec, "targetFilesystem.max");
	if (max && (r->fs_max = recap_policy_fs_rank(max)) < 0)
		return *rule = "targetFilesystem.max",
		       recap_buf_printf(why, "targetFilesystem.max \"%s\" is not None, ReadOnly or ReadWrite",
					max),
		       -ENOTRECOVERABLE;
	r->allow_unconfined = recap_json_bool(spec, "seccomp.allowUnconfined", 0);
	r->localhost_profiles = recap_json_path(spec, "seccomp.allowedLocalhostProfiles");
	if (!json_is_array(r->localhost_profiles) || json_array_size(r->localhost_profiles) == 0)
		r->localhost_profiles = NULL;
	r->limits = json_object_get(spec, "limits");
	return 0;
}
