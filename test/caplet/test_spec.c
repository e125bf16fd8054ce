/* The pure translations of lib/caplet: execution -> executor spec, result
 * -> status. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/conditions.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/spec.h"

static json_t *exec_with(const char *capsule_json, const char *deadline)
{
	json_error_t e;
	json_t *cap = json_loads(capsule_json, 0, &e);
	assert_non_null(cap);
	json_t *x = json_pack(
	    "{s:{s:s, s:s, s:s}, s:{s:{s:s}, s:s, s:{s:s, s:s, s:s, s:s}, s:o}}", "metadata", "name", "e1",
	    "namespace", "ns", "uid", "195b9aa9-ff2e-4e88-a30a-cf6dc5cfc633", "spec", "runRef", "name", "r1",
	    "node", "n1", "target", "pod", "web-0", "podUID", "11111111-2222-3333-4444-555555555555",
	    "container", "app", "containerID", "containerd://abc123", "capsule", cap);
	if (deadline)
		json_object_set_new(json_object_get(x, "spec"), "deadline", json_string(deadline));
	return x;
}

static const char *const layers[] = {"/s/layers/a", "/s/layers/b"};
static const struct recap_caplet_image img = {"sha256:00", layers, 2, NULL};

/* A container ID that reads as a PID (the node's init, with caplet's host
 * PIDs) or carries a path is refused before the executor sees it. */
static void test_spec_target_not_a_pid(void **state)
{
	const char *bad[] = {"containerd://1",	     "containerd://0042", "1",
			     "containerd://../../x", "containerd://a/b",  "containerd://"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_json_ json_t *x = exec_with("{\"image\":\"i\"}", NULL);
		json_object_set_new(json_object_get(json_object_get(x, "spec"), "target"), "containerID",
				    json_string(bad[i]));
		_cleanup_json_ json_t *s = NULL;
		_cleanup_error_ struct recap_error *err = NULL;
		if (recap_caplet_spec_build(x, &img, "/s", 0, &s, &err) != -EINVAL)
			fail_msg("containerID %s was accepted", bad[i]);
		assert_null(s);
	}
	_cleanup_json_ json_t *x = exec_with("{\"image\":\"i\"}", NULL);
	json_object_set_new(json_object_get(json_object_get(x, "spec"), "target"), "containerID",
			    json_string("containerd://1"));
	_cleanup_json_ json_t *s = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_caplet_spec_build(x, &img, "/s", 0, &s, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "'1' is not a container ID"));
}

static json_t *target_exec(void)
{
	return json_pack("{s:{s:s, s:s, s:s}, s:{s:{s:s, s:s, s:s, s:s}}}", "metadata", "name", "e1",
			 "namespace", "shop", "uid", "195b9aa9-ff2e-4e88-a30a-cf6dc5cfc633", "spec", "target",
			 "pod", "web-0", "podUID", "11111111-2222-3333-4444-555555555555", "container", "app",
			 "containerID", "containerd://abc123");
}

static json_t *cri_answer(void)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "id", "abc123", "state", "RUNNING", "pid",
			 4242, "podName", "web-0", "podNamespace", "shop", "podUID",
			 "11111111-2222-3333-4444-555555555555", "container", "app");
}

static void expect_refused(json_t *cri, const char *reason, const char *words)
{
	_cleanup_json_ json_t *x = target_exec();
	_cleanup_error_ struct recap_error *err = NULL;
	const char *got = NULL;
	int pid = -1;
	assert_true(recap_caplet_target_check(x, cri, &pid, &got, &err) < 0);
	assert_int_equal(pid, -1);
	assert_string_equal(got, reason);
	if (!strstr(recap_error_message(err), words))
		fail_msg("'%s' does not say '%s'", recap_error_message(err), words);
	json_decref(cri);
}

/* The CRI's labels must name the execution's pod: another namespace's
 * container, another pod's, a recreated pod's (UID) or another container of
 * the pod is refused (InvalidSpec), naming what differs; a container that is
 * not running or has no PID is TargetNotFound. */
static void test_target_check(void **state)
{
	_cleanup_json_ json_t *x = target_exec();
	_cleanup_json_ json_t *ok = cri_answer();
	const char *reason = "unset";
	int pid = 0;
	assert_int_equal(recap_caplet_target_check(x, ok, &pid, &reason, NULL), 0);
	assert_int_equal(pid, 4242);
	assert_null(reason);

	json_t *c = cri_answer();
	json_object_set_new(c, "podNamespace", json_string("bank"));
	expect_refused(c, "InvalidSpec", "belongs to namespace 'bank', the execution names 'shop'");
	c = cri_answer();
	json_object_set_new(c, "podName", json_string("db-0"));
	expect_refused(c, "InvalidSpec", "belongs to pod 'db-0'");
	c = cri_answer();
	json_object_set_new(c, "podUID", json_string("99999999-2222-3333-4444-555555555555"));
	expect_refused(c, "InvalidSpec", "podUID");
	c = cri_answer();
	json_object_set_new(c, "container", json_string("sidecar"));
	expect_refused(c, "InvalidSpec", "container 'sidecar'");
	c = cri_answer();
	json_object_del(c, "podNamespace");
	expect_refused(c, "InvalidSpec", "no io.kubernetes.pod.namespace label");
	c = cri_answer();
	json_object_set_new(c, "id", json_string("abc123ffff")); /* a prefix resolved */
	expect_refused(c, "InvalidSpec", "answered for container 'abc123ffff'");
	c = cri_answer();
	json_object_set_new(c, "state", json_string("EXITED"));
	expect_refused(c, "TargetNotFound", "not running (the CRI reports EXITED)");
	c = cri_answer();
	json_object_set_new(c, "pid", json_integer(0));
	expect_refused(c, "TargetNotFound", "no process");
	c = cri_answer();
	json_object_set_new(c, "pid", json_integer(1)); /* the node's init */
	expect_refused(c, "TargetNotFound", "no process");
}

static void test_run_id(void **state)
{
	char id[RECAP_CAPLET_RUN_ID_MAX];
	assert_int_equal(recap_caplet_run_id("195B9AA9-ff2e-4e88-a30a-cf6dc5cfc633", id, NULL), 0);
	assert_string_equal(id, "ce-195b9aa9ff2e4e88a30acf6dc5cfc633");
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_caplet_run_id("../etc", id, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "not a UUID"));
	assert_int_equal(recap_caplet_run_id("", id, NULL), -EINVAL);
}

static void test_spec_full(void **state)
{
	_cleanup_json_ json_t *x = exec_with(
	    "{\"image\":\"r/x@sha256:1\",\"command\":[\"ps\"],\"env\":[{\"name\":\"TZ\",\"value\":\"UTC\"}],"
	    "\"join\":[\"net\",\"pid\"],\"targetFilesystem\":\"None\",\"security\":{\"capabilities\":{"
	    "\"add\":"
	    "[\"NET_RAW\"]},\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":\"p.json\"}},"
	    "\"resources\":{\"limits\":{\"cpu\":\"200m\",\"memory\":67108864,\"pids\":64}},"
	    "\"timeoutSeconds\":60,\"output\":{\"tailBytes\":100,\"outSize\":\"8Mi\"}}",
	    NULL);
	_cleanup_json_ json_t *s = NULL;
	assert_int_equal(recap_caplet_spec_build(x, &img, "/s/seccomp", 1000, &s, NULL), 0);
	assert_string_equal(recap_json_str(s, "outSize"), "8Mi");
	assert_string_equal(recap_json_str(s, "id"), "ce-195b9aa9ff2e4e88a30acf6dc5cfc633");
	assert_string_equal(recap_json_str(s, "target"), "abc123");
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "layers"), 1)),
			    "/s/layers/b");
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "env"), 0)), "TZ=UTC");
	assert_string_equal(recap_json_str(s, "seccomp"), "/s/seccomp/p.json");
	assert_string_equal(recap_json_str(s, "cpus"), "200m");
	assert_string_equal(recap_json_str(s, "memory"), "67108864");
	assert_int_equal(recap_json_int(s, "pids", 0), 64);
	assert_int_equal(recap_json_int(s, "timeoutSeconds", 0), 60);
	assert_int_equal(recap_json_int(s, "tailBytes", 0), 100);
	assert_string_equal(recap_json_str(s, "targetFilesystem"), "None");
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "capAdd"), 0)), "NET_RAW");
	assert_null(json_object_get(s, "user")); /* root: the executor's default */
	assert_null(json_object_get(s, "capDrop"));
}

static void test_spec_drop(void **state)
{
	_cleanup_json_ json_t *x = exec_with(
	    "{\"image\":\"i\",\"security\":{\"capabilities\":{\"add\":[\"NET_RAW\"],\"drop\":[\"ALL\"]}}}",
	    NULL);
	_cleanup_json_ json_t *s = NULL;
	assert_int_equal(recap_caplet_spec_build(x, &img, "/s", 0, &s, NULL), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "capDrop"), 0)), "ALL");
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "capAdd"), 0)), "NET_RAW");
}

static void test_spec_user(void **state)
{
	_cleanup_json_ json_t *x =
	    exec_with("{\"image\":\"i\",\"security\":{\"runAsUser\":1000,\"runAsGroup\":50}}", NULL);
	_cleanup_json_ json_t *s = NULL;
	assert_int_equal(recap_caplet_spec_build(x, &img, "/s", 0, &s, NULL), 0);
	assert_string_equal(recap_json_str(s, "user"), "1000:50");
}

/* Run cgroups below the kubelet's kubepods, found in caplet's own cgroup. */
static void test_kubepods_parent(void **state)
{
	(void)state;
	char out[128];
	const char *cgroupfs = "12:pids:/node-a/kubepods/besteffort/pod1/c1\n"
			       "5:cpu,cpuacct:/node-a/kubepods/besteffort/pod1/c1\n"
			       "4:memory:/node-a/kubepods/besteffort/pod1/c1\n"
			       "0::/node-a/kubepods/besteffort/pod1/c1\n";
	assert_int_equal(recap_caplet_kubepods_parent(cgroupfs, out, sizeof(out)), 0);
	assert_string_equal(out, "node-a/kubepods/recap");
	const char *systemd = "0::/kubepods.slice/kubepods-besteffort.slice/"
			      "kubepods-besteffort-pod1.slice/cri-containerd-c1.scope\n";
	assert_int_equal(recap_caplet_kubepods_parent(systemd, out, sizeof(out)), 0);
	assert_string_equal(out, "kubepods.slice/recap");
	/* memory's line wins over the v2 one; "kubepods" only as a whole component */
	const char *mixed = "0::/elsewhere/kubepods/x\n9:cpuset,memory:/kubepods/burstable/p/c\n";
	assert_int_equal(recap_caplet_kubepods_parent(mixed, out, sizeof(out)), 0);
	assert_string_equal(out, "kubepods/recap");
	const char *none[] = {"0::/\n", "4:memory:/user.slice/kubepods-x/c\n0::/notkubepods/a\n", "garbage",
			      "", "0::/../../kubepods\n"};
	for (size_t i = 0; i < ARRAY_SIZE(none); i++)
		if (recap_caplet_kubepods_parent(none[i], out, sizeof(out)) == 0)
			fail_msg("'%s' gave '%s'", none[i], out);
	char long_path[300] = "0::/";
	memset(long_path + 4, 'a', 200);
	strcpy(long_path + 204, "/kubepods/x\n");
	assert_int_equal(recap_caplet_kubepods_parent(long_path, out, sizeof(out)), -EINVAL);
}

static void test_spec_deadline(void **state)
{
	/* 2026-11-23T00:01:40Z is 100 s after now (1795392000) */
	_cleanup_json_ json_t *x =
	    exec_with("{\"image\":\"i\",\"timeoutSeconds\":300}", "2026-11-23T00:01:40Z");
	_cleanup_json_ json_t *s = NULL;
	assert_int_equal(recap_caplet_spec_build(x, &img, "/s", 1795392000, &s, NULL), 0);
	assert_int_equal(recap_json_int(s, "timeoutSeconds", 0), 100);
	int64_t left;
	assert_int_equal(recap_caplet_deadline_left(x, 1795392200, &left, NULL), 0);
	assert_int_equal(left, -100);
	_cleanup_json_ json_t *bad = exec_with("{\"image\":\"i\"}", "tomorrow");
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_caplet_deadline_left(bad, 0, &left, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "spec.deadline 'tomorrow'"));
}

static void test_spec_refused(void **state)
{
	const char *bad[] = {
	    "{\"image\":\"i\",\"security\":{\"runAsUser\":-1}}",
	    "{\"image\":\"i\",\"security\":{\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":"
	    "\"../x\"}}}",
	    "{\"image\":\"i\",\"resources\":{\"limits\":{\"memory\":[1]}}}",
	    "{\"image\":\"i\",\"output\":{\"outSize\":{}}}",
	    "{\"image\":\"i\",\"env\":[{\"name\":\"A\"},{\"name\":7}]}",
	    "{\"image\":\"i\",\"join\":[\"net\",\"mnt\"]}",
	    "{\"command\":[\"ps\"]}",
	};
	/* the executor's own checks, and the decoding against the schema, which
	 * names the field */
	const char *needle[] = {"runAsUser",
				"seccompProfile",
				"limits.memory",
				"output.outSize",
				"spec.capsule.env[1].name: must be a string",
				"spec.capsule.join[1]:",
				"spec.capsule: the required field image is missing"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_json_ json_t *x = exec_with(bad[i], NULL);
		_cleanup_json_ json_t *s = NULL;
		_cleanup_error_ struct recap_error *err = NULL;
		assert_int_equal(recap_caplet_spec_build(x, &img, "/s", 0, &s, &err), -EINVAL);
		assert_null(s);
		if (!strstr(recap_error_message(err), needle[i]))
			fail_msg("'%s': '%s' lacks '%s'", bad[i], recap_error_message(err), needle[i]);
	}
}

static json_t *result(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	assert_non_null(j);
	return j;
}

static void test_status(void **state)
{
	struct recap_caplet_times t = {
	    .attach_start_us = 1795392000000000, .end_us = 1795392001000000, .digest = "sha256:00"};
	_cleanup_json_ json_t *ok =
	    result("{\"reason\":\"Completed\",\"escaped\":true,\"exitCode\":0,\"stdout\":"
		   "\"hi\\n\",\"stdoutBytes\":3,\"phasesMs\":{\"attach\":18,\"run\":7}}");
	_cleanup_json_ json_t *st = recap_caplet_status_from_result(ok, &t);
	assert_string_equal(recap_json_str(st, "phase"), "Succeeded");
	assert_string_equal(recap_json_str(st, "stdoutTail"), "hi\n");
	assert_string_equal(recap_json_str(st, "attachStartTime"), "2026-11-23T00:00:00.000000Z");
	assert_string_equal(recap_json_str(st, "runStartTime"), "2026-11-23T00:00:00.018000Z");
	assert_string_equal(recap_json_str(st, "escapeStartTime"), "2026-11-23T00:00:00.025000Z");
	assert_string_equal(recap_json_str(st, "completionTime"), "2026-11-23T00:00:01.000000Z");
	assert_true(recap_json_bool(st, "escaped", 0));

	_cleanup_json_ json_t *failed = result("{\"reason\":\"Failed\",\"escaped\":true,\"exitCode\":3}");
	_cleanup_json_ json_t *st2 = recap_caplet_status_from_result(failed, &t);
	assert_string_equal(recap_json_str(st2, "phase"), "Failed");
	assert_string_equal(recap_json_str(st2, "reason"), "Error");
	assert_int_equal(recap_json_int(st2, "exitCode", -1), 3);

	t.target_gone = true;
	_cleanup_json_ json_t *killed = result("{\"reason\":\"Killed\",\"escaped\":true,\"signal\":9}");
	_cleanup_json_ json_t *st3 = recap_caplet_status_from_result(killed, &t);
	assert_string_equal(recap_json_str(st3, "reason"), "TargetGone");
	_cleanup_json_ json_t *nf =
	    result("{\"reason\":\"TargetNotFound\",\"escaped\":true,\"targetPid\":42}");
	_cleanup_json_ json_t *st5 = recap_caplet_status_from_result(nf, &t);
	assert_string_equal(recap_json_str(st5, "reason"), "TargetGone");

	_cleanup_json_ json_t *unesc = result("{\"reason\":\"Completed\",\"escaped\":false,\"exitCode\":0}");
	_cleanup_json_ json_t *st4 = recap_caplet_status_from_result(unesc, &t);
	assert_string_equal(recap_json_str(st4, "phase"), "Failed");
	assert_non_null(strstr(recap_json_str(st4, "message"), "escape"));
}

static void test_refused_message_bounded(void **state)
{
	char big[10000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	_cleanup_json_ json_t *st = recap_caplet_status_refused("PolicyDenied", big);
	assert_string_equal(recap_json_str(st, "phase"), "Failed");
	assert_true(strlen(recap_json_str(st, "message")) <= 4096);
	assert_true(recap_json_bool(st, "escaped", 0));
}

/* The execution read again after the claim's 409: uid and status as JSON. */
static enum recap_caplet_claim decide(const char *uid, const char *status, const char *written)
{
	_cleanup_json_ json_t *now = NULL;
	if (uid) {
		now = json_pack("{s:{s:s, s:s}}", "metadata", "uid", uid, "resourceVersion", "42");
		assert_non_null(now);
		if (status)
			json_object_set_new(now, "status", json_loads(status, 0, NULL));
	}
	_cleanup_json_ json_t *w = json_loads(written, 0, NULL);
	assert_non_null(w);
	return recap_caplet_claim_decide(now, "u1", w);
}

#define ATTACH_OURS "{\"phase\": \"Attaching\", \"attachStartTime\": \"2026-12-06T08:00:00.000001Z\"}"
#define PULL_OURS "{\"phase\": \"Pulling\", \"pullStartTime\": \"2026-12-06T08:00:00.000001Z\"}"

static void test_claim_decide(void **state)
{
	/* benign: a label, a finalizer, another agent's Pulling */
	assert_int_equal(decide("u1", NULL, ATTACH_OURS), RECAP_CAPLET_CLAIM_RETRY);
	assert_int_equal(decide("u1", "{\"phase\": \"Pending\"}", ATTACH_OURS), RECAP_CAPLET_CLAIM_RETRY);
	assert_int_equal(decide("u1", "{\"phase\": \"Pulling\", \"pullStartTime\": \"2026-12-06T08:00:01Z\"}",
				ATTACH_OURS),
			 RECAP_CAPLET_CLAIM_RETRY);
	assert_int_equal(
	    decide("u1", "{\"phase\": \"Pulling\", \"pullStartTime\": \"2026-12-06T08:00:01Z\"}", PULL_OURS),
	    RECAP_CAPLET_CLAIM_RETRY);
	/* an earlier try of ours that landed unanswered */
	assert_int_equal(decide("u1", ATTACH_OURS, ATTACH_OURS), RECAP_CAPLET_CLAIM_OURS);
	assert_int_equal(decide("u1", PULL_OURS, PULL_OURS), RECAP_CAPLET_CLAIM_OURS);
	/* a null written (no relay: the merge patch removes relayEndpoint) is
	 * there as an absent field, not as a difference */
	const char *no_relay =
	    "{\"phase\": \"Attaching\", \"attachStartTime\": \"2026-12-06T08:00:00.000001Z\", "
	    "\"relayEndpoint\": null}";
	assert_int_equal(decide("u1", ATTACH_OURS, no_relay), RECAP_CAPLET_CLAIM_OURS);
	_cleanup_json_ json_t *relay_there =
	    json_pack("{s:{s:s}, s:{s:s, s:s, s:s}}", "metadata", "uid", "u1", "status", "phase", "Attaching",
		      "attachStartTime", "2026-12-06T08:00:00.000001Z", "relayEndpoint", "10.0.0.1:10350");
	_cleanup_json_ json_t *w = json_loads(no_relay, 0, NULL);
	assert_string_equal(recap_caplet_claim_differs(relay_there, w), "relayEndpoint");
	/* claimed by another writer */
	const char *taken[] = {
	    "{\"phase\": \"Attaching\", \"attachStartTime\": \"2026-12-06T08:00:02Z\"}",
	    "{\"phase\": \"Running\", \"attachStartTime\": \"2026-12-06T08:00:02Z\"}",
	    "{\"phase\": \"Escaping\"}",
	    "{\"phase\": \"Succeeded\"}",
	    "{\"phase\": \"Failed\", \"reason\": \"Cancelled\"}",
	    /* a Pulling written over another's Attaching does not undo the claim */
	    "{\"phase\": \"Pulling\", \"attachStartTime\": \"2026-12-06T08:00:02Z\"}",
	    "{\"phase\": \"SomethingNew\"}",
	};
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		assert_int_equal(decide("u1", taken[i], ATTACH_OURS), RECAP_CAPLET_CLAIM_LOST);
		assert_int_equal(decide("u1", taken[i], PULL_OURS), RECAP_CAPLET_CLAIM_LOST);
	}
	/* our Attaching with another's Running over it is not ours any more */
	assert_int_equal(
	    decide("u1", "{\"phase\": \"Running\", \"attachStartTime\": \"2026-12-06T08:00:00.000001Z\"}",
		   ATTACH_OURS),
	    RECAP_CAPLET_CLAIM_LOST);
	/* deleted, or deleted and made again under the same name */
	assert_int_equal(decide(NULL, NULL, ATTACH_OURS), RECAP_CAPLET_CLAIM_LOST);
	assert_int_equal(decide("u2", NULL, ATTACH_OURS), RECAP_CAPLET_CLAIM_LOST);
	assert_int_equal(decide("u2", ATTACH_OURS, ATTACH_OURS), RECAP_CAPLET_CLAIM_LOST);
}

/* The condition of type t in status's conditions: "status reason". */
static const char *cond(json_t *status, const char *t, char out[128])
{
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(status, "conditions"), i, c) {
		if (strcmp(recap_json_str(c, "type"), t) == 0) {
			snprintf(out, 128, "%s %s", recap_json_str(c, "status"), recap_json_str(c, "reason"));
			return out;
		}
	}
	return "none";
}

static void test_status_conditions(void **state)
{
	char b[128];
	_cleanup_json_ json_t *x = json_loads("{\"metadata\":{\"generation\":1},\"status\":{\"conditions\":"
					      "[{\"type\":\"Reconciling\",\"status\":\"True\",\"reason\":"
					      "\"Pulling\",\"message\":\"\",\"lastTransitionTime\":"
					      "\"2026-01-01T00:00:00Z\"}]}}",
					      0, NULL);
	/* running: in progress; the transition time of a condition that
	 * stays True is kept */
	_cleanup_json_ json_t *run = json_pack("{s:s}", "phase", "Running");
	assert_int_equal(recap_api_exec_phase_conditions(run, x, 1000), 0);
	assert_string_equal(cond(run, "Reconciling", b), "True Running");
	assert_string_equal(cond(run, "Stalled", b), "False Running");
	assert_string_equal(
	    recap_json_str(json_array_get(json_object_get(run, "conditions"), 0), "lastTransitionTime"),
	    "2026-01-01T00:00:00Z");
	/* failed: stalled with the execution's reason, no longer in progress */
	_cleanup_json_ json_t *failed = json_pack("{s:s, s:s}", "phase", "Failed", "reason", "TargetGone");
	assert_int_equal(recap_api_exec_phase_conditions(failed, x, 1000), 0);
	assert_string_equal(cond(failed, "Stalled", b), "True TargetGone");
	assert_string_equal(cond(failed, "Reconciling", b), "False TargetGone");
	/* succeeded: neither */
	_cleanup_json_ json_t *ok = json_pack("{s:s, s:s}", "phase", "Succeeded", "reason", "Completed");
	assert_int_equal(recap_api_exec_phase_conditions(ok, x, 1000), 0);
	assert_string_equal(cond(ok, "Stalled", b), "False Succeeded");
	assert_string_equal(cond(ok, "Reconciling", b), "False Succeeded");
	/* a write without a phase carries no conditions */
	_cleanup_json_ json_t *bare = json_pack("{s:i}", "stdoutBytes", 3);
	assert_int_equal(recap_api_exec_phase_conditions(bare, x, 1000), 0);
	assert_null(json_object_get(bare, "conditions"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run_id),
	    cmocka_unit_test(test_spec_full),
	    cmocka_unit_test(test_spec_target_not_a_pid),
	    cmocka_unit_test(test_kubepods_parent),
	    cmocka_unit_test(test_spec_deadline),
	    cmocka_unit_test(test_spec_refused),
	    cmocka_unit_test(test_spec_user),
	    cmocka_unit_test(test_spec_drop),
	    cmocka_unit_test(test_target_check),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_refused_message_bounded),
	    cmocka_unit_test(test_claim_decide),
	    cmocka_unit_test(test_status_conditions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
