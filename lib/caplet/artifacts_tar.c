/* A run's artifacts as a tar stream (artifacts.h). The store's out/<id>/
 * holds only what the executor copied (regular files and directories), but
 * nothing here relies on it: every entry is opened beneath out/<id> with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
 * and O_NOFOLLOW, checked on its fd, and a symlink found there becomes a
 * symlink entry, never its target's bytes. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "caplet/artifacts.h"
#include "caplet/artifacts_internal.h"

#define CHUNK (64 * 1024)
#define TAR_MAX_DEPTH 64

struct tar {
	struct archive *a;
	struct archive_entry *e;
	recap_caplet_write_fn write;
	void *userdata;
	bool refused; /* the reader went away */
	uint8_t *buf;
	char name[RECAP_CAPLET_ARTIFACT_PATH_MAX + 512];
	struct recap_error **err;
};

static la_ssize_t on_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct tar *t = data;
	(void)a;
	if (t->refused)
		return -1;
	for (size_t done = 0; done < len;) {
		size_t n = len - done < CHUNK ? len - done : CHUNK;
		if (t->write((const char *)buf + done, n, t->userdata) < 0) {
			t->refused = true;
			return -1;
		}
		done += n;
	}
	return (la_ssize_t)len;
}

static int tar_failed(struct tar *t, const char *what)
{
	if (t->refused)
		return recap_error_set(t->err, EPIPE, "the reader stopped taking the stream (at %s)", what);
	return recap_error_set(t->err, EIO, "cannot write the tar entry %s: %s", what,
			       archive_error_string(t->a) ?: "unknown error");
}

static int header(struct tar *t, const struct stat *st, mode_t type, const char *link)
{
	archive_entry_clear(t->e);
	archive_entry_set_pathname(t->e, t->name);
	archive_entry_set_filetype(t->e, type);
	archive_entry_set_perm(t->e, st->st_mode & 07777);
	archive_entry_set_size(t->e, type == AE_IFREG ? st->st_size : 0);
	archive_entry_set_mtime(t->e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	archive_entry_set_uid(t->e, 0);
	archive_entry_set_gid(t->e, 0);
	if (link)
		archive_entry_set_symlink(t->e, link);
	return archive_write_header(t->a, t->e) == ARCHIVE_OK ? 0 : tar_failed(t, t->name);
}

/* The file's bytes, at most its size as its header said (a file that grew
 * meanwhile is cut; one that shrank is padded by libarchive). */
static int file_body(struct tar *t, int fd, int64_t size)
{
	int64_t left = size;
	while (left > 0) {
		ssize_t n = read(fd, t->buf, left < CHUNK ? (size_t)left : CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return recap_error_set_errno(t->err, errno, "cannot read artifact %s", t->name);
		if (n == 0)
			break;
		if (archive_write_data(t->a, t->buf, (size_t)n) < 0)
			return tar_failed(t, t->name);
		left -= n;
	}
	return archive_write_finish_entry(t->a) == ARCHIVE_OK ? 0 : tar_failed(t, t->name);
}

static int entry(struct tar *t, int dir, const char *name, int depth);

static int dir_body(struct tar *t, int fd, int depth)
{
	int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return recap_error_set_errno(t->err, errno, "cannot read artifact directory %s", t->name);
	}
	size_t len = strlen(t->name);
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		size_t n = strlen(de->d_name);
		if (len + n + 2 > sizeof(t->name)) {
			r = recap_error_set(t->err, ENAMETOOLONG, "artifact path %s/%s is too long", t->name,
					    de->d_name);
			break;
		}
		snprintf(t->name + len, sizeof(t->name) - len, "%s%s", len ? "/" : "", de->d_name);
		r = entry(t, fd, de->d_name, depth + 1);
		t->name[len] = '\0';
	}
	closedir(d);
	return r;
}

/* One entry of dir, named t->name in the tar; name is resolved beneath dir
 * (it may have several components only at the top). */
static int entry(struct tar *t, int dir, const char *name, int depth)
{
	int fd = recap_caplet_artifacts_beneath(dir, name, O_PATH);
	if (fd < 0)
		return recap_error_set_errno(t->err, -fd, "cannot open artifact %s", t->name);
	_cleanup_close_ int pfd = fd;
	struct stat st;
	if (fstat(pfd, &st) < 0)
		return recap_error_set_errno(t->err, errno, "stat artifact %s", t->name);
	if (S_ISLNK(st.st_mode)) {
		char link[4097];
		ssize_t n = readlinkat(pfd, "", link, sizeof(link) - 1);
		if (n < 0)
			return recap_error_set_errno(t->err, errno, "cannot read the link %s", t->name);
		link[n] = '\0';
		return header(t, &st, AE_IFLNK, link);
	}
	if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int in =
		    recap_caplet_artifacts_beneath(dir, name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
		struct stat st2;
		if (in < 0 || fstat(in, &st2) < 0 || st2.st_ino != st.st_ino || st2.st_dev != st.st_dev)
			return recap_error_set(t->err, EAGAIN, "artifact %s changed while it was read",
					       t->name);
		int r = header(t, &st2, AE_IFREG, NULL);
		return r < 0 ? r : file_body(t, in, st2.st_size);
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth > TAR_MAX_DEPTH)
			return recap_error_set(t->err, ELOOP, "artifact %s is nested too deep", t->name);
		_cleanup_close_ int in = recap_caplet_artifacts_beneath(dir, name, O_RDONLY | O_DIRECTORY);
		if (in < 0)
			return recap_error_set_errno(t->err, -in, "cannot open artifact directory %s",
						     t->name);
		int r = t->name[0] ? header(t, &st, AE_IFDIR, NULL) : 0;
		return r < 0 ? r : dir_body(t, in, depth);
	}
	return 0; /* a device node, FIFO or socket is never streamed */
}

static int tar_run(struct tar *t, int run, const char *rel)
{
	if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open(t->a, t, NULL, on_write, NULL) != ARCHIVE_OK)
		return tar_failed(t, "the archive's start");
	snprintf(t->name, sizeof(t->name), "%s", rel);
	int r = entry(t, run, rel[0] ? rel : ".", 0);
	if (r < 0)
		return r;
	return archive_write_close(t->a) == ARCHIVE_OK ? 0 : tar_failed(t, "the archive's end");
}

int recap_caplet_artifacts_tar(const char *root, const char *run_id, const char *path,
			       recap_caplet_write_fn write, void *userdata, struct recap_error **err)
{
	char rel[RECAP_CAPLET_ARTIFACT_PATH_MAX];
	int r = recap_caplet_artifacts_path(path ? path : "", path ? strlen(path) : 0, rel, err);
	if (r < 0)
		return r;
	enum recap_caplet_artifacts_state s;
	int64_t expire;
	r = recap_caplet_artifacts_state(root, run_id, (int64_t)time(NULL), &s, &expire, err);
	if (r < 0)
		return r;
	if (s == RECAP_CAPLET_ARTIFACTS_EXPIRED)
		return recap_error_set(err, ESTALE, "the artifacts of run %s expired", run_id);
	if (s == RECAP_CAPLET_ARTIFACTS_RUNNING)
		return recap_error_set(err, EBUSY, "run %s has not ended", run_id);
	_cleanup_close_ int run = recap_caplet_artifacts_open_run(root, run_id, err);
	if (run < 0)
		return run;
	struct tar t = {.write = write, .userdata = userdata, .err = err};
	t.a = archive_write_new();
	t.e = archive_entry_new();
	t.buf = malloc(CHUNK);
	if (!t.a || !t.e || !t.buf)
		r = recap_error_set(err, ENOMEM, "out of memory");
	else
		r = tar_run(&t, run, rel);
	/* after a failure the end of the archive is not written (the writer
	 * refuses it), so the reader sees a cut stream; archive_write_fail()
	 * would say the same but leaks the pax writer's buffers */
	if (r < 0)
		t.refused = true;
	if (t.a)
		archive_write_free(t.a);
	archive_entry_free(t.e);
	free(t.buf);
	return r;
}
