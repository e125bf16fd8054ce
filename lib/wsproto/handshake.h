/* The opening handshake's computations (RFC 6455 section 4): the key, the
 * accept value, the subprotocol. The HTTP exchange itself is the caller's. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* base64 of 16 bytes, and of a 20-byte SHA-1; without the NUL. */
#define RECAP_WS_KEY_LEN 24
#define RECAP_WS_ACCEPT_LEN 28
/* Sec-WebSocket-Protocol values read at most this long (all its lines). */
#define RECAP_WS_PROTOCOL_HEADER_MAX 4096

/* A Sec-WebSocket-Key must be the canonical base64 of 16 bytes. -EINVAL. */
int recap_ws_key_check(const char *key, struct recap_error **err);

/* A client's key from 16 random bytes the caller drew. */
void recap_ws_key_encode(const uint8_t nonce[16], char out[RECAP_WS_KEY_LEN + 1]);

/* Sec-WebSocket-Accept for a key (checked first): base64(SHA-1(key + GUID)). */
int recap_ws_accept(const char *key, char out[RECAP_WS_ACCEPT_LEN + 1], struct recap_error **err);

/* The client's check of the server's answer: -EPROTO when it does not match. */
int recap_ws_accept_check(const char *key, const char *accept, struct recap_error **err);

/* Picks the subprotocol for a client's Sec-WebSocket-Protocol value (a
 * comma-separated list; several header lines joined with ","): the first
 * of supported[0..n) the client offers, so the server's order of preference
 * wins. *ret is one of supported. -ENOENT when none is offered, -EINVAL for a
 * value that is not a list of tokens or is longer than the limit above. */
int recap_ws_subprotocol_pick(const char *offered, const char *const *supported, size_t n, const char **ret,
			      struct recap_error **err);
