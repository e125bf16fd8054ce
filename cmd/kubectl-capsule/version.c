/* kubectl capsule version: the plugin's version (meson's project version,
 * and `git describe` of the checkout it was built from) and the API
 * server's (its /version), as kubectl version prints them. */
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "format.h"
#include "sanitize.h"
#include "session.h"
#include "verbs.h"
#include "version.h"

static const char usage[] =
    "Print the plugin's version and the API server's.\n"
    "\n"
    "usage: kubectl capsule version [--client] [-o json|yaml] [--kubeconfig FILE] [--context NAME]\n"
    "\n"
    "  --client   the plugin's version only (no call to the API server)\n";

static json_t *client_version(void)
{
	json_t *v = json_pack("{s:s}", "version", PLUGIN_VERSION);
	if (v && PLUGIN_GIT_DESCRIBE[0])
		json_object_set_new(v, "gitDescribe", json_string(PLUGIN_GIT_DESCRIBE));
	return v;
}

static int server_version(const struct plugin_globals *g, json_t **ret, struct recap_error **err)
{
	struct session s;
	int r = session_open(&s, g, err);
	if (r < 0)
		return r;
	struct recap_kube_sync sync = RECAP_KUBE_SYNC_INIT;
	struct recap_kube_request req = {.method = "GET", .path = "/version"};
	r = recap_kube_request(s.c, &req, recap_kube_sync_cb, &sync, err);
	if (r >= 0)
		r = recap_kube_sync_wait(s.c, &sync, ret, err);
	session_close(&s);
	return r < 0 ? recap_error_wrap(err, r, "the API server's version") : 0;
}

static void print_text(json_t *doc)
{
	json_t *c = json_object_get(doc, "clientVersion"), *sv = json_object_get(doc, "serverVersion");
	const char *git = recap_json_str(c, "gitDescribe");
	if (git)
		plugin_printf_safe(stdout, "Client Version: %s (git %s)\n", recap_json_str(c, "version"),
				   git);
	else
		plugin_printf_safe(stdout, "Client Version: %s\n", recap_json_str(c, "version"));
	if (sv)
		plugin_printf_safe(stdout, "Server Version: %s\n", recap_json_str(sv, "gitVersion") ?: "?");
}

int plugin_verb_version(int argc, char **argv)
{
	struct simple_args a = {0};
	struct recap_error *err = NULL;
	if (plugin_parse_simple(argc, argv, "version", false, true, false, &a, &err) < 0)
		return plugin_fail(err, 2);
	if (a.g.help) {
		fputs(usage, stdout);
		return 0;
	}
	_cleanup_json_ json_t *doc = json_pack("{s:o}", "clientVersion", client_version());
	json_t *server = NULL;
	int r = a.client_only ? 0 : server_version(&a.g, &server, &err);
	if (server)
		json_object_set_new(doc, "serverVersion", server);
	if (a.g.output == PLUGIN_OUT_TEXT)
		print_text(doc);
	else
		plugin_print_doc(stdout, doc, a.g.output, false);
	fflush(stdout);
	return r < 0 ? plugin_fail(err, 1) : 0;
}
