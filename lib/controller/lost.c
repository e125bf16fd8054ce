/* Executions whose node agent is gone. caplet never starts a command past
 * spec.deadline and cuts the command's timeout at it, so an execution that
 * has not ended some time after its deadline (the margin: clock skew, the
 * escape, a status write in flight) will never run its command. The
 * controller then ends it for the lost node: status Failed, reason
 * NodeLost; and when it is being deleted, the node agent's finalizer goes
 * too, or it would stay Terminating forever. Both writes carry the
 * resourceVersion read: a node agent that wrote meanwhile wins. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/conditions.h"
#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "controller/ctl.h"

#define LOST_AFTER_DEFAULT_S 120

static bool final(json_t *e)
{
	enum recap_api_exec_phase p = recap_api_exec_status_phase(e);
	return p == RECAP_API_EXEC_PHASE_SUCCEEDED || p == RECAP_API_EXEC_PHASE_FAILED;
}

/* When e counts as lost (unix seconds), or 0 when it never does: final, or
 * without a deadline. A final execution being deleted counts as lost that
 * long after its deletion began (its agent did not release it). */
static time_t lost_at(json_t *e, int64_t margin)
{
	time_t t;
	const char *deleting = recap_api_meta_deletion_timestamp(e);
	if (final(e))
		return deleting && recap_time_parse(deleting, &t) == 0 ? t + margin : 0;
	const char *deadline = recap_api_exec_spec_deadline(e);
	return deadline && recap_time_parse(deadline, &t) == 0 ? t + margin : 0;
}

static void fail_lost(struct ctl_op *op, json_t *e, int64_t margin)
{
	char when[40], msg[400];
	if (recap_time_format(recap_kube_client_now(op->ctl->client), when, sizeof(when)) < 0)
		return;
	snprintf(msg, sizeof(msg),
		 "the node agent on %s did not report by spec.deadline %s plus %llds: the node or its agent "
		 "is lost, and the command can no longer start",
		 recap_api_exec_spec_node(e) ?: "(no node)", recap_api_exec_spec_deadline(e),
		 (long long)margin);
	json_t *patch = json_pack("{s:{s:s}, s:{s:s, s:s, s:s, s:s}}", "metadata", "resourceVersion",
				  recap_api_meta_resource_version(e), "status", "phase", RECAP_PHASE_FAILED,
				  "reason", RECAP_REASON_NODE_LOST, "message", msg, "completionTime", when);
	/* Reconciling False, Stalled True, as the node agent would have said */
	if (patch && recap_api_exec_phase_conditions(json_object_get(patch, "status"), e,
						     recap_kube_client_now(op->ctl->client)) < 0) {
		json_decref(patch);
		patch = NULL;
	}
	if (patch)
		recap_ctl_op_patch(op, &recap_ctl_execs, recap_api_meta_namespace(e), recap_api_meta_name(e),
				   "status", patch);
	json_decref(patch);
	recap_ctl_op_event(op, e, RECAP_KIND_CAPSULE_EXECUTION, "Warning", RECAP_REASON_NODE_LOST, "%s", msg);
}

/* The finalizers of e without the node agent's; NULL when it has none. */
static json_t *without_escape(json_t *e)
{
	json_t *left = json_array(), *f;
	bool had = false;
	size_t i;
	json_array_foreach (recap_api_meta_finalizers(e), i, f) {
		if (json_is_string(f) && strcmp(json_string_value(f), RECAP_FINALIZER_ESCAPE) == 0)
			had = true;
		else
			json_array_append(left, f);
	}
	if (!had)
		json_decref(left);
	return had ? left : NULL;
}

static void release_lost(struct ctl_op *op, json_t *e)
{
	json_t *left = without_escape(e);
	if (!left)
		return;
	json_t *patch = json_pack("{s:{s:s, s:o}}", "metadata", "resourceVersion",
				  recap_api_meta_resource_version(e), "finalizers", left);
	if (patch)
		recap_ctl_op_patch(op, &recap_ctl_execs, recap_api_meta_namespace(e), recap_api_meta_name(e),
				   NULL, patch);
	json_decref(patch);
}

void recap_ctl_lost_exec(struct ctl_op *op, json_t *e, time_t now)
{
	int64_t margin =
	    op->ctl->opts.exec_lost_after_s ? (int64_t)op->ctl->opts.exec_lost_after_s : LOST_AFTER_DEFAULT_S;
	time_t at = lost_at(e, margin);
	if (!at || !recap_api_meta_resource_version(e))
		return;
	if (at > now) { /* look again then */
		recap_ctl_op_requeue(op, (uint64_t)(at - now) * 1000000000ull + 500000000ull);
		return;
	}
	bool deleting = recap_api_meta_deletion_timestamp(e) != NULL;
	if (deleting)
		release_lost(op, e);
	else if (!final(e))
		fail_lost(op, e, margin);
}
