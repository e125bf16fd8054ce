#include "cri/container.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "cri/pb.h"

/* ContainerStatusResponse and ContainerStatus field numbers (api.proto) */
enum { RESP_STATUS = 1, RESP_INFO = 2 };
enum { ST_ID = 1, ST_STATE = 3, ST_LABELS = 12 };
enum { MAP_KEY = 1, MAP_VALUE = 2 };

void recap_cri_container_free(struct recap_cri_container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->pod_name);
	free(c->pod_namespace);
	free(c->pod_uid);
	free(c->container_name);
	*c = (struct recap_cri_container){0};
}

const char *recap_cri_state_name(int state)
{
	static const char *const names[] = {"CREATED", "RUNNING", "EXITED", "UNKNOWN"};
	return state >= 0 && state < (int)ARRAY_SIZE(names) ? names[state] : "unrecognized";
}

int recap_cri_status_request(const char *id, struct recap_buf *out)
{
	int r = recap_pb_put_string(out, 1, id);
	return r < 0 ? r : recap_pb_put_bool(out, 2, true);
}

static int expect_len(const struct recap_pb_field *f, const char *what, struct recap_error **err)
{
	if (f->wire != RECAP_PB_LEN)
		return recap_error_set(err, EBADMSG, "ContainerStatus: %s has wire type %d, not bytes", what,
				       (int)f->wire);
	return 0;
}

/* A string field: no NUL, at most max bytes; a second occurrence refused. */
static int take_string(const struct recap_pb_field *f, const char *what, size_t max, char **slot,
		       struct recap_error **err)
{
	int r = expect_len(f, what, err);
	if (r < 0)
		return r;
	if (*slot)
		return recap_error_set(err, EBADMSG, "ContainerStatus: %s given twice", what);
	if (f->len > max)
		return recap_error_set(err, EBADMSG, "ContainerStatus: %s is %zu bytes, more than %zu", what,
				       f->len, max);
	if (memchr(f->data, 0, f->len))
		return recap_error_set(err, EBADMSG, "ContainerStatus: %s holds a NUL byte", what);
	if (!(*slot = strndup((const char *)f->data, f->len)))
		return recap_error_set(err, ENOMEM, "out of memory");
	return 0;
}

/* One map<string,string> entry; value_max bounds the value. */
static int map_entry(const struct recap_pb_field *f, const char *what, size_t value_max, char **ret_key,
		     char **ret_value, struct recap_error **err)
{
	int r = expect_len(f, what, err);
	if (r < 0) /* a non-bytes field has no data to read (NULL) */
		return r;
	struct recap_pb_reader rd = recap_pb_reader(f->data, f->len);
	struct recap_pb_field e;
	char *key = NULL, *value = NULL;
	while (r >= 0 && (r = recap_pb_next(&rd, &e, err)) > 0) {
		if (e.number == MAP_KEY)
			r = take_string(&e, what, RECAP_CRI_STRING_MAX, &key, err);
		else if (e.number == MAP_VALUE)
			r = take_string(&e, what, value_max, &value, err);
	}
	if (r < 0) {
		free(key);
		free(value);
		return recap_error_wrap(err, r, "ContainerStatus: %s entry", what);
	}
	*ret_key = key ?: strdup("");
	*ret_value = value ?: strdup("");
	return 0;
}

static char **label_slot(struct recap_cri_container *c, const char *key)
{
	if (strcmp(key, "io.kubernetes.pod.name") == 0)
		return &c->pod_name;
	if (strcmp(key, "io.kubernetes.pod.namespace") == 0)
		return &c->pod_namespace;
	if (strcmp(key, "io.kubernetes.pod.uid") == 0)
		return &c->pod_uid;
	if (strcmp(key, "io.kubernetes.container.name") == 0)
		return &c->container_name;
	return NULL;
}

static int label(struct recap_cri_container *c, const struct recap_pb_field *f, struct recap_error **err)
{
	_cleanup_free_ char *key = NULL, *value = NULL;
	int r = map_entry(f, "label", RECAP_CRI_STRING_MAX, &key, &value, err);
	if (r < 0)
		return r;
	char **slot = label_slot(c, key);
	if (!slot)
		return 0;
	if (*slot)
		return recap_error_set(err, EBADMSG, "ContainerStatus: label %s given twice", key);
	*slot = steal_ptr(value);
	return 0;
}

static int status(struct recap_cri_container *c, const struct recap_pb_field *f, struct recap_error **err)
{
	int r = expect_len(f, "status", err);
	if (r < 0)
		return r;
	struct recap_pb_reader rd = recap_pb_reader(f->data, f->len);
	struct recap_pb_field s;
	bool state_seen = false;
	while (r >= 0 && (r = recap_pb_next(&rd, &s, err)) > 0) {
		if (s.number == ST_ID) {
			r = take_string(&s, "id", RECAP_CRI_STRING_MAX, &c->id, err);
		} else if (s.number == ST_STATE) {
			if (s.wire != RECAP_PB_VARINT || s.varint > INT_MAX)
				return recap_error_set(err, EBADMSG, "ContainerStatus: state is not an enum");
			c->state = (int)s.varint;
			state_seen = true;
		} else if (s.number == ST_LABELS) {
			r = label(c, &s, err);
		}
	}
	if (r >= 0 && !state_seen)
		c->state = RECAP_CRI_CREATED; /* proto3: a zero enum is not sent */
	return r;
}

/* containerd's verbose info: {"pid": N, "sandboxID": ..., ...} */
static int info_pid(struct recap_cri_container *c, const char *doc, struct recap_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	int r = recap_json_parse(doc, strlen(doc), RECAP_CRI_INFO_MAX, &j, err);
	if (r < 0) {
		recap_error_wrap(err, EBADMSG, "ContainerStatus: info");
		return -EBADMSG;
	}
	json_t *pid = json_object_get(j, "pid");
	if (!pid)
		return 0;
	if (!json_is_integer(pid) || json_integer_value(pid) < 0 || json_integer_value(pid) > INT_MAX)
		return recap_error_set(err, EBADMSG, "ContainerStatus: info.pid is not a process id");
	c->pid = (pid_t)json_integer_value(pid);
	return 0;
}

static int info(struct recap_cri_container *c, const struct recap_pb_field *f, bool *seen,
		struct recap_error **err)
{
	_cleanup_free_ char *key = NULL, *value = NULL;
	int r = map_entry(f, "info", RECAP_CRI_INFO_MAX, &key, &value, err);
	if (r < 0 || strcmp(key, "info") != 0)
		return r;
	if (*seen)
		return recap_error_set(err, EBADMSG, "ContainerStatus: info given twice");
	*seen = true;
	return info_pid(c, value, err);
}

int recap_cri_status_decode(const void *msg, size_t len, struct recap_cri_container *ret,
			    struct recap_error **err)
{
	struct recap_cri_container c = {0};
	struct recap_pb_reader rd = recap_pb_reader(msg, len);
	struct recap_pb_field f;
	bool status_seen = false, info_seen = false;
	int r;
	while ((r = recap_pb_next(&rd, &f, err)) > 0) {
		if (f.number == RESP_STATUS) {
			r = status_seen ? recap_error_set(err, EBADMSG, "ContainerStatus: status given twice")
					: status(&c, &f, err);
			status_seen = true;
		} else if (f.number == RESP_INFO) {
			r = info(&c, &f, &info_seen, err);
		}
		if (r < 0)
			break;
	}
	if (r >= 0 && (!status_seen || !c.id))
		r = recap_error_set(err, EBADMSG, "ContainerStatus: the reply has no container status");
	if (r < 0) {
		recap_cri_container_free(&c);
		return r;
	}
	*ret = c;
	return 0;
}
