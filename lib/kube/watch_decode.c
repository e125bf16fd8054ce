#include "kube/watch_decode.h"

#include <errno.h>
#include <string.h>

#include "base/json.h"

static const char *const type_names[] = {
    [RECAP_KUBE_WATCH_ADDED] = "ADDED",	    [RECAP_KUBE_WATCH_MODIFIED] = "MODIFIED",
    [RECAP_KUBE_WATCH_DELETED] = "DELETED", [RECAP_KUBE_WATCH_BOOKMARK] = "BOOKMARK",
    [RECAP_KUBE_WATCH_ERROR] = "ERROR",
};

const char *recap_kube_watch_type_name(enum recap_kube_watch_type t)
{
	if ((unsigned)t >= sizeof(type_names) / sizeof(type_names[0]))
		return "UNKNOWN";
	return type_names[t];
}

static int parse_type(const char *s, enum recap_kube_watch_type *ret)
{
	for (unsigned i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(s, type_names[i]) == 0) {
			*ret = (enum recap_kube_watch_type)i;
			return 0;
		}
	return -EBADMSG;
}

void recap_kube_watch_decoder_init(struct recap_kube_watch_decoder *d, size_t max_line)
{
	recap_buf_init(&d->line, max_line ? max_line : RECAP_KUBE_WATCH_LINE_DEFAULT_MAX);
}

void recap_kube_watch_decoder_free(struct recap_kube_watch_decoder *d)
{
	recap_buf_free(&d->line);
}

void recap_kube_watch_decoder_reset(struct recap_kube_watch_decoder *d)
{
	recap_buf_reset(&d->line);
}

bool recap_kube_watch_decoder_pending(const struct recap_kube_watch_decoder *d)
{
	return d->line.len > 0;
}

int recap_kube_watch_decode_line(const char *line, size_t len, struct recap_kube_watch_event *ev,
				 json_t **ret_object, struct recap_error **err)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_error_ struct recap_error *perr = NULL;
	if (recap_json_parse(line, len, len, &root, &perr) < 0)
		return recap_error_set(err, EBADMSG, "watch event: %s", recap_error_message(perr));
	const char *type = recap_json_str(root, "type");
	if (!type)
		return recap_error_set(err, EBADMSG, "watch event without a string \"type\"");
	enum recap_kube_watch_type t;
	if (parse_type(type, &t) < 0)
		return recap_error_set(err, EBADMSG, "watch event of unknown type '%.32s'", type);
	json_t *obj = json_object_get(root, "object");
	if (!json_is_object(obj))
		return recap_error_set(err, EBADMSG, "%s watch event without an \"object\"", type);
	*ev = (struct recap_kube_watch_event){
	    .type = t,
	    .object = obj,
	    .resource_version = recap_json_str(obj, "metadata.resourceVersion"),
	    .status_code = t == RECAP_KUBE_WATCH_ERROR ? (long)recap_json_int(obj, "code", 0) : 0,
	};
	if (t != RECAP_KUBE_WATCH_ERROR && !ev->resource_version)
		return recap_error_set(err, EBADMSG, "%s watch event without metadata.resourceVersion", type);
	json_incref(obj);
	*ret_object = obj;
	return 0;
}

static int emit_line(const char *line, size_t len, recap_kube_watch_emit emit, void *userdata,
		     struct recap_error **err)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return 0; /* blank lines carry nothing */
	struct recap_kube_watch_event ev;
	_cleanup_json_ json_t *obj = NULL;
	int r = recap_kube_watch_decode_line(line, len, &ev, &obj, err);
	if (r < 0)
		return r;
	return emit(&ev, userdata);
}

static int overlong(struct recap_kube_watch_decoder *d, struct recap_error **err)
{
	return recap_error_set(err, EMSGSIZE, "watch event longer than the limit of %zu bytes", d->line.max);
}

int recap_kube_watch_decoder_feed(struct recap_kube_watch_decoder *d, const char *data, size_t len,
				  recap_kube_watch_emit emit, void *userdata, struct recap_error **err)
{
	while (len) {
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		if (!nl) {
			if (recap_buf_append(&d->line, data, n) < 0)
				return overlong(d, err);
			return 0;
		}
		int r;
		if (d->line.len == 0) {
			/* The common case: a whole line in this chunk, no copy. */
			if (n > d->line.max)
				return overlong(d, err);
			r = emit_line(data, n, emit, userdata, err);
		} else {
			if (recap_buf_append(&d->line, data, n) < 0)
				return overlong(d, err);
			r = emit_line(d->line.data, d->line.len, emit, userdata, err);
			recap_buf_reset(&d->line);
		}
		if (r < 0)
			return r;
		data += n + 1;
		len -= n + 1;
	}
	return 0;
}
