/* Several kubeconfig files merged as kubectl merges $KUBECONFIG: a
 * cluster, user or context comes from the first file that names it, and
 * current-context from the first file that sets it; relative file names
 * are each file's own. Files that do not exist are skipped; none existing
 * is an error naming them. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "kube/kubeconfig_internal.h"
#include "kube/yamlconv.h"

#define KUBECONFIG_FILES_MAX 64

static const char *const lists[][2] = {{"clusters", "cluster"}, {"users", "user"}, {"contexts", "context"}};

/* A relative file name in obj[key] made the file's (dir's). */
static int absolute(json_t *obj, const char *key, const char *dir, bool only_with_slash)
{
	const char *v = json_string_value(json_object_get(obj, key));
	if (!v || !*v || v[0] == '/' || (only_with_slash && !strchr(v, '/')))
		return 0;
	_cleanup_free_ char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, v) < 0)
		return -ENOMEM;
	return json_object_set_new(obj, key, json_string(p)) == 0 ? 0 : -ENOMEM;
}

static int make_paths_absolute(json_t *root, const char *dir)
{
	size_t i;
	json_t *e;
	int r = 0;
	json_array_foreach (json_object_get(root, "clusters"), i, e)
		r |= absolute(json_object_get(e, "cluster"), "certificate-authority", dir, false);
	json_array_foreach (json_object_get(root, "users"), i, e) {
		json_t *u = json_object_get(e, "user");
		r |= absolute(u, "client-certificate", dir, false);
		r |= absolute(u, "client-key", dir, false);
		r |= absolute(u, "tokenFile", dir, false);
		r |= absolute(json_object_get(u, "exec"), "command", dir, true);
	}
	return r < 0 ? -ENOMEM : 0;
}

static bool named(json_t *arr, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach (arr, i, e)
		if (strcmp(recap_json_str(e, "name") ?: "", name) == 0)
			return true;
	return false;
}

/* One file's entries into the merged root, where no earlier file named them. */
static int merge_one(json_t *into, json_t *root, const char *path, struct recap_error **err)
{
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		json_t *arr = json_object_get(root, lists[l][0]), *e;
		if (!arr || json_is_null(arr))
			continue;
		if (!json_is_array(arr))
			return recap_error_set(err, EINVAL, "%s: %s: not a list", path, lists[l][0]);
		json_t *out = json_object_get(into, lists[l][0]);
		size_t i;
		json_array_foreach (arr, i, e) {
			const char *name = recap_json_str(e, "name");
			if (!json_is_object(e) || !name)
				return recap_error_set(err, EINVAL, "%s: %s[%zu].name: missing", path,
						       lists[l][0], i);
			if (named(out, name))
				continue;
			if (json_object_set_new(e, RECAP_KUBECONFIG_SOURCE, json_string(path)) < 0 ||
			    json_object_set_new(e, RECAP_KUBECONFIG_INDEX, json_integer((json_int_t)i)) < 0 ||
			    json_array_append(out, e) < 0)
				return recap_error_set(err, ENOMEM, "out of memory");
		}
	}
	json_t *current = json_object_get(root, "current-context");
	if (current && !json_is_null(current) && !json_is_string(current))
		return recap_error_set(err, EINVAL, "%s: current-context: not a string", path);
	if (json_string_length(current) && !json_object_get(into, "current-context"))
		json_object_set(into, "current-context", current);
	return 0;
}

/* 1 and the file merged, 0 when it does not exist; a file that exists but
 * cannot be read (a symlink loop, no permission) is an error, as kubectl's. */
static int read_one(json_t *into, const char *path, struct recap_error **err)
{
	if (access(path, F_OK) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return recap_error_set_errno(err, errno, "kubeconfig %s", path);
	}
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_json_ json_t *root = NULL;
	if (!copy)
		return recap_error_set(err, ENOMEM, "out of memory");
	int r = recap_kube_config_read_root(path, &root, err);
	if (r < 0)
		return r;
	if (make_paths_absolute(root, dirname(copy)) < 0)
		return recap_error_set(err, ENOMEM, "out of memory");
	r = merge_one(into, root, path, err);
	return r < 0 ? r : 1;
}

int recap_kube_config_from_files(char *const *paths, size_t n, const struct recap_kube_select *sel,
				 struct recap_kube_config **ret, struct recap_error **err)
{
	if (n > KUBECONFIG_FILES_MAX)
		return recap_error_set(err, E2BIG, "more than %d kubeconfig files to merge",
				       KUBECONFIG_FILES_MAX);
	_cleanup_json_ json_t *into = json_pack("{s:[], s:[], s:[]}", "clusters", "users", "contexts");
	if (!into)
		return recap_error_set(err, ENOMEM, "out of memory");
	size_t found = 0, listed = 0;
	char names[1024] = "", *last = NULL;
	for (size_t i = 0; i < n; i++) {
		bool seen = false; /* a file listed twice counts once, as kubectl's */
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(paths[i], paths[j]) == 0;
		if (seen || !*paths[i])
			continue;
		int r = read_one(into, paths[i], err);
		if (r < 0)
			return r;
		found += (size_t)r;
		if (r > 0)
			last = paths[i];
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", listed++ ? ", " : "",
			 paths[i]);
	}
	if (!found)
		return recap_error_set(err, ENOENT, "no kubeconfig: none of these files exists: %s", names);
	/* one file: named as itself; several: as the list */
	return recap_kube_config_from_root(into, found == 1 ? last : names, NULL, sel, ret, err);
}
