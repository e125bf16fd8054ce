/* Target resolution from pods and the executions built for them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "controller/objects.h"
#include "controller/targets.h"

static json_t *pod(const char *name, const char *app, const char *phase, const char *node, bool with_id)
{
	char id[80];
	snprintf(id, sizeof(id), "containerd://%s", name);
	json_t *p = json_pack(
	    "{s:{s:s, s:s, s:s, s:{s:s}}, s:{s:s, s:[{s:s}, {s:s}]}, s:{s:s, s:s, s:[{s:s, s:s}]}}",
	    "metadata", "name", name, "namespace", "ns", "uid", name, "labels", "app", app, "spec",
	    "nodeName", node, "containers", "name", "main", "name", "side", "status", "phase", phase, "podIP",
	    "10.1.1.1", "containerStatuses", "name", "main", "containerID", with_id ? id : "");
	return p;
}

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *v = json_loads(s, 0, &e);
	if (!v)
		fail_msg("bad test JSON: %s", e.text);
	return v;
}

static void test_selector_and_filters(void **state)
{
	json_t *pods = json_array();
	json_array_append_new(pods, pod("a", "web", "Running", "n1", true));
	json_array_append_new(pods, pod("b", "web", "Pending", "n1", true));  /* not running */
	json_array_append_new(pods, pod("c", "web", "Running", "n2", false)); /* no container ID */
	json_array_append_new(pods, pod("d", "db", "Running", "n2", true));   /* not selected */
	json_t *spec = parse("{\"targets\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}}}}");
	struct recap_controller_targets t;
	assert_int_equal(recap_controller_targets_resolve(spec, NULL, pods, NULL, &t, NULL), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.v[0].pod, "a");
	assert_string_equal(t.v[0].container, "main");
	assert_string_equal(t.v[0].container_id, "containerd://a");
	assert_string_equal(t.v[0].node, "n1");
	recap_controller_targets_clear(&t);
	/* a container without status is not a target */
	json_t *side = parse("{\"targets\":{\"selector\":{},\"container\":\"side\"}}");
	assert_int_equal(recap_controller_targets_resolve(side, NULL, pods, NULL, &t, NULL), 0);
	assert_int_equal(t.n, 0);
	recap_controller_targets_clear(&t);
	/* explicit names replace the selector */
	json_t *names = parse("[\"d\",\"zz\"]");
	assert_int_equal(recap_controller_targets_resolve(spec, names, pods, NULL, &t, NULL), 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.v[0].pod, "d");
	recap_controller_targets_clear(&t);
	/* an execution keeps its target after the pod is gone */
	json_t *execs =
	    parse("[{\"metadata\":{\"name\":\"r-1\"},\"spec\":{\"node\":\"n9\",\"target\":{\"pod\":\"gone\","
		  "\"podUID\":\"u\",\"container\":\"main\",\"containerID\":\"containerd://g\"}}}]");
	struct recap_controller_execs records = {0};
	assert_int_equal(recap_controller_execs_from_json(&records, execs), 0);
	assert_int_equal(recap_controller_targets_resolve(spec, NULL, pods, &records, &t, NULL), 0);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.v[1].pod, "gone");
	assert_string_equal(t.v[1].node, "n9");
	assert_string_equal(t.v[1].uid, "u");
	assert_string_equal(t.v[1].container_id, "containerd://g");
	recap_controller_targets_clear(&t);
	recap_controller_execs_clear(&records);
	struct recap_error *err = NULL;
	json_t *bad = parse("{\"targets\":{\"selector\":{\"matchLabels\":{\"a b\":\"x\"}}}}");
	assert_true(recap_controller_targets_resolve(bad, NULL, pods, NULL, &t, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "selector"));
	recap_error_free(err);
	json_decref(bad);
	json_decref(execs);
	json_decref(names);
	json_decref(side);
	json_decref(spec);
	json_decref(pods);
}

static void test_roles(void **state)
{
	json_t *pods = json_array();
	json_array_append_new(pods, pod("s", "server", "Running", "n1", true));
	json_array_append_new(pods, pod("c1", "client", "Running", "n2", true));
	json_array_append_new(pods, pod("c2", "client", "Running", "n3", true));
	json_t *spec = parse(
	    "{\"roles\":[{\"name\":\"server\",\"selector\":{\"matchLabels\":{\"app\":\"server\"}},"
	    "\"command\":[\"iperf\",\"-s\"]},{\"name\":\"client\",\"selector\":{\"matchLabels\":"
	    "{\"app\":\"client\"}},\"startAfter\":[\"server\"]}],\"command\":[\"iperf\",\"-c\"],"
	    "\"image\":\"i\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"schedule\":{\"cron\":\"x\"}}");
	struct recap_controller_targets t;
	assert_int_equal(recap_controller_targets_resolve(spec, NULL, pods, NULL, &t, NULL), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.v[0].role, "server");
	assert_string_equal(t.v[1].role, "client");
	/* the server's profile has its role's command and the extra env */
	json_t *extra = parse("[{\"name\":\"RECAP_ROLE_SERVER_IPS\",\"value\":\"10.1.1.1\"}]");
	json_t *p = recap_controller_exec_profile(spec, "server", extra);
	assert_string_equal(json_string_value(json_array_get(json_object_get(p, "command"), 1)), "-s");
	assert_int_equal(json_array_size(json_object_get(p, "env")), 2);
	assert_null(json_object_get(p, "schedule")); /* only the profile */
	json_decref(p);
	p = recap_controller_exec_profile(spec, "client", NULL);
	assert_string_equal(json_string_value(json_array_get(json_object_get(p, "command"), 1)), "-c");
	json_decref(p);
	json_decref(extra);
	recap_controller_targets_clear(&t);
	json_decref(spec);
	json_decref(pods);
}

/* Pods added one at a time and dropped at once: the targets keep their own
 * copies (the sanitizer build reads freed memory otherwise), and a pod
 * taken by an earlier role is not taken again. */
static void test_one_pod_at_a_time(void **state)
{
	struct recap_controller_targets t;
	assert_int_equal(recap_controller_targets_init(&t, NULL), 0);
	for (int i = 0; i < 300; i++) {
		char name[16];
		snprintf(name, sizeof(name), "p%03d", i);
		json_t *p = pod(name, "web", "Running", "n1", true);
		assert_int_equal(recap_controller_targets_add_pod(&t, p, NULL, "server", NULL), 0);
		json_decref(p);
	}
	json_t *again = pod("p007", "web", "Running", "n1", true);
	assert_int_equal(recap_controller_targets_add_pod(&t, again, NULL, "client", NULL), 0);
	json_decref(again);
	json_t *execs =
	    parse("[{\"metadata\":{\"name\":\"r-1\",\"namespace\":\"ns\",\"uid\":\"e1\","
		  "\"creationTimestamp\":\"2026-01-02T03:04:05Z\"},\"spec\":{\"node\":\"n9\","
		  "\"role\":\"client\",\"target\":{\"pod\":\"gone\",\"podUID\":\"u\",\"container\":"
		  "\"main\",\"containerID\":\"containerd://g\",\"podIP\":\"10.9.9.9\"}},"
		  "\"status\":{\"phase\":\"Failed\",\"reason\":\"NodeLost\",\"exitCode\":3,"
		  "\"imageDigest\":\"sha256:d\"}},"
		  "{\"metadata\":{\"name\":\"r-2\",\"deletionTimestamp\":\"2026-01-02T03:04:05Z\"},"
		  "\"spec\":{\"node\":\"n1\",\"target\":{\"pod\":\"p001\",\"container\":\"main\"}},"
		  "\"status\":{\"phase\":\"NoSuchPhase\"}}]");
	struct recap_controller_execs records = {0};
	assert_int_equal(recap_controller_execs_from_json(&records, execs), 0);
	json_decref(execs);
	assert_int_equal(records.n, 2);
	const struct recap_controller_exec *e = &records.v[0];
	assert_string_equal(e->view.name, "r-1");
	assert_string_equal(e->uid, "e1");
	assert_string_equal(e->image_digest, "sha256:d");
	assert_string_equal(e->view.reason, "NodeLost");
	assert_int_equal(e->view.exit_code, 3);
	assert_int_equal(e->view.phase, RECAP_EXEC_FAILED);
	assert_true(recap_controller_exec_final(e));
	assert_int_equal(e->created, 1767323045);
	e = &records.v[1];
	assert_int_equal(e->view.exit_code, -1); /* none, not 0 */
	assert_true(e->view.deleting);
	assert_int_equal(e->view.phase, RECAP_EXEC_PENDING); /* unknown: waited for */
	assert_false(recap_controller_exec_final(e));
	assert_null(e->uid);
	assert_int_equal(recap_controller_targets_add_execs(&t, &records, NULL), 0);
	assert_int_equal(t.n, 301); /* p001's execution is one of the pods' targets */
	assert_string_equal(t.v[7].pod, "p007");
	assert_string_equal(t.v[7].role, "server");
	assert_string_equal(t.v[7].container_id, "containerd://p007");
	assert_string_equal(t.v[7].pod_ip, "10.1.1.1");
	assert_string_equal(t.v[299].node, "n1");
	assert_string_equal(t.v[300].pod, "gone");
	assert_string_equal(t.v[300].role, "client");
	assert_string_equal(t.v[300].pod_ip, "10.9.9.9");
	assert_string_equal(t.v[300].ns, "ns");
	recap_controller_targets_clear(&t);
	recap_controller_execs_clear(&records);
}

static void test_exec_build(void **state)
{
	json_t *run = parse("{\"metadata\":{\"name\":\"r\",\"namespace\":\"ns\",\"uid\":\"ru\"},"
			    "\"spec\":{\"capsuleRef\":{\"name\":\"cap\"}}}");
	json_t *spec = parse("{\"image\":\"img\",\"command\":[\"true\"],\"targets\":{\"selector\":{}}}");
	char longnode[80];
	memset(longnode, 'n', sizeof(longnode) - 1);
	longnode[sizeof(longnode) - 1] = '\0';
	struct recap_target t = {.pod = "p",
				 .uid = "pu",
				 .node = "n1",
				 .container = "main",
				 .container_id = "containerd://x",
				 .pod_ip = "10.0.0.1"};
	struct recap_plan_item it = {.target = 0, .name = "r-0123456789"};
	json_t *e = recap_controller_exec_build(run, spec, &t, &it);
	assert_non_null(e);
	assert_string_equal(recap_json_str(e, "metadata.name"), "r-0123456789");
	assert_string_equal(recap_json_str(e, "metadata.namespace"), "ns");
	json_t *labels = recap_json_path(e, "metadata.labels");
	assert_string_equal(json_string_value(json_object_get(labels, "recap.dev/run")), "r");
	assert_string_equal(json_string_value(json_object_get(labels, "recap.dev/node")), "n1");
	assert_string_equal(json_string_value(json_object_get(labels, "recap.dev/capsule")), "cap");
	json_t *owner = json_array_get(recap_json_path(e, "metadata.ownerReferences"), 0);
	assert_string_equal(recap_json_str(owner, "kind"), "CapsuleRun");
	assert_string_equal(recap_json_str(owner, "uid"), "ru");
	assert_true(json_is_true(json_object_get(owner, "controller")));
	assert_true(json_is_true(json_object_get(owner, "blockOwnerDeletion")));
	assert_string_equal(recap_json_str(e, "spec.runRef.name"), "r");
	assert_string_equal(recap_json_str(e, "spec.target.containerID"), "containerd://x");
	assert_string_equal(recap_json_str(e, "spec.target.podIP"), "10.0.0.1");
	assert_string_equal(recap_json_str(e, "spec.capsule.image"), "img");
	assert_null(recap_json_path(e, "spec.capsule.targets"));
	assert_null(recap_json_path(e, "spec.deadline"));
	/* created at 2026-11-23T00:00:00Z: the default 300 s timeout + 600 s to start */
	assert_int_equal(recap_controller_exec_set_deadline(e, 1795392000, RECAP_EXEC_START_GRACE_S), 0);
	assert_string_equal(recap_json_str(e, "spec.deadline"), "2026-11-23T00:15:00Z");
	json_object_set_new(recap_json_path(e, "spec.capsule"), "timeoutSeconds", json_integer(60));
	assert_int_equal(recap_controller_exec_set_deadline(e, 1795392000, 5), 0);
	assert_string_equal(recap_json_str(e, "spec.deadline"), "2026-11-23T00:01:05Z");
	json_decref(e);
	/* a node name too long for a label value: only spec.node has it */
	t.node = longnode;
	e = recap_controller_exec_build(run, spec, &t, &it);
	assert_null(json_object_get(recap_json_path(e, "metadata.labels"), "recap.dev/node"));
	assert_string_equal(recap_json_str(e, "spec.node"), longnode);
	json_decref(e);
	json_t *cap = parse("{\"metadata\":{\"name\":\"cap\",\"namespace\":\"ns\",\"uid\":\"cu\"}}");
	json_t *pr = recap_controller_periodic_run_build(cap, "cap-29000000", 29000000LL * 60);
	assert_string_equal(recap_json_str(pr, "spec.trigger"), "Periodic");
	assert_string_equal(recap_json_str(pr, "spec.capsuleRef.name"), "cap");
	assert_string_equal(recap_json_str(pr, "spec.scheduledTime"), "2025-02-19T21:20:00Z");
	assert_string_equal(
	    recap_json_str(json_array_get(recap_json_path(pr, "metadata.ownerReferences"), 0), "kind"),
	    "Capsule");
	json_decref(pr);
	json_decref(cap);
	json_decref(spec);
	json_decref(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_selector_and_filters),
	    cmocka_unit_test(test_roles),
	    cmocka_unit_test(test_one_pod_at_a_time),
	    cmocka_unit_test(test_exec_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
