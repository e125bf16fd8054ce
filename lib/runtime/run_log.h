/* The run's whole output on the node: <root>/logs/<id>, stdout and stderr
 * merged in the order they arrived, at most the spec's logBytes (the first
 * bytes; the rest is counted, never silently lost: the result says so).
 * While the run writes it, it is logs/<id>.part; the rename to logs/<id>
 * tells a follower (caplet's relay) that the log is whole. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct recap_run_log {
	int fd; /* -1: no log */
	int64_t max, written, dropped;
	char *part, *final;
};

#define RECAP_RUN_LOG_INIT ((struct recap_run_log){.fd = -1})
#define RECAP_RUN_LOG_MAX (1ll << 30)

/* max == 0: no log. */
int recap_run_log_open(const char *root, const char *id, int64_t max, struct recap_run_log *l,
		       struct recap_error **err);
void recap_run_log_write(struct recap_run_log *l, const char *p, size_t n);
/* Closes the file and renames it to its final name. */
void recap_run_log_finish(struct recap_run_log *l);
/* Closes and removes the part (a run that never started). Accepts a closed log. */
void recap_run_log_free(struct recap_run_log *l);
