/* The helpers the generated getters of api/types.h use. */
#include "api/types.h"

#include <string.h>

size_t recap_api_enum_index(const char *const *names, size_t n, const char *s)
{
	size_t i = 0;
	while (s && i < n && strcmp(names[i], s) != 0)
		i++;
	return s ? i : n;
}

const char *recap_api_str_or(json_t *o, const char *path, const char *dflt)
{
	const char *s = recap_json_str(o, path);
	return s ? s : dflt;
}
