/* Copies of many small strings that live and die together.
 *
 * A reconcile pass reads thousands of objects one at a time and keeps a few
 * strings of each (a pod's name, node, container ID). Copying them into a
 * pool lets each parsed object go as soon as it was read, so a pass holds
 * a few hundred bytes per object instead of every object's parsed tree.
 * Strings are packed into 16 KiB chunks; one longer than a chunk gets its
 * own. Pointers stay valid until recap_strpool_clear.
 */
#pragma once

#include <stddef.h>

struct recap_strpool_chunk;

struct recap_strpool {
	struct recap_strpool_chunk *head; /* the chunk being filled, then older ones */
	size_t bytes;			  /* allocated, for the caller's accounting */
};

#define RECAP_STRPOOL_INIT ((struct recap_strpool){0})

/* A copy of s in the pool; NULL when s is NULL or out of memory (errno
 * ENOMEM then). */
const char *recap_strpool_dup(struct recap_strpool *p, const char *s);
/* Frees every copy at once; the pool can be used again. */
void recap_strpool_clear(struct recap_strpool *p);
