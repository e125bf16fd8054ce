/* kubectl capsule attach POD: an interactive capsule in a pod's container.
 * An interactive Capsule and its CapsuleRun (one target: the pod) are created
 * in the pod's namespace, where CapsulePolicies admit them as any other, then
 * a WebSocket to the run's attach subresource carries the session (attachws.h,
 * attachloop.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "api/types.h"
#include "attachloop.h"
#include "attachws.h"
#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "format.h"
#include "kube/raw.h"
#include "objects.h"
#include "resolve.h"
#include "sanitize.h"
#include "session.h"
#include "verbs.h"
#include "wsproto/handshake.h"

#define CONNECT_TIMEOUT_MS 30000
#define BODY_TIMEOUT_MS 10000

static const char usage[] =
    "Attach an interactive capsule to a pod's container (a shell by default).\n"
    "\n"
    "usage: kubectl capsule attach (POD | KIND/NAME) --image IMAGE [flags] [-- COMMAND ARGS...]\n"
    "\n"
    "  POD, pod/POD          the pod; deploy/NAME, sts/NAME, ds/NAME, rs/NAME, job/NAME: the pod\n"
    "                        of that workload kubectl exec would pick (running and ready first)\n"
    "  -c, --container NAME  the pod's container (default: its first)\n"
    "  --image IMAGE         the capsule image (its tools)\n"
    "  --join LIST           namespaces to share: net,pid,ipc,uts,cgroup (default net,pid,ipc,uts)\n"
    "  --target-fs MODE      target root at /target: None, ReadOnly (default), ReadWrite\n"
    "  --cap-add CAP[,CAP]   capabilities on top of the default set (repeatable)\n"
    "  --cap-drop CAP[,CAP]  capabilities taken from the default set, or ALL (repeatable)\n"
    "  --timeout SECONDS     the session's wall-clock limit (default 3600)\n"
    "  --image-pull-secret NAME  a Secret with the image's registry credentials (repeatable)\n"
    "  --idle-timeout S      end the session after S seconds without input or output\n"
    "                        (default 900)\n"
    "  --rm[=false]          delete the run and its Capsule after the session (default true)\n"
    "  --dry-run             print the CapsuleRun and Capsule it would create, create nothing\n"
    "connection: --kubeconfig FILE, --context NAME, -n/--namespace NS\n"
    "\n"
    "The plugin creates an interactive Capsule and a CapsuleRun of it on POD (CapsulePolicies\n"
    "apply: a refused run is reported with the policy's message) and attaches to the run\n"
    "through the API server (RBAC: create on capsuleruns and capsuleruns/attach). On a\n"
    "terminal the session is raw, as kubectl exec -it. Exit status: the command's, 1 when\n"
    "the session could not start or ended without one, 2 for bad flags.\n";

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int dry_run(const struct attach_args *a, const char *ns)
{
	char suffix[PLUGIN_SUFFIX_LEN + 1];
	plugin_random_suffix(suffix);
	_cleanup_free_ char *name = plugin_run_name(a->r.image, suffix);
	_cleanup_json_ json_t *run = name ? plugin_run_object(name, name, a->r.pods) : NULL;
	_cleanup_json_ json_t *capsule = NULL;
	struct recap_error *err = NULL;
	if (!run)
		return plugin_fail(NULL, 1);
	if (plugin_adhoc_capsule(&a->r, name, "(the run's uid)", &capsule, &err) < 0)
		return plugin_fail(err, 1);
	json_object_set_new(json_object_get(run, "metadata"), "namespace", json_string(ns));
	json_object_set_new(json_object_get(capsule, "metadata"), "namespace", json_string(ns));
	plugin_print_doc(stdout, run, PLUGIN_OUT_YAML, false);
	fputs("---\n", stdout);
	plugin_print_doc(stdout, capsule, PLUGIN_OUT_YAML, false);
	return 0;
}

/* Reads from the connection into `in` until `done` says enough, the peer
 * ends (*eof), the deadline passes or a signal comes. */
static int read_until(struct recap_kube_raw *c, int sigfd, struct recap_buf *in, uint64_t deadline, bool *eof,
		      int (*done)(void *ctx, struct recap_buf *in, bool eof), void *ctx,
		      struct recap_error **err)
{
	for (;;) {
		char buf[8192];
		long k;
		while ((k = recap_kube_raw_recv(c, buf, sizeof(buf), err)) > 0)
			if (recap_buf_append(in, buf, (size_t)k) < 0)
				return recap_error_set(err, EMSGSIZE, "the server's answer is too long");
		if (k == 0)
			*eof = true;
		else if (k != -EAGAIN)
			return (int)k;
		int r = done(ctx, in, *eof);
		if (r != 0 || *eof)
			return r;
		uint64_t now = now_ms();
		if (now >= deadline)
			return recap_error_set(err, ETIMEDOUT, "no answer from the server");
		struct pollfd pfd[2] = {{.fd = recap_kube_raw_fd(c), .events = POLLIN},
					{.fd = sigfd, .events = POLLIN}};
		if (poll(pfd, 2, (int)(deadline - now)) < 0 && errno != EINTR)
			return recap_error_set_errno(err, errno, "poll");
		int sig;
		while (pfd[1].revents && (sig = plugin_attach_signal_read(sigfd)) > 0)
			if (sig != SIGWINCH)
				return recap_error_set(err, EINTR, "interrupted (signal %d)", sig);
	}
}

struct head_ctx {
	struct plugin_http_head *h;
	struct recap_error **err;
};

static int head_done(void *ctx, struct recap_buf *in, bool eof)
{
	struct head_ctx *x = ctx;
	int r = plugin_http_head_parse(in->data, in->len, x->h, x->err);
	if (r == 0 && eof)
		return recap_error_set(x->err, ECONNRESET, "the connection ended before the server answered");
	return r;
}

struct body_ctx {
	const struct plugin_http_head *h;
	char *body;
	size_t len;
	struct recap_error **err;
};

static int body_done(void *ctx, struct recap_buf *in, bool eof)
{
	struct body_ctx *x = ctx;
	if (x->body)
		return 1;
	return plugin_http_body(x->h, in->data + x->h->len, in->len - x->h->len, eof, &x->body, &x->len,
				x->err);
}

/* A refused upgrade: what the Status says and, when the run itself was
 * refused or failed, why (as `run` reports it). */
static int refused(struct session *s, struct recap_kube_raw *c, int sigfd, const char *name,
		   struct plugin_http_head *h, struct recap_buf *in)
{
	struct recap_error *err = NULL;
	struct body_ctx x = {.h = h, .err = &err};
	bool eof = false;
	read_until(c, sigfd, in, now_ms() + BODY_TIMEOUT_MS, &eof, body_done, &x, &err);
	recap_error_free(err);
	err = NULL;
	_cleanup_free_ char *why = plugin_attach_refusal(h, x.body ? x.body : "", x.body ? x.len : 0);
	free(x.body);
	plugin_printf_safe(stderr, "error: attaching to run %s: %s\n", name, why ? why : "refused");
	_cleanup_json_ json_t *run = NULL;
	if (session_get(s, &plugin_res_runs, s->ns, "capsulerun", name, &run, &err) >= 0 &&
	    plugin_run_finished(run)) {
		char line[256];
		plugin_format_progress(run, line, sizeof(line));
		const char *m = plugin_run_message(run);
		plugin_printf_safe(stderr, "%s%s%s\n", line, m ? ": " : "", m ?: "");
	}
	recap_error_free(err);
	return 1;
}

static int attach(struct session *s, const char *name, const char *pod, int sigfd)
{
	uint8_t nonce[16];
	struct recap_error *err = NULL;
	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce)) {
		recap_error_set(&err, EIO, "no random bytes for the WebSocket key");
		return plugin_fail(err, 1);
	}
	char key[RECAP_WS_KEY_LEN + 1];
	recap_ws_key_encode(nonce, key);
	struct plugin_attach_headers hd;
	plugin_attach_headers(key, &hd);
	_cleanup_free_ char *path = plugin_attach_path(s->ns, name, pod);
	struct recap_kube_raw *c = NULL;
	if (!path)
		return plugin_fail(NULL, 1);
	int r = recap_kube_raw_open(s->c, "GET", path, hd.v, PLUGIN_ATTACH_NHEADERS, CONNECT_TIMEOUT_MS, &c,
				    &err);
	if (r < 0)
		return plugin_fail(err, 1);
	struct recap_buf in = RECAP_BUF_INIT(PLUGIN_HTTP_HEAD_MAX + PLUGIN_HTTP_BODY_MAX + 65536);
	struct plugin_http_head h = {0};
	struct head_ctx x = {.h = &h, .err = &err};
	bool eof = false;
	/* the server answers once the session is ready on its node */
	uint64_t deadline = now_ms() + (PLUGIN_ATTACH_WAIT_S + 30) * 1000;
	int status = 1, version = 0;
	r = read_until(c, sigfd, &in, deadline, &eof, head_done, &x, &err);
	if (r < 0) {
		recap_error_wrap(&err, r, "attaching to run %s", name);
		status = plugin_fail(err, r == -EINTR ? 130 : 1);
	} else if (h.status != 101) {
		status = refused(s, c, sigfd, name, &h, &in);
	} else if ((r = plugin_attach_check(&h, key, &version, &err)) < 0) {
		status = plugin_fail(err, 1);
	} else {
		struct attach_io io = {
		    .conn = c,
		    .version = version,
		    .pending = in.data + h.len,
		    .npending = in.len - h.len,
		    .in_fd = STDIN_FILENO,
		    .out_fd = STDOUT_FILENO,
		    .err_fd = STDERR_FILENO,
		    .tty = isatty(STDIN_FILENO),
		    .signal_fd = sigfd,
		};
		fflush(stdout);
		status = plugin_attach_session(&io);
	}
	plugin_http_head_free(&h);
	recap_buf_free(&in);
	recap_kube_raw_close(c);
	return status;
}

/* One pod of a workload, the one kubectl exec would pick. */
static int pick_pod(struct session *s, struct attach_args *a, struct recap_error **err)
{
	_cleanup_json_ json_t *pods = NULL;
	int r = plugin_resolve_workload(s, &a->target, &pods, err);
	if (r < 0)
		return r;
	const char *name = recap_api_meta_name(plugin_pick_pod(pods));
	if (json_array_size(pods) > 1)
		plugin_printf_safe(stderr, "%s/%s has %zu pods; attaching to %s\n",
				   plugin_kind_name(a->target.kind), a->target.name, json_array_size(pods),
				   name);
	return plugin_attach_set_pod(a, name);
}

int plugin_verb_attach(int argc, char **argv)
{
	struct attach_args a = {0};
	struct recap_error *err = NULL;
	struct session s = {0};
	_cleanup_json_ json_t *run = NULL;
	int status = 2;
	if (plugin_parse_attach(argc, argv, &a, &err) < 0)
		goto out;
	if (a.r.g.help) {
		fputs(usage, stdout);
		status = 0;
		goto out;
	}
	status = 1;
	int r = session_open(&s, &a.r.g, &err);
	if (r >= 0 && !a.pod)
		r = pick_pod(&s, &a, &err);
	if (r < 0)
		goto out;
	if (a.dry_run) {
		status = dry_run(&a, s.ns);
		goto out;
	}
	int sigfd = plugin_attach_signals();
	if (sigfd < 0) {
		r = recap_error_set_errno(&err, -sigfd, "signal handlers");
		goto out;
	}
	r = session_get(&s, &plugin_res_pods, s.ns, "pod", a.pod, NULL, &err);
	if (r >= 0)
		r = plugin_create_objects(&s, &a.r, &run, &err);
	if (r < 0)
		goto out;
	const char *name = recap_api_meta_name(run);
	status = attach(&s, name, a.pod, sigfd);
	if (a.r.rm && (r = session_delete(&s, &plugin_res_runs, name, &err)) < 0) {
		recap_error_wrap(&err, r, "deleting run %s", name);
		plugin_fail(steal_ptr(err), 0);
		status = status ? status : 1;
	} else if (!a.r.rm) {
		plugin_printf_safe(stderr, "run %s kept (kubectl capsule logs %s)\n", name, name);
	}
out:
	session_close(&s);
	attach_args_free(&a);
	return err ? plugin_fail(err, status) : status;
}
