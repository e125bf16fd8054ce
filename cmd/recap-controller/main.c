/* recap-controller: reconciles Capsules, CapsulePolicies and CapsuleRuns. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "controller/controller.h"
#include "kube/client.h"
#include "kube/config.h"

#define REGISTRIES_MAX 16

struct options {
	const char *kubeconfig, *context, *metrics_addr, *health_addr, *lease_ns, *identity;
	bool leader_elect;
	uint64_t lease_ms, renew_ms, retry_ms;
	uint64_t qps, burst;
	uint64_t start_grace_s, lost_after_s, run_ttl_s;
	bool run_ttl_s_set;
	const char *certs_ns, *apiserver_service;
	uint64_t ca_validity_s, cert_validity_s, cert_check_s;
	const char *insecure[REGISTRIES_MAX + 1]; /* --insecure-registry */
	int n_insecure;
	const char *registry_ca_file, *registry_config;
	const char *keys_ns;
	uint64_t keys_check_s;
	uint64_t max_triggered_per_ns;
};

struct app {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	struct recap_kube_client *client;
	struct recap_controller *ctl;
	int exit_code;
	bool stopping;
};

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: recap-controller [options]\n"
	       "  --kubeconfig PATH         kubeconfig (default $KUBECONFIG, ~/.kube/config, in-cluster)\n"
	       "  --context NAME            kubeconfig context\n"
	       "  --leader-elect=BOOL       run the reconcilers only while holding the Lease (default true)\n"
	       "  --leader-elect-namespace  namespace of the Lease (default the kubeconfig's)\n"
	       "  --leader-elect-identity   this replica's name in the Lease (default host-pid)\n"
	       "  --lease-duration-ms N, --renew-deadline-ms N, --retry-period-ms N\n"
	       "  --kube-api-qps N          API requests per second (default 500)\n"
	       "  --kube-api-burst N        API requests at once (default 1000)\n"
	       "  --execution-start-grace-seconds N\n"
	       "                            time an execution has beyond its timeoutSeconds to start\n"
	       "                            on its node; its spec.deadline (default 600, 1..604800)\n"
	       "  --execution-lost-after-seconds N\n"
	       "                            time after spec.deadline at which an execution that has not\n"
	       "                            ended is ended NodeLost (default 120, 1..86400)\n"
	       "  --run-ttl-seconds-after-finished N\n"
	       "                            delete a finished run (and its executions) N s after it\n"
	       "                            finished unless it sets its own ttlSecondsAfterFinished\n"
	       "                            (default 604800, 7 days; 0 keeps runs)\n"
	       "  --certs-namespace NS      namespace of the relay certificates' Secrets (recap-ca,\n"
	       "                            recap-apiserver-tls, recap-relay-client-tls, recap-caplet-tls;\n"
	       "                            default the kubeconfig's, as the Lease's)\n"
	       "  --apiserver-service NAME  Service of the aggregated API (recap-apiserver); its serving\n"
	       "                            certificate names NAME.NS.svc (default recap-apiserver)\n"
	       "  --ca-validity-seconds N   the relay CA's lifetime; rotated past 2/3 of it\n"
	       "                            (default 94608000, 3 years; 10..630720000)\n"
	       "  --cert-validity-seconds N the relay leaves' lifetime; re-issued past 2/3 of it\n"
	       "                            (default 2592000, 30 days; 5..630720000)\n"
	       "  --cert-check-seconds N    seconds between checks of the relay certificates while\n"
	       "                            leading (default 60; 0: never, certificates made elsewhere)\n"
	       "  --insecure-registry HOST[:PORT]  a registry the signature checks at admission\n"
	       "                            talk plain HTTP to (repeatable, at most 16)\n"
	       "  --registry-ca-file FILE   PEM CA bundle trusted for registries' TLS (default: the\n"
	       "                            system's)\n"
	       "  --registry-config DIR     mirrors and trust per registry: DIR/<registry>/hosts.toml\n"
	       "                            as containerd reads it\n"
	       "  --signing-keys-namespace NS  namespace of the ConfigMaps and Secrets CapsulePolicies'\n"
	       "                            publicKeyRefs name (default the kubeconfig's)\n"
	       "  --signing-keys-check-seconds N  seconds a read of those keys is reused before they\n"
	       "                            are read again (default 60; 1..86400)\n"
	       "  --max-triggered-runs-per-namespace N  runs fired by Capsules' triggers that are not\n"
	       "                            finished, at once, in one namespace (default 20; 1..10000)\n"
	       "  --metrics-addr HOST:PORT  /metrics (default :8080; \"\" disables)\n"
	       "  --health-addr HOST:PORT   /healthz and /readyz (default :8081; \"\" disables)\n"
	       "  --log-level L             error|warn|info|debug (default info)\n"
	       "  --log-format F            text|json (default text)\n");
}

static int parse_bool(const char *s, bool *ret)
{
	if (!s || strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
		*ret = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
		*ret = false;
	else
		return -1;
	return 0;
}

static int parse_ms(const char *s, uint64_t *ret)
{
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || v > 3600000ull)
		return -1;
	*ret = v;
	return 0;
}

/* A decimal count of seconds from min to max. */
static int parse_seconds(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || *s == '-' || errno || v < min || v > max)
		return -1;
	*ret = v;
	return 0;
}

enum {
	OPT_CERTS_NS = 256,
	OPT_APISERVER_SERVICE,
	OPT_CA_VALIDITY,
	OPT_CERT_VALIDITY,
	OPT_CERT_CHECK,
	OPT_INSECURE_REGISTRY,
	OPT_REGISTRY_CA_FILE,
	OPT_REGISTRY_CONFIG,
	OPT_SIGNING_KEYS_NS,
	OPT_SIGNING_KEYS_CHECK,
	OPT_MAX_TRIGGERED_PER_NS
};

static const struct option long_opts[] = {
    {"kubeconfig", required_argument, NULL, 'k'},
    {"context", required_argument, NULL, 'c'},
    {"leader-elect", optional_argument, NULL, 'L'},
    {"leader-elect-namespace", required_argument, NULL, 'N'},
    {"leader-elect-identity", required_argument, NULL, 'I'},
    {"lease-duration-ms", required_argument, NULL, 'D'},
    {"renew-deadline-ms", required_argument, NULL, 'R'},
    {"retry-period-ms", required_argument, NULL, 'P'},
    {"metrics-addr", required_argument, NULL, 'm'},
    {"health-addr", required_argument, NULL, 'H'},
    {"log-level", required_argument, NULL, 'l'},
    {"log-format", required_argument, NULL, 'f'},
    {"kube-api-qps", required_argument, NULL, 'q'},
    {"kube-api-burst", required_argument, NULL, 'b'},
    {"execution-start-grace-seconds", required_argument, NULL, 'G'},
    {"execution-lost-after-seconds", required_argument, NULL, 'X'},
    {"run-ttl-seconds-after-finished", required_argument, NULL, 'T'},
    {"certs-namespace", required_argument, NULL, OPT_CERTS_NS},
    {"apiserver-service", required_argument, NULL, OPT_APISERVER_SERVICE},
    {"ca-validity-seconds", required_argument, NULL, OPT_CA_VALIDITY},
    {"cert-validity-seconds", required_argument, NULL, OPT_CERT_VALIDITY},
    {"cert-check-seconds", required_argument, NULL, OPT_CERT_CHECK},
    {"insecure-registry", required_argument, NULL, OPT_INSECURE_REGISTRY},
    {"registry-ca-file", required_argument, NULL, OPT_REGISTRY_CA_FILE},
    {"registry-config", required_argument, NULL, OPT_REGISTRY_CONFIG},
    {"signing-keys-namespace", required_argument, NULL, OPT_SIGNING_KEYS_NS},
    {"signing-keys-check-seconds", required_argument, NULL, OPT_SIGNING_KEYS_CHECK},
    {"max-triggered-runs-per-namespace", required_argument, NULL, OPT_MAX_TRIGGERED_PER_NS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct log_opts {
	enum recap_log_level level;
	enum recap_log_format format;
};

/* The relay certificates' options (lib/controller/certs.c) and the
 * registries' of the signature checks; -1 for a bad
 * value or another option. */
static int set_certs_option(int c, const char *arg, struct options *o)
{
	switch (c) {
	case OPT_CERTS_NS:
		o->certs_ns = arg;
		return *arg ? 0 : -1;
	case OPT_APISERVER_SERVICE:
		o->apiserver_service = arg;
		return *arg ? 0 : -1;
	case OPT_CA_VALIDITY:
		return parse_seconds(arg, 10, 630720000, &o->ca_validity_s);
	case OPT_CERT_VALIDITY:
		return parse_seconds(arg, 5, 630720000, &o->cert_validity_s);
	case OPT_CERT_CHECK:
		return parse_seconds(arg, 0, 86400, &o->cert_check_s);
	case OPT_INSECURE_REGISTRY:
		if (!*arg || o->n_insecure >= REGISTRIES_MAX)
			return -1;
		o->insecure[o->n_insecure++] = arg;
		return 0;
	case OPT_REGISTRY_CA_FILE:
		o->registry_ca_file = arg;
		return *arg ? 0 : -1;
	case OPT_REGISTRY_CONFIG:
		o->registry_config = arg;
		return *arg ? 0 : -1;
	case OPT_SIGNING_KEYS_NS:
		o->keys_ns = arg;
		return *arg ? 0 : -1;
	case OPT_SIGNING_KEYS_CHECK:
		return parse_seconds(arg, 1, 86400, &o->keys_check_s);
	case OPT_MAX_TRIGGERED_PER_NS:
		return parse_seconds(arg, 1, 10000, &o->max_triggered_per_ns);
	default:
		return -1;
	}
}

/* Applies one option; -1 for a bad value. */
static int set_option(int c, const char *arg, struct options *o, struct log_opts *lo)
{
	switch (c) {
	case 'k':
		o->kubeconfig = arg;
		return 0;
	case 'c':
		o->context = arg;
		return 0;
	case 'L':
		return parse_bool(arg, &o->leader_elect);
	case 'N':
		o->lease_ns = arg;
		return 0;
	case 'I':
		o->identity = arg;
		return 0;
	case 'D':
		return parse_ms(arg, &o->lease_ms);
	case 'R':
		return parse_ms(arg, &o->renew_ms);
	case 'P':
		return parse_ms(arg, &o->retry_ms);
	case 'q':
		return parse_ms(arg, &o->qps) < 0 || o->qps == 0 || o->qps > 100000 ? -1 : 0;
	case 'b':
		return parse_ms(arg, &o->burst) < 0 || o->burst == 0 || o->burst > 100000 ? -1 : 0;
	case 'G':
		return parse_ms(arg, &o->start_grace_s) < 0 || o->start_grace_s == 0 ||
			       o->start_grace_s > 604800
			   ? -1
			   : 0;
	case 'X':
		return parse_ms(arg, &o->lost_after_s) < 0 || o->lost_after_s == 0 || o->lost_after_s > 86400
			   ? -1
			   : 0;
	case 'T':
		o->run_ttl_s_set = true;
		return parse_ms(arg, &o->run_ttl_s) < 0 || o->run_ttl_s > 31536000 ? -1 : 0;
	case 'm':
		o->metrics_addr = arg;
		return 0;
	case 'H':
		o->health_addr = arg;
		return 0;
	case 'l':
		return recap_log_parse_level(arg, &lo->level) < 0 ? -1 : 0;
	case 'f':
		return recap_log_parse_format(arg, &lo->format) < 0 ? -1 : 0;
	default:
		return set_certs_option(c, arg, o);
	}
}

static int parse_options(int argc, char **argv, struct options *o)
{
	struct log_opts lo = {RECAP_LOG_INFO, RECAP_LOG_TEXT};
	int c, idx = -1;
	while ((c = getopt_long(argc, argv, "h", long_opts, &idx)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?') {
			usage(stderr);
			return -1;
		}
		if (set_option(c, optarg, o, &lo) < 0) {
			fprintf(stderr, "recap-controller: bad value \"%s\" for --%s\n", optarg ? optarg : "",
				idx >= 0 ? long_opts[idx].name : "?");
			return -1;
		}
		idx = -1;
	}
	if (optind < argc) {
		fprintf(stderr, "recap-controller: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	recap_log_setup("recap-controller", lo.level, lo.format);
	return 0;
}

static void on_log(struct recap_controller *ctl, enum recap_log_level level, const char *msg, void *userdata)
{
	recap_log(level, "%s", msg);
}

static void on_stopped(struct recap_controller *ctl, void *userdata)
{
	struct app *a = userdata;
	log_info("stopped");
	uv_close((uv_handle_t *)&a->sigterm, NULL);
	uv_close((uv_handle_t *)&a->sigint, NULL);
	recap_kube_client_close(a->client);
}

static void shutdown_app(struct app *a, int code)
{
	if (a->stopping)
		return;
	a->stopping = true;
	a->exit_code = code;
	recap_controller_stop(a->ctl, on_stopped, a);
}

/* Leadership lost: exit now, as client-go's leader election does. A graceful
 * stop would wait for the passes in flight (and their requests, however long
 * they hang) while the new leader already acts; the controller has sent its
 * last call (op.c), and the process holds nothing that outlives it. */
static void on_fatal(struct recap_controller *ctl, const char *why, void *userdata)
{
	(void)ctl, (void)userdata;
	log_error("%s: exiting", why);
	fflush(NULL);
	_exit(1);
}

static void on_signal(uv_signal_t *s, int signum)
{
	log_info("signal %d: shutting down", signum);
	shutdown_app(s->data, 0);
}

static int run(struct app *a, const struct options *o)
{
	struct recap_error *err = NULL;
	_cleanup_kube_config_ struct recap_kube_config *cfg = NULL;
	struct recap_kube_client_options copts = {
	    .qps = (double)o->qps, .burst = (unsigned)o->burst, .user_agent = "recap-controller"};
	if (recap_kube_config_load(o->kubeconfig, o->context, &cfg, &err) < 0 ||
	    recap_kube_client_new(&a->loop, cfg, &copts, &a->client, &err) < 0) {
		log_error("%s", recap_error_message(err));
		recap_error_free(err);
		return 1;
	}
	struct recap_controller_options co = {
	    .leader_elect = o->leader_elect,
	    .lease_namespace = o->lease_ns,
	    .identity = o->identity,
	    .lease_duration_ms = o->lease_ms,
	    .renew_deadline_ms = o->renew_ms,
	    .retry_period_ms = o->retry_ms,
	    .metrics_addr = o->metrics_addr,
	    .health_addr = o->health_addr,
	    .exec_start_grace_s = o->start_grace_s,
	    .exec_lost_after_s = o->lost_after_s,
	    .run_ttl_s = o->run_ttl_s,
	    .run_ttl_s_set = o->run_ttl_s_set,
	    .certs_namespace = o->certs_ns,
	    .apiserver_service = o->apiserver_service,
	    .ca_validity_s = o->ca_validity_s,
	    .cert_validity_s = o->cert_validity_s,
	    .cert_check_s = o->cert_check_s,
	    .insecure_registries = o->insecure,
	    .registry_ca_file = o->registry_ca_file,
	    .registry_config = o->registry_config,
	    .signing_keys_namespace = o->keys_ns,
	    .signing_keys_check_s = o->keys_check_s,
	    .max_triggered_per_ns = o->max_triggered_per_ns,
	    .fatal = on_fatal,
	    .log = on_log,
	    .userdata = a,
	};
	if (recap_controller_new(a->client, &co, &a->ctl, &err) < 0 ||
	    recap_controller_start(a->ctl, &err) < 0) {
		log_error("%s", recap_error_message(err));
		recap_error_free(err);
		recap_controller_free(a->ctl);
		recap_kube_client_close(a->client);
		return 1;
	}
	log_info("started (server %s, leader election %s)", cfg->server, o->leader_elect ? "on" : "off");
	uv_signal_init(&a->loop, &a->sigterm);
	uv_signal_init(&a->loop, &a->sigint);
	a->sigterm.data = a->sigint.data = a;
	uv_signal_start(&a->sigterm, on_signal, SIGTERM);
	uv_signal_start(&a->sigint, on_signal, SIGINT);
	uv_run(&a->loop, UV_RUN_DEFAULT);
	recap_controller_free(a->ctl);
	return a->exit_code;
}

int main(int argc, char **argv)
{
	struct options o = {.leader_elect = true,
			    .qps = 500,
			    .burst = 1000,
			    .metrics_addr = ":8080",
			    .health_addr = ":8081",
			    .ca_validity_s = 3 * 365 * 86400ull,
			    .cert_validity_s = 30 * 86400ull,
			    .cert_check_s = 60};
	if (parse_options(argc, argv, &o) < 0)
		return 2;
	_cleanup_error_ struct recap_error *fperr = NULL;
	if (recap_failpoints_init(&fperr) < 0) {
		fprintf(stderr, "recap-controller: %s\n", recap_error_message(fperr));
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct app a = {0};
	if (uv_loop_init(&a.loop) < 0)
		return 1;
	int code = run(&a, &o);
	uv_run(&a.loop, UV_RUN_DEFAULT); /* close callbacks */
	uv_loop_close(&a.loop);
	return code;
}
