/* The agent's side of the node's artifacts (artifacts.h): each run's /out
 * reserved against the quota when its spec is built, its record written and
 * its grant released when it ends, and the sweep of what expired: at start
 * (blocking, before the loop runs) and every minute on libuv's thread pool,
 * so that removing a large tree never stalls the loop. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "caplet/agent.h"

struct caplet_sweep_job {
	uv_work_t work;
	struct recap_caplet *c; /* NULL once the agent is freed */
	char *root;
	int64_t now;
	int r;
	struct recap_caplet_artifacts_sweep st;
	struct recap_error *err;
};

static void account(struct recap_caplet *c, int r, const struct recap_caplet_artifacts_sweep *st,
		    struct recap_error *err)
{
	c->metric_artifacts_removed += (unsigned long long)st->removed_runs;
	c->metric_artifacts_removed_bytes += (unsigned long long)st->removed_bytes;
	c->quota.used = st->used_bytes;
	if (r < 0)
		caplet_logf(c, RECAP_LOG_WARN, "artifacts: %s", recap_error_message(err));
	if (st->removed_runs)
		caplet_logf(c, RECAP_LOG_INFO, "artifacts: removed %lld expired runs (%lld bytes)",
			    (long long)st->removed_runs, (long long)st->removed_bytes);
}

static void sweep_work(uv_work_t *w)
{
	struct caplet_sweep_job *j = w->data;
	j->r = recap_caplet_artifacts_sweep(j->root, j->now, RECAP_CAPLET_RETENTION_DEFAULT, &j->st, &j->err);
}

static void sweep_done(uv_work_t *w, int status)
{
	struct caplet_sweep_job *j = w->data;
	if (j->c) {
		j->c->sweep_job = NULL;
		if (status == 0)
			account(j->c, j->r, &j->st, j->err);
	}
	recap_error_free(j->err);
	free(j->root);
	free(j);
}

static void on_sweep_timer(uv_timer_t *t)
{
	struct recap_caplet *c = t->data;
	if (c->sweep_job)
		return; /* the last one has not finished */
	struct caplet_sweep_job *j = calloc(1, sizeof(*j));
	if (!j || !(j->root = strdup(c->o.root))) {
		free(j);
		return;
	}
	j->c = c;
	j->now = (int64_t)time(NULL);
	j->work.data = j;
	if (uv_queue_work(c->loop, &j->work, sweep_work, sweep_done) < 0) {
		free(j->root);
		free(j);
		return;
	}
	c->sweep_job = j;
}

int caplet_artifacts_start(struct recap_caplet *c, struct recap_error **err)
{
	c->quota.limit =
	    c->o.artifacts_quota > 0 ? c->o.artifacts_quota : RECAP_CAPLET_ARTIFACTS_QUOTA_DEFAULT;
	struct recap_caplet_artifacts_sweep st;
	struct recap_error *e = NULL;
	int r = recap_caplet_artifacts_sweep(c->o.root, (int64_t)time(NULL), RECAP_CAPLET_RETENTION_DEFAULT,
					     &st, &e);
	account(c, r, &st, e); /* a sweep that failed is tried again in a minute */
	recap_error_free(e);
	(void)err;
	uv_timer_init(c->loop, &c->artifacts_timer);
	c->artifacts_timer.data = c;
	uv_timer_start(&c->artifacts_timer, on_sweep_timer, CAPLET_ARTIFACTS_SWEEP_MS,
		       CAPLET_ARTIFACTS_SWEEP_MS);
	return 0;
}

void caplet_artifacts_stop(struct recap_caplet *c)
{
	if (c->artifacts_timer.loop)
		uv_timer_stop(&c->artifacts_timer);
	if (c->sweep_job)
		c->sweep_job->c = NULL; /* it frees itself when done */
	c->sweep_job = NULL;
}

int caplet_artifacts_reserve(struct caplet_exec *x, json_t *spec)
{
	struct recap_caplet *c = x->agent;
	caplet_artifacts_release(x); /* a spec built again */
	int64_t asked;
	if (recap_caplet_spec_out_size(spec, &asked) < 0)
		return -EINVAL;
	x->out_asked = asked;
	x->out_granted = recap_caplet_quota_reserve(&c->quota, asked);
	x->out_reserved = true;
	if (x->out_granted < asked) {
		caplet_logf(c, RECAP_LOG_INFO,
			    "execution %s: the artifact quota leaves /out %lld of %lld bytes", x->key,
			    (long long)x->out_granted, (long long)asked);
		return recap_caplet_spec_set_out_size(spec, x->out_granted);
	}
	return 0;
}

void caplet_artifacts_release(struct caplet_exec *x)
{
	if (!x->out_reserved)
		return;
	recap_caplet_quota_release(&x->agent->quota, x->out_granted, 0);
	x->out_reserved = false;
}

void caplet_artifacts_ended(struct caplet_exec *x, json_t *result, int64_t end_us)
{
	struct recap_caplet *c = x->agent;
	int64_t kept = recap_json_int(result, "outBytes", 0);
	struct recap_error *e = NULL;
	if (x->out_reserved && x->out_granted == 0 && kept > 0) {
		if (recap_caplet_artifacts_discard(c->o.root, x->run_id, &e) < 0)
			caplet_logf(c, RECAP_LOG_WARN, "execution %s: %s", x->key, recap_error_message(e));
		recap_error_free(steal_ptr(e));
		kept = 0;
	}
	if (x->out_reserved)
		recap_caplet_quota_release(&c->quota, x->out_granted, kept);
	x->out_reserved = false;
	json_t *cap = recap_api_exec_spec_capsule(x->obj);
	struct recap_caplet_artifacts_meta m = {
	    .end = end_us / 1000000,
	    .expire = end_us / 1000000 + recap_api_profile_output_retention_seconds(cap),
	};
	snprintf(m.ns, sizeof(m.ns), "%s", x->ns);
	snprintf(m.name, sizeof(m.name), "%s", x->name);
	if (recap_caplet_artifacts_meta_write(c->o.root, x->run_id, &m, &e) < 0)
		caplet_logf(c, RECAP_LOG_WARN, "execution %s: %s", x->key, recap_error_message(e));
	recap_error_free(e);
}
