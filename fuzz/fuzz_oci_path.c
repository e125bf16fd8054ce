/* Entry path cleaning and whiteout classification: a cleaned path never
 * escapes (no "..", not absolute, no empty component). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean(const char *out)
{
	if (out[0] == '/' || strstr(out, "//"))
		abort();
	for (const char *p = out; *p;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 2 && p[0] == '.' && p[1] == '.') || (n == 1 && p[0] == '.'))
			abort();
		p += n + (slash ? 1 : 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = strndup((const char *)data, size);
	if (!s)
		return 0;
	char out[RECAP_OCI_PATH_MAX + 1];
	struct recap_error *err = NULL;
	if (recap_oci_path_clean(s, out, sizeof(out), &err) == 0)
		check_clean(out);
	recap_error_free(err);
	err = NULL;
	enum recap_oci_whiteout kind;
	const char *name = NULL;
	if (recap_oci_whiteout_classify(s, &kind, &name, &err) == 0 && kind == RECAP_OCI_WHITEOUT_FILE &&
	    (!name || !*name || !strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/')))
		abort();
	recap_error_free(err);
	free(s);
	return 0;
}
