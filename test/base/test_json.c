#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/json.h"

static void lookups(void **state)
{
	const char *doc = "{\"metadata\":{\"name\":\"a\",\"labels\":{\"recap.dev/node\":\"n1\"},"
			  "\"generation\":3},\"spec\":{\"suspend\":true}}";
	json_t *v = NULL;
	assert_int_equal(recap_json_parse(doc, strlen(doc), 1024, &v, NULL), 0);
	assert_string_equal(recap_json_str(v, "metadata.name"), "a");
	assert_null(recap_json_str(v, "metadata.generation"));
	assert_int_equal(recap_json_int(v, "metadata.generation", -1), 3);
	assert_int_equal(recap_json_int(v, "metadata.missing", -1), -1);
	assert_int_equal(recap_json_bool(v, "spec.suspend", 0), 1);
	assert_null(recap_json_path(v, "metadata.name.deeper"));
	assert_string_equal(json_string_value(recap_json_at(v, "metadata", "labels", "recap.dev/node", NULL)),
			    "n1");
	json_decref(v);
}

static void parse_errors_name_the_problem(void **state)
{
	struct recap_error *err = NULL;
	json_t *v = NULL;
	assert_int_equal(recap_json_parse("{\"a\":", 5, 1024, &v, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "invalid JSON at line 1"));
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_json_parse("[1,2,3]", 7, 4, &v, &err), -EFBIG);
	assert_non_null(strstr(recap_error_message(err), "exceeds the limit of 4 bytes"));
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_json_parse("{\"a\":1,\"a\":2}", 13, 100, &v, &err), -EINVAL);
	recap_error_free(err);
}

static void load_file_limit(void **state)
{
	char path[] = "/tmp/recap-json-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"k\":\"0123456789\"}", 18), 18);
	close(fd);
	json_t *v = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(recap_json_load_file(path, 10, &v, &err), -EFBIG);
	assert_non_null(strstr(recap_error_message(err), path));
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_json_load_file(path, 100, &v, &err), 0);
	assert_string_equal(recap_json_str(v, "k"), "0123456789");
	json_decref(v);
	unlink(path);
	assert_int_equal(recap_json_load_file(path, 100, &v, &err), -ENOENT);
	recap_error_free(err);
}

static void dump_is_bounded(void **state)
{
	json_t *v = json_pack("{s:s}", "key", "a long enough value");
	struct recap_buf b = RECAP_BUF_INIT(10);
	assert_int_equal(recap_json_dump(v, &b), -ENOBUFS);
	assert_int_equal(b.len, 0);
	struct recap_buf big = RECAP_BUF_INIT(100);
	assert_int_equal(recap_json_dump(v, &big), 0);
	assert_string_equal(big.data, "{\"key\":\"a long enough value\"}");
	recap_buf_free(&b);
	recap_buf_free(&big);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(lookups),
	    cmocka_unit_test(parse_errors_name_the_problem),
	    cmocka_unit_test(load_file_limit),
	    cmocka_unit_test(dump_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
