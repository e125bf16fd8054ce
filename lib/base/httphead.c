#include "base/httphead.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

int recap_http_header(const char *head, const char *name, char *out, size_t out_len)
{
	size_t nl = strlen(name);
	out[0] = '\0';
	for (const char *l = strstr(head, "\r\n"); l && l[2] && !(l[2] == '\r' && l[3] == '\n');
	     l = strstr(l + 2, "\r\n")) {
		const char *h = l + 2;
		if (strncasecmp(h, name, nl) != 0 || h[nl] != ':')
			continue;
		const char *v = h + nl + 1;
		v += strspn(v, " \t");
		size_t n = strcspn(v, "\r\n");
		while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n >= out_len)
			return -1;
		memcpy(out, v, n);
		out[n] = '\0';
		return 1;
	}
	return 0;
}

static int hexval(char h)
{
	return isdigit((unsigned char)h) ? h - '0' : tolower((unsigned char)h) - 'a' + 10;
}

static int unescape(const char *s, size_t n, char *out, size_t out_len)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '%') {
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				return -1;
			ch = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else if (ch == '+') {
			ch = ' ';
		}
		if (ch == '\0' || o + 1 >= out_len)
			return -1;
		out[o++] = ch;
	}
	if (out_len == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

int recap_http_query(const char *query, const char *key, char *out, size_t out_len)
{
	size_t kl = strlen(key);
	for (const char *p = query; p && *p;) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		if (n >= kl && strncmp(p, key, kl) == 0 && (n == kl || p[kl] == '='))
			return unescape(p + kl + (n > kl), n - kl - (n > kl), out, out_len) < 0 ? -1 : 1;
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

static int copy_part(const char *p, size_t n, char *out, size_t out_len)
{
	if (n >= out_len)
		return -E2BIG;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int recap_http_request_line(const char *head, char *method, size_t method_len, char *path, size_t path_len,
			    char *query, size_t query_len, struct recap_error **err)
{
	const char *eol = strstr(head, "\r\n");
	const char *sp1 = eol ? memchr(head, ' ', (size_t)(eol - head)) : NULL;
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp2 || sp1 == head || sp2 == sp1 + 1 || (size_t)(eol - sp2) != 9 ||
	    memcmp(sp2, " HTTP/1.1", 9) != 0)
		return recap_error_set(err, EINVAL, "not an HTTP/1.1 request line");
	const char *q = memchr(sp1 + 1, '?', (size_t)(sp2 - sp1 - 1));
	const char *path_end = q ? q : sp2;
	if (copy_part(head, (size_t)(sp1 - head), method, method_len) < 0 ||
	    copy_part(sp1 + 1, (size_t)(path_end - sp1 - 1), path, path_len) < 0 ||
	    copy_part(q ? q + 1 : sp2, q ? (size_t)(sp2 - q - 1) : 0, query, query_len) < 0)
		return recap_error_set(err, E2BIG, "the request's method, path or query is too long");
	return 0;
}
