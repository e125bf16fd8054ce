/* Where the cgroup hierarchies are mounted, from /proc/self/mountinfo. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "runtime/cgroup_hier.h"

static int has_option(const char *opts, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = opts; p && *p;) {
		const char *e = strchrnul(p, ',');
		if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
			return 1;
		p = *e ? e + 1 : NULL;
	}
	return 0;
}

static void v1_mount(struct recap_cgroup_hier *h, const char *mnt, const char *opts)
{
	static const char *const ctrls[] = {"memory", "pids", "cpu", "freezer"};
	char **slots[] = {&h->v1_memory, &h->v1_pids, &h->v1_cpu, &h->v1_freezer};
	for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++)
		if (has_option(opts, ctrls[i]) && !*slots[i])
			*slots[i] = strdup(mnt);
}

static void v2_controllers(struct recap_cgroup_hier *h)
{
	char path[4200], buf[512] = "";
	snprintf(path, sizeof(path), "%s/cgroup.controllers", h->v2);
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f))
		return;
	buf[strcspn(buf, "\n")] = 0;
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		h->v2_memory |= strcmp(t, "memory") == 0;
		h->v2_pids |= strcmp(t, "pids") == 0;
		h->v2_cpu |= strcmp(t, "cpu") == 0;
	}
}

int recap_cgroup_hier_discover(struct recap_cgroup_hier *h)
{
	*h = (struct recap_cgroup_hier){0};
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char mnt[4096], fstype[64], opts[1024];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep, " - %63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (strcmp(fstype, "cgroup2") == 0 && !h->v2)
			h->v2 = strdup(mnt);
		else if (strcmp(fstype, "cgroup") == 0)
			v1_mount(h, mnt, opts);
	}
	if (h->v2)
		v2_controllers(h);
	return 0;
}

void recap_cgroup_hier_free(struct recap_cgroup_hier *h)
{
	free(h->v2);
	free(h->v1_memory);
	free(h->v1_pids);
	free(h->v1_cpu);
	free(h->v1_freezer);
	*h = (struct recap_cgroup_hier){0};
}
