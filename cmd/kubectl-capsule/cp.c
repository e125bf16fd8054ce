/* kubectl capsule cp RUN[:POD]:/out/PATH DEST: a run's artifacts from the
 * node that kept them, through recap-apiserver (capsuleruns/artifacts, a
 * pax tar), extracted as it arrives; DEST - writes a single file's bytes,
 * or the tar itself, to stdout. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/names.h"
#include "api/types.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "kube/stream.h"
#include "objects.h"
#include "sanitize.h"
#include "session.h"
#include "stream.h"
#include "verbs.h"

/* What is queued for libarchive at most: one turn of the loop may deliver
 * much more (an HTTP/2 window, the socket's buffer); past this the stream
 * pauses until the reader took the queue, and the server is held back. */
#define QUEUE_LIMIT (8 * 1024 * 1024)
#define QUEUE_INITIAL (1024 * 1024)

static const char usage[] = "Copy files a CapsuleRun left in /out from the node that kept them.\n"
			    "\n"
			    "usage: kubectl capsule cp RUN[:POD]:/out[/PATH] DEST\n"
			    "       [--kubeconfig FILE] [--context NAME] [-n NS]\n"
			    "\n"
			    "POD names the target when the run has several. /out (or /out/) copies\n"
			    "everything. As kubectl cp: a file goes to DEST, or into DEST when it is an\n"
			    "existing directory; a directory's tree goes into DEST (made when missing).\n"
			    "DEST - writes a single file's bytes to stdout as they arrive (e.g.\n"
			    "  kubectl capsule cp RUN:web-1:/out/capture.pcap - | wireshark -k -i -),\n"
			    "and the tar itself for a directory.\n"
			    "\n"
			    "The files come from the node that ran the target, through the API server's\n"
			    "aggregation layer (capsuleruns/artifacts in subresources.recap.dev: RBAC\n"
			    "'get' on it), once the run ended and while the Capsule's\n"
			    "output.retentionSeconds keeps them. Nothing is written outside DEST:\n"
			    "absolute names, '..' and paths through symbolic links are refused, device\n"
			    "nodes skipped, setuid and setgid bits dropped. Exit status 0 when copied.\n";

struct cp {
	struct session *s;
	struct recap_kube_stream *st;
	bool paused; /* the queue was full: nothing is read until it is taken */
	bool done;
	enum recap_kube_code code;
	long status;
	struct recap_error *err;
	char *q; /* arrived, not yet handed to libarchive */
	size_t q_len, q_cap;
	char *out; /* handed to libarchive: valid until its next read */
	size_t out_cap;
	bool record; /* keep what was handed in seen (DEST -, until the tar or a file is chosen) */
	char *seen;
	size_t seen_len;
	FILE *pass; /* the tar itself goes there as it arrives */
};

static int on_data(const char *p, size_t n, void *userdata)
{
	struct cp *c = userdata;
	if (c->pass) {
		fwrite(p, 1, n, c->pass);
		fflush(c->pass);
		return ferror(c->pass) ? -EPIPE : 0;
	}
	if (c->q_len && c->q_len + n > QUEUE_LIMIT) {
		c->paused = true;
		return RECAP_KUBE_STREAM_PAUSE;
	}
	if (c->q_len + n > c->q_cap) {
		size_t cap = c->q_cap ? c->q_cap : QUEUE_INITIAL;
		while (cap < c->q_len + n)
			cap *= 2;
		char *q = realloc(c->q, cap);
		if (!q)
			return -ENOMEM;
		c->q = q;
		c->q_cap = cap;
	}
	memcpy(c->q + c->q_len, p, n);
	c->q_len += n;
	return 0;
}

static void on_done(enum recap_kube_code code, long status, const struct recap_error *err, void *userdata)
{
	struct cp *c = userdata;
	c->st = NULL;
	c->done = true;
	c->code = code;
	c->status = status;
	if (err)
		recap_error_set(&c->err, recap_error_code(err) ?: EIO, "%s", recap_error_message(err));
}

/* The queue was taken: read again (on_data may run inside). */
static void take_more(struct cp *c)
{
	if (c->paused && c->st) {
		c->paused = false;
		recap_kube_stream_resume(c->st);
	}
}

/* libarchive's read callback: the loop runs until bytes arrived or the
 * stream ended; what arrived is handed over whole. */
static la_ssize_t on_read(struct archive *a, void *userdata, const void **buf)
{
	struct cp *c = userdata;
	while (!c->q_len && !c->done && uv_run(&c->s->loop, UV_RUN_ONCE))
		;
	if (!c->q_len) {
		if (c->done && c->code == RECAP_KUBE_OK)
			return 0;
		archive_set_error(a, EIO, "the stream ended early");
		return ARCHIVE_FATAL;
	}
	char *t = c->out;
	size_t cap = c->out_cap, n = c->q_len;
	c->out = c->q;
	c->out_cap = c->q_cap;
	c->q = t;
	c->q_cap = cap;
	c->q_len = 0;
	take_more(c);
	if (c->record) {
		char *seen = realloc(c->seen, c->seen_len + n);
		if (!seen) {
			archive_set_error(a, ENOMEM, "out of memory");
			return ARCHIVE_FATAL;
		}
		memcpy(seen + c->seen_len, c->out, n);
		c->seen = seen;
		c->seen_len += n;
	}
	*buf = c->out;
	return (la_ssize_t)n;
}

/* Why the copy failed: the server's answer when there was one, else what
 * libarchive (or we) said. */
static int failed(struct cp *c, const char *what, struct recap_error **err)
{
	if (c->done && c->code != RECAP_KUBE_OK) {
		struct recap_error *e = c->err;
		c->err = NULL;
		int r = plugin_stream_result(c->code, c->status, e, err);
		if (r == PLUGIN_STREAM_UNSERVED)
			return recap_error_set(
			    err, ENOTSUP,
			    "cp needs recap-apiserver (subresources.recap.dev), which this "
			    "cluster does not serve");
		return r < 0 ? r : recap_error_set(err, EIO, "%s", what);
	}
	return recap_error_set(err, EIO, "%s", what);
}

static bool bad_name(const char *name)
{
	if (!*name || *name == '/')
		return true;
	for (const char *p = name; *p;) {
		size_t len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += len;
		while (*p == '/')
			p++;
	}
	return false;
}

/* The rest of the entry's data to stdout as it arrives. */
static int data_to(struct cp *c, struct archive *ar, FILE *f, struct recap_error **err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(ar, &buf, &size, &off)) == ARCHIVE_OK) {
		if (fwrite(buf, 1, size, f) != size || fflush(f) != 0)
			return recap_error_set(err, EPIPE, "cannot write to stdout");
	}
	return r == ARCHIVE_EOF ? 0 : failed(c, archive_error_string(ar) ?: "cannot read the tar", err);
}

static int data_to_disk(struct cp *c, struct archive *ar, struct archive *w, const char *name,
			struct recap_error **err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(ar, &buf, &size, &off)) == ARCHIVE_OK) {
		if (archive_write_data_block(w, buf, size, off) < ARCHIVE_OK)
			return recap_error_set(err, EIO, "%s: %s", name, archive_error_string(w));
	}
	if (r != ARCHIVE_EOF)
		return failed(c, archive_error_string(ar) ?: "cannot read the tar", err);
	if (archive_write_finish_entry(w) < ARCHIVE_OK)
		return recap_error_set(err, EIO, "%s: %s", name, archive_error_string(w));
	return 0;
}

/* One entry, named name relative to the current directory (DEST). */
static int write_entry(struct cp *c, struct archive *ar, struct archive *w, struct archive_entry *e,
		       const char *name, struct recap_error **err)
{
	mode_t type = archive_entry_filetype(e);
	if (archive_entry_hardlink(e) || (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)) {
		plugin_printf_safe(stderr, "warning: %s: not a file, directory or symbolic link: skipped\n",
				   archive_entry_pathname(e));
		return 0;
	}
	archive_entry_set_perm(e, archive_entry_perm(e) & 0777); /* no setuid, setgid, sticky */
	archive_entry_set_pathname(e, name);
	if (archive_write_header(w, e) < ARCHIVE_OK)
		return recap_error_set(err, EIO, "%s: %s", name, archive_error_string(w));
	return data_to_disk(c, ar, w, name, err);
}

static int extract(struct cp *c, struct archive *ar, struct archive_entry *e, const struct cp_args *a,
		   bool single, struct recap_error **err)
{
	struct stat st;
	bool dest_dir = stat(a->dest, &st) == 0 && S_ISDIR(st.st_mode);
	_cleanup_free_ char *d1 = strdup(a->dest), *d2 = strdup(a->dest), *p1 = strdup(a->path);
	if (!d1 || !d2 || !p1)
		return recap_error_set(err, ENOMEM, "out of memory");
	const char *dir = a->dest, *name = NULL;
	if (single) {
		dir = dest_dir ? a->dest : dirname(d1);
		name = dest_dir ? basename(p1) : basename(d2);
	} else if (!dest_dir) {
		if (lstat(a->dest, &st) == 0)
			return recap_error_set(err, EEXIST, "%s exists and is not a directory", a->dest);
		if (mkdir(a->dest, 0755) < 0)
			return recap_error_set_errno(err, errno, "cannot make directory %s", a->dest);
	}
	_cleanup_close_ int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (here < 0 || chdir(dir) < 0)
		return recap_error_set_errno(err, errno, "cannot enter %s", dir);
	struct archive *w = archive_write_disk_new();
	int r = w ? 0 : recap_error_set(err, ENOMEM, "out of memory");
	if (r >= 0)
		archive_write_disk_set_options(
		    w, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
			   ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_TIME);
	if (r >= 0 && single)
		r = write_entry(c, ar, w, e, name, err);
	size_t plen = strlen(a->path);
	int h = ARCHIVE_OK;
	for (; r >= 0 && !single && h >= ARCHIVE_WARN; h = archive_read_next_header(ar, &e)) {
		if (h == ARCHIVE_EOF)
			break;
		const char *n = archive_entry_pathname(e) ?: "";
		if (plen && strcmp(n, a->path) == 0)
			continue; /* the directory itself: DEST */
		if (plen && (strncmp(n, a->path, plen) != 0 || n[plen] != '/')) {
			r = recap_error_set(err, EINVAL, "the tar holds %s, which is not under /out/%s", n,
					    a->path);
			break;
		}
		const char *rel = plen ? n + plen + 1 : n;
		if (bad_name(rel)) {
			r = recap_error_set(err, EINVAL, "the tar holds an unsafe name: %s", n);
			break;
		}
		r = write_entry(c, ar, w, e, rel, err);
	}
	if (r >= 0 && h < ARCHIVE_WARN)
		r = failed(c, archive_error_string(ar) ?: "cannot read the tar", err);
	if (w && archive_write_close(w) < ARCHIVE_OK && r >= 0)
		r = recap_error_set(err, EIO, "%s", archive_error_string(w));
	archive_write_free(w);
	if (fchdir(here) < 0 && r >= 0)
		r = recap_error_set_errno(err, errno, "cannot return to the working directory");
	return r;
}

/* DEST -: a single regular file's bytes, else the tar itself. */
static int to_stdout(struct cp *c, struct archive *ar, bool single, struct recap_error **err)
{
	c->record = false;
	if (single)
		return data_to(c, ar, stdout, err);
	/* all handed to libarchive, then what is queued, then the rest as it comes */
	if (fwrite(c->seen, 1, c->seen_len, stdout) != c->seen_len ||
	    fwrite(c->q, 1, c->q_len, stdout) != c->q_len || fflush(stdout) != 0)
		return recap_error_set(err, EPIPE, "cannot write to stdout");
	c->q_len = 0;
	c->pass = stdout;
	take_more(c);
	while (!c->done && uv_run(&c->s->loop, UV_RUN_ONCE))
		;
	if (c->code != RECAP_KUBE_OK)
		return failed(c, "the stream ended early", err);
	return 0;
}

static int copy(struct cp *c, const struct cp_args *a, const char *path, struct recap_error **err)
{
	struct recap_kube_stream_options o = {.on_data = on_data, .on_done = on_done, .userdata = c};
	c->record = strcmp(a->dest, "-") == 0;
	int r = recap_kube_stream_get(c->s->c, path, &o, &c->st, err);
	if (r < 0)
		return r;
	struct archive *ar = archive_read_new();
	if (!ar)
		return recap_error_set(err, ENOMEM, "out of memory");
	archive_read_support_format_tar(ar);
	struct archive_entry *e = NULL;
	if (archive_read_open(ar, c, NULL, on_read, NULL) != ARCHIVE_OK ||
	    (r = archive_read_next_header(ar, &e)) < ARCHIVE_OK)
		r = failed(c, archive_error_string(ar) ?: "cannot read the tar", err);
	else if (r == ARCHIVE_EOF)
		r = recap_error_set(err, ENOENT, "nothing to copy at /out/%s", a->path);
	else {
		const char *name = archive_entry_pathname(e) ?: "";
		mode_t type = archive_entry_filetype(e);
		bool single = a->path[0] && strcmp(name, a->path) == 0 && type != AE_IFDIR;
		if (strcmp(a->dest, "-") == 0)
			r = to_stdout(c, ar, single && type == AE_IFREG, err);
		else if (single && bad_name(name))
			r = recap_error_set(err, EINVAL, "the tar holds an unsafe name: %s", name);
		else
			r = extract(c, ar, e, a, single, err);
	}
	archive_read_free(ar);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The run's only target; several are named, sorted. */
static int pick_pod(struct session *s, struct cp_args *a, struct recap_error **err)
{
	char selector[320];
	snprintf(selector, sizeof(selector), RECAP_LABEL_RUN "=%s", a->run);
	_cleanup_json_ json_t *execs = NULL;
	int r = session_list(s, &plugin_res_executions, s->ns, selector, NULL, &execs, err);
	if (r < 0)
		return recap_error_wrap(err, r, "listing the executions of run %s", a->run);
	json_t *items = json_object_get(execs, "items"), *e;
	_cleanup_free_ const char **pods = calloc(json_array_size(items) + 1, sizeof(char *));
	if (!pods)
		return recap_error_set(err, ENOMEM, "out of memory");
	size_t i, n = 0;
	json_array_foreach (items, i, e) {
		const char *pod = recap_json_str(e, "spec.target.pod");
		bool seen = false;
		for (size_t k = 0; pod && k < n && !seen; k++)
			seen = strcmp(pods[k], pod) == 0;
		if (pod && !seen)
			pods[n++] = pod;
	}
	if (n == 0)
		return recap_error_set(err, ENOENT, "run %s has no target with files (no execution)", a->run);
	if (n == 1) {
		snprintf(a->pod, sizeof(a->pod), "%s", pods[0]);
		return 0;
	}
	qsort(pods, n, sizeof(*pods), by_name);
	char names[512] = "";
	for (i = 0; i < n && strlen(names) + strlen(pods[i]) + 8 < sizeof(names); i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? ", " : "",
			 pods[i]);
	if (i < n)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), ", ...");
	return recap_error_set(err, EINVAL, "run %s has %zu targets (%s): name one, as %s:POD:/out/%s",
			       a->run, n, names, a->run, a->path);
}

static int artifacts_path(char *out, size_t len, const char *ns, const struct cp_args *a)
{
	int n = snprintf(out, len, "/apis/%s/namespaces/%s/capsuleruns/%s/artifacts?target=%s",
			 RECAP_SUBRESOURCES_GROUP_VERSION, ns, a->run, a->pod);
	if (a->path[0])
		n += snprintf(out + n, len - (size_t)n, "&path=");
	for (const char *p = a->path; *p && (size_t)n + 4 < len; p++)
		n +=
		    snprintf(out + n, len - (size_t)n,
			     strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/", *p)
				 ? "%c"
				 : "%%%02X",
			     (unsigned char)*p);
	return (size_t)n + 4 < len ? 0 : -1;
}

int plugin_verb_cp(int argc, char **argv)
{
	struct cp_args a = {0};
	struct recap_error *err = NULL;
	if (plugin_parse_cp(argc, argv, &a, &err) < 0)
		return plugin_fail(err, 2);
	if (a.g.help) {
		fputs(usage, stdout);
		return 0;
	}
	struct session s;
	int r = session_open(&s, &a.g, &err);
	if (r >= 0)
		r = session_get(&s, &plugin_res_runs, s.ns, "capsulerun", a.run, NULL, &err);
	if (r >= 0 && !a.pod[0])
		r = pick_pod(&s, &a, &err);
	char path[PLUGIN_CP_PATH_MAX * 3 + 1024];
	if (r >= 0 && artifacts_path(path, sizeof(path), s.ns, &a) < 0)
		r = recap_error_set(&err, ENAMETOOLONG, "the path is too long");
	struct cp c = {.s = &s};
	if (r >= 0)
		r = copy(&c, &a, path, &err);
	if (c.st)
		recap_kube_stream_cancel(c.st);
	recap_error_free(c.err);
	free(c.q);
	free(c.out);
	free(c.seen);
	session_close(&s);
	return r < 0 ? plugin_fail(err, 1) : 0;
}
