#include "helpers.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/timeutil.h"

const struct recap_kube_resource T_CONFIGMAPS = {"", "v1", "configmaps", true};
const struct recap_kube_resource T_NAMESPACES = {"", "v1", "namespaces", false};

void tclient_open_config(struct tclient *t, const struct recap_kube_config *cfg,
			 const struct recap_kube_client_options *opts)
{
	assert_int_equal(uv_loop_init(&t->loop), 0);
	struct recap_error *err = NULL;
	int r = recap_kube_client_new(&t->loop, cfg, opts, &t->c, &err);
	if (r < 0)
		fail_msg("client: %s", recap_error_message(err));
}

void tclient_open(struct tclient *t, const char *kubeconfig, const struct recap_kube_client_options *opts)
{
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_load(kubeconfig, NULL, &cfg, &err) < 0)
		fail_msg("kubeconfig: %s", recap_error_message(err));
	tclient_open_config(t, cfg, opts);
	recap_kube_config_free(cfg);
}

void tclient_close(struct tclient *t)
{
	recap_kube_client_close(t->c);
	t->c = NULL;
	uv_run(&t->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&t->loop), 0);
}

enum recap_kube_code twait(struct tclient *t, struct recap_kube_sync *s, json_t **ret, char **ret_msg)
{
	struct recap_error *err = NULL;
	json_t *obj = NULL;
	recap_kube_sync_wait(t->c, s, &obj, &err);
	if (ret)
		*ret = obj;
	else
		json_decref(obj);
	if (ret_msg)
		*ret_msg = err ? strdup(recap_error_message(err)) : NULL;
	recap_error_free(err);
	return s->code;
}

static void tick(uv_timer_t *h)
{
}

bool trun_until(struct tclient *t, const bool *flag, uint64_t timeout_ms)
{
	uv_timer_t timer;
	uv_timer_init(&t->loop, &timer);
	uv_timer_start(&timer, tick, 50, 50); /* keeps the loop turning */
	uint64_t deadline = recap_now_mono_ms() + timeout_ms;
	while (!*flag && recap_now_mono_ms() < deadline)
		uv_run(&t->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&timer, NULL);
	uv_run(&t->loop, UV_RUN_NOWAIT);
	return *flag;
}

json_t *tconfigmap(const char *name, const char *k, const char *v)
{
	return json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata",
			 "name", name, "data", k, v);
}

void tcluster(const char *verb)
{
	const char *dir = getenv("RECAP_CLUSTER_DIR");
	const char *script = getenv("RECAP_CLUSTER_SCRIPT");
	assert_non_null(dir);
	assert_non_null(script);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "'%s' %s --dir '%s' >/dev/null 2>&1", script, verb, dir);
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
}

/* Reads the port line, which the server may write in pieces. */
static int read_port(int fd, char *port, size_t size)
{
	size_t len = 0;
	port[0] = '\0';
	while (len < size - 1 && !memchr(port, '\n', len)) {
		ssize_t n = read(fd, port + len, size - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (!memchr(port, '\n', len))
		return -1;
	port[strcspn(port, "\n")] = '\0';
	return 0;
}

int tserver_start(struct tserver *s)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -1;
	char script[1024];
	snprintf(script, sizeof(script), "%s/test/kube/flaky_server.py", getenv("RECAP_SOURCE_ROOT"));
	s->pid = fork();
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		/* The system interpreter: version managers' shims add processes and delays. */
		execl("/usr/bin/python3", "python3", script, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->stdin_fd = in[1];
	char port[16];
	int r = read_port(out[0], port, sizeof(port));
	close(out[0]);
	if (r < 0)
		return -1;
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%s", port);
	return 0;
}

void tserver_stop(struct tserver *s)
{
	close(s->stdin_fd);
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
}

struct recap_kube_config *tadmin_config(void)
{
	struct recap_kube_config *cfg = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_config_load(NULL, NULL, &cfg, &err) < 0)
		fail_msg("%s", recap_error_message(err));
	return cfg;
}

void twrite_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

long tread_number(const char *path)
{
	FILE *f = fopen(path, "re");
	long n = -1;
	if (f && fscanf(f, "%ld", &n) != 1)
		n = -1;
	if (f)
		fclose(f);
	return n;
}
