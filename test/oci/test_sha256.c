/* sha256.c (the store's read-side hash) against FIPS 180-2's examples and
 * against OpenSSL (the pull side's) on every length around block edges,
 * whole and fed in pieces. */
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oci/digest.h"
#include "base/sha256.h"

static void known_answers(void **state)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
	    {"", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	    {"abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	     "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char got[RECAP_OCI_DIGEST_MAX];
		assert_int_equal(recap_oci_digest_buf(cases[i].in, strlen(cases[i].in), got), 0);
		assert_string_equal(got, cases[i].want);
	}
	/* one million 'a', fed 1000 at a time */
	char a[1000];
	memset(a, 'a', sizeof(a));
	struct recap_sha256 c;
	uint8_t md[RECAP_SHA256_LEN];
	char got[RECAP_OCI_DIGEST_MAX];
	recap_sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		recap_sha256_update(&c, a, sizeof(a));
	recap_sha256_final(&c, md);
	recap_oci_digest_format(md, got);
	assert_string_equal(got, "sha256:cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void openssl(const uint8_t *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;
	assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

static void same_as_openssl(void **state)
{
	uint8_t data[1100];
	srand(4242);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)rand();
	for (size_t n = 0; n <= sizeof(data); n += n < 200 ? 1 : 37) {
		uint8_t want[32], whole[32], pieces[32];
		openssl(data, n, want);
		struct recap_sha256 c;
		recap_sha256_init(&c);
		recap_sha256_update(&c, data, n);
		recap_sha256_final(&c, whole);
		assert_memory_equal(whole, want, 32);
		recap_sha256_init(&c); /* in uneven pieces, across block edges */
		for (size_t off = 0, step = 1; off < n; off += step, step = step * 3 % 71 + 1)
			recap_sha256_update(&c, data + off, step < n - off ? step : n - off);
		recap_sha256_final(&c, pieces);
		assert_memory_equal(pieces, want, 32);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(known_answers),
	    cmocka_unit_test(same_as_openssl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
