/* Where run cgroups go on a kubelet's node: below the kubelet's kubepods
 * cgroup, so the node's allocatable bounds capsules as it bounds pods. */
#include "caplet/spec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "runtime/cgroup.h"

/* The path of one /proc/self/cgroup line ("ID:CONTROLLERS:PATH"), or NULL. */
static const char *line_path(const char *line, const char *eol, const char *controllers, size_t *len)
{
	const char *c = memchr(line, ':', (size_t)(eol - line));
	const char *p = c ? memchr(c + 1, ':', (size_t)(eol - c - 1)) : NULL;
	if (!p)
		return NULL;
	size_t cl = (size_t)(p - c - 1);
	/* "memory" alone or in a list; "" is the v2 hierarchy */
	bool match = strlen(controllers) == 0 ? cl == 0 : false;
	for (const char *s = c + 1; !match && s < p;) {
		const char *e = memchr(s, ',', (size_t)(p - s));
		e = e ? e : p;
		match =
		    (size_t)(e - s) == strlen(controllers) && memcmp(s, controllers, (size_t)(e - s)) == 0;
		s = e + 1;
	}
	if (!match)
		return NULL;
	*len = (size_t)(eol - p - 1);
	return p + 1;
}

/* The prefix of path up to its "kubepods" or "kubepods.slice" component. */
static size_t kubepods_prefix(const char *path, size_t len)
{
	for (size_t i = 0; i < len;) {
		while (i < len && path[i] == '/')
			i++;
		size_t j = i;
		while (j < len && path[j] != '/')
			j++;
		if ((j - i == 8 && memcmp(path + i, "kubepods", 8) == 0) ||
		    (j - i == 14 && memcmp(path + i, "kubepods.slice", 14) == 0))
			return j;
		i = j;
	}
	return 0;
}

int recap_caplet_kubepods_parent(const char *proc_cgroup, char *out, size_t size)
{
	static const char *const order[] = {"memory", ""};
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		for (const char *line = proc_cgroup; line && *line;) {
			const char *eol = strchrnul(line, '\n');
			size_t len = 0, n;
			const char *path = line_path(line, eol, order[k], &len);
			if (path && (n = kubepods_prefix(path, len)) > 0) {
				while (n > 0 && *path == '/')
					path++, n--;
				int w = snprintf(out, size, "%.*s/recap", (int)n, path);
				if (w < 0 || (size_t)w >= size || !recap_cgroup_parent_valid(out))
					return -EINVAL;
				return 0;
			}
			line = *eol ? eol + 1 : NULL;
		}
	}
	return -ENOENT;
}
