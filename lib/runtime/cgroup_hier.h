/* Internal to the cgroup code: the mounted hierarchies. */
#pragma once

#include <stdbool.h>

struct recap_cgroup_hier {
	char *v2; /* cgroup2 mount, NULL if none */
	bool v2_memory, v2_pids, v2_cpu;
	char *v1_memory, *v1_pids, *v1_cpu, *v1_freezer; /* v1 mounts */
};

int recap_cgroup_hier_discover(struct recap_cgroup_hier *h);
void recap_cgroup_hier_free(struct recap_cgroup_hier *h);

/* Writes value to dir/file; -errno. */
int recap_cgroup_write(const char *dir, const char *file, const char *value);
