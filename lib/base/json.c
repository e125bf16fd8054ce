#include "base/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/fileio.h"

int recap_json_parse(const char *data, size_t len, size_t max_bytes, json_t **ret, struct recap_error **err)
{
	if (len > max_bytes)
		return recap_error_set(
		    err, EFBIG, "JSON document of %zu bytes exceeds the limit of %zu bytes", len, max_bytes);
	json_error_t je;
	json_t *v = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!v)
		return recap_error_set(err, EINVAL, "invalid JSON at line %d column %d: %s", je.line,
				       je.column, je.text);
	*ret = v;
	return 0;
}

int recap_json_load_file(const char *path, size_t max_bytes, json_t **ret, struct recap_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = recap_read_file(path, max_bytes, &data, &len, err);
	if (r < 0)
		return r;
	r = recap_json_parse(data, len, max_bytes, ret, err);
	if (r < 0)
		return recap_error_wrap(err, r, "%s", path);
	return 0;
}

json_t *recap_json_at(json_t *root, ...)
{
	va_list ap;
	va_start(ap, root);
	json_t *v = root;
	for (const char *k = va_arg(ap, const char *); k && v; k = va_arg(ap, const char *))
		v = json_is_object(v) ? json_object_get(v, k) : NULL;
	va_end(ap);
	return v;
}

json_t *recap_json_path(json_t *root, const char *path)
{
	json_t *v = root;
	const char *p = path;
	while (v && p && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (!json_is_object(v))
			return NULL;
		v = json_object_getn(v, p, n);
		p = dot ? dot + 1 : NULL;
	}
	return v;
}

const char *recap_json_str(json_t *root, const char *path)
{
	json_t *v = recap_json_path(root, path);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t recap_json_int(json_t *root, const char *path, int64_t fallback)
{
	json_t *v = recap_json_path(root, path);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : fallback;
}

int recap_json_bool(json_t *root, const char *path, int fallback)
{
	json_t *v = recap_json_path(root, path);
	return json_is_boolean(v) ? json_is_true(v) : fallback;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
	return recap_buf_append(data, buffer, size) < 0 ? -1 : 0;
}

int recap_json_dump(const json_t *v, struct recap_buf *b)
{
	size_t before = b->len;
	if (json_dump_callback(v, dump_cb, b, JSON_COMPACT | JSON_ENCODE_ANY) < 0) {
		b->len = before;
		if (b->data)
			b->data[before] = '\0';
		return -ENOBUFS;
	}
	return 0;
}
