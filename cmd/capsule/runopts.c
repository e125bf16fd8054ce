#include "runopts.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"

enum {
	OPT_TARGET = 0x200, /* below: the image options of oci_opts.h */
	OPT_IMAGE,
	OPT_LAYERS,
	OPT_JOIN,
	OPT_TARGET_FS,
	OPT_CAP_ADD,
	OPT_CAP_DROP,
	OPT_SECCOMP,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_PIDS,
	OPT_TIMEOUT,
	OPT_TAIL,
	OPT_ENV,
	OPT_ROOT,
	OPT_SPEC_FILE,
	OPT_SPEC_FD,
	OPT_ID,
	OPT_WORKDIR,
	OPT_USER,
	OPT_UPPER_SIZE,
	OPT_OUT_SIZE,
	OPT_LOG_SIZE,
};

static const struct option opts[] = {
    {"target", required_argument, NULL, OPT_TARGET},
    {"image", required_argument, NULL, OPT_IMAGE},
    {"rootfs-layers", required_argument, NULL, OPT_LAYERS},
    {"join", required_argument, NULL, OPT_JOIN},
    {"target-fs", required_argument, NULL, OPT_TARGET_FS},
    {"cap-add", required_argument, NULL, OPT_CAP_ADD},
    {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
    {"seccomp", required_argument, NULL, OPT_SECCOMP},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"upper-size", required_argument, NULL, OPT_UPPER_SIZE},
    {"out-size", required_argument, NULL, OPT_OUT_SIZE},
    {"log-size", required_argument, NULL, OPT_LOG_SIZE},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"pids", required_argument, NULL, OPT_PIDS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"tail-bytes", required_argument, NULL, OPT_TAIL},
    {"env", required_argument, NULL, OPT_ENV},
    {"root", required_argument, NULL, OPT_ROOT},
    {"spec-file", required_argument, NULL, OPT_SPEC_FILE},
    {"spec-fd", required_argument, NULL, OPT_SPEC_FD},
    {"id", required_argument, NULL, OPT_ID},
    {"workdir", required_argument, NULL, OPT_WORKDIR},
    {"user", required_argument, NULL, OPT_USER},
    {"output", required_argument, NULL, 'o'},
    CAPSULE_OCI_LONG_OPTIONS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f, const char *verb)
{
	fprintf(f,
		"usage: capsule %s --target <container-id|pid> (--image REF | --rootfs-layers DIR[:DIR...])\n"
		"         [--join net,pid,ipc,uts,cgroup] [--target-fs none|ro|rw] [--cap-add CAP[,CAP]]\n"
		"         [--cap-drop CAP[,CAP]|ALL] [--seccomp default|unconfined|FILE]\n"
		"         [--memory SIZE] [--cpus N] [--pids N]\n"
		"         [--upper-size SIZE (the writable layer, default 256Mi)]\n"
		"         [--out-size SIZE (the artifacts in /out, default 64Mi)]\n"
		"         [--log-size SIZE (the whole output kept in <root>/logs/<id>, default none)]\n"
		"         [--timeout SECONDS] [--tail-bytes N] [--env K=V] [--workdir DIR] [--user "
		"UID[:GID]] [--id ID]\n"
		"         [-o text|json] [--root DIR] [--spec-file FILE | --spec-fd N] [-- CMD ARGS...]\n"
		"\nimage options (--image is pulled into the store unless it is "
		"there):\n" CAPSULE_OCI_OPTIONS_HELP,
		verb);
}

static int load_spec(struct run_cli *c, const char *file, int fd, struct recap_error **err)
{
	char path[64];
	if (!file) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		file = path;
	}
	_cleanup_json_ json_t *doc = NULL;
	int r = recap_json_load_file(file, RECAP_SPEC_MAX_BYTES, &doc, err);
	if (r >= 0)
		r = recap_spec_from_json(&c->spec, doc, err);
	return r;
}

static int set_string(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

static int apply_limit(struct recap_run_spec *s, int opt, const char *v, struct recap_error **err)
{
	switch (opt) {
	case OPT_MEMORY:
		return recap_spec_parse_bytes(v, &s->memory_bytes, err);
	case OPT_UPPER_SIZE:
		return recap_spec_parse_bytes(v, &s->upper_bytes, err);
	case OPT_OUT_SIZE:
		return recap_spec_parse_bytes(v, &s->out_bytes, err);
	case OPT_LOG_SIZE:
		return recap_spec_parse_bytes(v, &s->log_bytes, err);
	case OPT_CPUS:
		return recap_spec_parse_cpus(v, &s->cpu_millis, err);
	case OPT_PIDS: {
		char *end;
		long long n = strtoll(v, &end, 10);
		if (end == v || *end || n < 0)
			return recap_error_set(err, EINVAL, "bad --pids '%s'", v);
		s->pids = n;
		return 0;
	}
	case OPT_TIMEOUT:
		return recap_spec_parse_seconds(v, &s->timeout_ms, err);
	default: { /* OPT_TAIL */
		int64_t n;
		int r = recap_spec_parse_bytes(v, &n, err);
		s->tail_bytes = r < 0 ? s->tail_bytes : (size_t)n;
		return r;
	}
	}
}

static int apply(struct run_cli *c, int opt, const char *v, struct recap_error **err)
{
	struct recap_run_spec *s = &c->spec;
	switch (opt) {
	case OPT_TARGET:
		s->target_pid = 0; /* confirmed for the spec's target, not this one */
		return set_string(&s->target, v);
	case OPT_IMAGE:
		return set_string(&s->image, v);
	case OPT_ID:
		return set_string(&s->id, v);
	case OPT_USER:
		return recap_spec_parse_user(v, &s->uid, &s->gid, err);
	case OPT_WORKDIR:
		return set_string(&s->workdir, v);
	case OPT_LAYERS:
		return recap_spec_split_layers(v, &s->layers, err);
	case OPT_JOIN:
		return recap_spec_parse_join(v, &s->join, err);
	case OPT_TARGET_FS:
		return recap_spec_parse_target_fs(v, &s->target_fs, err);
	case OPT_CAP_ADD:
		return recap_spec_parse_caps(v, false, &s->cap_add, err);
	case OPT_CAP_DROP:
		return recap_spec_parse_caps(v, true, &s->cap_drop, err);
	case OPT_SECCOMP:
		return recap_spec_parse_seccomp(s, v, err);
	case OPT_ENV:
		return recap_strv_push(&s->env, v) < 0 ? recap_error_set(err, E2BIG, "too many --env") : 0;
	case OPT_ROOT:
		c->root = v;
		return 0;
	case 'o':
		if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
			return recap_error_set(err, EINVAL, "bad -o '%s' (text, json)", v);
		c->json = strcmp(v, "json") == 0;
		return 0;
	default:
		return apply_limit(s, opt, v, err);
	}
}

int run_cli_parse(struct run_cli *c, const struct capsule_globals *g, int argc, char **argv, bool attach)
{
	_cleanup_error_ struct recap_error *err = NULL;
	recap_spec_init(&c->spec);
	capsule_oci_opts_init(&c->oci, NULL);
	c->globals = g;
	c->root = g->root;
	c->cgroup_parent = g->cgroup_parent;
	c->spec.tty = attach;
	int opt;
	while ((opt = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout, argv[0]);
			return -1;
		}
		if (opt == '?') {
			usage(stderr, argv[0]);
			return 2;
		}
		int oci = capsule_oci_opts_parse(&c->oci, opt, optarg);
		if (oci < 0)
			return 2;
		if (oci == 1)
			continue;
		int r = opt == OPT_SPEC_FILE || opt == OPT_SPEC_FD
			    ? load_spec(c, opt == OPT_SPEC_FILE ? optarg : NULL, atoi(optarg), &err)
			    : apply(c, opt, optarg, &err);
		if (r < 0) {
			fprintf(stderr, "capsule %s: %s\n", argv[0],
				err ? recap_error_message(err) : strerror(-r));
			return 2;
		}
	}
	if (optind < argc) /* a command line replaces the document's */
		recap_strv_free(&c->spec.command);
	for (int i = optind; i < argc; i++)
		if (recap_strv_push(&c->spec.command, argv[i]) < 0) {
			fprintf(stderr, "capsule %s: too many arguments\n", argv[0]);
			return 2;
		}
	if (attach && c->spec.command.n == 0)
		recap_strv_push(&c->spec.command, "/bin/sh");
	return 0;
}

void run_cli_free(struct run_cli *c)
{
	recap_spec_free(&c->spec);
}
