#include "policy/rules.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "policy/image.h"
#include "base/quantity.h"

/* A target filesystem mode ranks by its place in the schema's enum, each
 * allowing more than the one before; a policy's max lists the same modes. */
_Static_assert(RECAP_API_TARGET_FILESYSTEM_NONE == 0 && RECAP_API_TARGET_FILESYSTEM_READ_ONLY == 1 &&
		   RECAP_API_TARGET_FILESYSTEM_READ_WRITE == 2 &&
		   (int)RECAP_API_TARGET_FILESYSTEM_MAX_NONE == (int)RECAP_API_TARGET_FILESYSTEM_NONE &&
		   (int)RECAP_API_TARGET_FILESYSTEM_MAX_READ_ONLY ==
		       (int)RECAP_API_TARGET_FILESYSTEM_READ_ONLY &&
		   (int)RECAP_API_TARGET_FILESYSTEM_MAX_READ_WRITE ==
		       (int)RECAP_API_TARGET_FILESYSTEM_READ_WRITE,
	       "targetFilesystem modes in the order of what they allow");

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
	const char *image = recap_api_profile_image(spec);
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
	json_array_foreach (recap_api_profile_security_capabilities_add(spec), i, item) {
		const char *cap = json_string_value(item);
		if (cap && !list_has(r->caps_allowed, cap))
			return not_allowed(why, rule, "capabilities.allowed", r->caps_allowed, "capability",
					   cap);
	}
	json_array_foreach (recap_api_profile_join(spec), i, item) {
		const char *ns = json_string_value(item);
		if (ns && r->join_allowed && !list_has(r->join_allowed, ns))
			return not_allowed(why, rule, "join.allowed", r->join_allowed, "joining namespace",
					   ns);
	}
	return 0;
}

static int check_modes(const struct policy_rules *r, json_t *spec, struct recap_buf *why, const char **rule)
{
	enum recap_api_target_filesystem mode = recap_api_profile_target_filesystem(spec);
	const char *fs = recap_json_str(spec, RECAP_API_PROFILE_TARGET_FILESYSTEM);
	if (mode == RECAP_API_TARGET_FILESYSTEM_COUNT)
		return recap_buf_printf(
			   why, "spec.targetFilesystem: \"%s\" is not None, ReadOnly or ReadWrite", fs),
		       -EINVAL;
	if (recap_api_profile_interactive(spec) && !r->interactive_allowed) {
		*rule = "interactive.allowed";
		recap_buf_printf(why, "interactive sessions are not allowed (interactive.allowed is false)");
		return 1;
	}
	if ((int)mode > (int)r->fs_max) {
		*rule = "targetFilesystem.max";
		recap_buf_printf(why, "targetFilesystem %s exceeds targetFilesystem.max %s", fs,
				 recap_api_target_filesystem_max_names[r->fs_max]);
		return 1;
	}
	enum recap_api_seccomp_profile_type seccomp = recap_api_profile_security_seccomp_profile_type(spec);
	if (seccomp == RECAP_API_SECCOMP_PROFILE_TYPE_UNCONFINED && !r->allow_unconfined) {
		*rule = "seccomp.allowUnconfined";
		recap_buf_printf(
		    why, "seccompProfile Unconfined is not allowed (seccomp.allowUnconfined is false)");
		return 1;
	}
	/* a profile on the node may allow anything: only those the policy names */
	const char *prof = recap_api_profile_security_seccomp_profile_localhost_profile(spec);
	if (seccomp == RECAP_API_SECCOMP_PROFILE_TYPE_LOCALHOST &&
	    (!prof || !list_has(r->localhost_profiles, prof)))
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

static int check_quantity(json_t *max, const char *rule_name, json_t *v, const char *resource,
			  struct recap_buf *why, const char **rule)
{
	if (!has(max))
		return 0;
	char max_text[64], text[64];
	struct recap_quantity qmax, q;
	if (read_quantity(max, &qmax, max_text, sizeof(max_text)) < 0)
		return *rule = rule_name, recap_buf_printf(why, "%s is not a quantity", rule_name),
		       -ENOTRECOVERABLE;
	*rule = rule_name;
	if (!has(v)) {
		recap_buf_printf(why, "resources.limits.%s is required by %s %s", resource, rule_name,
				 max_text);
		return 1;
	}
	if (read_quantity(v, &q, text, sizeof(text)) < 0)
		return recap_buf_printf(why, "spec.resources.limits.%s: \"%s\" is not a quantity", resource,
					text),
		       -EINVAL;
	if (recap_quantity_cmp(q, qmax) > 0) {
		recap_buf_printf(why, "%s limit %s exceeds %s %s", resource, text, rule_name, max_text);
		return 1;
	}
	return 0;
}

static int check_number(json_t *max, const char *rule_name, const char *path, int64_t v,
			struct recap_buf *why, const char **rule)
{
	if (!has(max))
		return 0;
	if (!json_is_integer(max))
		return *rule = rule_name, recap_buf_printf(why, "%s is not an integer", rule_name),
		       -ENOTRECOVERABLE;
	if (v > json_integer_value(max)) {
		*rule = rule_name;
		recap_buf_printf(why, "%s %" PRId64 " exceeds %s %" JSON_INTEGER_FORMAT, path, v, rule_name,
				 json_integer_value(max));
		return 1;
	}
	return 0;
}

static int check_limits(const struct policy_rules *r, json_t *spec, struct recap_buf *why, const char **rule)
{
	int v;
	if ((v = check_number(r->max_timeout_seconds, "limits.maxTimeoutSeconds",
			      RECAP_API_PROFILE_TIMEOUT_SECONDS, recap_api_profile_timeout_seconds(spec), why,
			      rule)) != 0)
		return v;
	if ((v = check_quantity(r->max_memory, "limits.maxMemory",
				recap_api_profile_resources_limits_memory(spec), "memory", why, rule)) != 0)
		return v;
	if ((v = check_quantity(r->max_cpu, "limits.maxCPU", recap_api_profile_resources_limits_cpu(spec),
				"cpu", why, rule)) != 0)
		return v;
	if ((v = check_number(r->max_tail_bytes, "limits.maxTailBytes", RECAP_API_PROFILE_OUTPUT_TAIL_BYTES,
			      recap_api_profile_output_tail_bytes(spec), why, rule)) != 0)
		return v;
	if ((v = check_number(r->max_retention_seconds, "limits.maxRetentionSeconds",
			      RECAP_API_PROFILE_OUTPUT_RETENTION_SECONDS,
			      recap_api_profile_output_retention_seconds(spec), why, rule)) != 0)
		return v;
	if (!recap_api_profile_interactive(spec))
		return 0;
	return check_number(r->max_session_idle_seconds, "limits.maxSessionIdleSeconds",
			    RECAP_API_PROFILE_SESSION_IDLE_TIMEOUT_SECONDS,
			    recap_api_profile_session_idle_timeout_seconds(spec), why, rule);
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

int recap_policy_rules_from_policy(json_t *policy, struct policy_rules *r, struct recap_buf *why,
				   const char **rule)
{
	*r = (struct policy_rules){.fs_max = RECAP_API_TARGET_FILESYSTEM_MAX_READ_ONLY,
				   .interactive_allowed = true};
	if (!policy)
		return 0;
	r->images_allowed = recap_api_policy_spec_images_allowed(policy);
	if (has(r->images_allowed) && !json_is_array(r->images_allowed))
		return *rule = "images.allowed", recap_buf_printf(why, "images.allowed is not a list"),
		       -ENOTRECOVERABLE;
	if (!json_is_array(r->images_allowed))
		r->images_allowed = NULL;
	r->require_digest = recap_api_policy_spec_images_require_digest(policy);
	r->digests = recap_api_policy_spec_images_digests(policy);
	r->caps_allowed = recap_api_policy_spec_capabilities_allowed(policy);
	r->join_allowed = recap_api_policy_spec_join_allowed(policy);
	if (!json_is_array(r->join_allowed))
		r->join_allowed = NULL;
	r->fs_max = recap_api_policy_spec_target_filesystem_max(policy);
	if (r->fs_max == RECAP_API_TARGET_FILESYSTEM_MAX_COUNT)
		return *rule = "targetFilesystem.max",
		       recap_buf_printf(why, "targetFilesystem.max \"%s\" is not None, ReadOnly or ReadWrite",
					recap_json_str(policy, RECAP_API_POLICY_SPEC_TARGET_FILESYSTEM_MAX)),
		       -ENOTRECOVERABLE;
	r->allow_unconfined = recap_api_policy_spec_seccomp_allow_unconfined(policy);
	r->localhost_profiles = recap_api_policy_spec_seccomp_allowed_localhost_profiles(policy);
	if (!json_is_array(r->localhost_profiles) || json_array_size(r->localhost_profiles) == 0)
		r->localhost_profiles = NULL;
	/* JSON, not the getters' integers: a limit that is not an integer leaves
	 * the policy unreadable, and it admits nothing (check_number) */
	r->max_timeout_seconds = recap_json_path(policy, RECAP_API_POLICY_SPEC_LIMITS_MAX_TIMEOUT_SECONDS);
	r->max_memory = recap_api_policy_spec_limits_max_memory(policy);
	r->max_cpu = recap_api_policy_spec_limits_max_cpu(policy);
	r->max_tail_bytes = recap_json_path(policy, RECAP_API_POLICY_SPEC_LIMITS_MAX_TAIL_BYTES);
	r->max_retention_seconds =
	    recap_json_path(policy, RECAP_API_POLICY_SPEC_LIMITS_MAX_RETENTION_SECONDS);
	r->max_session_idle_seconds =
	    recap_json_path(policy, RECAP_API_POLICY_SPEC_LIMITS_MAX_SESSION_IDLE_SECONDS);
	r->interactive_allowed = recap_api_policy_spec_interactive_allowed(policy);
	return 0;
}
