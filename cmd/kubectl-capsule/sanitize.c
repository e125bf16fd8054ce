/* Text made safe for a terminal: see sanitize.h. */
#include "sanitize.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length (2..4) and code point of the valid UTF-8 sequence at s, or 0:
 * overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	if (!len || s[0] > 0xf4 || len > n)
		return 0;
	uint32_t c = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static bool bidi_control(uint32_t c)
{
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

/* C1 controls and the code points that reorder text on screen. */
static bool unsafe_code_point(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || bidi_control(c);
}

bool plugin_has_bidi_control(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		uint32_t cp;
		if (p[i] == 0xe2 && utf8_decode(p + i, n - i, &cp) == 3 && bidi_control(cp))
			return true;
	}
	return false;
}

/* One character at s (n > 0 bytes left); returns the bytes consumed. */
static size_t write_one(FILE *f, const unsigned char *s, size_t n)
{
	unsigned char b = s[0];
	if (b == '\n' || b == '\t' || (b == '\r' && n > 1 && s[1] == '\n') || (b >= 0x20 && b < 0x7f)) {
		fputc(b, f);
		return 1;
	}
	if (b < 0x20 || b == 0x7f) {
		fputc('^', f);
		fputc(b == 0x7f ? '?' : b + 0x40, f);
		return 1;
	}
	uint32_t cp;
	size_t len = utf8_decode(s, n, &cp);
	if (!len) {
		fprintf(f, "\\x%02x", b);
		return 1;
	}
	if (unsafe_code_point(cp))
		fprintf(f, "\\u%04x", (unsigned)cp);
	else
		fwrite(s, 1, len, f);
	return len;
}

void plugin_write_safe(FILE *f, const char *s, size_t n, bool raw)
{
	if (raw) {
		fwrite(s, 1, n, f);
		return;
	}
	const unsigned char *p = (const unsigned char *)s;
	while (n > 0) {
		size_t k = write_one(f, p, n);
		p += k;
		n -= k;
	}
}

void plugin_printf_safe(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("(out of memory)", f);
		return;
	}
	plugin_write_safe(f, s, (size_t)n, false);
	free(s);
}

void plugin_write_doc_safe(FILE *f, const char *doc, size_t n, bool raw)
{
	const unsigned char *p = (const unsigned char *)doc;
	for (size_t i = 0; i < n;) {
		uint32_t cp = p[i] < 0x80 ? p[i] : 0;
		size_t len = p[i] >= 0xc0 ? utf8_decode(p + i, n - i, &cp) : 0;
		if (!len)
			len = 1; /* ASCII, or a byte jansson never writes: as it is */
		if (!raw && (cp == 0x7f || unsafe_code_point(cp)))
			fprintf(f, "\\u%04x", (unsigned)cp);
		else
			fwrite(p + i, 1, len, f);
		i += len;
	}
}
