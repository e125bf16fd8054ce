/* A growable byte buffer with a hard upper bound.
 *
 * Input can never grow memory past `max`: an append that would exceed it
 * fails with -ENOBUFS and leaves the buffer unchanged. The data is always
 * NUL-terminated (the terminator is not counted in len).
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

struct recap_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

#define RECAP_BUF_INIT(maxbytes) ((struct recap_buf){.max = (maxbytes)})

void recap_buf_init(struct recap_buf *b, size_t max);
int recap_buf_append(struct recap_buf *b, const void *data, size_t n);
int recap_buf_appends(struct recap_buf *b, const char *s);
int recap_buf_printf(struct recap_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int recap_buf_vprintf(struct recap_buf *b, const char *fmt, va_list ap);
/* Drops the first n bytes (n > len drops everything). */
void recap_buf_consume(struct recap_buf *b, size_t n);
void recap_buf_reset(struct recap_buf *b);
/* Returns the data (caller frees) and empties the buffer; never NULL unless
 * out of memory. */
char *recap_buf_steal(struct recap_buf *b);
void recap_buf_free(struct recap_buf *b);
