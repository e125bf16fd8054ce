/* What kubectl-capsule prints (pure: unit-tested with memory streams).
 *
 * Text goes to people; -o json|yaml prints a results document:
 *   {"run", "namespace", "capsule", "phase", "targets", "succeeded",
 *    "failed", "cancelled", "message"?, "results": [{"execution", "pod",
 *    "container", "node", "phase", "exitCode"?, "signal"?, "reason"?,
 *    "message"?, "stdout", "stderr", "stdoutBytes", "stderrBytes"}]}
 * with results sorted by pod, then container.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "args.h"

/* "6 targets: 1 pending, 2 running, 3 succeeded, 0 failed" (plus
 * cancelled when any); before the controller has counted: "waiting for
 * the controller". */
void plugin_format_counts(json_t *run, char *out, size_t size);
/* "run NAME: PHASE, <counts>" */
void plugin_format_progress(json_t *run, char *out, size_t size);
/* True once the run's phase is final (Succeeded, Failed, PartiallyFailed,
 * Cancelled). */
bool plugin_run_finished(json_t *run);
/* Whether a list of run's executions has them all ended, at least as many
 * Succeeded as the run counts and as many Failed as it counts less those
 * deleted before they ended: what a list from a cache must show to stand
 * for a finished run's. */
bool plugin_executions_cover(json_t *run, json_t *executions);
/* Why a run did not succeed, from its conditions (Complete, then Admitted)
 * or NULL. Borrowed from run. */
const char *plugin_run_message(json_t *run);

/* The results document (new reference) from a run and a list of its
 * executions (a List object or an array). */
json_t *plugin_results_doc(json_t *run, json_t *executions);
/* Text form of the document: a header per target and its output tails,
 * escaped for a terminal (tails as they are when raw; see sanitize.h). */
void plugin_print_results(FILE *f, json_t *doc, bool raw);
/* One result's "=== pod P, container C (node N): phase, exit X" line. */
void plugin_print_result_header(FILE *f, json_t *result);
#define PLUGIN_RUN_COLUMNS 10
/* `ls`: the table kubectl get capsuleruns shows, relative to now; with a
 * NAMESPACE column first for runs of every namespace. widths (may be NULL)
 * gets the columns' widths, PLUGIN_RUN_COLUMNS of them. */
void plugin_print_runs(FILE *f, json_t *list, time_t now, bool namespaces, int *widths);
/* `ls -w`: one run's row of that table, its columns at least `widths` wide
 * (widened to fit, as later rows should line up); with the header first
 * when `header`. */
void plugin_print_run_row(FILE *f, json_t *run, time_t now, bool namespaces, int *widths, bool header);
/* "5s", "3m", "2h", "4d" as kubectl prints an age. */
void plugin_format_age(time_t then, time_t now, char *out, size_t size);

/* One document as JSON (indented) or YAML; nothing a terminal acts on is
 * written raw unless raw (the values are the same: sanitize.h). */
int plugin_print_doc(FILE *f, json_t *doc, enum plugin_output output, bool raw);
