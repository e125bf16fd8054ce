/* Close frame payloads (RFC 6455 sections 5.5.1 and 7.4). */
#include "wsproto/frame.h"

#include <errno.h>

#include "wsproto/utf8.h"

bool recap_ws_close_code_valid(unsigned code)
{
	/* 1004-1006 and 1015 are reserved for endpoints' own use and never
	 * sent; 1012-1014 were registered with IANA after the RFC; 3000-4999
	 * belong to libraries and applications. */
	if (code >= 1000 && code <= 1003)
		return true;
	if (code >= 1007 && code <= 1014)
		return true;
	return code >= 3000 && code <= 4999;
}

int recap_ws_close_parse(const uint8_t *payload, size_t len, uint16_t *ret_code, struct recap_error **err)
{
	if (len == 0) {
		*ret_code = RECAP_WS_CLOSE_NO_STATUS;
		return 0;
	}
	if (len == 1)
		return recap_error_set(err, EPROTO,
				       "close frame with a 1-byte payload (a status code takes 2)");
	if (len > RECAP_WS_CONTROL_MAX)
		return recap_error_set(err, EPROTO, "close frame of %zu bytes exceeds the limit of 125 bytes",
				       len);
	unsigned code = (unsigned)payload[0] << 8 | payload[1];
	if (!recap_ws_close_code_valid(code))
		return recap_error_set(err, EPROTO, "close frame with status code %u, which may not be sent",
				       code);
	if (!recap_ws_utf8_valid(payload + 2, len - 2))
		return recap_error_set(err, EILSEQ, "close frame's reason is not valid UTF-8");
	*ret_code = (uint16_t)code;
	return 0;
}
