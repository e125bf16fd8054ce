#include "oci/path.h"

#include <errno.h>
#include <string.h>

static int component_ok(const char *c, size_t n, const char *in, struct recap_error **err)
{
	if (n == 2 && c[0] == '.' && c[1] == '.')
		return recap_error_set(err, EPERM, "entry '%.300s' escapes the layer ('..' component)", in);
	if (n > RECAP_OCI_NAME_MAX)
		return recap_error_set(err, ENAMETOOLONG, "entry '%.300s' has a component over %d bytes", in,
				       RECAP_OCI_NAME_MAX);
	return 0;
}

int recap_oci_path_clean(const char *in, char *out, size_t outsz, struct recap_error **err)
{
	if (!in || !*in)
		return recap_error_set(err, EINVAL, "entry with an empty path");
	if (in[0] == '/')
		return recap_error_set(err, EPERM, "entry '%.300s' has an absolute path", in);
	size_t inlen = strlen(in);
	if (inlen > RECAP_OCI_PATH_MAX || outsz == 0)
		return recap_error_set(err, ENAMETOOLONG, "entry path is %zu bytes (limit %d)", inlen,
				       RECAP_OCI_PATH_MAX);
	size_t o = 0, depth = 0;
	const char *p = in;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			p += n + (slash ? 1 : 0);
			continue;
		}
		int r = component_ok(p, n, in, err);
		if (r < 0)
			return r;
		if (++depth > RECAP_OCI_PATH_DEPTH_MAX)
			return recap_error_set(err, ENAMETOOLONG,
					       "entry '%.100s...' nests deeper than %d levels", in,
					       RECAP_OCI_PATH_DEPTH_MAX);
		if (o + (o ? 1 : 0) + n + 1 > outsz)
			return recap_error_set(err, ENAMETOOLONG, "entry path '%.300s' is too long", in);
		if (o)
			out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n + (slash ? 1 : 0);
	}
	out[o] = '\0';
	return 0;
}

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

int recap_oci_whiteout_classify(const char *base, enum recap_oci_whiteout *ret, const char **ret_name,
				struct recap_error **err)
{
	if (strncmp(base, WH_PREFIX, 4) != 0) {
		*ret = RECAP_OCI_WHITEOUT_NONE;
		return 0;
	}
	if (strcmp(base, WH_OPAQUE) == 0) {
		*ret = RECAP_OCI_WHITEOUT_OPAQUE;
		return 0;
	}
	const char *name = base + 4;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return recap_error_set(err, EINVAL, "malformed whiteout '%s': it names no file", base);
	if (strncmp(name, WH_PREFIX, 4) == 0)
		return recap_error_set(err, EINVAL, "malformed whiteout '%.300s': unknown special whiteout",
				       base);
	if (strchr(name, '/'))
		return recap_error_set(err, EINVAL, "malformed whiteout '%.300s'", base);
	*ret = RECAP_OCI_WHITEOUT_FILE;
	if (ret_name)
		*ret_name = name;
	return 0;
}
