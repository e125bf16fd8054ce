/* The run's /out: a tmpfs of its own, made by the executor (fsopen and
 * fsmount: a detached mount it holds an fd of), attached at /out in the
 * run's mount namespace. Its size is the limit on artifacts; its pages are
 * charged to the run's memory cgroup like the writable layer's (its
 * processes fault them in); it is nosuid, nodev and noexec. The executor's
 * fd keeps it readable after the run's namespace is gone, so at the end of
 * the run its regular files and directories are copied into out/<id> on the
 * store (below) and nothing the capsule made is live on the node's disk
 * as it made it. Each file is hashed (sha256) as it is copied: the digest
 * is of the bytes kept, read once. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/sha256.h"
#include "runtime/mounts.h"

/* one inode per 4 KiB of /out, at least this many */
#define OUT_MIN_INODES 1024
/* bytes read, hashed and written at a time */
#define COPY_CHUNK (128 * 1024)
/* a path under /out: RECAP_OUT_MAX_DEPTH directories of NAME_MAX and a file */
#define OUT_PATH_BUF ((RECAP_OUT_MAX_DEPTH + 1) * 256 + 1)

static int config(int fs, const char *key, const char *value, struct recap_error **err)
{
	if (fsconfig(fs, FSCONFIG_SET_STRING, key, value, 0) < 0)
		return recap_error_set_errno(err, errno, "cannot set %s=%s on the /out tmpfs", key, value);
	return 0;
}

int recap_out_make(const char *id, int64_t bytes, int *ret, struct recap_error **err)
{
	_cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return recap_error_set_errno(err, errno, "cannot create the /out tmpfs");
	char source[96], size[32], inodes[32];
	long long n = bytes / 4096 > OUT_MIN_INODES ? bytes / 4096 : OUT_MIN_INODES;
	/* the source names the run in the mount table of whoever looks */
	snprintf(source, sizeof(source), "recap-out-%s", id);
	snprintf(size, sizeof(size), "%lld", (long long)bytes);
	snprintf(inodes, sizeof(inodes), "%lld", n);
	int r = config(fs, "source", source, err);
	if (r >= 0)
		r = config(fs, "size", size, err);
	if (r >= 0)
		r = config(fs, "nr_inodes", inodes, err);
	if (r >= 0)
		r = config(fs, "mode", "0755", err);
	if (r < 0)
		return r;
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return recap_error_set_errno(err, errno, "cannot create the /out tmpfs");
	int m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (m < 0)
		return recap_error_set_errno(err, errno, "cannot mount the /out tmpfs");
	*ret = m;
	return 0;
}

/* The artifacts of a run, from its /out tmpfs (above) into out/<id> on the
 * store, after every process of the run was killed. What the capsule made is
 * never trusted: every entry is opened without following symlinks and
 * checked on its fd; only regular files and directories are kept, owned by
 * the executor, files without execute, setuid, setgid or sticky bits and not
 * writable but by their owner (mode & 0644), directories 0755. Symlinks,
 * device nodes, FIFOs, sockets and mounts are not kept, nor anything deeper than
 * RECAP_OUT_MAX_DEPTH; each is counted. A process outside the run that
 * holds a handle of /out (passed over a socket) may still write it: sizes are
 * counted as copied, so no file (a sparse one, a hard link of another, one
 * that grows) takes the total past the limit. */
struct copy {
	int64_t limit;
	struct recap_out_stats *st;
	uint8_t *buf;		 /* COPY_CHUNK */
	char path[OUT_PATH_BUF]; /* of the directory being copied, under /out */
	size_t plen;
};

/* Not through a symlink, nor into a mount made over part of /out (a run
 * granted SYS_ADMIN can mount; its mounts are gone with its namespace,
 * unless a target pinned that). */
static int src_open(int dir, const char *name, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
}

/* Copies in's bytes to out, at most budget of them (-EFBIG past it),
 * hashing them as they go. */
static int copy_bytes(int in, int out, int64_t budget, uint8_t *buf, struct recap_sha256 *h, int64_t *ret)
{
	int64_t n = 0;
	for (;;) {
		ssize_t got = read(in, buf, COPY_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			break;
		n += got;
		if (n > budget)
			return -EFBIG;
		recap_sha256_update(h, buf, (size_t)got);
		for (ssize_t off = 0; off < got;) {
			ssize_t w = write(out, buf + off, (size_t)(got - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			off += w;
		}
	}
	*ret = n;
	return 0;
}

/* The first RECAP_OUT_LIST_MAX files are listed; a path too long for the
 * list is counted like those past it. */
static void list_file(struct copy *c, const char *name, int64_t size, const uint8_t md[RECAP_SHA256_LEN])
{
	struct recap_out_stats *st = c->st;
	size_t n = strlen(name);
	if (st->listed >= RECAP_OUT_LIST_MAX || c->plen + n + 1 > RECAP_OUT_LIST_PATH_MAX) {
		st->unlisted++;
		return;
	}
	if (!st->list && !(st->list = calloc(RECAP_OUT_LIST_MAX, sizeof(*st->list)))) {
		st->unlisted++;
		return;
	}
	struct recap_out_file *f = &st->list[st->listed];
	if (asprintf(&f->path, "%.*s%s%s", (int)c->plen, c->path, c->plen ? "/" : "", name) < 0) {
		f->path = NULL;
		st->unlisted++;
		return;
	}
	f->size = size;
	int k = snprintf(f->digest, sizeof(f->digest), "sha256:");
	for (int i = 0; i < RECAP_SHA256_LEN; i++)
		k += snprintf(f->digest + k, sizeof(f->digest) - (size_t)k, "%02x", md[i]);
	st->listed++;
}

void recap_out_stats_free(struct recap_out_stats *st)
{
	for (size_t i = 0; st->list && i < st->listed; i++)
		free(st->list[i].path);
	free(st->list);
	st->list = NULL;
	st->listed = 0;
}

static int copy_file(int sdir, int ddir, const char *name, struct copy *c, struct recap_error **err)
{
	_cleanup_close_ int in = src_open(sdir, name, 0);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		c->st->skipped++; /* replaced since it was listed */
		return 0;
	}
	int64_t budget = c->limit - c->st->bytes, n = 0;
	if (st.st_size > budget) {
		c->st->skipped++;
		c->st->over = true;
		return 0;
	}
	_cleanup_close_ int out =
	    openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0644);
	if (out < 0)
		return recap_error_set_errno(err, errno, "cannot create artifact %s", name);
	struct recap_sha256 h;
	recap_sha256_init(&h);
	int r = copy_bytes(in, out, budget, c->buf, &h, &n);
	if (r == -EFBIG) { /* grew while copied */
		(void)unlinkat(ddir, name, 0);
		c->st->skipped++;
		c->st->over = true;
		return 0;
	}
	if (r < 0 || fchmod(out, st.st_mode & 0644) < 0)
		return recap_error_set_errno(err, r < 0 ? -r : errno, "cannot write artifact %s", name);
	uint8_t md[RECAP_SHA256_LEN];
	recap_sha256_final(&h, md);
	c->st->bytes += n;
	c->st->files++;
	list_file(c, name, n, md);
	return 0;
}

static int copy_dir(int sdir, int ddir, unsigned depth, struct copy *c, struct recap_error **err);

static int copy_subdir(int sdir, int ddir, const char *name, unsigned depth, struct copy *c,
		       struct recap_error **err)
{
	if (depth >= RECAP_OUT_MAX_DEPTH) {
		c->st->skipped++;
		return 0;
	}
	_cleanup_close_ int in = src_open(sdir, name, O_DIRECTORY);
	if (in < 0) {
		c->st->skipped++; /* replaced since it was listed */
		return 0;
	}
	if (mkdirat(ddir, name, 0755) < 0)
		return recap_error_set_errno(err, errno, "cannot create artifact directory %s", name);
	_cleanup_close_ int out = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (out < 0 || fchmod(out, 0755) < 0)
		return recap_error_set_errno(err, errno, "cannot open artifact directory %s", name);
	size_t plen = c->plen, n = strlen(name);
	if (plen + n + 2 <= sizeof(c->path)) { /* always, within the depth limit */
		snprintf(c->path + plen, sizeof(c->path) - plen, "%s%s", plen ? "/" : "", name);
		c->plen += n + (plen ? 1 : 0);
	}
	int r = copy_dir(in, out, depth + 1, c, err);
	c->plen = plen;
	c->path[plen] = '\0';
	return r < 0 ? recap_error_wrap(err, r, "in %s", name) : 0;
}

static int copy_entry(int sdir, int ddir, const char *name, unsigned depth, struct copy *c,
		      struct recap_error **err)
{
	struct stat st;
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		c->st->skipped++;
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return copy_subdir(sdir, ddir, name, depth, c, err);
	if (S_ISREG(st.st_mode))
		return copy_file(sdir, ddir, name, c, err);
	c->st->skipped++; /* symlink, device node, FIFO, socket */
	return 0;
}

static int copy_dir(int sdir, int ddir, unsigned depth, struct copy *c, struct recap_error **err)
{
	int fd = dup(sdir);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return recap_error_set_errno(err, e, "cannot read the run's /out");
	}
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			r = copy_entry(sdir, ddir, de->d_name, depth, c, err);
	closedir(d);
	return r;
}

/* An open of its own (not a dup, whose reading position copy_dir would share). */
static bool dir_empty(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return false; /* copy_dir says why */
	}
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)))
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

int recap_out_collect(int out_fd, const char *dest, int64_t limit, struct recap_out_stats *ret,
		      struct recap_error **err)
{
	*ret = (struct recap_out_stats){0};
	/* the mount's fd is an O_PATH one: opened again to be read */
	_cleanup_close_ int sroot = openat(out_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sroot < 0)
		return recap_error_set_errno(err, errno, "cannot open the run's /out");
	/* made only for a run that left something: most leave nothing, and on
	 * the store's ext4 a directory made and removed costs 0.5-1 ms */
	if (dir_empty(sroot))
		return 0;
	if (mkdir(dest, 0755) < 0 && errno != EEXIST)
		return recap_error_set_errno(err, errno, "cannot create %s", dest);
	_cleanup_close_ int ddir = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ddir < 0)
		return recap_error_set_errno(err, errno, "cannot open %s", dest);
	_cleanup_free_ struct copy *c = calloc(1, sizeof(*c));
	_cleanup_free_ uint8_t *buf = malloc(COPY_CHUNK);
	if (!c || !buf)
		return recap_error_set(err, ENOMEM, "out of memory");
	*c = (struct copy){.limit = limit, .st = ret, .buf = buf};
	int r = copy_dir(sroot, ddir, 0, c, err);
	return r < 0 ? recap_error_wrap(err, r, "artifacts of /out into %s", dest) : 0;
}
