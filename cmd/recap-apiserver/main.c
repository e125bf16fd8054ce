/* recap-apiserver: the aggregated API server of subresources.recap.dev
 * (options, logging, the refresh loop; logic in lib/apiserver). Any number
 * of replicas: it keeps no state and elects no leader. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apiserver/apiserver.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "kube/config.h"

#define REFRESH_S 30

static void usage(FILE *f)
{
	fprintf(f, "usage: recap-apiserver [--kubeconfig FILE] [--secure-address HOST:PORT]\n"
		   "         [--tls-cert-file F] [--tls-key-file F]\n"
		   "         [--relay-cert-file F] [--relay-key-file F] [--relay-ca-file F] "
		   "[--relay-server-name NAME]\n"
		   "         [--max-connections N] [--log-level L] [--log-format F]\n"
		   "  defaults: --secure-address 0.0.0.0:8443, serving certificate "
		   "/etc/recap/apiserver/tls.{crt,key},\n"
		   "  relay client /etc/recap/relay-client/{tls.crt,tls.key,ca.crt}, relay server name\n"
		   "  caplet.recap-system.svc; the kubeconfig defaults to $KUBECONFIG, ~/.kube/config, "
		   "in-cluster\n");
}

static const struct option opts[] = {
    {"kubeconfig", required_argument, NULL, 'k'},
    {"secure-address", required_argument, NULL, 'a'},
    {"tls-cert-file", required_argument, NULL, 'c'},
    {"tls-key-file", required_argument, NULL, 'K'},
    {"relay-cert-file", required_argument, NULL, 'C'},
    {"relay-key-file", required_argument, NULL, 'R'},
    {"relay-ca-file", required_argument, NULL, 'T'},
    {"relay-server-name", required_argument, NULL, 'n'},
    {"max-connections", required_argument, NULL, 'm'},
    {"log-level", required_argument, NULL, 'l'},
    {"log-format", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct cli {
	struct recap_apiserver_options o;
	const char *kubeconfig;
	enum recap_log_level level;
	enum recap_log_format format;
};

static int apply(struct cli *c, int opt, const char *v)
{
	const char **slot[] = {
	    ['k'] = &c->kubeconfig,	 ['a'] = &c->o.address,		 ['c'] = &c->o.cert_file,
	    ['K'] = &c->o.key_file,	 ['C'] = &c->o.relay_cert_file,	 ['R'] = &c->o.relay_key_file,
	    ['T'] = &c->o.relay_ca_file, ['n'] = &c->o.relay_server_name};
	if (opt > 0 && opt < (int)(sizeof(slot) / sizeof(slot[0])) && slot[opt]) {
		*slot[opt] = v;
		return 0;
	}
	if (opt == 'm') {
		char *end;
		long n = strtol(v, &end, 10);
		c->o.max_connections = (int)n;
		return end != v && !*end && n > 0 && n <= 65536 ? 0 : -1;
	}
	if (opt == 'l')
		return recap_log_parse_level(v, &c->level);
	if (opt == 'f')
		return recap_log_parse_format(v, &c->format);
	return -1;
}

static int parse(int argc, char **argv, struct cli *c)
{
	*c = (struct cli){.o = {.address = "0.0.0.0:8443",
				.cert_file = "/etc/recap/apiserver/tls.crt",
				.key_file = "/etc/recap/apiserver/tls.key",
				.relay_cert_file = "/etc/recap/relay-client/tls.crt",
				.relay_key_file = "/etc/recap/relay-client/tls.key",
				.relay_ca_file = "/etc/recap/relay-client/ca.crt",
				.relay_server_name = "caplet.recap-system.svc"},
			  .level = RECAP_LOG_INFO};
	int opt;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			exit(0);
		}
		if (opt == '?' || apply(c, opt, optarg) < 0) {
			if (opt != '?')
				fprintf(stderr, "recap-apiserver: bad value '%s' for %s\n", optarg,
					argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "recap-apiserver: unexpected arguments\n");
		return -1;
	}
	return 0;
}

static void log_sink(int level, const char *msg, void *data)
{
	recap_log(level <= 1 ? RECAP_LOG_WARN : RECAP_LOG_DEBUG, "%s", msg);
}

int main(int argc, char **argv)
{
	struct cli c;
	if (parse(argc, argv, &c) < 0) {
		usage(stderr);
		return 2;
	}
	recap_log_setup("recap-apiserver", c.level, c.format);
	c.o.log = log_sink;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits it: sigtimedwait below */
	signal(SIGPIPE, SIG_IGN);
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_kube_config *cfg = NULL;
	struct recap_apiserver *s = NULL;
	int r = recap_kube_config_load(c.kubeconfig, NULL, &cfg, &err);
	if (r >= 0)
		r = recap_apiserver_start(cfg, &c.o, &s, &err);
	recap_kube_config_free(cfg);
	if (r < 0) {
		log_error("%s", recap_error_message(err));
		return 1;
	}
	log_info("serving %s on port %d", "subresources.recap.dev/v1alpha1", recap_apiserver_port(s));
	struct timespec every = {.tv_sec = REFRESH_S};
	while (sigtimedwait(&set, NULL, &every) < 0) {
		struct recap_error *e = NULL;
		if (recap_apiserver_refresh(s, &e) < 0)
			log_warn("refresh: %s (the current configuration stays)", recap_error_message(e));
		recap_error_free(e);
	}
	log_info("stopping");
	recap_apiserver_stop(s);
	return 0;
}
