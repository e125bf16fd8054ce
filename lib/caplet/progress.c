/* Running and Escaping: the executor rewrites runs/<id>/state at each
 * phase; while it runs, the agent looks every 100 ms and writes the phase
 * it sees (with runStartTime / escapeStartTime) when no write is in flight. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"

#define PROGRESS_MS 100

static void after_write(struct caplet_exec *x, bool ok)
{
	caplet_exec_step(x);
}

static void report(struct caplet_exec *x, const char *phase)
{
	bool running = strcmp(phase, RECAP_PHASE_RUNNING) == 0;
	if (!running && strcmp(phase, RECAP_PHASE_ESCAPING) != 0)
		return;
	int rank = running ? 1 : 2;
	if (rank <= x->reported || x->busy || x->st != X_RUNNING)
		return;
	char now[40];
	recap_caplet_format_us(recap_caplet_now_us(), now);
	_cleanup_json_ json_t *st =
	    json_pack("{s:s, s:s}", "phase", phase, running ? "runStartTime" : "escapeStartTime", now);
	if (st && caplet_write_status(x, st, after_write) >= 0)
		x->reported = rank;
}

static void on_progress(uv_timer_t *t)
{
	struct caplet_exec *x = t->data;
	if (x->st != X_RUNNING || x->reported == 2)
		return;
	char path[4200];
	snprintf(path, sizeof(path), "%s/runs/%s/state", x->agent->o.root, x->run_id);
	_cleanup_json_ json_t *state = NULL;
	if (recap_json_load_file(path, 64 * 1024, &state, NULL) < 0)
		return; /* not written yet, or being replaced */
	const char *phase = recap_json_str(state, "phase");
	if (phase)
		report(x, phase);
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
