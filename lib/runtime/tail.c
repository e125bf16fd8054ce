#include "runtime/tail.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int recap_tail_init(struct recap_tail *t, size_t cap)
{
	*t = (struct recap_tail){.cap = cap};
	if (cap && !(t->data = malloc(cap)))
		return -ENOMEM;
	return 0;
}

void recap_tail_push(struct recap_tail *t, const char *p, size_t n)
{
	t->total += n;
	if (t->cap == 0)
		return;
	if (n >= t->cap) {
		memcpy(t->data, p + n - t->cap, t->cap);
		t->start = 0;
		t->len = t->cap;
		return;
	}
	for (size_t done = 0; done < n;) {
		size_t end = (t->start + t->len) % t->cap;
		size_t chunk = t->cap - end;
		if (chunk > n - done)
			chunk = n - done;
		memcpy(t->data + end, p + done, chunk);
		done += chunk;
		size_t len = t->len + chunk;
		if (len > t->cap) {
			t->start = (t->start + len - t->cap) % t->cap;
			len = t->cap;
		}
		t->len = len;
	}
}

char *recap_tail_dup(const struct recap_tail *t, size_t *ret_len)
{
	char *s = malloc(t->len + 1);
	if (!s)
		return NULL;
	size_t first = t->cap - t->start;
	if (first > t->len)
		first = t->len;
	if (first)
		memcpy(s, t->data + t->start, first);
	if (t->len > first)
		memcpy(s + first, t->data, t->len - first);
	s[t->len] = 0;
	if (ret_len)
		*ret_len = t->len;
	return s;
}

void recap_tail_free(struct recap_tail *t)
{
	free(t->data);
	*t = (struct recap_tail){0};
}
