/* Shell completion: what is offered for the word being typed, after which
 * words, and cobra's directive on the last line. Names from the cluster
 * come from a stand-in lister that records what it was asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"
#include "base/error.h"
#include "complete.h"

struct asked {
	int calls;
	enum plugin_comp_source source;
	enum plugin_kind kind;
	char ns[64], kubeconfig[64], partial[64];
};

static void lister(const struct plugin_globals *g, const struct plugin_comp_request *req, const char *partial,
		   FILE *out, void *data)
{
	static const char *const names[] = {"r1", "r2", "web-1", NULL};
	struct asked *a = data;
	a->calls++;
	a->source = req->source;
	a->kind = req->kind;
	snprintf(a->ns, sizeof(a->ns), "%s", g->ns ?: "");
	snprintf(a->kubeconfig, sizeof(a->kubeconfig), "%s", g->kubeconfig ?: "");
	snprintf(a->partial, sizeof(a->partial), "%s", partial);
	for (const char *const *n = names; *n; n++)
		if (strncmp(*n, partial, strlen(partial)) == 0)
			fprintf(out, "%s%s%s\n", req->prefix, *n, req->suffix);
}

static char *complete(struct asked *a, char **words, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	*a = (struct asked){0};
	plugin_complete(words, n, f, lister, a);
	fclose(f);
	return buf;
}

#define W(...) ((char *[]){__VA_ARGS__}), (int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *))

static void expect(char **words, int n, const char *want, int calls)
{
	struct asked a;
	char *got = complete(&a, words, n);
	if (strcmp(got, want) != 0)
		fail_msg("after '%s'...: got\n%s\nwanted\n%s", n > 0 ? words[0] : "", got, want);
	assert_int_equal(a.calls, calls);
	free(got);
}

static void verbs_and_flags(void **state)
{
	expect(W("l"), "ls\tlist CapsuleRuns (-w: watch them)\nlogs\teach target's output of a run\n:4\n", 0);
	/* the connection flags before the verb are skipped */
	expect(W("-n", "shop", "--context", "c", "de"),
	       "describe\ta run's details: spec, failures, executions, events\n:4\n", 0);
	expect(W("ls", "--w"), "--watch\n:4\n", 0);
	expect(W("version", "--c"), "--client\n--context\n--cluster\n:4\n", 0);
	expect(W("attach", "web-1", "--dry"), "--dry-run\n:4\n", 0);
	expect(W("completion", ""), "bash\nzsh\nfish\n:4\n", 0);
	expect(W("run", "--target-fs", "Read"), "ReadOnly\nReadWrite\n:4\n", 0);
	expect(W("logs", "-o", ""), "json\nyaml\n:4\n", 0);
	/* a file's flag and the capsule's command: the shell's own file completion */
	expect(W("ls", "--kubeconfig", "/tmp/k"), ":0\n", 0);
	expect(W("run", "img", "web-1", "--", "sh", ""), ":0\n", 0);
	expect(W("ls", ""), ":4\n", 0);
}

static void names_from_the_cluster(void **state)
{
	struct asked a;
	char *got = complete(&a, W("--kubeconfig", "/k", "-n", "shop", "logs", "r"));
	assert_string_equal(got, "r1\nr2\n:4\n");
	assert_int_equal(a.source, PLUGIN_COMP_RUNS);
	assert_string_equal(a.ns, "shop");
	assert_string_equal(a.kubeconfig, "/k");
	assert_string_equal(a.partial, "r");
	free(got);
	/* --namespace=NS counts too */
	got = complete(&a, W("describe", "--namespace=prod", ""));
	assert_string_equal(got, "r1\nr2\nweb-1\n:4\n");
	assert_string_equal(a.ns, "prod");
	free(got);
	/* a run's name is given once */
	expect(W("cancel", "r1", ""), ":4\n", 0);
	/* cp: RUN: and no space after it; then DEST is a file */
	got = complete(&a, W("cp", "r"));
	assert_string_equal(got, "r1:\nr2:\n:6\n");
	free(got);
	expect(W("cp", "r1:/out/x", ""), ":0\n", 0);
	got = complete(&a, W("-n", "x", "logs", "--target", "we"));
	assert_string_equal(got, "web-1\n:4\n");
	assert_int_equal(a.source, PLUGIN_COMP_PODS);
	free(got);
	got = complete(&a, W("run", "--capsule", ""));
	assert_int_equal(a.source, PLUGIN_COMP_CAPSULES);
	free(got);
	got = complete(&a, W("ls", "-n", ""));
	assert_int_equal(a.source, PLUGIN_COMP_NAMESPACES);
	free(got);
}

static void targets(void **state)
{
	struct asked a;
	/* IMAGE is not completed; then pods and the kinds */
	expect(W("run", ""), ":4\n", 0);
	char *got = complete(&a, W("run", "img", ""));
	assert_string_equal(got, "r1\nr2\nweb-1\ndeploy/\nsts/\nds/\nrs/\njob/\n:4\n");
	assert_int_equal(a.source, PLUGIN_COMP_PODS);
	free(got);
	/* only kinds left: no space after the slash */
	expect(W("attach", "d"), "deploy/\nds/\n:6\n", 1);
	got = complete(&a, W("run", "img", "deployments.apps/w"));
	assert_string_equal(got, "deployments.apps/web-1\n:4\n");
	assert_int_equal(a.source, PLUGIN_COMP_WORKLOADS);
	assert_int_equal(a.kind, PLUGIN_KIND_DEPLOYMENT);
	assert_string_equal(a.partial, "w");
	free(got);
	/* with --capsule the first positional is a target already */
	got = complete(&a, W("run", "--capsule", "c", "sts/"));
	assert_int_equal(a.kind, PLUGIN_KIND_STATEFULSET);
	free(got);
	expect(W("run", "img", "svc/"), ":4\n", 0);
	expect(W("attach", "web-1", ""), ":4\n", 0);
}

/* Every flag completion offers, the verb's parser knows (a value "x" after
 * it may be refused, but not the flag). */
static bool parser_knows(const char *verb, char *flag)
{
	struct recap_error *err = NULL;
	int r;
	if (strcmp(verb, "run") == 0) {
		char *argv[] = {"run", "img", "--pod", "a", flag, "x", NULL};
		struct run_args a = {0};
		r = plugin_parse_run(6, argv, &a, &err);
		run_args_free(&a);
	} else if (strcmp(verb, "attach") == 0) {
		char *argv[] = {"attach", "p", "--image", "i", flag, "x", NULL};
		struct attach_args a = {0};
		r = plugin_parse_attach(6, argv, &a, &err);
		attach_args_free(&a);
	} else {
		bool logs = strcmp(verb, "logs") == 0, ls = strcmp(verb, "ls") == 0;
		char *argv[] = {(char *)verb, logs ? "r1" : flag, logs ? flag : "x", "x", NULL};
		struct simple_args a = {0};
		r = plugin_parse_simple(logs ? 4 : 3, argv, verb, logs, true, ls, &a, &err);
	}
	bool known = r >= 0 || !strstr(recap_error_message(err), "unknown flag");
	if (!known)
		print_error("%s %s: %s\n", verb, flag, recap_error_message(err));
	recap_error_free(err);
	return known;
}

static void flags_offered_are_flags(void **state)
{
	static const char *const verbs[] = {"run", "ls", "logs", "attach", "version"};
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		struct asked a;
		char *words[] = {(char *)verbs[v], "--"};
		char *got = complete(&a, words, 2);
		int n = 0;
		for (char *line = strtok(got, "\n"); line; line = strtok(NULL, "\n")) {
			if (line[0] == ':')
				break;
			assert_true(parser_knows(verbs[v], line));
			n++;
		}
		assert_true(n > 10); /* the connection flags at least */
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(verbs_and_flags),
	    cmocka_unit_test(names_from_the_cluster),
	    cmocka_unit_test(targets),
	    cmocka_unit_test(flags_offered_are_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
