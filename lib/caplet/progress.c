/* Running and Escaping: the executor rewrites runs/<id>/state at each
 * phase; while it runs, the agent looks every 100 ms and writes the phase
 * it sees (with runStartTime / escapeStartTime) when no write is in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "base/cleanup.h"
#include "base/failpoint.h"
#include "base/json.h"
#include "caplet/agent.h"

#define PROGRESS_MS 100

static void on_phase_written(struct caplet_exec *x, bool ok)
{
	caplet_exec_step(x, CAPLET_EV_PHASE_WRITTEN, NULL);
}

static int rank_of(const char *phase)
{
	if (strcmp(phase, RECAP_PHASE_RUNNING) == 0)
		return 1;
	return strcmp(phase, RECAP_PHASE_ESCAPING) == 0 ? 2 : 0;
}

/* Written when no other write is in flight; else at a later look. */
enum caplet_event caplet_act_report_phase(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	int rank = rank_of(arg->msg);
	if (rank <= x->reported || x->busy)
		return CAPLET_EV_NONE;
	if (rank == 2)
		recap_failpoint("caplet.during-escape");
	char now[40];
	recap_caplet_format_us(recap_caplet_now_us(), now);
	_cleanup_json_ json_t *st =
	    json_pack("{s:s, s:s}", "phase", arg->msg, rank == 1 ? "runStartTime" : "escapeStartTime", now);
	if (st && caplet_write_status(x, st, on_phase_written) >= 0)
		x->reported = rank;
	return CAPLET_EV_NONE;
}

static void on_progress(uv_timer_t *t)
{
	struct caplet_exec *x = t->data;
	if (x->reported == 2)
		return;
	char path[4200];
	snprintf(path, sizeof(path), "%s/runs/%s/state", x->agent->o.root, x->run_id);
	_cleanup_json_ json_t *state = NULL;
	if (recap_json_load_file(path, 64 * 1024, &state, NULL) < 0)
		return; /* not written yet, or being replaced */
	const char *phase = recap_json_str(state, "phase");
	if (phase && rank_of(phase) > x->reported)
		caplet_exec_step(x, CAPLET_EV_EXECUTOR_PHASE, &(struct caplet_event_arg){.msg = phase});
}

void caplet_progress_start(struct caplet_exec *x)
{
	if (!x->progress) {
		x->progress = calloc(1, sizeof(*x->progress));
		if (!x->progress)
			return;
		uv_timer_init(x->agent->loop, x->progress);
		x->progress->data = x;
	}
	x->reported = 0;
	uv_timer_start(x->progress, on_progress, PROGRESS_MS, PROGRESS_MS);
}

static void on_closed(uv_handle_t *h)
{
	free(h);
}

void caplet_progress_stop(struct caplet_exec *x)
{
	if (!x->progress)
		return;
	uv_close((uv_handle_t *)x->progress, on_closed);
	x->progress = NULL;
}
