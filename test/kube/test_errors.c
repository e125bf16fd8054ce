#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/json.h"
#include "kube/errors.h"

static void classify_by_status(void **state)
{
	assert_int_equal(recap_kube_code_from_http(200, NULL), RECAP_KUBE_OK);
	assert_int_equal(recap_kube_code_from_http(201, NULL), RECAP_KUBE_OK);
	assert_int_equal(recap_kube_code_from_http(0, NULL), RECAP_KUBE_ERR_TRANSPORT);
	assert_int_equal(recap_kube_code_from_http(400, NULL), RECAP_KUBE_ERR_BAD_REQUEST);
	assert_int_equal(recap_kube_code_from_http(401, NULL), RECAP_KUBE_ERR_UNAUTHORIZED);
	assert_int_equal(recap_kube_code_from_http(403, NULL), RECAP_KUBE_ERR_FORBIDDEN);
	assert_int_equal(recap_kube_code_from_http(404, NULL), RECAP_KUBE_ERR_NOT_FOUND);
	assert_int_equal(recap_kube_code_from_http(409, "Conflict"), RECAP_KUBE_ERR_CONFLICT);
	assert_int_equal(recap_kube_code_from_http(409, NULL), RECAP_KUBE_ERR_CONFLICT);
	assert_int_equal(recap_kube_code_from_http(409, "AlreadyExists"), RECAP_KUBE_ERR_ALREADY_EXISTS);
	assert_int_equal(recap_kube_code_from_http(410, NULL), RECAP_KUBE_ERR_GONE);
	assert_int_equal(recap_kube_code_from_http(422, NULL), RECAP_KUBE_ERR_INVALID);
	assert_int_equal(recap_kube_code_from_http(429, NULL), RECAP_KUBE_ERR_TOO_MANY_REQUESTS);
	assert_int_equal(recap_kube_code_from_http(500, NULL), RECAP_KUBE_ERR_SERVER);
	assert_int_equal(recap_kube_code_from_http(503, NULL), RECAP_KUBE_ERR_SERVER);
	assert_int_equal(recap_kube_code_from_http(599, NULL), RECAP_KUBE_ERR_SERVER);
	assert_int_equal(recap_kube_code_from_http(418, NULL), RECAP_KUBE_ERR_HTTP);
	assert_int_equal(recap_kube_code_errno(RECAP_KUBE_ERR_NOT_FOUND), -ENOENT);
	assert_int_equal(recap_kube_code_errno(RECAP_KUBE_ERR_ALREADY_EXISTS), -EEXIST);
	assert_int_equal(recap_kube_code_errno(RECAP_KUBE_ERR_GONE), -ESTALE);
	assert_string_equal(recap_kube_code_name(RECAP_KUBE_ERR_CONFLICT), "Conflict");
	assert_string_equal(recap_kube_code_name((enum recap_kube_code)999), "Unknown");
}

static void status_message_is_carried(void **state)
{
	const char *raw =
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
	    "\"message\":\"configmaps \\\"x\\\" already exists\",\"reason\":\"AlreadyExists\",\"code\":409}";
	json_t *body = NULL;
	assert_int_equal(recap_json_parse(raw, strlen(raw), 4096, &body, NULL), 0);
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_error_from_response(409, body, raw, strlen(raw), "POST /api/v1/x", &err),
			 RECAP_KUBE_ERR_ALREADY_EXISTS);
	assert_string_equal(recap_error_message(err),
			    "POST /api/v1/x: 409 AlreadyExists: configmaps \"x\" already exists");
	assert_int_equal(recap_error_code(err), EEXIST);
	recap_error_free(err);
	json_decref(body);
}

static void non_status_body_is_excerpted(void **state)
{
	char raw[1000];
	memset(raw, 'x', sizeof(raw));
	raw[0] = '\n';
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_error_from_response(502, NULL, raw, sizeof(raw), "GET /", &err),
			 RECAP_KUBE_ERR_SERVER);
	const char *m = recap_error_message(err);
	assert_non_null(strstr(m, "GET /: 502 ServerError:  xxx"));
	assert_true(strlen(m) < 300);
	recap_error_free(err);
}

static bool too_large(const char *status)
{
	json_t *j = json_loads(status, 0, NULL);
	assert_non_null(j);
	bool r = recap_kube_status_resource_version_too_large(j);
	json_decref(j);
	return r;
}

static void too_large_resource_version_by_cause(void **state)
{
	assert_true(too_large("{\"kind\":\"Status\",\"code\":504,\"reason\":\"Timeout\","
			      "\"message\":\"Timeout: Too large resource version: 9, current: 5\","
			      "\"details\":{\"causes\":[{\"reason\":\"ResourceVersionTooLarge\","
			      "\"message\":\"Too large resource version\"}],\"retryAfterSeconds\":1}}"));
	/* Among other causes, and without a kind (an ERROR event's object). */
	assert_true(too_large("{\"code\":504,\"details\":{\"causes\":[{\"reason\":\"Other\"},{},"
			      "{\"reason\":\"ResourceVersionTooLarge\"}]}}"));
	/* The message is for people: a timeout that only says so is retried. */
	assert_false(too_large("{\"kind\":\"Status\",\"code\":504,\"reason\":\"Timeout\","
			       "\"message\":\"Too large resource version\",\"details\":{}}"));
	assert_false(too_large("{\"kind\":\"Status\",\"code\":504,\"details\":{\"causes\":{}}}"));
	assert_false(too_large("{\"kind\":\"ConfigMap\",\"details\":{\"causes\":[{\"reason\":"
			       "\"ResourceVersionTooLarge\"}]}}"));
	assert_false(recap_kube_status_resource_version_too_large(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(classify_by_status),
	    cmocka_unit_test(status_message_is_carried),
	    cmocka_unit_test(non_status_body_is_excerpted),
	    cmocka_unit_test(too_large_resource_version_by_cause),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
