/* Lifecycle: informers, queues, election, endpoints, graceful stop. */
#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/names.h"
#include "base/log.h"
#include "controller/ctl.h"
#include "controller/sigcheck.h"

static const char *const kind_names[KIND_N] = {RECAP_KIND_CAPSULE, RECAP_KIND_CAPSULE_POLICY,
					       RECAP_KIND_CAPSULE_RUN};
static const ctl_reconcile_fn reconcilers[KIND_N] = {
    recap_ctl_reconcile_capsule,
    recap_ctl_reconcile_policy,
    recap_ctl_reconcile_run,
};

static char *dup_or(const char *s, const char *fallback)
{
	return strdup(s && *s ? s : fallback);
}

static int copy_options(struct recap_controller *ctl, const struct recap_controller_options *o,
			struct recap_error **err)
{
	char host[256] = "recap-controller";
	gethostname(host, sizeof(host) - 1);
	char ident[320];
	snprintf(ident, sizeof(ident), "%s-%d", host, (int)getpid());
	ctl->opts = *o;
	ctl->identity = dup_or(o->identity, ident);
	ctl->lease_ns = dup_or(o->lease_namespace, recap_kube_client_namespace(ctl->client));
	ctl->lease_name = dup_or(o->lease_name, "recap-controller");
	ctl->certs_ns = dup_or(o->certs_namespace, recap_kube_client_namespace(ctl->client));
	ctl->apiserver_service = dup_or(o->apiserver_service, "recap-apiserver");
	ctl->keys_ns = dup_or(o->signing_keys_namespace, recap_kube_client_namespace(ctl->client));
	ctl->keys_read = recap_kube_strmap_new(KEYS_READ_MAX);
	if (!ctl->opts.signing_keys_check_s)
		ctl->opts.signing_keys_check_s = 60;
	if (!ctl->opts.ca_validity_s)
		ctl->opts.ca_validity_s = 3 * 365 * 86400ull;
	if (!ctl->opts.cert_validity_s)
		ctl->opts.cert_validity_s = 30 * 86400ull;
	ctl->metrics_addr = o->metrics_addr ? strdup(o->metrics_addr) : NULL;
	ctl->health_addr = o->health_addr ? strdup(o->health_addr) : NULL;
	if (!ctl->identity || !ctl->lease_ns || !ctl->lease_name || !ctl->certs_ns || !ctl->keys_ns ||
	    !ctl->keys_read || !ctl->apiserver_service || (o->metrics_addr && !ctl->metrics_addr) ||
	    (o->health_addr && !ctl->health_addr))
		return recap_error_set(err, ENOMEM, "out of memory");
	return 0;
}

static int queues_new(struct recap_controller *ctl, struct recap_error **err)
{
	for (int k = 0; k < KIND_N; k++) {
		struct recap_kube_workqueue_options o = {.name = kind_names[k], .workers = 4};
		ctl->queues[k].kind = kind_names[k];
		ctl->queues[k].reconcile = reconcilers[k];
		ctl->queues[k].not_before = recap_kube_strmap_new(RECAP_KUBE_WORKQUEUE_MAX_LEN_DEFAULT);
		if (!ctl->queues[k].not_before)
			return recap_error_set(err, ENOMEM, "out of memory");
		int r =
		    recap_kube_workqueue_new(ctl->loop, &o, recap_ctl_process, ctl, &ctl->queues[k].q, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int recap_controller_new(struct recap_kube_client *c, const struct recap_controller_options *opts,
			 struct recap_controller **ret, struct recap_error **err)
{
	struct recap_controller *ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return recap_error_set(err, ENOMEM, "out of memory");
	ctl->client = c;
	ctl->loop = recap_kube_client_loop(c);
	uv_timer_init(ctl->loop, &ctl->trim);
	uv_unref((uv_handle_t *)&ctl->trim);
	ctl->trim_init = true;
	struct recap_kube_events_options eo = {.controller = "recap.dev/controller"};
	int r = copy_options(ctl, opts, err);
	eo.instance = ctl->identity;
	if (r >= 0 && (recap_ctl_expect_new(ctl) < 0 || recap_ctl_triggers_new(ctl) < 0))
		r = recap_error_set(err, ENOMEM, "out of memory");
	if (r >= 0)
		r = recap_ctl_certs_new(ctl, err);
	if (r >= 0)
		r = queues_new(ctl, err);
	if (r >= 0)
		r = recap_ctl_informers_new(ctl, err);
	if (r >= 0)
		r = recap_kube_events_new(c, &eo, &ctl->events, err);
	if (r < 0) {
		recap_controller_free(ctl);
		return r;
	}
	*ret = ctl;
	return 0;
}

static void started_leading(struct recap_kube_leader *le, void *userdata)
{
	struct recap_controller *ctl = userdata;
	recap_ctl_log(ctl, RECAP_LOG_INFO, "leading as %s: reconcilers start", ctl->identity);
	recap_ctl_activate(ctl);
}

static void stopped_leading(struct recap_kube_leader *le, void *userdata)
{
	struct recap_controller *ctl = userdata;
	ctl->active = ctl->may_act = false;
	if (ctl->opts.fatal)
		ctl->opts.fatal(ctl, "lost the leader Lease", ctl->opts.userdata);
}

static void new_leader(struct recap_kube_leader *le, const char *identity, void *userdata)
{
	struct recap_controller *ctl = userdata;
	recap_ctl_log(ctl, RECAP_LOG_INFO, "leader is now %s", identity ? identity : "(nobody)");
}

static void leader_error(struct recap_kube_leader *le, const struct recap_error *err, void *userdata)
{
	recap_ctl_log(userdata, RECAP_LOG_WARN, "leader election: %s", recap_error_message(err));
}

static int elect(struct recap_controller *ctl, struct recap_error **err)
{
	struct recap_kube_leader_config cfg = {
	    .ns = ctl->lease_ns,
	    .name = ctl->lease_name,
	    .identity = ctl->identity,
	    .lease_duration_ms = ctl->opts.lease_duration_ms,
	    .renew_deadline_ms = ctl->opts.renew_deadline_ms,
	    .retry_period_ms = ctl->opts.retry_period_ms,
	    .started_leading = started_leading,
	    .stopped_leading = stopped_leading,
	    .new_leader = new_leader,
	    .error = leader_error,
	    .userdata = ctl,
	};
	int r = recap_kube_leader_new(ctl->client, &cfg, &ctl->leader, err);
	if (r >= 0)
		r = recap_kube_leader_start(ctl->leader, err);
	return r;
}

int recap_controller_start(struct recap_controller *ctl, struct recap_error **err)
{
	int r = recap_ctl_serve(ctl, err);
	for (int i = 0; i < INF_N && r >= 0; i++)
		r = recap_kube_informer_start(ctl->inf[i], err);
	if (r >= 0 && ctl->opts.leader_elect)
		r = elect(ctl, err);
	else if (r >= 0)
		recap_ctl_activate(ctl);
	return r;
}

bool recap_controller_ready(const struct recap_controller *ctl)
{
	/* With election, a synced replica that is standing by is ready too. Not
	 * while the API server does not answer: an informer error that no answer
	 * (an event, a list, a watch started) has followed, for less than
	 * CTL_API_DOWN_MS (longer than the watches' longest retry backoff, so a
	 * server that stays down never looks back). */
	bool answering = !ctl->api_error_ms || uv_now(ctl->loop) - ctl->api_error_ms >= CTL_API_DOWN_MS;
	return !ctl->stopping && recap_ctl_synced(ctl) && answering;
}

static void stop_step(struct recap_controller *ctl)
{
	if (ctl->stop_done)
		ctl->stop_done(ctl, ctl->stop_userdata);
}

static void leader_done(struct recap_kube_leader *le, void *userdata)
{
	stop_step(userdata);
}

static void events_done(struct recap_kube_events *ev, void *userdata)
{
	struct recap_controller *ctl = userdata;
	if (ctl->leader) {
		recap_kube_leader_stop(ctl->leader, true, leader_done);
		return;
	}
	stop_step(ctl);
}

static void queue_drained(struct recap_kube_workqueue *q, void *userdata)
{
	struct recap_controller *ctl = userdata;
	if (--ctl->stop_pending > 0)
		return;
	for (int i = 0; i < INF_N; i++) {
		recap_kube_informer_free(ctl->inf[i]);
		ctl->inf[i] = NULL;
	}
	recap_kube_events_flush(ctl->events, events_done, ctl);
}

void recap_controller_stop(struct recap_controller *ctl, recap_controller_done_fn done, void *userdata)
{
	ctl->stopping = true;
	ctl->active = false;
	ctl->stop_done = done;
	ctl->stop_userdata = userdata;
	recap_httpd_stop(ctl->metrics_srv);
	recap_httpd_stop(ctl->health_srv);
	ctl->metrics_srv = ctl->health_srv = NULL;
	uv_timer_stop(&ctl->trim);
	recap_ctl_certs_stop(ctl);
	ctl->stop_pending = KIND_N;
	for (int k = 0; k < KIND_N; k++)
		recap_kube_workqueue_shutdown(ctl->queues[k].q, false, queue_drained);
}

static void trim_closed(uv_handle_t *h)
{
	free(h->data);
}

void recap_controller_free(struct recap_controller *ctl)
{
	if (!ctl)
		return;
	recap_httpd_stop(ctl->metrics_srv);
	recap_httpd_stop(ctl->health_srv);
	for (int i = 0; i < INF_N; i++) {
		recap_kube_informer_free(ctl->inf[i]);
		recap_kube_projection_free(ctl->proj[i]);
	}
	for (int k = 0; k < KIND_N; k++) {
		recap_kube_workqueue_free(ctl->queues[k].q);
		recap_kube_strmap_free(ctl->queues[k].not_before, NULL);
	}
	recap_kube_events_free(ctl->events);
	recap_kube_leader_free(ctl->leader);
	recap_ctl_expect_free(ctl);
	recap_ctl_triggers_free(ctl);
	recap_ctl_certs_free(ctl);
	recap_ctl_sigcheck_free(ctl);
	free(ctl->identity);
	free(ctl->certs_ns);
	free(ctl->keys_ns);
	recap_kube_strmap_free(ctl->keys_read, NULL);
	free(ctl->apiserver_service);
	free(ctl->lease_ns);
	free(ctl->lease_name);
	free(ctl->metrics_addr);
	free(ctl->health_addr);
	if (ctl->trim_init) {
		ctl->trim.data = ctl;
		uv_close((uv_handle_t *)&ctl->trim, trim_closed);
		return;
	}
	free(ctl);
}
