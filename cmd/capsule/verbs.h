/* The capsule binary: one verb per file, each a thin wrapper over lib/. */
#pragma once

#include <stdbool.h>

/* Options every verb shares; parsed by main() before the verb name. */
struct capsule_globals {
	const char *root;	   /* node store, default /var/lib/recap */
	const char *cgroup_parent; /* run cgroups: <hierarchy>/<parent>/<id> */
	const char *log_level;	   /* as given (NULL: default), passed on to capsule-pull */
	const char *log_format;
	/* --registry-only: images come from registries only, never from an oci:
	 * layout on the node; what caplet passes, its references being cluster
	 * input (passed on to capsule-pull) */
	bool registry_only;
};

/* Each verb takes its own argv (argv[0] is the verb name) and returns the
 * process exit status. */
typedef int (*capsule_verb_fn)(const struct capsule_globals *g, int argc, char **argv);

int capsule_verb_run(const struct capsule_globals *g, int argc, char **argv);
int capsule_verb_attach(const struct capsule_globals *g, int argc, char **argv);
int capsule_verb_ps(const struct capsule_globals *g, int argc, char **argv);
int capsule_verb_sweep(const struct capsule_globals *g, int argc, char **argv);
/* capsule-pull's verb: the pull itself. */
int capsule_verb_pull(const struct capsule_globals *g, int argc, char **argv);
/* capsule-pull's verb: an image's signature checked in its registry (capsule's
 * `verify` is capsule_verb_pull_exec too). */
int capsule_verb_verify(const struct capsule_globals *g, int argc, char **argv);
/* capsule's: runs capsule-pull with the same arguments. */
int capsule_verb_pull_exec(const struct capsule_globals *g, int argc, char **argv);
/* capsule-cri's verb: a container's status from the CRI, as JSON. */
int capsule_verb_cri_status(const struct capsule_globals *g, int argc, char **argv);
/* capsule's: runs capsule-cri with the same arguments. */
int capsule_verb_cri_exec(const struct capsule_globals *g, int argc, char **argv);
int capsule_verb_images(const struct capsule_globals *g, int argc, char **argv);
int capsule_verb_rmi(const struct capsule_globals *g, int argc, char **argv);
int capsule_verb_gc(const struct capsule_globals *g, int argc, char **argv);
