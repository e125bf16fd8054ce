/* Phases, names and the strategy spec. */
#include "api/names.h"
#include "sched/strategy.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/json.h"

static const char *const exec_phases[] = {RECAP_PHASE_PENDING, RECAP_PHASE_PULLING,  RECAP_PHASE_ATTACHING,
					  RECAP_PHASE_RUNNING, RECAP_PHASE_ESCAPING, RECAP_PHASE_SUCCEEDED,
					  RECAP_PHASE_FAILED};
static const char *const run_phases[] = {RECAP_PHASE_PENDING,	       RECAP_PHASE_RUNNING,
					 RECAP_PHASE_SUCCEEDED,	       RECAP_PHASE_FAILED,
					 RECAP_PHASE_PARTIALLY_FAILED, RECAP_PHASE_CANCELLED};

int recap_strategy_exec_phase_parse(const char *s, enum recap_exec_phase *ret)
{
	if (!s || !*s) {
		*ret = RECAP_EXEC_PENDING;
		return 0;
	}
	for (size_t i = 0; i < sizeof(exec_phases) / sizeof(exec_phases[0]); i++) {
		if (strcmp(s, exec_phases[i]) == 0) {
			*ret = (enum recap_exec_phase)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *recap_strategy_run_phase_name(enum recap_run_phase p)
{
	return (size_t)p < sizeof(run_phases) / sizeof(run_phases[0]) ? run_phases[p] : "Unknown";
}

static int run_part(const char *run)
{
	int keep = (int)strlen(run);
	if (keep > RECAP_NAME_MAX - RECAP_NAME_HASH_LEN - 1)
		keep = RECAP_NAME_MAX - RECAP_NAME_HASH_LEN - 1;
	while (keep > 0 && (run[keep - 1] == '-' || run[keep - 1] == '.'))
		keep--;
	return keep;
}

int recap_strategy_exec_name(const char *run, const char *pod, const char *container,
			     char out[RECAP_NAME_MAX + 1])
{
	const char *parts[] = {run, pod, container};
	uint64_t h = recap_sched_hash(parts, 3) & ((1ULL << (4 * RECAP_NAME_HASH_LEN)) - 1);
	return snprintf(out, RECAP_NAME_MAX + 1, "%.*s-%0*" PRIx64, run_part(run), run, RECAP_NAME_HASH_LEN,
			h);
}

static bool is_id(const char *id)
{
	size_t n = 0;
	for (; id[n]; n++) {
		if (!isxdigit((unsigned char)id[n]) || isupper((unsigned char)id[n]))
			return false;
	}
	return n == RECAP_STRATEGY_DISPATCH_ID_LEN;
}

const char *recap_strategy_dispatch_id(const char *execution)
{
	const char *dash = execution ? strrchr(execution, '-') : NULL;
	return dash && is_id(dash + 1) ? dash + 1 : NULL;
}

int recap_strategy_exec_name_of_id(const char *run, const char *id, char out[RECAP_NAME_MAX + 1])
{
	if (!run || !id || !is_id(id))
		return -EINVAL;
	return snprintf(out, RECAP_NAME_MAX + 1, "%.*s-%s", run_part(run), run, id);
}

int recap_strategy_role_env_name(const char *role, char *out, size_t size)
{
	size_t n = strlen("RECAP_ROLE_") + strlen(role) + strlen("_IPS");
	if (n >= size)
		return -ENAMETOOLONG;
	char *p = out + sprintf(out, "RECAP_ROLE_");
	for (const char *r = role; *r; r++)
		*p++ = isalnum((unsigned char)*r) ? (char)toupper((unsigned char)*r) : '_';
	strcpy(p, "_IPS");
	return (int)n;
}

void recap_strategy_clear(struct recap_strategy *s)
{
	for (size_t i = 0; i < s->n_roles; i++)
		free((void *)s->roles[i].start_after);
	free((void *)s->roles);
	s->roles = NULL;
	s->n_roles = 0;
}

static int parse_roles(json_t *roles, struct recap_strategy *s, struct recap_error **err)
{
	size_t n = json_array_size(roles);
	struct recap_role *r = calloc(n ? n : 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->roles = r;
	for (size_t i = 0; i < n; i++) {
		json_t *role = json_array_get(roles, i), *after = recap_api_role_start_after(role);
		r[i].name = recap_api_role_name(role);
		if (!r[i].name)
			return recap_error_set(err, EINVAL, "spec.roles[%zu].name: required", i);
		size_t m = json_array_size(after);
		const char **names = calloc(m ? m : 1, sizeof(*names));
		if (!names)
			return -ENOMEM;
		r[i].start_after = names;
		s->n_roles = i + 1;
		for (size_t j = 0; j < m; j++) {
			if (!(names[j] = json_string_value(json_array_get(after, j))))
				return recap_error_set(
				    err, EINVAL, "spec.roles[%zu].startAfter[%zu]: must be a string", i, j);
		}
		r[i].n_start_after = m;
	}
	return 0;
}

/* spec.strategy; a value the schema does not list is an error naming it. */
static int parse_type(json_t *spec, struct recap_strategy *s, struct recap_error **err)
{
	enum recap_api_strategy_type type = recap_api_capsule_spec_strategy_type(spec);
	if (type == RECAP_API_STRATEGY_TYPE_COUNT)
		return recap_error_set(err, EINVAL, "spec.strategy.type: \"%s\" is not Parallel or Iterative",
				       recap_json_str(spec, RECAP_API_CAPSULE_SPEC_STRATEGY_TYPE));
	s->type =
	    type == RECAP_API_STRATEGY_TYPE_ITERATIVE ? RECAP_STRATEGY_ITERATIVE : RECAP_STRATEGY_PARALLEL;
	/* no schema default: absent is Name and Stop */
	const char *order = recap_json_str(spec, RECAP_API_CAPSULE_SPEC_STRATEGY_ORDER);
	enum recap_api_order o = recap_api_capsule_spec_strategy_order(spec);
	if (order && o == RECAP_API_ORDER_COUNT)
		return recap_error_set(err, EINVAL,
				       "spec.strategy.order: \"%s\" is not Name or CreationTimestamp", order);
	s->order = o == RECAP_API_ORDER_CREATION_TIMESTAMP ? RECAP_ORDER_CREATION : RECAP_ORDER_NAME;
	const char *fp = recap_json_str(spec, RECAP_API_CAPSULE_SPEC_STRATEGY_FAILURE_POLICY);
	enum recap_api_failure_policy f = recap_api_capsule_spec_strategy_failure_policy(spec);
	if (fp && f == RECAP_API_FAILURE_POLICY_COUNT)
		return recap_error_set(err, EINVAL,
				       "spec.strategy.failurePolicy: \"%s\" is not Stop or Continue", fp);
	s->failure_policy =
	    f == RECAP_API_FAILURE_POLICY_CONTINUE ? RECAP_FAILURE_CONTINUE : RECAP_FAILURE_STOP;
	/* no schema default either; absent is 1 */
	int64_t mc = recap_json_int(spec, RECAP_API_CAPSULE_SPEC_STRATEGY_MAX_CONCURRENT, 1);
	if (mc < 1 || mc > RECAP_STRATEGY_TARGETS_MAX)
		return recap_error_set(err, EINVAL, "spec.strategy.maxConcurrent: must be 1..%d",
				       RECAP_STRATEGY_TARGETS_MAX);
	s->max_concurrent = (size_t)mc;
	return 0;
}

int recap_strategy_parse(json_t *spec, struct recap_strategy *ret, struct recap_error **err)
{
	struct recap_strategy s = {.batch_size = RECAP_STRATEGY_BATCH_DEFAULT};
	int r = parse_type(spec, &s, err);
	json_t *roles = recap_api_capsule_spec_roles(spec);
	if (r == 0 && json_array_size(roles) > 0)
		r = parse_roles(roles, &s, err);
	if (r < 0) {
		recap_strategy_clear(&s);
		return r;
	}
	*ret = s;
	return 0;
}
