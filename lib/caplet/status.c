/* The executor's result -> CapsuleExecution status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "caplet/spec.h"

int64_t recap_caplet_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void recap_caplet_format_us(int64_t us, char out[40])
{
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%06dZ", (int)(us % 1000000));
}

static void set_time(json_t *st, const char *key, int64_t us)
{
	char buf[40];
	recap_caplet_format_us(us, buf);
	json_object_set_new(st, key, json_string(buf));
}

/* The executor's reasons, as status reasons: a non-zero exit is an Error
 * (the kubelet's word); TargetGone when the target was found (the result
 * names its pid) and had vanished by the end of the run. */
static const char *status_reason(const char *reason, const struct recap_caplet_times *t)
{
	if (!reason || !*reason)
		return RECAP_REASON_EXECUTOR_FAILED;
	if (strcmp(reason, RECAP_REASON_FAILED) == 0)
		reason = RECAP_REASON_ERROR;
	if (t->target_gone &&
	    (strcmp(reason, RECAP_REASON_KILLED) == 0 || strcmp(reason, RECAP_REASON_ERROR) == 0 ||
	     strcmp(reason, RECAP_REASON_ATTACH_FAILED) == 0 ||
	     strcmp(reason, RECAP_REASON_TARGET_NOT_FOUND) == 0))
		return RECAP_REASON_TARGET_GONE;
	return reason;
}

/* status.message is at most 4096 characters in the schema. */
static json_t *message_json(const char *m)
{
	size_t n = strlen(m);
	if (n <= 4000)
		return json_string(m);
	while (n > 4000 || (m[n] & 0xc0) == 0x80) /* cut on a character boundary */
		n--;
	return json_stringn(m, n);
}

static void copy_output(json_t *st, json_t *result)
{
	const char *from[] = {"stdout",	  "stderr", "stdoutBytes", "stderrBytes",
			      "exitCode", "signal", "message"};
	const char *to[] = {"stdoutTail", "stderrTail", "stdoutBytes", "stderrBytes",
			    "exitCode",	  "signal",	"message"};
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		json_t *v = json_object_get(result, from[i]);
		if (json_is_string(v) && strcmp(to[i], "message") == 0)
			json_object_set_new(st, to[i], message_json(json_string_value(v)));
		else if (v)
			json_object_set(st, to[i], v);
	}
}

/* status.artifacts: the files the executor listed (its outList), every
 * file kept but not listed counted in filesOmitted. */
static json_t *artifacts_json(json_t *result, const struct recap_caplet_times *t)
{
	int64_t files = recap_json_int(result, "outFiles", 0);
	if (files <= 0 || (t->out_asked > 0 && t->out_granted == 0)) /* none, or discarded */
		return NULL;
	json_t *list = json_array(), *in = json_object_get(result, "outList"), *f;
	size_t i;
	json_array_foreach (in, i, f) {
		const char *path = recap_json_str(f, "path"), *digest = recap_json_str(f, "digest");
		json_t *size = json_object_get(f, "size");
		if (json_array_size(list) >= RECAP_CAPLET_ARTIFACT_FILES_MAX || !path || !*path ||
		    strlen(path) > 1024 || !digest || strlen(digest) != 71 || !json_is_integer(size))
			continue;
		json_array_append_new(
		    list, json_pack("{s:s, s:O, s:s}", "path", path, "size", size, "digest", digest));
	}
	char expire[40];
	recap_caplet_format_us(t->end_us + t->retention_s * 1000000, expire);
	int64_t omitted = files - (int64_t)json_array_size(list);
	return json_pack("{s:o, s:I, s:I, s:s}", "files", list, "totalBytes",
			 (json_int_t)recap_json_int(result, "outBytes", 0), "filesOmitted",
			 (json_int_t)(omitted > 0 ? omitted : 0), "expireTime", expire);
}

static void quota_message(json_t *st, const struct recap_caplet_times *t)
{
	if (t->out_asked <= 0 || t->out_granted >= t->out_asked)
		return;
	char m[160];
	if (t->out_granted == 0)
		snprintf(m, sizeof(m), "the node's artifact quota was used up: nothing of /out was kept");
	else
		snprintf(m, sizeof(m), "the node's artifact quota limited /out to %lld bytes",
			 (long long)t->out_granted);
	const char *old = recap_json_str(st, "message");
	char *both = NULL;
	if (old && asprintf(&both, "%s; %s", old, m) < 0)
		both = NULL;
	json_object_set_new(st, "message", message_json(both ? both : m));
	free(both);
}

json_t *recap_caplet_status_from_result(json_t *result, const struct recap_caplet_times *t)
{
	json_t *st = json_object();
	if (!st)
		return NULL;
	const char *reason = status_reason(recap_json_str(result, "reason"), t);
	bool escaped = recap_json_bool(result, "escaped", 0) == 1;
	bool ok = strcmp(reason, RECAP_REASON_COMPLETED) == 0 && escaped;
	json_object_set_new(st, "phase", json_string(ok ? RECAP_PHASE_SUCCEEDED : RECAP_PHASE_FAILED));
	json_object_set_new(st, "reason", json_string(reason));
	json_object_set_new(st, "escaped", json_boolean(escaped));
	copy_output(st, result);
	if (!json_object_get(result, "reason"))
		json_object_set_new(st, "message", json_string("the executor printed no result"));
	else if (!escaped && !json_object_get(st, "message"))
		json_object_set_new(st, "message", json_string("escape could not be verified"));
	if (t->digest)
		json_object_set_new(st, "imageDigest", json_string(t->digest));
	int64_t attach = recap_json_int(result, "phasesMs.attach", 0) * 1000;
	int64_t run = recap_json_int(result, "phasesMs.run", 0) * 1000;
	set_time(st, "attachStartTime", t->attach_start_us);
	if (json_object_get(result, "exitCode") || json_object_get(result, "signal"))
		set_time(st, "runStartTime", t->attach_start_us + attach);
	set_time(st, "escapeStartTime", t->attach_start_us + attach + run);
	set_time(st, "completionTime", t->end_us);
	json_t *art = artifacts_json(result, t);
	if (art)
		json_object_set_new(st, "artifacts", art);
	quota_message(st, t);
	return st;
}

json_t *recap_caplet_status_refused(const char *reason, const char *message)
{
	char now[40];
	recap_caplet_format_us(recap_caplet_now_us(), now);
	return json_pack("{s:s, s:s, s:o, s:b, s:s}", "phase", RECAP_PHASE_FAILED, "reason", reason,
			 "message", message_json(message ? message : ""), "escaped", 1, "completionTime",
			 now);
}

/* A null written is a merge patch's removal: there, the field is absent. */
static const char *first_difference(json_t *status, json_t *written)
{
	const char *key;
	json_t *v;
	json_object_foreach (written, key, v) {
		json_t *have = json_object_get(status, key);
		if (json_is_null(v) ? have && !json_is_null(have) : !json_equal(have, v))
			return key;
	}
	return NULL;
}

static bool written_there(json_t *status, json_t *written)
{
	return !first_difference(status, written);
}

const char *recap_caplet_claim_differs(json_t *now, json_t *written)
{
	return json_is_object(written) ? first_difference(recap_api_exec_status(now), written) : NULL;
}

/* Pending and Pulling are before any claim: another caplet's Pulling, a label
 * or a finalizer changed is no reason to give up. attachStartTime is written
 * only with Attaching, so one that is there means a claim was made (a later
 * Pulling written over it does not undo that). */
enum recap_caplet_claim recap_caplet_claim_decide(json_t *now, const char *uid, json_t *written)
{
	const char *now_uid = recap_api_meta_uid(now);
	if (!now || !uid || !now_uid || strcmp(uid, now_uid) != 0)
		return RECAP_CAPLET_CLAIM_LOST;
	json_t *status = recap_api_exec_status(now);
	if (json_is_object(written) && json_object_size(written) && written_there(status, written))
		return RECAP_CAPLET_CLAIM_OURS;
	const char *phase = recap_json_str(now, RECAP_API_EXEC_STATUS_PHASE);
	bool unclaimed = !phase || !*phase || strcmp(phase, RECAP_PHASE_PENDING) == 0 ||
			 strcmp(phase, RECAP_PHASE_PULLING) == 0;
	if (unclaimed && !recap_api_exec_status_attach_start_time(now))
		return RECAP_CAPLET_CLAIM_RETRY;
	return RECAP_CAPLET_CLAIM_LOST;
}
