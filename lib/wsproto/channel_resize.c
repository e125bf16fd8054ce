/* The resize channel: a terminal size, as kubectl's TerminalSize encodes it. */
#include "wsproto/channel.h"

#include <errno.h>
#include <string.h>

#include "base/json.h"

static int dimension(json_t *size, const char *key, uint16_t *ret, struct recap_error **err)
{
	json_t *v = json_object_get(size, key);
	if (!v)
		return recap_error_set(err, EINVAL, "resize message without %s", key);
	if (!json_is_integer(v))
		return recap_error_set(err, EINVAL, "resize message's %s is not a whole number", key);
	json_int_t n = json_integer_value(v);
	if (n < 1 || n > 65535)
		return recap_error_set(err, EINVAL, "resize message's %s %lld is not in 1..65535", key,
				       (long long)n);
	*ret = (uint16_t)n;
	return 0;
}

int recap_wschan_resize_parse(const void *data, size_t len, uint16_t *ret_width, uint16_t *ret_height,
			      struct recap_error **err)
{
	if (len > RECAP_WSCHAN_RESIZE_MAX)
		return recap_error_set(err, EINVAL,
				       "resize message of %zu bytes exceeds the limit of %d bytes", len,
				       RECAP_WSCHAN_RESIZE_MAX);
	_cleanup_json_ json_t *size = NULL;
	_cleanup_error_ struct recap_error *perr = NULL;
	int r = recap_json_parse(data, len, RECAP_WSCHAN_RESIZE_MAX, &size, &perr);
	if (r < 0)
		return recap_error_set(err, EINVAL, "resize message: %s", recap_error_message(perr));
	if (!json_is_object(size))
		return recap_error_set(err, EINVAL, "resize message is not a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach (size, key, v) {
		if (strcmp(key, "Width") != 0 && strcmp(key, "Height") != 0)
			return recap_error_set(
			    err, EINVAL, "resize message has a field '%.32s' besides Width and Height", key);
	}
	uint16_t w, h;
	r = dimension(size, "Width", &w, err);
	if (r == 0)
		r = dimension(size, "Height", &h, err);
	if (r < 0)
		return r;
	*ret_width = w;
	*ret_height = h;
	return 0;
}
