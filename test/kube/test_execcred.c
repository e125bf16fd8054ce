/* Exec credential plugins (kube/execcred.h): the kubeconfig's `exec`
 * checked, and real plugins (shell scripts) run: their answers, their
 * failures, each a clear error; a plugin that hangs is killed. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
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
#include "base/timeutil.h"
#include "kube/config.h"
#include "kube/execcred.h"
#include "base/base64.h"

static char dir[] = "/tmp/recap-execcred-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A plugin: a shell script with this body. Returns its path. */
static const char *plugin(const char *name, const char *body)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0700), 0);
	return path;
}

static struct recap_kube_exec *parse(const char *exec_yaml_json, json_t *cluster, struct recap_error **err)
{
	json_t *e = json_loads(exec_yaml_json, 0, NULL);
	assert_non_null(e);
	struct recap_kube_exec *x = NULL;
	const char *ca = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
	int r = recap_kube_exec_parse(e, "k.yaml: users[0].user.exec", dir, cluster, ca, strlen(ca), &x, err);
	json_decref(e);
	assert_true((r == 0) == (x != NULL));
	return x;
}

static void parse_error(const char *exec, const char *needle)
{
	struct recap_error *err = NULL;
	assert_null(parse(exec, NULL, &err));
	if (!err || !strstr(recap_error_message(err), needle))
		fail_msg("'%s' not in '%s'", needle, err ? recap_error_message(err) : "(no error)");
	recap_error_free(err);
}

static void exec_fields_are_checked(void **state)
{
	parse_error("{\"command\": \"x\"}", "users[0].user.exec.apiVersion: missing");
	parse_error(
	    "{\"apiVersion\": \"client.authentication.k8s.io/v1alpha1\", \"command\": \"x\"}",
	    "'client.authentication.k8s.io/v1alpha1' is not client.authentication.k8s.io/v1 or v1beta1");
	parse_error("{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"command\": \"x\"}",
		    "exec.interactiveMode: required for client.authentication.k8s.io/v1");
	parse_error("{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\"}", "exec.command: missing");
	parse_error("{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\", \"command\": \"x\", "
		    "\"interactiveMode\": \"Sometimes\"}",
		    "'Sometimes' is not Never, IfAvailable or Always");
	parse_error("{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\", \"command\": \"x\", "
		    "\"env\": [{\"name\": \"A=B\", \"value\": \"c\"}]}",
		    "exec.env[0]: needs a name (without '=') and a value");
	parse_error("{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\", \"command\": \"x\", "
		    "\"args\": [\"a\", 3]}",
		    "exec.args[1]: not a string");
	parse_error("{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\", \"command\": \"x\", "
		    "\"provideClusterInfo\": \"yes\"}",
		    "exec.provideClusterInfo: not a boolean");
}

static void exec_is_read_as_kubectl_reads_it(void **state)
{
	json_t *cluster =
	    json_loads("{\"server\": \"https://api:6443\", \"tls-server-name\": \"api.example\", "
		       "\"extensions\": [{\"name\": \"client.authentication.k8s.io/exec\", "
		       "\"extension\": {\"audience\": \"a\"}}]}",
		       0, NULL);
	struct recap_error *err = NULL;
	struct recap_kube_exec *x = parse("{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\", "
					  "\"command\": \"bin/get-token\", \"args\": [\"--x\", \"y\"], "
					  "\"env\": [{\"name\": \"A\", \"value\": \"b=c\"}], "
					  "\"installHint\": \"install it\", \"provideClusterInfo\": true}",
					  cluster, &err);
	if (!x)
		fail_msg("%s", recap_error_message(err));
	char want[600];
	snprintf(want, sizeof(want), "%s/bin/get-token", dir);
	assert_string_equal(x->command, want); /* relative with a slash: the kubeconfig's directory */
	assert_string_equal(x->args[0], "--x");
	assert_string_equal(x->args[1], "y");
	assert_null(x->args[2]);
	assert_string_equal(x->env[0], "A=b=c");
	assert_int_equal(x->interactive, RECAP_KUBE_EXEC_IF_AVAILABLE); /* v1beta1's default */
	json_t *c = json_loads(x->cluster, 0, NULL);
	assert_non_null(c);
	assert_string_equal(recap_json_str(c, "server"), "https://api:6443");
	assert_string_equal(recap_json_str(c, "tls-server-name"), "api.example");
	assert_string_equal(recap_json_str(c, "config.audience"), "a");
	char *pem = NULL;
	size_t len = 0;
	const char *b64 = recap_json_str(c, "certificate-authority-data");
	assert_non_null(b64);
	assert_int_equal(recap_base64_decode(b64, strlen(b64), &pem, &len), 0);
	assert_string_equal(pem, "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n");
	free(pem);
	json_decref(c);
	struct recap_kube_exec *d = recap_kube_exec_dup(x);
	assert_non_null(d);
	assert_string_equal(d->env[0], "A=b=c");
	recap_kube_exec_free(d);
	recap_kube_exec_free(x);
	/* a bare name is looked up in PATH when run */
	x = parse("{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"command\": \"kubelogin\", "
		  "\"interactiveMode\": \"Never\"}",
		  NULL, &err);
	assert_non_null(x);
	assert_string_equal(x->command, "kubelogin");
	assert_null(x->cluster);
	recap_kube_exec_free(x);
	json_decref(cluster);
}

static struct recap_kube_exec *exec_of(const char *command)
{
	char text[1024];
	snprintf(
	    text, sizeof(text),
	    "{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"command\": \"%s\", "
	    "\"interactiveMode\": \"IfAvailable\", \"installHint\": \"Install it with: apt-get install x\", "
	    "\"env\": [{\"name\": \"PLUGIN_ENV\", \"value\": \"from-kubeconfig\"}]}",
	    command);
	struct recap_kube_exec *x = parse(text, NULL, NULL);
	assert_non_null(x);
	return x;
}

static void run_error(const char *body, const char *needle)
{
	struct recap_kube_exec *x = exec_of(plugin("p.sh", body));
	struct recap_kube_exec_cred c;
	struct recap_error *err = NULL;
	assert_true(recap_kube_exec_run(x, &c, &err) < 0);
	if (!err || !strstr(recap_error_message(err), needle))
		fail_msg("'%s' not in '%s'", needle, err ? recap_error_message(err) : "(no error)");
	assert_null(c.token);
	recap_error_free(err);
	recap_kube_exec_free(x);
}

static void plugin_answers(void **state)
{
	/* a token, the environment it was given, stdin not the user's (not a terminal here) */
	struct recap_kube_exec *x = exec_of(plugin(
	    "ok.sh",
	    "read -r line && exit 9\n"
	    "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 8 ;; esac\n"
	    "echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", "
	    "\"status\": {\"token\": \"'\"$PLUGIN_ENV\"'\", \"expirationTimestamp\": "
	    "\"2999-01-01T00:00:00Z\"}}'"));
	struct recap_kube_exec_cred c;
	struct recap_error *err = NULL;
	if (recap_kube_exec_run(x, &c, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	assert_string_equal(c.token, "from-kubeconfig");
	assert_int_equal(c.expires_ms, (int64_t)32472144000 * 1000);
	recap_kube_exec_cred_free(&c);
	recap_kube_exec_free(x);
	/* a client certificate, no expiry */
	x = exec_of(plugin("cert.sh", "echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": "
				      "\"ExecCredential\", \"status\": {\"clientCertificateData\": \"CERT\", "
				      "\"clientKeyData\": \"KEY\"}}'"));
	if (recap_kube_exec_run(x, &c, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	assert_null(c.token);
	assert_string_equal(c.cert, "CERT");
	assert_string_equal(c.key, "KEY");
	assert_int_equal(c.expires_ms, 0);
	recap_kube_exec_cred_free(&c);
	recap_kube_exec_free(x);
}

static void plugin_failures_are_clear(void **state)
{
	struct recap_kube_exec *x = exec_of("/nonexistent/get-token");
	struct recap_kube_exec_cred c;
	struct recap_error *err = NULL;
	assert_true(recap_kube_exec_run(x, &c, &err) < 0);
	assert_string_equal(recap_error_message(err), "exec plugin /nonexistent/get-token: not found\n"
						      "Install it with: apt-get install x");
	recap_error_free(err);
	recap_kube_exec_free(x);
	run_error("echo 'login failed: no such account' >&2; exit 3",
		  "exited with status 3 (its message is above)");
	run_error("echo '<html>proxy</html>'", "its output is not JSON");
	run_error("echo '{\"apiVersion\": \"v1\", \"kind\": \"Status\"}'",
		  "not an ExecCredential of client.authentication.k8s.io/v1 (kind Status, apiVersion v1)");
	run_error(
	    "echo '{\"apiVersion\": \"client.authentication.k8s.io/v1beta1\", \"kind\": \"ExecCredential\", "
	    "\"status\": {\"token\": \"t\"}}'",
	    "not an ExecCredential of client.authentication.k8s.io/v1 (kind ExecCredential, apiVersion "
	    "client.authentication.k8s.io/v1beta1)");
	run_error("echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", "
		  "\"status\": {}}'",
		  "has no status.token and no status.clientCertificateData");
	run_error("echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", "
		  "\"status\": {\"token\": \"t\", \"expirationTimestamp\": \"2001-01-01T00:00:00Z\"}}'",
		  "the credential it returned expired at 2001-01-01T00:00:00Z");
	run_error("echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", "
		  "\"status\": {\"token\": \"t\", \"expirationTimestamp\": \"soon\"}}'",
		  "status.expirationTimestamp 'soon' is not a time");
	run_error("echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", "
		  "\"status\": {\"clientCertificateData\": \"C\"}}'",
		  "clientCertificateData and clientKeyData go together");
	run_error("head -c 1100000 /dev/zero | tr '\\0' x", "its output passes 1048576 bytes");
	run_error("kill -9 $$", "killed by signal 9");
}

static void hanging_plugin_is_killed(void **state)
{
	char pidfile[600], body[700];
	snprintf(pidfile, sizeof(pidfile), "%s/hang.pid", dir);
	snprintf(body, sizeof(body), "echo $$ >'%s'; exec sleep 600", pidfile);
	setenv("RECAP_KUBE_EXEC_TIMEOUT", "1", 1);
	uint64_t t0 = recap_now_mono_ms();
	run_error(body, "no answer within 1 s (killed)");
	uint64_t took = recap_now_mono_ms() - t0;
	unsetenv("RECAP_KUBE_EXEC_TIMEOUT");
	assert_true(took >= 1000 && took < 5000);
	FILE *f = fopen(pidfile, "re");
	assert_non_null(f);
	int pid = 0;
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	assert_true(kill(pid, 0) < 0 && errno == ESRCH); /* gone, and reaped */
}

static void interactive_always_needs_a_terminal(void **state)
{
	json_t *e = json_loads("{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"command\": \"true\", "
			       "\"interactiveMode\": \"Always\"}",
			       0, NULL);
	struct recap_kube_exec *x = NULL;
	assert_int_equal(recap_kube_exec_parse(e, "k", NULL, NULL, NULL, 0, &x, NULL), 0);
	struct recap_kube_exec_cred c;
	struct recap_error *err = NULL;
	assert_true(recap_kube_exec_run(x, &c, &err) < 0); /* stdin is not a terminal in tests */
	assert_string_equal(recap_error_message(err),
			    "exec plugin true needs a terminal on stdin (interactiveMode: Always)");
	recap_error_free(err);
	recap_kube_exec_free(x);
	json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exec_fields_are_checked),	cmocka_unit_test(exec_is_read_as_kubectl_reads_it),
	    cmocka_unit_test(plugin_answers),		cmocka_unit_test(plugin_failures_are_clear),
	    cmocka_unit_test(hanging_plugin_is_killed), cmocka_unit_test(interactive_always_needs_a_terminal),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
