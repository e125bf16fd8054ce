#include "wsproto/handshake.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#define GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int recap_ws_key_check(const char *key, struct recap_error **err)
{
	size_t len = strnlen(key, RECAP_WS_KEY_LEN + 1);
	if (len > RECAP_WS_KEY_LEN)
		return recap_error_set(err, EINVAL,
				       "Sec-WebSocket-Key is longer than %d characters (base64 of 16 bytes)",
				       RECAP_WS_KEY_LEN);
	if (len < RECAP_WS_KEY_LEN)
		return recap_error_set(
		    err, EINVAL, "Sec-WebSocket-Key must be %d characters (base64 of 16 bytes), not %zu",
		    RECAP_WS_KEY_LEN, len);
	uint8_t raw[18];
	char again[RECAP_WS_KEY_LEN + 1];
	size_t n = 0;
	/* Encoding the 16 bytes back refuses the wrong padding and stray bits
	 * that a decoder lets through. */
	if (mbedtls_base64_decode(raw, sizeof(raw), &n, (const unsigned char *)key, RECAP_WS_KEY_LEN) != 0)
		return recap_error_set(err, EINVAL, "Sec-WebSocket-Key '%s' is not base64", key);
	if (n == 16)
		recap_ws_key_encode(raw, again);
	if (n != 16 || memcmp(again, key, RECAP_WS_KEY_LEN) != 0)
		return recap_error_set(err, EINVAL, "Sec-WebSocket-Key '%s' is not the base64 of 16 bytes",
				       key);
	return 0;
}

void recap_ws_key_encode(const uint8_t nonce[16], char out[RECAP_WS_KEY_LEN + 1])
{
	size_t n = 0;
	(void)mbedtls_base64_encode((unsigned char *)out, RECAP_WS_KEY_LEN + 1, &n, nonce, 16);
}

int recap_ws_accept(const char *key, char out[RECAP_WS_ACCEPT_LEN + 1], struct recap_error **err)
{
	int r = recap_ws_key_check(key, err);
	if (r < 0)
		return r;
	char in[RECAP_WS_KEY_LEN + sizeof(GUID)];
	memcpy(in, key, RECAP_WS_KEY_LEN);
	memcpy(in + RECAP_WS_KEY_LEN, GUID, sizeof(GUID) - 1);
	unsigned char md[20];
	size_t n = 0;
	if (mbedtls_sha1_ret((const unsigned char *)in, RECAP_WS_KEY_LEN + sizeof(GUID) - 1, md) != 0 ||
	    mbedtls_base64_encode((unsigned char *)out, RECAP_WS_ACCEPT_LEN + 1, &n, md, 20) != 0)
		return recap_error_set(err, EIO, "SHA-1 of the Sec-WebSocket-Key failed");
	return 0;
}

int recap_ws_accept_check(const char *key, const char *accept, struct recap_error **err)
{
	char want[RECAP_WS_ACCEPT_LEN + 1];
	int r = recap_ws_accept(key, want, err);
	if (r < 0)
		return r;
	if (strcmp(want, accept) != 0)
		return recap_error_set(err, EPROTO,
				       "Sec-WebSocket-Accept '%.64s' does not answer the key (want '%s')",
				       accept, want);
	return 0;
}

/* RFC 7230 tchar: what a token (and so a subprotocol name) is made of. */
static bool tchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Checks the whole list first: an offer with a bad element is refused even
 * when a good element would match. */
static int check_list(const char *offered, struct recap_error **err)
{
	size_t len = strnlen(offered, RECAP_WS_PROTOCOL_HEADER_MAX + 1);
	if (len > RECAP_WS_PROTOCOL_HEADER_MAX)
		return recap_error_set(err, EINVAL, "Sec-WebSocket-Protocol exceeds the limit of %d bytes",
				       RECAP_WS_PROTOCOL_HEADER_MAX);
	for (const char *p = offered; *p;) {
		p += strspn(p, " \t");
		size_t n = 0;
		while (tchar(p[n]))
			n++;
		const char *end = p + n + strspn(p + n, " \t");
		if (*end && *end != ',')
			return recap_error_set(
			    err, EINVAL,
			    "Sec-WebSocket-Protocol is not a comma-separated list of tokens "
			    "(byte 0x%02x at offset %zu)",
			    (unsigned char)*end, (size_t)(end - offered));
		p = *end ? end + 1 : end;
	}
	return 0;
}

static bool offers(const char *offered, const char *name)
{
	size_t want = strlen(name);
	for (const char *p = offered; *p;) {
		p += strspn(p, " \t,");
		size_t n = 0;
		while (tchar(p[n]))
			n++;
		if (n && n == want && memcmp(p, name, n) == 0)
			return true;
		p += n;
	}
	return false;
}

int recap_ws_subprotocol_pick(const char *offered, const char *const *supported, size_t n, const char **ret,
			      struct recap_error **err)
{
	int r = check_list(offered, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (supported[i][0] && offers(offered, supported[i])) {
			*ret = supported[i];
			return 0;
		}
	}
	return recap_error_set(err, ENOENT, "none of the subprotocols offered (%s) is supported", offered);
}
