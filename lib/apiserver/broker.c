#include "apiserver/broker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct pending {
	struct apiserver_call *call;
	char *body;
	struct recap_error *err;
	bool done;
	struct pending *next;
	struct apiserver_broker *b;
};

struct apiserver_broker {
	uv_loop_t loop;
	uv_async_t wake;
	struct recap_kube_client *client;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t answered;
	struct pending *queue; /* under mu */
	bool stopping;	       /* under mu */
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

static void send_one(struct apiserver_broker *b, struct pending *p)
{
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

int apiserver_broker_call(struct apiserver_broker *b, struct apiserver_call *call, struct recap_error **err)
{
	struct pending p = {.call = call, .b = b};
	call->object = NULL;
	call->http_status = 0;
	if (call->body && !(p.body = json_dumps(call->body, JSON_COMPACT)))
		return recap_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&b->mu);
	if (b->stopping) {
		pthread_mutex_unlock(&b->mu);
		free(p.body);
		return recap_error_set(err, ESHUTDOWN, "recap-apiserver is stopping");
	}
	p.next = b->queue;
	b->queue = &p;
	pthread_mutex_unlock(&b->mu);
	uv_async_send(&b->wake);
	pthread_mutex_lock(&b->mu);
	while (!p.done)
		pthread_cond_wait(&b->answered, &b->mu);
	pthread_mutex_unlock(&b->mu);
	free(p.body);
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
