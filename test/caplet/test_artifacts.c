/* lib/caplet/artifacts.c, artifacts_tar.c, artifacts_serve.c: the quota,
 * records and removal of a node's artifacts, and their tar stream (read back
 * with libarchive), written in-process and through the helper caplet-tar. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/json.h"
#include "caplet/artifacts.h"
#include "caplet/spec.h"
#include "runtime/runtime.h"

#define ID "ce-0123456789abcdef"

static char root[256];

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void dir(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static bool exists(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/recap-test-artifacts-XXXXXX");
	assert_non_null(mkdtemp(root));
	dir("out");
	dir("logs");
	dir("runs");
	dir("out/" ID);
	dir("out/" ID "/d");
	put("out/" ID "/capture.pcap", "pcap-bytes");
	put("out/" ID "/d/notes.txt", "notes");
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(recap_rmtree(root, NULL), 0);
	return 0;
}

/* The stream, collected; stop_after: refuse the chunk after this many bytes. */
struct sink {
	struct recap_buf b;
	size_t stop_after;
	size_t max_chunk;
};

static int sink_write(const void *buf, size_t len, void *data)
{
	struct sink *s = data;
	if (len > s->max_chunk)
		s->max_chunk = len;
	if (s->stop_after && s->b.len + len > s->stop_after)
		return -1;
	return recap_buf_append(&s->b, buf, len) < 0 ? -1 : 0;
}

/* "name:type:content" lines of the tar in s, in order */
static void read_tar(struct sink *s, char *out, size_t size)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, s->b.data, s->b.len), ARCHIVE_OK);
	struct archive_entry *e;
	size_t n = 0;
	out[0] = '\0';
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		char body[256] = "";
		mode_t t = archive_entry_filetype(e);
		if (t == AE_IFREG) {
			la_ssize_t got = archive_read_data(a, body, sizeof(body) - 1);
			assert_true(got >= 0);
			body[got] = '\0';
		} else if (t == AE_IFLNK) {
			snprintf(body, sizeof(body), "->%s", archive_entry_symlink(e));
		}
		n += (size_t)snprintf(out + n, size - n, "%s:%s:%s\n", archive_entry_pathname(e),
				      t == AE_IFREG   ? "f"
				      : t == AE_IFDIR ? "d"
				      : t == AE_IFLNK ? "l"
						      : "?",
				      body);
	}
	archive_read_free(a);
}

static int stream(const char *path, struct sink *s, struct recap_error **err)
{
	*s = (struct sink){.b = RECAP_BUF_INIT(16 << 20)};
	return recap_caplet_artifacts_tar(root, ID, path, sink_write, s, err);
}

/* entries of a listing, sorted lines (readdir order is the file system's) */
static bool has_line(const char *listing, const char *line)
{
	char want[512];
	snprintf(want, sizeof(want), "%s\n", line);
	return strstr(listing, want) != NULL;
}

static void test_tar_tree(void **state)
{
	struct sink s;
	struct recap_error *err = NULL;
	assert_int_equal(stream(NULL, &s, &err), 0);
	char listing[2048];
	read_tar(&s, listing, sizeof(listing));
	assert_true(has_line(listing, "capture.pcap:f:pcap-bytes"));
	assert_true(has_line(listing, "d/:d:"));
	assert_true(has_line(listing, "d/notes.txt:f:notes"));
	recap_buf_free(&s.b);
	/* the same with /out spelled out */
	assert_int_equal(stream("/out/", &s, &err), 0);
	read_tar(&s, listing, sizeof(listing));
	assert_true(has_line(listing, "d/notes.txt:f:notes"));
	recap_buf_free(&s.b);
}

static void test_tar_path(void **state)
{
	struct sink s;
	struct recap_error *err = NULL;
	char listing[2048];
	assert_int_equal(stream("/out/d/notes.txt", &s, &err), 0);
	read_tar(&s, listing, sizeof(listing));
	assert_string_equal(listing, "d/notes.txt:f:notes\n");
	recap_buf_free(&s.b);
	assert_int_equal(stream("./d//", &s, &err), 0);
	read_tar(&s, listing, sizeof(listing));
	assert_string_equal(listing, "d/:d:\nd/notes.txt:f:notes\n");
	recap_buf_free(&s.b);
	assert_int_equal(stream("missing", &s, &err), -ENOENT);
	assert_non_null(strstr(recap_error_message(err), "missing"));
	recap_error_free(err);
	err = NULL;
	recap_buf_free(&s.b);
	/* a large file goes in bounded chunks */
	char big[512];
	snprintf(big, sizeof(big), "%s/out/" ID "/big", root);
	int fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_int_equal(ftruncate(fd, 5 << 20), 0);
	close(fd);
	assert_int_equal(stream("big", &s, &err), 0);
	assert_true(s.b.len > (5u << 20));
	assert_true(s.max_chunk <= 64 * 1024);
	recap_buf_free(&s.b);
	/* the reader goes away: the stream stops with an error */
	s = (struct sink){.b = RECAP_BUF_INIT(16 << 20), .stop_after = 100000};
	assert_int_equal(recap_caplet_artifacts_tar(root, ID, "big", sink_write, &s, &err), -EPIPE);
	assert_non_null(strstr(recap_error_message(err), "reader"));
	recap_error_free(err);
	recap_buf_free(&s.b);
}

static void refused(const char *path, size_t len, const char *why)
{
	char out[RECAP_CAPLET_ARTIFACT_PATH_MAX];
	struct recap_error *err = NULL;
	assert_int_equal(recap_caplet_artifacts_path(path, len, out, &err), -EINVAL);
	if (!strstr(recap_error_message(err), why))
		fail_msg("'%s': %s (want %s)", path, recap_error_message(err), why);
	recap_error_free(err);
}

static void test_paths_refused(void **state)
{
	refused("../x", 4, "'..'");
	refused("d/../../etc", 11, "'..'");
	refused("/out/..", 7, "'..'");
	refused("/etc/hostname", 13, "outside /out");
	refused("/outside", 8, "outside /out");
	refused("d\0x", 3, "NUL");
	static char longp[RECAP_CAPLET_ARTIFACT_PATH_MAX + 10];
	memset(longp, 'a', sizeof(longp) - 1);
	refused(longp, strlen(longp), "longer than");
	char comp[300];
	memset(comp, 'b', 299);
	comp[299] = '\0';
	refused(comp, 299, "255");
	char out[RECAP_CAPLET_ARTIFACT_PATH_MAX];
	assert_int_equal(recap_caplet_artifacts_path("/out", 4, out, NULL), 0);
	assert_string_equal(out, "");
	assert_int_equal(recap_caplet_artifacts_path("/out/./a//b/", 12, out, NULL), 0);
	assert_string_equal(out, "a/b");
	/* the tar refuses them too, and bad run ids */
	struct sink s;
	struct recap_error *err = NULL;
	assert_int_equal(stream("../../etc/hostname", &s, &err), -EINVAL);
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_caplet_artifacts_tar(root, "../runs", NULL, sink_write, &s, &err), -EINVAL);
	recap_error_free(err);
	recap_buf_free(&s.b);
}

static void test_symlink_is_a_link(void **state)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/out/" ID "/host", root);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	snprintf(p, sizeof(p), "%s/out/" ID "/hostdir", root);
	assert_int_equal(symlink("/etc", p), 0);
	struct sink s;
	struct recap_error *err = NULL;
	char listing[2048];
	assert_int_equal(stream(NULL, &s, &err), 0);
	read_tar(&s, listing, sizeof(listing));
	assert_true(has_line(listing, "host:l:->/etc/hostname"));
	assert_true(has_line(listing, "hostdir:l:->/etc"));
	recap_buf_free(&s.b);
	assert_int_equal(stream("host", &s, &err), 0);
	read_tar(&s, listing, sizeof(listing));
	assert_string_equal(listing, "host:l:->/etc/hostname\n");
	recap_buf_free(&s.b);
	/* through the link: refused, never the host's files */
	assert_true(stream("hostdir/hostname", &s, &err) < 0);
	recap_error_free(err);
	recap_buf_free(&s.b);
	/* out/<id> itself a link: not followed */
	snprintf(p, sizeof(p), "%s/out/ce-link", root);
	assert_int_equal(symlink("/etc", p), 0);
	err = NULL;
	s = (struct sink){.b = RECAP_BUF_INIT(1 << 20)};
	assert_true(recap_caplet_artifacts_tar(root, "ce-link", NULL, sink_write, &s, &err) < 0);
	assert_int_equal(s.b.len, 0);
	recap_error_free(err);
	recap_buf_free(&s.b);
}

static void test_retention(void **state)
{
	int64_t now = (int64_t)time(NULL);
	struct recap_caplet_artifacts_meta m = {
	    .end = now - 100, .expire = now - 10, .ns = "ns", .name = "a"};
	assert_int_equal(recap_caplet_artifacts_meta_write(root, ID, &m, NULL), 0);
	put("logs/" ID, "log of the old run");
	dir("out/ce-fresh");
	put("out/ce-fresh/f", "keep");
	put("logs/ce-fresh", "log");
	m = (struct recap_caplet_artifacts_meta){.end = now, .expire = now + 3600};
	assert_int_equal(recap_caplet_artifacts_meta_write(root, "ce-fresh", &m, NULL), 0);
	/* a run in progress is never touched, nor counted */
	dir("out/ce-running");
	put("out/ce-running/partial", "xx");
	dir("runs/ce-running");
	/* an expired run's log that is a link: removed as a link */
	enum recap_caplet_artifacts_state st;
	int64_t exp;
	assert_int_equal(recap_caplet_artifacts_state(root, ID, now, &st, &exp, NULL), 0);
	assert_int_equal(st, RECAP_CAPLET_ARTIFACTS_EXPIRED);
	assert_int_equal(exp, now - 10);
	assert_int_equal(recap_caplet_artifacts_state(root, "ce-fresh", now, &st, NULL, NULL), 0);
	assert_int_equal(st, RECAP_CAPLET_ARTIFACTS_PRESENT);
	assert_int_equal(recap_caplet_artifacts_state(root, "ce-running", now, &st, NULL, NULL), 0);
	assert_int_equal(st, RECAP_CAPLET_ARTIFACTS_RUNNING);
	assert_int_equal(recap_caplet_artifacts_state(root, "ce-never", now, &st, NULL, NULL), 0);
	assert_int_equal(st, RECAP_CAPLET_ARTIFACTS_NONE);
	struct recap_caplet_artifacts_sweep sw;
	struct recap_error *err = NULL;
	assert_int_equal(recap_caplet_artifacts_sweep(root, now, 3600, &sw, &err), 0);
	assert_int_equal(sw.removed_runs, 1);
	assert_int_equal(sw.removed_bytes,
			 strlen("pcap-bytes") + strlen("notes") + strlen("log of the old run"));
	assert_int_equal(sw.used_bytes, strlen("keep") + strlen("log"));
	assert_false(exists("out/" ID));
	assert_false(exists("logs/" ID));
	assert_true(exists("out/ce-fresh/f") && exists("logs/ce-fresh") && exists("out/ce-running/partial"));
	/* the record stays (410, not 404), across a restart (read from disk) */
	assert_int_equal(recap_caplet_artifacts_state(root, ID, now, &st, NULL, NULL), 0);
	assert_int_equal(st, RECAP_CAPLET_ARTIFACTS_EXPIRED);
	assert_int_equal(recap_caplet_artifacts_check(root, ID, "capture.pcap", now, &st, NULL), 0);
	assert_int_equal(st, RECAP_CAPLET_ARTIFACTS_EXPIRED);
	struct sink s;
	assert_int_equal(stream(NULL, &s, &err), -ESTALE);
	recap_error_free(err);
	err = NULL;
	recap_buf_free(&s.b);
	assert_int_equal(recap_caplet_artifacts_meta_read(root, ID, &m, NULL), 0);
	assert_true(m.removed);
	assert_string_equal(m.ns, "ns");
	/* a second sweep (a restarted agent) removes nothing more */
	assert_int_equal(recap_caplet_artifacts_sweep(root, now, 3600, &sw, &err), 0);
	assert_int_equal(sw.removed_runs, 0);
	/* the fresh run expires an hour later; the tombstone a week after */
	assert_int_equal(recap_caplet_artifacts_sweep(root, now + 3600, 3600, &sw, &err), 0);
	assert_int_equal(sw.removed_runs, 1);
	assert_false(exists("out/ce-fresh") || exists("logs/ce-fresh"));
	assert_int_equal(
	    recap_caplet_artifacts_sweep(root, now + RECAP_CAPLET_TOMBSTONE_SECONDS, 3600, &sw, &err), 0);
	assert_false(exists("out/" ID ".meta"));
	assert_true(exists("out/ce-fresh.meta"));
	assert_int_equal(recap_caplet_artifacts_state(root, ID, now, &st, NULL, NULL), 0);
	assert_int_equal(st, RECAP_CAPLET_ARTIFACTS_NONE);
}

static void test_orphans(void **state)
{
	/* files without a record (the agent stopped before writing it): a
	 * record from their mtime; an old planted link is removed as a link */
	int64_t now = (int64_t)time(NULL);
	char p[512];
	snprintf(p, sizeof(p), "%s/logs/ce-link", root);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	struct recap_caplet_artifacts_sweep sw;
	struct recap_error *err = NULL;
	assert_int_equal(recap_caplet_artifacts_sweep(root, now, 3600, &sw, &err), 0);
	assert_int_equal(sw.removed_runs, 0);
	assert_true(exists("out/" ID ".meta") && exists("out/ce-link.meta"));
	struct recap_caplet_artifacts_meta m;
	assert_int_equal(recap_caplet_artifacts_meta_read(root, ID, &m, NULL), 0);
	assert_true(m.expire >= now + 3600 - 5 && m.expire <= now + 3600 + 5);
	assert_int_equal(recap_caplet_artifacts_sweep(root, now + 4000, 3600, &sw, &err), 0);
	assert_int_equal(sw.removed_runs, 2);
	assert_false(exists("logs/ce-link"));
	assert_false(exists("out/" ID));
	struct stat st;
	assert_int_equal(stat("/etc/hostname", &st), 0); /* the link's target stays */
	/* a record a crash left torn is written again, and expires */
	dir("out/ce-torn");
	put("out/ce-torn/f", "x");
	put("out/ce-torn.meta", "");
	assert_int_equal(recap_caplet_artifacts_sweep(root, now, 3600, &sw, &err), 0);
	assert_int_equal(recap_caplet_artifacts_meta_read(root, "ce-torn", &m, NULL), 0);
	assert_int_equal(recap_caplet_artifacts_sweep(root, now + 4000, 3600, &sw, &err), 0);
	assert_false(exists("out/ce-torn"));
}

static void test_quota(void **state)
{
	const int64_t Mi = 1 << 20, Gi = INT64_C(1) << 30;
	struct recap_caplet_quota q = {.limit = Gi};
	assert_int_equal(recap_caplet_quota_reserve(&q, 64 * Mi), 64 * Mi);
	assert_int_equal(q.reserved, 64 * Mi);
	/* 2 GiB asked against a 1 GiB quota: at most what is left */
	int64_t g = recap_caplet_quota_reserve(&q, 2 * Gi);
	assert_int_equal(g, Gi - 64 * Mi);
	assert_int_equal(q.reserved, Gi);
	/* nothing left: a grant of 0 (the run goes on, keeps nothing) */
	assert_int_equal(recap_caplet_quota_reserve(&q, 64 * Mi), 0);
	/* a run ends having kept 10 bytes: its grant back, the 10 bytes used */
	recap_caplet_quota_release(&q, 64 * Mi, 10);
	assert_int_equal(q.reserved, Gi - 64 * Mi);
	assert_int_equal(q.used, 10);
	assert_int_equal(recap_caplet_quota_reserve(&q, 64 * Mi), 64 * Mi - 10);
	recap_caplet_quota_release(&q, g, 0);
	recap_caplet_quota_release(&q, 64 * Mi - 10, 0);
	assert_int_equal(q.reserved, 0);
	/* less than the executor's smallest /out left: 0 */
	q = (struct recap_caplet_quota){.limit = Gi, .used = Gi - Mi / 2};
	assert_int_equal(recap_caplet_quota_reserve(&q, 64 * Mi), 0);
	assert_int_equal(q.reserved, 0);
	/* the executor spec's outSize, cut to the grant */
	json_t *spec = json_pack("{s:s}", "outSize", "2Gi");
	int64_t n;
	assert_int_equal(recap_caplet_spec_out_size(spec, &n), 0);
	assert_int_equal(n, 2 * Gi);
	recap_caplet_spec_set_out_size(spec, 5 * Mi);
	assert_string_equal(json_string_value(json_object_get(spec, "outSize")), "5242880");
	json_object_del(spec, "outSize");
	assert_int_equal(recap_caplet_spec_out_size(spec, &n), 0);
	assert_int_equal(n, 64 * Mi);
	json_decref(spec);
}

static void test_status_artifacts(void **state)
{
	json_t *res =
	    json_pack("{s:s, s:b, s:i, s:I, s:I, s:[{s:s, s:I, s:s}], s:I}", "reason", "Completed", "escaped",
		      1, "exitCode", 0, "outFiles", (json_int_t)3, "outBytes", (json_int_t)120, "outList",
		      "path", "capture.pcap", "size", (json_int_t)100, "digest",
		      "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		      "outUnlisted", (json_int_t)2);
	struct recap_caplet_times t = {.attach_start_us = 1000000,
				       .end_us = INT64_C(1800000000) * 1000000,
				       .retention_s = 3600,
				       .out_asked = 64 << 20,
				       .out_granted = 8 << 20};
	json_t *st = recap_caplet_status_from_result(res, &t);
	json_t *a = json_object_get(st, "artifacts");
	assert_non_null(a);
	assert_int_equal(json_array_size(json_object_get(a, "files")), 1);
	assert_string_equal(recap_json_str(json_array_get(json_object_get(a, "files"), 0), "path"),
			    "capture.pcap");
	assert_int_equal(recap_json_int(a, "totalBytes", -1), 120);
	assert_int_equal(recap_json_int(a, "filesOmitted", -1), 2);
	assert_string_equal(recap_json_str(a, "expireTime"), "2027-01-15T09:00:00.000000Z");
	assert_non_null(strstr(recap_json_str(st, "message"), "limited /out to 8388608 bytes"));
	json_decref(st);
	/* nothing kept: no artifacts */
	json_object_set_new(res, "outFiles", json_integer(0));
	t.out_granted = t.out_asked;
	st = recap_caplet_status_from_result(res, &t);
	assert_null(json_object_get(st, "artifacts"));
	assert_null(json_object_get(st, "message"));
	json_decref(st);
	json_decref(res);
}

/* The relay's side (artifacts_serve.c): the helper caplet-tar (the build's,
 * given as this test's argument) writes the tar; caplet forwards it. */
static const char *helper;

static bool began;
static int begin_stream(void *stream)
{
	began = true;
	return 0;
}

static int serve(const char *with, const char *path, struct sink *s, struct recap_error **err)
{
	*s = (struct sink){.b = RECAP_BUF_INIT(16 << 20), .stop_after = s->stop_after};
	began = false;
	return recap_caplet_artifacts_serve(root, ID, path, sink_write, s, begin_stream, err, (void *)with);
}

static void script(const char *rel, const char *body)
{
	put(rel, body);
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(chmod(p, 0755), 0);
}

static void test_serve_through_helper(void **state)
{
	struct sink s = {0};
	struct recap_error *err = NULL;
	char listing[2048];
	/* the whole tree, written by caplet-tar and forwarded */
	assert_int_equal(serve(helper, "", &s, &err), 0);
	assert_true(began);
	read_tar(&s, listing, sizeof(listing));
	assert_true(has_line(listing, "capture.pcap:f:pcap-bytes"));
	assert_true(has_line(listing, "d/notes.txt:f:notes"));
	recap_buf_free(&s.b);
	/* a link planted in the store (by something on the node) goes out as a
	 * link through the helper too, never the bytes of the node file it names */
	char link[512];
	snprintf(link, sizeof(link), "%s/out/" ID "/leak", root);
	assert_int_equal(symlink("/etc/hostname", link), 0);
	assert_int_equal(serve(helper, "", &s, &err), 0);
	read_tar(&s, listing, sizeof(listing));
	assert_true(has_line(listing, "leak:l:->/etc/hostname"));
	recap_buf_free(&s.b);
	assert_int_equal(unlink(link), 0);
	/* nothing there: 404 before anything is written, the helper never runs */
	assert_int_equal(serve("/nonexistent/caplet-tar", "/out/none", &s, &err), 404);
	assert_false(began);
	assert_non_null(strstr(recap_error_message(err), "kept no /out/none"));
	recap_error_free(err), err = NULL;
	recap_buf_free(&s.b);
	/* a helper that cannot start */
	assert_true(serve("/nonexistent/caplet-tar", "", &s, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "cannot start /nonexistent/caplet-tar"));
	recap_error_free(err), err = NULL;
	recap_buf_free(&s.b);
	/* a helper that fails midway: the stream is cut, and its message says why */
	script("fails.sh", "#!/bin/sh\nprintf partial\necho 'caplet-tar: the disk went away' >&2\nexit 1\n");
	char fails[512];
	snprintf(fails, sizeof(fails), "%s/fails.sh", root);
	assert_true(serve(fails, "", &s, &err) < 0);
	assert_int_equal(s.b.len, 7);
	assert_string_equal(recap_error_message(err), "caplet-tar: the disk went away");
	recap_error_free(err), err = NULL;
	recap_buf_free(&s.b);
	/* a reader that goes away: the helper is stopped, the stream says so */
	script("endless.sh", "#!/bin/sh\nwhile :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done\n");
	snprintf(fails, sizeof(fails), "%s/endless.sh", root);
	s.stop_after = 4096;
	assert_true(serve(fails, "", &s, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "went away"));
	recap_error_free(err);
	recap_buf_free(&s.b);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-caplet-artifacts CAPLET_TAR\n");
		return 2;
	}
	helper = argv[1];
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tar_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tar_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paths_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_is_a_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_orphans, setup, teardown),
	    cmocka_unit_test(test_quota),
	    cmocka_unit_test(test_status_artifacts),
	    cmocka_unit_test_setup_teardown(test_serve_through_helper, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
