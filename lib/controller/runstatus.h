/* A CapsuleRun's status as a pure function of what the reconciler saw. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "sched/strategy.h"

struct recap_controller_run_view {
	json_t *run;		    /* the CapsuleRun (its status is the old one) */
	json_t *capsule_spec;	    /* the snapshot it runs with (NULL: none yet) */
	int64_t capsule_generation; /* of that snapshot */
	/* Admission: reason NULL means admitted; otherwise the run does not
	 * start: "PolicyViolation" and "InvalidSpec" fail it, anything else
	 * (CapsuleNotFound) leaves it Pending. */
	const char *refused_reason, *refused_message;
	const struct recap_run_status *st; /* NULL when refused */
	json_t *dispatched;		   /* status.dispatched; NULL keeps the old one */
	bool started;			   /* an execution exists or is being created */
	time_t now;
};

json_t *recap_controller_run_status(const struct recap_controller_run_view *v);
