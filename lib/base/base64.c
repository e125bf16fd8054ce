#include "base/base64.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int recap_base64_decode(const char *in, size_t len, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *out = malloc(len / 4 * 3 + 4);
	if (!out)
		return -ENOMEM;
	size_t n = 0, pad = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64_value(c);
		if (v < 0 || pad)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2 || bits >= 6)
		return -EINVAL;
	out[n] = '\0';
	*ret_len = n;
	*ret = steal_ptr(out);
	return 0;
}

char *recap_base64_encode(const char *in, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;
	const unsigned char *p = (const unsigned char *)in;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

long recap_base64_decode_canonical(const char *in, unsigned char *out, size_t cap)
{
	size_t n = strlen(in);
	if (n == 0 || n % 4)
		return -EBADMSG;
	size_t pad = in[n - 1] == '=' ? (in[n - 2] == '=' ? 2 : 1) : 0;
	size_t outlen = n / 4 * 3 - pad;
	if (outlen > cap)
		return -E2BIG;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int last = i + 4 == n;
		for (int j = 0; j < 4; j++) {
			v[j] = b64_value((unsigned char)in[i + j]);
			/* '=' only as the last one or two characters */
			if (v[j] < 0 && !(last && in[i + j] == '=' && j >= 4 - (int)pad))
				return -EBADMSG;
			if (v[j] < 0)
				v[j] = 0;
		}
		uint32_t w =
		    (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* the bits the padding drops must be zero (one encoding per value) */
		if (last && ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff))))
			return -EBADMSG;
		unsigned char b[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8), (unsigned char)w};
		for (int j = 0; j < 3 && o < outlen; j++)
			out[o++] = b[j];
	}
	return (long)o;
}
