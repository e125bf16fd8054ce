/* Credentials that change under a running client, against a real
 * kube-apiserver: an exec plugin's short-lived client certificates (signed
 * by the cluster's CA) renewed before they expire and after one is refused;
 * impersonation with as-user-extra (Impersonate-Extra-*), on requests and on
 * a raw connection; the in-cluster token file rewritten while the client
 * runs, the old token revoked. Who the API server took the caller for is
 * read back from a SelfSubjectReview (kubectl auth whoami). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/json.h"
#include "base/timeutil.h"
#include "helpers.h"
#include "base/base64.h"
#include "kube/raw.h"

static const char *cluster_dir(void)
{
	return getenv("RECAP_CLUSTER_DIR");
}

/* The file replaced whole, as the kubelet replaces a projected volume's. */
static void replace_file(const char *path, const char *text)
{
	char tmp[1200];
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	twrite_file(tmp, text);
	assert_int_equal(rename(tmp, path), 0);
}

/* A request through the admin's client; fails the test unless it succeeds. */
static json_t *admin_request(const char *method, const char *path, json_t *body)
{
	struct tclient t;
	tclient_open(&t, NULL, NULL);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct recap_kube_request r = {
	    .method = method, .path = path, .body = text, .body_len = text ? strlen(text) : 0};
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_request(t.c, &r, recap_kube_sync_cb, &s, NULL), 0);
	json_t *resp = NULL;
	char *msg = NULL;
	if (twait(&t, &s, &resp, &msg) != RECAP_KUBE_OK)
		fail_msg("%s %s: %s", method, path, msg);
	free(text);
	json_decref(body);
	tclient_close(&t);
	return resp;
}

/* POST a SelfSubjectReview: the user the API server sees (NULL on an error,
 * then *msg says why). */
static enum recap_kube_code whoami(struct tclient *t, json_t **user, char **msg)
{
	static const char body[] =
	    "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}";
	struct recap_kube_request r = {.method = "POST",
				       .path = "/apis/authentication.k8s.io/v1/selfsubjectreviews",
				       .body = body,
				       .body_len = sizeof(body) - 1};
	struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
	assert_int_equal(recap_kube_request(t->c, &r, recap_kube_sync_cb, &s, NULL), 0);
	json_t *resp = NULL;
	enum recap_kube_code code = twait(t, &s, &resp, msg);
	*user = NULL;
	if (code == RECAP_KUBE_OK) {
		*user = json_incref(json_object_get(json_object_get(resp, "status"), "userInfo"));
		assert_non_null(*user);
	}
	json_decref(resp);
	return code;
}

static char *whoami_name(struct tclient *t)
{
	json_t *user = NULL;
	char *msg = NULL;
	if (whoami(t, &user, &msg) != RECAP_KUBE_OK)
		fail_msg("whoami: %s", msg ? msg : "(no message)");
	char *name = strdup(recap_json_str(user, "username"));
	json_decref(user);
	return name;
}

/* ---- an exec plugin's short-lived client certificates ---- */

/* Run n: a fresh key and a certificate for CN cert-user-n (group
 * system:masters) valid for LIFETIME seconds, signed by the cluster's CA;
 * run 1 signs with a CA of its own instead, which the API server refuses
 * (401), as it would a revoked or expired certificate. */
static const char cert_plugin[] =
    "#!/usr/bin/env python3\n"
    "import datetime, json, os, sys\n"
    "from cryptography import x509\n"
    "from cryptography.hazmat.primitives import hashes, serialization\n"
    "from cryptography.hazmat.primitives.asymmetric import ec\n"
    "from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID\n"
    "d = os.path.dirname(os.path.abspath(sys.argv[0]))\n"
    "runs = os.path.join(d, 'cert-plugin.runs')\n"
    "n = int(open(runs).read()) + 1 if os.path.exists(runs) else 1\n"
    "open(runs, 'w').write(str(n))\n"
    "pki = os.environ['PKI']\n"
    "ca_cert = x509.load_pem_x509_certificate(open(pki + '/ca.crt', 'rb').read())\n"
    "ca_key = serialization.load_pem_private_key(open(pki + '/ca.key', 'rb').read(), None)\n"
    "issuer = ca_cert.subject\n"
    "if n == 1:\n"
    "    ca_key = ec.generate_private_key(ec.SECP256R1())\n"
    "    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'not-the-cluster-ca')])\n"
    "key = ec.generate_private_key(ec.SECP256R1())\n"
    "now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)\n"
    "end = now + datetime.timedelta(seconds=int(os.environ['LIFETIME']))\n"
    "cert = (x509.CertificateBuilder()\n"
    "    .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, 'cert-user-%d' % n),\n"
    "                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'system:masters')]))\n"
    "    .issuer_name(issuer).public_key(key.public_key())\n"
    "    .serial_number(x509.random_serial_number())\n"
    "    .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(end)\n"
    "    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)\n"
    "    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)\n"
    "    .sign(ca_key, hashes.SHA256()))\n"
    "pem = lambda b: b.decode()\n"
    "json.dump({'apiVersion': 'client.authentication.k8s.io/v1beta1', 'kind': 'ExecCredential',\n"
    "           'status': {'clientCertificateData': pem(cert.public_bytes(serialization.Encoding.PEM)),\n"
    "                      'clientKeyData': pem(key.private_bytes(serialization.Encoding.PEM,\n"
    "                          serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),\n"
    "                      'expirationTimestamp': end.strftime('%Y-%m-%dT%H:%M:%SZ')}}, sys.stdout)\n";

#define CERT_LIFETIME_S 14

static void write_cert_plugin_kubeconfig(const char *dir, const char *server, char *kc, size_t kc_size);

struct watch_count {
	unsigned connected, retrying, events;
	bool seen_last;
};

static void count_watch(struct recap_kube_watch *w, enum recap_kube_watch_note note,
			const struct recap_kube_watch_event *ev, const struct recap_error *err,
			void *userdata)
{
	struct watch_count *wc = userdata;
	if (note == RECAP_KUBE_WATCH_CONNECTED)
		wc->connected++;
	else if (note == RECAP_KUBE_WATCH_RETRYING) {
		wc->retrying++;
		print_message("watch retrying: %s\n", err ? recap_error_message(err) : "");
	} else if (note == RECAP_KUBE_WATCH_EVENT && ev->type == RECAP_KUBE_WATCH_ADDED) {
		wc->events++;
		const char *name = recap_json_str(ev->object, "metadata.name");
		if (name && strcmp(name, "cert-last") == 0)
			wc->seen_last = true;
	}
}

/* Requests every second for 22 s, more than the first certificate's life:
 * none fails, the plugin is not run at the client's creation, its first
 * (refused) certificate is replaced after the 401, each later one 10 s
 * before it expires, and the API server sees the newer certificate's user;
 * a watch whose server timeout is 3 s reconnects with the current one. */
static void exec_plugin_certificate_is_renewed(void **state)
{
	const char *d = cluster_dir();
	char runs[1100], kc[1100];
	snprintf(runs, sizeof(runs), "%s/cert-plugin.runs", d);
	write_cert_plugin_kubeconfig(d, NULL, kc, sizeof(kc));
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_load(kc, NULL, &cfg, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	struct tclient t;
	struct recap_kube_client_options o = {.max_retries = 1};
	tclient_open_config(&t, cfg, &o);
	assert_int_equal(tread_number(runs), -1); /* not before the first request */

	char *name = whoami_name(&t);
	assert_string_equal(name, "cert-user-2"); /* the first one refused, the request sent again */
	free(name);
	assert_int_equal(tread_number(runs), 2);

	struct watch_count wc = {0};
	struct recap_kube_watch_options wo = {.timeout_min_s = 3, .timeout_max_s = 3};
	struct recap_kube_watch *w = NULL;
	assert_int_equal(
	    recap_kube_watch_start(t.c, &T_CONFIGMAPS, "default", &wo, count_watch, &wc, &w, NULL), 0);
	long last_user = 2;
	uint64_t start = recap_now_mono_ms();
	for (int i = 0; recap_now_mono_ms() - start < 22000; i++) {
		bool never = false;
		trun_until(&t, &never, 1000);
		name = whoami_name(&t);
		long n = strtol(name + strlen("cert-user-"), NULL, 10);
		if (strncmp(name, "cert-user-", 10) != 0 || n < last_user || n > tread_number(runs))
			fail_msg("request %d: the API server saw %s after cert-user-%ld (plugin runs: %ld)",
				 i, name, last_user, tread_number(runs));
		last_user = n;
		free(name);
	}
	/* 22 s of 14 s certificates renewed 10 s ahead: one every 4-5 s */
	long total = tread_number(runs);
	if (total < 5 || last_user < 5)
		fail_msg("the plugin ran %ld times, the last user seen was cert-user-%ld", total, last_user);
	json_t *cm = tconfigmap("cert-last", "k", "v");
	json_decref(admin_request("POST", "/api/v1/namespaces/default/configmaps", cm));
	assert_true(trun_until(&t, &wc.seen_last, 10000));
	if (wc.connected < 4 || wc.retrying)
		fail_msg("watch: %u connections, %u retries", wc.connected, wc.retrying);
	recap_kube_watch_stop(w);
	tclient_close(&t);
	recap_kube_config_free(cfg);
}

/* A kubeconfig in dir whose user is cert_plugin (a copy of its own, with
 * its own count of runs) and whose server is `server`. */
static void write_cert_plugin_kubeconfig(const char *dir, const char *server, char *kc, size_t kc_size)
{
	char script[1100], pki[1100];
	snprintf(script, sizeof(script), "%s/cert-plugin.py", dir);
	snprintf(pki, sizeof(pki), "%s/pki", cluster_dir());
	twrite_file(script, cert_plugin);
	assert_int_equal(chmod(script, 0700), 0);
	struct recap_kube_config *admin = tadmin_config();
	char *ca = recap_base64_encode(admin->ca_data, admin->ca_len);
	snprintf(kc, kc_size, "%s/cert-plugin.kubeconfig", dir);
	FILE *f = fopen(kc, "we");
	assert_non_null(f);
	fprintf(f,
		"apiVersion: v1\nkind: Config\ncurrent-context: x\n"
		"contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
		"clusters:\n- name: c\n  cluster:\n    server: %s\n    certificate-authority-data: %s\n"
		"users:\n- name: u\n  user:\n    exec:\n"
		"      apiVersion: client.authentication.k8s.io/v1beta1\n"
		"      command: ./cert-plugin.py\n      interactiveMode: Never\n"
		"      env: [{name: PKI, value: '%s'}, {name: LIFETIME, value: '%d'}]\n",
		server ? server : admin->server, ca, pki, CERT_LIFETIME_S);
	fclose(f);
	free(ca);
	recap_kube_config_free(admin);
}

/* test/kube/client_cert_server.py with the API server's serving
 * certificate: its TLS handshake refuses a client certificate the
 * cluster's CA did not sign. */
struct cert_server {
	pid_t pid;
	int stdin_fd;
	char url[64];
};

static void cert_server_start(struct cert_server *s)
{
	int in[2], out[2];
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	char script[1024], ca[1024], crt[1024], key[1024];
	snprintf(script, sizeof(script), "%s/test/kube/client_cert_server.py", getenv("RECAP_SOURCE_ROOT"));
	snprintf(ca, sizeof(ca), "%s/pki/ca.crt", cluster_dir());
	snprintf(crt, sizeof(crt), "%s/pki/apiserver.crt", cluster_dir());
	snprintf(key, sizeof(key), "%s/pki/apiserver.key", cluster_dir());
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl("/usr/bin/python3", "python3", script, ca, crt, key, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->stdin_fd = in[1];
	char port[16] = "";
	size_t len = 0;
	while (len < sizeof(port) - 1 && !memchr(port, '\n', len)) {
		ssize_t n = read(out[0], port + len, sizeof(port) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		port[len] = '\0';
	}
	close(out[0]);
	if (!memchr(port, '\n', len))
		fail_msg("client_cert_server.py did not start");
	port[strcspn(port, "\n")] = '\0';
	snprintf(s->url, sizeof(s->url), "https://127.0.0.1:%s", port);
}

static void cert_server_stop(struct cert_server *s)
{
	close(s->stdin_fd);
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
}

/* The server refuses the plugin's first certificate in the TLS handshake
 * (an alert, no HTTP answer): the plugin runs again and the request's
 * retry goes with its new certificate. */
static void exec_plugin_certificate_refused_in_handshake(void **state)
{
	char dir[1024], kc[1100], runs[1100];
	snprintf(dir, sizeof(dir), "%s/handshake", cluster_dir());
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(runs, sizeof(runs), "%s/cert-plugin.runs", dir);
	struct cert_server srv;
	cert_server_start(&srv);
	write_cert_plugin_kubeconfig(dir, srv.url, kc, sizeof(kc));
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_load(kc, NULL, &cfg, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	struct tclient t;
	struct recap_kube_client_options o = {.max_retries = 1, .retry_base_ms = 10};
	tclient_open_config(&t, cfg, &o);
	for (int i = 0; i < 2; i++) {
		struct recap_kube_sync s = RECAP_KUBE_SYNC_INIT;
		assert_int_equal(
		    recap_kube_list(t.c, &T_CONFIGMAPS, "default", NULL, recap_kube_sync_cb, &s, NULL), 0);
		json_t *obj = NULL;
		char *msg = NULL;
		if (twait(&t, &s, &obj, &msg) != RECAP_KUBE_OK)
			fail_msg("request %d: %s", i, msg);
		assert_string_equal(recap_json_str(obj, "message"), "cert-user-2");
		json_decref(obj);
		assert_int_equal(tread_number(runs), 2);
	}
	tclient_close(&t);
	recap_kube_config_free(cfg);
	cert_server_stop(&srv);
}

/* ---- impersonation extras ---- */

/* nobody (a client certificate of hack/cluster) may impersonate alice and
 * two extras, not a third. */
static void grant_impersonation(void)
{
	json_t *role =
	    json_pack("{s:s, s:s, s:{s:s}, s:[{s:[s], s:[s], s:[s], s:[s]}, {s:[s], s:[s,s], s:[s]}]}",
		      "apiVersion", "rbac.authorization.k8s.io/v1", "kind", "ClusterRole", "metadata", "name",
		      "impersonate-alice", "rules", "apiGroups", "", "resources", "users", "resourceNames",
		      "alice", "verbs", "impersonate", "apiGroups", "authentication.k8s.io", "resources",
		      "userextras/reason", "userextras/example.com/scopes", "verbs", "impersonate");
	json_decref(admin_request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", role));
	json_t *binding =
	    json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s}]}", "apiVersion",
		      "rbac.authorization.k8s.io/v1", "kind", "ClusterRoleBinding", "metadata", "name",
		      "nobody-impersonates-alice", "roleRef", "apiGroup", "rbac.authorization.k8s.io", "kind",
		      "ClusterRole", "name", "impersonate-alice", "subjects", "apiGroup",
		      "rbac.authorization.k8s.io", "kind", "User", "name", "nobody");
	json_decref(admin_request("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", binding));
}

static struct recap_kube_config *nobody_as_alice(const char *extra_yaml)
{
	const char *d = cluster_dir();
	struct recap_kube_config *admin = tadmin_config();
	char *ca = recap_base64_encode(admin->ca_data, admin->ca_len);
	char *text = NULL;
	assert_true(asprintf(&text,
			     "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
			     "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
			     "clusters:\n- name: c\n  cluster:\n    server: %s\n"
			     "    certificate-authority-data: %s\n"
			     "users:\n- name: u\n  user:\n"
			     "    client-certificate: %s/pki/users/nobody.crt\n"
			     "    client-key: %s/pki/users/nobody.key\n"
			     "    as: alice\n    as-user-extra:\n%s",
			     admin->server, ca, d, d, extra_yaml) > 0);
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_from_yaml(text, strlen(text), "extra.kubeconfig", d, NULL, &cfg, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	free(text);
	free(ca);
	recap_kube_config_free(admin);
	return cfg;
}

static void expect_extra(json_t *user, const char *key, const char *v0, const char *v1)
{
	json_t *vals = json_object_get(json_object_get(user, "extra"), key);
	char *dump = json_dumps(user, JSON_COMPACT);
	if (!json_is_array(vals) || json_array_size(vals) != (v1 ? 2u : 1u) ||
	    strcmp(json_string_value(json_array_get(vals, 0)), v0) != 0 ||
	    (v1 && strcmp(json_string_value(json_array_get(vals, 1)), v1) != 0))
		fail_msg("extra %s: want %s%s%s, got user %s", key, v0, v1 ? ", " : "", v1 ? v1 : "", dump);
	free(dump);
}

static const char extras_yaml[] = "      reason: [\"an audit reason\", second]\n"
				  "      example.com/scopes: [\"read:x%y\"]\n";

static void impersonation_extras(void **state)
{
	grant_impersonation();
	struct recap_kube_config *cfg = nobody_as_alice(extras_yaml);
	struct tclient t;
	tclient_open_config(&t, cfg, NULL);
	json_t *user = NULL;
	char *msg = NULL;
	/* The API server's authorizer learns of a new binding through its own
	 * watch: until then impersonating alice is forbidden. */
	enum recap_kube_code code;
	uint64_t until = recap_now_mono_ms() + 10000;
	while ((code = whoami(&t, &user, &msg)) == RECAP_KUBE_ERR_FORBIDDEN && recap_now_mono_ms() < until) {
		free(msg);
		msg = NULL;
		usleep(100 * 1000);
	}
	if (code != RECAP_KUBE_OK)
		fail_msg("whoami as alice with extras: %s", msg);
	assert_string_equal(recap_json_str(user, "username"), "alice");
	expect_extra(user, "reason", "an audit reason", "second");
	expect_extra(user, "example.com/scopes", "read:x%y", NULL);
	json_decref(user);
	tclient_close(&t);
	recap_kube_config_free(cfg);

	/* an extra nobody may not impersonate: the API server's 403 names it */
	cfg = nobody_as_alice("      other: [x]\n");
	tclient_open_config(&t, cfg, NULL);
	assert_int_equal(whoami(&t, &user, &msg), RECAP_KUBE_ERR_FORBIDDEN);
	if (!strstr(msg, "userextras/other"))
		fail_msg("want a 403 naming userextras/other, got %s", msg);
	free(msg);
	tclient_close(&t);
	recap_kube_config_free(cfg);
}

/* The same headers on a raw connection (the WebSocket path): a
 * SelfSubjectReview POSTed by hand. */
static void impersonation_extras_raw(void **state)
{
	struct recap_kube_config *cfg = nobody_as_alice(extras_yaml);
	struct tclient t;
	tclient_open_config(&t, cfg, NULL);
	static const char body[] =
	    "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}";
	char length[64];
	snprintf(length, sizeof(length), "Content-Length: %zu", sizeof(body) - 1);
	const char *headers[] = {"Content-Type: application/json", length, "Connection: close"};
	struct recap_kube_raw *raw = NULL;
	struct recap_error *err = NULL;
	int r = recap_kube_raw_open(t.c, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", headers,
				    3, 10000, &raw, &err);
#ifdef RECAP_KUBE_LEAN
	assert_int_equal(r, -EOPNOTSUPP); /* no raw connection on the lean transport */
	recap_error_free(err);
#else
	if (r < 0)
		fail_msg("raw open: %s", recap_error_message(err));
	assert_int_equal(recap_kube_raw_send_all(raw, body, sizeof(body) - 1, 10000, &err), 0);
	char answer[65536];
	size_t got = 0;
	uint64_t until = recap_now_mono_ms() + 10000;
	for (;;) {
		long k = recap_kube_raw_recv(raw, answer + got, sizeof(answer) - 1 - got, &err);
		if (k > 0)
			got += (size_t)k;
		else if (k == 0 || got == sizeof(answer) - 1)
			break;
		else if (k != -EAGAIN)
			fail_msg("raw recv: %s", recap_error_message(err));
		else if (recap_now_mono_ms() > until)
			fail_msg("raw: no whole answer within 10 s: %.*s", (int)got, answer);
		else
			usleep(20000);
	}
	answer[got] = '\0';
	if (strncmp(answer, "HTTP/1.1 201", 12) != 0 || !strstr(answer, "\"username\":\"alice\"") ||
	    !strstr(answer, "\"example.com/scopes\":[\"read:x%y\"]") ||
	    !strstr(answer, "\"reason\":[\"an audit reason\",\"second\"]"))
		fail_msg("raw SelfSubjectReview: %s", answer);
	recap_kube_raw_close(raw);
#endif
	tclient_close(&t);
	recap_kube_config_free(cfg);
}

/* ---- the in-cluster token file rotating ---- */

/* A token of the service account `rot`, bound to Secret `secret` when not
 * NULL (deleting the Secret revokes the token). Its credential-id (the
 * token's JTI, which the API server puts in the user's extras) too. */
static char *rot_token(const char *secret)
{
	json_t *spec = json_pack("{s:i}", "expirationSeconds", 3600);
	if (secret) {
		char path[300];
		snprintf(path, sizeof(path), "/api/v1/namespaces/default/secrets/%s", secret);
		json_t *s = admin_request("GET", path, NULL);
		json_object_set_new(spec, "boundObjectRef",
				    json_pack("{s:s, s:s, s:s, s:s}", "apiVersion", "v1", "kind", "Secret",
					      "name", secret, "uid", recap_json_str(s, "metadata.uid")));
		json_decref(s);
	}
	json_t *req = json_pack("{s:s, s:s, s:o}", "apiVersion", "authentication.k8s.io/v1", "kind",
				"TokenRequest", "spec", spec);
	json_t *resp = admin_request("POST", "/api/v1/namespaces/default/serviceaccounts/rot/token", req);
	char *token = strdup(recap_json_str(resp, "status.token"));
	json_decref(resp);
	return token;
}

static char *credential_id(struct tclient *t, char **msg, enum recap_kube_code *code)
{
	json_t *user = NULL;
	*code = whoami(t, &user, msg);
	if (*code != RECAP_KUBE_OK)
		return NULL;
	assert_string_equal(recap_json_str(user, "username"), "system:serviceaccount:default:rot");
	json_t *ids =
	    json_object_get(json_object_get(user, "extra"), "authentication.kubernetes.io/credential-id");
	char *id = json_is_array(ids) ? strdup(json_string_value(json_array_get(ids, 0))) : NULL;
	json_decref(user);
	assert_non_null(id);
	return id;
}

/* The API server's credential-id of a token, through a client of its own. */
static char *id_of(const char *token, enum recap_kube_code *code)
{
	struct recap_kube_config *cfg = tadmin_config();
	free(cfg->cert_data), free(cfg->key_data);
	cfg->cert_data = cfg->key_data = NULL;
	cfg->token = strdup(token);
	struct tclient t;
	struct recap_kube_client_options o = {.max_retries = -1};
	tclient_open_config(&t, cfg, &o);
	char *msg = NULL;
	char *id = credential_id(&t, &msg, code);
	free(msg);
	tclient_close(&t);
	recap_kube_config_free(cfg);
	return id;
}

/* The pod's token file rewritten under a running in-cluster client: taken
 * at the next check (once a second), and at once when the API server
 * refuses the old token (revoked: its Secret deleted) before that check. */
static void in_cluster_token_file_rotates(void **state)
{
	json_decref(admin_request("POST", "/api/v1/namespaces/default/serviceaccounts",
				  json_pack("{s:{s:s}}", "metadata", "name", "rot")));
	for (int i = 1; i <= 2; i++) {
		char name[16];
		snprintf(name, sizeof(name), "rot-%d", i);
		json_decref(admin_request("POST", "/api/v1/namespaces/default/secrets",
					  json_pack("{s:{s:s}}", "metadata", "name", name)));
	}
	char *tok1 = rot_token("rot-1"), *tok2 = rot_token("rot-2"), *tok3 = rot_token(NULL);
	enum recap_kube_code code;
	char *id1 = id_of(tok1, &code), *id2 = id_of(tok2, &code), *id3 = id_of(tok3, &code);
	assert_non_null(id1);
	assert_non_null(id2);
	assert_non_null(id3);

	char dir[1024], path[1100];
	snprintf(dir, sizeof(dir), "%s/sa-rot", cluster_dir());
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/namespace", dir);
	twrite_file(path, "default\n");
	struct recap_kube_config *admin = tadmin_config();
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	twrite_file(path, admin->ca_data);
	recap_kube_config_free(admin);
	char token_path[1100];
	snprintf(token_path, sizeof(token_path), "%s/token", dir);
	replace_file(token_path, tok1);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", getenv("RECAP_APISERVER_PORT"), 1);
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_in_cluster(dir, &cfg, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	struct tclient t;
	struct recap_kube_client_options o = {.max_retries = -1};
	tclient_open_config(&t, cfg, &o);
	char *msg = NULL, *id = credential_id(&t, &msg, &code);
	assert_string_equal(id, id1);
	free(id);

	/* rotated: the next request a second later carries the new token */
	replace_file(token_path, tok2);
	usleep(1100 * 1000);
	id = credential_id(&t, &msg, &code);
	assert_string_equal(id, id2);
	free(id);

	/* the token in use revoked, its successor written, and the next
	 * request within the second: the 401 makes the client read the file
	 * again, and the request goes again with the new token */
	json_decref(admin_request("DELETE", "/api/v1/namespaces/default/secrets/rot-2", NULL));
	uint64_t until = recap_now_mono_ms() + 20000;
	while ((free(id_of(tok2, &code)), code) != RECAP_KUBE_ERR_UNAUTHORIZED) {
		if (recap_now_mono_ms() > until)
			fail_msg("the token of the deleted Secret rot-2 is still taken after 20 s");
		usleep(200 * 1000);
	}
	/* this request refreshes the check time: still tok2, refused */
	assert_null(credential_id(&t, &msg, &code));
	assert_int_equal(code, RECAP_KUBE_ERR_UNAUTHORIZED);
	free(msg);
	twrite_file(token_path, tok3); /* in place, as a hand-written file */
	id = credential_id(&t, &msg, &code);
	if (!id)
		fail_msg("after the rotation: %s", msg);
	assert_string_equal(id, id3);
	free(id);

	/* a token file that became unreadable keeps the last good token */
	assert_int_equal(unlink(token_path), 0);
	usleep(1100 * 1000);
	id = credential_id(&t, &msg, &code);
	assert_string_equal(id, id3);
	free(id);
	tclient_close(&t);
	recap_kube_config_free(cfg);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	free(tok1), free(tok2), free(tok3), free(id1), free(id2), free(id3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(exec_plugin_certificate_is_renewed),
	    cmocka_unit_test(exec_plugin_certificate_refused_in_handshake),
	    cmocka_unit_test(impersonation_extras),
	    cmocka_unit_test(impersonation_extras_raw),
	    cmocka_unit_test(in_cluster_token_file_rotates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
