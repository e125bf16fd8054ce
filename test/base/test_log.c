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
#include "base/log.h"

static char out[65536];

static void capture(void (*fn)(void))
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	recap_log_set_fd(p[1]);
	fn();
	close(p[1]);
	ssize_t n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	recap_log_set_fd(2);
}

static void emit_text(void)
{
	recap_log_setup("caplet", RECAP_LOG_INFO, RECAP_LOG_TEXT);
	const char *kv[] = {"run", "r1", "msg2", "has space", NULL};
	recap_log_kv(RECAP_LOG_WARN, kv, "pull took %d ms", 12);
	log_debug("hidden %d", 1);
}

static void text_format(void **state)
{
	capture(emit_text);
	assert_non_null(strstr(out, " warn  caplet: pull took 12 ms run=r1 msg2=\"has space\"\n"));
	assert_null(strstr(out, "hidden"));
	assert_int_equal(out[4], '-');
}

static void emit_json(void)
{
	recap_log_setup("ctl", RECAP_LOG_DEBUG, RECAP_LOG_JSON);
	const char *kv[] = {"capsule", "tc\"pd", NULL};
	recap_log_kv(RECAP_LOG_DEBUG, kv, "quote \" and newline\n");
	recap_log_errno(-ENOENT, "open %s", "x");
}

static void json_format(void **state)
{
	capture(emit_json);
	char *nl = strchr(out, '\n');
	assert_non_null(nl);
	json_t *v = NULL;
	assert_int_equal(recap_json_parse(out, (size_t)(nl - out), sizeof(out), &v, NULL), 0);
	assert_string_equal(recap_json_str(v, "level"), "debug");
	assert_string_equal(recap_json_str(v, "msg"), "quote \" and newline\n");
	assert_string_equal(recap_json_str(v, "capsule"), "tc\"pd");
	json_decref(v);
	assert_non_null(strstr(nl + 1, "\"msg\":\"open x: No such file or directory\""));
}

static void emit_huge(void)
{
	static char big[100000];
	memset(big, 'x', sizeof(big) - 1);
	recap_log_setup("t", RECAP_LOG_INFO, RECAP_LOG_TEXT);
	log_info("%s", big);
}

static void huge_message_is_cut(void **state)
{
	capture(emit_huge);
	assert_true(strlen(out) <= 16384);
	assert_non_null(strstr(out, "(truncated)\n"));
}

static void parse_options(void **state)
{
	enum recap_log_level l;
	enum recap_log_format f;
	assert_int_equal(recap_log_parse_level("debug", &l), 0);
	assert_int_equal(l, RECAP_LOG_DEBUG);
	assert_int_equal(recap_log_parse_level("verbose", &l), -EINVAL);
	assert_int_equal(recap_log_parse_format("json", &f), 0);
	assert_int_equal(f, RECAP_LOG_JSON);
	assert_int_equal(recap_log_parse_format("xml", &f), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(text_format),
	    cmocka_unit_test(json_format),
	    cmocka_unit_test(huge_message_is_cut),
	    cmocka_unit_test(parse_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
