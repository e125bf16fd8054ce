#include "wsproto/utf8.h"

/* The length of the sequence that starts with b and the bounds of its second
 * byte, which is where overlong forms, surrogates and code points past
 * U+10FFFF show (Unicode table 3-7). 0 for a byte that cannot start one. */
static size_t lead(uint8_t b, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (b < 0x80)
		return 1;
	if (b >= 0xC2 && b <= 0xDF)
		return 2;
	if (b >= 0xE0 && b <= 0xEF) {
		if (b == 0xE0)
			*lo = 0xA0;
		else if (b == 0xED)
			*hi = 0x9F;
		return 3;
	}
	if (b >= 0xF0 && b <= 0xF4) {
		if (b == 0xF0)
			*lo = 0x90;
		else if (b == 0xF4)
			*hi = 0x8F;
		return 4;
	}
	return 0;
}

bool recap_ws_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t lo, hi;
		size_t n = lead(s[i], &lo, &hi);
		if (n == 0 || n > len - i)
			return false;
		if (n > 1 && (s[i + 1] < lo || s[i + 1] > hi))
			return false;
		for (size_t k = 2; k < n; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += n;
	}
	return true;
}
