#include "runtime/run_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int recap_run_log_open(const char *root, const char *id, int64_t max, struct recap_run_log *l,
		       struct recap_error **err)
{
	*l = RECAP_RUN_LOG_INIT;
	if (max <= 0)
		return 0;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/logs", root);
	/* 0700: a run's output may hold secrets; only root on the node reads it */
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return recap_error_set_errno(err, errno, "cannot create %s", dir);
	if (asprintf(&l->part, "%s/%s.part", dir, id) < 0 || asprintf(&l->final, "%s/%s", dir, id) < 0) {
		recap_run_log_free(l);
		return recap_error_set(err, ENOMEM, "cannot allocate the log's path");
	}
	l->fd = open(l->part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_APPEND, 0600);
	if (l->fd < 0) {
		int e = errno;
		free(l->part);
		l->part = NULL; /* not ours: never removed */
		recap_run_log_free(l);
		return recap_error_set_errno(err, e, "cannot create the run's log in %s", dir);
	}
	l->max = max;
	return 0;
}

void recap_run_log_write(struct recap_run_log *l, const char *p, size_t n)
{
	if (l->fd < 0)
		return;
	size_t room = l->written < l->max ? (size_t)(l->max - l->written) : 0;
	size_t take = n < room ? n : room;
	l->dropped += (int64_t)(n - take);
	while (take > 0) {
		ssize_t w = write(l->fd, p, take);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) { /* the store's disk is full: count the rest as dropped */
			l->dropped += (int64_t)take;
			return;
		}
		l->written += w;
		p += w;
		take -= (size_t)w;
	}
}

void recap_run_log_finish(struct recap_run_log *l)
{
	if (l->fd < 0)
		return;
	close(l->fd);
	l->fd = -1;
	if (rename(l->part, l->final) == 0) {
		free(l->part);
		l->part = NULL;
	}
	recap_run_log_free(l);
}

void recap_run_log_free(struct recap_run_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->part)
		unlink(l->part);
	free(l->part);
	free(l->final);
	l->fd = -1;
	l->part = l->final = NULL;
}
