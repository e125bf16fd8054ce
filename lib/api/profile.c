#include "api/profile.h"

#include <errno.h>
#include <string.h>

#include "api/types.h"

/* Takes the field at path (dotted, below o) out when it equals dflt, then
 * each object on the way that this left empty. */
static void elide(json_t *o, const char *path, json_t *dflt)
{
	const char *dot = strchr(path, '.');
	if (!dot) {
		json_t *v = json_object_get(o, path);
		if (v && json_equal(v, dflt))
			json_object_del(o, path);
		return;
	}
	size_t n = (size_t)(dot - path);
	json_t *sub = json_object_getn(o, path, n);
	if (!json_is_object(sub))
		return;
	elide(sub, dot + 1, dflt);
	if (json_object_size(sub) == 0)
		json_object_deln(o, path, n);
}

int recap_api_profile_elide_defaults(json_t *profile)
{
	for (size_t i = 0; i < RECAP_API_PROFILE_N_ELIDED; i++) {
		json_t *dflt = json_loads(recap_api_profile_elided[i].json, JSON_DECODE_ANY, NULL);
		if (!dflt)
			return -ENOMEM;
		elide(profile, recap_api_profile_elided[i].path, dflt);
		json_decref(dflt);
	}
	return 0;
}
