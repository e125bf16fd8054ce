/* kubectl capsule attach POD: an interactive capsule in a pod's container,
 * through kubectl exec into the caplet pod of the pod's node. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "attachcmd.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "objects.h"
#include "session.h"
#include "verbs.h"

static const char usage[] = "Attach an interactive capsule to a pod's container (a shell by default).\n"
			    "\n"
			    "usage: kubectl capsule attach POD --image IMAGE [-c CONTAINER] [--join LIST]\n"
			    "       [--target-fs None|ReadOnly|ReadWrite] [--cap-add CAP[,CAP]]\n"
			    "       [--cap-drop CAP[,CAP]|ALL]\n"
			    "       [--caplet-namespace NS] [--dry-run] [-- COMMAND ARGS...]\n"
			    "       [--kubeconfig FILE] [--context NAME] [-n NS]\n"
			    "\n"
			    "Finds the caplet pod on POD's node (namespace recap-system unless\n"
			    "--caplet-namespace) and runs kubectl exec -it into it with `capsule attach`,\n"
			    "so the session goes through the API server and needs pods/exec there.\n"
			    "--dry-run prints that kubectl command instead of running it.\n";

static int build(struct session *s, const struct attach_args *a, char ***ret, struct recap_error **err)
{
	_cleanup_json_ json_t *pod = NULL, *caplets = NULL;
	_cleanup_free_ char *cid = NULL;
	int r = session_get(s, &plugin_res_pods, s->ns, "pod", a->pod, &pod, err);
	if (r < 0)
		return r;
	const char *node = recap_json_str(pod, "spec.nodeName");
	if (!node)
		return recap_error_set(err, EAGAIN, "pod %s is not scheduled on a node yet", a->pod);
	if ((r = plugin_pod_container_id(pod, a->container, &cid, err)) < 0)
		return r;
	char field[320];
	snprintf(field, sizeof(field), "spec.nodeName=%s", node);
	r = session_list(s, &plugin_res_pods, a->caplet_ns, PLUGIN_CAPLET_SELECTOR, field, &caplets, err);
	if (r < 0)
		return recap_error_wrap(err, r, "looking for the caplet pod on node %s", node);
	const char *caplet = NULL;
	if ((r = plugin_pick_caplet(caplets, node, a->caplet_ns, &caplet, err)) < 0)
		return r;
	*ret = plugin_attach_argv(a, caplet, cid, isatty(STDIN_FILENO));
	return *ret ? 0 : -ENOMEM;
}

int plugin_verb_attach(int argc, char **argv)
{
	struct attach_args a = {0};
	struct recap_error *err = NULL;
	if (plugin_parse_attach(argc, argv, &a, &err) < 0)
		return plugin_fail(err, 2);
	if (a.g.help) {
		fputs(usage, stdout);
		return 0;
	}
	struct session s;
	char **cmd = NULL;
	int r = session_open(&s, &a.g, &err);
	if (r >= 0)
		r = build(&s, &a, &cmd, &err);
	session_close(&s);
	if (r < 0)
		return plugin_fail(err, 1);
	if (a.dry_run) {
		plugin_print_argv(stdout, cmd);
		plugin_argv_free(cmd);
		return 0;
	}
	fflush(stdout);
	execvp(cmd[0], cmd);
	recap_error_set_errno(&err, errno, "cannot run %s", cmd[0]);
	plugin_argv_free(cmd);
	return plugin_fail(err, 1);
}
