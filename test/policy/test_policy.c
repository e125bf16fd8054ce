#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "policy/policy.h"

#define DIGEST "sha256:5c3c2a0e3b0b1a8f9d1e6f4c2b7a9d8e0f1a2b3c4d5e6f708192a3b4c5d6e7f8"
#define OTHER "sha256:0000000000000000000000000000000000000000000000000000000000000000"

/* A Capsule spec that the "production" sample policy admits. */
static const char *base_spec =
    "{\"image\":\"registry.local/capsules/tcpdump@" DIGEST "\",\"join\":[\"net\",\"pid\"],"
    "\"targetFilesystem\":\"ReadOnly\",\"security\":{\"capabilities\":{\"add\":[\"NET_RAW\"]},"
    "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"resources\":{\"limits\":{\"cpu\":\"200m\","
    "\"memory\":\"64Mi\"}},\"timeoutSeconds\":60,\"output\":{\"tailBytes\":4096}}";

#define PRODUCTION                                                                                           \
	"{\"metadata\":{\"name\":\"production\"},\"spec\":{\"namespaceSelector\":{\"matchLabels\":{\"env\":" \
	"\"prod\"}},"                                                                                        \
	"\"images\":{\"allowed\":[\"registry.local/capsules/*\"],\"requireDigest\":true},"                   \
	"\"capabilities\":{\"allowed\":[\"NET_RAW\",\"NET_ADMIN\",\"SYS_PTRACE\"]},"                         \
	"\"join\":{\"allowed\":[\"net\",\"pid\",\"ipc\",\"uts\"]},\"targetFilesystem\":{\"max\":"            \
	"\"ReadOnly\"},"                                                                                     \
	"\"seccomp\":{\"allowUnconfined\":false},\"limits\":{\"maxTimeoutSeconds\":600,\"maxMemory\":"       \
	"\"256Mi\","                                                                                         \
	"\"maxCPU\":\"1\",\"maxConcurrentPerNode\":4,\"maxTailBytes\":16384,"                                \
	"\"maxRetentionSeconds\":86400}}}"
#define POLICY(name, spec) "{\"metadata\":{\"name\":\"" name "\"},\"spec\":" spec "}"

#define PROD "{\"env\":\"prod\"}"
#define DEV "{\"env\":\"dev\"}"

struct pcase {
	const char *title, *labels, *policies, *patch;
	bool admitted;
	const char *message; /* exact when it starts with "=", else a substring */
	const char *rule;
	size_t governing;
};

static const struct pcase cases[] = {
    {"admitted", PROD, "[" PRODUCTION "]", "{}", true, NULL, NULL, 1},
    {"image refused", PROD, "[" PRODUCTION "]", "{\"image\":\"docker.io/evil\"}", false,
     "=CapsulePolicy \"production\": image \"docker.io/evil\" is not allowed by images.allowed "
     "[\"registry.local/capsules/*\"]",
     "images.allowed", 1},
    {"image in a sub-path refused", PROD, "[" PRODUCTION "]",
     "{\"image\":\"registry.local/capsules/x/tcpdump@" DIGEST "\"}", false,
     "is not allowed by images.allowed", "images.allowed", 1},
    {"digest required", PROD, "[" PRODUCTION "]", "{\"image\":\"registry.local/capsules/tcpdump:4.99\"}",
     false,
     "=CapsulePolicy \"production\": image \"registry.local/capsules/tcpdump:4.99\" is not pinned by a "
     "sha256 "
     "digest (images.requireDigest)",
     "images.requireDigest", 1},
    {"digest allow-list refuses", PROD,
     "[" POLICY("pinned", "{\"images\":{\"digests\":[\"" OTHER "\"]}}") "]",
     "{\"security\":{\"capabilities\":{\"add\":[]}}}", false,
     "=CapsulePolicy \"pinned\": image \"registry.local/capsules/tcpdump@" DIGEST
     "\" does not have one of the 1 digests of images.digests",
     "images.digests", 1},
    {"digest allow-list admits", PROD,
     "[" POLICY("pinned", "{\"images\":{\"digests\":[\"" OTHER "\",\"" DIGEST "\"]}}") "]",
     "{\"security\":{\"capabilities\":{\"add\":[]}}}", true, NULL, NULL, 1},
    {"digest allow-list and no digest", PROD,
     "[" POLICY("pinned", "{\"images\":{\"digests\":[\"" OTHER "\"]}}") "]",
     "{\"image\":\"x:1\",\"security\":{\"capabilities\":{\"add\":[]}}}", false, "does not have one of",
     "images.digests", 1},
    {"capability refused", PROD, "[" PRODUCTION "]",
     "{\"security\":{\"capabilities\":{\"add\":[\"SYS_ADMIN\"]}}}", false,
     "=CapsulePolicy \"production\": capability \"SYS_ADMIN\" is not allowed by capabilities.allowed "
     "[\"NET_RAW\",\"NET_ADMIN\",\"SYS_PTRACE\"]",
     "capabilities.allowed", 1},
    {"capability admitted", PROD, "[" PRODUCTION "]",
     "{\"security\":{\"capabilities\":{\"add\":[\"SYS_PTRACE\",\"NET_ADMIN\"]}}}", true, NULL, NULL, 1},
    {"join refused", PROD, "[" PRODUCTION "]", "{\"join\":[\"net\",\"cgroup\"]}", false,
     "=CapsulePolicy \"production\": joining namespace \"cgroup\" is not allowed by join.allowed "
     "[\"net\",\"pid\",\"ipc\",\"uts\"]",
     "join.allowed", 1},
    {"targetFilesystem refused", PROD, "[" PRODUCTION "]", "{\"targetFilesystem\":\"ReadWrite\"}", false,
     "=CapsulePolicy \"production\": targetFilesystem ReadWrite exceeds targetFilesystem.max ReadOnly",
     "targetFilesystem.max", 1},
    {"targetFilesystem None admitted", PROD, "[" PRODUCTION "]", "{\"targetFilesystem\":\"None\"}", true,
     NULL, NULL, 1},
    {"seccomp Unconfined refused", PROD, "[" PRODUCTION "]",
     "{\"security\":{\"seccompProfile\":{\"type\":\"Unconfined\"}}}", false,
     "=CapsulePolicy \"production\": seccompProfile Unconfined is not allowed (seccomp.allowUnconfined is "
     "false)",
     "seccomp.allowUnconfined", 1},
    {"seccomp Unconfined allowed", PROD,
     "[" POLICY("debug",
		"{\"seccomp\":{\"allowUnconfined\":true},\"capabilities\":{\"allowed\":[\"NET_RAW\"]}}") "]",
     "{\"security\":{\"seccompProfile\":{\"type\":\"Unconfined\"}}}", true, NULL, NULL, 1},
    {"seccomp Localhost refused when none is listed", PROD, "[" PRODUCTION "]",
     "{\"security\":{\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":\"allow-all."
     "json\"}}}",
     false,
     "=CapsulePolicy \"production\": seccompProfile Localhost \"allow-all.json\" is not allowed by "
     "seccomp.allowedLocalhostProfiles []",
     "seccomp.allowedLocalhostProfiles", 1},
    {"seccomp Localhost refused when not listed", PROD,
     "[" POLICY("debug", "{\"seccomp\":{\"allowedLocalhostProfiles\":[\"strace.json\"]},"
			 "\"capabilities\":{\"allowed\":[\"NET_RAW\"]}}") "]",
     "{\"security\":{\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":\"allow-all."
     "json\"}}}",
     false,
     "=CapsulePolicy \"debug\": seccompProfile Localhost \"allow-all.json\" is not allowed by "
     "seccomp.allowedLocalhostProfiles [\"strace.json\"]",
     "seccomp.allowedLocalhostProfiles", 1},
    {"seccomp Localhost admitted when listed", PROD,
     "[" POLICY("debug", "{\"seccomp\":{\"allowedLocalhostProfiles\":[\"strace.json\"]},"
			 "\"capabilities\":{\"allowed\":[\"NET_RAW\"]}}") "]",
     "{\"security\":{\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":\"strace."
     "json\"}}}",
     true, NULL, NULL, 1},
    {"timeout refused", PROD, "[" PRODUCTION "]", "{\"timeoutSeconds\":900}", false,
     "=CapsulePolicy \"production\": timeoutSeconds 900 exceeds limits.maxTimeoutSeconds 600",
     "limits.maxTimeoutSeconds", 1},
    {"timeout default admitted", PROD, "[" PRODUCTION "]", "{\"timeoutSeconds\":null}", true, NULL, NULL, 1},
    {"memory refused", PROD, "[" PRODUCTION "]", "{\"resources\":{\"limits\":{\"memory\":\"512Mi\"}}}", false,
     "=CapsulePolicy \"production\": memory limit 512Mi exceeds limits.maxMemory 256Mi", "limits.maxMemory",
     1},
    {"memory required", PROD, "[" PRODUCTION "]", "{\"resources\":{\"limits\":{\"memory\":null}}}", false,
     "=CapsulePolicy \"production\": resources.limits.memory is required by limits.maxMemory 256Mi",
     "limits.maxMemory", 1},
    {"memory equal in other units", PROD, "[" PRODUCTION "]",
     "{\"resources\":{\"limits\":{\"memory\":\"0.25Gi\"}}}", true, NULL, NULL, 1},
    {"memory one byte over", PROD, "[" PRODUCTION "]", "{\"resources\":{\"limits\":{\"memory\":268435457}}}",
     false, "memory limit 268435457 exceeds limits.maxMemory 256Mi", "limits.maxMemory", 1},
    {"cpu refused", PROD, "[" PRODUCTION "]", "{\"resources\":{\"limits\":{\"cpu\":\"1001m\"}}}", false,
     "=CapsulePolicy \"production\": cpu limit 1001m exceeds limits.maxCPU 1", "limits.maxCPU", 1},
    {"cpu at the limit", PROD, "[" PRODUCTION "]", "{\"resources\":{\"limits\":{\"cpu\":\"1000m\"}}}", true,
     NULL, NULL, 1},
    {"tail refused", PROD, "[" PRODUCTION "]", "{\"output\":{\"tailBytes\":65536}}", false,
     "=CapsulePolicy \"production\": output.tailBytes 65536 exceeds limits.maxTailBytes 16384",
     "limits.maxTailBytes", 1},
    {"retention refused", PROD, "[" PRODUCTION "]", "{\"output\":{\"retentionSeconds\":86401}}", false,
     "=CapsulePolicy \"production\": output.retentionSeconds 86401 exceeds limits.maxRetentionSeconds 86400",
     "limits.maxRetentionSeconds", 1},
    {"retention at the limit", PROD, "[" PRODUCTION "]", "{\"output\":{\"retentionSeconds\":86400}}", true,
     NULL, NULL, 1},
    {"retention default admitted", PROD,
     "[" POLICY(
	 "short",
	 "{\"capabilities\":{\"allowed\":[\"NET_RAW\"]},\"limits\":{\"maxRetentionSeconds\":3600}}") "]",
     "{}", true, NULL, NULL, 1},
    {"retention default over a smaller bound", PROD,
     "[" POLICY(
	 "short",
	 "{\"capabilities\":{\"allowed\":[\"NET_RAW\"]},\"limits\":{\"maxRetentionSeconds\":600}}") "]",
     "{}", false, "output.retentionSeconds 3600 exceeds limits.maxRetentionSeconds 600",
     "limits.maxRetentionSeconds", 1},
    {"baseline: capability refused", DEV, "[" PRODUCTION "]", "{}", false,
     "=baseline policy (no CapsulePolicy selects namespace \"shop\"): capability \"NET_RAW\" is not allowed "
     "by "
     "capabilities.allowed []",
     "capabilities.allowed", 0},
    {"baseline: admitted", DEV, "[]",
     "{\"security\":{\"capabilities\":null},\"image\":\"docker.io/anything:1\"}", true, NULL, NULL, 0},
    /* dropping only takes power away: never a violation, whatever is listed */
    {"baseline: drop admitted", DEV, "[]",
     "{\"security\":{\"capabilities\":{\"add\":[],\"drop\":[\"ALL\",\"SYS_ADMIN\"]}},"
     "\"image\":\"docker.io/anything:1\"}",
     true, NULL, NULL, 0},
    {"drop of a capability the policy does not allow", PROD,
     "[" POLICY("no-caps", "{\"capabilities\":{\"allowed\":[]}}") "]",
     "{\"security\":{\"capabilities\":{\"add\":[],\"drop\":[\"NET_RAW\",\"SYS_PTRACE\",\"KILL\"]}}}", true,
     NULL, NULL, 1},
    {"drop does not excuse an add", PROD, "[" POLICY("no-caps", "{\"capabilities\":{\"allowed\":[]}}") "]",
     "{\"security\":{\"capabilities\":{\"add\":[\"NET_RAW\"],\"drop\":[\"ALL\"]}}}", false,
     "=CapsulePolicy \"no-caps\": capability \"NET_RAW\" is not allowed by capabilities.allowed []",
     "capabilities.allowed", 1},
    {"baseline: ReadWrite refused", "null", "[]",
     "{\"security\":{\"capabilities\":null},\"targetFilesystem\":\"ReadWrite\"}", false,
     "=baseline policy (no CapsulePolicy selects namespace \"shop\"): targetFilesystem ReadWrite exceeds "
     "targetFilesystem.max ReadOnly",
     "targetFilesystem.max", 0},
    {"baseline: Unconfined refused", DEV, "[]",
     "{\"security\":{\"capabilities\":null,\"seccompProfile\":{\"type\":\"Unconfined\"}}}", false,
     "seccompProfile Unconfined is not allowed", "seccomp.allowUnconfined", 0},
    {"baseline: Localhost refused", DEV, "[]",
     "{\"security\":{\"capabilities\":null,\"seccompProfile\":{\"type\":\"Localhost\","
     "\"localhostProfile\":\"p.json\"}}}",
     false, "seccompProfile Localhost \"p.json\" is not allowed", "seccomp.allowedLocalhostProfiles", 0},
    {"baseline: default targetFilesystem is ReadOnly", DEV, "[]",
     "{\"security\":{\"capabilities\":null},\"targetFilesystem\":null}", true, NULL, NULL, 0},
    {"intersection: the stricter refuses", PROD,
     "[" PRODUCTION
     "," POLICY("fs-none", "{\"targetFilesystem\":{\"max\":\"None\"},\"capabilities\":{\"allowed\":["
			   "\"NET_RAW\"]}}") "]",
     "{}", false, "=CapsulePolicy \"fs-none\": targetFilesystem ReadOnly exceeds targetFilesystem.max None",
     "targetFilesystem.max", 2},
    {"intersection: both admit", PROD,
     "[" PRODUCTION
     "," POLICY("fs-none", "{\"targetFilesystem\":{\"max\":\"None\"},\"capabilities\":{\"allowed\":["
			   "\"NET_RAW\"]}}") "]",
     "{\"targetFilesystem\":\"None\"}", true, NULL, NULL, 2},
    {"intersection: a policy for another namespace does not apply", DEV,
     "[" PRODUCTION
     "," POLICY("all-caps", "{\"capabilities\":{\"allowed\":[\"NET_RAW\",\"SYS_ADMIN\"]}}") "]",
     "{\"security\":{\"capabilities\":{\"add\":[\"SYS_ADMIN\"]}},\"timeoutSeconds\":5000}", true, NULL, NULL,
     1},
    {"unset fields keep the baseline", PROD,
     "[" POLICY("images-only", "{\"images\":{\"allowed\":[\"**\"]}}") "]", "{}", false,
     "=CapsulePolicy \"images-only\": capability \"NET_RAW\" is not allowed by capabilities.allowed []",
     "capabilities.allowed", 1},
    {"short image names are normalized", PROD,
     "[" POLICY("hub", "{\"images\":{\"allowed\":[\"docker.io/library/*\"]}}") "]",
     "{\"image\":\"busybox:1.36\",\"security\":{\"capabilities\":null}}", true, NULL, NULL, 1},
    {"first violation in name order", PROD,
     "[" POLICY("b", "{\"targetFilesystem\":{\"max\":\"None\"}}") "," POLICY(
	 "a", "{\"images\":{\"allowed\":[]}}") "]",
     "{}", false, "CapsulePolicy \"a\": image \"registry.local/capsules/tcpdump@", "images.allowed", 2},
    {"unreadable policy fails closed", PROD,
     "[" POLICY("broken", "{\"limits\":{\"maxMemory\":\"lots\"}}") "]",
     "{\"security\":{\"capabilities\":null}}", false,
     "=CapsulePolicy \"broken\" cannot be read, so it admits nothing: limits.maxMemory is not a quantity",
     "limits.maxMemory", 1},
    {"unreadable selector fails closed", DEV,
     "[" POLICY("broken",
		"{\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Is\"}]}}") "]",
     "{\"security\":{\"capabilities\":null}}", false,
     "CapsulePolicy \"broken\" cannot be read, so it admits nothing: namespaceSelector: label selector: "
     "matchExpressions[0]: operator 'Is'",
     "namespaceSelector", 0},
};

static json_t *spec_for(const char *patch)
{
	json_t *spec = json_loads(base_spec, 0, NULL);
	json_t *p = json_loads(patch, 0, NULL);
	assert_non_null(spec);
	assert_non_null(p);
	json_object_update_recursive(spec, p);
	/* null in a patch removes the field, as a JSON merge patch does */
	json_t *sec = json_object_get(spec, "security");
	if (json_is_null(json_object_get(sec, "capabilities")))
		json_object_del(sec, "capabilities");
	const char *key;
	json_t *v;
	void *tmp;
	json_object_foreach_safe (spec, tmp, key, v) {
		if (json_is_null(v))
			json_object_del(spec, key);
	}
	json_t *limits = json_object_get(json_object_get(spec, "resources"), "limits");
	json_object_foreach_safe (limits, tmp, key, v) {
		if (json_is_null(v))
			json_object_del(limits, key);
	}
	json_decref(p);
	return spec;
}

static void check(const struct pcase *c)
{
	json_t *spec = spec_for(c->patch);
	json_t *labels = json_loads(c->labels, JSON_DECODE_ANY, NULL);
	json_t *policies = json_loads(c->policies, 0, NULL);
	if (!policies)
		fail_msg("%s: bad policies JSON", c->title);
	struct recap_policy_verdict v;
	struct recap_error *err = NULL;
	if (recap_policy_evaluate(spec, "shop", json_is_null(labels) ? NULL : labels, policies, &v, &err) < 0)
		fail_msg("%s: %s", c->title, recap_error_message(err));
	if (v.admitted != c->admitted || v.governing != c->governing)
		fail_msg("%s: admitted %d governing %zu (%s)", c->title, v.admitted, v.governing,
			 v.message ? v.message : "");
	if (!c->admitted) {
		bool exact = c->message[0] == '=';
		if (exact ? strcmp(v.message, c->message + 1) != 0 : !strstr(v.message, c->message))
			fail_msg("%s: message \"%s\", want \"%s\"", c->title, v.message, c->message);
		assert_string_equal(v.rule, c->rule);
	} else {
		assert_null(v.message);
	}
	recap_policy_verdict_clear(&v);
	json_decref(spec);
	json_decref(labels);
	json_decref(policies);
}

static void table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		check(&cases[i]);
}

static void unreadable_spec(void **state)
{
	static const char *patches[][2] = {
	    {"{\"resources\":{\"limits\":{\"memory\":\"lots\"}}}",
	     "spec.resources.limits.memory: \"lots\" is not a quantity"},
	    {"{\"targetFilesystem\":\"Bogus\"}",
	     "spec.targetFilesystem: \"Bogus\" is not None, ReadOnly or ReadWrite"},
	    {"{\"image\":null}", "spec.image: missing"},
	};
	json_t *policies = json_loads("[" PRODUCTION "]", 0, NULL);
	json_t *labels = json_loads(PROD, 0, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(patches); i++) {
		json_t *spec = spec_for(patches[i][0]);
		struct recap_policy_verdict v = {.admitted = true};
		struct recap_error *err = NULL;
		assert_int_equal(recap_policy_evaluate(spec, "shop", labels, policies, &v, &err), -EINVAL);
		if (!strstr(recap_error_message(err), patches[i][1]))
			fail_msg("\"%s\" lacks \"%s\"", recap_error_message(err), patches[i][1]);
		recap_error_free(err);
		json_decref(spec);
	}
	json_decref(policies);
	json_decref(labels);
}

static void max_concurrent(void **state)
{
	json_t *policies = json_loads(
	    "[" PRODUCTION "," POLICY("two", "{\"limits\":{\"maxConcurrentPerNode\":2}}") "," POLICY(
		"dev", "{\"namespaceSelector\":{\"matchLabels\":{\"env\":\"dev\"}},"
		       "\"limits\":{\"maxConcurrentPerNode\":1}}") "]",
	    0, NULL);
	json_t *prod = json_loads(PROD, 0, NULL), *other = json_loads("{\"env\":\"qa\"}", 0, NULL);
	int64_t n = -1;
	assert_int_equal(recap_policy_max_concurrent_per_node(policies, prod, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(recap_policy_max_concurrent_per_node(policies, other, &n, NULL), 0);
	assert_int_equal(n, 2);
	json_t *none = json_array();
	assert_int_equal(recap_policy_max_concurrent_per_node(none, other, &n, NULL), 0);
	assert_int_equal(n, 0);
	json_decref(none);
	json_decref(policies);
	json_decref(prod);
	json_decref(other);
}

/* One key set per selecting policy that sets images.signatures, in name
 * order; other namespaces get none; an unreadable selector fails. */
static void signature_key_sets(void **state)
{
	json_t *policies = json_loads(
	    "[" POLICY("zeta", "{\"images\":{\"signatures\":{\"publicKeys\":[\"PEM-Z\"]}}}") "," POLICY(
		"alpha",
		"{\"namespaceSelector\":{\"matchLabels\":{\"env\":\"prod\"}},"
		"\"images\":{\"signatures\":{\"publicKeys\":[\"PEM-A1\",\"PEM-A2\"]}}}") "," PRODUCTION "]",
	    0, NULL);
	assert_non_null(policies);
	json_t *prod = json_loads(PROD, 0, NULL), *other = json_loads("{\"env\":\"qa\"}", 0, NULL);
	json_t *sets = NULL;
	assert_int_equal(recap_policy_signature_key_sets(policies, prod, &sets, NULL), 0);
	assert_int_equal(json_array_size(sets), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sets, 0), "policy")), "alpha");
	assert_int_equal(json_array_size(json_object_get(json_array_get(sets, 0), "publicKeys")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sets, 1), "policy")), "zeta");
	json_decref(sets);
	assert_int_equal(recap_policy_signature_key_sets(policies, other, &sets, NULL), 0);
	assert_int_equal(json_array_size(sets), 1); /* zeta selects every namespace */
	json_decref(sets);
	json_t *bad =
	    json_loads("[" POLICY("bad", "{\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"a\","
					 "\"operator\":\"Sideways\"}]},\"images\":{\"signatures\":"
					 "{\"publicKeys\":[\"PEM\"]}}}") "]",
		       0, NULL);
	struct recap_error *err = NULL;
	assert_true(recap_policy_signature_key_sets(bad, prod, &sets, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "CapsulePolicy \"bad\""));
	recap_error_free(err);
	json_decref(bad);
	json_decref(policies);
	json_decref(prod);
	json_decref(other);
}

/* keys_of(policy JSON): the sets of a one-policy list, for any namespace. */
static int keys_of(const char *policy, json_t **sets, struct recap_error **err)
{
	json_t *policies = json_loads(policy, 0, NULL);
	assert_non_null(policies);
	json_t *one = json_pack("[o]", policies);
	json_t *labels = json_object();
	int r = recap_policy_signature_key_sets(one, labels, sets, err);
	json_decref(one);
	json_decref(labels);
	return r;
}

#define REFS                                                                                                 \
	"\"images\":{\"signatures\":{\"publicKeys\":[\"PEM-OWN\"],\"publicKeyRefs\":"                        \
	"[{\"configMapKeyRef\":{\"name\":\"k\",\"key\":\"cosign.pub\"}},"                                    \
	"{\"secretKeyRef\":{\"name\":\"s\",\"key\":\"cosign.pub\"}}]}}"
#define REF_POLICY(meta, status) "{\"metadata\":{\"name\":\"refs\"" meta "},\"spec\":{" REFS "}" status "}"

/* publicKeyRefs: the keys the controller wrote to status.signatures for
 * the policy's generation join its own; not written yet, or written for
 * another generation: -EAGAIN; written with a message, or not one key per
 * reference: -ENOKEY. Never a set with part of the keys. */
static void signature_key_refs(void **state)
{
	json_t *sets = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(
	    keys_of(REF_POLICY(",\"generation\":3", ",\"status\":{\"signatures\":{\"observedGeneration\":3,"
						    "\"publicKeys\":[\"PEM-K\",\"PEM-S\"]}}"),
		    &sets, NULL),
	    0);
	assert_int_equal(json_array_size(sets), 1);
	json_t *keys = json_object_get(json_array_get(sets, 0), "publicKeys");
	assert_int_equal(json_array_size(keys), 3);
	assert_string_equal(json_string_value(json_array_get(keys, 0)), "PEM-OWN");
	assert_string_equal(json_string_value(json_array_get(keys, 2)), "PEM-S");
	json_decref(sets);

	sets = NULL;
	assert_int_equal(keys_of(REF_POLICY(",\"generation\":3", ""), &sets, &err), -EAGAIN);
	assert_null(sets);
	assert_non_null(strstr(recap_error_message(err), "not read the keys"));
	recap_error_free(steal_ptr(err));
	assert_int_equal(
	    keys_of(REF_POLICY(",\"generation\":4", ",\"status\":{\"signatures\":{\"observedGeneration\":3,"
						    "\"publicKeys\":[\"PEM-K\",\"PEM-S\"]}}"),
		    &sets, &err),
	    -EAGAIN);
	assert_non_null(strstr(recap_error_message(err), "generation 4"));
	recap_error_free(steal_ptr(err));
	assert_int_equal(keys_of(REF_POLICY(",\"generation\":3",
					    ",\"status\":{\"signatures\":{\"observedGeneration\":3,"
					    "\"publicKeys\":[],\"message\":\"publicKeyRefs[1]: gone\"}}"),
				 &sets, &err),
			 -ENOKEY);
	assert_non_null(strstr(recap_error_message(err),
			       "CapsulePolicy \"refs\": images.signatures.publicKeyRefs: "
			       "publicKeyRefs[1]: gone"));
	recap_error_free(steal_ptr(err));
	assert_int_equal(
	    keys_of(REF_POLICY(",\"generation\":3", ",\"status\":{\"signatures\":{\"observedGeneration\":3,"
						    "\"publicKeys\":[\"PEM-K\"]}}"),
		    &sets, &err),
	    -ENOKEY);
	assert_non_null(strstr(recap_error_message(err), "not one per reference"));
	recap_error_free(steal_ptr(err));
	assert_null(sets);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(table),
	    cmocka_unit_test(unreadable_spec),
	    cmocka_unit_test(max_concurrent),
	    cmocka_unit_test(signature_key_sets),
	    cmocka_unit_test(signature_key_refs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
