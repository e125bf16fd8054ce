/* A list decoded through a projection (kubecache/list_decode.h) against the
 * same list parsed whole and projected: the same items, fed whole or in
 * pieces, and every malformed body refused with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "kubecache/list_decode.h"
#include "kubecache/projection.h"

static const char *const paths[] = {
    "metadata.name",
    "metadata.namespace",
    "metadata.labels",
    "metadata.resourceVersion",
    "spec.nodeName",
    "spec.containers[].name",
    "status.phase",
    "status.conditions",
    "status.containerStatuses[].name",
    "status.containerStatuses[].containerID",
    "x.both",
    "x.both[].a",
};

/* Items a pod list can hold, and shapes it should not but might. */
static const char *const list_body =
    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\","
    "\"metadata\":{\"resourceVersion\":\"1234\",\"continue\":\"tok\\\"en\",\"remainingItemCount\":7},"
    "\"items\":["
    /* an ordinary pod: managedFields, annotations and most of spec dropped */
    "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"ns\",\"uid\":\"u1\",\"resourceVersion\":\"17\","
    "\"labels\":{\"app\":\"web\",\"tier\":\"fr\\u00e9nt \\ud83d\\ude00\"},"
    "\"annotations\":{\"big\":\"\\u00ff\\\\\\n\"},"
    "\"managedFields\":[{\"manager\":\"m\",\"fieldsV1\":{\"f:spec\":{\"k:{\\\"name\\\":\\\"web\\\"}\":{}}},"
    "\"n\":[1,2.5,-3e7,true,false,null,-0]}]},"
    "\"spec\":{\"nodeName\":\"node-1\",\"containers\":[{\"name\":\"web\",\"image\":\"i\",\"ports\":[{\"p\":"
    "80}]},"
    "{\"name\":\"side\",\"env\":[]}],\"tolerations\":[{\"key\":\"k\"}]},"
    "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"
    "\"containerStatuses\":[{\"name\":\"web\",\"containerID\":\"containerd://abc\",\"ready\":true},"
    "{\"name\":\"side\",\"state\":{\"running\":{}}}]}},"
    /* an array named with [] that is an object: left out */
    "{\"metadata\":{\"name\":\"odd-1\",\"namespace\":\"ns\"},\"spec\":{\"containers\":{\"name\":\"x\"}}},"
    /* a path through something that is not an object: kept whole */
    "{\"metadata\":\"just a string\",\"spec\":[1,{\"nodeName\":\"n\"}],\"status\":{\"containerStatuses\":[5,"
    "\"s\",null,[1],{\"name\":\"n\",\"x\":1}]}},"
    /* empty things, escaped keys, numbers kept */
    "{\"metadata\":{\"name\":\"\",\"labels\":{},\"resourceVersion\":\"1\",\"a\\\"b\":1},"
    "\"status\":{\"conditions\":[],\"phase\":null},\"x\":{\"both\":[{\"a\":1,\"b\":2},3]}},"
    "{\"x\":{\"both\":{\"a\":[1.5,-2,3e2]}}},"
    /* not an object at all */
    "42"
    "]}";

static struct recap_kube_projection *projection(void)
{
	struct recap_kube_projection *p = NULL;
	assert_int_equal(recap_kube_projection_new(paths, sizeof(paths) / sizeof(paths[0]), &p, NULL), 0);
	return p;
}

/* The items of a whole parse of body, each projected. */
static json_t *expected_items(const struct recap_kube_projection *p, const char *body)
{
	json_t *whole = json_loads(body, 0, NULL);
	assert_non_null(whole);
	json_t *out = json_array();
	size_t i;
	json_t *item;
	json_array_foreach (json_object_get(whole, "items"), i, item) {
		json_t *v = recap_kube_projection_apply(p, item);
		json_array_append_new(out, v ? v : json_string("(not an object)"));
	}
	json_decref(whole);
	return out;
}

static void assert_same_items(const struct recap_kube_projection *p, json_t *want, json_t *decoded)
{
	assert_int_equal(json_array_size(want), json_array_size(decoded));
	for (size_t i = 0; i < json_array_size(decoded); i++) {
		json_t *v = recap_kube_projection_apply(p, json_array_get(decoded, i));
		json_t *got = v ? v : json_string("(not an object)");
		if (!json_equal(got, json_array_get(want, i))) {
			char *a = json_dumps(json_array_get(want, i), JSON_COMPACT);
			char *b = json_dumps(got, JSON_COMPACT);
			fail_msg("item %zu: want %s, got %s", i, a, b);
		}
		json_decref(got);
	}
}

static void same_items_as_a_whole_parse(void **state)
{
	struct recap_kube_projection *p = projection();
	struct recap_kube_list_sink sink = {.projection = p};
	json_t *list = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_list_decode(list_body, strlen(list_body), &sink, &list, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	json_t *want = expected_items(p, list_body);
	assert_int_equal(json_array_size(want), 6);
	assert_same_items(p, want, json_object_get(list, "items"));
	/* the list's own fields whole */
	assert_string_equal(recap_json_str(list, "metadata.resourceVersion"), "1234");
	assert_string_equal(recap_json_str(list, "metadata.continue"), "tok\"en");
	assert_int_equal(recap_json_int(list, "metadata.remainingItemCount", 0), 7);
	assert_string_equal(recap_json_str(list, "kind"), "PodList");
	/* what the projection drops was never built */
	json_t *first = json_array_get(json_object_get(list, "items"), 0);
	assert_null(recap_json_path(first, "metadata.managedFields"));
	assert_null(recap_json_path(first, "metadata.annotations"));
	assert_null(recap_json_path(first, "spec.tolerations"));
	assert_null(json_object_get(json_array_get(recap_json_path(first, "spec.containers"), 0), "image"));
	assert_string_equal(recap_json_str(first, "metadata.labels.tier"), "fr\xc3\xa9nt \xf0\x9f\x98\x80");
	json_decref(want);
	json_decref(list);
	recap_kube_projection_free(p);
}

struct collected {
	json_t *items;
};

static void collect(json_t *item, void *userdata)
{
	struct collected *c = userdata;
	json_array_append_new(c->items, item);
}

/* The streaming decoder, fed `piece` bytes at a time, items to a sink. */
static void fed_in_pieces(size_t piece)
{
	struct recap_kube_projection *p = projection();
	struct collected c = {.items = json_array()};
	struct recap_kube_list_sink sink = {.projection = p, .item = collect, .userdata = &c};
	const struct recap_kube_decoder *d = &recap_kube_list_decoder;
	void *st = d->begin(&sink);
	assert_non_null(st);
	size_t len = strlen(list_body);
	for (size_t off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;
		assert_int_equal(d->feed(st, list_body + off, n, NULL), 0);
	}
	json_t *list = NULL;
	assert_int_equal(d->end(st, &list, NULL), 0);
	json_t *want = expected_items(p, list_body);
	assert_same_items(p, want, c.items);
	/* the items went to the sink, not into the list */
	assert_int_equal(json_array_size(json_object_get(list, "items")), 0);
	assert_string_equal(recap_json_str(list, "metadata.continue"), "tok\"en");
	json_decref(want);
	json_decref(list);
	json_decref(c.items);
	recap_kube_projection_free(p);
}

static void same_items_fed_in_pieces(void **state)
{
	fed_in_pieces(1);
	fed_in_pieces(7);
	fed_in_pieces(4096);
}

static void refused(const char *body, size_t len, const char *needle)
{
	struct recap_kube_projection *p = projection();
	struct recap_kube_list_sink sink = {.projection = p};
	json_t *list = NULL;
	struct recap_error *err = NULL;
	int r = recap_kube_list_decode(body, len, &sink, &list, &err);
	if (r >= 0)
		fail_msg("accepted %.60s", body);
	assert_null(list);
	if (!strstr(recap_error_message(err), needle))
		fail_msg("%.60s: '%s' does not say '%s'", body, recap_error_message(err), needle);
	recap_error_free(err);
	recap_kube_projection_free(p);
}

static void accepted(const char *body)
{
	struct recap_kube_projection *p = projection();
	struct recap_kube_list_sink sink = {.projection = p};
	json_t *list = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_list_decode(body, strlen(body), &sink, &list, &err) < 0)
		fail_msg("%.60s: %s", body, recap_error_message(err));
	json_decref(list);
	recap_kube_projection_free(p);
}

static char *nested(const char *head, size_t depth, const char *tail)
{
	size_t hl = strlen(head), tl = strlen(tail);
	char *s = malloc(hl + 2 * depth + tl + 1);
	assert_non_null(s);
	memcpy(s, head, hl);
	memset(s + hl, '[', depth);
	memset(s + hl + depth, ']', depth);
	memcpy(s + hl + 2 * depth, tail, tl + 1);
	return s;
}

static void malformed_bodies_are_refused(void **state)
{
	const char *trunc = "{\"items\":[{\"metadata\":{\"name\":\"a\"}}";
	refused(trunc, strlen(trunc), "invalid JSON near byte");
	refused("{} x", 4, "invalid JSON near byte");
	refused("{/* c */}", 9, "invalid JSON");
	refused("", 0, "invalid JSON");
	/* invalid UTF-8 inside a dropped field is still refused */
	const char *utf = "{\"items\":[{\"junk\":\"\xff\"}]}";
	refused(utf, strlen(utf), "invalid JSON");
	const char *dup = "{\"items\":[{\"metadata\":{\"name\":\"a\",\"name\":\"b\"}}]}";
	refused(dup, strlen(dup), "duplicate object key 'name'");
	const char *nul = "{\"items\":[{\"metadata\":{\"name\":\"a\\u0000b\"}}]}";
	refused(nul, strlen(nul), "NUL character");
	const char *nulkey = "{\"items\":[{\"metadata\":{\"labels\":{\"a\\u0000\":\"b\"}}}]}";
	refused(nulkey, strlen(nulkey), "NUL character");
	const char *big = "{\"items\":[{\"metadata\":{\"name\":99999999999999999999999}}]}";
	refused(big, strlen(big), "number 99999999999999999999999");
	/* the list, its items, the item and metadata are 4 levels: 2,044
	 * more in labels make the 2,048 allowed, one more is refused */
	char *deep = nested("{\"items\":[{\"metadata\":{\"labels\":", 2045, "}}]}");
	refused(deep, strlen(deep), "nesting deeper than 2048 levels");
	free(deep);
	deep = nested("{\"items\":[{\"metadata\":{\"labels\":", 2044, "}}]}");
	accepted(deep);
	free(deep);
	/* what is dropped is checked, not built: nesting and a repeated key
	 * there cost nothing */
	deep = nested("{\"items\":[{\"junk\":", 100000, "}]}");
	accepted(deep);
	free(deep);
	accepted("{\"items\":[{\"junk\":{\"k\":1,\"k\":2}}]}");
	accepted("{\"items\":[{\"junk\":99999999999999999999999}]}");
	/* not a list: what is there is kept, the caller decides */
	accepted("[1,2]");
	accepted("{\"items\":{\"a\":1}}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(same_items_as_a_whole_parse),
	    cmocka_unit_test(same_items_fed_in_pieces),
	    cmocka_unit_test(malformed_bodies_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
