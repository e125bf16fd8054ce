/* Signature checks at admission (sigcheck.h). One entry per image and key
 * sets: its verdict, or the check in flight on libuv's thread pool, which
 * touches only the entry's input and output fields; the loop thread reads
 * the verdict after the work ends and queues the waiters again. */
#include "controller/sigcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/sha256.h"
#include "base/timeutil.h"
#include "oci/signature.h"

struct ctl_sigcheck {
	struct recap_controller *ctl; /* NULL once the controller is gone */
	struct recap_kube_strmap *entries;
	unsigned inflight;
};

struct sig_waiter {
	enum ctl_kind kind;
	char *key;
	struct sig_waiter *next;
};

struct sig_entry {
	struct ctl_sigcheck *owner;
	char *id;
	enum ctl_sig_verdict verdict;
	char *message;
	uint64_t done_ms; /* loop time of the verdict */
	bool running;
	struct sig_waiter *waiters;
	/* the work: input */
	uv_work_t work;
	char *image;
	json_t *sets; /* a private copy: the worker reads it alone */
	char **insecure;
	char *ca_file, *hosts_dir;
	/* the work: output */
	enum ctl_sig_verdict result;
	char *result_message;
};

static void waiters_free(struct sig_waiter *w)
{
	while (w) {
		struct sig_waiter *next = w->next;
		free(w->key);
		free(w);
		w = next;
	}
}

static void entry_free(void *v)
{
	struct sig_entry *e = v;
	if (!e)
		return;
	waiters_free(e->waiters);
	free(e->id);
	free(e->message);
	free(e->image);
	json_decref(e->sets);
	for (size_t i = 0; e->insecure && e->insecure[i]; i++)
		free(e->insecure[i]);
	free(e->insecure);
	free(e->ca_file);
	free(e->hosts_dir);
	free(e->result_message);
	free(e);
}

/* "image\npolicy sha256(key) ...\n...": what the verdict depends on. */
static char *entry_id(const char *image, json_t *sets)
{
	struct recap_buf b = RECAP_BUF_INIT(64 * 1024);
	int r = recap_buf_appends(&b, image);
	size_t i, j;
	json_t *set, *k;
	json_array_foreach (sets, i, set) {
		if (r >= 0)
			r = recap_buf_printf(&b, "\n%s", recap_json_str(set, "policy") ?: "");
		json_array_foreach (json_object_get(set, "publicKeys"), j, k) {
			const char *pem = json_string_value(k) ?: "";
			struct recap_sha256 h;
			uint8_t d[RECAP_SHA256_LEN];
			recap_sha256_init(&h);
			recap_sha256_update(&h, pem, strlen(pem));
			recap_sha256_final(&h, d);
			for (int n = 0; n < RECAP_SHA256_LEN && r >= 0; n++)
				r = recap_buf_printf(&b, "%s%02x", n ? "" : " ", d[n]);
		}
	}
	if (r < 0) {
		recap_buf_free(&b);
		return NULL;
	}
	return recap_buf_steal(&b);
}

static bool decided_against(int rc)
{
	return rc == -ENOENT || rc == -EKEYREJECTED || rc == -ESTALE || rc == -EBADMSG || rc == -E2BIG ||
	       rc == -EFBIG;
}

/* One set, on the worker thread. */
static int check_set(struct sig_entry *e, json_t *set, struct recap_error **err)
{
	struct recap_oci_sig_key *keys[RECAP_OCI_SIG_KEYS_MAX] = {0};
	size_t n = 0, j;
	json_t *k;
	int r = 0;
	json_array_foreach (json_object_get(set, "publicKeys"), j, k) {
		char name[300];
		snprintf(name, sizeof(name), "CapsulePolicy \"%s\" key %zu",
			 recap_json_str(set, "policy") ?: "", j + 1);
		const char *pem = json_string_value(k) ?: "";
		if (n >= RECAP_OCI_SIG_KEYS_MAX) {
			r = recap_error_set(err, E2BIG, "more than %d keys", RECAP_OCI_SIG_KEYS_MAX);
			break;
		}
		r = recap_oci_sig_key_parse(name, pem, strlen(pem), &keys[n], err);
		if (r < 0) {
			r = -EBADMSG; /* a key the policy holds cannot verify anything: refuse */
			break;
		}
		n++;
	}
	if (r >= 0) {
		struct recap_oci_registry_opts ro = {
		    .insecure = (const char *const *)e->insecure,
		    .ca_file = e->ca_file,
		    .hosts_dir = e->hosts_dir,
		    .deadline_s = CTL_SIG_DEADLINE_S,
		    .deadline_ms = recap_now_mono_ms() + CTL_SIG_DEADLINE_S * 1000,
		};
		struct recap_oci_sig_result res;
		r = recap_oci_verify_ref(e->image, &ro, keys, n, &res, err);
	}
	for (size_t i = 0; i < n; i++)
		recap_oci_sig_key_free(keys[i]);
	return r;
}

static void work(uv_work_t *w)
{
	struct sig_entry *e = w->data;
	size_t n_sets = json_array_size(e->sets), i;
	json_t *set;
	e->result = CTL_SIG_VERIFIED;
	json_array_foreach (e->sets, i, set) {
		_cleanup_error_ struct recap_error *err = NULL;
		int r = check_set(e, set, &err);
		if (r >= 0)
			continue;
		char *m = NULL;
		if (asprintf(&m, "CapsulePolicy \"%s\"%s%s: %s", recap_json_str(set, "policy") ?: "",
			     n_sets > 1 ? " (one of several that require signatures)" : "",
			     decided_against(r) ? "" : ", not checked by the controller",
			     err ? recap_error_message(err) : "the check failed") < 0)
			m = NULL;
		e->result = decided_against(r) ? CTL_SIG_REFUSED : CTL_SIG_UNCHECKED;
		e->result_message = m;
		break;
	}
}

static void owner_free(struct ctl_sigcheck *sc)
{
	recap_kube_strmap_free(sc->entries, entry_free);
	free(sc);
}

static void after_work(uv_work_t *w, int status)
{
	struct sig_entry *e = w->data;
	struct ctl_sigcheck *sc = e->owner;
	sc->inflight--;
	e->running = false;
	if (!sc->ctl) {
		if (sc->inflight == 0)
			owner_free(sc);
		return;
	}
	e->verdict = status == 0 ? e->result : CTL_SIG_UNCHECKED;
	free(e->message);
	e->message = steal_ptr(e->result_message);
	if (!e->message && e->verdict != CTL_SIG_VERIFIED)
		e->message = strdup("the signature check did not run");
	e->done_ms = uv_now(sc->ctl->loop);
	struct recap_controller *ctl = sc->ctl;
	if (e->verdict != CTL_SIG_VERIFIED)
		recap_ctl_log(ctl, RECAP_LOG_INFO, "signatures of %s: %s", e->image, e->message);
	struct sig_waiter *wt = steal_ptr(e->waiters);
	for (struct sig_waiter *x = wt; x && !ctl->stopping; x = x->next)
		recap_kube_workqueue_add(ctl->queues[x->kind].q, x->key, NULL);
	waiters_free(wt);
}

static bool fresh(const struct sig_entry *e, uint64_t now)
{
	uint64_t keep = e->verdict == CTL_SIG_UNCHECKED ? CTL_SIG_KEEP_UNCHECKED_MS : CTL_SIG_KEEP_MS;
	return e->running || now - e->done_ms < keep;
}

/* Room for one more entry: stale ones go. */
static void evict(struct ctl_sigcheck *sc, uint64_t now)
{
	struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
	const char *key;
	void *v;
	while (recap_kube_strmap_next(sc->entries, &it, &key, &v))
		if (!fresh(v, now) && recap_kube_strmap_remove(sc->entries, key, &v) == 1)
			entry_free(v);
}

static int add_waiter(struct sig_entry *e, enum ctl_kind kind, const char *key)
{
	for (struct sig_waiter *w = e->waiters; w; w = w->next)
		if (w->kind == kind && strcmp(w->key, key) == 0)
			return 0;
	struct sig_waiter *w = calloc(1, sizeof(*w));
	if (!w || !(w->key = strdup(key))) {
		free(w);
		return -ENOMEM;
	}
	w->kind = kind;
	w->next = e->waiters;
	e->waiters = w;
	return 0;
}

static int start(struct ctl_sigcheck *sc, struct sig_entry *e, const char *image, json_t *sets)
{
	const struct recap_controller_options *o = &sc->ctl->opts;
	size_t n = 0;
	while (o->insecure_registries && o->insecure_registries[n])
		n++;
	free(e->image);
	json_decref(e->sets);
	e->image = strdup(image);
	e->sets = json_deep_copy(sets);
	if (!e->insecure && (e->insecure = calloc(n + 1, sizeof(*e->insecure))))
		for (size_t i = 0; i < n; i++)
			e->insecure[i] = strdup(o->insecure_registries[i]);
	if (!e->ca_file && o->registry_ca_file)
		e->ca_file = strdup(o->registry_ca_file);
	if (!e->hosts_dir && o->registry_config)
		e->hosts_dir = strdup(o->registry_config);
	if (!e->image || !e->sets || !e->insecure || (o->registry_ca_file && !e->ca_file) ||
	    (o->registry_config && !e->hosts_dir))
		return -ENOMEM;
	e->work.data = e;
	e->verdict = CTL_SIG_PENDING;
	if (uv_queue_work(sc->ctl->loop, &e->work, work, after_work) < 0)
		return -EAGAIN;
	e->running = true;
	sc->inflight++;
	return 0;
}

int recap_ctl_sigcheck(struct recap_controller *ctl, const char *image, json_t *sets, enum ctl_kind kind,
		       const char *key, enum ctl_sig_verdict *ret, char **message)
{
	*message = NULL;
	struct ctl_sigcheck *sc = ctl->sigcheck;
	if (!sc) {
		sc = ctl->sigcheck = calloc(1, sizeof(*sc));
		if (!sc || !(sc->entries = recap_kube_strmap_new(CTL_SIG_ENTRIES_MAX))) {
			free(sc);
			ctl->sigcheck = NULL;
			return -ENOMEM;
		}
		sc->ctl = ctl;
	}
	_cleanup_free_ char *id = entry_id(image, sets);
	if (!id)
		return -ENOMEM;
	uint64_t now = uv_now(ctl->loop);
	struct sig_entry *e = recap_kube_strmap_get(sc->entries, id);
	if (e && (e->running || fresh(e, now))) {
		*ret = e->running ? CTL_SIG_PENDING : e->verdict;
		if (e->running)
			return add_waiter(e, kind, key);
		if (e->message && !(*message = strdup(e->message)))
			return -ENOMEM;
		return 0;
	}
	if (!e) {
		if (recap_kube_strmap_size(sc->entries) >= CTL_SIG_ENTRIES_MAX)
			evict(sc, now);
		e = calloc(1, sizeof(*e));
		if (!e || !(e->id = strdup(id))) {
			free(e);
			return -ENOMEM;
		}
		e->owner = sc;
		int r = recap_kube_strmap_put(sc->entries, id, e, NULL);
		if (r < 0) {
			entry_free(e);
			*ret = CTL_SIG_UNCHECKED;
			*message = strdup("too many images are being checked: not checked by the controller");
			return *message ? 0 : -ENOMEM;
		}
	}
	int r = start(sc, e, image, sets);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		*ret = CTL_SIG_UNCHECKED;
		*message = strdup("the signature check could not start: not checked by the controller");
		return *message ? 0 : -ENOMEM;
	}
	*ret = CTL_SIG_PENDING;
	return add_waiter(e, kind, key);
}

void recap_ctl_sigcheck_free(struct recap_controller *ctl)
{
	struct ctl_sigcheck *sc = ctl->sigcheck;
	ctl->sigcheck = NULL;
	if (!sc)
		return;
	sc->ctl = NULL;
	if (sc->inflight == 0)
		owner_free(sc);
}
