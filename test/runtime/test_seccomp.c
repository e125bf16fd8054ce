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
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "runtime/sandbox.h"
#include "runtime/seccomp_builtin.h"

/* The children below end with the bare system call: libc's _exit goes
 * through the sanitizers' exit hooks (a leak check that clones and ptraces),
 * which a filter under test refuses. */
static _Noreturn void raw_exit(int code)
{
	for (;;)
		syscall(SYS_exit_group, code);
}

static int build(const char *text, uint64_t caps, struct recap_error **err)
{
	json_t *doc = NULL;
	int r = recap_json_parse(text, strlen(text), 1 << 20, &doc, err);
	scmp_filter_ctx ctx = NULL;
	if (r >= 0)
		r = recap_seccomp_from_oci(doc, caps, &ctx, err);
	if (ctx)
		seccomp_release(ctx);
	json_decref(doc);
	return r;
}

static void oci_profiles(void **state)
{
	assert_int_equal(
	    build("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
		  "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
		  "\"syscalls\":[{\"names\":[\"read\",\"write\",\"no_such_call\"],\"action\":\"SCMP_ACT_"
		  "ALLOW\"},"
		  "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
		  "\"value\":8,\"op\":\"SCMP_CMP_EQ\"}]},"
		  "{\"names\":[\"ptrace\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":"
		  "[\"CAP_SYS_PTRACE\"]}}]}",
		  0, NULL),
	    0);
}

static void bad_profiles_name_the_problem(void **state)
{
	const char *bad[][2] = {
	    {"{}", "defaultAction"},
	    {"{\"defaultAction\":\"SCMP_ACT_MAYBE\"}", "SCMP_ACT_MAYBE"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}", "SCMP_ARCH_VAX"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}", "'syscalls'"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"X\"}]}",
	     "syscalls[0]"},
	    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":"
	     "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":9,\"op\":\"SCMP_CMP_EQ\"}]}]}",
	     "args[0]"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct recap_error *err = NULL;
		assert_true(build(bad[i][0], 0, &err) < 0);
		if (!strstr(recap_error_message(err), bad[i][1]))
			fail_msg("%s: '%s' lacks %s", bad[i][0], recap_error_message(err), bad[i][1]);
		recap_error_free(err);
	}
}

static void default_profile_builds(void **state)
{
	struct recap_run_spec s;
	recap_spec_init(&s);
	scmp_filter_ctx ctx = NULL;
	assert_int_equal(recap_seccomp_build(&s, 0, &ctx, NULL), 0);
	assert_non_null(ctx);
	seccomp_release(ctx);
	s.seccomp = RECAP_SECCOMP_UNCONFINED;
	assert_int_equal(recap_seccomp_build(&s, 0, &ctx, NULL), 0);
	assert_null(ctx);
	struct recap_error *err = NULL;
	assert_int_equal(recap_spec_parse_seccomp(&s, "/nonexistent/profile.json", NULL), 0);
	assert_true(recap_seccomp_build(&s, 0, &ctx, &err) < 0);
	assert_non_null(strstr(recap_error_message(err), "/nonexistent/profile.json"));
	recap_error_free(err);
	recap_spec_free(&s);
}

/* A system call with harmless arguments, and the errno expected. */
struct probe {
	const char *name;
	long (*call)(void);
	int want; /* 0: passes the filter (any result but EPERM/ENOSYS) */
};

static long io_uring(void)
{
	struct io_uring_params p = {0};
	return syscall(SYS_io_uring_setup, 1, &p);
}
static long keyctl(void)
{
	return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}
static long uffd(void)
{
	return syscall(SYS_userfaultfd, O_CLOEXEC);
}
static long kexec(void)
{
	return syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0x8000);
}
static long unshare_none(void)
{
	return unshare(0);
}
static long clone3_none(void)
{
	return syscall(SYS_clone3, NULL, 0); /* EFAULT/EINVAL when let through */
}
static long clone_newuser(void)
{
	return syscall(SYS_clone, CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD, (void *)1, NULL, NULL, 0) == 0
		   ? (raw_exit(0), 0)
		   : -1;
}
static long ptrace_self(void)
{
	return syscall(SYS_ptrace, 3 /* PTRACE_PEEKUSER */, getpid(), NULL, NULL);
}
static long modify_ldt(void)
{
	char buf[16];
	return syscall(SYS_modify_ldt, 0, buf, sizeof(buf));
}
static long unknown_nr(void)
{
	return syscall(1000);
}
static long umount_none(void)
{
	return syscall(SYS_umount2, "/recap-no-such-dir", 0);
}
static long get_pid(void)
{
	return syscall(SYS_getpid);
}
static long x32_getpid(void)
{
	return syscall(0x40000000 | SYS_getpid);
}

/* Loads the program in a child, as the run's supervisor loads the
 * command's, and makes the calls there: their errnos in ret. */
static void in_child(const struct recap_bpf *prog, const struct probe *p, size_t n, int *ret)
{
	assert_non_null(prog->insns);
	assert_true(prog->len > 0);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		/* a program that refused exit_group would leave raw_exit spinning:
		 * SIGALRM's default action ends the child without a system call */
		alarm(20);
		if (recap_bpf_load(prog) < 0 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
			raw_exit(2);
		for (size_t i = 0; i < n; i++) {
			errno = 0;
			int e = p[i].call() < 0 ? errno : 0;
			if (write(fds[1], &e, sizeof(e)) != sizeof(e))
				raw_exit(3);
		}
		raw_exit(0);
	}
	close(fds[1]);
	for (size_t i = 0; i < n; i++)
		if (read(fds[0], &ret[i], sizeof(ret[i])) != sizeof(ret[i]))
			ret[i] = -1;
	close(fds[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The default profile's program for caps, as a run takes it (built in, or
 * built now). */
static void expect(uint64_t caps, const struct probe *p, size_t n)
{
	struct recap_bpf prog = {0};
	assert_int_equal(recap_seccomp_default_bpf(caps, &prog, NULL), 0);
	int got[16];
	assert_true(n <= 16);
	in_child(&prog, p, n, got);
	recap_bpf_free(&prog);
	for (size_t i = 0; i < n; i++) {
		bool ok = p[i].want ? got[i] == p[i].want : got[i] != EPERM && got[i] != ENOSYS;
		if (!ok)
			fail_msg("caps %#llx: %s gave %s, want %s", (unsigned long long)caps, p[i].name,
				 got[i] ? strerrorname_np(got[i]) : "success",
				 p[i].want ? strerrorname_np(p[i].want) : "to pass");
	}
}

/* ENOSYS for what no list names, EPERM for what is refused. */
static void default_profile_is_an_allow_list(void **state)
{
	const struct probe p[] = {
	    {"getpid", get_pid, 0},
	    {"unknown syscall 1000", unknown_nr, ENOSYS},
	    {"modify_ldt (on no list)", modify_ldt, ENOSYS},
	    {"io_uring_setup", io_uring, EPERM},
	    {"keyctl", keyctl, EPERM},
	    {"userfaultfd", uffd, EPERM},
	    {"kexec_file_load", kexec, EPERM},
	    {"unshare", unshare_none, EPERM},
	    {"umount2", umount_none, EPERM},
	    {"clone3", clone3_none, ENOSYS},
	    {"clone(CLONE_NEWUSER)", clone_newuser, EPERM},
	    {"ptrace", ptrace_self, EPERM},
	};
	expect(recap_caps_default(), p, ARRAY_SIZE(p));
}

/* Every capability: the gated calls pass, the refused ones stay refused. */
static void capabilities_never_open_the_refused_calls(void **state)
{
	const struct probe p[] = {
	    {"io_uring_setup", io_uring, EPERM},
	    {"keyctl", keyctl, EPERM},
	    {"userfaultfd", uffd, EPERM},
	    {"kexec_file_load", kexec, EPERM},
	    {"x32 getpid", x32_getpid, 0 /* below */},
	    {"unshare", unshare_none, 0},
	    {"clone3", clone3_none, 0},
	    {"ptrace", ptrace_self, 0},
	    {"umount2", umount_none, EPERM},
	};
	int got[ARRAY_SIZE(p)];
	struct recap_bpf prog = {0};
	assert_int_equal(recap_seccomp_default_bpf(~0ull, &prog, NULL), 0);
	in_child(&prog, p, ARRAY_SIZE(p), got);
	recap_bpf_free(&prog);
	for (size_t i = 0; i < ARRAY_SIZE(p); i++) {
		bool ok = i == 4      ? got[i] == EPERM || got[i] == ENOSYS
			  : p[i].want ? got[i] == p[i].want
				      : got[i] != EPERM && got[i] != ENOSYS;
		if (!ok)
			fail_msg("all caps: %s gave %s", p[i].name,
				 got[i] ? strerrorname_np(got[i]) : "success");
	}
}

/* The program libseccomp builds now for the default profile and caps. */
static void built_now(uint64_t caps, struct recap_bpf *ret)
{
	scmp_filter_ctx ctx = NULL;
	assert_int_equal(recap_seccomp_default(caps, &ctx, NULL), 0);
	assert_int_equal(recap_bpf_compile(ctx, ret), 0);
	seccomp_release(ctx);
}

static bool same_program(const struct recap_bpf *a, const struct recap_bpf *b)
{
	return a->len == b->len && memcmp(a->insns, b->insns, a->len * sizeof(*a->insns)) == 0;
}

/* A capability outside recap_seccomp_default_caps() changes nothing in the
 * default profile: the built-in programs are looked up by those alone. */
static void only_the_named_capabilities_change_the_default_profile(void **state)
{
	uint64_t named = recap_seccomp_default_caps();
	assert_true(named & (1ull << CAP_SYS_PTRACE));
	assert_true(named & (1ull << CAP_SYS_ADMIN));
	struct recap_bpf base = {0};
	built_now(recap_caps_default(), &base);
	for (int c = 0; c <= CAP_LAST_CAP; c++) {
		uint64_t bit = 1ull << c;
		struct recap_bpf with = {0};
		built_now(recap_caps_default() | bit, &with);
		if (!(named & bit) && !same_program(&base, &with))
			fail_msg(
			    "capability %d is not in recap_seccomp_default_caps() but changes the profile",
			    c);
		if ((named & bit) && same_program(&base, &with))
			fail_msg("capability %d is in recap_seccomp_default_caps() but changes nothing", c);
		recap_bpf_free(&with);
	}
	recap_bpf_free(&base);
}

/* Every built-in program is the one libseccomp builds now for its
 * capabilities, with or without capabilities that change nothing; a set no
 * built-in program covers is built now. */
static void builtin_programs_are_what_libseccomp_builds(void **state)
{
	const uint64_t others[] = {0, 1ull << CAP_NET_ADMIN,
				   (1ull << CAP_NET_RAW) | (1ull << CAP_SYS_RESOURCE)};
	assert_true(recap_seccomp_builtins_len >= 2);
	for (size_t i = 0; i < recap_seccomp_builtins_len; i++) {
		const struct recap_seccomp_builtin *b = &recap_seccomp_builtins[i];
		for (size_t o = 0; o < ARRAY_SIZE(others); o++) {
			uint64_t caps = recap_caps_default() | b->caps | others[o];
			assert_ptr_equal(recap_seccomp_builtin_find(caps), b);
			struct recap_bpf now = {0}, taken = {0};
			built_now(caps, &now);
			assert_int_equal(recap_seccomp_default_bpf(caps, &taken, NULL), 0);
			if (!same_program(&now, &taken))
				fail_msg("built-in program for caps %#llx differs from libseccomp's",
					 (unsigned long long)caps);
			assert_ptr_not_equal(taken.insns, b->insns); /* a copy the run may free */
			recap_bpf_free(&now);
			recap_bpf_free(&taken);
		}
	}
	assert_non_null(recap_seccomp_builtin_find(recap_caps_default()));
	assert_non_null(recap_seccomp_builtin_find(recap_caps_default() | (1ull << CAP_SYS_PTRACE)));
	uint64_t two = recap_caps_default() | (1ull << CAP_SYS_PTRACE) | (1ull << CAP_SYS_ADMIN);
	assert_null(recap_seccomp_builtin_find(two));
	struct recap_bpf now = {0}, taken = {0};
	built_now(two, &now);
	assert_int_equal(recap_seccomp_default_bpf(two, &taken, NULL), 0);
	assert_true(same_program(&now, &taken));
	recap_bpf_free(&now);
	recap_bpf_free(&taken);
}

/* SYS_PTRACE, through its built-in program: ptrace passes, the refused
 * calls stay refused. */
static void builtin_program_with_ptrace(void **state)
{
	const struct probe p[] = {
	    {"ptrace", ptrace_self, 0},
	    {"unshare", unshare_none, EPERM},
	    {"keyctl", keyctl, EPERM},
	    {"umount2", umount_none, EPERM},
	};
	assert_non_null(recap_seccomp_builtin_find(recap_caps_default() | (1ull << CAP_SYS_PTRACE)));
	expect(recap_caps_default() | (1ull << CAP_SYS_PTRACE), p, ARRAY_SIZE(p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(oci_profiles),
	    cmocka_unit_test(bad_profiles_name_the_problem),
	    cmocka_unit_test(default_profile_builds),
	    /* before any child loads a built-in program */
	    cmocka_unit_test(only_the_named_capabilities_change_the_default_profile),
	    cmocka_unit_test(builtin_programs_are_what_libseccomp_builds),
	    cmocka_unit_test(default_profile_is_an_allow_list),
	    cmocka_unit_test(capabilities_never_open_the_refused_calls),
	    cmocka_unit_test(builtin_program_with_ptrace),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
