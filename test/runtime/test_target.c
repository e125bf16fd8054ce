#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/target.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void runtime_namings(void **state)
{
	const char *match[] = {
	    "0::/system.slice/containerd.service/kubepods-burstable-pod1.slice:cri-containerd:" ID "\n",
	    "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-" ID ".scope\n",
	    "0::/kubepods.slice/kubepods-pod1.slice/crio-" ID ".scope\n",
	    "0::/system.slice/docker-" ID ".scope\n",
	    "12:memory:/docker/" ID "\n0::/\n",
	    "0::/machine.slice/libpod-" ID ".scope/container\n",
	    "0::/user.slice/" ID "\n",
	    "1:name=systemd:/kubepods/besteffort/pod1/" ID "\n",
	};
	for (size_t i = 0; i < sizeof(match) / sizeof(match[0]); i++)
		if (!recap_target_cgroup_matches(match[i], ID))
			fail_msg("should match: %s", match[i]);
	const char *nomatch[] = {
	    "0::/docker/" ID "0\n", "0::/docker/x" ID "\n", "0::/\n", "", "0::/crio-conmon-" ID ".scope\n",
	};
	for (size_t i = 0; i < sizeof(nomatch) / sizeof(nomatch[0]); i++)
		if (recap_target_cgroup_matches(nomatch[i], ID))
			fail_msg("should not match: %s", nomatch[i]);
	assert_false(recap_target_cgroup_matches("0::/abc\n", ""));
}

/* the fake /proc, removed by the teardown also when an assert failed */
static char dir[64];

static int remove_dir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return dir[0] && system(cmd) != 0 ? -1 : 0;
}

static void write_file(const char *root, const char *pid, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/cgroup", root, pid);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void finds_in_a_proc_tree(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/recap-target-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_file(dir, "999999", "0::/other\n");
	write_file(dir, "999998", "0::/system.slice/docker-" ID ".scope\n");
	pid_t pid = 0;
	assert_int_equal(recap_target_find_container(dir, ID, &pid, NULL), 0);
	assert_int_equal(pid, 999998);
	struct recap_error *err = NULL;
	assert_int_equal(recap_target_find_container(dir, "nope", &pid, &err), -ESRCH);
	assert_non_null(strstr(recap_error_message(err), "'nope'"));
	recap_error_free(err);
}

static void resolves_a_live_pid(void **state)
{
	struct recap_target t;
	char self[16];
	snprintf(self, sizeof(self), "%d", (int)getpid());
	assert_int_equal(recap_target_resolve(self, &t, NULL), 0);
	assert_int_equal(t.pid, getpid());
	assert_true(t.pidfd >= 0);
	assert_int_equal(recap_target_alive(&t), 0);
	recap_target_release(&t);
	assert_int_equal(t.pidfd, -1);
	struct recap_error *err = NULL;
	assert_true(recap_target_resolve("2147483647", &t, &err) < 0);
	recap_error_free(err);
}

/* A confirmed PID is held and checked against the container id in its own
 * cgroup file: a live process of another cgroup is refused, nothing is
 * scanned. */
static void resolves_a_confirmed_pid(void **state)
{
	struct recap_target t;
	struct recap_error *err = NULL;
	assert_int_equal(recap_target_resolve_pid("0123456789abcdef-not-here", getpid(), &t, &err), -ESRCH);
	assert_non_null(strstr(recap_error_message(err), "is not in container"));
	recap_error_free(err);
	err = NULL;
	assert_int_equal(recap_target_resolve_pid("abc", 2147483647, &t, &err), -ESRCH);
	recap_error_free(err);
}

/* A child moved into a cgroup named like a container (a v1 pids hierarchy,
 * or the v2 tree) is found by that id; root only. */
static void resolves_a_pid_in_its_container(void **state)
{
	const char *roots[] = {"/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	char id[64], cgdir[256], procs[300];
	snprintf(id, sizeof(id), "recaptest%d0a1b2c3d", (int)getpid());
	size_t i = 0;
	for (; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(cgdir, sizeof(cgdir), "%s/cri-containerd-%s.scope", roots[i], id);
		if (mkdir(cgdir, 0755) == 0)
			break;
	}
	if (i == sizeof(roots) / sizeof(roots[0]))
		skip(); /* no cgroup hierarchy we may write (not root) */
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgdir);
	FILE *f = fopen(procs, "we");
	bool moved = f && fprintf(f, "%d\n", (int)child) > 0 && fclose(f) == 0;
	struct recap_target t = {.pidfd = -1};
	int r = moved ? recap_target_resolve_pid(id, child, &t, NULL) : -1;
	int other = moved ? recap_target_resolve_pid("recaptest-another", child, &t, NULL) : -1;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	rmdir(cgdir);
	assert_true(moved);
	assert_int_equal(r, 0);
	assert_int_equal(t.pid, child);
	assert_int_equal(other, -ESRCH);
	recap_target_release(&t);
}

/* The start time is field 22 of /proc/<pid>/stat (not the next one, the
 * virtual size: a process that maps memory must not look like another). */
static void start_time_is_field_22(void **state)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "re");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	char *p = strrchr(buf, ')') + 2;
	unsigned long long want = 0;
	for (int field = 3; field <= 22; field++, p = strchr(p, ' ') + 1)
		if (field == 22)
			want = strtoull(p, NULL, 10);
	uint64_t st = 0, again = 0;
	assert_int_equal(recap_pid_start_time(getpid(), &st), 0);
	assert_int_equal(st, want);
	void *m = mmap(NULL, 64 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(recap_pid_start_time(getpid(), &again), 0);
	munmap(m, 64 << 20);
	assert_int_equal(again, st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(runtime_namings),
	    cmocka_unit_test_teardown(finds_in_a_proc_tree, remove_dir),
	    cmocka_unit_test(resolves_a_live_pid),
	    cmocka_unit_test(resolves_a_confirmed_pid),
	    cmocka_unit_test(resolves_a_pid_in_its_container),
	    cmocka_unit_test(start_time_is_field_22),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
