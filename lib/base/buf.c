#include "base/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void recap_buf_init(struct recap_buf *b, size_t max)
{
	*b = (struct recap_buf){.max = max};
}

static int reserve(struct recap_buf *b, size_t extra)
{
	if (extra > b->max || b->len > b->max - extra)
		return -ENOBUFS;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int recap_buf_append(struct recap_buf *b, const void *data, size_t n)
{
	int r = reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int recap_buf_appends(struct recap_buf *b, const char *s)
{
	return recap_buf_append(b, s, strlen(s));
}

int recap_buf_vprintf(struct recap_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -EINVAL;
	int r = reserve(b, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int recap_buf_printf(struct recap_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = recap_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void recap_buf_consume(struct recap_buf *b, size_t n)
{
	if (n >= b->len) {
		recap_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void recap_buf_reset(struct recap_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *recap_buf_steal(struct recap_buf *b)
{
	char *p = b->data ? b->data : strdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void recap_buf_free(struct recap_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
