/* Command-line parsing for kubectl-capsule: pure, see args.h. */
#include "args.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"

enum {
	OPT_KUBECONFIG = 256,
	OPT_CONTEXT,
	OPT_CLUSTER,
	OPT_USER,
	OPT_AS,
	OPT_AS_GROUP,
	OPT_AS_UID,
	OPT_REQUEST_TIMEOUT,
	OPT_POD,
	OPT_CAPSULE,
	OPT_JOIN,
	OPT_TARGET_FS,
	OPT_CAP_ADD,
	OPT_CAP_DROP,
	OPT_ENV,
	OPT_PULL_SECRET,
	OPT_TIMEOUT,
	OPT_STRATEGY,
	OPT_MAX_CONCURRENT,
	OPT_RM,
	OPT_NO_WAIT,
	OPT_WAIT_TIMEOUT,
	OPT_IMAGE,
	OPT_IDLE_TIMEOUT,
	OPT_DRY_RUN,
	OPT_RAW,
	OPT_TARGET,
	OPT_LIMIT_BYTES,
	OPT_TAILS,
	OPT_NO_STREAM,
	OPT_CLIENT,
};

#define GLOBAL_OPTIONS                                                                                       \
	{"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},                                             \
	    {"context", required_argument, NULL, OPT_CONTEXT}, {"namespace", required_argument, NULL, 'n'},  \
	    {"cluster", required_argument, NULL, OPT_CLUSTER}, {"user", required_argument, NULL, OPT_USER},  \
	    {"as", required_argument, NULL, OPT_AS}, {"as-group", required_argument, NULL, OPT_AS_GROUP},    \
	    {"as-uid", required_argument, NULL, OPT_AS_UID},                                                 \
	    {"request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT},                               \
	{                                                                                                    \
		"help", no_argument, NULL, 'h'                                                               \
	}

/* argv up to the first "--" is parsed; the rest is the command. getopt
 * permutes its array, so it gets a copy. */
struct argscan {
	char **argv;
	int argc;
	char **command;
	int ncommand;
};

static int scan_begin(struct argscan *s, int argc, char **argv)
{
	int dd = 1;
	while (dd < argc && strcmp(argv[dd], "--") != 0)
		dd++;
	s->argv = calloc(dd + 1, sizeof(char *));
	if (!s->argv)
		return -ENOMEM;
	memcpy(s->argv, argv, dd * sizeof(char *));
	s->argc = dd;
	s->command = dd < argc ? argv + dd + 1 : NULL;
	s->ncommand = dd < argc ? argc - dd - 1 : 0;
	optind = 0; /* GNU: full re-initialisation */
	opterr = 0;
	return 0;
}

static int bad_option(const char *verb, int c, char **argv, struct recap_error **err)
{
	const char *arg = argv[optind - 1];
	if (c == ':')
		return recap_error_set(err, EINVAL, "%s: flag %s needs a value", verb, arg);
	return recap_error_set(err, EINVAL, "%s: unknown flag %s (see --help)", verb, arg);
}

static int parse_output(const char *v, enum plugin_output *ret, struct recap_error **err)
{
	if (strcmp(v, "json") == 0)
		*ret = PLUGIN_OUT_JSON;
	else if (strcmp(v, "yaml") == 0)
		*ret = PLUGIN_OUT_YAML;
	else
		return recap_error_set(err, EINVAL, "-o '%s': must be json or yaml", v);
	return 0;
}

/* 1: a global flag, handled; 0: not a global flag. */
static int apply_global(struct plugin_globals *g, int c, const char *v)
{
	switch (c) {
	case OPT_KUBECONFIG:
		g->kubeconfig = v;
		return 1;
	case OPT_CONTEXT:
		g->context = v;
		return 1;
	case OPT_CLUSTER:
		g->cluster = v;
		return 1;
	case OPT_USER:
		g->user = v;
		return 1;
	case OPT_AS:
		g->as = v;
		return 1;
	case OPT_AS_UID:
		g->as_uid = v;
		return 1;
	case OPT_AS_GROUP:
		if (g->n_as_groups < PLUGIN_MAX_AS_GROUPS)
			g->as_groups[g->n_as_groups] = v;
		g->n_as_groups++;
		return 1;
	case OPT_REQUEST_TIMEOUT:
		g->request_timeout = v;
		return 1;
	case 'n':
		g->ns = v;
		return 1;
	case 'h':
		g->help = true;
		return 1;
	default:
		return 0;
	}
}

static int parse_long(const char *flag, const char *v, long min, long max, long *ret,
		      struct recap_error **err)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return recap_error_set(err, EINVAL, "%s '%s': must be a whole number from %ld to %ld", flag,
				       v, min, max);
	*ret = n;
	return 0;
}

static enum recap_api_strategy_type strategy_type(const char *v)
{
	return (enum recap_api_strategy_type)recap_api_enum_index(recap_api_strategy_type_names,
								  RECAP_API_STRATEGY_TYPE_COUNT, v);
}

int plugin_check_target_fs(const char *v, struct recap_error **err)
{
	if (recap_api_enum_index(recap_api_target_filesystem_names, RECAP_API_TARGET_FILESYSTEM_COUNT, v) ==
	    RECAP_API_TARGET_FILESYSTEM_COUNT)
		return recap_error_set(err, EINVAL, "--target-fs '%s': must be None, ReadOnly or ReadWrite",
				       v);
	return 0;
}

static bool in_list(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(v, *list) == 0)
			return true;
	return false;
}

int plugin_check_join(const char *list, json_t **ret, struct recap_error **err)
{
	static const char *const kinds[] = {"net", "pid", "ipc", "uts", "cgroup", NULL};
	_cleanup_free_ char *copy = strdup(list);
	_cleanup_json_ json_t *arr = json_array();
	if (!copy || !arr)
		return -ENOMEM;
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!in_list(t, kinds))
			return recap_error_set(err, EINVAL,
					       "--join '%s': '%s' is not one of net, pid, ipc, uts, cgroup",
					       list, t);
		for (size_t i = 0; i < json_array_size(arr); i++)
			if (strcmp(json_string_value(json_array_get(arr, i)), t) == 0)
				return recap_error_set(err, EINVAL, "--join '%s': '%s' given twice", list, t);
		json_array_append_new(arr, json_string(t));
	}
	if (json_array_size(arr) == 0)
		return recap_error_set(err, EINVAL, "--join '%s': no namespace named", list);
	if (ret)
		*ret = steal_ptr(arr);
	return 0;
}

static bool cap_name_ok(const char *t)
{
	if (!*t)
		return false;
	for (const char *p = t; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || *p == '_' || (*p >= '0' && *p <= '9')))
			return false;
	return strncmp(t, "CAP_", 4) != 0;
}

int plugin_check_caps(const char *flag, const char *list, json_t *into, struct recap_error **err)
{
	_cleanup_free_ char *copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!cap_name_ok(t))
			return recap_error_set(err, EINVAL,
					       "%s '%s': not a capability name (upper case, without CAP_, "
					       "e.g. NET_RAW)",
					       flag, t);
		if (!strcmp(t, "ALL") && strcmp(flag, "--cap-drop") != 0)
			return recap_error_set(err, EINVAL, "%s: ALL can only be dropped (--cap-drop ALL)",
					       flag);
		if (into && json_array_size(into) >= PLUGIN_MAX_CAPS)
			return recap_error_set(err, E2BIG, "%s: more than %d capabilities", flag,
					       PLUGIN_MAX_CAPS);
		if (into)
			json_array_append_new(into, json_string(t));
	}
	return 0;
}

static int add_pods(struct run_args *a, const char *list, struct recap_error **err)
{
	_cleanup_free_ char *copy = strdup(list);
	if (!copy || (!a->pods && !(a->pods = json_array())))
		return -ENOMEM;
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;
		json_t *p;
		bool twice = false;
		json_array_foreach (a->pods, i, p)
			twice = twice || strcmp(json_string_value(p), t) == 0;
		if (twice)
			continue; /* a target once: pod/web-1 web-1 is one pod */
		if (json_array_size(a->pods) >= PLUGIN_MAX_PODS)
			return recap_error_set(err, E2BIG, "--pod: more than %d pods", PLUGIN_MAX_PODS);
		json_array_append_new(a->pods, json_string(t));
	}
	return 0;
}

/* A positional target of run: a pod joins --pod's, a workload waits to be
 * resolved. */
static int add_target(struct run_args *a, const char *arg, struct recap_error **err)
{
	struct plugin_target t;
	int r = plugin_parse_target(arg, &t, err);
	if (r < 0)
		return recap_error_wrap(err, r, "run");
	if (t.kind == PLUGIN_KIND_POD)
		return add_pods(a, t.name, err);
	if (a->nworkloads >= PLUGIN_MAX_WORKLOADS)
		return recap_error_set(err, E2BIG, "run: more than %d workloads", PLUGIN_MAX_WORKLOADS);
	a->workloads[a->nworkloads++] = t;
	return 0;
}

static int add_env(struct run_args *a, const char *kv, struct recap_error **err)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return recap_error_set(err, EINVAL, "--env '%s': must be NAME=VALUE", kv);
	if (!a->env && !(a->env = json_array()))
		return -ENOMEM;
	if (json_array_size(a->env) >= PLUGIN_MAX_ENV)
		return recap_error_set(err, E2BIG, "--env: more than %d variables", PLUGIN_MAX_ENV);
	json_t *name = json_stringn(kv, eq - kv);
	return json_array_append_new(a->env, json_pack("{s:o,s:s}", "name", name, "value", eq + 1));
}

/* A Secret name, as the Capsule's schema takes it (DNS subdomain). */
static int add_pull_secret(struct run_args *a, const char *name, struct recap_error **err)
{
	size_t n = strlen(name);
	bool ok = n > 0 && n <= 253 && strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n &&
		  name[0] != '-' && name[0] != '.' && name[n - 1] != '-' && name[n - 1] != '.';
	if (!ok)
		return recap_error_set(
		    err, EINVAL,
		    "--image-pull-secret '%s': must be a Secret's name (lower case letters, "
		    "digits, '-' and '.')",
		    name);
	if (!a->pull_secrets && !(a->pull_secrets = json_array()))
		return -ENOMEM;
	if (json_array_size(a->pull_secrets) >= PLUGIN_MAX_PULL_SECRETS)
		return recap_error_set(err, EINVAL, "--image-pull-secret: more than %d",
				       PLUGIN_MAX_PULL_SECRETS);
	return json_array_append_new(a->pull_secrets, json_pack("{s:s}", "name", name));
}

static int apply_run_option(struct run_args *a, int c, const char *v, struct recap_error **err)
{
	switch (c) {
	case OPT_POD:
		return add_pods(a, v, err);
	case 'l':
		a->selector = v;
		return 0;
	case 'c':
		a->container = v;
		return 0;
	case OPT_CAPSULE:
		a->capsule = v;
		return 0;
	case OPT_JOIN:
		json_decref(a->join);
		a->join = NULL;
		return plugin_check_join(v, &a->join, err);
	case OPT_TARGET_FS:
		a->target_fs = v;
		return plugin_check_target_fs(v, err);
	case OPT_CAP_ADD:
		if (!a->caps && !(a->caps = json_array()))
			return -ENOMEM;
		return plugin_check_caps("--cap-add", v, a->caps, err);
	case OPT_CAP_DROP:
		if (!a->caps_drop && !(a->caps_drop = json_array()))
			return -ENOMEM;
		return plugin_check_caps("--cap-drop", v, a->caps_drop, err);
	case OPT_ENV:
		return add_env(a, v, err);
	case OPT_PULL_SECRET:
		return add_pull_secret(a, v, err);
	case OPT_TIMEOUT:
		return parse_long("--timeout", v, 1, 86400, &a->timeout_s, err);
	case OPT_STRATEGY:
		a->strategy = v;
		if (strategy_type(v) == RECAP_API_STRATEGY_TYPE_COUNT)
			return recap_error_set(err, EINVAL, "--strategy '%s': must be Parallel or Iterative",
					       v);
		return 0;
	case OPT_MAX_CONCURRENT:
		return parse_long("--max-concurrent", v, 1, 1000, &a->max_concurrent, err);
	case OPT_RM:
		a->rm = true;
		return 0;
	case OPT_NO_WAIT:
		a->no_wait = true;
		return 0;
	case OPT_NO_STREAM:
		a->no_stream = true;
		return 0;
	case OPT_WAIT_TIMEOUT:
		return parse_long("--wait-timeout", v, 0, 7 * 86400, &a->wait_timeout_s, err);
	case 'o':
		return parse_output(v, &a->g.output, err);
	case OPT_RAW:
		a->g.raw = true;
		return 0;
	default:
		return -ENOENT;
	}
}

/* What an ad hoc run and a fired Capsule each accept. */
static int check_run(struct run_args *a, struct recap_error **err)
{
	if (a->rm && a->no_wait)
		return recap_error_set(err, EINVAL, "run: --rm needs to wait for the run (drop --no-wait)");
	if (a->no_stream && a->no_wait)
		return recap_error_set(err, EINVAL, "run: --no-stream is about waiting (drop --no-wait)");
	if (a->max_concurrent && strategy_type(a->strategy) != RECAP_API_STRATEGY_TYPE_ITERATIVE)
		return recap_error_set(err, EINVAL, "run: --max-concurrent needs --strategy Iterative");
	if (a->capsule) {
		if (a->image)
			return recap_error_set(err, EINVAL, "run: give an IMAGE or --capsule NAME, not both");
		if (a->selector || a->container || a->join || a->target_fs || a->caps || a->caps_drop ||
		    a->env || a->pull_secrets || a->timeout_s || a->strategy || a->ncommand)
			return recap_error_set(
			    err, EINVAL,
			    "run --capsule: -l, --container, --join, --target-fs, --cap-add, --cap-drop, "
			    "--env, --image-pull-secret, --timeout, --strategy and a command are the "
			    "Capsule's own (only --pod may narrow its targets)");
		return 0;
	}
	if (!a->image)
		return recap_error_set(err, EINVAL, "run: missing IMAGE (or --capsule NAME)");
	if (!(a->pods || a->nworkloads) == !a->selector)
		return recap_error_set(err, EINVAL,
				       "run: give the targets as POD, KIND/NAME (deploy/web, sts/db, ...) "
				       "and --pod NAME, or as -l SELECTOR (one of them)");
	return 0;
}

int plugin_parse_run(int argc, char **argv, struct run_args *a, struct recap_error **err)
{
	static const struct option opts[] = {
	    GLOBAL_OPTIONS,
	    {"output", required_argument, NULL, 'o'},
	    {"selector", required_argument, NULL, 'l'},
	    {"container", required_argument, NULL, 'c'},
	    {"pod", required_argument, NULL, OPT_POD},
	    {"capsule", required_argument, NULL, OPT_CAPSULE},
	    {"join", required_argument, NULL, OPT_JOIN},
	    {"target-fs", required_argument, NULL, OPT_TARGET_FS},
	    {"cap-add", required_argument, NULL, OPT_CAP_ADD},
	    {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
	    {"env", required_argument, NULL, OPT_ENV},
	    {"image-pull-secret", required_argument, NULL, OPT_PULL_SECRET},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"strategy", required_argument, NULL, OPT_STRATEGY},
	    {"max-concurrent", required_argument, NULL, OPT_MAX_CONCURRENT},
	    {"rm", no_argument, NULL, OPT_RM},
	    {"no-wait", no_argument, NULL, OPT_NO_WAIT},
	    {"no-stream", no_argument, NULL, OPT_NO_STREAM},
	    {"wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT},
	    {"raw", no_argument, NULL, OPT_RAW},
	    {NULL, 0, NULL, 0},
	};
	struct argscan s;
	if (scan_begin(&s, argc, argv) < 0)
		return -ENOMEM;
	_cleanup_free_ char **copy = s.argv;
	a->command = s.command;
	a->ncommand = s.ncommand;
	int c, r = 0;
	while (r >= 0 && (c = getopt_long(s.argc, s.argv, ":n:o:l:c:h", opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return bad_option("run", c, s.argv, err);
		if (!apply_global(&a->g, c, optarg))
			r = apply_run_option(a, c, optarg, err);
	}
	if (r < 0 || a->g.help)
		return r;
	/* IMAGE first, unless --capsule names what runs; the rest are targets */
	int first = optind;
	if (!a->capsule && first < s.argc)
		a->image = s.argv[first++];
	else if (first < s.argc && strpbrk(s.argv[first], ":@"))
		return recap_error_set(err, EINVAL, "run: give an IMAGE or --capsule NAME, not both");
	for (int i = first; r >= 0 && i < s.argc; i++)
		r = add_target(a, s.argv[i], err);
	return r < 0 ? r : check_run(a, err);
}

void run_args_free(struct run_args *a)
{
	json_decref(a->pods);
	json_decref(a->join);
	json_decref(a->caps);
	json_decref(a->caps_drop);
	json_decref(a->env);
	json_decref(a->pull_secrets);
	a->pods = a->join = a->caps = a->caps_drop = a->env = a->pull_secrets = NULL;
}

static int parse_bool(const char *flag, const char *v, bool *ret, struct recap_error **err)
{
	if (!v || strcmp(v, "true") == 0)
		*ret = true;
	else if (strcmp(v, "false") == 0)
		*ret = false;
	else
		return recap_error_set(err, EINVAL, "%s='%s': must be true or false", flag, v);
	return 0;
}

static int apply_attach_option(struct attach_args *a, int c, const char *v, struct recap_error **err)
{
	switch (c) {
	case OPT_IMAGE:
		a->r.image = v;
		return 0;
	case OPT_IDLE_TIMEOUT:
		return parse_long("--idle-timeout", v, 10, 86400, &a->r.idle_timeout_s, err);
	case OPT_RM:
		return parse_bool("--rm", v, &a->r.rm, err);
	case OPT_DRY_RUN:
		a->dry_run = true;
		return 0;
	case 'c':
	case OPT_JOIN:
	case OPT_TARGET_FS:
	case OPT_CAP_ADD:
	case OPT_CAP_DROP:
	case OPT_TIMEOUT:
	case OPT_PULL_SECRET:
		return apply_run_option(&a->r, c, v, err); /* mapped as run maps them */
	default:
		return -ENOENT;
	}
}

int plugin_parse_attach(int argc, char **argv, struct attach_args *a, struct recap_error **err)
{
	static const struct option opts[] = {
	    GLOBAL_OPTIONS,
	    {"container", required_argument, NULL, 'c'},
	    {"image", required_argument, NULL, OPT_IMAGE},
	    {"join", required_argument, NULL, OPT_JOIN},
	    {"target-fs", required_argument, NULL, OPT_TARGET_FS},
	    {"cap-add", required_argument, NULL, OPT_CAP_ADD},
	    {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"image-pull-secret", required_argument, NULL, OPT_PULL_SECRET},
	    {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
	    {"rm", optional_argument, NULL, OPT_RM},
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {NULL, 0, NULL, 0},
	};
	struct argscan s;
	if (scan_begin(&s, argc, argv) < 0)
		return -ENOMEM;
	_cleanup_free_ char **copy = s.argv;
	a->r.command = s.command;
	a->r.ncommand = s.ncommand;
	a->r.interactive = true;
	a->r.rm = true;
	a->r.timeout_s = PLUGIN_ATTACH_TIMEOUT_S;
	a->r.idle_timeout_s = PLUGIN_ATTACH_IDLE_TIMEOUT_S;
	int c, r = 0;
	while (r >= 0 && (c = getopt_long(s.argc, s.argv, ":n:c:h", opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return bad_option("attach", c, s.argv, err);
		if (apply_global(&a->r.g, c, optarg))
			continue;
		r = apply_attach_option(a, c, optarg, err);
	}
	if (r < 0 || a->r.g.help)
		return r;
	if (s.argc - optind != 1)
		return recap_error_set(err, EINVAL,
				       "attach: needs exactly one POD (the command goes after --)");
	r = plugin_parse_target(s.argv[optind], &a->target, err);
	if (r < 0)
		return recap_error_wrap(err, r, "attach");
	a->pod = a->target.kind == PLUGIN_KIND_POD ? a->target.name : NULL;
	if (!a->r.image)
		return recap_error_set(err, EINVAL, "attach: missing --image (the capsule image to attach)");
	if (a->r.ncommand == 0 && s.command)
		return recap_error_set(err, EINVAL, "attach: no command after -- (leave out -- for sh)");
	return plugin_attach_set_pod(a, a->pod);
}

int plugin_attach_set_pod(struct attach_args *a, const char *pod)
{
	if (!pod)
		return 0; /* a workload: set once one of its pods is picked */
	if (pod != a->pod) {
		snprintf(a->picked, sizeof(a->picked), "%s", pod);
		a->pod = a->picked;
	}
	json_decref(a->r.pods);
	a->r.pods = json_pack("[s]", a->pod);
	return a->r.pods ? 0 : -ENOMEM;
}

void attach_args_free(struct attach_args *a)
{
	run_args_free(&a->r);
}

/* logs only: what to stream and how much. */
static int apply_logs(struct simple_args *a, int c, const char *v, struct recap_error **err)
{
	if (c == 'f') {
		a->follow = true;
	} else if (c == OPT_TARGET) {
		a->target = v;
	} else if (c == OPT_TAILS) {
		a->tails = true;
	} else {
		char *end;
		errno = 0;
		long long n = strtoll(v, &end, 10);
		if (errno || end == v || *end || n < 1)
			return recap_error_set(
			    err, EINVAL, "logs: --limit-bytes '%s' is not a number of bytes above 0", v);
		a->limit_bytes = n;
	}
	return 0;
}

int plugin_parse_simple(int argc, char **argv, const char *verb, bool needs_name, bool with_output,
			bool listing, struct simple_args *a, struct recap_error **err)
{
	static const struct option opts[] = {
	    GLOBAL_OPTIONS,
	    {"output", required_argument, NULL, 'o'},
	    {"selector", required_argument, NULL, 'l'},
	    {"all-namespaces", no_argument, NULL, 'A'},
	    {"watch", no_argument, NULL, 'w'},
	    {"client", no_argument, NULL, OPT_CLIENT},
	    {"raw", no_argument, NULL, OPT_RAW},
	    {"follow", no_argument, NULL, 'f'},
	    {"target", required_argument, NULL, OPT_TARGET},
	    {"limit-bytes", required_argument, NULL, OPT_LIMIT_BYTES},
	    {"tails", no_argument, NULL, OPT_TAILS},
	    {NULL, 0, NULL, 0},
	};
	struct argscan s;
	if (scan_begin(&s, argc, argv) < 0)
		return -ENOMEM;
	_cleanup_free_ char **copy = s.argv;
	if (s.command)
		return recap_error_set(err, EINVAL, "%s: takes no command after --", verb);
	bool logs = needs_name && with_output;
	int c, r = 0;
	while (r >= 0 && (c = getopt_long(s.argc, s.argv, ":n:o:l:Afwh", opts, NULL)) != -1) {
		bool logs_only =
		    c == 'f' || c == OPT_TARGET || c == OPT_LIMIT_BYTES || c == OPT_TAILS || c == OPT_RAW;
		if (c == '?' || c == ':' || (c == 'o' && !with_output) ||
		    ((c == 'l' || c == 'A' || c == 'w') && !listing) || (logs_only && !logs) ||
		    (c == OPT_CLIENT && strcmp(verb, "version") != 0))
			return bad_option(verb, c == ':' ? c : '?', s.argv, err);
		if (c == 'o')
			r = parse_output(optarg, &a->g.output, err);
		else if (c == 'l')
			a->selector = optarg;
		else if (c == 'A')
			a->all_namespaces = true;
		else if (c == 'w')
			a->watch = true;
		else if (c == OPT_CLIENT)
			a->client_only = true;
		else if (c == OPT_RAW)
			a->g.raw = true;
		else if (logs_only)
			r = apply_logs(a, c, optarg, err);
		else
			apply_global(&a->g, c, optarg);
	}
	if (r < 0 || a->g.help)
		return r;
	int n = s.argc - optind;
	if (needs_name && n != 1)
		return recap_error_set(err, EINVAL, "%s: needs exactly one CapsuleRun name", verb);
	if (!needs_name && n != 0)
		return recap_error_set(err, EINVAL, "%s: unexpected argument '%s'", verb, s.argv[optind]);
	if (logs && a->tails && (a->follow || a->limit_bytes || a->target))
		return recap_error_set(
		    err, EINVAL, "logs: --tails shows the status tails: no -f, --target or --limit-bytes");
	if (logs && a->g.output != PLUGIN_OUT_TEXT && (a->follow || a->limit_bytes || a->target))
		return recap_error_set(
		    err, EINVAL,
		    "logs: -o json|yaml shows the status tails: no -f, --target or --limit-bytes");
	a->name = needs_name ? s.argv[optind] : NULL;
	return 0;
}

int plugin_parse_cp_source(const char *src, struct cp_args *a, struct recap_error **err)
{
	const char *c1 = strchr(src, ':');
	if (!c1 || c1 == src)
		return recap_error_set(err, EINVAL, "cp: '%s': the source is RUN[:POD]:/out/PATH", src);
	const char *path = c1 + 1, *c2 = strchr(path, ':');
	if (*path != '/' && c2) {
		if (c2 == path)
			return recap_error_set(err, EINVAL, "cp: '%s': empty POD in RUN:POD:/out/PATH", src);
		snprintf(a->pod, sizeof(a->pod), "%.*s", (int)(c2 - path), path);
		if ((size_t)(c2 - path) >= sizeof(a->pod))
			return recap_error_set(err, EINVAL, "cp: '%s': the pod's name is too long", src);
		path = c2 + 1;
	}
	if ((size_t)(c1 - src) >= sizeof(a->run))
		return recap_error_set(err, EINVAL, "cp: '%s': the run's name is too long", src);
	snprintf(a->run, sizeof(a->run), "%.*s", (int)(c1 - src), src);
	if (strncmp(path, "/out", 4) != 0 || (path[4] && path[4] != '/'))
		return recap_error_set(err, EINVAL,
				       "cp: '%s': a run's files are under /out (RUN[:POD]:/out/PATH), not %s",
				       src, path);
	size_t n = 0;
	for (const char *p = path + 4; *p;) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (len == 2 && strncmp(p, "..", 2) == 0)
			return recap_error_set(err, EINVAL, "cp: '%s': '..' is not allowed in the path", src);
		if (len && !(len == 1 && *p == '.')) {
			if (n + len + 2 > sizeof(a->path))
				return recap_error_set(err, ENAMETOOLONG, "cp: '%s': the path is too long",
						       src);
			if (n)
				a->path[n++] = '/';
			memcpy(a->path + n, p, len);
			n += len;
		}
		p += len;
	}
	a->path[n] = '\0';
	return 0;
}

int plugin_parse_cp(int argc, char **argv, struct cp_args *a, struct recap_error **err)
{
	static const struct option opts[] = {
	    GLOBAL_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct argscan s;
	if (scan_begin(&s, argc, argv) < 0)
		return -ENOMEM;
	_cleanup_free_ char **copy = s.argv;
	if (s.command)
		return recap_error_set(err, EINVAL, "cp: takes no command after --");
	int c;
	while ((c = getopt_long(s.argc, s.argv, ":n:h", opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return bad_option("cp", c, s.argv, err);
		apply_global(&a->g, c, optarg);
	}
	if (a->g.help)
		return 0;
	if (s.argc - optind != 2)
		return recap_error_set(err, EINVAL, "cp: needs RUN[:POD]:/out/PATH and DEST");
	a->dest = s.argv[optind + 1];
	if (!*a->dest)
		return recap_error_set(err, EINVAL, "cp: DEST is empty (a path, or - for stdout)");
	return plugin_parse_cp_source(s.argv[optind], a, err);
}
