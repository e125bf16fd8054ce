/* recap-kube: get, list, watch, apply and delete objects with lib/kube.
 *
 *   recap-kube [--kubeconfig F] [--context C] [-n NS] VERB RESOURCE [NAME] [options]
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "tool.h"

struct opts {
	const char *kubeconfig, *context, *ns, *selector, *file, *manager, *level;
	bool cluster_scoped, force;
};

static const struct {
	const char *name;
	int (*fn)(struct tool *t);
	bool needs_name;
} verbs[] = {
    {"get", tool_get, true},	  {"list", tool_list, false},	 {"watch", tool_watch, false},
    {"apply", tool_apply, false}, {"delete", tool_delete, true},
};

static void usage(FILE *f)
{
	fputs("usage: recap-kube [--kubeconfig FILE] [--context NAME] [-n NAMESPACE] [--log-level L]\n"
	      "                  VERB RESOURCE [NAME] [-l SELECTOR] [-f FILE] [--field-manager M] [--force]\n"
	      "                  [--cluster-scoped]\n"
	      "verbs: get NAME, list, watch, apply -f FILE (server-side), delete NAME\n"
	      "RESOURCE: configmaps, pods, namespaces, leases, capsules, capsuleruns, ... or\n"
	      "          VERSION/RESOURCE (core) or GROUP/VERSION/RESOURCE\n",
	      f);
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
	    {"kubeconfig", required_argument, NULL, 'k'},
	    {"context", required_argument, NULL, 'c'},
	    {"namespace", required_argument, NULL, 'n'},
	    {"selector", required_argument, NULL, 'l'},
	    {"filename", required_argument, NULL, 'f'},
	    {"field-manager", required_argument, NULL, 'm'},
	    {"force", no_argument, NULL, 'F'},
	    {"cluster-scoped", no_argument, NULL, 'C'},
	    {"log-level", required_argument, NULL, 'L'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	while ((c = getopt_long(argc, argv, "n:l:f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kubeconfig = optarg;
			break;
		case 'c':
			o->context = optarg;
			break;
		case 'n':
			o->ns = optarg;
			break;
		case 'l':
			o->selector = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'm':
			o->manager = optarg;
			break;
		case 'F':
			o->force = true;
			break;
		case 'C':
			o->cluster_scoped = true;
			break;
		case 'L':
			o->level = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	return optind;
}

static int run(struct tool *t, const struct opts *o, int (*fn)(struct tool *))
{
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_load(o->kubeconfig, o->context, &cfg, &err) < 0) {
		log_error("%s", recap_error_message(err));
		recap_error_free(err);
		return 1;
	}
	uv_loop_init(&t->loop);
	int r = recap_kube_client_new(&t->loop, cfg, NULL, &t->c, &err);
	if (r >= 0) {
		t->ns = o->ns ? o->ns : recap_kube_client_namespace(t->c);
		r = fn(t);
		recap_kube_client_close(t->c);
	} else {
		log_error("%s", recap_error_message(err));
		recap_error_free(err);
	}
	uv_run(&t->loop, UV_RUN_DEFAULT);
	uv_loop_close(&t->loop);
	recap_kube_config_free(cfg);
	return r < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.manager = "recap-kube"};
	int i = parse(argc, argv, &o);
	enum recap_log_level level = RECAP_LOG_INFO;
	if (i < 0 || (o.level && recap_log_parse_level(o.level, &level) < 0) || argc - i < 2) {
		usage(stderr);
		return 2;
	}
	recap_log_setup("recap-kube", level, RECAP_LOG_TEXT);
	signal(SIGPIPE, SIG_IGN);
	struct tool t = {.selector = o.selector, .file = o.file, .manager = o.manager, .force = o.force};
	if (tool_parse_resource(argv[i + 1], o.cluster_scoped, &t.res) < 0) {
		log_error("bad resource '%s' (a known plural, VERSION/RESOURCE or GROUP/VERSION/RESOURCE)",
			  argv[i + 1]);
		return 2;
	}
	t.name = argc - i > 2 ? argv[i + 2] : NULL;
	for (size_t v = 0; v < ARRAY_SIZE(verbs); v++) {
		if (strcmp(argv[i], verbs[v].name) != 0)
			continue;
		if (verbs[v].needs_name && !t.name) {
			log_error("%s needs an object name", verbs[v].name);
			return 2;
		}
		if (verbs[v].fn == tool_apply && !t.file) {
			log_error("apply needs -f FILE");
			return 2;
		}
		return run(&t, &o, verbs[v].fn);
	}
	log_error("unknown verb '%s'", argv[i]);
	usage(stderr);
	return 2;
}
