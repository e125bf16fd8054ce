/* Informer relists against a loopback HTTP server (test/kube/flaky_server.py)
 * that answers the first watch with ResourceVersionTooLarge: the informer
 * lists again, without a resourceVersion, and watches from the new list's
 * version instead of asking for the one the server does not have. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "helpers.h"
#include "kubecache/informer.h"

static struct tserver S;
static struct tclient T;

static int start_server(void **state)
{
	if (tserver_start(&S) < 0)
		return -1;
	struct recap_kube_config cfg = {.server = S.url, .namespace = "t"};
	tclient_open_config(&T, &cfg, NULL);
	return 0;
}

static int stop_server(void **state)
{
	tclient_close(&T);
	tserver_stop(&S);
	return 0;
}

/* What the server's lists and watches of ns asked for, as "list RV" and
 * "watch RV" in order, joined by commas. */
static void asked(const char *ns, char *out, size_t size)
{
	struct recap_kube_request r = {.method = "GET", .path = "/asked"};
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_request(T.c, &r, recap_kube_sync_cb, &s, NULL), 0);
	json_t *all = NULL;
	assert_int_equal(twait(&T, &s, &all, NULL), RECAP_KUBE_OK);
	size_t i, n = 0;
	json_t *what;
	out[0] = '\0';
	json_array_foreach (json_object_get(all, ns), i, what)
		n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", i ? "," : "",
				      json_string_value(what));
	json_decref(all);
}

struct seen {
	unsigned after_relist; /* answers since the second list completed */
	bool watching;	       /* a watch of the relisted version is open */
};

static void on_answered(struct recap_kube_informer *inf, void *userdata)
{
	struct seen *s = userdata;
	/* The second list, then the watch of its version. */
	if (recap_kube_informer_lists(inf) == 2)
		s->watching = ++s->after_relist == 2;
}

static void relists_after_too_large(const char *ns)
{
	struct recap_kube_informer_options o = {.ns = ns,
						.watch = {.backoff_min_ms = 100, .backoff_max_ms = 200},
						.relist_backoff_min_ms = 100,
						.relist_backoff_max_ms = 200};
	struct recap_kube_informer_handlers h = {.answered = on_answered};
	struct seen seen = {0};
	struct recap_kube_informer *inf = NULL;
	assert_int_equal(recap_kube_informer_new(T.c, &T_CONFIGMAPS, &o, &h, &seen, &inf, NULL), 0);
	assert_int_equal(recap_kube_informer_start(inf, NULL), 0);
	bool ok = trun_until(&T, &seen.watching, 10000);
	unsigned lists = recap_kube_informer_lists(inf);
	recap_kube_informer_free(inf);
	char got[512];
	asked(ns, got, sizeof(got));
	if (!ok)
		fail_msg("%s: no watch after a relist; asked: %s", ns, got);
	assert_int_equal(lists, 2);
	/* Both lists are consistent reads; the first list's version (10) is
	 * asked for once, then the second's (30). */
	assert_string_equal(got, "list ,watch 10,list ,watch 30");
}

static void too_large_answer_relists(void **state)
{
	relists_after_too_large("relist-http");
}

static void too_large_event_relists(void **state)
{
	relists_after_too_large("relist-event");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(too_large_answer_relists),
	    cmocka_unit_test(too_large_event_relists),
	};
	return cmocka_run_group_tests(tests, start_server, stop_server);
}
