/* caplet: the node agent (options, logging, the loop; logic in lib/caplet). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/failpoint.h"
#include "base/fileio.h"
#include "base/log.h"
#include "base/quantity.h"
#include "caplet/artifacts.h"
#include "caplet/caplet.h"
#include "caplet/spec.h"
#include "httpd/httpd.h"
#include "kube/client.h"
#include "kube/config.h"
#include "relay/relay.h"

struct daemon {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	struct recap_kube_client *client;
	struct recap_caplet *caplet;
	struct recap_httpd *httpd;
	struct recap_relay *relay;
	bool stopping;
};

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: caplet [--node-name NAME] [--kubeconfig FILE] [--root DIR] [--capsule PATH]\n"
	       "              [--cgroup-parent NAME] [--cri-endpoint [unix://]PATH]\n"
	       "              [--insecure-registry HOST:PORT]... [--registry-config DIR]\n"
	       "              [--artifacts-quota BYTES] [--kube-api-qps N] [--kube-api-burst N]\n"
	       "              [--metrics-address HOST:PORT|off] [--log-level L] [--log-format F]\n"
	       "              [--relay-address HOST:PORT|off] [--relay-advertise HOST:PORT]\n"
	       "              [--relay-cert-file F] [--relay-key-file F] [--relay-ca-file F]\n"
	       "              [--relay-client-name CN] [--relay-max-streams N]\n"
	       "  the node name defaults to $NODE_NAME; the relay (a run's log and artifacts for\n"
	       "  recap-apiserver, mutual TLS) is off unless --relay-address is given; it is\n"
	       "  advertised at --relay-advertise, default $NODE_IP (else the address's host) and its port;\n"
	       "  API writes are limited to --kube-api-qps a second (default 50) with bursts of\n"
	       "  --kube-api-burst (default 100), the kubelet's defaults\n");
}

struct cli {
	struct recap_caplet_options o;
	struct recap_relay_options relay;
	const char *relay_advertise;
	char relay_endpoint[300];
	const char *kubeconfig, *metrics;
	int n_insecure;
	unsigned kube_qps, kube_burst;
	char kubepods_parent[128];
};

static void log_sink(enum recap_log_level level, const char *msg, void *data)
{
	recap_log(level, "%s", msg);
}

/* --artifacts-quota: bytes or a quantity ("1Gi"), at least 1 */
static int parse_quota(const char *v, int64_t *ret)
{
	struct recap_quantity q;
	struct recap_error *e = NULL;
	int64_t n = 0;
	if (recap_quantity_parse(v, &q, &e) < 0 || recap_quantity_units(q, &n) < 0 || n < 1) {
		fprintf(stderr, "caplet: --artifacts-quota '%s': %s\n", v,
			e ? recap_error_message(e) : "not a whole number of bytes of at least 1");
		recap_error_free(e);
		return -1;
	}
	*ret = n;
	return 0;
}

/* --kube-api-qps, --kube-api-burst: a whole number in 1..100000 */
static int parse_rate(const char *name, const char *v, unsigned *ret)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > 100000) {
		fprintf(stderr, "caplet: bad --%s '%s' (a whole number, 1 to 100000)\n", name, v);
		return -1;
	}
	*ret = (unsigned)n;
	return 0;
}

static int parse_log(int opt, const char *v, enum recap_log_level *level, enum recap_log_format *format)
{
	int r = opt == 'l' ? recap_log_parse_level(v, level) : recap_log_parse_format(v, format);
	if (r < 0)
		fprintf(stderr, "caplet: bad --log-%s '%s'\n", opt == 'l' ? "level" : "format", v);
	return r;
}

static const struct option opts[] = {
    {"node-name", required_argument, NULL, 'n'},
    {"kubeconfig", required_argument, NULL, 'k'},
    {"root", required_argument, NULL, 'r'},
    {"capsule", required_argument, NULL, 'c'},
    {"cgroup-parent", required_argument, NULL, 'g'},
    {"cri-endpoint", required_argument, NULL, 'e'},
    {"insecure-registry", required_argument, NULL, 'i'},
    {"registry-config", required_argument, NULL, 'R'},
    {"artifacts-quota", required_argument, NULL, 'a'},
    {"kube-api-qps", required_argument, NULL, 'q'},
    {"kube-api-burst", required_argument, NULL, 'b'},
    {"metrics-address", required_argument, NULL, 'm'},
    {"log-level", required_argument, NULL, 'l'},
    {"log-format", required_argument, NULL, 'f'},
    {"relay-address", required_argument, NULL, 'A'},
    {"relay-advertise", required_argument, NULL, 'V'},
    {"relay-cert-file", required_argument, NULL, 'C'},
    {"relay-key-file", required_argument, NULL, 'K'},
    {"relay-ca-file", required_argument, NULL, 'T'},
    {"relay-client-name", required_argument, NULL, 'N'},
    {"relay-max-streams", required_argument, NULL, 'S'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int apply_relay(struct cli *c, int o, const char *v)
{
	switch (o) {
	case 'A':
		c->relay.address = strcmp(v, "off") == 0 ? NULL : v;
		return 0;
	case 'V':
		c->relay_advertise = v;
		return 0;
	case 'C':
		c->relay.cert_file = v;
		return 0;
	case 'K':
		c->relay.key_file = v;
		return 0;
	case 'T':
		c->relay.ca_file = v;
		return 0;
	case 'N':
		c->relay.client_name = v;
		return 0;
	case 'S': {
		char *end;
		long n = strtol(v, &end, 10);
		if (end == v || *end || n < 1 || n > 4096) {
			fprintf(stderr, "caplet: bad --relay-max-streams '%s' (1 to 4096)\n", v);
			return -1;
		}
		c->relay.max_streams = (int)n;
		return 0;
	}
	default:
		return -1;
	}
}

static int apply(struct cli *c, int o, const char *v, enum recap_log_level *level,
		 enum recap_log_format *format)
{
	switch (o) {
	case 'n':
		c->o.node = v;
		return 0;
	case 'k':
		c->kubeconfig = v;
		return 0;
	case 'r':
		c->o.root = v;
		return 0;
	case 'c':
		c->o.capsule_bin = v;
		return 0;
	case 'g':
		c->o.cgroup_parent = v;
		return 0;
	case 'e':
		c->o.cri_endpoint = strncmp(v, "unix://", 7) == 0 ? v + 7 : v;
		return 0;
	case 'm':
		c->metrics = v;
		return 0;
	case 'a':
		return parse_quota(v, &c->o.artifacts_quota);
	case 'q':
		return parse_rate("kube-api-qps", v, &c->kube_qps);
	case 'b':
		return parse_rate("kube-api-burst", v, &c->kube_burst);
	case 'i':
		if (c->n_insecure == RECAP_CAPLET_INSECURE_MAX) {
			fprintf(stderr, "caplet: at most %d --insecure-registry\n",
				RECAP_CAPLET_INSECURE_MAX);
			return -1;
		}
		c->o.insecure[c->n_insecure++] = v;
		return 0;
	case 'R':
		c->o.registry_config = v;
		return *v ? 0 : -1;
	case 'l':
	case 'f':
		return parse_log(o, v, level, format);
	default:
		return apply_relay(c, o, v);
	}
}

static int parse(int argc, char **argv, struct cli *c)
{
	enum recap_log_level level = RECAP_LOG_INFO;
	enum recap_log_format format = RECAP_LOG_TEXT;
	c->o.node = getenv("NODE_NAME");
	c->metrics = "0.0.0.0:9742";
	c->o.cri_endpoint = "/run/containerd/containerd.sock";
	c->relay.cert_file = "/etc/recap/relay/tls.crt";
	c->relay.key_file = "/etc/recap/relay/tls.key";
	c->relay.ca_file = "/etc/recap/relay/ca.crt";
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o == 'h') {
			usage(stdout);
			exit(0);
		}
		if (apply(c, o, optarg, &level, &format) < 0)
			return -1;
	}
	if (optind != argc || !c->o.node || !*c->o.node) {
		fprintf(stderr, "caplet: %s\n",
			optind != argc ? "unexpected arguments" : "no node name (--node-name or $NODE_NAME)");
		return -1;
	}
	recap_log_setup("caplet", level, format);
	c->o.log = log_sink;
	return 0;
}

static int serve(const char *path, struct recap_buf *body, const char **ctype, void *data)
{
	struct daemon *d = data;
	if (strcmp(path, "/metrics") == 0) {
		*ctype = "text/plain; version=0.0.4; charset=utf-8";
		return recap_caplet_metrics(d->caplet, body) < 0 ? 500 : 200;
	}
	if (strcmp(path, "/healthz") == 0) {
		recap_buf_appends(body, "ok\n");
		return 200;
	}
	if (strcmp(path, "/readyz") == 0) {
		bool ok = recap_caplet_ready(d->caplet);
		recap_buf_appends(body, ok ? "ok\n" : "not ready\n");
		return ok ? 200 : 503;
	}
	recap_buf_appends(body, "not found\n");
	return 404;
}

static void on_stopped(void *data)
{
	struct daemon *d = data;
	log_info("stopped");
	recap_httpd_stop(d->httpd);
	d->httpd = NULL;
	recap_relay_stop(d->relay);
	d->relay = NULL;
	recap_kube_client_close(d->client);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
}

static void on_signal(uv_signal_t *s, int sig)
{
	struct daemon *d = s->data;
	if (d->stopping)
		return;
	d->stopping = true;
	log_info("signal %d: stopping (running executions are cancelled and escaped)", sig);
	recap_caplet_stop(d->caplet, on_stopped, d);
}

/* Without --cgroup-parent, runs go below the kubelet's kubepods cgroup when
 * caplet runs in a pod (its own cgroup shows it), else the executor's
 * default. */
static void cgroup_parent(struct cli *c)
{
	if (c->o.cgroup_parent)
		return;
	_cleanup_free_ char *text = NULL;
	size_t len;
	if (recap_read_file("/proc/self/cgroup", 65536, &text, &len, NULL) >= 0 &&
	    recap_caplet_kubepods_parent(text, c->kubepods_parent, sizeof(c->kubepods_parent)) == 0) {
		c->o.cgroup_parent = c->kubepods_parent;
		log_info("run cgroups below the kubelet's: %s", c->o.cgroup_parent);
	} else {
		log_info("run cgroups under the executor's default parent (no kubepods cgroup above caplet)");
	}
}

static void relay_log_sink(int level, const char *msg, void *data)
{
	recap_log(level <= 1 ? RECAP_LOG_WARN : RECAP_LOG_INFO, "%s", msg);
}

/* Where recap-apiserver reaches this node's relay: written into each
 * execution's status when caplet claims it. */
static int relay_endpoint(struct cli *c, int port)
{
	const char *host = getenv("NODE_IP");
	char bind_host[256] = "";
	const char *colon = strrchr(c->relay.address, ':');
	size_t n = (size_t)(colon - c->relay.address);
	if (n < sizeof(bind_host))
		memcpy(bind_host, c->relay.address, n);
	bind_host[n < sizeof(bind_host) ? n : 0] = '\0';
	if (c->relay_advertise)
		snprintf(c->relay_endpoint, sizeof(c->relay_endpoint), "%s", c->relay_advertise);
	else if (host && *host)
		snprintf(c->relay_endpoint, sizeof(c->relay_endpoint),
			 strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	else if (*bind_host && strcmp(bind_host, "0.0.0.0") != 0 && strcmp(bind_host, "[::]") != 0)
		snprintf(c->relay_endpoint, sizeof(c->relay_endpoint), "%s:%d", bind_host, port);
	else
		return log_error("the relay listens on every address: give --relay-advertise or $NODE_IP"),
		       -1;
	c->o.relay_endpoint = c->relay_endpoint;
	return 0;
}

static int start_relay(struct daemon *d, struct cli *c)
{
	_cleanup_error_ struct recap_error *err = NULL;
	if (!c->relay.address)
		return 0;
	c->relay.root = c->o.root ? c->o.root : "/var/lib/recap";
	c->relay.node = c->o.node;
	c->relay.log = relay_log_sink;
	c->relay.artifacts = recap_caplet_artifacts_serve;
	/* the helper that writes the tar, installed beside caplet */
	static char helper[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", helper, sizeof(helper) - sizeof("caplet-tar"));
	char *slash = n > 0 ? memrchr(helper, '/', (size_t)n) : NULL;
	if (!slash)
		return log_error("relay: cannot find caplet's own path for caplet-tar"), -1;
	strcpy(slash + 1, "caplet-tar");
	if (access(helper, X_OK) < 0)
		return log_error("relay: %s: %s (installed beside caplet)", helper, strerror(errno)), -1;
	c->relay.artifacts_data = helper;
	if (recap_relay_start(&c->relay, &d->relay, &err) < 0)
		return log_error("relay: %s", recap_error_message(err)), -1;
	if (relay_endpoint(c, recap_relay_port(d->relay)) < 0)
		return -1;
	log_info("relay on port %d, advertised as %s", recap_relay_port(d->relay), c->relay_endpoint);
	return 0;
}

/* API calls at once; the others wait their turn (kube/client.h) */
#define CAPLET_MAX_IN_FLIGHT 8
/* The client-side limit on API calls (watches aside), the kubelet's
 * defaults: a node's steady rate of runs is bounded by it (each cached run
 * makes four writes), a burst of up to 25 runs is not. */
#define CAPLET_QPS 50
#define CAPLET_BURST 100

static int setup(struct daemon *d, struct cli *c)
{
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_kube_config *cfg = NULL;
	cgroup_parent(c);
	if (start_relay(d, c) < 0)
		return -1;
	/* its name in the API server's audit log and field ownership records;
	 * at most 8 calls at once, so that a burst of executions (110 pods'
	 * worth) does not open a TLS connection per call */
	struct recap_kube_client_options o = {.user_agent = "caplet",
					      .max_in_flight = CAPLET_MAX_IN_FLIGHT,
					      .qps = c->kube_qps ? c->kube_qps : CAPLET_QPS,
					      .burst = c->kube_burst ? c->kube_burst : CAPLET_BURST};
	int r = recap_kube_config_load(c->kubeconfig, NULL, &cfg, &err);
	if (r >= 0)
		r = recap_kube_client_new(&d->loop, cfg, &o, &d->client, &err);
	recap_kube_config_free(cfg);
	if (r >= 0)
		r = recap_caplet_start(d->client, &c->o, &d->caplet, &err);
	if (r >= 0 && strcmp(c->metrics, "off") != 0)
		r = recap_httpd_start(&d->loop, c->metrics, serve, d, &d->httpd, &err);
	if (r < 0)
		return log_error("%s", recap_error_message(err)), r;
	if (d->httpd)
		log_info("node %s; metrics on port %d", c->o.node, recap_httpd_port(d->httpd));
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c = {0};
	if (parse(argc, argv, &c) < 0) {
		usage(stderr);
		return 2;
	}
	_cleanup_error_ struct recap_error *fperr = NULL;
	if (recap_failpoints_init(&fperr) < 0) {
		fprintf(stderr, "caplet: %s\n", recap_error_message(fperr));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct daemon d = {0};
	uv_loop_init(&d.loop);
	if (setup(&d, &c) < 0)
		return 1;
	d.sigterm.data = d.sigint.data = &d;
	uv_signal_init(&d.loop, &d.sigterm);
	uv_signal_init(&d.loop, &d.sigint);
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	recap_caplet_free(d.caplet);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	uv_loop_close(&d.loop);
	return 0;
}
