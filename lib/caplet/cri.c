/* Confirming an execution's target through the node's CRI before anything
 * of it starts: a `capsule-cri cri-status` child (the HTTP/2 client stays
 * out of the agent's process) on the loop, its answer checked by
 * recap_caplet_target_check. There is no unverified path: an unreachable
 * CRI fails the execution. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"

#define CRI_TIMEOUT_MS "5000"
#define CRI_EXIT_NOT_FOUND 3

struct cri_ask {
	struct caplet_exec *x;
	caplet_target_cb cb;
};

/* What the helper said on stderr, without its log prefix ("... error
 * capsule: ") and its last newline, into buf. */
static const char *helper_message(const char *tail, char *buf, size_t size)
{
	const char *m = tail ? strstr(tail, "capsule: ") : NULL;
	snprintf(buf, size, "%s", m ? m + 9 : (tail && *tail ? tail : "no message"));
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return buf;
}

static void on_status(struct caplet_proc *p, int64_t status, int sig, const struct recap_buf *out,
		      const char *errtail, void *data)
{
	struct cri_ask a = *(struct cri_ask *)data;
	free(data);
	struct caplet_exec *x = a.x;
	const char *endpoint = x->agent->o.cri_endpoint;
	x->proc = NULL;
	char msg[1024], said[CAPLET_PROC_STDERR_KEEP + 1];
	if (status == CRI_EXIT_NOT_FOUND) {
		snprintf(msg, sizeof(msg), "the container runtime (%s) does not know the target: %s",
			 endpoint, helper_message(errtail, said, sizeof(said)));
		a.cb(x, 0, RECAP_REASON_TARGET_NOT_FOUND, msg);
		return;
	}
	_cleanup_json_ json_t *cri = NULL;
	if (status == 0 && out->len)
		recap_json_parse(out->data, out->len, CAPLET_PROC_STDOUT_MAX, &cri, NULL);
	if (!json_is_object(cri)) {
		snprintf(msg, sizeof(msg), "the target could not be confirmed through the CRI at %s: %s",
			 endpoint,
			 status == 0 ? "capsule cri-status printed no answer"
				     : helper_message(errtail, said, sizeof(said)));
		a.cb(x, 0, RECAP_REASON_START_FAILED, msg);
		return;
	}
	_cleanup_error_ struct recap_error *err = NULL;
	const char *reason = NULL;
	int pid = 0;
	if (recap_caplet_target_check(x->obj, cri, &pid, &reason, &err) < 0) {
		snprintf(msg, sizeof(msg), "%s (CRI at %s)", recap_error_message(err), endpoint);
		a.cb(x, 0, reason, msg);
		return;
	}
	a.cb(x, pid, NULL, NULL);
}

void caplet_target_confirm(struct caplet_exec *x, caplet_target_cb cb)
{
	struct recap_caplet *c = x->agent;
	_cleanup_error_ struct recap_error *err = NULL;
	const char *id = recap_caplet_target_id(x->obj, &err);
	if (!id) {
		cb(x, 0, RECAP_REASON_INVALID_SPEC, recap_error_message(err));
		return;
	}
	struct cri_ask *a = malloc(sizeof(*a));
	if (!a) {
		cb(x, 0, RECAP_REASON_START_FAILED, "out of memory");
		return;
	}
	*a = (struct cri_ask){.x = x, .cb = cb};
	struct caplet_argv v = {.n = 0};
	caplet_argv_add(&v, c->cri_bin);
	const char *tail[] = {
	    "cri-status", "--endpoint", c->o.cri_endpoint, "--timeout-ms", CRI_TIMEOUT_MS, "--", id};
	for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
		caplet_argv_add(&v, tail[i]);
	if (caplet_argv_done(&v, &err) < 0 ||
	    caplet_proc_spawn(c->loop, (char *const *)v.v, NULL, 0, on_status, a, &x->proc, &err) < 0) {
		free(a);
		char msg[1024];
		snprintf(msg, sizeof(msg), "cannot ask the CRI at %s: %s", c->o.cri_endpoint,
			 recap_error_message(err));
		cb(x, 0, RECAP_REASON_START_FAILED, msg);
	}
}
