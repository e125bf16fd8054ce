/* kubectl capsule describe RUN: a CapsuleRun as kubectl describe shows an
 * object (pure: unit-tested with memory streams). Sections: the run (name,
 * labels, capsule, trigger, phase, counts, times), the capsule spec it ran
 * with (image, its digest as the nodes pulled it, command, join, target
 * filesystem, capabilities, strategy, timeout), conditions, failures, the
 * executions (pod, container, node, phase, exit) and the run's Events.
 * Everything a capsule or the status controls is escaped for a terminal
 * (sanitize.h). */
#pragma once

#include <jansson.h>
#include <stdio.h>
#include <time.h>

/* At most this many executions and events are listed; the rest are
 * counted ("... and 12 more"). */
#define PLUGIN_DESCRIBE_MAX_ROWS 50

/* run: the CapsuleRun; executions: its CapsuleExecutions (a List or
 * array, may be NULL); events: a core/v1 Event List about it (may be
 * NULL). now: for ages. */
void plugin_print_describe(FILE *f, json_t *run, json_t *executions, json_t *events, time_t now);
