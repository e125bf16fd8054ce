#include "kubecache/leader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "kubecache/microtime.h"

#define MAX_PERIOD_MS (3600 * 1000ull)
#define JITTER 1.2

static const struct recap_kube_resource LEASES = {"coordination.k8s.io", "v1", "leases", true};

struct recap_kube_leader {
	struct recap_kube_client *c;
	struct recap_kube_leader_config cfg;
	char *ns, *name, *identity;
	uv_timer_t timer;
	json_t *lease;		/* the Lease as last written by us */
	char *observed_holder;	/* holderIdentity last read */
	char *observed_renew;	/* renewTime last read */
	uint64_t observed_ms;	/* when the record last changed, our clock */
	uint64_t last_renew_ms; /* our last successful write */
	bool started, leader, in_flight, stopping, freed, timer_closed;
	bool release_pending; /* stop asked for a release while a round was in flight */
	recap_kube_leader_done_fn done;
};

int recap_kube_leader_validate(const struct recap_kube_leader_config *cfg, struct recap_error **err)
{
	if (!cfg->ns || !*cfg->ns || !cfg->name || !*cfg->name)
		return recap_error_set(err, EINVAL,
				       "leader election: the Lease needs a namespace and a name");
	if (!cfg->identity || !*cfg->identity)
		return recap_error_set(err, EINVAL, "leader election: identity must not be empty");
	uint64_t lease = cfg->lease_duration_ms, renew = cfg->renew_deadline_ms, retry = cfg->retry_period_ms;
	if (retry == 0 || lease > MAX_PERIOD_MS)
		return recap_error_set(err, EINVAL,
				       "leader election: retry period must be > 0 and lease duration at most "
				       "1h (got retry %" PRIu64 " ms, lease %" PRIu64 " ms)",
				       retry, lease);
	if (lease <= renew)
		return recap_error_set(err, EINVAL,
				       "leader election: lease duration (%" PRIu64
				       " ms) must be greater than the renew deadline (%" PRIu64 " ms)",
				       lease, renew);
	if ((double)renew <= JITTER * (double)retry)
		return recap_error_set(err, EINVAL,
				       "leader election: renew deadline (%" PRIu64
				       " ms) must be greater than 1.2 x retry period (%" PRIu64 " ms)",
				       renew, retry);
	if (lease < 1000)
		return recap_error_set(err, EINVAL, "leader election: lease duration must be at least 1 s");
	return 0;
}

bool recap_kube_leader_is_leader(const struct recap_kube_leader *le)
{
	return le->leader && recap_now_mono_ms() - le->last_renew_ms < le->cfg.renew_deadline_ms;
}

const char *recap_kube_leader_holder(const struct recap_kube_leader *le)
{
	return le->observed_holder;
}

static void destroy(struct recap_kube_leader *le)
{
	json_decref(le->lease);
	free(le->observed_holder);
	free(le->observed_renew);
	free(le->ns);
	free(le->name);
	free(le->identity);
	free(le);
}

static void maybe_destroy(struct recap_kube_leader *le)
{
	if (le->freed && !le->in_flight && le->timer_closed)
		destroy(le);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct recap_kube_leader *le = h->data;
	le->timer_closed = true;
	maybe_destroy(le);
}

void recap_kube_leader_free(struct recap_kube_leader *le)
{
	if (!le || le->freed)
		return;
	le->freed = true;
	le->stopping = true;
	uv_close((uv_handle_t *)&le->timer, on_timer_closed);
}

static void report(struct recap_kube_leader *le, const struct recap_error *err)
{
	if (le->cfg.error && err && !le->stopping)
		le->cfg.error(le, err, le->cfg.userdata);
}

static void lose(struct recap_kube_leader *le)
{
	if (!le->leader)
		return;
	le->leader = false;
	if (le->cfg.stopped_leading && !le->stopping)
		le->cfg.stopped_leading(le, le->cfg.userdata);
}

/* Notes what the Lease says; a change restarts our expiry clock. */
static void observe(struct recap_kube_leader *le, const char *holder, const char *renew)
{
	holder = holder && *holder ? holder : NULL;
	bool same_holder = (!holder && !le->observed_holder) ||
			   (holder && le->observed_holder && strcmp(holder, le->observed_holder) == 0);
	bool same_renew = renew && le->observed_renew && strcmp(renew, le->observed_renew) == 0;
	if (same_holder && same_renew)
		return;
	le->observed_ms = recap_now_mono_ms();
	free(le->observed_renew);
	le->observed_renew = renew ? strdup(renew) : NULL;
	if (same_holder)
		return;
	free(le->observed_holder);
	le->observed_holder = holder ? strdup(holder) : NULL;
	if (le->cfg.new_leader && !le->stopping)
		le->cfg.new_leader(le, le->observed_holder, le->cfg.userdata);
}

/* ---- one round: read, then create or update ---- */

static void schedule(struct recap_kube_leader *le);
static int release(struct recap_kube_leader *le);

static void round_over(struct recap_kube_leader *le)
{
	le->in_flight = false;
	if (le->freed) {
		maybe_destroy(le);
		return;
	}
	if (le->stopping && le->release_pending) {
		le->release_pending = false;
		if (le->lease && release(le) >= 0)
			return;
	}
	if (le->stopping) {
		if (le->done) {
			recap_kube_leader_done_fn done = le->done;
			le->done = NULL;
			done(le, le->cfg.userdata);
		}
		return;
	}
	schedule(le);
}

static void on_write(const struct recap_kube_response *resp, void *userdata)
{
	struct recap_kube_leader *le = userdata;
	if (resp->code == RECAP_KUBE_OK && !le->freed) {
		json_decref(le->lease);
		le->lease = json_incref(resp->object);
		le->last_renew_ms = recap_now_mono_ms();
		observe(le, le->identity, recap_json_str(resp->object, "spec.renewTime"));
		if (!le->leader && !le->stopping) {
			le->leader = true;
			if (le->cfg.started_leading)
				le->cfg.started_leading(le, le->cfg.userdata);
		}
	} else if (!le->freed) {
		if (resp->code != RECAP_KUBE_ERR_CONFLICT && resp->code != RECAP_KUBE_ERR_ALREADY_EXISTS)
			report(le, resp->err);
	}
	round_over(le);
}

static json_t *lease_spec(struct recap_kube_leader *le, json_t *old_spec)
{
	char now[RECAP_KUBE_MICROTIME_LEN];
	recap_kube_microtime_now(now);
	const char *holder = recap_json_str(old_spec, "holderIdentity");
	bool ours = holder && strcmp(holder, le->identity) == 0;
	json_int_t transitions = recap_json_int(old_spec, "leaseTransitions", 0);
	const char *acquired = recap_json_str(old_spec, "acquireTime");
	return json_pack("{s:s, s:I, s:s, s:s, s:I}", "holderIdentity", le->identity, "leaseDurationSeconds",
			 (json_int_t)((le->cfg.lease_duration_ms + 999) / 1000), "acquireTime",
			 ours && acquired ? acquired : now, "renewTime", now, "leaseTransitions",
			 old_spec && !ours && holder && *holder ? transitions + 1 : transitions);
}

static int write_lease(struct recap_kube_leader *le, json_t *current, struct recap_error **err)
{
	json_t *spec = lease_spec(le, json_object_get(current, "spec"));
	if (!spec)
		return recap_error_set(err, ENOMEM, "leader election: out of memory");
	if (!current) {
		_cleanup_json_ json_t *obj =
		    json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "coordination.k8s.io/v1", "kind",
			      "Lease", "metadata", "name", le->name, "namespace", le->ns, "spec", spec);
		return recap_kube_create(le->c, &LEASES, le->ns, obj, on_write, le, err);
	}
	_cleanup_json_ json_t *obj = json_deep_copy(current);
	if (!obj || json_object_set_new(obj, "spec", spec) < 0)
		return recap_error_set(err, ENOMEM, "leader election: out of memory");
	return recap_kube_update(le->c, &LEASES, le->ns, obj, NULL, on_write, le, err);
}

/* Whether someone else holds a Lease that has not expired on our clock. */
static bool held_by_other(struct recap_kube_leader *le, json_t *lease)
{
	const char *holder = recap_json_str(lease, "spec.holderIdentity");
	if (!holder || !*holder || strcmp(holder, le->identity) == 0)
		return false;
	int64_t secs = recap_json_int(lease, "spec.leaseDurationSeconds", 0);
	return le->observed_ms + (uint64_t)(secs > 0 ? secs : 0) * 1000 > recap_now_mono_ms();
}

static void on_get(const struct recap_kube_response *resp, void *userdata)
{
	struct recap_kube_leader *le = userdata;
	struct recap_error *err = NULL;
	int r = -EAGAIN;
	if (le->freed || le->stopping) {
		round_over(le);
		return;
	}
	if (resp->code == RECAP_KUBE_ERR_NOT_FOUND) {
		r = write_lease(le, NULL, &err);
	} else if (resp->code == RECAP_KUBE_OK) {
		observe(le, recap_json_str(resp->object, "spec.holderIdentity"),
			recap_json_str(resp->object, "spec.renewTime"));
		if (held_by_other(le, resp->object))
			lose(le); /* someone else took it over */
		else
			r = write_lease(le, resp->object, &err);
	} else {
		report(le, resp->err);
	}
	if (r >= 0)
		return; /* on_write ends the round */
	report(le, err);
	recap_error_free(err);
	round_over(le);
}

static void on_tick(uv_timer_t *t)
{
	struct recap_kube_leader *le = t->data;
	if (le->leader && recap_now_mono_ms() - le->last_renew_ms >= le->cfg.renew_deadline_ms)
		lose(le); /* could not renew in time: others may take over soon */
	if (le->in_flight) {
		schedule(le);
		return;
	}
	struct recap_error *err = NULL;
	if (recap_kube_get(le->c, &LEASES, le->ns, le->name, NULL, on_get, le, &err) < 0) {
		report(le, err);
		recap_error_free(err);
		schedule(le);
		return;
	}
	le->in_flight = true;
	/* Ticks go on while the round is in flight: a Lease request that hangs
	 * must not keep a leader that can no longer renew from stepping down
	 * at its renew deadline. */
	if (le->leader)
		schedule(le);
}

static void schedule(struct recap_kube_leader *le)
{
	uint64_t d = le->cfg.retry_period_ms;
	if (!le->leader)
		d += (uint64_t)((double)d * (JITTER - 1.0) * ((double)random() / RAND_MAX));
	uv_timer_start(&le->timer, on_tick, d, 0);
}

/* ---- lifecycle ---- */

static void on_released(const struct recap_kube_response *resp, void *userdata)
{
	struct recap_kube_leader *le = userdata;
	le->leader = false;
	round_over(le);
}

static int release(struct recap_kube_leader *le)
{
	char now[RECAP_KUBE_MICROTIME_LEN];
	recap_kube_microtime_now(now);
	_cleanup_json_ json_t *obj = json_deep_copy(le->lease);
	json_t *spec = json_pack("{s:s, s:I, s:s, s:s, s:I}", "holderIdentity", "", "leaseDurationSeconds",
				 (json_int_t)1, "acquireTime", now, "renewTime", now, "leaseTransitions",
				 (json_int_t)recap_json_int(le->lease, "spec.leaseTransitions", 0));
	if (!obj || !spec || json_object_set_new(obj, "spec", spec) < 0)
		return -ENOMEM;
	int r = recap_kube_update(le->c, &LEASES, le->ns, obj, NULL, on_released, le, NULL);
	if (r >= 0)
		le->in_flight = true;
	return r;
}

static void on_stop_timer(uv_timer_t *t)
{
	struct recap_kube_leader *le = t->data;
	if (le->in_flight)
		return; /* round_over calls done */
	round_over(le);
}

void recap_kube_leader_stop(struct recap_kube_leader *le, bool release_lease, recap_kube_leader_done_fn done)
{
	if (le->stopping)
		return;
	le->stopping = true;
	le->done = done;
	uv_timer_stop(&le->timer);
	/* A round in flight ends first; its write may even make us leader, so
	 * the release is decided when it is over. */
	if (release_lease && le->in_flight) {
		le->release_pending = true;
		return;
	}
	if (release_lease && le->lease && release(le) >= 0)
		return;
	if (!release_lease)
		le->leader = false;
	uv_timer_start(&le->timer, on_stop_timer, 0, 0);
}

int recap_kube_leader_new(struct recap_kube_client *c, const struct recap_kube_leader_config *cfg,
			  struct recap_kube_leader **ret, struct recap_error **err)
{
	struct recap_kube_leader_config k = *cfg;
	if (!k.lease_duration_ms && !k.renew_deadline_ms && !k.retry_period_ms) {
		k.lease_duration_ms = RECAP_KUBE_LEASE_DURATION_MS;
		k.renew_deadline_ms = RECAP_KUBE_RENEW_DEADLINE_MS;
		k.retry_period_ms = RECAP_KUBE_RETRY_PERIOD_MS;
	}
	int r = recap_kube_leader_validate(&k, err);
	if (r < 0)
		return r;
	struct recap_kube_leader *le = calloc(1, sizeof(*le));
	if (!le)
		return recap_error_set(err, ENOMEM, "leader election: out of memory");
	le->cfg = k;
	le->ns = strdup(k.ns);
	le->name = strdup(k.name);
	le->identity = strdup(k.identity);
	le->cfg.ns = le->cfg.name = le->cfg.identity = NULL;
	if (!le->ns || !le->name || !le->identity) {
		destroy(le);
		return recap_error_set(err, ENOMEM, "leader election: out of memory");
	}
	r = uv_timer_init(recap_kube_client_loop(c), &le->timer);
	if (r < 0) {
		destroy(le);
		return recap_error_set(err, -r, "leader election: timer: %s", uv_strerror(r));
	}
	le->timer.data = le;
	le->c = c;
	*ret = le;
	return 0;
}

int recap_kube_leader_start(struct recap_kube_leader *le, struct recap_error **err)
{
	if (le->started || le->stopping)
		return recap_error_set(err, EALREADY, "leader election %s/%s: already started", le->ns,
				       le->name);
	le->started = true;
	uv_timer_start(&le->timer, on_tick, 0, 0);
	return 0;
}
