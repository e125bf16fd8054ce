/* A run's CapsuleExecutions as compact records, as a pure function.
 *
 * A run's pass reads every execution of the run from the informer's cache.
 * Each is parsed, copied into a record here (its strings into the records'
 * pool) and dropped at once, so a pass over 10,000 executions holds 10,000
 * records of a few hundred bytes, never 10,000 parsed objects.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strpool.h"
#include "sched/strategy.h"

struct recap_controller_exec {
	/* What the strategy plans with: name, target pod and container, node,
	 * phase, reason, message, exit code (-1: none), being deleted. */
	struct recap_execution view;
	const char *ns, *uid;
	/* the rest of spec.target, and spec.role */
	const char *pod_uid, *container_id, *pod_ip, *role;
	const char *image_digest; /* status.imageDigest */
	int64_t created;	  /* metadata.creationTimestamp, unix seconds (0: unset) */
};

struct recap_controller_execs {
	struct recap_controller_exec *v;
	size_t n, cap;
	struct recap_strpool strings; /* every string of v */
};

/* Appends a record of exec (a CapsuleExecution); 0 or -ENOMEM. */
int recap_controller_execs_add(struct recap_controller_execs *x, json_t *exec);
/* Records of every execution of a JSON array; 0 or -ENOMEM. */
int recap_controller_execs_from_json(struct recap_controller_execs *x, json_t *execs);
void recap_controller_execs_clear(struct recap_controller_execs *x);
/* obj's metadata.creationTimestamp in unix seconds; 0 when unset or bad. */
int64_t recap_controller_created_of(json_t *obj);
/* Whether e has finished (Succeeded or Failed). */
bool recap_controller_exec_final(const struct recap_controller_exec *e);
