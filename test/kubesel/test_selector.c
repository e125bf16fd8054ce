#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kubesel/selector.h"

static json_t *labels(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

static bool match_str(const char *sel, const char *lbls)
{
	struct recap_kube_selector *s = NULL;
	struct recap_error *err = NULL;
	int r = recap_kube_selector_parse(sel, &s, &err);
	if (r < 0)
		fail_msg("parse '%s': %s", sel, recap_error_message(err));
	json_t *l = lbls ? labels(lbls) : NULL;
	bool m = recap_kube_selector_matches(s, l);
	json_decref(l);
	recap_kube_selector_free(s);
	return m;
}

static void string_form_matches(void **state)
{
	const char *l = "{\"app\":\"web\",\"tier\":\"front\",\"env\":\"prod\"}";
	assert_true(match_str("", l));
	assert_true(match_str("", NULL));
	assert_true(match_str("app=web", l));
	assert_true(match_str("app==web", l));
	assert_false(match_str("app=db", l));
	assert_true(match_str("app!=db", l));
	assert_true(match_str("missing!=x", l)); /* != matches an absent label */
	assert_true(match_str("env in (prod, staging)", l));
	assert_false(match_str("env in (dev)", l));
	assert_true(match_str("env notin (dev,staging)", l));
	assert_true(match_str("gone notin (dev)", l));
	assert_true(match_str("tier", l));
	assert_false(match_str("!tier", l));
	assert_true(match_str("!gone", l));
	assert_true(match_str(" app = web , tier , !gone ,env in(prod) ", l));
	assert_false(match_str("app=web,!tier", l));
	assert_true(match_str("a=b,c!=d,e in (x,y),!f", "{\"a\":\"b\",\"e\":\"y\"}"));
	assert_false(match_str("a=b,c!=d,e in (x,y),!f", "{\"a\":\"b\",\"e\":\"y\",\"f\":\"\"}"));
	assert_true(match_str("example.com/role=db", "{\"example.com/role\":\"db\"}"));
	assert_true(match_str("v=", "{\"v\":\"\"}"));
}

static void expect_parse_error(const char *sel, const char *needle)
{
	struct recap_kube_selector *s = NULL;
	struct recap_error *err = NULL;
	assert_true(recap_kube_selector_parse(sel, &s, &err) < 0);
	assert_null(s);
	if (!strstr(recap_error_message(err), needle))
		fail_msg("'%s': error '%s' lacks '%s'", sel, recap_error_message(err), needle);
	recap_error_free(err);
}

static void string_form_errors_name_the_problem(void **state)
{
	expect_parse_error("a=b,", "a requirement after ','");
	expect_parse_error("a in ()", "'a in ()' needs at least one value");
	expect_parse_error("a in (x", "',' or ')'");
	expect_parse_error("a in x", "'('");
	expect_parse_error("a > 3", "an operator");
	expect_parse_error("!a=b", "',' between requirements");
	expect_parse_error("=b", "a label key");
	expect_parse_error("-bad=x", "invalid label key '-bad'");
	expect_parse_error("a=b c", "',' between requirements");
	expect_parse_error("Bad_Prefix/x=y", "invalid label key");
	expect_parse_error("a=0123456789012345678901234567890123456789012345678901234567890123",
			   "invalid label value");
	char big[RECAP_KUBE_SELECTOR_MAX_BYTES + 10];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_parse_error(big, "longer than");
	char many[1024] = "";
	for (int i = 0; i < RECAP_KUBE_SELECTOR_MAX_REQUIREMENTS + 1; i++)
		strcat(many, i ? ",k" : "k");
	expect_parse_error(many, "more than 64 requirements");
}

static struct recap_kube_selector *from_json(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	struct recap_kube_selector *s = NULL;
	struct recap_error *err = NULL;
	int r = recap_kube_selector_from_json(j, &s, &err);
	json_decref(j);
	if (r < 0)
		fail_msg("%s: %s", text, recap_error_message(err));
	return s;
}

static void label_selector_object(void **state)
{
	struct recap_kube_selector *s =
	    from_json("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
		      "{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\",\"qa\"]},"
		      "{\"key\":\"tier\",\"operator\":\"NotIn\",\"values\":[\"db\"]},"
		      "{\"key\":\"team\",\"operator\":\"Exists\"},"
		      "{\"key\":\"legacy\",\"operator\":\"DoesNotExist\"}]}");
	json_t *l = labels("{\"app\":\"web\",\"env\":\"qa\",\"team\":\"x\"}");
	assert_true(recap_kube_selector_matches(s, l));
	json_object_set_new(l, "legacy", json_string("1"));
	assert_false(recap_kube_selector_matches(s, l));
	json_decref(l);
	struct recap_buf b = RECAP_BUF_INIT(1024);
	assert_int_equal(recap_kube_selector_format(s, &b), 0);
	assert_string_equal(b.data, "app=web,env in (prod,qa),tier notin (db),team,!legacy");
	/* the string form parses back to the same selector */
	struct recap_kube_selector *again = NULL;
	assert_int_equal(recap_kube_selector_parse(b.data, &again, NULL), 0);
	struct recap_buf b2 = RECAP_BUF_INIT(1024);
	assert_int_equal(recap_kube_selector_format(again, &b2), 0);
	assert_string_equal(b.data, b2.data);
	recap_buf_free(&b);
	recap_buf_free(&b2);
	recap_kube_selector_free(again);
	recap_kube_selector_free(s);

	s = from_json("{}");
	assert_true(recap_kube_selector_matches(s, NULL));
	recap_kube_selector_free(s);
	s = from_json("null");
	assert_false(recap_kube_selector_matches(s, NULL));
	struct recap_buf b3 = RECAP_BUF_INIT(16);
	assert_int_equal(recap_kube_selector_format(s, &b3), -EINVAL);
	recap_kube_selector_free(s);
}

static void expect_json_error(const char *text, const char *needle)
{
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	struct recap_kube_selector *s = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_selector_from_json(j, &s, &err), -EINVAL);
	if (!strstr(recap_error_message(err), needle))
		fail_msg("%s: error '%s' lacks '%s'", text, recap_error_message(err), needle);
	recap_error_free(err);
	json_decref(j);
}

static void label_selector_object_errors(void **state)
{
	expect_json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
			  "matchExpressions[0]: values: In must have at least one value");
	expect_json_error(
	    "{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
	    "Exists must have no values");
	expect_json_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}",
			  "operator 'Gt'");
	expect_json_error("{\"matchLabels\":{\"a\":1}}", "matchLabels.a: not a string");
	expect_json_error("{\"matchLabels\":{\"a b\":\"x\"}}", "invalid label key 'a b'");
	expect_json_error("[]", "not an object");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(string_form_matches),
	    cmocka_unit_test(string_form_errors_name_the_problem),
	    cmocka_unit_test(label_selector_object),
	    cmocka_unit_test(label_selector_object_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
