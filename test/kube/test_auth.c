/* Authentication and authorization failures against a real kube-apiserver:
 * wrong CA, invalid token (401), no rights (403), and a token file that
 * rotates. Each is a clear error, classified by status. Also the server
 * reached by host name instead of address. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/json.h"
#include "helpers.h"

static struct recap_kube_config *admin_config(void)
{
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_load(NULL, NULL, &cfg, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	return cfg;
}

/* Lists configmaps in default with cfg; returns the code and message. */
static enum recap_kube_code try_list(const struct recap_kube_config *cfg, char **msg)
{
	struct tclient t;
	struct recap_kube_client_options o = {.max_retries = 1, .retry_base_ms = 10};
	tclient_open_config(&t, cfg, &o);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_list(t.c, &T_CONFIGMAPS, "default", NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	enum recap_kube_code code = twait(&t, &s, NULL, msg);
	tclient_close(&t);
	return code;
}

static void expect(const struct recap_kube_config *cfg, enum recap_kube_code want, const char *needle)
{
	char *msg = NULL;
	enum recap_kube_code got = try_list(cfg, &msg);
	if (got != want || (needle && (!msg || !strstr(msg, needle))))
		fail_msg("want %s with '%s', got %s: %s", recap_kube_code_name(want), needle ? needle : "",
			 recap_kube_code_name(got), msg ? msg : "(no message)");
	free(msg);
}

static void admin_works(void **state)
{
	struct recap_kube_config *cfg = admin_config();
	expect(cfg, RECAP_KUBE_OK, NULL);
	recap_kube_config_free(cfg);
}

static void wrong_ca_is_a_tls_error(void **state)
{
	struct recap_kube_config *cfg = admin_config();
	/* The client certificate is not the CA that signed the server's. */
	free(cfg->ca_data);
	cfg->ca_data = strdup(cfg->cert_data);
	cfg->ca_len = cfg->cert_len;
	expect(cfg, RECAP_KUBE_ERR_TRANSPORT, "certificate");
	recap_kube_config_free(cfg);
}

/* The server by host name: resolved, sent as SNI, and checked against the
 * certificate's DNS names (hack/cluster's names localhost). */
static void server_by_host_name(void **state)
{
	struct recap_kube_config *cfg = admin_config();
	char *at = strstr(cfg->server, "://127.0.0.1:");
	if (!at)
		fail_msg("expected a server on 127.0.0.1, got %s", cfg->server);
	char *server = NULL;
	assert_true(asprintf(&server, "https://localhost%s", at + strlen("://127.0.0.1")) > 0);
	free(cfg->server);
	cfg->server = server;
	expect(cfg, RECAP_KUBE_OK, NULL);
	recap_kube_config_free(cfg);
}

static void invalid_token_is_unauthorized(void **state)
{
	struct recap_kube_config *cfg = admin_config();
	free(cfg->cert_data), free(cfg->key_data);
	cfg->cert_data = cfg->key_data = NULL;
	cfg->token = strdup("not-a-valid-token");
	expect(cfg, RECAP_KUBE_ERR_UNAUTHORIZED, "401 Unauthorized");
	recap_kube_config_free(cfg);
}

static void no_rights_is_forbidden(void **state)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/users/nobody.kubeconfig", getenv("RECAP_CLUSTER_DIR"));
	struct recap_kube_config *cfg = NULL;
	assert_int_equal(recap_kube_config_load(path, NULL, &cfg, NULL), 0);
	expect(cfg, RECAP_KUBE_ERR_FORBIDDEN,
	       "403 Forbidden: configmaps is forbidden: User \"nobody\" cannot list");
	recap_kube_config_free(cfg);
}

/* A real service-account token from the TokenRequest API. */
static char *request_token(void)
{
	struct tclient t;
	tclient_open(&t, NULL, NULL);
	json_t *req = json_pack("{s:s, s:s, s:{s:i}}", "apiVersion", "authentication.k8s.io/v1", "kind",
				"TokenRequest", "spec", "expirationSeconds", 3600);
	struct recap_kube_request r = {.method = "POST",
				       .path = "/api/v1/namespaces/default/serviceaccounts/default/token"};
	char *body = json_dumps(req, JSON_COMPACT);
	r.body = body;
	r.body_len = strlen(body);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_request(t.c, &r, recap_kube_sync_cb, &s, NULL), 0);
	json_t *resp = NULL;
	char *msg = NULL;
	if (twait(&t, &s, &resp, &msg) != RECAP_KUBE_OK)
		fail_msg("token request: %s", msg);
	char *token = strdup(recap_json_str(resp, "status.token"));
	json_decref(resp);
	json_decref(req);
	free(body);
	tclient_close(&t);
	return token;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void rotated_token_file_is_reread(void **state)
{
	char *token = request_token();
	/* Inside the cluster's directory: removed with it whatever happens. */
	char path[1024];
	snprintf(path, sizeof(path), "%s/rotating-token", getenv("RECAP_CLUSTER_DIR"));
	write_file(path, "stale-token\n");
	struct recap_kube_config *cfg = admin_config();
	free(cfg->cert_data), free(cfg->key_data);
	cfg->cert_data = cfg->key_data = NULL;
	cfg->token_file = strdup(path);
	struct tclient t;
	struct recap_kube_client_options o = {.max_retries = 1};
	tclient_open_config(&t, cfg, &o);
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	/* The default service account may read nothing, so 403 proves the token was accepted. */
	assert_int_equal(recap_kube_list(t.c, &T_CONFIGMAPS, "default", NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	assert_int_equal(twait(&t, &s, NULL, NULL), RECAP_KUBE_ERR_UNAUTHORIZED);
	write_file(path, token);
	usleep(1100000); /* the file is checked at most once a second */
	s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_list(t.c, &T_CONFIGMAPS, "default", NULL, recap_kube_sync_cb, &s, NULL),
			 0);
	char *msg = NULL;
	assert_int_equal(twait(&t, &s, NULL, &msg), RECAP_KUBE_ERR_FORBIDDEN);
	assert_non_null(strstr(msg, "system:serviceaccount:default:default"));
	free(msg);
	tclient_close(&t);
	unlink(path);
	free(token);
	recap_kube_config_free(cfg);
}

/* The pod's view: service-account files and the service environment. */
static void in_cluster_service_account(void **state)
{
	char dir[1024], path[1100];
	snprintf(dir, sizeof(dir), "%s/sa", getenv("RECAP_CLUSTER_DIR"));
	assert_int_equal(mkdir(dir, 0700), 0);
	char *token = request_token();
	snprintf(path, sizeof(path), "%s/token", dir);
	write_file(path, token);
	snprintf(path, sizeof(path), "%s/namespace", dir);
	write_file(path, "kube-system\n");
	struct recap_kube_config *admin = admin_config();
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	write_file(path, admin->ca_data);
	recap_kube_config_free(admin);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", getenv("RECAP_APISERVER_PORT"), 1);
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_in_cluster(dir, &cfg, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	assert_string_equal(cfg->namespace, "kube-system");
	/* Authenticated as the service account, which may not list config maps. */
	expect(cfg, RECAP_KUBE_ERR_FORBIDDEN, "User \"system:serviceaccount:default:default\" cannot list");
	recap_kube_config_free(cfg);
	free(token);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(admin_works),
	    cmocka_unit_test(wrong_ca_is_a_tls_error),
	    cmocka_unit_test(server_by_host_name),
	    cmocka_unit_test(invalid_token_is_unauthorized),
	    cmocka_unit_test(no_rights_is_forbidden),
	    cmocka_unit_test(rotated_token_file_is_reread),
	    cmocka_unit_test(in_cluster_service_account),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
