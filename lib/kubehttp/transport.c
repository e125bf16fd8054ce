/* The glue between curl_multi_socket_action and the libuv loop. Unlike
 * curl's multi-uv example, every failure is handled and every handle is
 * closed before its memory is freed. */
#include "kubehttp/transport.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/cleanup.h"

struct sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct recap_kube_transport *t;
	struct sock *prev, *next;
};

struct recap_kube_transport {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct sock *socks;
	struct recap_kube_xfer *failed; /* transfers to fail after curl returns */
	unsigned open_handles;		/* timer and polls not closed yet */
	unsigned depth;			/* nesting of socket_action calls */
	bool closing, cleaning;
};

static void maybe_free(struct recap_kube_transport *t)
{
	if (t->open_handles == 0 && t->cleaning) {
		free(t);
		curl_global_cleanup();
	}
}

static void handle_closed(uv_handle_t *h)
{
	struct recap_kube_transport *t = h->data;
	if (h->type == UV_POLL)
		free(container_of((uv_poll_t *)h, struct sock, poll));
	t->open_handles--;
	maybe_free(t);
}

static void sock_close(struct sock *s)
{
	struct recap_kube_transport *t = s->t;
	if (s->prev)
		s->prev->next = s->next;
	else
		t->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, handle_closed);
}

static void finish_close(struct recap_kube_transport *t)
{
	t->cleaning = true;
	uv_timer_stop(&t->timer);
	/* Closing cached connections may call the socket callback with
	 * CURL_POLL_REMOVE; whatever it leaves is closed below. */
	curl_multi_cleanup(t->multi);
	t->multi = NULL;
	while (t->socks)
		sock_close(t->socks);
	uv_close((uv_handle_t *)&t->timer, handle_closed);
}

static void dispatch_done(struct recap_kube_transport *t)
{
	CURLMsg *msg;
	int left;
	while (!t->closing && (msg = curl_multi_info_read(t->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		struct recap_kube_xfer *x = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		curl_multi_remove_handle(t->multi, easy);
		if (x)
			x->done(x, result);
	}
}

/* Transfers whose socket could not be watched: curl would wait for them
 * forever, so they end here with a connection error (requests retry). */
static void fail_unwatchable(struct recap_kube_transport *t)
{
	while (t->failed && !t->closing) {
		struct recap_kube_xfer *x = t->failed;
		t->failed = x->next_failed;
		CURL *easy = x->failed_easy;
		x->next_failed = NULL;
		x->failed_easy = NULL;
		curl_multi_remove_handle(t->multi, easy);
		x->done(x, CURLE_COULDNT_CONNECT);
	}
}

static void socket_action(struct recap_kube_transport *t, curl_socket_t fd, int flags)
{
	int running;
	t->depth++;
	/* A failing call leaves nothing to retry: failed transfers are
	 * reported through the info queue like any other. */
	curl_multi_socket_action(t->multi, fd, flags, &running);
	fail_unwatchable(t);
	dispatch_done(t);
	t->depth--;
	if (t->closing && t->depth == 0 && !t->cleaning)
		finish_close(t);
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
	struct sock *s = container_of(h, struct sock, poll);
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	socket_action(s->t, s->fd, flags);
}

static void timer_cb(uv_timer_t *h)
{
	socket_action(h->data, CURL_SOCKET_TIMEOUT, 0);
}

static int timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
	struct recap_kube_transport *t = userp;
	if (timeout_ms < 0)
		return uv_timer_stop(&t->timer) < 0 ? -1 : 0;
	return uv_timer_start(&t->timer, timer_cb, (uint64_t)timeout_ms, 0) < 0 ? -1 : 0;
}

static struct sock *sock_new(struct recap_kube_transport *t, curl_socket_t fd)
{
	struct sock *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	if (uv_poll_init_socket(t->loop, &s->poll, fd) < 0) {
		free(s);
		return NULL;
	}
	s->poll.data = t;
	s->fd = fd;
	s->t = t;
	s->next = t->socks;
	if (t->socks)
		t->socks->prev = s;
	t->socks = s;
	t->open_handles++;
	return s;
}

/* Returning -1 from the socket callback would make curl give up on the
 * whole multi handle; fail only this transfer instead. */
static int unwatchable(struct recap_kube_transport *t, CURL *easy)
{
	struct recap_kube_xfer *x = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
	if (x && !x->failed_easy) {
		x->failed_easy = easy;
		x->next_failed = t->failed;
		t->failed = x;
	}
	return 0;
}

static int socket_fn(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct recap_kube_transport *t = userp;
	struct sock *s = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			sock_close(s);
			if (!t->cleaning)
				curl_multi_assign(t->multi, fd, NULL);
		}
		return 0;
	}
	if (!s) {
		s = sock_new(t, fd);
		if (!s)
			return unwatchable(t, easy);
		curl_multi_assign(t->multi, fd, s);
	}
	int events = 0;
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	return uv_poll_start(&s->poll, events, poll_cb) < 0 ? unwatchable(t, easy) : 0;
}

static int setup_multi(struct recap_kube_transport *t)
{
	t->multi = curl_multi_init();
	if (!t->multi)
		return -ENOMEM;
	if (curl_multi_setopt(t->multi, CURLMOPT_SOCKETFUNCTION, socket_fn) != CURLM_OK ||
	    curl_multi_setopt(t->multi, CURLMOPT_SOCKETDATA, t) != CURLM_OK ||
	    curl_multi_setopt(t->multi, CURLMOPT_TIMERFUNCTION, timer_fn) != CURLM_OK ||
	    curl_multi_setopt(t->multi, CURLMOPT_TIMERDATA, t) != CURLM_OK ||
	    curl_multi_setopt(t->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) != CURLM_OK)
		return -EINVAL;
	return 0;
}

int recap_kube_transport_new(uv_loop_t *loop, struct recap_kube_transport **ret, struct recap_error **err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return recap_error_set(err, EIO, "cannot initialize libcurl");
	struct recap_kube_transport *t = calloc(1, sizeof(*t));
	if (!t) {
		curl_global_cleanup();
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	t->loop = loop;
	int r = uv_timer_init(loop, &t->timer);
	if (r < 0) {
		free(t);
		curl_global_cleanup();
		return recap_error_set(err, -r, "uv_timer_init: %s", uv_strerror(r));
	}
	t->timer.data = t;
	t->open_handles = 1;
	r = setup_multi(t);
	if (r < 0) {
		recap_kube_transport_close(t);
		return recap_error_set(err, -r, "cannot set up the libcurl multi handle");
	}
	*ret = t;
	return 0;
}

int recap_kube_transport_add(struct recap_kube_transport *t, CURL *easy, struct recap_kube_xfer *x,
			     struct recap_error **err)
{
	if (t->closing)
		return recap_error_set(err, ECANCELED, "client is closing");
	curl_easy_setopt(easy, CURLOPT_PRIVATE, x);
	CURLMcode mc = curl_multi_add_handle(t->multi, easy);
	if (mc != CURLM_OK)
		return recap_error_set(err, EIO, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
	return 0;
}

void recap_kube_transport_remove(struct recap_kube_transport *t, CURL *easy)
{
	for (struct recap_kube_xfer **p = &t->failed; *p; p = &(*p)->next_failed)
		if ((*p)->failed_easy == easy) {
			struct recap_kube_xfer *x = *p;
			*p = x->next_failed;
			x->next_failed = NULL;
			x->failed_easy = NULL;
			break;
		}
	if (t->multi)
		curl_multi_remove_handle(t->multi, easy);
}

void recap_kube_transport_close(struct recap_kube_transport *t)
{
	if (!t || t->closing)
		return;
	t->closing = true;
	if (t->depth == 0)
		finish_close(t);
}
