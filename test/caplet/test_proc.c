/* caplet's child processes with a held spec: the child starts at once,
 * blocks on fd 3, and gets the document only when it is sent; dropped, it
 * reads an empty one. Real processes and pipes on a real loop. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "caplet/proc.h"

struct result {
	bool done;
	int64_t status;
	char out[256];
};

static void on_done(struct caplet_proc *p, int64_t status, int sig, const struct recap_buf *out,
		    const char *err, void *data)
{
	struct result *r = data;
	r->done = true;
	r->status = status;
	size_t n = out->len < sizeof(r->out) - 1 ? out->len : sizeof(r->out) - 1;
	memcpy(r->out, out->data ? out->data : "", n);
	r->out[n] = '\0';
}

/* Prints what fd 3 held, in brackets, once it reached its end. */
static char *const reader[] = {"/bin/sh", "-c", "printf '[%s]' \"$(cat <&3)\"", NULL};

static void run_loop_until(uv_loop_t *loop, struct result *r)
{
	for (int i = 0; i < 5000 && !r->done; i++)
		uv_run(loop, UV_RUN_ONCE);
	assert_true(r->done);
}

static bool alive_for_a_moment(uv_loop_t *loop, struct result *r)
{
	for (int i = 0; i < 20; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
		usleep(5000);
	}
	return !r->done;
}

static void test_held_then_sent(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct result r = {0};
	struct caplet_proc *p = NULL;
	static const char doc[] = "{\"spec\":1}";
	assert_int_equal(caplet_proc_spawn_held(&loop, reader, strlen(doc), on_done, &r, &p, NULL), 0);
	assert_true(alive_for_a_moment(&loop, &r)); /* waiting for its spec */
	assert_int_equal(caplet_proc_send_doc(p, doc, strlen(doc), NULL), 0);
	run_loop_until(&loop, &r);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.out, "[{\"spec\":1}]");
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_dropped_reads_empty(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct result r = {0};
	struct caplet_proc *p = NULL;
	assert_int_equal(caplet_proc_spawn_held(&loop, reader, 16, on_done, &r, &p, NULL), 0);
	assert_true(alive_for_a_moment(&loop, &r));
	caplet_proc_drop_doc(p);
	run_loop_until(&loop, &r);
	assert_string_equal(r.out, "[]");
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_send_twice_refused(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct result r = {0};
	struct caplet_proc *p = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(caplet_proc_spawn_held(&loop, reader, 4, on_done, &r, &p, NULL), 0);
	assert_int_equal(caplet_proc_send_doc(p, "abcd", 4, NULL), 0);
	assert_int_equal(caplet_proc_send_doc(p, "abcd", 4, &err), -EPIPE);
	assert_non_null(strstr(recap_error_message(err), "already sent"));
	recap_error_free(err);
	run_loop_until(&loop, &r);
	assert_string_equal(r.out, "[abcd]");
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* A spec larger than a default pipe still goes in one write. */
static void test_large_spec(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct result r = {0};
	struct caplet_proc *p = NULL;
	size_t len = 200 * 1024;
	char *doc = malloc(len);
	assert_non_null(doc);
	memset(doc, 'x', len);
	static char *const counter[] = {"/bin/sh", "-c", "wc -c <&3", NULL};
	assert_int_equal(caplet_proc_spawn_held(&loop, counter, len, on_done, &r, &p, NULL), 0);
	assert_int_equal(caplet_proc_send_doc(p, doc, len, NULL), 0);
	run_loop_until(&loop, &r);
	assert_int_equal(strtol(r.out, NULL, 10), (long)len);
	free(doc);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_held_then_sent),
	    cmocka_unit_test(test_dropped_reads_empty),
	    cmocka_unit_test(test_send_twice_refused),
	    cmocka_unit_test(test_large_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
