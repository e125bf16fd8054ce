/* Waiting for a CapsuleRun to finish: a watch on that one run (never
 * polling), progress on a stream while it runs. On a terminal the progress
 * is one line rewritten in place; otherwise a plain line per change. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "session.h"

struct wait_options {
	uint64_t timeout_ms; /* 0: no limit */
	FILE *progress;	     /* NULL: silent */
	bool tty;	     /* progress is a terminal */
	/* After the run changed (and once at the start), between turns of the
	 * loop, so it may make blocking calls on the session; < 0 stops the
	 * wait with that error. */
	int (*on_change)(json_t *run, void *data, struct recap_error **err);
	void *data;
};

/* `run` is the object as created or read (its resourceVersion is where the
 * watch starts). *ret gets the finished run. -ETIMEDOUT after timeout_ms,
 * -EINTR on SIGINT/SIGTERM (the run goes on), -ENOENT if it is deleted. */
int plugin_wait_run(struct session *s, json_t *run, const struct wait_options *o, json_t **ret,
		    struct recap_error **err);
