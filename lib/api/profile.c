#include "api/profile.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "api/types.h"
#include "base/json.h"

/* The object that holds the field at path[0..len) (NULL: none), and the
 * field's name in name. */
static json_t *holder(json_t *root, const char *path, size_t len, char *name, size_t name_size)
{
	char buf[128];
	if (len >= sizeof(buf))
		return NULL;
	memcpy(buf, path, len);
	buf[len] = '\0';
	char *dot = strrchr(buf, '.');
	const char *last = dot ? dot + 1 : buf;
	if (strlen(last) >= name_size)
		return NULL;
	strcpy(name, last);
	if (!dot)
		return root;
	*dot = '\0';
	json_t *o = recap_json_path(root, buf);
	return json_is_object(o) ? o : NULL;
}

/* Deletes the field at path, then each object above it that it left empty. */
static void remove_path(json_t *root, const char *path)
{
	char name[128];
	for (size_t len = strlen(path); len > 0;) {
		json_t *o = holder(root, path, len, name, sizeof(name));
		if (!o)
			return;
		json_t *v = json_object_get(o, name);
		bool is_leaf = len == strlen(path);
		if (!v || (!is_leaf && !(json_is_object(v) && json_object_size(v) == 0)))
			return;
		json_object_del(o, name);
		const char *dot = memrchr(path, '.', len);
		len = dot ? (size_t)(dot - path) : 0;
	}
}

int recap_api_profile_elide_defaults(json_t *profile)
{
	for (size_t i = 0; i < RECAP_API_PROFILE_N_ELIDED; i++) {
		const struct recap_api_elided_default *d = &recap_api_profile_elided[i];
		json_t *v = recap_json_path(profile, d->path);
		if (!v)
			continue;
		json_t *dflt = json_loads(d->json, JSON_DECODE_ANY, NULL);
		if (!dflt)
			return -ENOMEM;
		bool same = json_equal(v, dflt);
		json_decref(dflt);
		if (same)
			remove_path(profile, d->path);
	}
	return 0;
}
