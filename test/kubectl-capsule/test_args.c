/* kubectl-capsule's flags: what each verb accepts, and the message for what
 * it refuses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"

#define ARGV(...) ((char *[]){"x", __VA_ARGS__, NULL})
static int ARGC(char **v)
{
	int n = 0;
	while (v[n])
		n++;
	return n;
}

static int parse_run(char **argv, int argc, struct run_args *a, char *msg, size_t size)
{
	struct recap_error *err = NULL;
	*a = (struct run_args){0};
	int r = plugin_parse_run(argc, argv, a, &err);
	snprintf(msg, size, "%s", err ? recap_error_message(err) : "");
	recap_error_free(err);
	return r;
}

#define RUN_OK(a, ...)                                                                                       \
	do {                                                                                                 \
		static char *v_[] = {"run", __VA_ARGS__, NULL}; /* a.command points into it */               \
		char m_[256];                                                                                \
		if (parse_run(v_, ARGC(v_), a, m_, sizeof(m_)) < 0)                                          \
			fail_msg("refused: %s", m_);                                                         \
	} while (0)

#define RUN_FAILS(expect, ...)                                                                               \
	do {                                                                                                 \
		static char *v_[] = {"run", __VA_ARGS__, NULL}; /* a.command points into it */               \
		char m_[256];                                                                                \
		struct run_args a_;                                                                          \
		assert_int_equal(parse_run(v_, ARGC(v_), &a_, m_, sizeof(m_)), -EINVAL);                     \
		run_args_free(&a_);                                                                          \
		if (!strstr(m_, expect))                                                                     \
			fail_msg("message '%s' lacks '%s'", m_, expect);                                     \
	} while (0)

static void adhoc_run_with_everything(void **state)
{
	struct run_args a;
	RUN_OK(&a, "-n", "shop", "busybox:1", "-l", "app=web", "-c", "app", "--join", "net,pid",
	       "--target-fs", "ReadWrite", "--cap-add", "NET_RAW,NET_ADMIN", "--cap-add", "SYS_PTRACE",
	       "--cap-drop", "ALL", "--env", "A=b=c", "--image-pull-secret", "regcred", "--image-pull-secret",
	       "other.cred", "--timeout", "30", "--strategy", "Iterative", "--max-concurrent", "2", "--rm",
	       "-o", "yaml", "--wait-timeout", "9", "--context", "ctx", "--kubeconfig", "/k", "--cluster",
	       "cl", "--user", "us", "--as", "alice", "--as-group", "g1", "--as-group", "g2", "--as-uid",
	       "u-1", "--request-timeout", "5m", "--", "sh", "-c", "echo -n hi");
	assert_string_equal(a.image, "busybox:1");
	assert_string_equal(a.g.cluster, "cl");
	assert_string_equal(a.g.user, "us");
	assert_string_equal(a.g.as, "alice");
	assert_string_equal(a.g.as_uid, "u-1");
	assert_int_equal(a.g.n_as_groups, 2);
	assert_string_equal(a.g.as_groups[1], "g2");
	assert_string_equal(a.g.request_timeout, "5m");
	assert_string_equal(a.g.ns, "shop");
	assert_string_equal(a.g.context, "ctx");
	assert_string_equal(a.g.kubeconfig, "/k");
	assert_int_equal(a.g.output, PLUGIN_OUT_YAML);
	assert_string_equal(a.selector, "app=web");
	assert_string_equal(a.container, "app");
	assert_int_equal(json_array_size(a.join), 2);
	assert_string_equal(a.target_fs, "ReadWrite");
	assert_int_equal(json_array_size(a.caps), 3);
	assert_string_equal(json_string_value(json_array_get(a.caps, 2)), "SYS_PTRACE");
	assert_int_equal(json_array_size(a.caps_drop), 1);
	assert_string_equal(json_string_value(json_array_get(a.caps_drop, 0)), "ALL");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a.env, 0), "value")), "b=c");
	assert_int_equal(json_array_size(a.pull_secrets), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a.pull_secrets, 1), "name")),
			    "other.cred");
	assert_int_equal(a.timeout_s, 30);
	assert_int_equal(a.max_concurrent, 2);
	assert_int_equal(a.wait_timeout_s, 9);
	assert_true(a.rm);
	/* Flags inside the command belong to the command. */
	assert_int_equal(a.ncommand, 3);
	assert_string_equal(a.command[2], "echo -n hi");
	run_args_free(&a);
}

static void pods_and_positional_anywhere(void **state)
{
	struct run_args a;
	RUN_OK(&a, "--pod", "a,b", "img", "--pod", "c", "--no-wait");
	assert_string_equal(a.image, "img");
	assert_int_equal(json_array_size(a.pods), 3);
	assert_true(a.no_wait);
	assert_int_equal(a.ncommand, 0);
	run_args_free(&a);
	RUN_OK(&a, "--capsule", "whoami", "--pod", "a");
	assert_string_equal(a.capsule, "whoami");
	assert_null(a.image);
	run_args_free(&a);
}

/* kubectl's names of each kind: singular, plural, short, .GROUP and
 * .VERSION.GROUP, any case. */
static void target_kinds(void **state)
{
	static const struct {
		const char *arg;
		enum plugin_kind kind;
		const char *name;
	} ok[] = {
	    {"web-1", PLUGIN_KIND_POD, "web-1"},
	    {"pod/web-1", PLUGIN_KIND_POD, "web-1"},
	    {"pods/web-1", PLUGIN_KIND_POD, "web-1"},
	    {"po/web-1", PLUGIN_KIND_POD, "web-1"},
	    {"deploy/web", PLUGIN_KIND_DEPLOYMENT, "web"},
	    {"deployment/web", PLUGIN_KIND_DEPLOYMENT, "web"},
	    {"deployments/web", PLUGIN_KIND_DEPLOYMENT, "web"},
	    {"deployment.apps/web", PLUGIN_KIND_DEPLOYMENT, "web"},
	    {"deployments.v1.apps/web", PLUGIN_KIND_DEPLOYMENT, "web"},
	    {"Deployment/web", PLUGIN_KIND_DEPLOYMENT, "web"},
	    {"sts/db", PLUGIN_KIND_STATEFULSET, "db"},
	    {"statefulsets.apps/db", PLUGIN_KIND_STATEFULSET, "db"},
	    {"ds/agent", PLUGIN_KIND_DAEMONSET, "agent"},
	    {"daemonset/agent", PLUGIN_KIND_DAEMONSET, "agent"},
	    {"rs/web-7d9f", PLUGIN_KIND_REPLICASET, "web-7d9f"},
	    {"replicasets.apps/web-7d9f", PLUGIN_KIND_REPLICASET, "web-7d9f"},
	    {"job/backup", PLUGIN_KIND_JOB, "backup"},
	    {"jobs.batch/backup", PLUGIN_KIND_JOB, "backup"},
	    {"job.v1.batch/backup.x", PLUGIN_KIND_JOB, "backup.x"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct plugin_target t;
		struct recap_error *err = NULL;
		if (plugin_parse_target(ok[i].arg, &t, &err) < 0)
			fail_msg("'%s' refused: %s", ok[i].arg, recap_error_message(err));
		assert_int_equal(t.kind, ok[i].kind);
		assert_string_equal(t.name, ok[i].name);
	}
	static const struct {
		const char *arg, *message;
	} bad[] = {
	    {"svc/web", "'svc/web': unknown kind 'svc'"},
	    {"deployments.v2.apps/web", "unknown kind 'deployments.v2.apps'"},
	    {"deployments.batch/web", "unknown kind 'deployments.batch'"},
	    {"pods.v1/web", "unknown kind 'pods.v1'"},
	    {"deploys/web", "unknown kind 'deploys'"},
	    {"jobs.v1/backup", "unknown kind 'jobs.v1'"},
	    {"/web", "unknown kind ''"},
	    {"deploy/a/b", "'deploy/a/b': 'a/b' is not a deployment's name"},
	    {"sts/DB", "'sts/DB': 'DB' is not a statefulset's name"},
	    {"", "'': '' is not a pod's name"},
	    {"-web", "'-web': '-web' is not a pod's name"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct plugin_target t;
		struct recap_error *err = NULL;
		assert_int_equal(plugin_parse_target(bad[i].arg, &t, &err), -EINVAL);
		if (!strstr(recap_error_message(err), bad[i].message))
			fail_msg("'%s': '%s' lacks '%s'", bad[i].arg, recap_error_message(err),
				 bad[i].message);
		recap_error_free(err);
	}
}

/* run's positional targets: pods join --pod's, workloads wait for resolving. */
static void run_targets(void **state)
{
	struct run_args a;
	RUN_OK(&a, "img", "deploy/web", "web-1", "--pod", "web-3", "pod/web-2", "sts/db", "po/web-1", "web-3",
	       "--", "ps");
	assert_string_equal(a.image, "img");
	assert_int_equal(json_array_size(a.pods), 3);
	assert_string_equal(json_string_value(json_array_get(a.pods, 0)), "web-3");
	assert_string_equal(json_string_value(json_array_get(a.pods, 1)), "web-1");
	assert_string_equal(json_string_value(json_array_get(a.pods, 2)), "web-2");
	assert_int_equal(a.nworkloads, 2);
	assert_int_equal(a.workloads[0].kind, PLUGIN_KIND_DEPLOYMENT);
	assert_string_equal(a.workloads[0].name, "web");
	assert_int_equal(a.workloads[1].kind, PLUGIN_KIND_STATEFULSET);
	assert_int_equal(a.ncommand, 1);
	run_args_free(&a);
	/* a workload alone is a whole target list */
	RUN_OK(&a, "img", "job/backup", "-c", "app");
	assert_null(a.pods);
	assert_int_equal(a.nworkloads, 1);
	assert_int_equal(a.workloads[0].kind, PLUGIN_KIND_JOB);
	assert_string_equal(a.container, "app");
	run_args_free(&a);
	/* with --capsule every positional is a target */
	RUN_OK(&a, "--capsule", "whoami", "ds/agent", "web-1");
	assert_null(a.image);
	assert_int_equal(a.nworkloads, 1);
	assert_int_equal(a.workloads[0].kind, PLUGIN_KIND_DAEMONSET);
	assert_int_equal(json_array_size(a.pods), 1);
	run_args_free(&a);

	char *argv[PLUGIN_MAX_WORKLOADS + 4];
	char names[PLUGIN_MAX_WORKLOADS + 1][16];
	int n = 0;
	argv[n++] = "run";
	argv[n++] = "img";
	for (int i = 0; i <= PLUGIN_MAX_WORKLOADS; i++) {
		snprintf(names[i], sizeof(names[i]), "deploy/d%d", i);
		argv[n++] = names[i];
	}
	argv[n] = NULL;
	char msg[256];
	assert_int_equal(parse_run(argv, n, &a, msg, sizeof(msg)), -E2BIG);
	assert_string_equal(msg, "run: more than 32 workloads");
	run_args_free(&a);
}

static void run_refusals(void **state)
{
	RUN_FAILS("missing IMAGE", "--pod", "a");
	RUN_FAILS("--pod NAME, or as -l SELECTOR (one of them)", "img");
	RUN_FAILS("--pod NAME, or as -l SELECTOR (one of them)", "img", "--pod", "a", "-l", "x=y");
	RUN_FAILS("--pod NAME, or as -l SELECTOR (one of them)", "img", "deploy/web", "-l", "x=y");
	RUN_FAILS("not both", "img:1", "--capsule", "c");
	RUN_FAILS("not both", "--capsule", "c", "reg.local/img@sha256:0");
	RUN_FAILS("are the Capsule's own", "--capsule", "c", "-l", "a=b");
	RUN_FAILS("are the Capsule's own", "--capsule", "c", "--", "true");
	RUN_FAILS("run: 'svc/web': unknown kind 'svc' (a target is POD or KIND/NAME, KIND one of pod, "
		  "deployment (deploy), statefulset (sts), daemonset (ds), replicaset (rs), job)",
		  "img", "svc/web");
	RUN_FAILS("run: 'deploy/': '' is not a deployment's name", "img", "deploy/");
	RUN_FAILS("run: 'Web_1': 'Web_1' is not a pod's name", "img", "Web_1");
	RUN_FAILS("--target-fs 'rw': must be None, ReadOnly or ReadWrite", "img", "--pod", "a", "--target-fs",
		  "rw");
	RUN_FAILS("'mnt' is not one of", "img", "--pod", "a", "--join", "net,mnt");
	RUN_FAILS("'pid' given twice", "img", "--pod", "a", "--join", "pid,pid");
	RUN_FAILS("not a capability name", "img", "--pod", "a", "--cap-add", "CAP_NET_RAW");
	RUN_FAILS("not a capability name", "img", "--pod", "a", "--cap-add", "net_raw");
	RUN_FAILS("--cap-drop 'chown': not a capability name", "img", "--pod", "a", "--cap-drop", "chown");
	RUN_FAILS("--cap-add: ALL can only be dropped", "img", "--pod", "a", "--cap-add", "ALL");
	RUN_FAILS("--cap-drop", "--capsule", "c", "--cap-drop", "NET_RAW");
	RUN_FAILS("--timeout '0': must be a whole number from 1 to 86400", "img", "--pod", "a", "--timeout",
		  "0");
	RUN_FAILS("--timeout '5s'", "img", "--pod", "a", "--timeout", "5s");
	RUN_FAILS("--strategy 'Serial'", "img", "--pod", "a", "--strategy", "Serial");
	RUN_FAILS("--max-concurrent needs --strategy Iterative", "img", "--pod", "a", "--max-concurrent",
		  "2");
	RUN_FAILS("--rm needs to wait", "img", "--pod", "a", "--rm", "--no-wait");
	RUN_FAILS("--env 'X': must be NAME=VALUE", "img", "--pod", "a", "--env", "X");
	RUN_FAILS("--image-pull-secret 'Reg_Cred': must be a Secret's name", "img", "--pod", "a",
		  "--image-pull-secret", "Reg_Cred");
	RUN_FAILS("--image-pull-secret: more than 8", "img", "--pod", "a", "--image-pull-secret", "a1",
		  "--image-pull-secret", "a2", "--image-pull-secret", "a3", "--image-pull-secret", "a4",
		  "--image-pull-secret", "a5", "--image-pull-secret", "a6", "--image-pull-secret", "a7",
		  "--image-pull-secret", "a8", "--image-pull-secret", "a9");
	RUN_FAILS("are the Capsule's own", "--capsule", "c", "--image-pull-secret", "regcred");
	RUN_FAILS("-o 'wide': must be json or yaml", "img", "--pod", "a", "-o", "wide");
	RUN_FAILS("unknown flag --bogus", "img", "--pod", "a", "--bogus");
	RUN_FAILS("flag --pod needs a value", "img", "--pod");
}

static void pod_limit(void **state)
{
	char *argv[2 * PLUGIN_MAX_PODS + 8];
	char names[PLUGIN_MAX_PODS + 1][16];
	int n = 0;
	argv[n++] = "run";
	argv[n++] = "img";
	for (int i = 0; i <= PLUGIN_MAX_PODS; i++) {
		snprintf(names[i], sizeof(names[i]), "p%d", i);
		argv[n++] = "--pod";
		argv[n++] = names[i];
	}
	argv[n] = NULL;
	struct run_args a;
	char msg[256];
	assert_int_equal(parse_run(argv, n, &a, msg, sizeof(msg)), -E2BIG);
	assert_non_null(strstr(msg, "more than 1000 pods"));
	run_args_free(&a);
}

static void help_wins(void **state)
{
	struct run_args a;
	RUN_OK(&a, "--help");
	assert_true(a.g.help);
	run_args_free(&a);
}

static int parse_attach(char **argv, struct attach_args *a, char *msg, size_t size)
{
	struct recap_error *err = NULL;
	*a = (struct attach_args){0};
	int r = plugin_parse_attach(ARGC(argv), argv, a, &err);
	snprintf(msg, size, "%s", err ? recap_error_message(err) : "");
	recap_error_free(err);
	return r;
}

static void attach_flags(void **state)
{
	char m[256];
	struct attach_args a;
	char **v = ARGV("-n", "shop", "web-1", "--image", "img", "-c", "app", "--target-fs", "None", "--join",
			"net,pid", "--cap-add", "SYS_PTRACE", "--cap-drop", "CHOWN,FOWNER", "--timeout",
			"600", "--idle-timeout", "60", "--rm=false", "--", "bash", "-l");
	assert_int_equal(parse_attach(v, &a, m, sizeof(m)), 0);
	assert_string_equal(a.pod, "web-1");
	assert_string_equal(a.r.g.ns, "shop");
	assert_string_equal(a.r.image, "img");
	assert_string_equal(a.r.container, "app");
	assert_string_equal(a.r.target_fs, "None");
	assert_true(a.r.interactive);
	assert_false(a.r.rm);
	assert_false(a.dry_run);
	assert_int_equal(a.r.timeout_s, 600);
	assert_int_equal(a.r.idle_timeout_s, 60);
	assert_int_equal(json_array_size(a.r.pods), 1);
	assert_string_equal(json_string_value(json_array_get(a.r.pods, 0)), "web-1");
	assert_int_equal(json_array_size(a.r.join), 2);
	assert_string_equal(json_string_value(json_array_get(a.r.caps, 0)), "SYS_PTRACE");
	assert_int_equal(json_array_size(a.r.caps_drop), 2);
	assert_int_equal(a.r.ncommand, 2);
	assert_string_equal(a.r.command[0], "bash");
	attach_args_free(&a);

	/* the defaults: --rm, an hour, 15 minutes idle, no command (sh) */
	char **w = ARGV("web-1", "--image", "img", "--dry-run");
	assert_int_equal(parse_attach(w, &a, m, sizeof(m)), 0);
	assert_true(a.r.rm);
	assert_true(a.dry_run);
	assert_int_equal(a.r.timeout_s, 3600);
	assert_int_equal(a.r.idle_timeout_s, 900);
	assert_int_equal(a.r.ncommand, 0);
	assert_null(a.r.container);
	attach_args_free(&a);
	char **x = ARGV("web-1", "--image", "img", "--rm");
	assert_int_equal(parse_attach(x, &a, m, sizeof(m)), 0);
	assert_true(a.r.rm);
	attach_args_free(&a);

	/* pod/POD is the pod; a workload's pod is picked later */
	char **y = ARGV("pod/web-2", "--image", "img");
	assert_int_equal(parse_attach(y, &a, m, sizeof(m)), 0);
	assert_string_equal(a.pod, "web-2");
	assert_string_equal(json_string_value(json_array_get(a.r.pods, 0)), "web-2");
	attach_args_free(&a);
	char **z = ARGV("deployments.apps/web", "--image", "img", "-c", "app");
	assert_int_equal(parse_attach(z, &a, m, sizeof(m)), 0);
	assert_null(a.pod);
	assert_null(a.r.pods);
	assert_int_equal(a.target.kind, PLUGIN_KIND_DEPLOYMENT);
	assert_string_equal(a.target.name, "web");
	assert_int_equal(plugin_attach_set_pod(&a, "web-abc12"), 0);
	assert_string_equal(a.pod, "web-abc12");
	assert_string_equal(json_string_value(json_array_get(a.r.pods, 0)), "web-abc12");
	attach_args_free(&a);
}

static void attach_refusals(void **state)
{
	const struct {
		char **argv;
		const char *message;
	} cases[] = {
	    {ARGV("web-1"), "attach: missing --image (the capsule image to attach)"},
	    {ARGV("--image", "img"), "attach: needs exactly one POD (the command goes after --)"},
	    {ARGV("a", "b", "--image", "img"), "attach: needs exactly one POD (the command goes after --)"},
	    {ARGV("a", "--image", "img", "--rm=maybe"), "--rm='maybe': must be true or false"},
	    {ARGV("a", "--image", "img", "--idle-timeout", "5"),
	     "--idle-timeout '5': must be a whole number from 10 to 86400"},
	    {ARGV("a", "--image", "img", "--timeout", "0"),
	     "--timeout '0': must be a whole number from 1 to 86400"},
	    {ARGV("a", "--image", "img", "--target-fs", "rw"),
	     "--target-fs 'rw': must be None, ReadOnly or ReadWrite"},
	    {ARGV("a", "--image", "img", "--join", "mnt"),
	     "--join 'mnt': 'mnt' is not one of net, pid, ipc, uts, cgroup"},
	    {ARGV("a", "--image", "img", "--cap-add", "ALL"),
	     "--cap-add: ALL can only be dropped (--cap-drop ALL)"},
	    {ARGV("a", "--image", "img", "--caplet-namespace", "x"),
	     "attach: unknown flag --caplet-namespace"},
	    {ARGV("a", "--image", "img", "--env", "A=b"), "attach: unknown flag --env"},
	    {ARGV("a", "--image", "img", "--"), "attach: no command after --"},
	    {ARGV("cronjob/x", "--image", "img"), "attach: 'cronjob/x': unknown kind 'cronjob'"},
	    {ARGV("deploy/", "--image", "img"), "attach: 'deploy/': '' is not a deployment's name"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char m[256];
		struct attach_args a;
		if (parse_attach(cases[i].argv, &a, m, sizeof(m)) >= 0)
			fail_msg("case %zu accepted", i);
		if (!strstr(m, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, m, cases[i].message);
		attach_args_free(&a);
	}
}

static void simple_verbs(void **state)
{
	struct simple_args a = {0};
	struct recap_error *err = NULL;
	char **v = ARGV("r1", "-o", "json");
	assert_int_equal(plugin_parse_simple(ARGC(v), v, "logs", true, true, false, &a, &err), 0);
	assert_string_equal(a.name, "r1");
	assert_int_equal(a.g.output, PLUGIN_OUT_JSON);
	struct simple_args b = {0};
	char **w = ARGV("r1", "-o", "json");
	assert_int_equal(plugin_parse_simple(ARGC(w), w, "cancel", true, false, false, &b, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "cancel: unknown flag"));
	recap_error_free(err);
	err = NULL;
	struct simple_args c = {0};
	char **x = ARGV("r1");
	assert_int_equal(plugin_parse_simple(ARGC(x), x, "ls", false, true, true, &c, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "ls: unexpected argument 'r1'");
	recap_error_free(err);
	err = NULL;
	struct simple_args d = {0}, e = {0};
	char **y = ARGV("r1", "--raw");
	assert_int_equal(plugin_parse_simple(ARGC(y), y, "logs", true, true, false, &d, &err), 0);
	assert_true(d.g.raw);
	char **z = ARGV("--raw");
	assert_int_equal(plugin_parse_simple(ARGC(z), z, "ls", false, true, true, &e, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "ls: unknown flag --raw (see --help)");
	recap_error_free(err);
	err = NULL;
	struct simple_args f = {0}, g = {0}, h = {0}, i = {0};
	char **l = ARGV("r1", "-f", "--target", "web-1", "--limit-bytes", "100");
	assert_int_equal(plugin_parse_simple(ARGC(l), l, "logs", true, true, false, &f, &err), 0);
	assert_true(f.follow);
	assert_string_equal(f.target, "web-1");
	assert_int_equal(f.limit_bytes, 100);
	char **m = ARGV("r1", "--limit-bytes", "0");
	assert_int_equal(plugin_parse_simple(ARGC(m), m, "logs", true, true, false, &g, &err), -EINVAL);
	assert_string_equal(recap_error_message(err),
			    "logs: --limit-bytes '0' is not a number of bytes above 0");
	recap_error_free(err);
	err = NULL;
	char **n = ARGV("r1", "-f", "-o", "json");
	assert_int_equal(plugin_parse_simple(ARGC(n), n, "logs", true, true, false, &h, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "-o json|yaml shows the status tails"));
	recap_error_free(err);
	err = NULL;
	char **o = ARGV("-f");
	assert_int_equal(plugin_parse_simple(ARGC(o), o, "ls", false, true, true, &i, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "ls: unknown flag -f (see --help)");
	recap_error_free(err);
	err = NULL;
	/* -w watches lists only */
	struct simple_args j = {0}, k = {0}, q = {0};
	char **p = ARGV("-w", "-A", "-o", "yaml");
	assert_int_equal(plugin_parse_simple(ARGC(p), p, "ls", false, true, true, &j, &err), 0);
	assert_true(j.watch);
	assert_true(j.all_namespaces);
	char **r = ARGV("--watch");
	assert_int_equal(plugin_parse_simple(ARGC(r), r, "ls", false, true, true, &k, &err), 0);
	assert_true(k.watch);
	char **t = ARGV("r1", "-w");
	assert_int_equal(plugin_parse_simple(ARGC(t), t, "describe", true, false, false, &q, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "describe: unknown flag -w (see --help)");
	recap_error_free(err);
}

static void cp_sources(void **state)
{
	struct {
		const char *src, *run, *pod, *path;
	} ok[] = {
	    {"r1:/out", "r1", "", ""},
	    {"r1:/out/", "r1", "", ""},
	    {"r1:web-1:/out/capture.pcap", "r1", "web-1", "capture.pcap"},
	    {"r1:/out//d/./blob/", "r1", "", "d/blob"},
	    {"r1:web-1:/out/a..b", "r1", "web-1", "a..b"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct cp_args a = {0};
		struct recap_error *err = NULL;
		assert_int_equal(plugin_parse_cp_source(ok[i].src, &a, &err), 0);
		assert_string_equal(a.run, ok[i].run);
		assert_string_equal(a.pod, ok[i].pod);
		assert_string_equal(a.path, ok[i].path);
	}
	struct {
		const char *src, *msg;
	} bad[] = {
	    {"r1:web-1:/etc/passwd", "cp: 'r1:web-1:/etc/passwd': a run's files are under /out "
				     "(RUN[:POD]:/out/PATH), not /etc/passwd"},
	    {"r1:/output/x", "cp: 'r1:/output/x': a run's files are under /out (RUN[:POD]:/out/PATH), "
			     "not /output/x"},
	    {"r1:/out/d/../../etc", "cp: 'r1:/out/d/../../etc': '..' is not allowed in the path"},
	    {"r1:web-1:out/x", "cp: 'r1:web-1:out/x': a run's files are under /out (RUN[:POD]:/out/PATH), "
			       "not out/x"},
	    {"/out/x", "cp: '/out/x': the source is RUN[:POD]:/out/PATH"},
	    {"r1::/out", "cp: 'r1::/out': empty POD in RUN:POD:/out/PATH"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cp_args a = {0};
		struct recap_error *err = NULL;
		assert_int_equal(plugin_parse_cp_source(bad[i].src, &a, &err), -EINVAL);
		assert_string_equal(recap_error_message(err), bad[i].msg);
		recap_error_free(err);
	}
	struct cp_args a = {0}, b = {0};
	struct recap_error *err = NULL;
	char **v = ARGV("-n", "shop", "r1:web-1:/out/x", "-");
	assert_int_equal(plugin_parse_cp(ARGC(v), v, &a, &err), 0);
	assert_string_equal(a.g.ns, "shop");
	assert_string_equal(a.dest, "-");
	char **w = ARGV("r1:/out/x");
	assert_int_equal(plugin_parse_cp(ARGC(w), w, &b, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "cp: needs RUN[:POD]:/out/PATH and DEST");
	recap_error_free(err);
}

static void run_no_stream(void **state)
{
	struct run_args a = {0}, b = {0};
	struct recap_error *err = NULL;
	char **v = ARGV("img", "--pod", "p", "--no-stream");
	assert_int_equal(plugin_parse_run(ARGC(v), v, &a, &err), 0);
	assert_true(a.no_stream);
	run_args_free(&a);
	char **w = ARGV("img", "--pod", "p", "--no-stream", "--no-wait");
	assert_int_equal(plugin_parse_run(ARGC(w), w, &b, &err), -EINVAL);
	assert_string_equal(recap_error_message(err), "run: --no-stream is about waiting (drop --no-wait)");
	recap_error_free(err);
	run_args_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(adhoc_run_with_everything),
	    cmocka_unit_test(pods_and_positional_anywhere),
	    cmocka_unit_test(target_kinds),
	    cmocka_unit_test(run_targets),
	    cmocka_unit_test(run_refusals),
	    cmocka_unit_test(pod_limit),
	    cmocka_unit_test(help_wins),
	    cmocka_unit_test(attach_flags),
	    cmocka_unit_test(attach_refusals),
	    cmocka_unit_test(simple_verbs),
	    cmocka_unit_test(cp_sources),
	    cmocka_unit_test(run_no_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
