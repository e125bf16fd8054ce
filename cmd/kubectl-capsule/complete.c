/* Shell completion: see complete.h. */
#include "complete.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *summary;
} verbs[] = {
    {"run", "run a capsule on pods and print each target's output"},
    {"ls", "list CapsuleRuns (-w: watch them)"},
    {"describe", "a run's details: spec, failures, executions, events"},
    {"logs", "each target's output of a run"},
    {"cp", "copy files a run left in /out"},
    {"cancel", "cancel a run"},
    {"attach", "an interactive capsule in a pod's container"},
    {"version", "the plugin's version and the API server's"},
    {"completion", "a shell completion script"},
};

/* Flags of each verb (long forms; every one is accepted by args.c). */
static const char *const global_flags[] = {"--kubeconfig",	"--context", "--cluster",  "--user",
					   "--namespace",	"--as",	     "--as-group", "--as-uid",
					   "--request-timeout", "--help",    NULL};
static const char *const run_flags[] = {"--output",
					"--selector",
					"--container",
					"--pod",
					"--capsule",
					"--join",
					"--target-fs",
					"--cap-add",
					"--cap-drop",
					"--env",
					"--image-pull-secret",
					"--timeout",
					"--strategy",
					"--max-concurrent",
					"--rm",
					"--no-wait",
					"--no-stream",
					"--wait-timeout",
					"--raw",
					NULL};
static const char *const ls_flags[] = {"--output", "--selector", "--all-namespaces", "--watch", NULL};
static const char *const logs_flags[] = {"--output",	  "--raw",   "--follow", "--target",
					 "--limit-bytes", "--tails", NULL};
static const char *const attach_flags[] = {"--container",    "--image",	   "--join",	"--target-fs",
					   "--cap-add",	     "--cap-drop", "--timeout", "--image-pull-secret",
					   "--idle-timeout", "--rm",	   "--dry-run", NULL};
static const char *const version_flags[] = {"--client", "--output", NULL};
static const char *const no_flags[] = {NULL};

static const char *const *verb_flags(const char *verb)
{
	if (!verb)
		return no_flags;
	if (strcmp(verb, "run") == 0)
		return run_flags;
	if (strcmp(verb, "ls") == 0)
		return ls_flags;
	if (strcmp(verb, "logs") == 0)
		return logs_flags;
	if (strcmp(verb, "attach") == 0)
		return attach_flags;
	if (strcmp(verb, "version") == 0)
		return version_flags;
	return no_flags;
}

/* Flags that take the next word as their value (when not given as --f=v). */
static bool takes_value(const char *w)
{
	static const char *const with_value[] = {"--kubeconfig",
						 "--context",
						 "--cluster",
						 "--user",
						 "-n",
						 "--namespace",
						 "--as",
						 "--as-group",
						 "--as-uid",
						 "--request-timeout",
						 "-o",
						 "--output",
						 "-l",
						 "--selector",
						 "-c",
						 "--container",
						 "--pod",
						 "--capsule",
						 "--join",
						 "--target-fs",
						 "--cap-add",
						 "--cap-drop",
						 "--env",
						 "--image-pull-secret",
						 "--timeout",
						 "--strategy",
						 "--max-concurrent",
						 "--wait-timeout",
						 "--target",
						 "--limit-bytes",
						 "--image",
						 "--idle-timeout",
						 NULL};
	for (const char *const *f = with_value; *f; f++)
		if (strcmp(w, *f) == 0)
			return true;
	return false;
}

/* What the words before the one being completed say. */
struct scan {
	struct plugin_globals g;
	const char *verb;
	const char *positional[4];
	int npositional;	  /* may pass 4: only the first ones are kept */
	const char *pending_flag; /* the last word is a flag waiting for its value */
	bool capsule;		  /* run --capsule: every positional is a target */
	bool after_dashdash;
};

static bool flag_is(const char *w, size_t n, const char *name)
{
	return strlen(name) == n && strncmp(w, name, n) == 0;
}

static void global_value(struct plugin_globals *g, const char *flag, size_t n, const char *v)
{
	if (flag_is(flag, n, "--kubeconfig"))
		g->kubeconfig = v;
	else if (flag_is(flag, n, "--context"))
		g->context = v;
	else if (flag_is(flag, n, "--cluster"))
		g->cluster = v;
	else if (flag_is(flag, n, "--user"))
		g->user = v;
	else if (flag_is(flag, n, "-n") || flag_is(flag, n, "--namespace"))
		g->ns = v;
}

static void scan_flag(struct scan *s, const char *w, const char *next, int *i)
{
	const char *eq = strchr(w, '=');
	size_t n = eq && strncmp(w, "--", 2) == 0 ? (size_t)(eq - w) : strlen(w);
	s->capsule = s->capsule || flag_is(w, n, "--capsule");
	if (n < strlen(w)) {
		global_value(&s->g, w, n, eq + 1); /* --flag=value: its own value */
		return;
	}
	if (!takes_value(w))
		return;
	if (!next) {
		s->pending_flag = w;
		return;
	}
	global_value(&s->g, w, n, next);
	(*i)++;
}

static void scan_words(struct scan *s, char **words, int n)
{
	for (int i = 0; i < n; i++) {
		const char *w = words[i];
		if (strcmp(w, "--") == 0) {
			s->after_dashdash = true;
			return;
		}
		if (w[0] == '-' && w[1]) {
			scan_flag(s, w, i + 1 < n ? words[i + 1] : NULL, &i);
		} else if (!s->verb) {
			s->verb = w;
		} else {
			if (s->npositional < 4)
				s->positional[s->npositional] = w;
			s->npositional++;
		}
	}
}

static void offer(FILE *out, const char *partial, const char *value, const char *summary)
{
	if (strncmp(value, partial, strlen(partial)) != 0)
		return;
	if (summary)
		fprintf(out, "%s\t%s\n", value, summary);
	else
		fprintf(out, "%s\n", value);
}

static void offer_list(FILE *out, const char *partial, const char *const *values)
{
	for (; *values; values++)
		offer(out, partial, *values, NULL);
}

static int complete_flag_value(const struct scan *s, const char *flag, const char *partial, FILE *out,
			       plugin_comp_lister list, void *data)
{
	static const char *const outputs[] = {"json", "yaml", NULL};
	static const char *const fs[] = {"None", "ReadOnly", "ReadWrite", NULL};
	static const char *const strategies[] = {"Parallel", "Iterative", NULL};
	static const char *const joins[] = {"net", "pid", "ipc", "uts", "cgroup", NULL};
	struct plugin_comp_request req = {.prefix = "", .suffix = ""};
	if (strcmp(flag, "-o") == 0 || strcmp(flag, "--output") == 0)
		offer_list(out, partial, outputs);
	else if (strcmp(flag, "--target-fs") == 0)
		offer_list(out, partial, fs);
	else if (strcmp(flag, "--strategy") == 0)
		offer_list(out, partial, strategies);
	else if (strcmp(flag, "--join") == 0)
		offer_list(out, partial, joins);
	else if (strcmp(flag, "--kubeconfig") == 0)
		return PLUGIN_COMP_DEFAULT; /* a file */
	else if (strcmp(flag, "-n") == 0 || strcmp(flag, "--namespace") == 0)
		req.source = PLUGIN_COMP_NAMESPACES, list(&s->g, &req, partial, out, data);
	else if (strcmp(flag, "--pod") == 0 || strcmp(flag, "--target") == 0)
		req.source = PLUGIN_COMP_PODS, list(&s->g, &req, partial, out, data);
	else if (strcmp(flag, "--capsule") == 0)
		req.source = PLUGIN_COMP_CAPSULES, list(&s->g, &req, partial, out, data);
	return PLUGIN_COMP_NOFILE;
}

/* POD, or KIND/NAME once a kind is typed; the kinds' prefixes beside the
 * pods until then. */
static int complete_target(const struct scan *s, const char *partial, FILE *out, plugin_comp_lister list,
			   void *data)
{
	const char *slash = strchr(partial, '/');
	struct plugin_comp_request req = {.source = PLUGIN_COMP_PODS, .prefix = "", .suffix = ""};
	if (slash) {
		char prefix[64];
		enum plugin_kind kind = plugin_kind_lookup(partial, (size_t)(slash - partial));
		if (kind == PLUGIN_KIND_COUNT || (size_t)(slash - partial) + 2 > sizeof(prefix))
			return PLUGIN_COMP_NOFILE;
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(slash - partial + 1), partial);
		req.source = kind == PLUGIN_KIND_POD ? PLUGIN_COMP_PODS : PLUGIN_COMP_WORKLOADS;
		req.kind = kind;
		req.prefix = prefix;
		list(&s->g, &req, slash + 1, out, data);
		return PLUGIN_COMP_NOFILE;
	}
	list(&s->g, &req, partial, out, data);
	for (enum plugin_kind k = PLUGIN_KIND_DEPLOYMENT; k < PLUGIN_KIND_COUNT; k++) {
		char p[32];
		snprintf(p, sizeof(p), "%s/", plugin_kind_short(k));
		offer(out, partial, p, NULL);
	}
	return PLUGIN_COMP_NOFILE;
}

static int complete_positional(const struct scan *s, const char *partial, FILE *out, plugin_comp_lister list,
			       void *data)
{
	static const char *const shells[] = {"bash", "zsh", "fish", NULL};
	struct plugin_comp_request runs = {.source = PLUGIN_COMP_RUNS, .prefix = "", .suffix = ""};
	const char *v = s->verb;
	int k = s->npositional;
	if (!strcmp(v, "logs") || !strcmp(v, "cancel") || !strcmp(v, "describe")) {
		if (k == 0)
			list(&s->g, &runs, partial, out, data);
	} else if (!strcmp(v, "cp")) {
		if (k == 1)
			return PLUGIN_COMP_DEFAULT; /* DEST: a file */
		if (k == 0 && !strchr(partial, ':')) {
			runs.suffix = ":"; /* RUN:POD:/out/... goes on */
			list(&s->g, &runs, partial, out, data);
			return PLUGIN_COMP_NOFILE | PLUGIN_COMP_NOSPACE;
		}
	} else if (!strcmp(v, "run")) {
		if (s->capsule || k > 0)
			return complete_target(s, partial, out, list, data);
	} else if (!strcmp(v, "attach")) {
		if (k == 0)
			return complete_target(s, partial, out, list, data);
	} else if (!strcmp(v, "completion")) {
		if (k == 0)
			offer_list(out, partial, shells);
	}
	return PLUGIN_COMP_NOFILE;
}

/* Candidates ending in '/' are a kind to go on with: no space after it. */
static int directive_for(const char *written, int directive)
{
	size_t n = written ? strlen(written) : 0;
	bool only_prefixes = n > 0;
	for (const char *line = written; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *tab = memchr(line, '\t', len);
		size_t vlen = tab ? (size_t)(tab - line) : len;
		if (vlen == 0 || line[vlen - 1] != '/')
			only_prefixes = false;
		line = end ? end + 1 : line + len;
	}
	return only_prefixes ? directive | PLUGIN_COMP_NOSPACE : directive;
}

static int complete_word(const struct scan *s, const char *partial, FILE *out, plugin_comp_lister list,
			 void *data)
{
	if (s->after_dashdash)
		return PLUGIN_COMP_DEFAULT; /* the capsule's command: files, as a shell would */
	if (s->pending_flag)
		return complete_flag_value(s, s->pending_flag, partial, out, list, data);
	if (partial[0] == '-') {
		offer_list(out, partial, verb_flags(s->verb));
		offer_list(out, partial, global_flags);
		return PLUGIN_COMP_NOFILE;
	}
	if (!s->verb) {
		for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
			offer(out, partial, verbs[i].name, verbs[i].summary);
		return PLUGIN_COMP_NOFILE;
	}
	return complete_positional(s, partial, out, list, data);
}

void plugin_complete(char **words, int n, FILE *out, plugin_comp_lister list, void *data)
{
	struct scan s = {0};
	const char *partial = n > 0 ? words[n - 1] : "";
	scan_words(&s, words, n > 0 ? n - 1 : 0);
	char *written = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&written, &len);
	if (!m) {
		fprintf(out, ":%d\n", PLUGIN_COMP_NOFILE);
		return;
	}
	int directive = complete_word(&s, partial, m, list, data);
	fclose(m);
	fputs(written ? written : "", out);
	fprintf(out, ":%d\n", directive_for(written, directive));
	free(written);
}
