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

#include "kube/client_internal.h"
#include "kube/config.h"
#include "kube/yamlconv.h"

static char dir[] = "/tmp/recap-kubeconfig-XXXXXX";

static void write_file(const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	write_file("ca.pem", "CA-PEM\n");
	write_file("token", "file-token\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* "Q0VSVA==" is base64 for "CERT", "S0VZ" for "KEY". */
static const char *const good = "apiVersion: v1\n"
				"kind: Config\n"
				"current-context: dev\n"
				"clusters:\n"
				"- name: c1\n"
				"  cluster:\n"
				"    server: https://127.0.0.1:6443/\n"
				"    certificate-authority: ca.pem\n"
				"- name: c2\n"
				"  cluster: {server: 'https://10.0.0.1', insecure-skip-tls-verify: true}\n"
				"users:\n"
				"- name: u1\n"
				"  user:\n"
				"    client-certificate-data: Q0VSVA==\n"
				"    client-key-data: S0VZ\n"
				"- name: u2\n"
				"  user: {tokenFile: token, token: static}\n"
				"contexts:\n"
				"- name: dev\n"
				"  context: {cluster: c1, user: u1, namespace: shop}\n"
				"- name: other\n"
				"  context: {cluster: c2, user: u2}\n";

static struct recap_kube_config *parse(const char *text, const char *context, struct recap_error **err)
{
	struct recap_kube_config *cfg = NULL;
	int r = recap_kube_config_from_yaml(text, strlen(text), "~/k.yaml", dir, context, &cfg, err);
	return r < 0 ? NULL : cfg;
}

static void current_context_with_data_fields(void **state)
{
	struct recap_kube_config *cfg = parse(good, NULL, NULL);
	assert_non_null(cfg);
	assert_string_equal(cfg->server, "https://127.0.0.1:6443");
	assert_string_equal(cfg->namespace, "shop");
	assert_string_equal(cfg->context, "dev");
	assert_string_equal(cfg->ca_data, "CA-PEM\n");
	assert_int_equal(cfg->ca_len, 7);
	assert_string_equal(cfg->cert_data, "CERT");
	assert_string_equal(cfg->key_data, "KEY");
	assert_null(cfg->token);
	assert_false(cfg->insecure);
	recap_kube_config_free(cfg);
}

static void named_context_with_token_file(void **state)
{
	struct recap_kube_config *cfg = parse(good, "other", NULL);
	assert_non_null(cfg);
	assert_string_equal(cfg->server, "https://10.0.0.1");
	assert_string_equal(cfg->namespace, "default");
	assert_true(cfg->insecure);
	assert_null(cfg->ca_data);
	assert_string_equal(cfg->token, "static");
	char want[256];
	snprintf(want, sizeof(want), "%s/token", dir);
	assert_string_equal(cfg->token_file, want);
	recap_kube_config_free(cfg);
}

static void expect_error(const char *text, const char *context, const char *needle)
{
	struct recap_error *err = NULL;
	struct recap_kube_config *cfg = parse(text, context, &err);
	assert_null(cfg);
	assert_non_null(err);
	if (!strstr(recap_error_message(err), needle))
		fail_msg("'%s' not in '%s'", needle, recap_error_message(err));
	recap_error_free(err);
}

static void errors_name_file_and_field(void **state)
{
	expect_error(good, "nope", "~/k.yaml: contexts: no entry named 'nope'");
	expect_error("clusters: []\n", NULL, "~/k.yaml: current-context: not set");
	expect_error("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n"
		     "- name: c\n  cluster: {server: https://h}\nusers:\n- name: u\n  user:\n"
		     "    client-certificate: /nonexistent/c.pem\n    client-key: k.pem\n",
		     NULL, "~/k.yaml: users[0].user.client-certificate: /nonexistent/c.pem: No such file");
	expect_error("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n"
		     "- name: c\n  cluster: {server: ftp://h}\n",
		     NULL, "~/k.yaml: clusters[0].cluster.server: not an http(s) URL");
	expect_error("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n"
		     "- name: c\n  cluster: {server: https://h, certificate-authority-data: '!!notbase64'}\n",
		     NULL, "clusters[0].cluster.certificate-authority-data: not valid base64");
	expect_error("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n"
		     "- name: c\n  cluster: {server: https://h, insecure-skip-tls-verify: maybe}\n",
		     NULL, "clusters[0].cluster.insecure-skip-tls-verify: not a boolean");
	expect_error("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n"
		     "- name: c\n  cluster: {server: https://h, insecure-skip-tls-verify: true, "
		     "certificate-authority-data: Q0E=}\n",
		     NULL,
		     "clusters[0].cluster: certificate-authority and insecure-skip-tls-verify: set one");
	expect_error("current-context: x\ncontexts:\n- name: x\n  context: {cluster: c}\nclusters:\n"
		     "- name: c\n  cluster: {server: https://h, tls-server-name: 'a:b'}\n",
		     NULL, "clusters[0].cluster.tls-server-name: 'a:b' is not a host name");
	expect_error(
	    "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n"
	    "- name: c\n  cluster: {server: https://h}\nusers:\n- name: u\n  user: {exec: {command: x}}\n",
	    NULL, "~/k.yaml: users[0].user.exec.apiVersion: missing");
	expect_error(
	    "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n"
	    "- name: c\n  cluster: {server: https://h}\nusers:\n- name: u\n  user: {auth-provider: {name: "
	    "gcp}}\n",
	    NULL, "users[0].user.auth-provider: not supported (kubectl dropped it too); use an exec plugin");
	expect_error(
	    "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\nclusters:\n"
	    "- name: c\n  cluster: {server: https://h}\nusers:\n- name: u\n  user: {client-key-data: S0VZ}\n",
	    NULL, "client-certificate and client-key go together");
	expect_error("current-context: x\ncontexts:\n- context: {cluster: c}\n", NULL,
		     "contexts[0].name: missing");
	expect_error("current-context: x\ncontexts: {a: b}\n", NULL, "contexts: not a list");
	expect_error("- just\n- a list\n", NULL, "top level is not a mapping");
	expect_error("a: [unclosed\n", NULL, "~/k.yaml: invalid YAML at line");
	expect_error("current-context: [x]\n", NULL, "current-context: not a string");
}

static void yaml_limits(void **state)
{
	/* Nine levels of nine aliases: 9^9 nodes if expanded blindly. */
	const char *laughs = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
			     "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
			     "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
			     "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n";
	json_t *v = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_yaml_parse(laughs, strlen(laughs), &v, &err), -E2BIG);
	assert_non_null(strstr(recap_error_message(err), "more than"));
	recap_error_free(err);
	err = NULL;
	char deep[400] = "";
	for (int i = 0; i < 100; i++)
		strcat(deep, "[");
	assert_true(recap_kube_yaml_parse(deep, strlen(deep), &v, &err) < 0);
	recap_error_free(err);
}

static void yaml_scalars(void **state)
{
	const char *text =
	    "i: 42\nneg: -7\nf: 0.5\ne: 1e3\nt: true\nn: ~\ns: '42'\nv: 1.2.3\nh: 0x1F\ninf: .inf\n";
	json_t *v = NULL;
	assert_int_equal(recap_kube_yaml_parse(text, strlen(text), &v, NULL), 0);
	assert_int_equal(json_integer_value(json_object_get(v, "i")), 42);
	assert_int_equal(json_integer_value(json_object_get(v, "neg")), -7);
	assert_true(json_is_real(json_object_get(v, "f")));
	assert_true(json_real_value(json_object_get(v, "e")) == 1000.0);
	assert_true(json_is_true(json_object_get(v, "t")));
	assert_true(json_is_null(json_object_get(v, "n")));
	assert_string_equal(json_string_value(json_object_get(v, "s")), "42");
	assert_string_equal(json_string_value(json_object_get(v, "v")), "1.2.3");
	assert_string_equal(json_string_value(json_object_get(v, "h")), "0x1F");
	assert_string_equal(json_string_value(json_object_get(v, "inf")), ".inf");
	json_decref(v);
}

static void load_order_kubeconfig_env(void **state)
{
	char a[256], b[256], list[600];
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	write_file("b", good);
	snprintf(list, sizeof(list), "%s:%s", a, b); /* a does not exist: take b */
	setenv("KUBECONFIG", list, 1);
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_config_load(NULL, "other", &cfg, &err), 0);
	assert_string_equal(cfg->source, b);
	assert_string_equal(cfg->server, "https://10.0.0.1");
	recap_kube_config_free(cfg);
	cfg = NULL;
	/* An explicit path wins and its errors name it. */
	assert_true(recap_kube_config_load(a, NULL, &cfg, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "/a: No such file"));
	recap_error_free(err);
	unsetenv("KUBECONFIG");
}

/* $KUBECONFIG with several files: each entry from the first file that
 * names it, current-context from the first that sets it, relative paths
 * each file's own, missing files skipped, messages naming the entry's file. */
static void kubeconfig_files_are_merged(void **state)
{
	char sub[300], list[1200], m1[300], m2[300];
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file("m1",
		   "current-context: c1\n"
		   "contexts:\n- name: c1\n  context: {cluster: k1, user: u1}\n"
		   "clusters:\n- name: k1\n  cluster: {server: https://one, certificate-authority: ca.pem}\n"
		   "users:\n- name: u1\n  user: {tokenFile: token}\n");
	write_file("sub/ca.pem", "SUB-CA\n");
	write_file("sub/m2",
		   "current-context: c2\n"
		   "contexts:\n- name: c1\n  context: {cluster: k2, user: u2}\n"
		   "- name: c2\n  context: {cluster: k2, user: u2, namespace: two}\n"
		   "- name: c3\n  context: {cluster: k1, user: u3}\n"
		   "clusters:\n- name: k1\n  cluster: {server: https://ignored}\n"
		   "- name: k2\n  cluster: {server: https://two, certificate-authority: ca.pem}\n"
		   "users:\n- name: u2\n  user: {token: t2}\n- name: u3\n  user: {client-key-data: S0VZ}\n");
	snprintf(m1, sizeof(m1), "%s/m1", dir);
	snprintf(m2, sizeof(m2), "%s/sub/m2", dir);
	snprintf(list, sizeof(list), "%s:%s/missing:%s:%s", m1, dir, m2, m1);
	setenv("KUBECONFIG", list, 1);
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_load(NULL, NULL, &cfg, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	assert_string_equal(cfg->context, "c1"); /* m1's, and m1's c1 */
	assert_string_equal(cfg->server, "https://one");
	assert_string_equal(cfg->ca_data, "CA-PEM\n");
	char want[400];
	snprintf(want, sizeof(want), "%s/token", dir);
	assert_string_equal(cfg->token_file, want);
	recap_kube_config_free(cfg);
	assert_int_equal(recap_kube_config_load(NULL, "c2", &cfg, &err), 0);
	assert_string_equal(cfg->server, "https://two");
	assert_string_equal(cfg->ca_data, "SUB-CA\n"); /* sub/ca.pem: m2's own directory */
	assert_string_equal(cfg->token, "t2");
	assert_string_equal(cfg->namespace, "two");
	recap_kube_config_free(cfg);
	cfg = NULL;
	assert_true(recap_kube_config_load(NULL, "c3", &cfg, &err) < 0);
	snprintf(want, sizeof(want), "%s: users[1].user: client-certificate and client-key go together", m2);
	if (!strstr(recap_error_message(err), want))
		fail_msg("'%s' not in '%s'", want, recap_error_message(err));
	recap_error_free(err);
	err = NULL;
	assert_true(recap_kube_config_load(NULL, "nope", &cfg, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "/sub/m2: contexts: no entry named 'nope'"));
	recap_error_free(err);
	err = NULL;
	snprintf(list, sizeof(list), "%s/x:%s/y", dir, dir);
	setenv("KUBECONFIG", list, 1);
	assert_true(recap_kube_config_load(NULL, NULL, &cfg, &err) < 0);
	snprintf(want, sizeof(want), "$KUBECONFIG: no kubeconfig: none of these files exists: %s/x, %s/y",
		 dir, dir);
	assert_string_equal(recap_error_message(err), want);
	recap_error_free(err);
	err = NULL;
	/* a symlink loop exists but cannot be read: an error naming it, not "missing" */
	char la[300], lb[300];
	snprintf(la, sizeof(la), "%s/loop-a", dir);
	snprintf(lb, sizeof(lb), "%s/loop-b", dir);
	assert_int_equal(symlink(lb, la), 0);
	assert_int_equal(symlink(la, lb), 0);
	snprintf(list, sizeof(list), "%s:%s", la, m1);
	setenv("KUBECONFIG", list, 1);
	assert_true(recap_kube_config_load(NULL, NULL, &cfg, &err) < 0);
	snprintf(want, sizeof(want), "kubeconfig %s: Too many levels of symbolic links", la);
	if (!strstr(recap_error_message(err), want))
		fail_msg("'%s' not in '%s'", want, recap_error_message(err));
	recap_error_free(err);
	unlink(la);
	unlink(lb);
	unsetenv("KUBECONFIG");
}

static void in_cluster(void **state)
{
	char ns[300];
	snprintf(ns, sizeof(ns), "%s/namespace", dir);
	rename(strcat(strcpy((char[300]){0}, dir), "/ca.pem"),
	       strcat(strcpy((char[300]){0}, dir), "/ca.crt"));
	write_file("namespace", "kube-system\n");
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	assert_int_equal(recap_kube_config_in_cluster(dir, &cfg, &err), 0);
	assert_string_equal(cfg->server, "https://[fd00::1]:443");
	assert_string_equal(cfg->namespace, "kube-system");
	assert_string_equal(cfg->ca_data, "CA-PEM\n");
	assert_non_null(cfg->token_file);
	recap_kube_config_free(cfg);
	setenv("KUBERNETES_SERVICE_PORT", "https", 1);
	assert_int_equal(recap_kube_config_in_cluster(dir, &cfg, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "'https' is not a port"));
	recap_error_free(err);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	unlink(ns);
	rename(strcat(strcpy((char[300]){0}, dir), "/ca.crt"),
	       strcat(strcpy((char[300]){0}, dir), "/ca.pem"));
}

static const char *const extra_head =
    "current-context: x\ncontexts:\n- name: x\n"
    "  context: {cluster: c, user: u}\nclusters:\n"
    "- name: c\n  cluster: {server: https://h}\nusers:\n- name: u\n  user:\n";

static struct recap_kube_config *parse_user(const char *user, struct recap_error **err)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s%s", extra_head, user);
	return parse(text, NULL, err);
}

static void expect_user_error(const char *user, const char *needle)
{
	char text[4096];
	snprintf(text, sizeof(text), "%s%s", extra_head, user);
	expect_error(text, NULL, needle);
}

/* as-user-extra: a map of keys to lists of values, each value one
 * Impersonate-Extra-<key> header, the key escaped as client-go escapes it. */
static void impersonation_extra(void **state)
{
	struct recap_kube_config *cfg = parse_user(
	    "    token: t\n    as: alice\n    as-user-extra:\n"
	    "      reason: [one, 'two words']\n      example.com/scopes: ['a%b']\n      empty: []\n",
	    NULL);
	assert_non_null(cfg);
	assert_non_null(cfg->as_extra);
	assert_string_equal(cfg->as_extra[0], "reason");
	assert_string_equal(cfg->as_extra[1], "one");
	assert_string_equal(cfg->as_extra[2], "reason");
	assert_string_equal(cfg->as_extra[3], "two words");
	assert_string_equal(cfg->as_extra[4], "example.com/scopes");
	assert_string_equal(cfg->as_extra[5], "a%b");
	assert_null(cfg->as_extra[6]);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct recap_kube_client *c = NULL;
	assert_int_equal(recap_kube_client_new(&loop, cfg, NULL, &c, NULL), 0);
	const char *const *h = recap_kube_client_impersonation(c);
	assert_string_equal(h[0], "Impersonate-User: alice");
	assert_string_equal(h[1], "Impersonate-Extra-reason: one");
	assert_string_equal(h[2], "Impersonate-Extra-reason: two words");
	assert_string_equal(h[3], "Impersonate-Extra-example.com%2Fscopes: a%b");
	assert_null(h[4]);
	recap_kube_client_close(c);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	recap_kube_config_free(cfg);

	char *k = recap_kube_extra_header_key("Key with spaces/and%é_~!");
	assert_string_equal(k, "Key%20with%20spaces%2Fand%25%C3%A9_~!");
	free(k);

	/* extras without a user: refused when the client is made (--as may
	 * still come from a flag) */
	cfg = parse_user("    token: t\n    as-user-extra: {reason: [x]}\n", NULL);
	assert_non_null(cfg);
	struct recap_error *err = NULL;
	uv_loop_init(&loop);
	assert_int_equal(recap_kube_client_new(&loop, cfg, NULL, &c, &err), -EINVAL);
	assert_non_null(strstr(recap_error_message(err), "as-user-extra needs as (a user to act as)"));
	recap_error_free(err);
	assert_int_equal(uv_loop_close(&loop), 0);
	recap_kube_config_free(cfg);

	expect_user_error("    as: a\n    as-user-extra: [x]\n",
			  "~/k.yaml: users[0].user.as-user-extra: not a map of keys to lists of strings");
	expect_user_error("    as: a\n    as-user-extra: {reason: x}\n",
			  "~/k.yaml: users[0].user.as-user-extra.reason: a list of strings, not a string");
	expect_user_error("    as: a\n    as-user-extra: {reason: [x, {a: b}]}\n",
			  "~/k.yaml: users[0].user.as-user-extra.reason[1]: not a string");
	expect_user_error("    as: a\n    as-user-extra: {reason: [\"a\\nb\"]}\n",
			  "users[0].user.as-user-extra.reason[0]: not a string of one line");
	expect_user_error("    as: a\n    as-user-extra: {'': [x]}\n",
			  "users[0].user.as-user-extra: an empty key");
	char many[2048] = "    as: a\n    as-user-extra: {k: [";
	for (int i = 0; i < RECAP_KUBE_AS_EXTRA_MAX + 1; i++)
		strcat(many, i ? ", v" : "v");
	strcat(many, "]}\n");
	expect_user_error(many, "users[0].user.as-user-extra: more than 32 values");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(current_context_with_data_fields),
	    cmocka_unit_test(named_context_with_token_file),
	    cmocka_unit_test(errors_name_file_and_field),
	    cmocka_unit_test(yaml_limits),
	    cmocka_unit_test(yaml_scalars),
	    cmocka_unit_test(load_order_kubeconfig_env),
	    cmocka_unit_test(kubeconfig_files_are_merged),
	    cmocka_unit_test(in_cluster),
	    cmocka_unit_test(impersonation_extra),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
