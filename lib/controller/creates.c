/* A pass's executions, created a window at a time over the shared HTTP/2
 * connection. Hundreds of creates at once only queue in an API server
 * with a few cores, where each waits for all the others and its watchers
 * fall behind (or are dropped, so the cache lags and creates get
 * repeated); a bounded window keeps the server busy without the queue. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/failpoint.h"
#include "base/json.h"
#include "controller/ctl.h"

/* The batch's objects wait as compact text (about 2 KiB each, against
 * 5 KiB as a tree): only the window's are parsed, while in flight. */
struct creates {
	char *ns;
	json_t *objs; /* strings */
	size_t next;
	unsigned in_flight;
};

struct one {
	struct creates *b;
	json_t *obj;
	unsigned resends;
};

/* A create whose answer was lost (a reset connection, a timeout) or was a
 * 5xx may or may not have been stored. It is sent again at once under the
 * same name, up to this many times: if the first was stored the API server
 * answers AlreadyExists (this run's: created), if not this one creates it.
 * Only when every try went unanswered is it taken as created unseen. */
#define CREATE_RESENDS 3

static void issue_next(struct ctl_op *op, struct creates *b);
static void answered(struct ctl_op *op, const struct recap_kube_response *resp, bool ok, void *arg);

static void creates_free(struct creates *b)
{
	json_decref(b->objs);
	free(b->ns);
	free(b);
}

static void one_done(struct ctl_op *op, struct one *o)
{
	struct creates *b = o->b;
	json_decref(o->obj);
	free(o);
	b->in_flight--;
	issue_next(op, b);
	if (b->in_flight == 0)
		creates_free(b);
}

/* The uid of obj's controlling owner, or NULL. */
static const char *controller_uid(json_t *obj)
{
	size_t i;
	json_t *ref;
	json_array_foreach (recap_api_meta_owner_references(obj), i, ref) {
		if (json_is_true(json_object_get(ref, "controller")))
			return recap_json_str(ref, "uid");
	}
	return NULL;
}

/* AlreadyExists is success only when the execution there is this run's:
 * one of a deleted run of the same name (its node agent still escaping
 * it) is not, and this run's target did not run. */
static void owner_checked(struct ctl_op *op, const struct recap_kube_response *resp, bool ok, void *arg)
{
	struct one *o = arg;
	const char *name = recap_api_meta_name(o->obj);
	const char *want = controller_uid(o->obj), *have = ok ? controller_uid(resp->object) : NULL;
	if (ok && want && have && strcmp(want, have) == 0) {
		recap_ctl_expect_created(op->ctl, o->b->ns, name);
	} else if (ok) {
		struct recap_error *e = NULL;
		recap_error_set(&e, EEXIST, "execution %s exists and belongs to another run (owner uid %s)",
				name, have ? have : "none");
		recap_ctl_op_fail(op, e);
	}
	one_done(op, o);
}

/* A create the API server refused for good (a quota, a webhook, an invalid
 * object) is retried with the pass's backoff; a Warning Event on the run
 * says why, where its user looks (kubectl describe, kubectl capsule), not
 * only in the controller's log. Repeats fold into the Event's count. */
static void refused_event(struct ctl_op *op, json_t *obj, const struct recap_kube_response *resp)
{
	size_t i;
	json_t *ref, *run = NULL;
	json_array_foreach (recap_api_meta_owner_references(obj), i, ref) {
		if (json_is_true(json_object_get(ref, "controller")))
			run = json_pack("{s:{s:s?, s:s?, s:s?}}", "metadata", "name",
					recap_json_str(ref, "name"), "namespace",
					recap_api_meta_namespace(obj), "uid", recap_json_str(ref, "uid"));
	}
	if (!run)
		return;
	recap_ctl_op_event(op, run, RECAP_KIND_CAPSULE_RUN, "Warning", "FailedCreate",
			   "creating execution %s: HTTP %ld: %s", recap_api_meta_name(obj), resp->http_status,
			   resp->err ? recap_error_message(resp->err) : "refused");
	json_decref(run);
}

/* Not answered, or answered 5xx: the create may have been stored. */
static bool unknown_outcome(const struct recap_kube_response *resp)
{
	return resp->code != RECAP_KUBE_ERR_CANCELLED && (resp->http_status == 0 || resp->http_status >= 500);
}

static bool resend(struct ctl_op *op, struct one *o)
{
	if (o->resends >= CREATE_RESENDS || !op->ctl->active || op->ctl->stopping)
		return false;
	o->resends++;
	op->ctl->execs_resent++;
	unsigned before = op->pending;
	recap_ctl_op_create_answered(op, &recap_ctl_execs, o->b->ns, o->obj, CTL_OK_EXISTS, answered, o);
	return op->pending != before;
}

static void answered(struct ctl_op *op, const struct recap_kube_response *resp, bool ok, void *arg)
{
	struct one *o = arg;
	struct creates *b = o->b;
	const char *name = recap_api_meta_name(o->obj);
	if (!ok && unknown_outcome(resp) && resend(op, o))
		return; /* still in flight */
	/* as a create stored whose answer never came */
	if (ok && resp->code == RECAP_KUBE_OK && recap_failpoint("controller.create-answer-lost") < 0 &&
	    resend(op, o))
		return;
	if (ok && resp->code == RECAP_KUBE_ERR_ALREADY_EXISTS) {
		unsigned before = op->pending;
		recap_ctl_op_get_answered(op, &recap_ctl_execs, b->ns, name, 0, owner_checked, o);
		if (op->pending != before)
			return; /* still in flight until the owner is known */
	} else if (ok) {
		recap_ctl_expect_created(op->ctl, b->ns, name);
		recap_failpoint("controller.after-create");
	} else if (recap_ctl_expect_failed_create(op->ctl, b->ns, name, resp->http_status)) {
		refused_event(op, o->obj, resp);
	}
	one_done(op, o);
}

static void issue_next(struct ctl_op *op, struct creates *b)
{
	while (b->next < json_array_size(b->objs) && b->in_flight < CTL_CREATE_WINDOW) {
		const char *text = json_string_value(json_array_get(b->objs, b->next));
		struct one *o = malloc(sizeof(*o));
		json_t *obj = text ? json_loads(text, 0, NULL) : NULL;
		if (!o || !obj) {
			free(o);
			json_decref(obj);
			struct recap_error *e = NULL;
			recap_error_set(&e, ENOMEM, "out of memory creating executions");
			recap_ctl_op_fail(op, e);
			b->next = json_array_size(b->objs); /* the failed pass is retried */
			return;
		}
		*o = (struct one){.b = b, .obj = obj};
		b->next++;
		unsigned before = op->pending;
		recap_ctl_op_create_answered(op, &recap_ctl_execs, b->ns, obj, CTL_OK_EXISTS, answered, o);
		if (op->pending == before) { /* not sent: the pass failed */
			json_decref(obj);
			free(o);
			continue;
		}
		b->in_flight++;
		op->ctl->execs_created++;
	}
}

void recap_ctl_create_execs(struct ctl_op *op, const char *ns, json_t *objs)
{
	struct creates *b = calloc(1, sizeof(*b));
	if (b && !(b->ns = strdup(ns))) {
		free(b);
		b = NULL;
	}
	if (!b) {
		struct recap_error *e = NULL;
		recap_error_set(&e, ENOMEM, "out of memory creating executions");
		recap_ctl_op_fail(op, e);
		json_decref(objs);
		return;
	}
	b->objs = objs;
	op->created = op->created || json_array_size(objs) > 0;
	issue_next(op, b);
	if (b->in_flight == 0)
		creates_free(b);
}
