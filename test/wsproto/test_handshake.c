/* The handshake: RFC 6455's key and accept, keys refused, subprotocols. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wsproto/handshake.h"

static void expect_error(int r, struct recap_error **err, int code, const char *msg)
{
	assert_int_equal(r, code);
	if (!strstr(recap_error_message(*err), msg))
		fail_msg("'%s' does not say '%s'", recap_error_message(*err), msg);
	recap_error_freep(err);
}

static void test_rfc_accept(void **state)
{
	char out[RECAP_WS_ACCEPT_LEN + 1];
	_cleanup_error_ struct recap_error *err = NULL;
	/* RFC 6455 section 1.3 */
	assert_int_equal(recap_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out, &err), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(
	    recap_ws_accept_check("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", &err), 0);
	/* another known pair, from the protocol's common documentation */
	assert_int_equal(recap_ws_accept("x3JJHMbDL1EzLkh9GBhXDw==", out, &err), 0);
	assert_string_equal(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

static void test_accept_mismatch(void **state)
{
	struct recap_error *err = NULL;
	expect_error(recap_ws_accept_check("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo", &err),
		     &err, -EPROTO, "does not answer the key");
	expect_error(recap_ws_accept_check("dGhlIHNhbXBsZSBub25jZQ=", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", &err),
		     &err, -EINVAL, "Sec-WebSocket-Key must be 24 characters");
}

static void test_key_encode(void **state)
{
	char key[RECAP_WS_KEY_LEN + 1];
	recap_ws_key_encode((const uint8_t *)"the sample nonce", key);
	assert_string_equal(key, "dGhlIHNhbXBsZSBub25jZQ==");
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_ws_key_check(key, &err), 0);
	uint8_t zero[16] = {0};
	recap_ws_key_encode(zero, key);
	assert_int_equal(recap_ws_key_check(key, &err), 0);
}

static void test_key_refused(void **state)
{
	struct recap_error *err = NULL;
	char out[RECAP_WS_ACCEPT_LEN + 1];
	expect_error(recap_ws_key_check("", &err), &err, -EINVAL,
		     "must be 24 characters (base64 of 16 bytes), not 0");
	expect_error(recap_ws_key_check("dGhlIHNhbXBsZSBub25jZQ===", &err), &err, -EINVAL,
		     "is longer than 24 characters");
	expect_error(recap_ws_key_check("dGhlIHNhbXBsZSBub25jZQ", &err), &err, -EINVAL, "not 22");
	expect_error(recap_ws_key_check("dGhlIHNhbXBsZSBub25jZ!==", &err), &err, -EINVAL, "is not base64");
	expect_error(recap_ws_key_check(" GhlIHNhbXBsZSBub25jZQ==", &err), &err, -EINVAL, "is not");
	/* 18 bytes, not 16 */
	expect_error(recap_ws_key_check("dGhlIHNhbXBsZSBub25jZQAA", &err), &err, -EINVAL,
		     "is not the base64 of 16 bytes");
	/* bits past the 16 bytes */
	expect_error(recap_ws_key_check("dGhlIHNhbXBsZSBub25jZR==", &err), &err, -EINVAL,
		     "is not the base64 of 16 bytes");
	expect_error(recap_ws_key_check("dGhlIHNhbXBsZSBub25j=Q==", &err), &err, -EINVAL, "is not");
	expect_error(recap_ws_accept("dGhlIHNhbXBsZSBub25jZQ", out, &err), &err, -EINVAL,
		     "Sec-WebSocket-Key");
}

static const char *const supported[] = {"v5.channel.k8s.io", "v4.channel.k8s.io"};

static void expect_pick(const char *offered, const char *want)
{
	const char *got = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_ws_subprotocol_pick(offered, supported, 2, &got, &err), 0);
	assert_string_equal(got, want);
}

static void test_subprotocol_pick(void **state)
{
	/* the server's order wins over the client's */
	expect_pick("v4.channel.k8s.io, v5.channel.k8s.io", "v5.channel.k8s.io");
	expect_pick("v5.channel.k8s.io,v4.channel.k8s.io", "v5.channel.k8s.io");
	expect_pick("base64.channel.k8s.io, v4.channel.k8s.io, channel.k8s.io", "v4.channel.k8s.io");
	/* empty list elements (RFC 7230 7) and blanks around them */
	expect_pick(" , v4.channel.k8s.io ,\t,", "v4.channel.k8s.io");
}

static void test_subprotocol_refused(void **state)
{
	struct recap_error *err = NULL;
	const char *got = NULL;
	expect_error(recap_ws_subprotocol_pick("v3.channel.k8s.io, channel.k8s.io", supported, 2, &got, &err),
		     &err, -ENOENT,
		     "none of the subprotocols offered (v3.channel.k8s.io, channel.k8s.io) is supported");
	/* a name is matched whole */
	expect_error(
	    recap_ws_subprotocol_pick("v5.channel.k8s.io.x, xv4.channel.k8s.io", supported, 2, &got, &err),
	    &err, -ENOENT, "is supported");
	expect_error(recap_ws_subprotocol_pick("", supported, 2, &got, &err), &err, -ENOENT, "none");
	expect_error(
	    recap_ws_subprotocol_pick("v5.channel.k8s.io v4.channel.k8s.io", supported, 2, &got, &err), &err,
	    -EINVAL, "not a comma-separated list of tokens (byte 0x76 at offset 18)");
	expect_error(recap_ws_subprotocol_pick("v5.channel.k8s.io;q=1", supported, 2, &got, &err), &err,
		     -EINVAL, "byte 0x3b");
	char *long_list = malloc(RECAP_WS_PROTOCOL_HEADER_MAX + 2);
	assert_non_null(long_list);
	memset(long_list, 'a', RECAP_WS_PROTOCOL_HEADER_MAX + 1);
	long_list[RECAP_WS_PROTOCOL_HEADER_MAX + 1] = '\0';
	expect_error(recap_ws_subprotocol_pick(long_list, supported, 2, &got, &err), &err, -EINVAL,
		     "exceeds the limit of 4096 bytes");
	free(long_list);
	assert_null(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_accept),	     cmocka_unit_test(test_accept_mismatch),
	    cmocka_unit_test(test_key_encode),	     cmocka_unit_test(test_key_refused),
	    cmocka_unit_test(test_subprotocol_pick), cmocka_unit_test(test_subprotocol_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
