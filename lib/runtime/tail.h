/* A bounded tail of a stream: keeps the last `cap` bytes, counts them all. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct recap_tail {
	char *data;
	size_t cap, len, start;
	uint64_t total;
};

int recap_tail_init(struct recap_tail *t, size_t cap);
void recap_tail_push(struct recap_tail *t, const char *p, size_t n);
/* The kept bytes in order, NUL-terminated (caller frees). */
char *recap_tail_dup(const struct recap_tail *t, size_t *ret_len);
void recap_tail_free(struct recap_tail *t);
