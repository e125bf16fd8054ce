/* Command-line parsing for kubectl-capsule (pure: no I/O, unit-tested).
 *
 * Every verb takes kubectl's connection flags (--kubeconfig, --context,
 * --cluster, --user, -n/--namespace, --as, --as-group, --as-uid,
 * --request-timeout) anywhere before "--"; what follows "--" is the command.
 * Errors name the flag and the value, e.g. "--target-fs 'rw': must be
 * None, ReadOnly or ReadWrite".
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"
#include "targets.h"

#define PLUGIN_MAX_PODS 1000 /* CapsuleRun spec.targets maxItems */
#define PLUGIN_MAX_CAPS 41   /* every Linux capability once */
#define PLUGIN_MAX_ENV 64
#define PLUGIN_MAX_PULL_SECRETS 8 /* the schema's bound */
#define PLUGIN_MAX_WORKLOADS 32	  /* deploy/NAME, sts/NAME, ... in one run */

enum plugin_output { PLUGIN_OUT_TEXT, PLUGIN_OUT_JSON, PLUGIN_OUT_YAML };

#define PLUGIN_MAX_AS_GROUPS 32

struct plugin_globals {
	const char *kubeconfig;
	const char *context;
	const char *cluster, *user; /* --cluster, --user: over the context's */
	const char *ns;		    /* NULL: the context's namespace */
	const char *as, *as_uid;    /* impersonation */
	const char *as_groups[PLUGIN_MAX_AS_GROUPS];
	size_t n_as_groups;	     /* may pass PLUGIN_MAX_AS_GROUPS: refused when connecting */
	const char *request_timeout; /* --request-timeout: checked when connecting */
	enum plugin_output output;
	bool raw; /* --raw (run, logs): a capsule's output byte for byte, see sanitize.h */
	bool help;
};

struct run_args {
	struct plugin_globals g;
	const char *image;   /* ad hoc run */
	const char *capsule; /* --capsule: fire an existing Capsule */
	json_t *pods;	     /* --pod and POD or pod/POD targets: array of names, or NULL */
	/* deploy/NAME, sts/NAME, ...: each resolved to its pods (added to pods)
	 * before anything is created */
	struct plugin_target workloads[PLUGIN_MAX_WORKLOADS];
	size_t nworkloads;
	const char *selector;
	const char *container;
	json_t *join; /* array or NULL (the API default) */
	const char *target_fs;
	json_t *caps;	      /* --cap-add: array or NULL */
	json_t *caps_drop;    /* --cap-drop: array or NULL */
	json_t *env;	      /* array of {name, value} or NULL */
	json_t *pull_secrets; /* --image-pull-secret: array of {name} or NULL */
	long timeout_s;
	bool interactive;    /* attach: spec.interactive, one target, a terminal */
	long idle_timeout_s; /* attach: spec.session.idleTimeoutSeconds */
	const char *strategy;
	long max_concurrent;
	bool rm, no_wait;
	bool no_stream;	     /* --no-stream: wait, then the status tails (no live output) */
	long wait_timeout_s; /* 0: wait as long as the run takes */
	char **command;	     /* after "--", borrowed from argv */
	int ncommand;
};

/* attach: an interactive ad hoc run on one pod. r.g holds the connection
 * flags, r.pods the POD, r.interactive is set; defaults: --timeout 3600,
 * --idle-timeout 900, --rm true, command sh. */
struct attach_args {
	struct run_args r;
	const char *pod;	     /* NULL while target is a workload not yet resolved */
	struct plugin_target target; /* POD, pod/POD or a workload (one of its pods is picked) */
	char picked[254];	     /* the pod picked of a workload */
	bool dry_run;		     /* print the CapsuleRun and Capsule, create nothing */
};

#define PLUGIN_ATTACH_TIMEOUT_S 3600
#define PLUGIN_ATTACH_IDLE_TIMEOUT_S 900
#define PLUGIN_ATTACH_WAIT_S 60 /* spec.session.attachTimeoutSeconds */

/* ls, logs, cancel: globals and at most one name. */
struct simple_args {
	struct plugin_globals g;
	const char *name;
	const char *selector; /* ls -l */
	bool all_namespaces;  /* ls -A */
	bool watch;	      /* ls -w */
	bool client_only;     /* version --client */
	/* logs */
	bool follow, tails;
	const char *target;
	long long limit_bytes; /* 0: all */
};

/* cp RUN[:POD]:/out/PATH DEST */
#define PLUGIN_CP_PATH_MAX 4096
struct cp_args {
	struct plugin_globals g;
	char run[254];
	char pod[254];		       /* "": the run's only target */
	char path[PLUGIN_CP_PATH_MAX]; /* under /out, normalized, no leading '/'; "": all of /out */
	const char *dest;	       /* "-": stdout */
};

int plugin_parse_run(int argc, char **argv, struct run_args *a, struct recap_error **err);
void run_args_free(struct run_args *a);
int plugin_parse_attach(int argc, char **argv, struct attach_args *a, struct recap_error **err);
void attach_args_free(struct attach_args *a);
/* The pod attach targets (a copy is kept when it is not the argument). */
int plugin_attach_set_pod(struct attach_args *a, const char *pod);
/* needs_name: the verb takes exactly one positional name (logs, cancel);
 * otherwise none (ls). with_output: -o allowed; listing: -l and -A allowed.
 * --raw is allowed where both needs_name and with_output are (logs). */
int plugin_parse_simple(int argc, char **argv, const char *verb, bool needs_name, bool with_output,
			bool listing, struct simple_args *a, struct recap_error **err);

int plugin_parse_cp(int argc, char **argv, struct cp_args *a, struct recap_error **err);
/* RUN[:POD]:/out[/PATH] into a (run, pod, path): the path must be /out or
 * under it, with no ".." component ("." and repeated slashes dropped). */
int plugin_parse_cp_source(const char *src, struct cp_args *a, struct recap_error **err);

/* Checks used by more than one verb. */
int plugin_check_target_fs(const char *v, struct recap_error **err);
int plugin_check_join(const char *list, json_t **ret, struct recap_error **err);
/* flag: the option named in errors ("--cap-add"); ALL is a name only for --cap-drop. */
int plugin_check_caps(const char *flag, const char *list, json_t *into, struct recap_error **err);
