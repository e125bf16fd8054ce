#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "policy/selector.h"

struct scase {
	const char *selector, *labels;
	int want; /* 1 match, 0 no match, -1 error */
	const char *msg;
};

static const struct scase cases[] = {
    {"null", "{\"env\":\"prod\"}", 1, NULL},
    {"{}", "{}", 1, NULL},
    {"{\"matchLabels\":{}}", "{\"env\":\"prod\"}", 1, NULL},
    {"{\"matchLabels\":{\"env\":\"prod\"}}", "{\"env\":\"prod\",\"team\":\"a\"}", 1, NULL},
    {"{\"matchLabels\":{\"env\":\"prod\"}}", "{\"env\":\"dev\"}", 0, NULL},
    {"{\"matchLabels\":{\"env\":\"prod\"}}", "{}", 0, NULL},
    {"{\"matchLabels\":{\"env\":\"prod\"}}", "null", 0, NULL},
    {"{\"matchLabels\":{\"env\":\"prod\",\"team\":\"a\"}}", "{\"env\":\"prod\"}", 0, NULL},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\",\"stage\"]}]}",
     "{\"env\":\"stage\"}", 1, NULL},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\"]}]}", "{}", 0, NULL},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]}]}", "{}", 1,
     NULL},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]}]}",
     "{\"env\":\"prod\"}", 0, NULL},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"Exists\"}]}", "{\"env\":\"\"}", 1, NULL},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"Exists\"}]}", "{}", 0, NULL},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"DoesNotExist\"}]}", "{}", 1, NULL},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"DoesNotExist\"}]}", "{\"env\":\"x\"}", 0, NULL},
    {"{\"matchLabels\":{\"env\":\"prod\"},\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}",
     "{\"env\":\"prod\"}", 0, NULL},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\"}]}", "{}", -1,
     "In must have at least one value"},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"Exists\",\"values\":[\"a\"]}]}", "{}", -1,
     "Exists must have no values"},
    {"{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"Near\",\"values\":[\"a\"]}]}", "{}", -1,
     "operator 'Near': want In, NotIn, Exists or DoesNotExist"},
    {"{\"matchExpressions\":[{\"operator\":\"Exists\"}]}", "{}", -1, "matchExpressions[0]: key: missing"},
    {"{\"matchLabels\":{\"env\":1}}", "{}", -1, "matchLabels.env: not a string"},
    {"{\"matchLabels\":[]}", "{}", -1, "matchLabels: not an object"},
    {"[]", "{}", -1, "label selector: not an object"},
};

static void table(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *sel = json_loads(cases[i].selector, JSON_DECODE_ANY, NULL);
		json_t *labels = json_loads(cases[i].labels, JSON_DECODE_ANY, NULL);
		bool match = false;
		struct recap_error *err = NULL;
		int r =
		    recap_policy_selector_matches(sel, json_is_null(labels) ? NULL : labels, &match, &err);
		if (cases[i].want < 0) {
			assert_int_equal(r, -EINVAL);
			if (!strstr(recap_error_message(err), cases[i].msg))
				fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].selector,
					 recap_error_message(err), cases[i].msg);
		} else if (r < 0 || match != (cases[i].want == 1)) {
			fail_msg("%s on %s: r=%d match=%d", cases[i].selector, cases[i].labels, r, match);
		}
		recap_error_free(err);
		json_decref(sel);
		json_decref(labels);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
