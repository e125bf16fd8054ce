#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oci/digest.h"
#include "oci/path.h"

static void clean_ok(const char *in, const char *want)
{
	char out[RECAP_OCI_PATH_MAX + 1];
	_cleanup_error_ struct recap_error *err = NULL;
	if (recap_oci_path_clean(in, out, sizeof(out), &err) < 0)
		fail_msg("'%s': %s", in, recap_error_message(err));
	assert_string_equal(out, want);
}

static void clean_fails(const char *in, int code, const char *needle)
{
	char out[RECAP_OCI_PATH_MAX + 1];
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_oci_path_clean(in, out, sizeof(out), &err), -code);
	if (!strstr(recap_error_message(err), needle))
		fail_msg("'%s': '%s' lacks '%s'", in, recap_error_message(err), needle);
}

static void paths(void **state)
{
	clean_ok("./etc/passwd", "etc/passwd");
	clean_ok("etc//x/./y/", "etc/x/y");
	clean_ok("./", "");
	clean_ok(".", "");
	clean_ok("a/..b/c..", "a/..b/c..");
	clean_fails("../x", EPERM, "escapes");
	clean_fails("a/../../x", EPERM, "escapes");
	clean_fails("a/..", EPERM, "escapes");
	clean_fails("/etc/passwd", EPERM, "absolute");
	clean_fails("", EINVAL, "empty");
	char longname[300];
	memset(longname, 'n', 299);
	longname[299] = '\0';
	clean_fails(longname, ENAMETOOLONG, "255");
	char *huge = malloc(RECAP_OCI_PATH_MAX + 10);
	for (int i = 0; i < RECAP_OCI_PATH_MAX + 8; i++)
		huge[i] = i % 2 ? '/' : 'a';
	huge[RECAP_OCI_PATH_MAX + 8] = '\0';
	clean_fails(huge, ENAMETOOLONG, "limit");
	for (int i = 0; i < 257 * 2; i++)
		huge[i] = i % 2 ? '/' : 'a';
	huge[256 * 2 - 1] = '\0';
	clean_ok(huge, huge);
	huge[256 * 2 - 1] = '/';
	huge[257 * 2 - 1] = '\0';
	clean_fails(huge, ENAMETOOLONG, "nests deeper than 256");
	memset(huge, 'a', RECAP_OCI_PATH_MAX + 8);
	clean_fails(huge, ENAMETOOLONG, "limit");
	free(huge);
}

static void whiteout_is(const char *base, enum recap_oci_whiteout want, const char *hidden)
{
	enum recap_oci_whiteout got;
	const char *name = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	if (recap_oci_whiteout_classify(base, &got, &name, &err) < 0)
		fail_msg("'%s': %s", base, recap_error_message(err));
	assert_int_equal(got, want);
	if (hidden)
		assert_string_equal(name, hidden);
}

static void whiteout_bad(const char *base)
{
	enum recap_oci_whiteout got;
	const char *name = NULL;
	_cleanup_error_ struct recap_error *err = NULL;
	assert_int_equal(recap_oci_whiteout_classify(base, &got, &name, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "malformed whiteout"));
}

static void whiteouts(void **state)
{
	whiteout_is("passwd", RECAP_OCI_WHITEOUT_NONE, NULL);
	whiteout_is(".wh", RECAP_OCI_WHITEOUT_NONE, NULL);
	whiteout_is(".whx", RECAP_OCI_WHITEOUT_NONE, NULL);
	whiteout_is(".wh.passwd", RECAP_OCI_WHITEOUT_FILE, "passwd");
	whiteout_is(".wh..hidden", RECAP_OCI_WHITEOUT_FILE, ".hidden");
	whiteout_is(".wh..wh..opq", RECAP_OCI_WHITEOUT_OPAQUE, NULL);
	whiteout_bad(".wh.");
	whiteout_bad(".wh..");
	whiteout_bad(".wh...");
	whiteout_bad(".wh..wh.");
	whiteout_bad(".wh..wh..opqx");
	whiteout_bad(".wh..wh.other");
}

static void digests(void **state)
{
	_cleanup_error_ struct recap_error *err = NULL;
	char d[RECAP_OCI_DIGEST_MAX];
	assert_int_equal(recap_oci_digest_buf("", 0, d), 0);
	assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(recap_oci_digest_validate(d, &err), 0);
	assert_string_equal(recap_oci_digest_hex(d), d + 7);
	const char *bad[] = {NULL,
			     "",
			     "sha256:",
			     "sha256:../../etc/passwd",
			     "sha512:"
			     "00",
			     "e3b0c442",
			     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85/",
			     "sha256:E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		_cleanup_error_ struct recap_error *e = NULL;
		assert_int_equal(recap_oci_digest_validate(bad[i], &e), -EINVAL);
		assert_non_null(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(paths),
	    cmocka_unit_test(whiteouts),
	    cmocka_unit_test(digests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
