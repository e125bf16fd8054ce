/* base/base64.h: the canonical decoder (signatures), the lenient one
 * (Kubernetes data) and the encoder. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base64.h"

static void canonical(void **state)
{
	unsigned char out[16];
	assert_int_equal(recap_base64_decode_canonical("aGVsbG8=", out, sizeof(out)), 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(recap_base64_decode_canonical("aGk=", out, sizeof(out)), 2);
	assert_int_equal(recap_base64_decode_canonical("aGVsbG8h", out, sizeof(out)), 6);
	assert_int_equal(recap_base64_decode_canonical("+/+/", out, sizeof(out)), 3);
	assert_int_equal(out[0], 0xfb);
	static const char *const bad[] = {
	    "",			      /* empty */
	    "aGVsbG8",		      /* no padding */
	    "aGVsbG8 ",		      /* space */
	    "aGV=bG8=",		      /* padding inside */
	    "aGk==",		      /* length */
	    "aGl=",		      /* bits under the padding not zero */
	    "aGVsbA=a",		      /* padding then data */
	    "aGVs\nbG8=", "aGVsbG8-", /* URL alphabet */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (recap_base64_decode_canonical(bad[i], out, sizeof(out)) != -EBADMSG)
			fail_msg("'%s' decoded", bad[i]);
	assert_int_equal(recap_base64_decode_canonical("aGVsbG8gd29ybGQhISE=", out, 8), -E2BIG);
}

static void lenient(void **state)
{
	char *out = NULL;
	size_t n = 0;
	assert_int_equal(recap_base64_decode("aGVs\nbG8", 8, &out, &n), 0); /* no padding, a newline */
	assert_int_equal(n, 5);
	assert_string_equal(out, "hello");
	free(out);
	assert_int_equal(recap_base64_decode("aGk=", 4, &out, &n), 0);
	assert_string_equal(out, "hi");
	free(out);
	assert_int_equal(recap_base64_decode("aG*k", 4, &out, &n), -EINVAL);
	assert_int_equal(recap_base64_decode("aG=k", 4, &out, &n), -EINVAL); /* data after padding */
	assert_int_equal(recap_base64_decode("a", 1, &out, &n), -EINVAL);
}

static void round_trip(void **state)
{
	const char in[] = "user:pa\xffss\x00word";
	for (size_t len = 0; len < sizeof(in); len++) {
		char *b64 = recap_base64_encode(in, len), *back = NULL;
		size_t n = 0;
		assert_non_null(b64);
		assert_int_equal(strlen(b64) % 4, 0);
		assert_int_equal(recap_base64_decode(b64, strlen(b64), &back, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, in, len);
		unsigned char c[64];
		if (len > 0)
			assert_int_equal(recap_base64_decode_canonical(b64, c, sizeof(c)), (long)len);
		free(b64);
		free(back);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(canonical),
	    cmocka_unit_test(lenient),
	    cmocka_unit_test(round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
