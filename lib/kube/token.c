#include "kube/token.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "kube/config.h"
#include "base/fileio.h"

#define RECHECK_MS 1000
#define EXPIRY_MARGIN_MS 10000 /* a credential this close to its expiry is renewed first */

static void set_value(struct recap_kube_token *t, char *v)
{
	if (t->value) {
		explicit_bzero(t->value, strlen(t->value));
		free(t->value);
	}
	t->value = v;
}

static int reload(struct recap_kube_token *t, struct recap_error **err)
{
	char *data = NULL;
	size_t len;
	int r = recap_read_file(t->path, RECAP_KUBE_TOKEN_MAX_BYTES, &data, &len, err);
	if (r < 0)
		return r;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
		data[--len] = '\0';
	if (len == 0 || strpbrk(data, "\r\n")) {
		free(data);
		return recap_error_set(err, EINVAL, "%s: not a single-line token", t->path);
	}
	if (t->value && strcmp(t->value, data) == 0) {
		explicit_bzero(data, len);
		free(data);
		return 0;
	}
	set_value(t, data);
	t->generation++; /* a new token: a 401 to the old one is no verdict on it */
	return 0;
}

int recap_kube_token_init(struct recap_kube_token *t, const char *value, const char *path,
			  const struct recap_kube_exec *exec, struct recap_error **err)
{
	*t = (struct recap_kube_token){0};
	if (exec && !value && !path) {
		if (!(t->exec = recap_kube_exec_dup(exec)))
			return recap_error_set(err, ENOMEM, "out of memory");
		return 0;
	}
	if (path) {
		if (!(t->path = strdup(path)))
			return recap_error_set(err, ENOMEM, "out of memory");
		if (stat(path, &t->st) < 0)
			return recap_error_set_errno(err, errno, "%s", path);
		t->checked_ms = recap_now_mono_ms();
		return reload(t, err);
	}
	if (value && !(t->value = strdup(value)))
		return recap_error_set(err, ENOMEM, "out of memory");
	return 0;
}

static bool changed(const struct stat *a, const struct stat *b)
{
	return a->st_ino != b->st_ino || a->st_dev != b->st_dev || a->st_size != b->st_size ||
	       a->st_mtim.tv_sec != b->st_mtim.tv_sec || a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

static const char *from_file(struct recap_kube_token *t)
{
	uint64_t now = recap_now_mono_ms();
	if (now - t->checked_ms < RECHECK_MS)
		return t->value;
	t->checked_ms = now;
	struct stat st;
	if (stat(t->path, &st) == 0 && changed(&st, &t->st) && reload(t, NULL) == 0)
		t->st = st;
	return t->value;
}

static bool exec_fresh(const struct recap_kube_token *t)
{
	if (t->refused || (!t->cred.token && !t->cred.cert))
		return false;
	return !t->cred.expires_ms || recap_now_wall_ms() + EXPIRY_MARGIN_MS < t->cred.expires_ms;
}

static int from_exec(struct recap_kube_token *t, struct recap_error **err)
{
	if (exec_fresh(t))
		return 0;
	struct recap_kube_exec_cred cred;
	int r = recap_kube_exec_run(t->exec, &cred, err);
	if (r < 0)
		return r;
	t->value = NULL; /* it is the old cred's */
	recap_kube_exec_cred_free(&t->cred);
	t->cred = cred;
	t->value = cred.token;
	t->generation++;
	t->refused = false;
	return 0;
}

int recap_kube_token_current(struct recap_kube_token *t, const char **ret, unsigned *generation,
			     struct recap_error **err)
{
	int r = 0;
	if (t->exec)
		r = from_exec(t, err);
	else if (t->path)
		from_file(t);
	*ret = r < 0 ? NULL : t->value;
	if (generation)
		*generation = t->generation;
	return r;
}

bool recap_kube_token_refused(struct recap_kube_token *t, unsigned generation)
{
	if (t->path && !t->exec) {
		/* the file may hold a newer token than the last check saw (it
		 * is checked once a second): read it now, whatever its stat */
		if (generation != t->generation)
			return true;
		t->checked_ms = recap_now_mono_ms();
		struct stat st;
		if (stat(t->path, &st) == 0 && reload(t, NULL) == 0)
			t->st = st;
		return generation != t->generation;
	}
	if (!t->exec)
		return false;
	if (generation == t->generation)
		t->refused = true;
	return true;
}

void recap_kube_token_free(struct recap_kube_token *t)
{
	if (t->exec) {
		t->value = NULL; /* the cred's */
		recap_kube_exec_cred_free(&t->cred);
		recap_kube_exec_free(t->exec);
		t->exec = NULL;
	}
	set_value(t, NULL);
	free(t->path);
	t->path = NULL;
}
