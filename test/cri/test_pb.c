/* The CRI decoder: ContainerStatusResponse built by hand in the wire format,
 * well-formed and broken in every way a reply can be. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "cri/container.h"
#include "cri/grpc.h"
#include "cri/pb.h"

static void put_key(struct recap_buf *b, uint32_t number, int wire)
{
	assert_int_equal(recap_pb_put_varint(b, (uint64_t)number << 3 | (unsigned)wire), 0);
}

static void put_bytes(struct recap_buf *b, uint32_t number, const void *data, size_t len)
{
	put_key(b, number, RECAP_PB_LEN);
	assert_int_equal(recap_pb_put_varint(b, len), 0);
	assert_int_equal(recap_buf_append(b, data, len), 0);
}

static void put_entry(struct recap_buf *b, uint32_t number, const char *k, const char *v)
{
	struct recap_buf e = RECAP_BUF_INIT(1 << 20);
	assert_int_equal(recap_pb_put_string(&e, 1, k), 0);
	assert_int_equal(recap_pb_put_string(&e, 2, v), 0);
	put_bytes(b, number, e.data, e.len);
	recap_buf_free(&e);
}

/* A reply as containerd sends it; state RUNNING, labels, verbose info. */
static void reply(struct recap_buf *out, const char *info)
{
	struct recap_buf st = RECAP_BUF_INIT(1 << 20), md = RECAP_BUF_INIT(256);
	assert_int_equal(recap_pb_put_string(&st, 1, "abc123"), 0);
	assert_int_equal(recap_pb_put_string(&md, 1, "app"), 0);
	put_bytes(&st, 2, md.data, md.len);
	put_key(&st, 3, RECAP_PB_VARINT);
	assert_int_equal(recap_pb_put_varint(&st, 1), 0);
	put_key(&st, 4, RECAP_PB_VARINT);
	assert_int_equal(recap_pb_put_varint(&st, 1764000000000000000ull), 0);
	put_entry(&st, 12, "io.kubernetes.pod.name", "web-0");
	put_entry(&st, 12, "io.kubernetes.pod.namespace", "shop");
	put_entry(&st, 12, "io.kubernetes.pod.uid", "195b9aa9-ff2e-4e88-a30a-cf6dc5cfc633");
	put_entry(&st, 12, "io.kubernetes.container.name", "app");
	put_entry(&st, 12, "other", "x");
	put_entry(&st, 13, "io.kubernetes.pod.name", "annotations-are-not-labels");
	put_bytes(out, 1, st.data, st.len);
	if (info)
		put_entry(out, 2, "info", info);
	recap_buf_free(&st);
	recap_buf_free(&md);
}

static void test_decode_containerd_reply(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(1 << 20);
	reply(&b, "{\"sandboxID\":\"s1\",\"pid\":4242,\"removing\":false}");
	struct recap_cri_container c;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_cri_status_decode(b.data, b.len, &c, &err), 0);
	assert_string_equal(c.id, "abc123");
	assert_int_equal(c.state, RECAP_CRI_RUNNING);
	assert_string_equal(c.pod_name, "web-0");
	assert_string_equal(c.pod_namespace, "shop");
	assert_string_equal(c.pod_uid, "195b9aa9-ff2e-4e88-a30a-cf6dc5cfc633");
	assert_string_equal(c.container_name, "app");
	assert_int_equal(c.pid, 4242);
	recap_cri_container_free(&c);
	recap_buf_free(&b);
}

/* proto3 leaves a zero enum out: no state field is CREATED, not RUNNING. */
static void test_decode_missing_state_is_created(void **state)
{
	struct recap_buf st = RECAP_BUF_INIT(256), b = RECAP_BUF_INIT(256);
	assert_int_equal(recap_pb_put_string(&st, 1, "abc"), 0);
	put_bytes(&b, 1, st.data, st.len);
	struct recap_cri_container c;
	assert_int_equal(recap_cri_status_decode(b.data, b.len, &c, NULL), 0);
	assert_int_equal(c.state, RECAP_CRI_CREATED);
	assert_null(c.pod_name);
	assert_int_equal(c.pid, 0);
	recap_cri_container_free(&c);
	recap_buf_free(&st);
	recap_buf_free(&b);
}

static void expect_bad(const void *data, size_t len, const char *words)
{
	struct recap_cri_container c = {.id = NULL};
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_cri_status_decode(data, len, &c, &err), -EBADMSG);
	assert_null(c.id);
	if (!strstr(recap_error_message(err), words))
		fail_msg("'%s' does not say '%s'", recap_error_message(err), words);
}

/* Every prefix of a good reply is a truncation, refused or (at a field
 * boundary) short of the status: never a crash, never a read past it. */
static void test_decode_every_truncation(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(1 << 20);
	reply(&b, "{\"pid\":7}");
	for (size_t n = 0; n < b.len; n++) {
		char *copy = malloc(n ? n : 1); /* ASan sees a read past n */
		memcpy(copy, b.data, n);
		struct recap_cri_container c;
		int r = recap_cri_status_decode(copy, n, &c, NULL);
		if (r == 0) { /* only when the info entry alone was cut off */
			assert_string_equal(c.id, "abc123");
			recap_cri_container_free(&c);
		} else {
			assert_int_equal(r, -EBADMSG);
		}
		free(copy);
	}
	recap_buf_free(&b);
}

static void test_decode_malformed(void **state)
{
	/* a varint of 11 bytes, and one that stops mid-way */
	const uint8_t long_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	expect_bad(long_varint, sizeof(long_varint), "truncated varint");
	const uint8_t cut_varint[] = {0x08, 0xff, 0xff};
	expect_bad(cut_varint, sizeof(cut_varint), "truncated varint");
	const uint8_t cut_key[] = {0x80};
	expect_bad(cut_key, sizeof(cut_key), "field key");
	/* a length far past the message, and one past 2^63 */
	const uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a};
	expect_bad(huge, sizeof(huge), "past the end");
	const uint8_t huge64[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	expect_bad(huge64, sizeof(huge64), "past the end");
	const uint8_t field0[] = {0x02, 0x00};
	expect_bad(field0, sizeof(field0), "field number 0");
	const uint8_t group[] = {0x0b, 0x0c};
	expect_bad(group, sizeof(group), "wire type 3");
	const uint8_t status_varint[] = {0x08, 0x01};
	expect_bad(status_varint, sizeof(status_varint), "not bytes");
	/* a label or an info entry that is a varint: no bytes to read (the
	 * fuzzer's first find: a reader made over NULL) */
	const uint8_t label_varint[] = {0x0a, 0x05, 0x0a, 0x01, 'a', 0x60, 0x01};
	expect_bad(label_varint, sizeof(label_varint), "not bytes");
	const uint8_t info_varint[] = {0x0a, 0x03, 0x0a, 0x01, 'a', 0x10, 0x01};
	expect_bad(info_varint, sizeof(info_varint), "not bytes");
	/* status whose id holds a NUL */
	const uint8_t nul_id[] = {0x0a, 0x05, 0x0a, 0x03, 'a', 0, 'b'};
	expect_bad(nul_id, sizeof(nul_id), "NUL");
	/* status given twice */
	const uint8_t twice[] = {0x0a, 0x03, 0x0a, 0x01, 'a', 0x0a, 0x03, 0x0a, 0x01, 'b'};
	expect_bad(twice, sizeof(twice), "twice");
	/* empty message: no status */
	expect_bad("", 0, "no container status");
}

static void test_decode_bounds(void **state)
{
	/* a label value longer than RECAP_CRI_STRING_MAX */
	char big[RECAP_CRI_STRING_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	struct recap_buf st = RECAP_BUF_INIT(1 << 20), b = RECAP_BUF_INIT(1 << 20);
	assert_int_equal(recap_pb_put_string(&st, 1, "abc"), 0);
	put_entry(&st, 12, "io.kubernetes.pod.name", big);
	put_bytes(&b, 1, st.data, st.len);
	expect_bad(b.data, b.len, "more than");
	recap_buf_free(&b);
	recap_buf_free(&st);

	/* a label the check reads given twice (which one would be believed?) */
	st = RECAP_BUF_INIT(1 << 20);
	b = RECAP_BUF_INIT(1 << 20);
	assert_int_equal(recap_pb_put_string(&st, 1, "abc"), 0);
	put_entry(&st, 12, "io.kubernetes.pod.namespace", "a");
	put_entry(&st, 12, "io.kubernetes.pod.namespace", "b");
	put_bytes(&b, 1, st.data, st.len);
	expect_bad(b.data, b.len, "twice");
	recap_buf_free(&b);
	recap_buf_free(&st);
}

static void test_decode_bad_info(void **state)
{
	const char *bad[] = {"not json", "{\"pid\":\"12\"}", "{\"pid\":-1}", "{\"pid\":4294967296}"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct recap_buf b = RECAP_BUF_INIT(1 << 20);
		reply(&b, bad[i]);
		expect_bad(b.data, b.len, "info");
		recap_buf_free(&b);
	}
}

static void test_request_encoding(void **state)
{
	struct recap_buf b = RECAP_BUF_INIT(256);
	assert_int_equal(recap_cri_status_request("abc", &b), 0);
	const uint8_t want[] = {0x0a, 0x03, 'a', 'b', 'c', 0x10, 0x01};
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	recap_buf_free(&b);
	/* a varint of 300 is ac 02 */
	b = RECAP_BUF_INIT(16);
	assert_int_equal(recap_pb_put_varint(&b, 300), 0);
	assert_memory_equal(b.data, "\xac\x02", 2);
	uint64_t v;
	assert_int_equal(recap_pb_varint((const uint8_t *)b.data, (const uint8_t *)b.data + b.len, &v), 2);
	assert_int_equal(v, 300);
	recap_buf_free(&b);
}

static void test_grpc_unframe(void **state)
{
	const void *m;
	size_t n;
	assert_int_equal(recap_grpc_unframe("\0\0\0\0\2ab", 7, &m, &n, NULL), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(m, "ab", 2);
	assert_int_equal(recap_grpc_unframe("\0\0\0\0\3ab", 7, &m, &n, NULL), -EBADMSG); /* short */
	assert_int_equal(recap_grpc_unframe("\0\0\0\0\1ab", 7, &m, &n, NULL), -EBADMSG); /* trailing */
	assert_int_equal(recap_grpc_unframe("\1\0\0\0\2ab", 7, &m, &n, NULL), -EBADMSG); /* compressed */
	assert_int_equal(recap_grpc_unframe("\0\xff\xff\xff\xff", 5, &m, &n, NULL), -EBADMSG); /* 4 GiB */
	assert_int_equal(recap_grpc_unframe("\0\0\0", 3, &m, &n, NULL), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_containerd_reply),
	    cmocka_unit_test(test_decode_missing_state_is_created),
	    cmocka_unit_test(test_decode_every_truncation),
	    cmocka_unit_test(test_decode_malformed),
	    cmocka_unit_test(test_decode_bounds),
	    cmocka_unit_test(test_decode_bad_info),
	    cmocka_unit_test(test_request_encoding),
	    cmocka_unit_test(test_grpc_unframe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
