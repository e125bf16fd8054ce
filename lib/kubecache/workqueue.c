#include "kubecache/workqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "kubecache/strmap.h"

#define NOT_WAITING SIZE_MAX

/* One per key the queue knows about; freed once it is neither queued,
 * processing nor waiting for a delayed add. */
struct item {
	struct item *prev, *next; /* FIFO links while queued */
	size_t heap_index;	  /* position in the delay heap or NOT_WAITING */
	uint64_t ready_ms;	  /* loop time at which a delayed add fires */
	bool dirty;		  /* wants processing (queued, or re-queue at done) */
	bool processing;
	bool queued;
	char key[];
};

struct recap_kube_workqueue {
	uv_loop_t *loop;
	uv_timer_t timer;
	uv_idle_t idle;
	int open_handles;
	char *name;
	unsigned workers;
	size_t nprocessing;
	size_t nqueued;
	struct item *head, *tail;
	struct recap_kube_strmap *items;
	struct item **heap;
	size_t heap_len, heap_cap;
	struct recap_kube_ratelimiter *limiter;
	recap_kube_workqueue_process_fn process;
	void *userdata;
	bool shutting_down;
	bool drop_queued; /* shut down without drain */
	recap_kube_workqueue_drained_fn drained;
};

/* ---- items ---- */

static void release_if_idle(struct recap_kube_workqueue *q, struct item *it)
{
	if (it->dirty || it->processing || it->queued || it->heap_index != NOT_WAITING)
		return;
	recap_kube_strmap_remove(q->items, it->key, NULL);
	free(it);
}

static int item_get_or_new(struct recap_kube_workqueue *q, const char *key, struct item **ret,
			   struct recap_error **err)
{
	struct item *it = recap_kube_strmap_get(q->items, key);
	if (it) {
		*ret = it;
		return 0;
	}
	size_t len = strlen(key);
	it = calloc(1, sizeof(*it) + len + 1);
	if (!it)
		return recap_error_set(err, ENOMEM, "%s: out of memory adding '%s'", q->name, key);
	memcpy(it->key, key, len + 1);
	it->heap_index = NOT_WAITING;
	int r = recap_kube_strmap_put(q->items, key, it, NULL);
	if (r < 0) {
		free(it);
		if (r == -ENOBUFS)
			return recap_error_set(err, ENOBUFS, "%s: full (%zu keys), cannot add '%s'", q->name,
					       recap_kube_strmap_max(q->items), key);
		return recap_error_set(err, -r, "%s: out of memory adding '%s'", q->name, key);
	}
	*ret = it;
	return 0;
}

static void fifo_push(struct recap_kube_workqueue *q, struct item *it)
{
	it->queued = true;
	it->next = NULL;
	it->prev = q->tail;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->nqueued++;
}

static struct item *fifo_pop(struct recap_kube_workqueue *q)
{
	struct item *it = q->head;
	if (!it)
		return NULL;
	q->head = it->next;
	if (q->head)
		q->head->prev = NULL;
	else
		q->tail = NULL;
	it->next = it->prev = NULL;
	it->queued = false;
	q->nqueued--;
	return it;
}

/* ---- delay heap (min-heap on ready_ms) ---- */

static void heap_swap(struct recap_kube_workqueue *q, size_t a, size_t b)
{
	struct item *t = q->heap[a];
	q->heap[a] = q->heap[b];
	q->heap[b] = t;
	q->heap[a]->heap_index = a;
	q->heap[b]->heap_index = b;
}

static void heap_up(struct recap_kube_workqueue *q, size_t i)
{
	while (i > 0 && q->heap[(i - 1) / 2]->ready_ms > q->heap[i]->ready_ms) {
		heap_swap(q, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct recap_kube_workqueue *q, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < q->heap_len && q->heap[l]->ready_ms < q->heap[m]->ready_ms)
			m = l;
		if (r < q->heap_len && q->heap[r]->ready_ms < q->heap[m]->ready_ms)
			m = r;
		if (m == i)
			return;
		heap_swap(q, i, m);
		i = m;
	}
}

static int heap_insert(struct recap_kube_workqueue *q, struct item *it)
{
	if (q->heap_len == q->heap_cap) {
		size_t cap = q->heap_cap ? q->heap_cap * 2 : 16;
		struct item **h = realloc(q->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		q->heap = h;
		q->heap_cap = cap;
	}
	it->heap_index = q->heap_len;
	q->heap[q->heap_len++] = it;
	heap_up(q, it->heap_index);
	return 0;
}

static struct item *heap_pop(struct recap_kube_workqueue *q)
{
	struct item *top = q->heap[0];
	heap_swap(q, 0, --q->heap_len);
	heap_down(q, 0);
	top->heap_index = NOT_WAITING;
	return top;
}

/* ---- scheduling ---- */

static void on_idle(uv_idle_t *h);
static void on_timer(uv_timer_t *t);

static void kick(struct recap_kube_workqueue *q)
{
	uv_idle_start(&q->idle, on_idle);
}

static void arm_timer(struct recap_kube_workqueue *q)
{
	if (q->heap_len == 0) {
		uv_timer_stop(&q->timer);
		return;
	}
	uint64_t now = uv_now(q->loop);
	uint64_t ready = q->heap[0]->ready_ms;
	uv_timer_start(&q->timer, on_timer, ready > now ? ready - now : 0, 0);
}

static void mark_dirty(struct recap_kube_workqueue *q, struct item *it)
{
	if (it->dirty)
		return;
	it->dirty = true;
	if (!it->processing) {
		fifo_push(q, it);
		kick(q);
	}
}

static void on_timer(uv_timer_t *t)
{
	struct recap_kube_workqueue *q = container_of(t, struct recap_kube_workqueue, timer);
	uint64_t now = uv_now(q->loop);
	while (q->heap_len > 0 && q->heap[0]->ready_ms <= now)
		mark_dirty(q, heap_pop(q));
	arm_timer(q);
}

static bool is_drained(const struct recap_kube_workqueue *q)
{
	return q->shutting_down && q->nqueued == 0 && q->nprocessing == 0;
}

/* Hands out at most the keys queued when the tick started, so a handler
 * that re-adds its own key synchronously cannot starve the loop. */
static void on_idle(uv_idle_t *h)
{
	struct recap_kube_workqueue *q = container_of(h, struct recap_kube_workqueue, idle);
	size_t budget = q->nqueued;
	while (budget-- > 0 && q->nprocessing < q->workers && q->head) {
		struct item *it = fifo_pop(q);
		it->dirty = false;
		it->processing = true;
		q->nprocessing++;
		q->process(q, it->key, q->userdata);
	}
	if (q->head && q->nprocessing < q->workers)
		return;
	uv_idle_stop(&q->idle);
	if (is_drained(q) && q->drained) {
		recap_kube_workqueue_drained_fn cb = q->drained;
		q->drained = NULL;
		cb(q, q->userdata); /* may free q: nothing after this */
	}
}

/* ---- public ---- */

static int check_add(struct recap_kube_workqueue *q, const char *key, struct recap_error **err)
{
	if (q->shutting_down)
		return recap_error_set(err, ESHUTDOWN, "%s: shutting down, cannot add '%s'", q->name, key);
	if (!key || !*key)
		return recap_error_set(err, EINVAL, "%s: cannot add an empty key", q->name);
	return 0;
}

int recap_kube_workqueue_add(struct recap_kube_workqueue *q, const char *key, struct recap_error **err)
{
	int r = check_add(q, key, err);
	if (r < 0)
		return r;
	struct item *it;
	r = item_get_or_new(q, key, &it, err);
	if (r < 0)
		return r;
	mark_dirty(q, it);
	return 0;
}

static uint64_t ns_to_ms_ceil(uint64_t ns)
{
	return ns / RECAP_KUBE_NS_PER_MS + (ns % RECAP_KUBE_NS_PER_MS != 0);
}

int recap_kube_workqueue_add_after(struct recap_kube_workqueue *q, const char *key, uint64_t delay_ns,
				   struct recap_error **err)
{
	if (delay_ns == 0)
		return recap_kube_workqueue_add(q, key, err);
	int r = check_add(q, key, err);
	if (r < 0)
		return r;
	struct item *it;
	r = item_get_or_new(q, key, &it, err);
	if (r < 0)
		return r;
	uint64_t ready = uv_now(q->loop) + ns_to_ms_ceil(delay_ns);
	if (it->heap_index != NOT_WAITING) {
		if (ready < it->ready_ms) {
			it->ready_ms = ready;
			heap_up(q, it->heap_index);
		}
	} else {
		it->ready_ms = ready;
		r = heap_insert(q, it);
		if (r < 0) {
			release_if_idle(q, it);
			return recap_error_set(err, -r, "%s: out of memory delaying '%s'", q->name, key);
		}
	}
	arm_timer(q);
	return 0;
}

int recap_kube_workqueue_add_rate_limited(struct recap_kube_workqueue *q, const char *key,
					  struct recap_error **err)
{
	int r = check_add(q, key, err);
	if (r < 0)
		return r;
	uint64_t delay = 0;
	r = recap_kube_ratelimiter_when(q->limiter, key, &delay, err);
	if (r < 0)
		return recap_error_wrap(err, r, "%s", q->name);
	return recap_kube_workqueue_add_after(q, key, delay, err);
}

void recap_kube_workqueue_done(struct recap_kube_workqueue *q, const char *key)
{
	struct item *it = recap_kube_strmap_get(q->items, key);
	if (!it || !it->processing)
		return;
	it->processing = false;
	q->nprocessing--;
	if (it->dirty && !q->drop_queued)
		fifo_push(q, it);
	else
		it->dirty = false;
	kick(q); /* a free worker slot, or the drain may be complete */
	release_if_idle(q, it);
}

void recap_kube_workqueue_forget(struct recap_kube_workqueue *q, const char *key)
{
	recap_kube_ratelimiter_forget(q->limiter, key);
}

unsigned recap_kube_workqueue_requeues(struct recap_kube_workqueue *q, const char *key)
{
	return recap_kube_ratelimiter_requeues(q->limiter, key);
}

size_t recap_kube_workqueue_len(const struct recap_kube_workqueue *q)
{
	return q->nqueued;
}

size_t recap_kube_workqueue_tracked(const struct recap_kube_workqueue *q)
{
	return recap_kube_strmap_size(q->items);
}

size_t recap_kube_workqueue_processing(const struct recap_kube_workqueue *q)
{
	return q->nprocessing;
}

bool recap_kube_workqueue_shutting_down(const struct recap_kube_workqueue *q)
{
	return q->shutting_down;
}

void recap_kube_workqueue_shutdown(struct recap_kube_workqueue *q, bool drain,
				   recap_kube_workqueue_drained_fn drained)
{
	q->shutting_down = true;
	q->drop_queued = !drain;
	q->drained = drained;
	while (q->heap_len > 0)
		release_if_idle(q, heap_pop(q));
	uv_timer_stop(&q->timer);
	if (!drain) {
		struct item *it;
		while ((it = fifo_pop(q))) {
			it->dirty = false;
			release_if_idle(q, it);
		}
	}
	kick(q);
}

static void free_items(struct recap_kube_workqueue *q)
{
	struct recap_kube_strmap_iter iter = RECAP_KUBE_STRMAP_ITER_INIT;
	void *v;
	while (recap_kube_strmap_next(q->items, &iter, NULL, &v))
		free(v);
	recap_kube_strmap_free(q->items, NULL);
}

static void destroy(struct recap_kube_workqueue *q)
{
	if (q->items)
		free_items(q);
	recap_kube_ratelimiter_free(q->limiter);
	free(q->heap);
	free(q->name);
	free(q);
}

static void on_close(uv_handle_t *h)
{
	struct recap_kube_workqueue *q = h->data;
	if (--q->open_handles == 0)
		destroy(q);
}

void recap_kube_workqueue_free(struct recap_kube_workqueue *q)
{
	if (!q)
		return;
	uv_close((uv_handle_t *)&q->timer, on_close);
	uv_close((uv_handle_t *)&q->idle, on_close);
}

static int init_handles(struct recap_kube_workqueue *q, uv_loop_t *loop, struct recap_error **err)
{
	q->loop = loop;
	int r = uv_timer_init(loop, &q->timer);
	if (r < 0)
		return recap_error_set(err, -r, "%s: timer: %s", q->name, uv_strerror(r));
	q->timer.data = q;
	q->open_handles++;
	r = uv_idle_init(loop, &q->idle);
	if (r < 0)
		return recap_error_set(err, -r, "%s: idle handle: %s", q->name, uv_strerror(r));
	q->idle.data = q;
	q->open_handles++;
	return 0;
}

int recap_kube_workqueue_new(uv_loop_t *loop, const struct recap_kube_workqueue_options *opts,
			     recap_kube_workqueue_process_fn process, void *userdata,
			     struct recap_kube_workqueue **ret, struct recap_error **err)
{
	struct recap_kube_workqueue_options o = opts ? *opts : (struct recap_kube_workqueue_options){0};
	size_t max_len = o.max_len ? o.max_len : RECAP_KUBE_WORKQUEUE_MAX_LEN_DEFAULT;
	struct recap_kube_workqueue *q = calloc(1, sizeof(*q));
	if (!q) {
		recap_kube_ratelimiter_free(o.limiter);
		return recap_error_set(err, ENOMEM, "workqueue: out of memory");
	}
	q->limiter = o.limiter;
	q->name = strdup(o.name ? o.name : "workqueue");
	q->items = recap_kube_strmap_new(max_len);
	if (!q->name || !q->items) {
		destroy(q);
		return recap_error_set(err, ENOMEM, "workqueue: out of memory");
	}
	q->workers = o.workers ? o.workers : 1;
	q->process = process;
	q->userdata = userdata;
	int r = 0;
	if (!q->limiter)
		r = recap_kube_ratelimiter_new_default(max_len, NULL, NULL, &q->limiter, err);
	if (r >= 0)
		r = init_handles(q, loop, err);
	if (r < 0) {
		if (q->open_handles == 0)
			destroy(q);
		else
			uv_close((uv_handle_t *)&q->timer, on_close); /* the idle init failed */
		return r;
	}
	*ret = q;
	return 0;
}
