/* The verbs: each one call (or a watch), its result on stdout as JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/types.h"
#include "base/json.h"
#include "base/log.h"
#include "base/fileio.h"
#include "kube/yamlconv.h"
#include "tool.h"

#define APPLY_FILE_MAX (4u << 20)

static int finish(struct tool *t, struct recap_kube_sync *s, int r, struct recap_error *err)
{
	json_t *obj = NULL;
	if (r >= 0)
		r = recap_kube_sync_wait(t->c, s, &obj, &err);
	if (r < 0) {
		log_error("%s", recap_error_message(err));
		recap_error_free(err);
		return r;
	}
	if (obj) {
		json_dumpf(obj, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(obj);
	return 0;
}

int tool_get(struct tool *t)
{
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	struct recap_error *err = NULL;
	int r = recap_kube_get(t->c, &t->res, t->res.namespaced ? t->ns : NULL, t->name, NULL,
			       recap_kube_sync_cb, &s, &err);
	return finish(t, &s, r, err);
}

int tool_list(struct tool *t)
{
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	struct recap_error *err = NULL;
	struct recap_kube_list_options o = {.label_selector = t->selector};
	int r = recap_kube_list(t->c, &t->res, t->res.namespaced ? t->ns : NULL, &o, recap_kube_sync_cb, &s,
				&err);
	return finish(t, &s, r, err);
}

int tool_delete(struct tool *t)
{
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	struct recap_error *err = NULL;
	struct recap_kube_delete_options o = {.propagation_policy = "Background", .grace_period_seconds = -1};
	int r = recap_kube_delete(t->c, &t->res, t->res.namespaced ? t->ns : NULL, t->name, &o,
				  recap_kube_sync_cb, &s, &err);
	return finish(t, &s, r, err);
}

int tool_apply(struct tool *t)
{
	char *data = NULL;
	size_t len;
	json_t *obj = NULL;
	struct recap_error *err = NULL;
	int r = recap_read_file(t->file, APPLY_FILE_MAX, &data, &len, &err);
	if (r >= 0 && (r = recap_kube_yaml_parse(data, len, &obj, &err)) < 0)
		recap_error_wrap(&err, r, "%s", t->file);
	free(data);
	const char *name = recap_api_meta_name(obj);
	if (r >= 0 && !name)
		r = recap_error_set(&err, EINVAL, "%s: no metadata.name", t->file);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	struct recap_kube_patch_options o = {.field_manager = t->manager, .force = t->force};
	if (r >= 0)
		r = recap_kube_patch(t->c, &t->res, t->res.namespaced ? t->ns : NULL, name, NULL,
				     RECAP_KUBE_PATCH_APPLY, obj, &o, recap_kube_sync_cb, &s, &err);
	json_decref(obj);
	return finish(t, &s, r, err);
}

static void on_watch(struct recap_kube_watch *w, enum recap_kube_watch_note note,
		     const struct recap_kube_watch_event *ev, const struct recap_error *err, void *userdata)
{
	int *status = userdata;
	switch (note) {
	case RECAP_KUBE_WATCH_EVENT:
		printf("%s ", recap_kube_watch_type_name(ev->type));
		json_dumpf(ev->object, stdout, JSON_COMPACT);
		putchar('\n');
		fflush(stdout);
		break;
	case RECAP_KUBE_WATCH_CONNECTED:
		log_debug("watch connected");
		break;
	case RECAP_KUBE_WATCH_RETRYING:
		log_warn("%s (reconnecting)", recap_error_message(err));
		break;
	case RECAP_KUBE_WATCH_GONE:
		log_error("%s", recap_error_message(err));
		*status = -ESTALE;
		recap_kube_watch_stop(w);
		break;
	}
}

int tool_watch(struct tool *t)
{
	struct recap_kube_watch *w = NULL;
	struct recap_error *err = NULL;
	struct recap_kube_watch_options o = {.label_selector = t->selector, .allow_bookmarks = true};
	int status = 0;
	int r = recap_kube_watch_start(t->c, &t->res, t->res.namespaced ? t->ns : NULL, &o, on_watch, &status,
				       &w, &err);
	if (r < 0) {
		log_error("%s", recap_error_message(err));
		recap_error_free(err);
		return r;
	}
	/* Runs until the watch is gone or the process is interrupted. */
	uv_run(&t->loop, UV_RUN_DEFAULT);
	return status;
}
