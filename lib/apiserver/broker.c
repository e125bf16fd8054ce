#include "apiserver/broker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "base/json.h"
#include "kube/watch.h"

struct waiter;

/* A call or a wait a stream thread handed over; it lives on that thread's
 * stack until done. */
struct pending {
	struct apiserver_call *call; /* one of these two */
	struct apiserver_wait *wait;
	char *body;
	struct recap_error *err;
	bool done;
	struct pending *next;
	struct apiserver_broker *b;
};

/* The loop's side of a wait: its watch and its timer (freed once the
 * timer's handle is closed, which can be after the stream thread went on). */
struct waiter {
	uv_timer_t timer;
	struct recap_kube_watch *watch;
	struct pending *p; /* NULL once answered */
	struct waiter *next, *prev;
};

struct apiserver_broker {
	uv_loop_t loop;
	uv_async_t wake;
	struct recap_kube_client *client;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t answered;
	struct pending *queue;	/* under mu */
	bool stopping;		/* under mu */
	struct waiter *waiters; /* the loop thread's: the waits not answered yet */
};

static void on_answer(const struct recap_kube_response *resp, void *data)
{
	struct pending *p = data;
	struct apiserver_broker *b = p->b;
	pthread_mutex_lock(&b->mu);
	p->call->http_status = resp->http_status;
	p->call->code = resp->code;
	p->call->object = resp->object ? json_incref(resp->object) : NULL;
	if (resp->err)
		recap_error_set(&p->err, EIO, "%s", recap_error_message(resp->err));
	p->done = true;
	pthread_cond_broadcast(&b->answered);
	pthread_mutex_unlock(&b->mu);
}

/* Answers p (the loop thread): the stream thread goes on. */
static void answer(struct apiserver_broker *b, struct pending *p)
{
	pthread_mutex_lock(&b->mu);
	p->done = true;
	pthread_cond_broadcast(&b->answered);
	pthread_mutex_unlock(&b->mu);
}

static void waiter_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Ends a wait: its watch stopped, its answer given (object: the change, or
 * NULL for none). */
static void waiter_end(struct apiserver_broker *b, struct waiter *wt, const struct recap_kube_watch_event *ev,
		       bool timed_out, const char *why)
{
	if (!wt->p)
		return;
	struct pending *p = wt->p;
	wt->p = NULL;
	p->wait->timed_out = timed_out;
	if (why)
		snprintf(p->wait->why, sizeof(p->wait->why), "%s", why);
	if (ev) {
		p->wait->object = json_incref(ev->object);
		p->wait->deleted = ev->type == RECAP_KUBE_WATCH_DELETED;
	}
	recap_kube_watch_stop(wt->watch);
	wt->watch = NULL;
	if (wt->prev)
		wt->prev->next = wt->next;
	else
		b->waiters = wt->next;
	if (wt->next)
		wt->next->prev = wt->prev;
	uv_timer_stop(&wt->timer);
	uv_close((uv_handle_t *)&wt->timer, waiter_closed);
	answer(b, p);
}

static void on_watch(struct recap_kube_watch *w, enum recap_kube_watch_note note,
		     const struct recap_kube_watch_event *ev, const struct recap_error *err, void *data)
{
	struct waiter *wt = data;
	struct apiserver_broker *b = wt->p ? wt->p->b : NULL;
	if (!b || note == RECAP_KUBE_WATCH_CONNECTED ||
	    (note == RECAP_KUBE_WATCH_EVENT && ev->type == RECAP_KUBE_WATCH_BOOKMARK))
		return;
	/* an event; or the watch cannot go on as asked (a version too old, a
	 * broken stream, a refusal): the caller reads again instead */
	if (note == RECAP_KUBE_WATCH_EVENT && ev->type != RECAP_KUBE_WATCH_ERROR) {
		waiter_end(b, wt, ev, false, NULL);
		return;
	}
	const char *why = err ? recap_error_message(err) : NULL;
	if (note == RECAP_KUBE_WATCH_EVENT) /* an ERROR event: its Status says why */
		why = recap_json_str(ev->object, "message");
	waiter_end(b, wt, NULL, false, why ? why : "the watch ended");
}

static void on_wait_timeout(uv_timer_t *t)
{
	struct waiter *wt = t->data;
	if (wt->p)
		waiter_end(wt->p->b, wt, NULL, true, NULL);
}

static void start_wait(struct apiserver_broker *b, struct pending *p)
{
	struct waiter *wt = calloc(1, sizeof(*wt));
	if (!wt) {
		recap_error_set(&p->err, ENOMEM, "out of memory");
		answer(b, p);
		return;
	}
	wt->p = p;
	struct recap_kube_watch_options o = {.field_selector = p->wait->field_selector,
					     .resource_version = p->wait->resource_version};
	if (recap_kube_watch_start(b->client, p->wait->res, p->wait->ns, &o, on_watch, wt, &wt->watch,
				   &p->err) < 0) {
		free(wt);
		answer(b, p);
		return;
	}
	uv_timer_init(&b->loop, &wt->timer);
	wt->timer.data = wt;
	uv_timer_start(&wt->timer, on_wait_timeout, p->wait->timeout_ms, 0);
	wt->next = b->waiters;
	if (b->waiters)
		b->waiters->prev = wt;
	b->waiters = wt;
}

static void send_one(struct apiserver_broker *b, struct pending *p)
{
	if (p->wait) {
		start_wait(b, p);
		return;
	}
	struct recap_kube_request req = {.method = p->call->method,
					 .path = p->call->path,
					 .body = p->body,
					 .body_len = p->body ? strlen(p->body) : 0};
	struct recap_error *err = NULL;
	if (recap_kube_request(b->client, &req, on_answer, p, &err) < 0) {
		pthread_mutex_lock(&b->mu);
		p->err = err;
		p->call->code = RECAP_KUBE_ERR_TRANSPORT;
		p->done = true;
		pthread_cond_broadcast(&b->answered);
		pthread_mutex_unlock(&b->mu);
	}
}

static void on_wake(uv_async_t *a)
{
	struct apiserver_broker *b = a->data;
	pthread_mutex_lock(&b->mu);
	struct pending *q = b->queue;
	b->queue = NULL;
	bool stop = b->stopping;
	pthread_mutex_unlock(&b->mu);
	/* oldest first */
	struct pending *rev = NULL;
	while (q) {
		struct pending *n = q->next;
		q->next = rev;
		rev = q;
		q = n;
	}
	for (; rev; rev = rev->next)
		send_one(b, rev);
	if (stop) {
		while (b->waiters)
			waiter_end(b, b->waiters, NULL, false, "recap-apiserver is stopping");
		recap_kube_client_close(b->client);
		uv_close((uv_handle_t *)&b->wake, NULL);
	}
}

static void *loop_thread(void *arg)
{
	struct apiserver_broker *b = arg;
	uv_run(&b->loop, UV_RUN_DEFAULT);
	return NULL;
}

int apiserver_broker_start(const struct recap_kube_config *cfg, struct apiserver_broker **ret,
			   struct recap_error **err)
{
	struct apiserver_broker *b = calloc(1, sizeof(*b));
	if (!b)
		return recap_error_set(err, ENOMEM, "out of memory");
	uv_loop_init(&b->loop);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->answered, NULL);
	struct recap_kube_client_options o = {.user_agent = "recap-apiserver", .max_retries = 2};
	int r = recap_kube_client_new(&b->loop, cfg, &o, &b->client, err);
	if (r >= 0) {
		uv_async_init(&b->loop, &b->wake, on_wake);
		b->wake.data = b;
		if (pthread_create(&b->thread, NULL, loop_thread, b) != 0) {
			recap_kube_client_close(b->client);
			uv_close((uv_handle_t *)&b->wake, NULL);
			uv_run(&b->loop, UV_RUN_DEFAULT);
			r = recap_error_set(err, EAGAIN, "cannot start the API thread");
		}
	}
	if (r < 0) {
		uv_loop_close(&b->loop);
		free(b);
		return r;
	}
	*ret = b;
	return 0;
}

void apiserver_broker_stop(struct apiserver_broker *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->stopping = true;
	pthread_mutex_unlock(&b->mu);
	uv_async_send(&b->wake);
	pthread_join(b->thread, NULL);
	uv_loop_close(&b->loop);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->answered);
	free(b);
}

/* Hands p to the loop and waits for its answer; -ESHUTDOWN when stopping. */
static int hand_over(struct apiserver_broker *b, struct pending *p, struct recap_error **err)
{
	pthread_mutex_lock(&b->mu);
	if (b->stopping) {
		pthread_mutex_unlock(&b->mu);
		return recap_error_set(err, ESHUTDOWN, "recap-apiserver is stopping");
	}
	p->next = b->queue;
	b->queue = p;
	pthread_mutex_unlock(&b->mu);
	uv_async_send(&b->wake);
	pthread_mutex_lock(&b->mu);
	while (!p->done)
		pthread_cond_wait(&b->answered, &b->mu);
	pthread_mutex_unlock(&b->mu);
	return 0;
}

int apiserver_broker_wait(struct apiserver_broker *b, struct apiserver_wait *w, struct recap_error **err)
{
	struct pending p = {.wait = w, .b = b};
	w->object = NULL;
	w->deleted = w->timed_out = false;
	w->why[0] = '\0';
	int r = hand_over(b, &p, err);
	if (r < 0)
		return r;
	if (p.err) {
		r = recap_error_set(err, EIO, "watching %s: %s", w->res->resource,
				    recap_error_message(p.err));
		recap_error_free(p.err);
	}
	return r;
}

int apiserver_broker_call(struct apiserver_broker *b, struct apiserver_call *call, struct recap_error **err)
{
	struct pending p = {.call = call, .b = b};
	call->object = NULL;
	call->http_status = 0;
	if (call->body && !(p.body = json_dumps(call->body, JSON_COMPACT)))
		return recap_error_set(err, ENOMEM, "out of memory");
	int r = hand_over(b, &p, err);
	free(p.body);
	if (r < 0)
		return r;
	if (call->code == RECAP_KUBE_OK)
		return 0;
	if (p.err && err && !*err) {
		*err = p.err;
		return -EIO;
	}
	recap_error_free(p.err);
	return recap_error_set(err, EIO, "%s %s: %s", call->method, call->path,
			       recap_kube_code_name(call->code));
}
