/* attach's pure parts: the interactive Capsule and run it creates, the
 * request it sends (path, headers, the head lib/kube writes), the checks of
 * the server's answer, the message of a refusal, the exit status from the
 * error channel's Status. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"
#include "attachws.h"
#include "kube/raw.h"
#include "objects.h"
#include "wsproto/handshake.h"

static json_t *J(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s", e.text);
	return j;
}

static void assert_json(json_t *got, const char *want)
{
	json_t *w = J(want);
	if (!json_equal(got, w)) {
		char *g = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("got %s", g);
	}
	json_decref(w);
}

#define ARGV(...) ((char *[]){"attach", __VA_ARGS__, NULL})

static json_t *capsule_of(char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	struct attach_args a = {0};
	struct recap_error *err = NULL;
	if (plugin_parse_attach(argc, argv, &a, &err) < 0)
		fail_msg("refused: %s", recap_error_message(err));
	json_t *c = NULL;
	assert_int_equal(plugin_adhoc_capsule(&a.r, "busybox-abcde", "uid-1", &c, &err), 0);
	json_t *run = plugin_run_object("busybox-abcde", "busybox-abcde", a.r.pods);
	json_object_set_new(c, "run", run); /* both checked at once */
	attach_args_free(&a);
	return c;
}

static void interactive_objects(void **state)
{
	json_t *c = capsule_of(ARGV("web-1", "--image", "reg/busybox:1", "-c", "app", "--join", "net,pid",
				    "--target-fs", "ReadWrite", "--cap-add", "SYS_PTRACE", "--cap-drop",
				    "ALL", "--idle-timeout", "120", "--timeout", "600", "--", "top", "-b"));
	assert_json(
	    c,
	    "{\"apiVersion\":\"recap.dev/v1alpha1\",\"kind\":\"Capsule\",\"metadata\":{"
	    "\"name\":\"busybox-abcde\",\"labels\":{\"app.kubernetes.io/managed-by\":\"kubectl-capsule\","
	    "\"recap.dev/run\":\"busybox-abcde\"},\"ownerReferences\":[{\"apiVersion\":\"recap.dev/"
	    "v1alpha1\","
	    "\"kind\":\"CapsuleRun\",\"name\":\"busybox-abcde\",\"uid\":\"uid-1\"}]},\"spec\":{"
	    "\"image\":\"reg/busybox:1\",\"command\":[\"top\",\"-b\"],\"interactive\":true,"
	    "\"session\":{\"attachTimeoutSeconds\":60,\"idleTimeoutSeconds\":120},"
	    "\"join\":[\"net\",\"pid\"],\"targetFilesystem\":\"ReadWrite\","
	    "\"security\":{\"capabilities\":{\"add\":[\"SYS_PTRACE\"],\"drop\":[\"ALL\"]}},"
	    "\"timeoutSeconds\":600,"
	    "\"targets\":{\"container\":\"app\",\"selector\":{\"matchLabels\":{"
	    "\"recap.dev/adhoc-run\":\"busybox-abcde\"}}}},"
	    "\"run\":{\"apiVersion\":\"recap.dev/v1alpha1\",\"kind\":\"CapsuleRun\",\"metadata\":{"
	    "\"name\":\"busybox-abcde\",\"labels\":{\"app.kubernetes.io/managed-by\":\"kubectl-capsule\","
	    "\"recap.dev/capsule\":\"busybox-abcde\"}},\"spec\":{\"capsuleRef\":{\"name\":\"busybox-abcde\"},"
	    "\"targets\":[\"web-1\"]}}}");
	json_decref(c);
	/* the defaults: sh, an hour, 15 minutes idle; the API's own for the rest */
	c = capsule_of(ARGV("web-1", "--image", "reg/busybox:1"));
	assert_json(json_object_get(c, "spec"),
		    "{\"image\":\"reg/busybox:1\",\"command\":[\"sh\"],\"interactive\":true,"
		    "\"session\":{\"attachTimeoutSeconds\":60,\"idleTimeoutSeconds\":900},"
		    "\"timeoutSeconds\":3600,\"targets\":{\"selector\":{\"matchLabels\":{"
		    "\"recap.dev/adhoc-run\":\"busybox-abcde\"}}}}");
	json_decref(c);
}

static const char KEY[] = "dGhlIHNhbXBsZSBub25jZQ=="; /* RFC 6455's example */

static void request(void **state)
{
	char *path = plugin_attach_path("shop", "busybox-abcde", "web-1");
	assert_string_equal(path, "/apis/subresources.recap.dev/v1alpha1/namespaces/shop/capsuleruns/"
				  "busybox-abcde/attach?target=web-1");
	free(path);
	path = plugin_attach_path("shop", "r", "a&b=c d");
	assert_string_equal(path, "/apis/subresources.recap.dev/v1alpha1/namespaces/shop/capsuleruns/r/"
				  "attach?target=a%26b%3Dc%20d");
	struct plugin_attach_headers hd;
	plugin_attach_headers(KEY, &hd);
	char *head = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_raw_head("https://10.0.0.1:6443", "GET", path, "kubectl-capsule", "tok",
					     hd.v, PLUGIN_ATTACH_NHEADERS, &head, &err),
			 0);
	assert_string_equal(head, "GET /apis/subresources.recap.dev/v1alpha1/namespaces/shop/capsuleruns/r/"
				  "attach?target=a%26b%3Dc%20d HTTP/1.1\r\n"
				  "Host: 10.0.0.1:6443\r\n"
				  "User-Agent: kubectl-capsule\r\n"
				  "Authorization: Bearer tok\r\n"
				  "Connection: Upgrade\r\n"
				  "Upgrade: websocket\r\n"
				  "Sec-WebSocket-Version: 13\r\n"
				  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n"
				  "\r\n");
	free(head);
	/* a server URL with a path prefix, no token (client certificate) */
	assert_int_equal(
	    recap_kube_raw_head("https://lb.example/k8s/c1/", "GET", "/x", NULL, NULL, NULL, 0, &head, &err),
	    0);
	assert_string_equal(head, "GET /k8s/c1/x HTTP/1.1\r\nHost: lb.example\r\n\r\n");
	free(head);
	const char *bad[] = {"X: a\r\nEvil: b"};
	assert_int_equal(recap_kube_raw_head("https://h", "GET", "/x", NULL, NULL, bad, 1, &head, &err),
			 -EINVAL);
	recap_error_free(err);
	free(path);
}

/* Parses a head and checks it as a 101; the message on failure. */
static int check(const char *text, int *version, char *msg, size_t size)
{
	struct plugin_http_head h;
	struct recap_error *err = NULL;
	int r = plugin_http_head_parse(text, strlen(text), &h, &err);
	if (r == 1)
		r = plugin_attach_check(&h, KEY, version, &err);
	else if (r == 0)
		r = -EAGAIN;
	snprintf(msg, size, "%s", err ? recap_error_message(err) : "");
	recap_error_free(err);
	plugin_http_head_free(&h);
	return r;
}

#define HEAD101 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"

static void handshake(void **state)
{
	char m[256];
	int v = 0;
	assert_int_equal(check(HEAD101 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
				       "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n",
			       &v, m, sizeof(m)),
			 0);
	assert_int_equal(v, 5);
	assert_int_equal(check("HTTP/1.1 101 x\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
			       "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
			       "sec-websocket-protocol: v4.channel.k8s.io\r\n\r\n",
			       &v, m, sizeof(m)),
			 0);
	assert_int_equal(v, 4);
	/* a wrong Accept */
	assert_int_equal(check(HEAD101 "Sec-WebSocket-Accept: AAAAMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
				       "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n",
			       &v, m, sizeof(m)),
			 -EPROTO);
	assert_non_null(strstr(m, "Sec-WebSocket-Accept"));
	/* a protocol that was not offered, or none */
	assert_int_equal(check(HEAD101 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
				       "Sec-WebSocket-Protocol: channel.k8s.io\r\n\r\n",
			       &v, m, sizeof(m)),
			 -EPROTO);
	assert_string_equal(m, "the server chose protocol \"channel.k8s.io\", not one of v5.channel.k8s.io, "
			       "v4.channel.k8s.io");
	assert_int_equal(
	    check(HEAD101 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", &v, m, sizeof(m)),
	    -EPROTO);
	assert_non_null(strstr(m, "chose no protocol"));
	/* not an upgrade */
	assert_int_equal(check("HTTP/1.1 101 x\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
			       "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n",
			       &v, m, sizeof(m)),
			 -EPROTO);
	assert_int_equal(check("HTTP/1.1 200 OK\r\n\r\n", &v, m, sizeof(m)), -EPROTO);
	/* not whole yet, not HTTP */
	assert_int_equal(check(HEAD101, &v, m, sizeof(m)), -EAGAIN);
	assert_int_equal(check("SSH-2.0-x\r\n\r\n", &v, m, sizeof(m)), -EPROTO);
}

static char *refusal(const char *text)
{
	struct plugin_http_head h;
	struct recap_error *err = NULL;
	assert_int_equal(plugin_http_head_parse(text, strlen(text), &h, &err), 1);
	char *body = NULL;
	size_t len = 0;
	const char *rest = text + h.len;
	int r = plugin_http_body(&h, rest, strlen(rest), false, &body, &len, &err);
	if (r == 0) /* what came is all there is */
		r = plugin_http_body(&h, rest, strlen(rest), true, &body, &len, &err);
	assert_int_equal(r, 1);
	char *m = plugin_attach_refusal(&h, body, len);
	free(body);
	plugin_http_head_free(&h);
	return m;
}

static void refusals(void **state)
{
	static const char status[] =
	    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"capsuleruns."
	    "recap.dev "
	    "\\\"r\\\" is forbidden: User \\\"bob\\\" cannot create resource \\\"capsuleruns/attach\\\"\","
	    "\"reason\":\"Forbidden\",\"code\":403}";
	char text[1024];
	snprintf(text, sizeof(text),
		 "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(status), status);
	char *m = refusal(text);
	assert_string_equal(m,
			    "capsuleruns.recap.dev \"r\" is forbidden: User \"bob\" cannot create resource "
			    "\"capsuleruns/attach\"");
	free(m);
	/* chunked */
	m = refusal("HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "d\r\n{\"message\":\"r\r\n0c\r\nun refused\"}\r\n0\r\n\r\n");
	assert_string_equal(m, "run refused");
	free(m);
	/* not a Status */
	m = refusal("HTTP/1.1 502 Bad Gateway\r\n\r\nupstream gone");
	assert_string_equal(m, "HTTP 502: upstream gone");
	free(m);
	/* a Content-Length not reached yet waits for more */
	struct plugin_http_head h;
	struct recap_error *err = NULL;
	static const char partial[] = "HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\n{\"me";
	assert_int_equal(plugin_http_head_parse(partial, strlen(partial), &h, &err), 1);
	char *body = NULL;
	size_t len;
	assert_int_equal(plugin_http_body(&h, partial + h.len, 4, false, &body, &len, &err), 0);
	plugin_http_head_free(&h);
}

static void exit_codes(void **state)
{
	char *m = NULL;
	const char *ok = "{\"metadata\":{},\"status\":\"Success\"}";
	assert_int_equal(plugin_attach_exit_code(ok, strlen(ok), &m), 0);
	assert_null(m);
	const char *three =
	    "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with "
	    "non-zero exit code: 3\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{"
	    "\"reason\":\"ExitCode\",\"message\":\"3\"}]}}";
	assert_int_equal(plugin_attach_exit_code(three, strlen(three), &m), 3);
	assert_null(m);
	const char *fail = "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"session idle for 900 s\","
			   "\"reason\":\"InternalError\",\"code\":500}";
	assert_int_equal(plugin_attach_exit_code(fail, strlen(fail), &m), 1);
	assert_string_equal(m, "session idle for 900 s");
	free(m);
	assert_int_equal(plugin_attach_exit_code("nope", 4, &m), 1);
	assert_non_null(strstr(m, "the session's exit status cannot be read"));
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(interactive_objects), cmocka_unit_test(request),
	    cmocka_unit_test(handshake),	   cmocka_unit_test(refusals),
	    cmocka_unit_test(exit_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
