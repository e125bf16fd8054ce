#include <stdbool.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "controller/http.h"

static int copy_token(const char *s, size_t n, char *out, size_t size)
{
	if (n == 0)
		return -EINVAL;
	if (n >= size)
		return -E2BIG;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int recap_http_parse(const char *buf, size_t len, char *method, size_t method_size, char *path,
		     size_t path_size)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end)
		end = memmem(buf, len, "\n\n", 2);
	if (!end)
		return 0;
	const char *eol = memchr(buf, '\n', len); /* exists: end is a blank line */
	size_t line = (size_t)(eol - buf);
	if (line > 0 && buf[line - 1] == '\r')
		line--;
	const char *sp1 = memchr(buf, ' ', line);
	if (!sp1)
		return -EINVAL;
	const char *rest = sp1 + 1;
	const char *sp2 = memchr(rest, ' ', line - (size_t)(rest - buf));
	if (!sp2 || (size_t)(buf + line - sp2 - 1) < 8 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -EINVAL;
	for (const char *p = buf; p < sp1; p++) {
		if (*p < 'A' || *p > 'Z')
			return -EINVAL;
	}
	int r = copy_token(buf, (size_t)(sp1 - buf), method, method_size);
	if (r < 0)
		return r;
	if (*rest != '/')
		return -EINVAL;
	/* The query does not select anything here. */
	const char *q = memchr(rest, '?', (size_t)(sp2 - rest));
	return copy_token(rest, (size_t)((q ? q : sp2) - rest), path, path_size) < 0 ? -E2BIG : 1;
}

int recap_http_parse_addr(const char *addr, char *host, size_t host_size, int *port, struct recap_error **err)
{
	const char *colon = strrchr(addr, ':');
	const char *p = colon ? colon + 1 : addr;
	size_t hn = colon ? (size_t)(colon - addr) : 0;
	char *end = NULL;
	errno = 0;
	long v = strtol(p, &end, 10);
	if (!*p || *end || errno || v < 0 || v > 65535)
		return recap_error_set(err, EINVAL,
				       "bad listen address \"%s\": want host:port with a port 0-65535", addr);
	if (hn >= 2 && addr[0] == '[' && addr[hn - 1] == ']') {
		addr++;
		hn -= 2;
	}
	if (hn >= host_size)
		return recap_error_set(err, EINVAL, "bad listen address \"%s\": host too long", addr);
	memcpy(host, addr, hn);
	host[hn] = '\0';
	*port = (int)v;
	return 0;
}
