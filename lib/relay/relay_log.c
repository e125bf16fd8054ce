/* A run's output as the executor keeps it: logs/<id>.part while the run
 * writes it, logs/<id> once whole (docs/executor-spec.md). A follower reads
 * what is there, then waits on inotify for more until the file is whole,
 * the run is gone without finishing it (its executor died: runs/<id> went),
 * the client goes away or the relay stops. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "relay/relay_internal.h"

#define CHUNK (64 * 1024)
#define LOG_WAIT_MS 30000

struct follow {
	struct relay_conn *c;
	int fd, ino;
	bool whole, follow;
	int64_t left; /* -1: no limit */
	const char *id;
	char final[4096], run_dir[4096];
};

static int parse_int(const char *query, const char *key, int64_t *ret, struct relay_conn *c)
{
	char v[32];
	int r = relay_query(query, key, v, sizeof(v));
	if (r == 0)
		return 0;
	char *end = NULL;
	errno = 0;
	long long n = r < 0 ? -1 : strtoll(v, &end, 10);
	if (r < 0 || errno || end == v || *end || n < 0) {
		char m[128];
		snprintf(m, sizeof(m), "%s must be a whole number of bytes, at least 0", key);
		relay_status(c, 400, "BadRequest", m);
		return -1;
	}
	*ret = n;
	return 1;
}

static int parse_follow(struct relay_conn *c, bool *ret)
{
	char v[8];
	int r = relay_query(c->query, "follow", v, sizeof(v));
	if (r == 0)
		return 0;
	if (r > 0 && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || !*v))
		*ret = true;
	else if (r > 0 && (strcmp(v, "false") == 0 || strcmp(v, "0") == 0))
		*ret = false;
	else {
		relay_status(c, 400, "BadRequest", "follow must be true or false");
		return -1;
	}
	return 0;
}

static int open_log(struct follow *f, const char *root, const char *id)
{
	char part[4200];
	snprintf(f->final, sizeof(f->final), "%s/logs/%s", root, id);
	snprintf(part, sizeof(part), "%s.part", f->final);
	snprintf(f->run_dir, sizeof(f->run_dir), "%s/runs/%s", root, id);
	f->fd = open(f->final, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	f->whole = f->fd >= 0;
	if (f->fd < 0 && errno == ENOENT)
		f->fd = open(part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (f->fd < 0)
		return -errno;
	/* inotify instances are few (fs.inotify.max_user_instances, 128 by
	 * default): past them a follower looks every 200 ms instead */
	if (!f->whole && f->follow) {
		f->ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (f->ino >= 0 &&
		    inotify_add_watch(f->ino, part,
				      IN_MODIFY | IN_CLOSE_WRITE | IN_MOVE_SELF | IN_DELETE_SELF) < 0) {
			close(f->ino);
			f->ino = -1;
		}
	}
	return 0;
}

/* At the end of what was written: true to read again, false when done. */
static bool wait_more(struct follow *f)
{
	if (f->whole || !f->follow)
		return false;
	if (access(f->final, F_OK) == 0) { /* renamed whole: read the rest */
		f->whole = true;
		return true;
	}
	if (access(f->run_dir, F_OK) != 0) /* the run is gone without finishing it */
		return false;
	struct pollfd p[2] = {{.fd = f->ino, .events = POLLIN},
			      {.fd = f->c->fd, .events = POLLIN | POLLRDHUP}};
	int n = poll(p, 2, f->ino >= 0 ? 1000 : 200); /* a negative fd is not polled */
	if (atomic_load(&f->c->r->stopping))
		return false;
	if (n > 0 && p[1].revents) /* the client sends nothing after its request: it went away */
		return false;
	char ev[4096];
	while (f->ino >= 0 && read(f->ino, ev, sizeof(ev)) > 0)
		;
	return true;
}

static void stream(struct follow *f)
{
	char *buf = malloc(CHUNK);
	if (!buf || relay_begin(f->c, "text/plain; charset=utf-8") < 0) {
		free(buf);
		return;
	}
	for (;;) {
		size_t want = f->left >= 0 && f->left < CHUNK ? (size_t)f->left : CHUNK;
		ssize_t n = want ? read(f->fd, buf, want) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break; /* cut short: no last chunk */
		if (n > 0) {
			int w = relay_chunk(f->c, buf, (size_t)n);
			if (w == -ETIMEDOUT)
				relay_log(
				    f->c->r, 1,
				    "relay: the log of run %s was dropped: its client read nothing for %d s",
				    f->id, f->c->r->o.write_timeout_s);
			if (w < 0)
				break;
			if (f->left > 0)
				f->left -= n;
			continue;
		}
		if (f->left == 0 || !wait_more(f)) {
			(void)relay_end(f->c);
			break;
		}
	}
	free(buf);
}

/* A follower may come as the run starts: its executor makes the log a moment
 * after the node agent reported it attaching. */
static int open_soon(struct follow *f, struct relay_conn *c, const char *run_id)
{
	int r = open_log(f, c->r->o.root, run_id);
	for (int waited = 0; r == -ENOENT && f->follow && waited < LOG_WAIT_MS; waited += 100) {
		if (atomic_load(&c->r->stopping))
			break;
		struct pollfd p = {.fd = c->fd, .events = POLLIN | POLLRDHUP};
		if (poll(&p, 1, 100) > 0) /* the client went away */
			return -ECONNRESET;
		r = open_log(f, c->r->o.root, run_id);
	}
	return r;
}

void relay_serve_log(struct relay_conn *c, const char *run_id)
{
	struct follow f = {.c = c, .fd = -1, .ino = -1, .left = -1, .id = run_id};
	int64_t since = 0;
	if (parse_follow(c, &f.follow) < 0 || parse_int(c->query, "sinceBytes", &since, c) < 0 ||
	    parse_int(c->query, "limitBytes", &f.left, c) < 0)
		return;
	int r = open_soon(&f, c, run_id);
	if (r == -ECONNRESET) {
	} else if (r == -ENOENT) {
		char m[256];
		snprintf(m, sizeof(m),
			 "run %s has no log on node %s: it did not start there, or its log was removed "
			 "after its retention",
			 run_id, c->r->o.node);
		relay_status(c, 404, "NotFound", m);
	} else if (r < 0) {
		relay_status(c, 500, "InternalError", strerror(-r));
	} else if (since > 0 && lseek(f.fd, since, SEEK_SET) < 0) {
		relay_status(c, 500, "InternalError", strerror(errno));
	} else {
		stream(&f);
	}
	if (f.fd >= 0)
		close(f.fd);
	if (f.ino >= 0)
		close(f.ino);
}
