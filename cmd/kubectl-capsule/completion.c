/* kubectl capsule completion bash|zsh|fish: a completion script for the
 * kubectl-capsule command; and `kubectl-capsule __complete ARGS... PARTIAL`,
 * which those scripts and kubectl_complete-capsule (kubectl's plugin
 * completion) run: the candidates (complete.h), names from the cluster. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "complete.h"
#include "objects.h"
#include "session.h"
#include "verbs.h"

static const char usage[] =
    "Print a shell completion script for kubectl-capsule.\n"
    "\n"
    "usage: kubectl capsule completion bash|zsh|fish\n"
    "\n"
    "  bash:  source <(kubectl-capsule completion bash)\n"
    "  zsh:   kubectl-capsule completion zsh > \"${fpath[1]}/_kubectl-capsule\"\n"
    "  fish:  kubectl-capsule completion fish > ~/.config/fish/completions/kubectl-capsule.fish\n"
    "\n"
    "`kubectl capsule <TAB>` completes through kubectl itself (1.26 or later): keep\n"
    "kubectl_complete-capsule, installed beside the plugin, on PATH.\n";

static const char bash_script[] =
    "# bash completion for kubectl-capsule (kubectl capsule <TAB> goes through\n"
    "# kubectl's own completion and kubectl_complete-capsule)\n"
    "_kubectl_capsule()\n"
    "{\n"
    "\tlocal cur=${COMP_WORDS[COMP_CWORD]} out directive line\n"
    "\tout=$(\"${COMP_WORDS[0]}\" __complete \"${COMP_WORDS[@]:1:COMP_CWORD-1}\" \"$cur\" 2>/dev/null) || "
    "return 0\n"
    "\tdirective=${out##*:}\n"
    "\tCOMPREPLY=()\n"
    "\twhile IFS= read -r line; do\n"
    "\t\t[[ -z $line || $line == :* ]] && continue\n"
    "\t\tCOMPREPLY+=(\"${line%%$'\\t'*}\")\n"
    "\tdone <<<\"$out\"\n"
    "\t((directive & 2)) && compopt -o nospace\n"
    "\tif ((${#COMPREPLY[@]} == 0 && !(directive & 4))); then\n"
    "\t\tcompopt -o default\n"
    "\tfi\n"
    "\treturn 0\n"
    "}\n"
    "complete -F _kubectl_capsule kubectl-capsule\n";

static const char zsh_script[] =
    "#compdef kubectl-capsule\n"
    "# zsh completion for kubectl-capsule (kubectl capsule <TAB> goes through\n"
    "# kubectl's own completion and kubectl_complete-capsule)\n"
    "_kubectl_capsule() {\n"
    "\tlocal -a lines comps\n"
    "\tlocal out directive line value desc\n"
    "\tout=$(${words[1]} __complete \"${(@)words[2,CURRENT]}\" 2>/dev/null) || return 1\n"
    "\tlines=(\"${(@f)out}\")\n"
    "\tdirective=${lines[-1]#:}\n"
    "\tlines=(\"${(@)lines[1,-2]}\")\n"
    "\tfor line in \"${lines[@]}\"; do\n"
    "\t\t[[ -n $line ]] || continue\n"
    "\t\tvalue=${line%%$'\\t'*} desc=\n"
    "\t\t[[ $line == *$'\\t'* ]] && desc=${line#*$'\\t'}\n"
    "\t\tcomps+=(\"${value//:/\\\\:}${desc:+:$desc}\")\n"
    "\tdone\n"
    "\tif ((${#comps})); then\n"
    "\t\tif ((directive & 2)); then\n"
    "\t\t\t_describe -t values completions comps -S ''\n"
    "\t\telse\n"
    "\t\t\t_describe -t values completions comps\n"
    "\t\tfi\n"
    "\telif ((!(directive & 4))); then\n"
    "\t\t_files\n"
    "\tfi\n"
    "}\n"
    "if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then\n"
    "\t_kubectl_capsule \"$@\"\n"
    "else\n"
    "\tcompdef _kubectl_capsule kubectl-capsule\n"
    "fi\n";

static const char fish_script[] =
    "# fish completion for kubectl-capsule (kubectl capsule <TAB> goes through\n"
    "# kubectl's own completion and kubectl_complete-capsule)\n"
    "function __kubectl_capsule_complete\n"
    "\tset -l args (commandline -opc)\n"
    "\tset -e args[1]\n"
    "\tset -l out (kubectl-capsule __complete $args (commandline -ct) 2>/dev/null)\n"
    "\tif test (count $out) -gt 0\n"
    "\t\tset -e out[-1]\n"
    "\tend\n"
    "\tprintf '%s\\n' $out\n"
    "end\n"
    "complete -c kubectl-capsule -f -a '(__kubectl_capsule_complete)'\n";

int plugin_verb_completion(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return 0;
	}
	const char *shell = argc == 2 ? argv[1] : "";
	if (strcmp(shell, "bash") == 0)
		fputs(bash_script, stdout);
	else if (strcmp(shell, "zsh") == 0)
		fputs(zsh_script, stdout);
	else if (strcmp(shell, "fish") == 0)
		fputs(fish_script, stdout);
	else {
		struct recap_error *err = NULL;
		recap_error_set(&err, EINVAL, "completion: needs one shell: bash, zsh or fish");
		return plugin_fail(err, 2);
	}
	return 0;
}

struct lister {
	struct session s;
	bool open, failed;
};

static const struct recap_kube_resource res_namespaces = {"", "v1", "namespaces", false};

static const struct recap_kube_resource *source_resource(const struct plugin_comp_request *req)
{
	switch (req->source) {
	case PLUGIN_COMP_RUNS:
		return &plugin_res_runs;
	case PLUGIN_COMP_CAPSULES:
		return &plugin_res_capsules;
	case PLUGIN_COMP_NAMESPACES:
		return &res_namespaces;
	case PLUGIN_COMP_WORKLOADS:
		return plugin_kind_resource(req->kind);
	default:
		return &plugin_res_pods;
	}
}

/* Names from the cluster; a completion says nothing when it cannot ask. */
static void list_names(const struct plugin_globals *g, const struct plugin_comp_request *req,
		       const char *partial, FILE *out, void *data)
{
	struct lister *l = data;
	struct recap_error *err = NULL;
	if (!l->open && !l->failed) {
		struct plugin_globals quick = *g;
		quick.request_timeout = "5s"; /* a shell waits for this */
		l->failed = session_open(&l->s, &quick, &err) < 0;
		l->open = !l->failed;
	}
	_cleanup_json_ json_t *list = NULL;
	const struct recap_kube_resource *res = source_resource(req);
	if (!l->open ||
	    session_list(&l->s, res, res->namespaced ? l->s.ns : NULL, NULL, NULL, &list, &err) < 0) {
		recap_error_free(err);
		return;
	}
	size_t i;
	json_t *item;
	json_array_foreach (json_object_get(list, "items"), i, item) {
		const char *name = recap_json_str(item, "metadata.name");
		if (name && strncmp(name, partial, strlen(partial)) == 0)
			fprintf(out, "%s%s%s\n", req->prefix, name, req->suffix);
	}
}

int plugin_verb_complete(int argc, char **argv)
{
	struct lister l = {0};
	plugin_complete(argv + 1, argc - 1, stdout, list_names, &l);
	if (l.open)
		session_close(&l.s);
	return 0;
}
