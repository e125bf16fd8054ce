#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "kube/watch_decode.h"

struct seen {
	int n;
	char types[16][16];
	char rvs[16][16];
	long codes[16];
	int stop_after;
};

static int record(const struct recap_kube_watch_event *ev, void *userdata)
{
	struct seen *s = userdata;
	assert_true(s->n < 16);
	snprintf(s->types[s->n], 16, "%s", recap_kube_watch_type_name(ev->type));
	snprintf(s->rvs[s->n], 16, "%s", ev->resource_version ? ev->resource_version : "-");
	s->codes[s->n] = ev->status_code;
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? -ECANCELED : 0;
}

#define EV(t, rv) "{\"type\":\"" t "\",\"object\":{\"metadata\":{\"resourceVersion\":\"" rv "\"}}}\n"

static void events_across_arbitrary_chunks(void **state)
{
	const char *stream = EV("ADDED", "1") EV("MODIFIED", "2") "\r\n\n" EV("BOOKMARK", "3")
	    EV("DELETED", "4") "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410}}\n";
	size_t len = strlen(stream);
	/* Every chunk size from 1 byte to the whole stream gives the same events. */
	for (size_t chunk = 1; chunk <= len; chunk++) {
		struct recap_kube_watch_decoder d;
		recap_kube_watch_decoder_init(&d, 1024);
		struct seen s = {0};
		for (size_t off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;
			assert_int_equal(recap_kube_watch_decoder_feed(&d, stream + off, n, record, &s, NULL),
					 0);
		}
		assert_false(recap_kube_watch_decoder_pending(&d));
		assert_int_equal(s.n, 5);
		assert_string_equal(s.types[0], "ADDED");
		assert_string_equal(s.rvs[0], "1");
		assert_string_equal(s.types[1], "MODIFIED");
		assert_string_equal(s.types[2], "BOOKMARK");
		assert_string_equal(s.rvs[2], "3");
		assert_string_equal(s.types[3], "DELETED");
		assert_string_equal(s.types[4], "ERROR");
		assert_int_equal(s.codes[4], 410);
		recap_kube_watch_decoder_free(&d);
	}
}

static void overlong_line_is_an_error(void **state)
{
	struct recap_kube_watch_decoder d;
	recap_kube_watch_decoder_init(&d, 64);
	struct seen s = {0};
	struct recap_error *err = NULL;
	char big[100];
	memset(big, 'x', sizeof(big));
	/* Without a newline: refused once the partial line exceeds the limit. */
	assert_int_equal(recap_kube_watch_decoder_feed(&d, big, 50, record, &s, NULL), 0);
	assert_true(recap_kube_watch_decoder_pending(&d));
	assert_int_equal(recap_kube_watch_decoder_feed(&d, big, 50, record, &s, &err), -EMSGSIZE);
	assert_non_null(strstr(recap_error_message(err), "limit of 64 bytes"));
	assert_true(d.line.cap <= 65);
	recap_error_free(err);
	err = NULL;
	/* A whole over-long line in one chunk. */
	recap_kube_watch_decoder_reset(&d);
	big[99] = '\n';
	assert_int_equal(recap_kube_watch_decoder_feed(&d, big, 100, record, &s, &err), -EMSGSIZE);
	assert_int_equal(s.n, 0);
	recap_error_free(err);
	recap_kube_watch_decoder_free(&d);
}

static void expect_bad(const char *line, const char *needle)
{
	struct recap_kube_watch_decoder d;
	recap_kube_watch_decoder_init(&d, 0);
	struct seen s = {0};
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_watch_decoder_feed(&d, line, strlen(line), record, &s, &err), -EBADMSG);
	assert_non_null(err);
	if (!strstr(recap_error_message(err), needle))
		fail_msg("'%s' not in '%s'", needle, recap_error_message(err));
	assert_int_equal(s.n, 0);
	recap_error_free(err);
	recap_kube_watch_decoder_free(&d);
}

static void malformed_lines_are_errors(void **state)
{
	expect_bad("not json\n", "invalid JSON");
	expect_bad("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}\n",
		   "invalid JSON");
	expect_bad("{\"object\":{}}\n", "without a string \"type\"");
	expect_bad("{\"type\":\"EXPLODED\",\"object\":{}}\n", "unknown type 'EXPLODED'");
	expect_bad("{\"type\":\"ADDED\",\"object\":[]}\n", "without an \"object\"");
	expect_bad("{\"type\":\"ADDED\",\"object\":{}}\n", "without metadata.resourceVersion");
	expect_bad("[1,2]\n", "without a string \"type\"");
	expect_bad("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}} trailing\n",
		   "invalid JSON");
}

static void emitter_can_stop(void **state)
{
	struct recap_kube_watch_decoder d;
	recap_kube_watch_decoder_init(&d, 0);
	struct seen s = {.stop_after = 1};
	const char *stream = EV("ADDED", "1") EV("ADDED", "2");
	assert_int_equal(recap_kube_watch_decoder_feed(&d, stream, strlen(stream), record, &s, NULL),
			 -ECANCELED);
	assert_int_equal(s.n, 1);
	recap_kube_watch_decoder_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(events_across_arbitrary_chunks),
	    cmocka_unit_test(overlong_line_is_an_error),
	    cmocka_unit_test(malformed_lines_are_errors),
	    cmocka_unit_test(emitter_can_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
