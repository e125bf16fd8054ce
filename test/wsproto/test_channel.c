/* The Kubernetes channel protocol: channel bytes both ways, v5's close
 * signal, resize messages, and the error channel's Status round trip. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wsproto/channel.h"

static const uint8_t key[4] = {1, 2, 3, 4};

static void expect_error(int r, struct recap_error **err, int code, const char *msg)
{
	assert_int_equal(r, code);
	if (!strstr(recap_error_message(*err), msg))
		fail_msg("'%s' does not say '%s'", recap_error_message(*err), msg);
	recap_error_freep(err);
}

static struct recap_ws_message bin(const char *data, size_t len)
{
	return (struct recap_ws_message){
	    .opcode = RECAP_WS_BINARY, .data = (const uint8_t *)data, .len = len};
}

static void test_version(void **state)
{
	struct recap_error *err = NULL;
	assert_int_equal(recap_wschan_version("v5.channel.k8s.io", &err), 5);
	assert_int_equal(recap_wschan_version("v4.channel.k8s.io", &err), 4);
	expect_error(recap_wschan_version("base64.channel.k8s.io", &err), &err, -EPROTONOSUPPORT,
		     "subprotocol 'base64.channel.k8s.io' is not v5.channel.k8s.io or v4.channel.k8s.io");
}

static void test_decode_streams(void **state)
{
	struct recap_wschan_message c;
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_ws_message m = bin("\x00ls -l\n", 7);
	assert_int_equal(recap_wschan_decode(4, RECAP_WS_SERVER, &m, &c, &err), 0);
	assert_int_equal(c.channel, RECAP_WSCHAN_STDIN);
	assert_int_equal(c.len, 6);
	assert_memory_equal(c.data, "ls -l\n", 6);
	m = bin("\x04{\"Width\":80,\"Height\":24}", 25);
	assert_int_equal(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), 0);
	assert_int_equal(c.channel, RECAP_WSCHAN_RESIZE);
	const char *client[] = {"\x01out",
				"\x02"
				"err",
				"\x03{}"};
	for (int i = 0; i < 3; i++) {
		m = bin(client[i], strlen(client[i] + 1) + 1);
		assert_int_equal(recap_wschan_decode(5, RECAP_WS_CLIENT, &m, &c, &err), 0);
		assert_int_equal(c.channel, i + 1);
		assert_int_equal(c.len, m.len - 1);
	}
	/* the server's opening message: a channel byte and nothing else */
	m = bin("\x01", 1);
	assert_int_equal(recap_wschan_decode(4, RECAP_WS_CLIENT, &m, &c, &err), 0);
	assert_int_equal(c.channel, RECAP_WSCHAN_STDOUT);
	assert_int_equal(c.len, 0);
}

static void test_decode_v5_close(void **state)
{
	struct recap_wschan_message c;
	struct recap_error *err = NULL;
	struct recap_ws_message m = bin("\xff\x00", 2);
	assert_int_equal(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), 0);
	assert_int_equal(c.channel, RECAP_WSCHAN_CLOSE);
	assert_int_equal(c.closed, RECAP_WSCHAN_STDIN);
	assert_int_equal(c.len, 0);
	expect_error(recap_wschan_decode(4, RECAP_WS_SERVER, &m, &c, &err), &err, -EPROTO,
		     "channel 255 (close) exists only in v5.channel.k8s.io, not in v4.channel.k8s.io");
	m = bin("\xff", 1);
	expect_error(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), &err, -EPROTO,
		     "close signal of 1 bytes (it is 2: channel 255 and the stream it closes)");
	m = bin("\xff\x00\x00", 3);
	expect_error(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), &err, -EPROTO,
		     "close signal of 3 bytes");
	m = bin("\xff\x09", 2);
	expect_error(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), &err, -EPROTO,
		     "close signal for an unknown stream 9");
	m = bin("\xff\xff", 2);
	expect_error(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), &err, -EPROTO,
		     "close signal for the stream 255 (close), which a server does not receive");
	m = bin("\xff\x01", 2);
	expect_error(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), &err, -EPROTO,
		     "close signal for the stream 1 (stdout), which a server does not receive");
}

static void test_decode_refused(void **state)
{
	struct recap_wschan_message c;
	struct recap_error *err = NULL;
	struct recap_ws_message m = bin("", 0);
	expect_error(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), &err, -EPROTO,
		     "empty message without a channel byte");
	m = bin("\x07x", 2);
	expect_error(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), &err, -EPROTO,
		     "unknown channel 7");
	m = bin("\x05x", 2);
	expect_error(recap_wschan_decode(5, RECAP_WS_CLIENT, &m, &c, &err), &err, -EPROTO,
		     "unknown channel 5");
	m = bin("\x01x", 2);
	expect_error(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), &err, -EPROTO,
		     "message on channel 1 (stdout), which a server does not receive");
	m = bin("\x00x", 2);
	expect_error(recap_wschan_decode(4, RECAP_WS_CLIENT, &m, &c, &err), &err, -EPROTO,
		     "message on channel 0 (stdin), which a client does not receive");
	m = (struct recap_ws_message){.opcode = RECAP_WS_TEXT, .data = (const uint8_t *)"0abc", .len = 4};
	expect_error(recap_wschan_decode(4, RECAP_WS_SERVER, &m, &c, &err), &err, -EPROTO,
		     "text message on the channel protocol");
	m = bin("\x00x", 2);
	expect_error(recap_wschan_decode(3, RECAP_WS_SERVER, &m, &c, &err), &err, -EINVAL,
		     "channel protocol version 3 is not 4 or 5");
}

/* A client's stdin, masked, read by the server's frame and channel decoders. */
static void test_encode_through_frames(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(1024);
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(
	    recap_wschan_encode(&b, RECAP_WS_CLIENT, RECAP_WSCHAN_STDIN, "echo hi\n", 8, key, &err), 0);
	assert_int_equal(recap_wschan_encode_close(&b, RECAP_WS_CLIENT, RECAP_WSCHAN_STDIN, key, &err), 0);
	struct recap_ws_decoder d;
	recap_ws_decoder_init(&d, RECAP_WS_SERVER, 64);
	struct recap_ws_message m;
	struct recap_wschan_message c;
	size_t used;
	assert_int_equal(recap_ws_decoder_feed(&d, b.data, b.len, &used, &m, &err), 1);
	assert_int_equal(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), 0);
	assert_int_equal(c.channel, RECAP_WSCHAN_STDIN);
	assert_int_equal(c.len, 8);
	assert_memory_equal(c.data, "echo hi\n", 8);
	size_t pos = used;
	assert_int_equal(recap_ws_decoder_feed(&d, b.data + pos, b.len - pos, &used, &m, &err), 1);
	assert_int_equal(pos + used, b.len);
	assert_int_equal(recap_wschan_decode(5, RECAP_WS_SERVER, &m, &c, &err), 0);
	assert_int_equal(c.channel, RECAP_WSCHAN_CLOSE);
	assert_int_equal(c.closed, RECAP_WSCHAN_STDIN);
	recap_ws_decoder_free(&d);
	/* the server's stdout, unmasked */
	recap_buf_reset(&b);
	assert_int_equal(recap_wschan_encode(&b, RECAP_WS_SERVER, RECAP_WSCHAN_STDOUT, "hi\n", 3, NULL, &err),
			 0);
	assert_int_equal(b.len, 6);
	assert_memory_equal(b.data, "\x82\x04\x01hi\n", 6);
	recap_buf_free(&b);
}

static void test_encode_refused(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(8);
	struct recap_error *err = NULL;
	expect_error(recap_wschan_encode(&b, RECAP_WS_SERVER, RECAP_WSCHAN_STDIN, "x", 1, NULL, &err), &err,
		     -EINVAL, "a server does not send on channel 0 (stdin)");
	expect_error(recap_wschan_encode(&b, RECAP_WS_CLIENT, RECAP_WSCHAN_CLOSE, "x", 1, key, &err), &err,
		     -EINVAL, "a client does not send on channel 255 (close)");
	expect_error(recap_wschan_encode_close(&b, RECAP_WS_CLIENT, RECAP_WSCHAN_STDOUT, key, &err), &err,
		     -EINVAL, "a client does not close channel 1 (stdout)");
	expect_error(recap_wschan_encode(&b, RECAP_WS_SERVER, RECAP_WSCHAN_STDOUT, "0123456", 7, NULL, &err),
		     &err, -ENOBUFS, "channel frame of 10 bytes exceeds the output limit of 8 bytes");
	assert_int_equal(b.len, 0);
	recap_buf_free(&b);
}

static void expect_resize(const char *json, uint16_t w, uint16_t h)
{
	uint16_t gw = 0, gh = 0;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_wschan_resize_parse(json, strlen(json), &gw, &gh, &err), 0);
	assert_int_equal(gw, w);
	assert_int_equal(gh, h);
}

static void expect_resize_refused(const char *json, const char *msg)
{
	uint16_t w = 7, h = 7;
	struct recap_error *err = NULL;
	expect_error(recap_wschan_resize_parse(json, strlen(json), &w, &h, &err), &err, -EINVAL, msg);
	assert_int_equal(w, 7);
	assert_int_equal(h, 7);
}

static void test_resize(void **state)
{
	expect_resize("{\"Width\":80,\"Height\":24}", 80, 24);
	expect_resize(" { \"Height\" : 1 , \"Width\" : 65535 } ", 65535, 1);
	expect_resize_refused("{\"Width\":80}", "resize message without Height");
	expect_resize_refused("{\"Height\":24}", "resize message without Width");
	expect_resize_refused("{\"Width\":0,\"Height\":24}", "resize message's Width 0 is not in 1..65535");
	expect_resize_refused("{\"Width\":80,\"Height\":65536}", "Height 65536 is not in 1..65535");
	expect_resize_refused("{\"Width\":-1,\"Height\":24}", "Width -1 is not in 1..65535");
	expect_resize_refused("{\"Width\":80.0,\"Height\":24}", "Width is not a whole number");
	expect_resize_refused("{\"Width\":\"80\",\"Height\":24}", "Width is not a whole number");
	expect_resize_refused("{\"Width\":99999999999999999999,\"Height\":24}",
			      "resize message: invalid JSON");
	expect_resize_refused("{\"Width\":80,\"Height\":24,\"Depth\":1}",
			      "resize message has a field 'Depth' besides Width and Height");
	expect_resize_refused("{\"width\":80,\"Height\":24}", "field 'width'");
	expect_resize_refused("{\"Width\":80,\"Width\":81,\"Height\":24}", "resize message: invalid JSON");
	expect_resize_refused("[80,24]", "resize message is not a JSON object");
	expect_resize_refused("{\"Width\":80,\"Height\":24}x", "resize message: invalid JSON");
	expect_resize_refused("", "resize message: invalid JSON");
	char big[RECAP_WSCHAN_RESIZE_MAX + 2];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_resize_refused(big, "resize message of 257 bytes exceeds the limit of 256 bytes");
}

static void test_status_build(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(1024);
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_wschan_status_exit(&b, 0, &err), 0);
	assert_string_equal(b.data, "{\"metadata\":{},\"status\":\"Success\"}");
	recap_buf_reset(&b);
	assert_int_equal(recap_wschan_status_exit(&b, 3, &err), 0);
	assert_string_equal(b.data,
			    "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with "
			    "non-zero exit code: exit status 3\",\"reason\":\"NonZeroExitCode\",\"details\":"
			    "{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"3\"}]}}");
	recap_buf_reset(&b);
	assert_int_equal(recap_wschan_status_failure(&b, "container \"app\" not found", &err), 0);
	assert_string_equal(b.data,
			    "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"container \\\"app\\\" "
			    "not found\",\"reason\":\"InternalError\",\"code\":500}");
	recap_buf_free(&b);
}

static void test_status_build_refused(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(1024), small = RECAP_BUF_INIT(16);
	struct recap_error *err = NULL;
	expect_error(recap_wschan_status_exit(&b, 256, &err), &err, -EINVAL,
		     "exit code 256 is not in 0..255");
	expect_error(recap_wschan_status_exit(&b, -1, &err), &err, -EINVAL, "exit code -1 is not in 0..255");
	expect_error(recap_wschan_status_failure(&b, "\xff", &err), &err, -EINVAL,
		     "failure message is not valid UTF-8");
	expect_error(recap_wschan_status_exit(&small, 1, &err), &err, -ENOBUFS,
		     "Status exceeds the output limit of 16 bytes");
	assert_int_equal(b.len, 0);
	assert_int_equal(small.len, 0);
	recap_buf_free(&b);
	recap_buf_free(&small);
}

/* Every exit code there is, written and read back. */
static void test_status_roundtrip(void **state)
{
	for (int code = 0; code <= 255; code++) {
		struct recap_buf b = RECAP_BUF_INIT(1024);
		_cleanup_error_ struct recap_error *err = NULL;
		assert_int_equal(recap_wschan_status_exit(&b, code, &err), 0);
		int got = -2;
		char *msg = (char *)"unset";
		assert_int_equal(recap_wschan_status_parse(b.data, b.len, &got, &msg, &err), 0);
		assert_int_equal(got, code);
		assert_null(msg);
		recap_buf_free(&b);
	}
	struct recap_buf b = RECAP_BUF_INIT(1024);
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_wschan_status_failure(&b, "no such container", &err), 0);
	int got = 0;
	char *msg = NULL;
	assert_int_equal(recap_wschan_status_parse(b.data, b.len, &got, &msg, &err), 0);
	assert_int_equal(got, -1);
	assert_string_equal(msg, "no such container");
	free(msg);
	recap_buf_free(&b);
}

/* What a kubelet sends, with the fields kubectl ignores. */
static void test_status_parse_kubelet(void **state)
{
	const char *s =
	    "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero "
	    "exit code: error executing command [sh -c exit 42], exit code 42\",\"reason\":"
	    "\"NonZeroExitCode\",\"details\":{\"causes\":[{\"message\":\"unrelated\"},{\"reason\":"
	    "\"ExitCode\",\"message\":\"42\"}]}}";
	int got = 0;
	char *msg = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_wschan_status_parse(s, strlen(s), &got, &msg, &err), 0);
	assert_int_equal(got, 42);
	assert_null(msg);
	s = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"NotFound\"}";
	assert_int_equal(recap_wschan_status_parse(s, strlen(s), &got, &msg, &err), 0);
	assert_int_equal(got, -1);
	assert_string_equal(msg, "NotFound");
	free(msg);
}

static void expect_status_refused(const char *s, const char *msg)
{
	int got = 99;
	char *m = NULL;
	struct recap_error *err = NULL;
	expect_error(recap_wschan_status_parse(s, strlen(s), &got, &m, &err), &err, -EPROTO, msg);
	assert_int_equal(got, 99);
	assert_null(m);
}

static void test_status_parse_refused(void **state)
{
	expect_status_refused("", "error channel: invalid JSON");
	expect_status_refused("{\"status\":\"Success\"", "error channel: invalid JSON");
	expect_status_refused("[]", "error channel: not a Status (no status field)");
	expect_status_refused("{\"metadata\":{}}", "not a Status (no status field)");
	expect_status_refused("{\"status\":\"Pending\"}", "status 'Pending' is neither Success nor Failure");
	expect_status_refused("{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\"}",
			      "error channel: NonZeroExitCode Status without details");
	expect_status_refused("{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\",\"details\":{}}",
			      "NonZeroExitCode Status without an ExitCode cause");
	const char *bad[] = {"\"abc\"", "\"256\"", "\"0\"", "\"-1\"", "\"\"", "\" 3\"", "\"1000\"", "3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char s[256];
		snprintf(s, sizeof(s),
			 "{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":"
			 "[{\"reason\":\"ExitCode\",\"message\":%s}]}}",
			 bad[i]);
		expect_status_refused(s, "ExitCode cause with");
	}
	char *big = malloc(RECAP_WSCHAN_STATUS_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', RECAP_WSCHAN_STATUS_MAX + 1);
	big[RECAP_WSCHAN_STATUS_MAX + 1] = '\0';
	expect_status_refused(big, "exceeds the limit of 65536 bytes");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_decode_streams),
	    cmocka_unit_test(test_decode_v5_close),
	    cmocka_unit_test(test_decode_refused),
	    cmocka_unit_test(test_encode_through_frames),
	    cmocka_unit_test(test_encode_refused),
	    cmocka_unit_test(test_resize),
	    cmocka_unit_test(test_status_build),
	    cmocka_unit_test(test_status_build_refused),
	    cmocka_unit_test(test_status_roundtrip),
	    cmocka_unit_test(test_status_parse_kubelet),
	    cmocka_unit_test(test_status_parse_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
