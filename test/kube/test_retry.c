/* Retries, size limits and watch framing against a real (misbehaving)
 * loopback HTTP server, flaky_server.py. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/json.h"
#include "base/timeutil.h"
#include "helpers.h"
#include "kube/stream.h"

static struct tserver S;
static struct tclient T;

static int start_server(void **state)
{
	if (tserver_start(&S) < 0)
		return -1;
	struct recap_kube_config cfg = {.server = S.url, .namespace = "t"};
	struct recap_kube_client_options o = {
	    .retry_base_ms = 100, .max_retries = 3, .max_response_bytes = 1 << 20};
	tclient_open_config(&T, &cfg, &o);
	return 0;
}

static int stop_server(void **state)
{
	tclient_close(&T);
	tserver_stop(&S);
	return 0;
}

static enum recap_kube_code get(const char *name, char **msg)
{
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_get(T.c, &T_CONFIGMAPS, "t", name, NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	return twait(&T, &s, NULL, msg);
}

static long server_count(const char *key)
{
	struct recap_kube_request r = {.method = "GET", .path = "/counts"};
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_request(T.c, &r, recap_kube_sync_cb, &s, NULL), 0);
	json_t *counts = NULL;
	assert_int_equal(twait(&T, &s, &counts, NULL), RECAP_KUBE_OK);
	long n = (long)json_integer_value(json_object_get(counts, key));
	json_decref(counts);
	return n;
}

static void too_many_requests_then_unavailable_then_ok(void **state)
{
	uint64_t t0 = recap_now_mono_ms();
	char *msg = NULL;
	if (get("flaky", &msg) != RECAP_KUBE_OK)
		fail_msg("%s", msg);
	/* Retry-After: 1 was honoured. */
	assert_true(recap_now_mono_ms() - t0 >= 1000);
	assert_int_equal(server_count("GET /api/v1/namespaces/t/configmaps/flaky"), 3);
}

static void retries_are_capped(void **state)
{
	char *msg = NULL;
	assert_int_equal(get("broken", &msg), RECAP_KUBE_ERR_SERVER);
	assert_non_null(strstr(msg, "500 ServerError: always broken"));
	free(msg);
	assert_int_equal(server_count("GET /api/v1/namespaces/t/configmaps/broken"), 4);
}

static void retries_can_be_turned_off(void **state)
{
	struct tclient t;
	struct recap_kube_config cfg = {.server = S.url, .namespace = "t"};
	struct recap_kube_client_options o = {.max_retries = -1};
	tclient_open_config(&t, &cfg, &o);
	long before = server_count("GET /api/v1/namespaces/t/configmaps/broken");
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(
	    recap_kube_get(t.c, &T_CONFIGMAPS, "t", "broken", NULL, recap_kube_sync_cb, &s, NULL), 0);
	assert_int_equal(twait(&t, &s, NULL, NULL), RECAP_KUBE_ERR_SERVER);
	tclient_close(&t);
	assert_int_equal(server_count("GET /api/v1/namespaces/t/configmaps/broken") - before, 1);
}

static void post_is_not_retried_after_a_500(void **state)
{
	json_t *cm = tconfigmap("x", "k", "v");
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_create(T.c, &T_CONFIGMAPS, "t", cm, recap_kube_sync_cb, &s, NULL), 0);
	json_decref(cm);
	assert_int_equal(twait(&T, &s, NULL, NULL), RECAP_KUBE_ERR_SERVER);
	assert_int_equal(server_count("POST /api/v1/namespaces/t/configmaps"), 1);
}

static void patch_retries_depend_on_the_kind(void **state)
{
	json_t *p = json_pack("{s:{s:s}}", "data", "k", "v");
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_patch(T.c, &T_CONFIGMAPS, "t", "broken", NULL, RECAP_KUBE_PATCH_MERGE, p,
					  NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	assert_int_equal(twait(&T, &s, NULL, NULL), RECAP_KUBE_ERR_SERVER);
	assert_int_equal(server_count("PATCH /api/v1/namespaces/t/configmaps/broken"), 1);
	struct recap_kube_patch_options o = {.field_manager = "test"};
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_patch(T.c, &T_CONFIGMAPS, "t", "broken", NULL, RECAP_KUBE_PATCH_APPLY, p,
					  &o, recap_kube_sync_cb, &s, NULL),
			 0);
	assert_int_equal(twait(&T, &s, NULL, NULL), RECAP_KUBE_ERR_SERVER);
	assert_int_equal(server_count("PATCH /api/v1/namespaces/t/configmaps/broken"), 5);
	json_decref(p);
}

static void over_large_responses_are_refused(void **state)
{
	char *msg = NULL;
	assert_int_equal(get("big", &msg), RECAP_KUBE_ERR_TOO_LARGE);
	assert_non_null(strstr(msg, "larger than the limit of 1048576 bytes"));
	free(msg);
	assert_int_equal(get("big-unsized", &msg), RECAP_KUBE_ERR_TOO_LARGE);
	assert_non_null(strstr(msg, "larger than the limit of 1048576 bytes"));
	free(msg);
	assert_int_equal(get("notjson", &msg), RECAP_KUBE_ERR_DECODE);
	assert_non_null(strstr(msg, "invalid JSON"));
	free(msg);
	/* A non-Status error body is quoted, briefly. */
	assert_int_equal(get("missing", &msg), RECAP_KUBE_ERR_NOT_FOUND);
	assert_non_null(strstr(msg, "404 NotFound: missing not found"));
	free(msg);
}

/* A decoder that counts what reaches it; refuses the first piece, or
 * closes the client from inside it, when asked. */
struct pieces {
	int begun, aborted, ended;
	size_t bytes, n;
	bool refuse;
	struct recap_kube_client *close;
};

static void *pieces_begin(void *data)
{
	struct pieces *p = data;
	p->begun++;
	return p;
}

static int pieces_feed(void *state, const char *d, size_t n, struct recap_error **err)
{
	struct pieces *p = state;
	p->n++;
	p->bytes += n;
	if (p->refuse)
		return recap_error_set(err, EPROTO, "refused by the test");
	if (p->close)
		recap_kube_client_close(p->close);
	return 0;
}

static int pieces_end(void *state, json_t **ret, struct recap_error **err)
{
	struct pieces *p = state;
	p->ended++;
	*ret = json_pack("{sI}", "bytes", (json_int_t)p->bytes);
	return 0;
}

static void pieces_abort(void *state)
{
	struct pieces *p = state;
	p->aborted++;
}

static const struct recap_kube_decoder pieces_decoder = {
    .begin = pieces_begin, .feed = pieces_feed, .end = pieces_end, .abort = pieces_abort};

static enum recap_kube_code get_decoded(struct tclient *t, const char *name, struct pieces *p, json_t **ret,
					char **msg)
{
	char path[256];
	snprintf(path, sizeof(path), "/api/v1/namespaces/t/configmaps/%s", name);
	struct recap_kube_request r = {
	    .method = "GET", .path = path, .decoder = &pieces_decoder, .decoder_data = p};
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_request(t->c, &r, recap_kube_sync_cb, &s, NULL), 0);
	return twait(t, &s, ret, msg);
}

static void decoders_see_the_successful_answer_only(void **state)
{
	/* 429, 503, then 200: only the last answer is decoded */
	struct pieces p = {0};
	json_t *obj = NULL;
	char *msg = NULL;
	if (get_decoded(&T, "flaky", &p, &obj, &msg) != RECAP_KUBE_OK)
		fail_msg("%s", msg);
	assert_int_equal(p.begun, 1);
	assert_int_equal(p.ended, 1);
	assert_int_equal(p.aborted, 0);
	assert_int_equal(p.bytes, strlen("{\"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"flaky\"}}"));
	assert_int_equal(json_integer_value(json_object_get(obj, "bytes")), p.bytes);
	json_decref(obj);
	/* an error answer is kept and read for its Status */
	p = (struct pieces){0};
	assert_int_equal(get_decoded(&T, "missing", &p, NULL, &msg), RECAP_KUBE_ERR_NOT_FOUND);
	assert_non_null(strstr(msg, "404 NotFound: missing not found"));
	free(msg);
	assert_int_equal(p.begun, 0);
}

static void a_refused_body_ends_the_request_unretried(void **state)
{
	long before = server_count("GET /api/v1/namespaces/t/configmaps/notjson");
	struct pieces p = {.refuse = true};
	char *msg = NULL;
	assert_int_equal(get_decoded(&T, "notjson", &p, NULL, &msg), RECAP_KUBE_ERR_DECODE);
	assert_non_null(
	    strstr(msg, "GET /api/v1/namespaces/t/configmaps/notjson: response: refused by the test"));
	free(msg);
	assert_int_equal(server_count("GET /api/v1/namespaces/t/configmaps/notjson") - before, 1);
	assert_int_equal(p.begun, 1);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.aborted, 1);
	assert_int_equal(p.ended, 0);
}

static void decoded_bodies_keep_the_size_limit(void **state)
{
	struct pieces p = {0};
	char *msg = NULL;
	assert_int_equal(get_decoded(&T, "big-unsized", &p, NULL, &msg), RECAP_KUBE_ERR_TOO_LARGE);
	assert_non_null(strstr(msg, "larger than the limit of 1048576 bytes"));
	free(msg);
	assert_true(p.bytes <= 1048576);
	assert_int_equal(p.begun, 1); /* not sent again */
	assert_int_equal(p.aborted, 1);
	assert_int_equal(p.ended, 0);
}

static void client_closed_from_inside_a_decoder(void **state)
{
	struct tclient t;
	struct recap_kube_config cfg = {.server = S.url, .namespace = "t"};
	tclient_open_config(&t, &cfg, NULL);
	struct pieces p = {.close = t.c};
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	struct recap_kube_request r = {.method = "GET",
				       .path = "/api/v1/namespaces/t/configmaps/big",
				       .decoder = &pieces_decoder,
				       .decoder_data = &p};
	assert_int_equal(recap_kube_request(t.c, &r, recap_kube_sync_cb, &s, NULL), 0);
	uv_run(&t.loop, UV_RUN_DEFAULT); /* ends once the client closed everything */
	assert_int_equal(uv_loop_close(&t.loop), 0);
	assert_true(s.done);
	assert_true(p.n >= 1);
	/* The close waits for the loop: the lean transport may have read the
	 * whole answer by then, libcurl not. Either way the state ends once. */
	if (s.code == RECAP_KUBE_OK) {
		assert_int_equal(p.ended, 1);
		assert_int_equal(p.aborted, 0);
	} else {
		assert_int_equal(s.code, RECAP_KUBE_ERR_CANCELLED);
		assert_int_equal(p.aborted, 1);
		assert_int_equal(p.ended, 0);
	}
	json_decref(s.object);
	recap_error_free(s.err);
}

struct wrec {
	int events, retrying;
	bool gone, done;
	char err[512];
};

static void on_watch(struct recap_kube_watch *w, enum recap_kube_watch_note note,
		     const struct recap_kube_watch_event *ev, const struct recap_error *err, void *userdata)
{
	struct wrec *r = userdata;
	if (note == RECAP_KUBE_WATCH_EVENT)
		r->events++;
	if (note == RECAP_KUBE_WATCH_RETRYING || note == RECAP_KUBE_WATCH_GONE) {
		snprintf(r->err, sizeof(r->err), "%s", recap_error_message(err));
		r->retrying += note == RECAP_KUBE_WATCH_RETRYING;
		r->gone = note == RECAP_KUBE_WATCH_GONE;
		r->done = true;
		recap_kube_watch_stop(w); /* from inside the callback: must be safe */
	}
}

static void watch_case(const char *ns, bool gone, const char *needle)
{
	struct wrec r = {0};
	struct recap_kube_watch *w = NULL;
	struct recap_kube_watch_options o = {.max_line_bytes = 64 << 10, .resource_version = "1"};
	assert_int_equal(recap_kube_watch_start(T.c, &T_CONFIGMAPS, ns, &o, on_watch, &r, &w, NULL), 0);
	assert_true(trun_until(&T, &r.done, 10000));
	assert_int_equal(r.gone, gone);
	assert_int_equal(r.events, gone ? 0 : 1);
	if (!strstr(r.err, needle))
		fail_msg("'%s' not in '%s'", needle, r.err);
}

static void bad_watch_streams_are_errors(void **state)
{
	watch_case("badjson", false, "watch event: invalid JSON");
	watch_case("truncated", false, "the stream ended in the middle of an event");
	watch_case("longline", false, "watch event longer than the limit of 65536 bytes");
	watch_case("gone", true, "410 Gone: too old resource version");
}

static void too_large_resource_version_is_gone(void **state)
{
	/* As the answer and as an ERROR event in the stream: a version newer
	 * than the server has is not retried; the caller lists again. */
	watch_case("toolarge", true, "504 ServerError: Timeout: Too large resource version: 1,");
	watch_case("toolarge-event", true, "server error 504: Timeout: Too large resource version");
	assert_int_equal(server_count("watch toolarge"), 1);
	assert_int_equal(server_count("watch toolarge-event"), 1);
	/* A timeout without that cause is retried, from the same version. */
	struct wrec r = {0};
	struct recap_kube_watch *w = NULL;
	struct recap_kube_watch_options o = {.resource_version = "1"};
	assert_int_equal(recap_kube_watch_start(T.c, &T_CONFIGMAPS, "timeout", &o, on_watch, &r, &w, NULL),
			 0);
	assert_true(trun_until(&T, &r.done, 10000));
	assert_false(r.gone);
	assert_int_equal(r.retrying, 1);
	if (!strstr(r.err, "504 ServerError: Timeout: request did not complete"))
		fail_msg("unexpected error '%s'", r.err);
}

struct closer {
	struct recap_kube_client *c;
	struct recap_kube_watch *other;
	int events, notes_after_close;
	bool closed;
};

static void close_from_event(struct recap_kube_watch *w, enum recap_kube_watch_note note,
			     const struct recap_kube_watch_event *ev, const struct recap_error *err,
			     void *userdata)
{
	struct closer *k = userdata;
	if (k->closed) {
		k->notes_after_close++;
		return;
	}
	if (note != RECAP_KUBE_WATCH_EVENT)
		return;
	k->events++;
	/* Stopping another running watch and closing the client, all from
	 * inside curl's write callback. */
	recap_kube_watch_stop(k->other);
	recap_kube_client_close(k->c);
	k->closed = true;
}

static void ignore(struct recap_kube_watch *w, enum recap_kube_watch_note note,
		   const struct recap_kube_watch_event *ev, const struct recap_error *err, void *userdata)
{
}

static void client_closed_from_inside_a_watch_event(void **state)
{
	struct tclient t;
	struct recap_kube_config cfg = {.server = S.url, .namespace = "t"};
	tclient_open_config(&t, &cfg, NULL);
	struct closer k = {.c = t.c};
	struct recap_kube_watch *a = NULL;
	assert_int_equal(
	    recap_kube_watch_start(t.c, &T_CONFIGMAPS, "slow", NULL, ignore, NULL, &k.other, NULL), 0);
	assert_int_equal(
	    recap_kube_watch_start(t.c, &T_CONFIGMAPS, "truncated", NULL, close_from_event, &k, &a, NULL), 0);
	uv_run(&t.loop, UV_RUN_DEFAULT); /* ends once the client closed everything */
	assert_int_equal(uv_loop_close(&t.loop), 0);
	assert_true(k.closed);
	assert_int_equal(k.events, 1);
	assert_int_equal(k.notes_after_close, 0);
}

struct busy {
	int retrying, events;
	uint64_t retry_at, event_at;
	bool done;
};

static void on_busy(struct recap_kube_watch *w, enum recap_kube_watch_note note,
		    const struct recap_kube_watch_event *ev, const struct recap_error *err, void *userdata)
{
	struct busy *b = userdata;
	if (note == RECAP_KUBE_WATCH_RETRYING && b->retrying++ == 0)
		b->retry_at = recap_now_mono_ms();
	if (note == RECAP_KUBE_WATCH_EVENT && b->events++ == 0) {
		b->event_at = recap_now_mono_ms();
		b->done = true;
		recap_kube_watch_stop(w);
	}
}

static void watch_honours_retry_after(void **state)
{
	struct busy b = {0};
	struct recap_kube_watch *w = NULL;
	assert_int_equal(recap_kube_watch_start(T.c, &T_CONFIGMAPS, "busy", NULL, on_busy, &b, &w, NULL), 0);
	assert_true(trun_until(&T, &b.done, 10000));
	assert_int_equal(b.retrying, 1);
	/* Retry-After: 2 beats the first backoff step (0.8-1.6 s). */
	assert_true(b.event_at - b.retry_at >= 2000);
}

struct counter {
	int done;
	bool all;
};

static void count_done(const struct recap_kube_response *resp, void *userdata)
{
	struct counter *k = userdata;
	assert_int_equal(resp->code, RECAP_KUBE_ERR_NOT_FOUND);
	k->all = ++k->done == 11;
}

static void client_side_rate_limit(void **state)
{
	struct tclient t;
	struct recap_kube_config cfg = {.server = S.url, .namespace = "t"};
	struct recap_kube_client_options o = {.qps = 10, .burst = 1};
	tclient_open_config(&t, &cfg, &o);
	struct counter k = {0};
	uint64_t t0 = recap_now_mono_ms();
	for (int i = 0; i < 11; i++)
		assert_int_equal(
		    recap_kube_get(t.c, &T_CONFIGMAPS, "t", "missing", NULL, count_done, &k, NULL), 0);
	assert_true(trun_until(&t, &k.all, 10000));
	/* One at once, then ten spaced 100 ms apart. */
	uint64_t took = recap_now_mono_ms() - t0;
	assert_true(took >= 950);
	assert_true(took < 5000);
	tclient_close(&t);
}

struct held {
	int ok, done;
	bool all;
};

static void held_done(const struct recap_kube_response *resp, void *userdata)
{
	struct held *h = userdata;
	h->ok += resp->code == RECAP_KUBE_OK;
	h->all = ++h->done == 12;
}

/* 12 calls at once, each held 0.3 s by the server: with max_in_flight 3 the
 * server never holds more than 3, every call succeeds, in about 4 turns;
 * without the bound it holds more. */
static void in_flight_bound(void **state)
{
	const char *groups[] = {"held-capped", "held-free"};
	for (int g = 0; g < 2; g++) {
		struct tclient t;
		struct recap_kube_config cfg = {.server = S.url, .namespace = "t"};
		struct recap_kube_client_options o = {.qps = -1, .max_in_flight = g == 0 ? 3 : 0};
		tclient_open_config(&t, &cfg, &o);
		struct held h = {0};
		uint64_t t0 = recap_now_mono_ms();
		for (int i = 0; i < 12; i++) {
			char name[64];
			snprintf(name, sizeof(name), "%s-%d", groups[g], i);
			assert_int_equal(
			    recap_kube_get(t.c, &T_CONFIGMAPS, "t", name, NULL, held_done, &h, NULL), 0);
		}
		assert_true(trun_until(&t, &h.all, 20000));
		uint64_t took = recap_now_mono_ms() - t0;
		assert_int_equal(h.ok, 12);
		tclient_close(&t);
		char key[64];
		snprintf(key, sizeof(key), "%s at once", groups[g]);
		long most = server_count(key);
		if (g == 0) {
			assert_int_equal(most, 3);
			assert_true(took >= 1150); /* four turns of 0.3 s */
		} else {
			assert_true(most > 3);
		}
	}
}

/* A stream reader that pauses on every other piece, then resumes from the
 * loop: each byte arrives once, in order (byte i is i % 251). */
struct pausing {
	size_t got, pieces;
	int pauses;
	bool pause_next, paused, done, bad;
	enum recap_kube_code code;
	char msg[256];
};

static int pausing_data(const char *p, size_t n, void *userdata)
{
	struct pausing *s = userdata;
	s->pieces++;
	if (s->pause_next) {
		s->pause_next = false;
		s->paused = true;
		s->pauses++;
		return RECAP_KUBE_STREAM_PAUSE;
	}
	for (size_t i = 0; i < n; i++)
		s->bad |= (unsigned char)p[i] != (s->got + i) % 251;
	s->got += n;
	s->pause_next = true;
	return 0;
}

static void pausing_done(enum recap_kube_code code, long status, const struct recap_error *err,
			 void *userdata)
{
	struct pausing *s = userdata;
	s->done = true;
	s->code = code;
	snprintf(s->msg, sizeof(s->msg), "%s", err ? recap_error_message(err) : "");
}

static void streams_pause_and_resume(void **state)
{
	struct pausing s = {.pause_next = true};
	struct recap_kube_stream_options o = {
	    .on_data = pausing_data, .on_done = pausing_done, .userdata = &s};
	struct recap_kube_stream *st = NULL;
	assert_int_equal(
	    recap_kube_stream_get(T.c, "/api/v1/namespaces/t/configmaps/stream-16m", &o, &st, NULL), 0);
	uint64_t until = recap_now_mono_ms() + 60000;
	while (!s.done && recap_now_mono_ms() < until) {
		if (s.paused) {
			s.paused = false;
			recap_kube_stream_resume(st);
		} else {
			uv_run(&T.loop, UV_RUN_ONCE);
		}
	}
	assert_true(s.done);
#ifdef RECAP_KUBE_LEAN
	/* this transport cannot hold a piece back: it says so, and ends */
	assert_int_not_equal(s.code, RECAP_KUBE_OK);
	if (!strstr(s.msg, "paused"))
		fail_msg("%s", s.msg);
	assert_int_equal(s.pauses, 1);
#else
	if (s.code != RECAP_KUBE_OK)
		fail_msg("%s", s.msg);
	assert_false(s.bad);
	assert_int_equal(s.got, 16u << 20);
	assert_true(s.pauses > 100);
	assert_int_equal(s.pieces, 2 * (size_t)s.pauses);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(too_many_requests_then_unavailable_then_ok),
	    cmocka_unit_test(retries_are_capped),
	    cmocka_unit_test(retries_can_be_turned_off),
	    cmocka_unit_test(post_is_not_retried_after_a_500),
	    cmocka_unit_test(patch_retries_depend_on_the_kind),
	    cmocka_unit_test(over_large_responses_are_refused),
	    cmocka_unit_test(decoders_see_the_successful_answer_only),
	    cmocka_unit_test(a_refused_body_ends_the_request_unretried),
	    cmocka_unit_test(decoded_bodies_keep_the_size_limit),
	    cmocka_unit_test(client_closed_from_inside_a_decoder),
	    cmocka_unit_test(bad_watch_streams_are_errors),
	    cmocka_unit_test(too_large_resource_version_is_gone),
	    cmocka_unit_test(watch_honours_retry_after),
	    cmocka_unit_test(client_side_rate_limit),
	    cmocka_unit_test(in_flight_bound),
	    cmocka_unit_test(client_closed_from_inside_a_watch_event),
	    cmocka_unit_test(streams_pause_and_resume),
	};
	return cmocka_run_group_tests(tests, start_server, stop_server);
}
