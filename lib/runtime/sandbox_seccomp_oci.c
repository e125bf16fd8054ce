/* OCI-format seccomp profiles (runtime-spec config-linux.md#seccomp, plus the
 * includes/excludes.caps extension of the widely used default profiles). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "runtime/sandbox.h"
#include "runtime/spec.h"

#define MAX_RULES 20000
#define MAX_ARGS 6

static int parse_action(const char *name, json_t *errno_ret, int default_errno, uint32_t *ret,
			struct recap_error **err)
{
	int e = errno_ret && json_is_integer(errno_ret) ? (int)json_integer_value(errno_ret) : default_errno;
	if (!name)
		return recap_error_set(err, EINVAL, "missing action");
	if (strcmp(name, "SCMP_ACT_ALLOW") == 0)
		*ret = SCMP_ACT_ALLOW;
	else if (strcmp(name, "SCMP_ACT_ERRNO") == 0)
		*ret = SCMP_ACT_ERRNO((uint16_t)e);
	else if (strcmp(name, "SCMP_ACT_KILL") == 0 || strcmp(name, "SCMP_ACT_KILL_THREAD") == 0)
		*ret = SCMP_ACT_KILL;
	else if (strcmp(name, "SCMP_ACT_KILL_PROCESS") == 0)
		*ret = SCMP_ACT_KILL_PROCESS;
	else if (strcmp(name, "SCMP_ACT_TRAP") == 0)
		*ret = SCMP_ACT_TRAP;
	else if (strcmp(name, "SCMP_ACT_LOG") == 0)
		*ret = SCMP_ACT_LOG;
	else if (strcmp(name, "SCMP_ACT_TRACE") == 0)
		*ret = SCMP_ACT_TRACE((uint16_t)e);
	else
		return recap_error_set(err, EINVAL, "unknown action '%s'", name);
	return 0;
}

static int parse_op(const char *s, enum scmp_compare *ret)
{
	static const struct {
		const char *n;
		enum scmp_compare op;
	} ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
		   {"SCMP_CMP_LT", SCMP_CMP_LT},
		   {"SCMP_CMP_LE", SCMP_CMP_LE},
		   {"SCMP_CMP_EQ", SCMP_CMP_EQ},
		   {"SCMP_CMP_GE", SCMP_CMP_GE},
		   {"SCMP_CMP_GT", SCMP_CMP_GT},
		   {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
	for (size_t i = 0; s && i < ARRAY_SIZE(ops); i++)
		if (strcmp(s, ops[i].n) == 0)
			return *ret = ops[i].op, 0;
	return -EINVAL;
}

static int parse_args(json_t *args, struct scmp_arg_cmp *cmp, unsigned *ret_n, struct recap_error **err)
{
	unsigned n = 0;
	size_t i;
	json_t *a;
	if (args && !json_is_array(args))
		return recap_error_set(err, EINVAL, "'args' must be an array");
	if (args && json_array_size(args) > MAX_ARGS)
		return recap_error_set(err, E2BIG, "more than %d args conditions", MAX_ARGS);
	json_array_foreach (args, i, a) {
		enum scmp_compare op;
		int64_t idx = recap_json_int(a, "index", -1);
		if (idx < 0 || idx >= MAX_ARGS || parse_op(recap_json_str(a, "op"), &op) < 0)
			return recap_error_set(err, EINVAL, "args[%zu]: bad index or op", i);
		cmp[n++] = (struct scmp_arg_cmp){.arg = (unsigned)idx,
						 .op = op,
						 .datum_a = (scmp_datum_t)recap_json_int(a, "value", 0),
						 .datum_b = (scmp_datum_t)recap_json_int(a, "valueTwo", 0)};
	}
	*ret_n = n;
	return 0;
}

static bool caps_cond(json_t *rule, const char *key, uint64_t caps, bool want_all)
{
	json_t *l = recap_json_at(rule, key, "caps", NULL);
	size_t i;
	json_t *c;
	json_array_foreach (l, i, c) {
		int v;
		bool has = json_is_string(c) && recap_spec_parse_cap(json_string_value(c), &v, NULL) >= 0 &&
			   (caps & (1ull << v));
		if (want_all && !has)
			return false;
		if (!want_all && has)
			return false;
	}
	return true;
}

static int add_rule(scmp_filter_ctx ctx, json_t *rule, int default_errno, size_t *count,
		    struct recap_error **err)
{
	uint32_t act;
	struct scmp_arg_cmp cmp[MAX_ARGS];
	unsigned ncmp = 0;
	int r = parse_action(recap_json_str(rule, "action"), json_object_get(rule, "errnoRet"), default_errno,
			     &act, err);
	if (r >= 0)
		r = parse_args(json_object_get(rule, "args"), cmp, &ncmp, err);
	if (r < 0)
		return r;
	json_t *names = json_object_get(rule, "names");
	if (!names && recap_json_str(rule, "name"))
		names = json_pack("[s]", recap_json_str(rule, "name"));
	else
		json_incref(names);
	_cleanup_json_ json_t *owned = names;
	size_t i;
	json_t *n;
	json_array_foreach (names, i, n) {
		if (++*count > MAX_RULES)
			return recap_error_set(err, E2BIG, "more than %d rules", MAX_RULES);
		int nr =
		    json_is_string(n) ? seccomp_syscall_resolve_name(json_string_value(n)) : __NR_SCMP_ERROR;
		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown here: skipped, as OCI runtimes do */
		r = seccomp_rule_add_array(ctx, act, nr, ncmp, cmp);
		/* -EACCES/-EEXIST: same action as the default or duplicate */
		if (r < 0 && r != -EACCES && r != -EEXIST)
			return recap_error_set_errno(err, r, "rule for %s", json_string_value(n));
	}
	return 0;
}

static int add_arches(scmp_filter_ctx ctx, json_t *arches, struct recap_error **err)
{
	size_t i;
	json_t *a;
	json_array_foreach (arches, i, a) {
		const char *s = json_string_value(a);
		if (!s || strncmp(s, "SCMP_ARCH_", 10) != 0)
			return recap_error_set(err, EINVAL, "architectures[%zu] is not SCMP_ARCH_*", i);
		char lower[32];
		size_t k = 0;
		for (const char *p = s + 10; *p && k < sizeof(lower) - 1; p++)
			lower[k++] = (char)tolower((unsigned char)*p);
		lower[k] = 0;
		uint32_t arch = seccomp_arch_resolve_name(lower);
		if (!arch)
			return recap_error_set(err, EINVAL, "unknown architecture '%s'", s);
		int r = seccomp_arch_add(ctx, arch);
		if (r < 0 && r != -EEXIST)
			return recap_error_set_errno(err, r, "cannot add architecture %s", s);
	}
	return 0;
}

int recap_seccomp_from_oci(json_t *p, uint64_t caps, scmp_filter_ctx *ret, struct recap_error **err)
{
	int def_errno = (int)recap_json_int(p, "defaultErrnoRet", EPERM);
	uint32_t def;
	int r = parse_action(recap_json_str(p, "defaultAction"), NULL, def_errno, &def, err);
	if (r < 0)
		return recap_error_wrap(err, r, "defaultAction");
	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return recap_error_set(err, ENOMEM, "seccomp_init");
	r = add_arches(ctx, json_object_get(p, "architectures"), err);
	json_t *rules = json_object_get(p, "syscalls"), *rule;
	size_t i, count = 0;
	if (r >= 0 && rules && !json_is_array(rules))
		r = recap_error_set(err, EINVAL, "'syscalls' must be an array");
	json_array_foreach (rules, i, rule) {
		if (r < 0)
			break;
		if (!caps_cond(rule, "includes", caps, true) || !caps_cond(rule, "excludes", caps, false))
			continue;
		r = add_rule(ctx, rule, EPERM, &count, err);
		if (r < 0)
			r = recap_error_wrap(err, r, "syscalls[%zu]", i);
	}
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}
