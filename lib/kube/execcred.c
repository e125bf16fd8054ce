/* Running an exec credential plugin and reading its ExecCredential. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "kube/config.h"
#include "kube/execcred.h"

extern char **environ;

void recap_kube_exec_cred_free(struct recap_kube_exec_cred *c)
{
	if (c->token)
		explicit_bzero(c->token, strlen(c->token));
	if (c->key)
		explicit_bzero(c->key, c->key_len);
	free(c->token);
	free(c->cert);
	free(c->key);
	*c = (struct recap_kube_exec_cred){0};
}

/* The environment: ours, then the configured entries (which win), then
 * KUBERNETES_EXEC_INFO. */
static char **plugin_env(const struct recap_kube_exec *e, const char *info)
{
	size_t n = 0, m = 0;
	while (environ && environ[n])
		n++;
	while (e->env[m])
		m++;
	char **env = calloc(n + m + 2, sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		bool replaced = strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21) == 0;
		for (size_t j = 0; j < m && !replaced; j++)
			replaced = strncmp(e->env[j], environ[i], len) == 0 && e->env[j][len] == '=';
		if (!replaced)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		env[k++] = e->env[j];
	env[k] = (char *)info;
	return env;
}

static char *exec_info(const struct recap_kube_exec *e, bool interactive)
{
	_cleanup_json_ json_t *spec = json_pack("{s:b}", "interactive", interactive);
	if (spec && e->cluster) {
		json_t *c = json_loads(e->cluster, 0, NULL);
		json_object_set_new(spec, "cluster", c ? c : json_null());
	}
	_cleanup_json_ json_t *info = spec ? json_pack("{s:s, s:s, s:O}", "apiVersion", e->api_version,
						       "kind", "ExecCredential", "spec", spec)
					   : NULL;
	_cleanup_free_ char *s = info ? json_dumps(info, JSON_COMPACT) : NULL;
	char *out = NULL;
	return s && asprintf(&out, "KUBERNETES_EXEC_INFO=%s", s) >= 0 ? out : NULL;
}

static uint64_t timeout_ms(bool interactive)
{
	const char *s = getenv("RECAP_KUBE_EXEC_TIMEOUT");
	char *end = NULL;
	unsigned long v = s ? strtoul(s, &end, 10) : 0;
	if (s && *s && end && !*end && v > 0 && v <= 3600)
		return v * 1000;
	return interactive ? RECAP_KUBE_EXEC_INTERACTIVE_TIMEOUT_MS : RECAP_KUBE_EXEC_TIMEOUT_MS;
}

/* Reads the plugin's stdout to its end, within the time limit and the size
 * limit: 0, or -ETIMEDOUT / -EFBIG / -errno. */
static int read_output(int fd, uint64_t limit_ms, struct recap_buf *out)
{
	uint64_t until = recap_now_mono_ms() + limit_ms;
	char buf[16384];
	for (;;) {
		uint64_t now = recap_now_mono_ms();
		if (now >= until)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n = poll(&p, 1, (int)(until - now > 1000 ? 1000 : until - now));
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			continue;
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return 0;
		if (out->len + (size_t)got > RECAP_KUBE_EXEC_OUTPUT_MAX)
			return -EFBIG;
		if (recap_buf_append(out, buf, (size_t)got) < 0)
			return -ENOMEM;
	}
}

static int spawn(const struct recap_kube_exec *e, bool interactive, pid_t *pid, int *out_fd,
		 struct recap_error **err)
{
	_cleanup_free_ char *info = exec_info(e, interactive);
	_cleanup_free_ char **env = info ? plugin_env(e, info) : NULL;
	size_t nargs = 0;
	while (e->args[nargs])
		nargs++;
	_cleanup_free_ char **argv = calloc(nargs + 2, sizeof(*argv));
	int p[2];
	if (!env || !argv)
		return recap_error_set(err, ENOMEM, "out of memory");
	argv[0] = e->command;
	memcpy(argv + 1, e->args, nargs * sizeof(*argv));
	if (pipe2(p, O_CLOEXEC) < 0)
		return recap_error_set_errno(err, errno, "exec plugin %s: pipe", e->command);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (!interactive)
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	int r = posix_spawnp(pid, e->command, &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (r != 0) {
		close(p[0]);
		if (r == ENOENT)
			return recap_error_set(err, ENOENT, "exec plugin %s: not found%s%s", e->command,
					       e->install_hint ? "\n" : "",
					       e->install_hint ? e->install_hint : "");
		return recap_error_set_errno(err, r, "exec plugin %s: cannot start it", e->command);
	}
	*out_fd = p[0];
	return 0;
}

/* The answer: an ExecCredential of the configured version with a token or
 * a certificate and key, not expired. */
static int parse_answer(const struct recap_kube_exec *e, const struct recap_buf *out,
			struct recap_kube_exec_cred *c, struct recap_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	struct recap_error *perr = NULL;
	if (recap_json_parse(out->data ? out->data : "", out->len, RECAP_KUBE_EXEC_OUTPUT_MAX, &j, &perr) <
	    0) {
		int r = recap_error_set(err, EINVAL, "exec plugin %s: its output is not JSON (%s)",
					e->command, recap_error_message(perr));
		recap_error_free(perr);
		return r;
	}
	const char *kind = recap_json_str(j, "kind"), *version = recap_json_str(j, "apiVersion");
	if (!kind || strcmp(kind, "ExecCredential") != 0 || !version || strcmp(version, e->api_version) != 0)
		return recap_error_set(err, EINVAL,
				       "exec plugin %s: its output is not an ExecCredential of %s (kind %s, "
				       "apiVersion %s)",
				       e->command, e->api_version, kind ? kind : "(none)",
				       version ? version : "(none)");
	json_t *status = json_object_get(j, "status");
	const char *token = recap_json_str(status, "token"),
		   *cert = recap_json_str(status, "clientCertificateData"),
		   *key = recap_json_str(status, "clientKeyData"),
		   *exp = recap_json_str(status, "expirationTimestamp");
	if ((!token || !*token) && (!cert || !*cert))
		return recap_error_set(err, EINVAL,
				       "exec plugin %s: its ExecCredential has no status.token and no "
				       "status.clientCertificateData",
				       e->command);
	if ((cert && *cert) != (key && *key))
		return recap_error_set(err, EINVAL,
				       "exec plugin %s: clientCertificateData and clientKeyData go together",
				       e->command);
	if (token && (strlen(token) > RECAP_KUBE_TOKEN_MAX_BYTES || strpbrk(token, "\r\n")))
		return recap_error_set(err, EINVAL,
				       "exec plugin %s: its token is not a single line of at most %u bytes",
				       e->command, RECAP_KUBE_TOKEN_MAX_BYTES);
	time_t t = 0;
	if (exp && recap_time_parse(exp, &t) < 0)
		return recap_error_set(err, EINVAL,
				       "exec plugin %s: status.expirationTimestamp '%s' is not a time",
				       e->command, exp);
	if (exp && (int64_t)t * 1000 <= recap_now_wall_ms())
		return recap_error_set(
		    err, EINVAL, "exec plugin %s: the credential it returned expired at %s", e->command, exp);
	c->expires_ms = exp ? (int64_t)t * 1000 : 0;
	if ((token && *token && !(c->token = strdup(token))) ||
	    (cert && *cert && (!(c->cert = strdup(cert)) || !(c->key = strdup(key)))))
		return recap_error_set(err, ENOMEM, "out of memory");
	c->cert_len = c->cert ? strlen(c->cert) : 0;
	c->key_len = c->key ? strlen(c->key) : 0;
	return 0;
}

int recap_kube_exec_run(const struct recap_kube_exec *e, struct recap_kube_exec_cred *out,
			struct recap_error **err)
{
	*out = (struct recap_kube_exec_cred){0};
	bool tty = isatty(STDIN_FILENO);
	if (e->interactive == RECAP_KUBE_EXEC_ALWAYS && !tty)
		return recap_error_set(err, ENOTTY,
				       "exec plugin %s needs a terminal on stdin (interactiveMode: Always)",
				       e->command);
	bool interactive = e->interactive != RECAP_KUBE_EXEC_NEVER && tty;
	pid_t pid = -1;
	int fd = -1;
	int r = spawn(e, interactive, &pid, &fd, err);
	if (r < 0)
		return r;
	struct recap_buf buf = RECAP_BUF_INIT(RECAP_KUBE_EXEC_OUTPUT_MAX);
	uint64_t limit = timeout_ms(interactive);
	int rr = read_output(fd, limit, &buf);
	close(fd);
	if (rr < 0)
		kill(pid, SIGKILL);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (rr == -ETIMEDOUT)
		r = recap_error_set(err, ETIMEDOUT, "exec plugin %s: no answer within %llu s (killed)",
				    e->command, (unsigned long long)(limit / 1000));
	else if (rr == -EFBIG)
		r = recap_error_set(err, EFBIG, "exec plugin %s: its output passes %u bytes", e->command,
				    RECAP_KUBE_EXEC_OUTPUT_MAX);
	else if (rr < 0)
		r = recap_error_set(err, -rr, "exec plugin %s: reading its output: %s", e->command,
				    strerror(-rr));
	else if (WIFSIGNALED(st))
		r = recap_error_set(err, EIO, "exec plugin %s: killed by signal %d", e->command,
				    WTERMSIG(st));
	else if (WEXITSTATUS(st) != 0)
		r = recap_error_set(err, EIO, "exec plugin %s: exited with status %d (its message is above)",
				    e->command, WEXITSTATUS(st));
	else
		r = parse_answer(e, &buf, out, err);
	if (buf.data)
		explicit_bzero(buf.data, buf.len);
	recap_buf_free(&buf);
	if (r < 0)
		recap_kube_exec_cred_free(out);
	return r;
}
