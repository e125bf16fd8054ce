/* The supervisor's filters (sandbox.h) and the executor's dumpable flag. */
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
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/runtime.h"
#include "runtime/sandbox.h"

/* The children below end with the bare system call: libc's _exit goes
 * through the sanitizers' exit hooks (a leak check that clones and ptraces),
 * which a filter under test refuses. */
static _Noreturn void raw_exit(int code)
{
	for (;;)
		syscall(SYS_exit_group, code);
}

struct call {
	const char *name;
	long (*fn)(void);
	int want; /* errno, 0 for success, -1 for anything but EPERM */
};

static long get_pid(void)
{
	return syscall(SYS_getpid);
}
static long open_file(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
}
static long make_socket(void)
{
	return syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
}
static long wait_child(void)
{
	return syscall(SYS_wait4, -1, NULL, WNOHANG, NULL);
}
static long signal_self(void)
{
	return syscall(SYS_kill, getpid(), 0);
}
static long fork_raw(void)
{
	return syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, 0) == 0 ? (raw_exit(0), 0) : -1;
}
static long ptrace_parent(void)
{
	return ptrace(PTRACE_ATTACH, getppid(), NULL, NULL);
}
static long vm_read_parent(void)
{
	struct iovec none = {0};
	return syscall(SYS_process_vm_readv, getppid(), &none, 0, &none, 0, 0);
}
static long pidfd_parent(void)
{
	return syscall(SYS_pidfd_open, getppid(), 0);
}
static long pidfd_self(void)
{
	return syscall(SYS_pidfd_open, getpid(), 0);
}

/* Loads ctx in a child, makes the calls there and checks their errnos. */
static void in_child(scmp_filter_ctx ctx, const struct call *c, size_t n)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_load(ctx) < 0)
			raw_exit(2);
		for (size_t i = 0; i < n; i++) {
			int e = c[i].fn() < 0 ? errno : 0;
			if (write(fds[1], &e, sizeof(e)) != sizeof(e))
				raw_exit(3);
		}
		raw_exit(0);
	}
	close(fds[1]);
	for (size_t i = 0; i < n; i++) {
		int e = -2;
		if (read(fds[0], &e, sizeof(e)) != sizeof(e))
			fail_msg("%s: no result from the child", c[i].name);
		if (c[i].want >= 0 ? e != c[i].want : e == EPERM)
			fail_msg("%s: got %s", c[i].name, e ? strerrorname_np(e) : "success");
	}
	close(fds[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The supervisor's loop works; nothing else does. */
static void supervisor_filter_allows_its_loop_only(void **state)
{
	const struct call c[] = {
	    {"getpid", get_pid, 0},	      {"wait4", wait_child, ECHILD},  {"kill", signal_self, 0},
	    {"openat", open_file, EPERM},     {"socket", make_socket, EPERM}, {"clone", fork_raw, EPERM},
	    {"ptrace", ptrace_parent, EPERM},
	};
	scmp_filter_ctx ctx = NULL;
	assert_int_equal(recap_confine_supervisor_filter(&ctx, NULL), 0);
	in_child(ctx, c, ARRAY_SIZE(c));
	seccomp_release(ctx);
}

/* The command's inherited guard: nothing aimed at the supervisor (here the
 * test process, the child's parent), everything else as before. */
static void guard_refuses_what_is_aimed_at_the_supervisor(void **state)
{
	const struct call c[] = {
	    {"ptrace(ATTACH, supervisor)", ptrace_parent, EPERM},
	    {"process_vm_readv(supervisor)", vm_read_parent, EPERM},
	    {"pidfd_open(supervisor)", pidfd_parent, EPERM},
	    {"pidfd_open(self)", pidfd_self, 0},
	    {"openat", open_file, 0},
	};
	scmp_filter_ctx ctx = NULL;
	assert_int_equal(recap_confine_guard_filter(getpid(), &ctx, NULL), 0);
	in_child(ctx, c, ARRAY_SIZE(c));
	seccomp_release(ctx);
}

/* Non-dumpable from the start of a run, before the target is even found
 * (the run below fails there): every child is born so. */
static void executor_is_not_dumpable_from_the_start(void **state)
{
	struct recap_run_spec s;
	recap_spec_init(&s);
	s.target = strdup("recap-no-such-container-0123456789");
	recap_strv_push(&s.layers, "/nonexistent-layer");
	recap_strv_push(&s.command, "true");
	char root[] = "/tmp/recap-confine-XXXXXX";
	assert_non_null(mkdtemp(root));
	struct recap_run_opts o = {.root = root, .stream_out = -1, .stream_err = -1};
	struct recap_run_result res;
	struct recap_error *err = NULL;
	assert_int_equal(prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
	int r = recap_runtime_run(&s, &o, &res, &err);
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	rmdir(root); /* before any assertion: nothing is left when one fails */
	assert_true(r < 0);
	assert_string_equal(res.reason, "TargetNotFound");
	assert_int_equal(dumpable, 0);
	recap_error_free(err);
	recap_runtime_result_free(&res);
	recap_spec_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(supervisor_filter_allows_its_loop_only),
	    cmocka_unit_test(guard_refuses_what_is_aimed_at_the_supervisor),
	    cmocka_unit_test(executor_is_not_dumpable_from_the_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
