/* The relay certificates: while this replica may act (leading, or no
 * election), at start and every opts.cert_check_s, the CA Secret, the
 * three leaf Secrets and the APIService's caBundle are read and, where
 * certs_plan.c says so, written. Writes carry the resourceVersion read
 * (create when there was none): a 409 means another writer came first,
 * and the next round, a second later, reads again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "controller/ctl.h"

#define CONFLICT_RETRY_MS 1000

static const struct recap_kube_resource secrets = {"", "v1", "secrets", true};
static const struct recap_kube_resource apiservices = {"apiregistration.k8s.io", "v1", "apiservices", false};

struct ctl_certs {
	struct recap_controller *ctl;
	uv_timer_t timer;
	bool started, closing;
	const char *names[CTL_CERTS_LEAVES];
	struct recap_certs_leaf_spec specs[CTL_CERTS_LEAVES];
	char *dns[3];
	const char *apiserver_dns[2];
};

/* One round: every call it issued answers before the next is scheduled. */
struct round {
	struct ctl_certs *cc;
	int64_t now;
	struct recap_certs_pair ca;
	char *bundle;
	unsigned pending;
	bool conflict;
	struct recap_error *err;
};

struct call {
	struct round *rd;
	int leaf; /* index in specs; -1: the CA or the APIService */
};

static void tick(uv_timer_t *t);

static void round_end(struct round *rd)
{
	struct ctl_certs *cc = rd->cc;
	struct recap_controller *ctl = cc->ctl;
	if (rd->err)
		recap_ctl_log(ctl, RECAP_LOG_WARN, "relay certificates: %s", recap_error_message(rd->err));
	if (!cc->closing && !ctl->stopping)
		uv_timer_start(&cc->timer, tick,
			       rd->conflict && !rd->err ? CONFLICT_RETRY_MS : ctl->opts.cert_check_s * 1000,
			       0);
	recap_error_free(rd->err);
	recap_certs_pair_clear(&rd->ca);
	free(rd->bundle);
	free(rd);
}

static void call_done(struct call *c)
{
	struct round *rd = c->rd;
	free(c);
	if (--rd->pending == 0)
		round_end(rd);
}

static bool round_over(struct round *rd)
{
	return rd->cc->closing || rd->cc->ctl->stopping;
}

/* Keeps the first error of the round (err is consumed). */
static void round_error(struct round *rd, struct recap_error *err)
{
	if (!rd->err)
		rd->err = err;
	else
		recap_error_free(err);
}

/* An answer that is not success: a 409 (by status) is a conflict,
 * anything else an error. */
static void answer_error(struct round *rd, const struct recap_kube_response *resp, const char *what)
{
	if (resp->http_status == 409) {
		rd->conflict = true;
		return;
	}
	if (resp->code == RECAP_KUBE_ERR_CANCELLED)
		return;
	struct recap_error *e = NULL;
	recap_error_set(&e, EIO, "%s: %s", what, resp->err ? recap_error_message(resp->err) : "failed");
	round_error(rd, e);
}

typedef int (*issue_fn)(struct recap_kube_client *c, struct call *call, void *arg, struct recap_error **err);

/* Issues one call of the round; a call that cannot be formed is an error. */
static void round_call(struct round *rd, int leaf, issue_fn fn, void *arg)
{
	struct recap_error *err = NULL;
	struct call *c = calloc(1, sizeof(*c));
	if (!c) {
		recap_error_set(&err, ENOMEM, "out of memory");
		round_error(rd, err);
		return;
	}
	*c = (struct call){rd, leaf};
	rd->pending++;
	if (fn(rd->cc->ctl->client, c, arg, &err) < 0) {
		round_error(rd, err);
		rd->pending--;
		free(c);
	}
}

/* ---- writes ---- */

static void written(const struct recap_kube_response *resp, void *userdata)
{
	struct call *c = userdata;
	if (resp->code != RECAP_KUBE_OK)
		answer_error(c->rd, resp, "writing a Secret");
	call_done(c);
}

static int write_secret(struct recap_kube_client *cl, struct call *c, void *obj, struct recap_error **err)
{
	const char *ns = c->rd->cc->ctl->certs_ns;
	if (recap_json_str(obj, "metadata.resourceVersion"))
		return recap_kube_update(cl, &secrets, ns, obj, NULL, written, c, err);
	return recap_kube_create(cl, &secrets, ns, obj, written, c, err);
}

/* ---- the APIService's caBundle ---- */

static int patch_apiservice(struct recap_kube_client *cl, struct call *c, void *patch,
			    struct recap_error **err)
{
	return recap_kube_patch(cl, &apiservices, NULL, CTL_CERTS_APISERVICE, NULL, RECAP_KUBE_PATCH_MERGE,
				patch, NULL, written, c, err);
}

static void apiservice_got(const struct recap_kube_response *resp, void *userdata)
{
	struct call *c = userdata;
	struct round *rd = c->rd;
	if (resp->code == RECAP_KUBE_OK && !round_over(rd)) {
		_cleanup_free_ char *want = recap_ctl_certs_base64(rd->bundle);
		const char *have = recap_json_str(resp->object, "spec.caBundle");
		_cleanup_json_ json_t *patch =
		    want && (!have || strcmp(have, want) != 0)
			? json_pack("{s:{s:s}, s:{s:s}}", "metadata", "resourceVersion",
				    recap_json_str(resp->object, "metadata.resourceVersion") ?: "", "spec",
				    "caBundle", want)
			: NULL;
		if (patch)
			round_call(rd, -1, patch_apiservice, patch);
	} else if (resp->code != RECAP_KUBE_OK && resp->code != RECAP_KUBE_ERR_NOT_FOUND) {
		/* none: the installer creates it */
		answer_error(rd, resp, "reading APIService " CTL_CERTS_APISERVICE);
	}
	call_done(c);
}

static int get_apiservice(struct recap_kube_client *cl, struct call *c, void *arg, struct recap_error **err)
{
	return recap_kube_get(cl, &apiservices, NULL, CTL_CERTS_APISERVICE, NULL, apiservice_got, c, err);
}

/* ---- the leaves ---- */

static void log_issued(struct round *rd, const char *name, const char *why, int64_t not_after)
{
	char until[40];
	recap_time_format((time_t)not_after, until, sizeof(until));
	recap_ctl_log(rd->cc->ctl, RECAP_LOG_INFO, "issued %s, valid until %s (the one it replaces: %s)",
		      name, until, why);
}

static void leaf_got(const struct recap_kube_response *resp, void *userdata)
{
	struct call *c = userdata;
	struct round *rd = c->rd;
	struct ctl_certs *cc = rd->cc;
	const char *name = cc->names[c->leaf];
	if (resp->code != RECAP_KUBE_OK && resp->code != RECAP_KUBE_ERR_NOT_FOUND) {
		answer_error(rd, resp, "reading a Secret");
	} else if (!round_over(rd)) {
		json_t *obj = resp->code == RECAP_KUBE_OK ? resp->object : NULL, *write = NULL;
		const char *why = NULL;
		int64_t until = 0;
		struct recap_error *err = NULL;
		if (recap_ctl_certs_plan_leaf(obj, cc->ctl->certs_ns, name, &cc->specs[c->leaf], &rd->ca,
					      rd->bundle, rd->now, &write, &why, &until, &err) < 0)
			round_error(rd, err);
		if (write && why)
			log_issued(rd, name, why, until);
		if (write)
			round_call(rd, c->leaf, write_secret, write);
		json_decref(write);
	}
	call_done(c);
}

static int get_leaf(struct recap_kube_client *cl, struct call *c, void *arg, struct recap_error **err)
{
	return recap_kube_get(cl, &secrets, c->rd->cc->ctl->certs_ns, c->rd->cc->names[c->leaf], NULL,
			      leaf_got, c, err);
}

/* With the CA settled: every leaf, and the APIService. */
static void leaves(struct round *rd)
{
	for (int i = 0; i < CTL_CERTS_LEAVES; i++)
		round_call(rd, i, get_leaf, NULL);
	round_call(rd, -1, get_apiservice, NULL);
}

/* ---- the CA ---- */

static void ca_written(const struct recap_kube_response *resp, void *userdata)
{
	struct call *c = userdata;
	if (resp->code != RECAP_KUBE_OK)
		answer_error(c->rd, resp, "writing Secret " CTL_CERTS_CA_SECRET);
	else if (!round_over(c->rd))
		leaves(c->rd);
	call_done(c);
}

static int write_ca(struct recap_kube_client *cl, struct call *c, void *obj, struct recap_error **err)
{
	const char *ns = c->rd->cc->ctl->certs_ns;
	if (recap_json_str(obj, "metadata.resourceVersion"))
		return recap_kube_update(cl, &secrets, ns, obj, NULL, ca_written, c, err);
	return recap_kube_create(cl, &secrets, ns, obj, ca_written, c, err);
}

static void ca_got(const struct recap_kube_response *resp, void *userdata)
{
	struct call *c = userdata;
	struct round *rd = c->rd;
	struct recap_controller *ctl = rd->cc->ctl;
	if (resp->code != RECAP_KUBE_OK && resp->code != RECAP_KUBE_ERR_NOT_FOUND) {
		answer_error(rd, resp, "reading Secret " CTL_CERTS_CA_SECRET);
	} else if (!round_over(rd)) {
		json_t *obj = resp->code == RECAP_KUBE_OK ? resp->object : NULL, *write = NULL;
		const char *why = NULL;
		struct recap_error *err = NULL;
		int64_t nb, na;
		if (recap_ctl_certs_plan_ca(obj, ctl->certs_ns, rd->now, (int64_t)ctl->opts.ca_validity_s,
					    &rd->ca, &rd->bundle, &write, &why, &err) < 0)
			round_error(rd, err);
		else if (why && recap_certs_times(rd->ca.cert, &nb, &na, NULL) >= 0)
			log_issued(rd, CTL_CERTS_CA_SECRET, why, na);
		if (write)
			round_call(rd, -1, write_ca, write);
		else if (!err)
			leaves(rd);
		json_decref(write);
	}
	call_done(c);
}

static int get_ca(struct recap_kube_client *cl, struct call *c, void *arg, struct recap_error **err)
{
	return recap_kube_get(cl, &secrets, c->rd->cc->ctl->certs_ns, CTL_CERTS_CA_SECRET, NULL, ca_got, c,
			      err);
}

static void tick(uv_timer_t *t)
{
	struct ctl_certs *cc = t->data;
	struct round *rd = calloc(1, sizeof(*rd));
	if (!rd) {
		uv_timer_start(&cc->timer, tick, CONFLICT_RETRY_MS, 0);
		return;
	}
	rd->cc = cc;
	rd->now = recap_kube_client_now(cc->ctl->client);
	rd->pending = 1; /* held while the first call is issued */
	round_call(rd, -1, get_ca, NULL);
	if (--rd->pending == 0)
		round_end(rd);
}

/* ---- lifecycle ---- */

static int specs_new(struct ctl_certs *cc, const char *ns, const char *service)
{
	const char *ns_ = ns;
	if (asprintf(&cc->dns[0], "%s.%s.svc", service, ns_) < 0 ||
	    asprintf(&cc->dns[1], "%s.%s.svc.cluster.local", service, ns_) < 0 ||
	    asprintf(&cc->dns[2], "caplet.%s.svc", ns_) < 0)
		return -ENOMEM;
	int64_t v = (int64_t)cc->ctl->opts.cert_validity_s;
	cc->apiserver_dns[0] = cc->dns[0];
	cc->apiserver_dns[1] = cc->dns[1];
	cc->names[0] = CTL_CERTS_APISERVER_SECRET;
	cc->specs[0] = (struct recap_certs_leaf_spec){.cn = service,
						      .dns = cc->apiserver_dns,
						      .n_dns = 2,
						      .usages = RECAP_CERTS_SERVER,
						      .validity_s = v};
	cc->names[1] = CTL_CERTS_RELAY_CLIENT_SECRET;
	cc->specs[1] = (struct recap_certs_leaf_spec){
	    .cn = "recap-apiserver", .usages = RECAP_CERTS_CLIENT, .validity_s = v};
	cc->names[2] = CTL_CERTS_CAPLET_SECRET;
	cc->specs[2] = (struct recap_certs_leaf_spec){.cn = "caplet",
						      .dns = (const char *const *)&cc->dns[2],
						      .n_dns = 1,
						      .usages = RECAP_CERTS_SERVER,
						      .validity_s = v};
	return 0;
}

int recap_ctl_certs_new(struct recap_controller *ctl, struct recap_error **err)
{
	struct ctl_certs *cc = calloc(1, sizeof(*cc));
	if (!cc)
		return recap_error_set(err, ENOMEM, "out of memory");
	cc->ctl = ctl;
	ctl->certs = cc;
	uv_timer_init(ctl->loop, &cc->timer);
	uv_unref((uv_handle_t *)&cc->timer);
	cc->timer.data = cc;
	if (specs_new(cc, ctl->certs_ns, ctl->apiserver_service) < 0)
		return recap_error_set(err, ENOMEM, "out of memory");
	return 0;
}

void recap_ctl_certs_start(struct recap_controller *ctl)
{
	struct ctl_certs *cc = ctl->certs;
	if (!cc || cc->started || cc->closing || !ctl->opts.cert_check_s)
		return;
	cc->started = true;
	uv_timer_start(&cc->timer, tick, 0, 0);
}

void recap_ctl_certs_stop(struct recap_controller *ctl)
{
	if (!ctl->certs)
		return;
	ctl->certs->closing = true;
	uv_timer_stop(&ctl->certs->timer);
}

static void certs_closed(uv_handle_t *h)
{
	struct ctl_certs *cc = h->data;
	for (int i = 0; i < 3; i++)
		free(cc->dns[i]);
	free(cc);
}

void recap_ctl_certs_free(struct recap_controller *ctl)
{
	if (!ctl->certs)
		return;
	ctl->certs->closing = true;
	uv_close((uv_handle_t *)&ctl->certs->timer, certs_closed);
	ctl->certs = NULL;
}
