/* Attaching, the executor, its result or its cancellation. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"

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
 * nothing of the run happened. The answer to the Attaching write settles
 * the execution. */
enum caplet_event caplet_act_early_exit(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	caplet_logf(x->agent, RECAP_LOG_WARN,
		    "execution %s: the executor ended before it was given the run: %s", x->key, arg->msg);
	return CAPLET_EV_NONE;
}

static void on_result(struct caplet_proc *p, int64_t status, int sig, const struct recap_buf *out,
		      const char *err, void *data)
{
	struct caplet_exec *x = data;
	x->proc = NULL;
	caplet_progress_stop(x);
	_cleanup_json_ json_t *res = NULL;
	if (out->len)
		recap_json_parse(out->data, out->len, CAPLET_PROC_STDOUT_MAX, &res, NULL);
	struct caplet_event_arg a = {.result = res, .status = status, .sig = sig, .msg = err};
	bool result = json_is_object(res) && json_object_get(res, "reason");
	caplet_exec_step(x, result ? CAPLET_EV_RESULT : CAPLET_EV_NO_RESULT, &a);
}

enum caplet_event caplet_act_sweep(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	caplet_logf(x->agent, RECAP_LOG_ERROR,
		    "execution %s: the executor ended (status %lld, signal %d) without a result: %s", x->key,
		    (long long)arg->status, arg->sig, arg->msg);
	caplet_recover_exec(x); /* sweep what it left */
	return CAPLET_EV_NONE;
}

enum caplet_event caplet_act_settle(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	json_t *res = arg->result;
	pid_t tpid = (pid_t)recap_json_int(res, "targetPid", 0);
	struct recap_caplet_times t = {
	    .attach_start_us = x->attach_start_us,
	    .end_us = recap_caplet_now_us(),
	    .digest = x->digest,
	    .target_gone = tpid > 0 && (process_gone(tpid) || strcmp(recap_json_str(res, "reason") ?: "",
								     RECAP_REASON_TARGET_NOT_FOUND) == 0),
	    .retention_s = recap_api_profile_output_retention_seconds(recap_api_exec_spec_capsule(x->obj)),
	    .out_asked = x->out_reserved ? x->out_asked : 0,
	    .out_granted = x->out_reserved ? x->out_granted : 0,
	};
	caplet_artifacts_ended(x, res, t.end_us);
	caplet_exec_end(x, recap_caplet_status_from_result(res, &t));
	return caplet_act_write_final(x, NULL);
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
	int r = caplet_argv_done(&a, err);
	if (r < 0)
		return r;
	return caplet_proc_spawn_held(c->loop, (char *const *)a.v, doc_len, on_result, x, &x->proc, err);
}

/* Without the spec the executor exits on its own: nothing ran. */
enum caplet_event caplet_act_abandon(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	if (x->proc)
		caplet_proc_drop_doc(x->proc);
	return caplet_act_write_final(x, NULL);
}

static const char *no_attach(struct caplet_exec *x)
{
	return caplet_exec_no_start(x) ?: (x->gone ? "deleted before it started" : NULL);
}

/* Failed: nothing was recorded (or the execution went meanwhile); the
 * executor gets no spec. A transient failure was retried up to
 * spec.deadline, so one that outlasted it says so. */
enum caplet_event caplet_act_attach_failed(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	const char *why = no_attach(x);
	const char *reason = why		      ? RECAP_REASON_CANCELLED
			     : caplet_exec_expired(x) ? RECAP_REASON_DEADLINE_EXCEEDED
						      : RECAP_REASON_START_FAILED;
	caplet_exec_end(x, recap_caplet_status_refused(reason, why ?: arg->msg));
	return caplet_act_abandon(x, NULL);
}

/* Attaching is recorded: the executor gets its spec unless the execution
 * was deleted meanwhile or the executor is gone. */
enum caplet_event caplet_act_attached(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	const char *why = no_attach(x);
	if (why)
		return caplet_exec_end(x, recap_caplet_status_refused(RECAP_REASON_CANCELLED, why));
	if (!x->proc)
		return caplet_exec_end(
		    x, recap_caplet_status_refused(RECAP_REASON_START_FAILED, "the executor ended early"));
	return CAPLET_EV_GO;
}

enum caplet_event caplet_act_send_spec(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	_cleanup_error_ struct recap_error *err = NULL;
	/* A failed send means the executor is gone: its end sweeps. */
	if (caplet_proc_send_doc(x->proc, x->spec_doc, strlen(x->spec_doc), &err) < 0)
		caplet_logf(x->agent, RECAP_LOG_ERROR, "execution %s: %s", x->key, recap_error_message(err));
	caplet_progress_start(x);
	return CAPLET_EV_NONE;
}

/* The claim's answer; the spec document is not needed after it. */
static void on_attaching(struct caplet_exec *x, int claimed, const char *msg)
{
	caplet_claim_report(x, claimed, msg);
	free(steal_ptr(x->spec_doc));
}

static enum caplet_event start_failed(struct caplet_exec *x, const char *msg)
{
	return caplet_exec_end(x, recap_caplet_status_refused(RECAP_REASON_START_FAILED, msg));
}

/* The target is confirmed: the executor gets the CRI's PID of it. A
 * refusal at this point means nothing started: no spec sent. */
enum caplet_event caplet_act_attach(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	_cleanup_json_ json_t *spec = steal_ptr(x->spec);
	_cleanup_error_ struct recap_error *err = NULL;
	enum caplet_event late =
	    caplet_exec_too_late(x, "spec.deadline passed before the target was confirmed");
	if (late != CAPLET_EV_NONE)
		return late;
	if (!spec || json_object_set_new(spec, "targetPid", json_integer(arg->pid)) < 0 ||
	    !(x->spec_doc = json_dumps(spec, JSON_COMPACT)))
		return start_failed(x, "out of memory");
	x->attach_start_us = recap_caplet_now_us();
	if (prespawn(x, strlen(x->spec_doc), &err) < 0)
		return start_failed(x, recap_error_message(err));
	char pull[40], attach_at[40];
	recap_caplet_format_us(x->pull_start_us, pull);
	recap_caplet_format_us(x->attach_start_us, attach_at);
	_cleanup_json_ json_t *st =
	    json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "phase", RECAP_PHASE_ATTACHING, "pullStartTime", pull,
		      "attachStartTime", attach_at, "imageDigest", x->digest, "relayEndpoint",
		      x->agent->o.relay_endpoint);
	if (!st)
		return start_failed(x, "out of memory");
	caplet_claim(x, st, on_attaching);
	return CAPLET_EV_NONE;
}

enum caplet_event caplet_act_look_running(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	if (x->busy)
		return CAPLET_EV_NONE;
	return recap_api_meta_deletion_timestamp(x->obj) || x->agent->stopping ? CAPLET_EV_CANCEL
									       : CAPLET_EV_NONE;
}

/* The executor escapes on SIGTERM and reports Cancelled. */
enum caplet_event caplet_act_cancel(struct caplet_exec *x, const struct caplet_event_arg *arg)
{
	if (x->proc)
		caplet_proc_kill(x->proc, SIGTERM);
	return CAPLET_EV_NONE;
}
