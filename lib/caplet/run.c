/* Pulling -> Attaching -> the executor -> the result. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/names.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"

static void start_pull(struct caplet_exec *x);

void caplet_dispatch(struct recap_caplet *c)
{
	while (c->queue_head && !c->stopping) {
		struct caplet_exec *x = c->queue_head;
		int64_t limit = caplet_max_concurrent(c, x->ns);
		if (limit > 0 && c->slots_used >= limit)
			break;
		c->queue_head = x->next_queued;
		if (!c->queue_head)
			c->queue_tail = &c->queue_head;
		x->has_slot = true;
		c->slots_used++;
		start_pull(x);
	}
}

/* Gone or a zombie (a container's init may wait a while to be reaped). */
static bool process_gone(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *close = strrchr(buf, ')');
	return close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X');
}

/* The executor ended before it was given its spec (it read an empty one):
 * nothing of the run happened. Either the execution was settled already
 * (abandon) or on_attaching settles it when its write answers. */
static void on_early_exit(struct caplet_exec *x, const char *err)
{
	if (x->st == X_PULLING)
		caplet_logf(x->agent, RECAP_LOG_WARN,
			    "execution %s: the executor ended before it was given the run: %s", x->key, err);
	caplet_exec_step(x);
}

static void on_result(struct caplet_proc *p, int64_t status, int sig, const struct recap_buf *out,
		      const char *err, void *data)
{
	struct caplet_exec *x = data;
	x->proc = NULL;
	caplet_progress_stop(x);
	if (!x->spec_sent) {
		on_early_exit(x, err);
		return;
	}
	_cleanup_json_ json_t *res = NULL;
	if (out->len)
		recap_json_parse(out->data, out->len, CAPLET_PROC_STDOUT_MAX, &res, NULL);
	if (!json_is_object(res) || !json_object_get(res, "reason")) {
		caplet_logf(x->agent, RECAP_LOG_ERROR,
			    "execution %s: the executor ended (status %lld, signal %d) without a result: %s",
			    x->key, (long long)status, sig, err);
		x->st = X_RECOVER; /* sweep what it left */
		x->recover_reason = RECAP_REASON_EXECUTOR_FAILED;
		caplet_recover_exec(x);
		return;
	}
	pid_t tpid = (pid_t)recap_json_int(res, "targetPid", 0);
	struct recap_caplet_times t = {
	    .attach_start_us = x->attach_start_us,
	    .end_us = recap_caplet_now_us(),
	    .digest = x->digest,
	    .target_gone = tpid > 0 && (process_gone(tpid) || strcmp(recap_json_str(res, "reason") ?: "",
								     RECAP_REASON_TARGET_NOT_FOUND) == 0),
	};
	caplet_exec_finish(x, recap_caplet_status_from_result(res, &t));
}

/* The executor is started while Attaching is being written, its spec held
 * back: its process start overlaps the API round trip, and it runs nothing
 * until the spec arrives, which happens only once Attaching is recorded. */
static int prespawn(struct caplet_exec *x, size_t doc_len, struct recap_error **err)
{
	struct recap_caplet *c = x->agent;
	struct caplet_argv a;
	caplet_argv_executor(&a, c, true);
	caplet_argv_add(&a, "--registry-only"); /* the image reference is cluster input */
	const char *tail[] = {"run", "--spec-fd", "3", "-o", "json"};
	for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
		caplet_argv_add(&a, tail[i]);
	x->spec_sent = false;
	int r = caplet_argv_done(&a, err);
	if (r < 0)
		return r;
	return caplet_proc_spawn_held(c->loop, (char *const *)a.v, doc_len, on_result, x, &x->proc, err);
}

/* Without the spec the executor exits on its own: nothing ran. */
static void abandon(struct caplet_exec *x, const char *reason, const char *msg)
{
	if (x->proc)
		caplet_proc_drop_doc(x->proc);
	caplet_exec_finish(x, recap_caplet_status_refused(reason, msg));
}

/* Why an execution that has not started must not start now: deleted, or the
 * agent is stopping (a pull that ends during the stop starts nothing). */
const char *caplet_exec_no_start(struct caplet_exec *x)
{
	if (x->cancelled || recap_json_path(x->obj, "metadata.deletionTimestamp"))
		return "deleted before it started";
	return x->agent->stopping ? "the node agent stopped before it started" : NULL;
}

/* Lost: another writer claimed the execution; the executor gets no spec.
 * Failed: nothing was recorded (or the execution went meanwhile). */
static void on_attaching(struct caplet_exec *x, int claimed, const char *msg)
{
	_cleanup_free_ char *doc = x->spec_doc;
	x->spec_doc = NULL;
	if (claimed == CAPLET_CLAIM_LOST) {
		caplet_exec_stand_down(x);
		return;
	}
	const char *why = caplet_exec_no_start(x) ?: (x->gone ? "deleted before it started" : NULL);
	if (why || claimed != CAPLET_CLAIMED) { /* the spec is not sent: the command never starts */
		abandon(x, why ? RECAP_REASON_CANCELLED : RECAP_REASON_START_FAILED, why ?: msg);
		return;
	}
	if (!x->proc) {
		caplet_exec_finish(
		    x, recap_caplet_status_refused(RECAP_REASON_START_FAILED, "the executor ended early"));
		return;
	}
	_cleanup_error_ struct recap_error *err = NULL;
	x->st = X_RUNNING;
	x->spec_sent = true;
	/* A failed send means the executor is gone: on_result sweeps. */
	if (caplet_proc_send_doc(x->proc, doc, strlen(doc), &err) < 0)
		caplet_logf(x->agent, RECAP_LOG_ERROR, "execution %s: %s", x->key, recap_error_message(err));
	caplet_progress_start(x);
}

/* The target is confirmed: the executor gets the CRI's PID of it. */
static void attach(struct caplet_exec *x, int pid)
{
	_cleanup_json_ json_t *spec = steal_ptr(x->spec);
	_cleanup_error_ struct recap_error *err = NULL;
	if (!spec || json_object_set_new(spec, "targetPid", json_integer(pid)) < 0 ||
	    !(x->spec_doc = json_dumps(spec, JSON_COMPACT))) {
		caplet_exec_finish(x,
				   recap_caplet_status_refused(RECAP_REASON_START_FAILED, "out of memory"));
		return;
	}
	x->attach_start_us = recap_caplet_now_us();
	if (prespawn(x, strlen(x->spec_doc), &err) < 0) {
		caplet_exec_finish(
		    x, recap_caplet_status_refused(RECAP_REASON_START_FAILED, recap_error_message(err)));
		return;
	}
	char pull[40], attach_at[40];
	recap_caplet_format_us(x->pull_start_us, pull);
	recap_caplet_format_us(x->attach_start_us, attach_at);
	_cleanup_json_ json_t *st =
	    json_pack("{s:s, s:s, s:s, s:s?}", "phase", RECAP_PHASE_ATTACHING, "pullStartTime", pull,
		      "attachStartTime", attach_at, "imageDigest", x->digest);
	if (!st) {
		abandon(x, RECAP_REASON_START_FAILED, "out of memory");
		return;
	}
	caplet_claim(x, st, on_attaching);
}

/* A refusal at this point means nothing started: no executor, no spec. */
static void on_target(struct caplet_exec *x, int pid, const char *reason, const char *msg)
{
	const char *why = caplet_exec_no_start(x);
	if (why) {
		reason = RECAP_REASON_CANCELLED;
		msg = why;
	} else if (!reason && caplet_exec_expired(x)) {
		reason = RECAP_REASON_DEADLINE_EXCEEDED;
		msg = "spec.deadline passed before the target was confirmed";
	}
	if (reason) {
		json_decref(steal_ptr(x->spec));
		caplet_exec_finish(x, recap_caplet_status_refused(reason, msg));
		return;
	}
	attach(x, pid);
}

static void on_image(struct caplet_exec *x, const struct recap_caplet_image *img, const char *error)
{
	const char *why = caplet_exec_no_start(x);
	if (why) {
		caplet_exec_finish(x, recap_caplet_status_refused(RECAP_REASON_CANCELLED, why));
		return;
	}
	if (error) {
		caplet_exec_finish(x, recap_caplet_status_refused(RECAP_REASON_IMAGE_PULL_FAILED, error));
		return;
	}
	if (caplet_exec_expired(x)) {
		caplet_exec_finish(
		    x, recap_caplet_status_refused(RECAP_REASON_DEADLINE_EXCEEDED,
						   "spec.deadline passed before the image was ready"));
		return;
	}
	_cleanup_error_ struct recap_error *err = NULL;
	json_decref(steal_ptr(x->spec));
	if (recap_caplet_spec_build(x->obj, img, x->agent->seccomp_dir, time(NULL), &x->spec, &err) < 0) {
		caplet_exec_finish(
		    x, recap_caplet_status_refused(RECAP_REASON_INVALID_SPEC, recap_error_message(err)));
		return;
	}
	free(x->digest);
	x->digest = img->digest ? strdup(img->digest) : NULL;
	/* last, so that the PID the executor gets is as fresh as it can be */
	caplet_target_confirm(x, on_target);
}

/* A Pulling that could not be written still pulls: Attaching is the claim
 * that decides. */
static void on_pulling(struct caplet_exec *x, int claimed, const char *msg)
{
	if (claimed == CAPLET_CLAIM_LOST) {
		caplet_exec_stand_down(x);
		return;
	}
	if (x->gone) {
		caplet_exec_finish(
		    x, recap_caplet_status_refused(RECAP_REASON_CANCELLED, "deleted before it started"));
		return;
	}
	caplet_image_get(x, on_image);
}

/* An image already in the store is taken at once, with no Pulling write
 * (Attaching would replace it a moment later); otherwise Pulling is
 * written and the image pulled. */
static void start_pull(struct caplet_exec *x)
{
	x->st = X_PULLING;
	x->pull_start_us = recap_caplet_now_us();
	if (caplet_image_from_store(x, on_image))
		return;
	char now[40];
	recap_caplet_format_us(x->pull_start_us, now);
	_cleanup_json_ json_t *st =
	    json_pack("{s:s, s:s}", "phase", RECAP_PHASE_PULLING, "pullStartTime", now);
	if (st)
		caplet_claim(x, st, on_pulling);
	else
		caplet_image_get(x, on_image);
}

void caplet_run_cancel(struct caplet_exec *x)
{
	/* The executor escapes on SIGTERM and reports Cancelled. */
	if (x->proc)
		caplet_proc_kill(x->proc, SIGTERM);
}
