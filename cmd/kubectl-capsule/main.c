/* kubectl-capsule: the kubectl plugin (`kubectl capsule VERB ...` once the
 * binary is on PATH). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "sanitize.h"
#include "verbs.h"

const struct plugin_verb plugin_verbs[] = {
    {"run", plugin_verb_run, "run a capsule on pods, wait, print each target's output"},
    {"ls", plugin_verb_ls, "list CapsuleRuns (-w: and watch them change)"},
    {"describe", plugin_verb_describe, "a run's details: capsule spec, failures, executions, events"},
    {"logs", plugin_verb_logs, "print each target's output of a run"},
    {"cp", plugin_verb_cp, "copy files a run left in /out (RUN[:POD]:/out/PATH DEST)"},
    {"cancel", plugin_verb_cancel, "cancel a run"},
    {"attach", plugin_verb_attach, "an interactive capsule in a pod's container (a terminal session)"},
    {"version", plugin_verb_version, "the plugin's version and the API server's"},
    {"completion", plugin_verb_completion, "a shell completion script (bash, zsh, fish)"},
    {NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fputs("RECap's kubectl plugin: management tools in running containers.\n\n"
	      "usage: kubectl capsule VERB [flags]\n\nverbs:\n",
	      f);
	for (const struct plugin_verb *v = plugin_verbs; v->name; v++)
		fprintf(f, "  %-10s %s\n", v->name, v->summary);
	fputs("\nEvery verb takes kubectl's connection flags: --kubeconfig FILE, --context NAME,\n"
	      "--cluster NAME, --user NAME, -n/--namespace NS, --as USER, --as-group GROUP\n"
	      "(repeatable), --as-uid UID and --request-timeout DURATION (0, 30s, 5m, 1h).\n"
	      "'kubectl capsule VERB --help' shows a verb's flags.\n",
	      f);
}

int plugin_fail(struct recap_error *err, int status)
{
	/* may quote the API server, which may quote a tenant's object */
	plugin_printf_safe(stderr, "error: %s\n", err ? recap_error_message(err) : "out of memory");
	recap_error_free(err);
	return status;
}

/* The verb is the first word that is neither a flag nor a flag's value, so
 * `kubectl capsule -n shop ls` works too. */
static int find_verb(int argc, char **argv)
{
	static const char *const with_value[] = {
	    "--kubeconfig", "--context", "-n",	 "--namespace", "-o",	    "--output",
	    "--cluster",    "--user",	 "--as", "--as-group",	"--as-uid", "--request-timeout"};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return -1;
		if (argv[i][0] != '-')
			return i;
		for (size_t k = 0; k < ARRAY_SIZE(with_value); k++)
			if (strcmp(argv[i], with_value[k]) == 0)
				i++;
	}
	return -1;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	/* kubectl's plugin completion runs kubectl_complete-capsule, a script
	 * that runs this binary as `kubectl-capsule __complete ARGS...` */
	if (argc > 1 && strcmp(argv[1], "__complete") == 0)
		return plugin_verb_complete(argc - 1, argv + 1);
	int v = find_verb(argc, argv);
	if (v < 0) {
		bool help = argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	for (const struct plugin_verb *verb = plugin_verbs; verb->name; verb++) {
		if (strcmp(argv[v], verb->name) != 0)
			continue;
		/* The verb leaves argv; what stays is parsed by the verb. */
		char *name = argv[v];
		memmove(argv + v, argv + v + 1, (argc - v - 1) * sizeof(char *));
		argv[argc - 1] = name;
		return verb->fn(argc - 1, argv);
	}
	fprintf(stderr,
		"error: unknown verb \"%s\" (run, ls, describe, logs, cp, cancel, attach, version, "
		"completion)\n",
		argv[v]);
	return 2;
}
