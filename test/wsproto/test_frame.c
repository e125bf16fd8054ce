/* The frame decoder and encoder: RFC 6455's own examples, both roles, input
 * in every chunking, and each frame the protocol forbids. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wsproto/frame.h"

static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Feeds all of in, `chunk` bytes at a time, and returns the first message
 * (or error); *used is how much of in was consumed. */
static int feed(struct recap_ws_decoder *d, const uint8_t *in, size_t len, size_t chunk, size_t *used,
		struct recap_ws_message *m, struct recap_error **err)
{
	size_t pos = 0;
	while (pos < len) {
		size_t n = len - pos < chunk ? len - pos : chunk, c = 0;
		int r = recap_ws_decoder_feed(d, in + pos, n, &c, m, err);
		assert_true(c <= n);
		pos += c;
		if (r != 0) {
			*used = pos;
			return r;
		}
		assert_int_equal(c, n);
	}
	*used = pos;
	return 0;
}

/* Decodes in (in each chunking) and expects exactly one message. */
static void expect_message(enum recap_ws_role role, const uint8_t *in, size_t len, enum recap_ws_opcode op,
			   const char *payload, size_t plen)
{
	for (size_t chunk = 1; chunk <= len; chunk++) {
		struct recap_ws_decoder d;
		recap_ws_decoder_init(&d, role, 1 << 20);
		struct recap_ws_message m;
		size_t used;
		_cleanup_error_ struct recap_error *err = NULL;
		assert_int_equal(feed(&d, in, len, chunk, &used, &m, &err), 1);
		assert_int_equal(used, len);
		assert_int_equal(m.opcode, op);
		assert_int_equal(m.len, plen);
		assert_memory_equal(m.data, payload, plen);
		recap_ws_decoder_free(&d);
	}
}

/* Decodes in and expects the error, with msg in its message. */
static void expect_refused(enum recap_ws_role role, size_t max, const uint8_t *in, size_t len, int code,
			   uint16_t close, const char *msg)
{
	struct recap_ws_decoder d;
	recap_ws_decoder_init(&d, role, max);
	struct recap_ws_message m;
	size_t used;
	_cleanup_error_ struct recap_error *err = NULL;
	int r = feed(&d, in, len, len, &used, &m, &err);
	if (r == 1) /* a message before the refused frame */
		r = feed(&d, in + used, len - used, len, &used, &m, &err);
	assert_int_equal(r, code);
	assert_non_null(err);
	if (!strstr(recap_error_message(err), msg))
		fail_msg("'%s' does not say '%s'", recap_error_message(err), msg);
	assert_int_equal(recap_ws_decoder_close_code(&d), close);
	/* and it stays failed */
	recap_error_freep(&err);
	assert_int_equal(recap_ws_decoder_feed(&d, (const uint8_t *)"\x81\x00", 2, &used, &m, &err), code);
	recap_ws_decoder_free(&d);
}

static void test_rfc_examples(void **state)
{
	/* RFC 6455 section 5.7 */
	expect_message(RECAP_WS_CLIENT, (const uint8_t *)"\x81\x05Hello", 7, RECAP_WS_TEXT, "Hello", 5);
	const uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
	expect_message(RECAP_WS_SERVER, masked, sizeof(masked), RECAP_WS_TEXT, "Hello", 5);
	expect_message(RECAP_WS_CLIENT, (const uint8_t *)"\x01\x03Hel\x80\x02lo", 9, RECAP_WS_TEXT, "Hello",
		       5);
	expect_message(RECAP_WS_CLIENT, (const uint8_t *)"\x89\x05Hello", 7, RECAP_WS_PING, "Hello", 5);
	const uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
	expect_message(RECAP_WS_SERVER, pong, sizeof(pong), RECAP_WS_PONG, "Hello", 5);
}

static void test_extended_lengths(void **state)
{
	static uint8_t in[10 + 70000], payload[70000];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7);
	/* 256 bytes: 16-bit length */
	memcpy(in, "\x82\x7e\x01\x00", 4);
	memcpy(in + 4, payload, 256);
	expect_message(RECAP_WS_CLIENT, in, 4 + 256, RECAP_WS_BINARY, (const char *)payload, 256);
	/* 65536 bytes: 64-bit length */
	memcpy(in, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	memcpy(in + 10, payload, 65536);
	struct recap_ws_decoder d;
	recap_ws_decoder_init(&d, RECAP_WS_CLIENT, 65536);
	struct recap_ws_message m;
	size_t used;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(feed(&d, in, 10 + 65536, 4093, &used, &m, &err), 1);
	assert_int_equal(m.len, 65536);
	assert_memory_equal(m.data, payload, 65536);
	/* the buffer grew to the limit, no further */
	assert_true(d.msg.cap <= 65536 + 1);
	recap_ws_decoder_free(&d);
}

static void test_encode_roundtrip(void **state)
{
	static uint8_t payload[70000];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13 + 1);
	const size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 70000};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int client = 0; client < 2; client++) {
			struct recap_buf b = RECAP_BUF_INIT(1 << 20);
			_cleanup_error_ struct recap_error *err = NULL;
			enum recap_ws_role role = client ? RECAP_WS_CLIENT : RECAP_WS_SERVER;
			assert_int_equal(recap_ws_encode(&b, role, RECAP_WS_BINARY, true, payload, sizes[i],
							 client ? key : NULL, &err),
					 0);
			/* the other end reads it */
			struct recap_ws_decoder d;
			recap_ws_decoder_init(&d, client ? RECAP_WS_SERVER : RECAP_WS_CLIENT, 1 << 20);
			struct recap_ws_message m;
			size_t used;
			assert_int_equal(feed(&d, (uint8_t *)b.data, b.len, 1000, &used, &m, &err), 1);
			assert_int_equal(used, b.len);
			assert_int_equal(m.opcode, RECAP_WS_BINARY);
			assert_int_equal(m.len, sizes[i]);
			if (sizes[i])
				assert_memory_equal(m.data, payload, sizes[i]);
			recap_ws_decoder_free(&d);
			recap_buf_free(&b);
		}
	}
}

static void test_encode_rfc_bytes(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(64);
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_ws_encode(&b, RECAP_WS_CLIENT, RECAP_WS_TEXT, true, "Hello", 5, key, &err), 0);
	const uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
	assert_int_equal(b.len, sizeof(masked));
	assert_memory_equal(b.data, masked, sizeof(masked));
	recap_buf_reset(&b);
	assert_int_equal(recap_ws_encode(&b, RECAP_WS_SERVER, RECAP_WS_TEXT, false, "Hel", 3, NULL, &err), 0);
	assert_int_equal(
	    recap_ws_encode(&b, RECAP_WS_SERVER, RECAP_WS_CONTINUATION, true, "lo", 2, NULL, &err), 0);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.data, "\x01\x03Hel\x80\x02lo", 9);
	recap_buf_free(&b);
}

/* A ping between the fragments of a message comes out first; the message
 * is whole at its last fragment. */
static void test_control_between_fragments(void **state)
{
	const uint8_t in[] = "\x02\x02"
			     "ab"
			     "\x89\x01P"
			     "\x00\x01"
			     "c"
			     "\x80\x00";
	struct recap_ws_decoder d;
	recap_ws_decoder_init(&d, RECAP_WS_CLIENT, 3);
	struct recap_ws_message m;
	size_t used, pos = 0;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_ws_decoder_feed(&d, in, sizeof(in) - 1, &used, &m, &err), 1);
	assert_int_equal(m.opcode, RECAP_WS_PING);
	assert_int_equal(m.len, 1);
	assert_int_equal(m.data[0], 'P');
	pos += used;
	assert_int_equal(recap_ws_decoder_feed(&d, in + pos, sizeof(in) - 1 - pos, &used, &m, &err), 1);
	pos += used;
	assert_int_equal(pos, sizeof(in) - 1);
	assert_int_equal(m.opcode, RECAP_WS_BINARY);
	assert_int_equal(m.len, 3);
	assert_memory_equal(m.data, "abc", 3);
	/* the next message starts empty */
	assert_int_equal(recap_ws_decoder_feed(&d, (const uint8_t *)"\x82\x01z", 3, &used, &m, &err), 1);
	assert_int_equal(m.len, 1);
	assert_int_equal(m.data[0], 'z');
	recap_ws_decoder_free(&d);
}

/* Two frames in one read: the first is returned with what it used. */
static void test_two_frames_one_read(void **state)
{
	const uint8_t in[] = "\x82\x00\x81\x02hi";
	struct recap_ws_decoder d;
	recap_ws_decoder_init(&d, RECAP_WS_CLIENT, 16);
	struct recap_ws_message m;
	size_t used;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_ws_decoder_feed(&d, in, 6, &used, &m, &err), 1);
	assert_int_equal(used, 2);
	assert_int_equal(m.opcode, RECAP_WS_BINARY);
	assert_int_equal(m.len, 0);
	assert_int_equal(recap_ws_decoder_feed(&d, in + 2, 4, &used, &m, &err), 1);
	assert_int_equal(used, 4);
	assert_int_equal(m.opcode, RECAP_WS_TEXT);
	assert_memory_equal(m.data, "hi", 2);
	assert_int_equal(recap_ws_decoder_feed(&d, in, 0, &used, &m, &err), 0);
	recap_ws_decoder_free(&d);
}

static void test_close_frames(void **state)
{
	struct recap_ws_decoder d;
	recap_ws_decoder_init(&d, RECAP_WS_CLIENT, 16);
	struct recap_ws_message m;
	size_t used;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_ws_decoder_feed(&d,
					       (const uint8_t *)"\x88\x05\x03\xe8"
								"bye",
					       7, &used, &m, &err),
			 1);
	assert_int_equal(m.opcode, RECAP_WS_CLOSE);
	assert_int_equal(m.close_code, 1000);
	assert_int_equal(m.close_reason_len, 3);
	assert_memory_equal(m.close_reason, "bye", 3);
	/* nothing may follow a close frame */
	assert_int_equal(recap_ws_decoder_feed(&d, (const uint8_t *)"\x81\x00", 2, &used, &m, &err), -EPROTO);
	assert_non_null(strstr(recap_error_message(err), "data after the close frame"));
	recap_ws_decoder_free(&d);

	recap_ws_decoder_init(&d, RECAP_WS_CLIENT, 16);
	assert_int_equal(recap_ws_decoder_feed(&d, (const uint8_t *)"\x88\x00", 2, &used, &m, &err), 1);
	assert_int_equal(m.close_code, RECAP_WS_CLOSE_NO_STATUS);
	assert_int_equal(m.close_reason_len, 0);
	recap_ws_decoder_free(&d);
}

static void test_refused_headers(void **state)
{
	const enum recap_ws_role S = RECAP_WS_SERVER, C = RECAP_WS_CLIENT;
	const int P = -EPROTO;
	const uint16_t E = RECAP_WS_CLOSE_PROTOCOL_ERROR;
	expect_refused(C, 64, (const uint8_t *)"\xc1\x00", 2, P, E, "reserved bits 0x40 set");
	expect_refused(C, 64, (const uint8_t *)"\x91\x00", 2, P, E, "reserved bits 0x10 set");
	expect_refused(C, 64, (const uint8_t *)"\x83\x00", 2, P, E, "unknown opcode 0x3");
	expect_refused(C, 64, (const uint8_t *)"\x8b\x00", 2, P, E, "unknown opcode 0xb");
	expect_refused(S, 64, (const uint8_t *)"\x81\x00", 2, P, E, "unmasked text frame from the client");
	expect_refused(C, 64, (const uint8_t *)"\x81\x80\x01\x02\x03\x04", 6, P, E,
		       "masked text frame from the server");
	expect_refused(C, 64, (const uint8_t *)"\x09\x00", 2, P, E, "fragmented ping frame");
	expect_refused(C, 64, (const uint8_t *)"\x8a\x7e\x00\x7e", 4, P, E,
		       "pong frame longer than the 125 bytes");
	expect_refused(C, 64, (const uint8_t *)"\x88\x7f", 2, P, E, "close frame longer than the 125 bytes");
	expect_refused(C, 64, (const uint8_t *)"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", 10, P, E,
		       "64-bit frame length with its most significant bit set");
	expect_refused(C, 64, (const uint8_t *)"\x82\x7e\x00\x05", 4, P, E, "lengths must be minimal");
	expect_refused(C, 1 << 20, (const uint8_t *)"\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", 10, P, E,
		       "lengths must be minimal");
	expect_refused(C, 64, (const uint8_t *)"\x80\x00", 2, P, E,
		       "continuation frame without a message to continue");
	expect_refused(C, 64,
		       (const uint8_t *)"\x01\x01"
					"a\x82\x00",
		       5, P, E, "binary frame while a fragmented text message is unfinished");
}

static void test_refused_sizes(void **state)
{
	const enum recap_ws_role C = RECAP_WS_CLIENT;
	/* one frame past the limit, refused at its header */
	expect_refused(C, 16, (const uint8_t *)"\x82\x11", 2, -EMSGSIZE, RECAP_WS_CLOSE_TOO_BIG,
		       "message of at least 17 bytes exceeds the limit of 16 bytes");
	expect_refused(C, 16, (const uint8_t *)"\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10, -EMSGSIZE,
		       RECAP_WS_CLOSE_TOO_BIG, "exceeds the limit of 16 bytes");
	/* fragments that add up past it */
	expect_refused(C, 16,
		       (const uint8_t *)"\x02\x0a"
					"0123456789"
					"\x80\x07",
		       14, -EMSGSIZE, RECAP_WS_CLOSE_TOO_BIG,
		       "message of at least 17 bytes exceeds the limit of 16 bytes");
	/* exactly at it is fine */
	expect_message(C,
		       (const uint8_t *)"\x02\x0a"
					"0123456789"
					"\x80\x06"
					"abcdef",
		       20, RECAP_WS_BINARY, "0123456789abcdef", 16);
}

static void test_refused_payloads(void **state)
{
	const enum recap_ws_role C = RECAP_WS_CLIENT;
	const uint16_t E = RECAP_WS_CLOSE_PROTOCOL_ERROR, U = RECAP_WS_CLOSE_INVALID_DATA;
	expect_refused(C, 64, (const uint8_t *)"\x81\x02\xc3\x28", 4, -EILSEQ, U,
		       "text message of 2 bytes is not valid UTF-8");
	/* overlong '/', a surrogate, past U+10FFFF, cut short across fragments */
	expect_refused(C, 64, (const uint8_t *)"\x81\x02\xc0\xaf", 4, -EILSEQ, U, "not valid UTF-8");
	expect_refused(C, 64, (const uint8_t *)"\x81\x03\xed\xa0\x80", 5, -EILSEQ, U, "not valid UTF-8");
	expect_refused(C, 64, (const uint8_t *)"\x81\x04\xf4\x90\x80\x80", 6, -EILSEQ, U, "not valid UTF-8");
	expect_refused(C, 64, (const uint8_t *)"\x81\x01\xe2", 3, -EILSEQ, U, "not valid UTF-8");
	/* a character split across fragments is whole in the message */
	expect_message(C, (const uint8_t *)"\x01\x01\xe2\x80\x02\x82\xac", 7, RECAP_WS_TEXT, "\xe2\x82\xac",
		       3);
	expect_refused(C, 64, (const uint8_t *)"\x88\x01\x03", 3, -EPROTO, E,
		       "close frame with a 1-byte payload");
	expect_refused(C, 64, (const uint8_t *)"\x88\x02\x03\xed", 4, -EPROTO, E, "status code 1005");
	expect_refused(C, 64, (const uint8_t *)"\x88\x02\x03\xe7", 4, -EPROTO, E, "status code 999");
	expect_refused(C, 64, (const uint8_t *)"\x88\x02\x07\xd0", 4, -EPROTO, E, "status code 2000");
	expect_refused(C, 64, (const uint8_t *)"\x88\x02\x13\x88", 4, -EPROTO, E, "status code 5000");
	expect_refused(C, 64, (const uint8_t *)"\x88\x03\x03\xe8\xff", 5, -EILSEQ, U,
		       "close frame's reason is not valid UTF-8");
}

static void test_close_codes(void **state)
{
	const unsigned ok[] = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1014, 3000, 4999};
	const unsigned bad[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(recap_ws_close_code_valid(ok[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(recap_ws_close_code_valid(bad[i]));
}

static void expect_encode_refused(int r, struct recap_error **err, int code, const char *msg)
{
	assert_int_equal(r, code);
	if (!strstr(recap_error_message(*err), msg))
		fail_msg("'%s' does not say '%s'", recap_error_message(*err), msg);
	recap_error_freep(err);
}

static void test_encode_refused(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(16);
	struct recap_error *err = NULL;
	static const char big[200];
	char reason[130];
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	expect_encode_refused(recap_ws_encode(&b, RECAP_WS_SERVER, RECAP_WS_PING, true, big, 126, NULL, &err),
			      &err, -EINVAL, "a ping frame must be final and carry at most 125 bytes");
	expect_encode_refused(recap_ws_encode(&b, RECAP_WS_SERVER, RECAP_WS_CLOSE, false, big, 2, NULL, &err),
			      &err, -EINVAL, "a close frame must be final");
	expect_encode_refused(recap_ws_encode(&b, RECAP_WS_SERVER, 3, true, big, 1, NULL, &err), &err,
			      -EINVAL, "unknown opcode 0x3");
	expect_encode_refused(recap_ws_encode(&b, RECAP_WS_SERVER, RECAP_WS_TEXT, true, "a", 1, key, &err),
			      &err, -EINVAL, "a server must not mask its frames");
	expect_encode_refused(recap_ws_encode(&b, RECAP_WS_CLIENT, RECAP_WS_TEXT, true, "a", 1, NULL, &err),
			      &err, -EINVAL, "a client must mask its frames");
	expect_encode_refused(
	    recap_ws_encode(&b, RECAP_WS_SERVER, RECAP_WS_BINARY, true, big, 15, NULL, &err), &err, -ENOBUFS,
	    "binary frame of 17 bytes exceeds the output limit of 16 bytes");
	assert_int_equal(b.len, 0);
	expect_encode_refused(recap_ws_encode_close(&b, RECAP_WS_SERVER, 1005, "x", NULL, &err), &err,
			      -EINVAL, "close code 1005 may not be sent");
	expect_encode_refused(recap_ws_encode_close(&b, RECAP_WS_SERVER, 1000, reason, NULL, &err), &err,
			      -EINVAL, "close reason of 129 bytes exceeds the limit of 123 bytes");
	expect_encode_refused(recap_ws_encode_close(&b, RECAP_WS_SERVER, 1000, "\xff", NULL, &err), &err,
			      -EILSEQ, "close reason is not valid UTF-8");
	assert_int_equal(recap_ws_encode_close(&b, RECAP_WS_SERVER, 1000, "bye", NULL, &err), 0);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data,
			    "\x88\x05\x03\xe8"
			    "bye",
			    7);
	recap_buf_reset(&b);
	assert_int_equal(
	    recap_ws_encode_close(&b, RECAP_WS_SERVER, RECAP_WS_CLOSE_NO_STATUS, NULL, NULL, &err), 0);
	assert_int_equal(b.len, 2);
	assert_memory_equal(b.data, "\x88\x00", 2);
	recap_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc_examples),
	    cmocka_unit_test(test_extended_lengths),
	    cmocka_unit_test(test_encode_roundtrip),
	    cmocka_unit_test(test_encode_rfc_bytes),
	    cmocka_unit_test(test_control_between_fragments),
	    cmocka_unit_test(test_two_frames_one_read),
	    cmocka_unit_test(test_close_frames),
	    cmocka_unit_test(test_refused_headers),
	    cmocka_unit_test(test_refused_sizes),
	    cmocka_unit_test(test_refused_payloads),
	    cmocka_unit_test(test_close_codes),
	    cmocka_unit_test(test_encode_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
