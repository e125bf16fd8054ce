#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/strpool.h"

#define CHUNK_BYTES (16 * 1024)

struct recap_strpool_chunk {
	struct recap_strpool_chunk *next;
	size_t used, size;
	char data[];
};

static struct recap_strpool_chunk *chunk_new(struct recap_strpool *p, size_t size)
{
	struct recap_strpool_chunk *c = malloc(sizeof(*c) + size);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->used = 0;
	c->size = size;
	p->bytes += sizeof(*c) + size;
	return c;
}

const char *recap_strpool_dup(struct recap_strpool *p, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	struct recap_strpool_chunk *c = p->head;
	if (n > CHUNK_BYTES / 4) {
		/* its own chunk, behind the one being filled */
		struct recap_strpool_chunk *big = chunk_new(p, n);
		if (!big)
			return NULL;
		big->used = n;
		if (c) {
			big->next = c->next;
			c->next = big;
		} else {
			big->next = NULL;
			p->head = big;
		}
		return memcpy(big->data, s, n);
	}
	if (!c || c->size - c->used < n) {
		struct recap_strpool_chunk *fresh = chunk_new(p, CHUNK_BYTES);
		if (!fresh)
			return NULL;
		fresh->next = c;
		p->head = c = fresh;
	}
	char *out = memcpy(c->data + c->used, s, n);
	c->used += n;
	return out;
}

void recap_strpool_clear(struct recap_strpool *p)
{
	struct recap_strpool_chunk *c = p->head;
	while (c) {
		struct recap_strpool_chunk *next = c->next;
		free(c);
		c = next;
	}
	*p = RECAP_STRPOOL_INIT;
}
