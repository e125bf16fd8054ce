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
#include "base/base64.h"

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
	struct recap_kube_config *cfg = tadmin_config();
	expect(cfg, RECAP_KUBE_OK, NULL);
	recap_kube_config_free(cfg);
}

static void wrong_ca_is_a_tls_error(void **state)
{
	struct recap_kube_config *cfg = tadmin_config();
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
	struct recap_kube_config *cfg = tadmin_config();
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
	struct recap_kube_config *cfg = tadmin_config();
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

static void rotated_token_file_is_reread(void **state)
{
	char *token = request_token();
	/* Inside the cluster's directory: removed with it whatever happens. */
	char path[1024];
	snprintf(path, sizeof(path), "%s/rotating-token", getenv("RECAP_CLUSTER_DIR"));
	twrite_file(path, "stale-token\n");
	struct recap_kube_config *cfg = tadmin_config();
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
	twrite_file(path, token);
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

/* A kubeconfig whose user is an exec plugin (v1, env, provideClusterInfo):
 * the plugin's first answer is a token the server refuses (as a revoked
 * one), its later ones a real service-account token said to expire 12 s
 * later. The request refused with 401 goes again with a fresh credential;
 * the next one uses the cached credential; once it is within 10 s of its
 * expiry the plugin runs again. */
static void exec_plugin_token_is_renewed(void **state)
{
	const char *d = getenv("RECAP_CLUSTER_DIR");
	char path[1024], kc[1100], runs[1100], info[1100];
	char *token = request_token();
	snprintf(path, sizeof(path), "%s/plugin.token", d);
	twrite_file(path, token);
	snprintf(path, sizeof(path), "%s/exec-plugin.sh", d);
	twrite_file(
	    path,
	    "#!/bin/sh\n"
	    "d=$(dirname \"$0\")\n"
	    "n=$(( $(cat \"$d/plugin.runs\" 2>/dev/null || echo 0) + 1 ))\n"
	    "echo $n >\"$d/plugin.runs\"\n"
	    "printf '%s\\n%s\\n' \"$KUBERNETES_EXEC_INFO\" \"$FROM_KUBECONFIG\" >\"$d/plugin.info\"\n"
	    "tok=$(cat \"$d/plugin.token\")\n"
	    "[ $n = 1 ] && tok=revoked-token\n"
	    "exp=$(date -u -d '+12 seconds' +%Y-%m-%dT%H:%M:%SZ)\n"
	    "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",'\n"
	    "printf '\"status\":{\"token\":\"%s\",\"expirationTimestamp\":\"%s\"}}\\n' \"$tok\" \"$exp\"\n");
	assert_int_equal(chmod(path, 0700), 0);
	struct recap_kube_config *admin = tadmin_config();
	char *ca = recap_base64_encode(admin->ca_data, admin->ca_len);
	snprintf(kc, sizeof(kc), "%s/exec.kubeconfig", d);
	FILE *f = fopen(kc, "we");
	assert_non_null(f);
	fprintf(
	    f,
	    "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
	    "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
	    "clusters:\n- name: c\n  cluster:\n    server: %s\n    certificate-authority-data: %s\n"
	    "    extensions:\n    - name: client.authentication.k8s.io/exec\n      extension: {audience: "
	    "test}\n"
	    "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
	    "      command: ./exec-plugin.sh\n      interactiveMode: Never\n      provideClusterInfo: true\n"
	    "      env: [{name: FROM_KUBECONFIG, value: hello}]\n",
	    admin->server, ca);
	fclose(f);
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_load(kc, NULL, &cfg, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	snprintf(runs, sizeof(runs), "%s/plugin.runs", d);
	snprintf(info, sizeof(info), "%s/plugin.info", d);
	struct tclient t;
	struct recap_kube_client_options o = {.max_retries = 1};
	tclient_open_config(&t, cfg, &o);
	assert_int_equal(tread_number(runs), -1); /* not before the first request */
	for (int i = 0; i < 3; i++) {
		if (i == 2)
			usleep(2500 * 1000); /* now within 10 s of the expiry */
		struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
		assert_int_equal(
		    recap_kube_list(t.c, &T_CONFIGMAPS, "default", NULL, recap_kube_sync_cb, &s, NULL), 0);
		char *msg = NULL;
		/* the service account may read nothing: 403 means the token was taken */
		if (twait(&t, &s, NULL, &msg) != RECAP_KUBE_ERR_FORBIDDEN ||
		    !strstr(msg, "system:serviceaccount:default:default"))
			fail_msg("request %d: %s", i, msg ? msg : "(no message)");
		free(msg);
		assert_int_equal(tread_number(runs), i == 2 ? 3 : 2);
	}
	tclient_close(&t);
	char got[8192] = "";
	f = fopen(info, "re");
	assert_non_null(f);
	size_t n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	char want[600];
	snprintf(want, sizeof(want), "\"server\":\"%s\"", admin->server);
	assert_non_null(strstr(got, "\"kind\":\"ExecCredential\""));
	assert_non_null(strstr(got, "\"interactive\":false"));
	assert_non_null(strstr(got, want));
	assert_non_null(strstr(got, "\"config\":{\"audience\":\"test\"}"));
	assert_non_null(strstr(got, "\"certificate-authority-data\":\""));
	assert_non_null(strstr(got, "\nhello\n"));
	free(ca);
	free(token);
	recap_kube_config_free(cfg);
	recap_kube_config_free(admin);
}

/* The pod's view: service-account files and the service environment. */
static void in_cluster_service_account(void **state)
{
	char dir[1024], path[1100];
	snprintf(dir, sizeof(dir), "%s/sa", getenv("RECAP_CLUSTER_DIR"));
	assert_int_equal(mkdir(dir, 0700), 0);
	char *token = request_token();
	snprintf(path, sizeof(path), "%s/token", dir);
	twrite_file(path, token);
	snprintf(path, sizeof(path), "%s/namespace", dir);
	twrite_file(path, "kube-system\n");
	struct recap_kube_config *admin = tadmin_config();
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	twrite_file(path, admin->ca_data);
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
	    cmocka_unit_test(exec_plugin_token_is_renewed),
	    cmocka_unit_test(in_cluster_service_account),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
