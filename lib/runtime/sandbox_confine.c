/* Confining the supervisor: see sandbox.h. With SYS_PTRACE granted the
 * command could still open /proc/<supervisor>/mem; what it would reach holds
 * no capability, no_new_privs and the filter below. */
#include "runtime/sandbox.h"

#include <errno.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/cleanup.h"

static const char *const supervisor_calls[] = {
    "read",	     "write",		"pread64",	"close",
    "wait4",	     "waitid",		"kill",		"tgkill",
    "getpid",	     "gettid",		"nanosleep",	"clock_nanosleep",
    "clock_gettime", "statfs",		"fstatfs",	"brk",
    "mmap",	     "munmap",		"rt_sigaction", "rt_sigprocmask",
    "rt_sigreturn",  "restart_syscall", "exit",		"exit_group",
};

static int fail_filter(scmp_filter_ctx ctx, int r, const char *what, struct recap_error **err)
{
	seccomp_release(ctx);
	return recap_error_set_errno(err, r, "supervisor filter: %s", what);
}

int recap_confine_supervisor_filter(scmp_filter_ctx *ret, struct recap_error **err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return recap_error_set(err, ENOMEM, "seccomp_init");
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(EPERM));
	if (r < 0)
		return fail_filter(ctx, r, "bad-arch action", err);
	for (size_t i = 0; i < ARRAY_SIZE(supervisor_calls); i++) {
		int nr = seccomp_syscall_resolve_name(supervisor_calls[i]);
		if (nr != __NR_SCMP_ERROR && (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0)
			return fail_filter(ctx, r, supervisor_calls[i], err);
	}
	*ret = ctx;
	return 0;
}

/* The compat ABIs the command's own filter may allow (an OCI profile can):
 * the guard must see their calls too. */
static int add_compat_arches(scmp_filter_ctx ctx)
{
	uint32_t compat[2] = {0, 0};
	if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
		compat[0] = SCMP_ARCH_X86;
		compat[1] = SCMP_ARCH_X32;
	} else if (seccomp_arch_native() == SCMP_ARCH_AARCH64) {
		compat[0] = SCMP_ARCH_ARM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(compat) && compat[i]; i++) {
		int r = seccomp_arch_add(ctx, compat[i]);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

int recap_confine_guard_filter(pid_t supervisor, scmp_filter_ctx *ret, struct recap_error **err)
{
	const scmp_datum_t pid = (scmp_datum_t)supervisor;
	const struct {
		int nr;
		unsigned arg;
	} aimed[] = {{SCMP_SYS(ptrace), 1},
		     {SCMP_SYS(process_vm_readv), 0},
		     {SCMP_SYS(process_vm_writev), 0},
		     {SCMP_SYS(kcmp), 0},
		     {SCMP_SYS(kcmp), 1},
		     {SCMP_SYS(pidfd_open), 0}};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return recap_error_set(err, ENOMEM, "seccomp_init");
	/* foreign ABIs are the command's filter's business */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
	if (r >= 0)
		r = add_compat_arches(ctx);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(aimed); i++) {
		struct scmp_arg_cmp cmp = {.arg = aimed[i].arg, .op = SCMP_CMP_EQ, .datum_a = pid};
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EPERM), aimed[i].nr, 1, &cmp);
	}
	if (r < 0) {
		seccomp_release(ctx);
		return recap_error_set_errno(err, r, "supervisor guard filter");
	}
	*ret = ctx;
	return 0;
}

int recap_confine_guard(const struct recap_exec_ctx *c, struct recap_error **err)
{
	if (!c->confined)
		return 0; /* unconfined: nothing of the kind */
	scmp_filter_ctx ctx = NULL;
	int r = recap_confine_guard_filter(getpid(), &ctx, err);
	if (r < 0)
		return r;
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r < 0 ? recap_error_set_errno(err, r, "cannot load the supervisor guard filter") : 0;
}

int recap_confine_supervisor(const struct recap_exec_ctx *c, struct recap_error **err)
{
	scmp_filter_ctx ctx = NULL;
	/* built first: it allocates, and everything after runs under it */
	int r = recap_confine_supervisor_filter(&ctx, err);
	if (r < 0)
		return r;
	r = recap_caps_drop_all(c->uid, c->gid, err);
	if (r >= 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		r = recap_error_set_errno(err, errno, "cannot make the supervisor non-dumpable");
	if (r >= 0 && (r = seccomp_load(ctx)) < 0)
		r = recap_error_set_errno(err, r, "cannot load the supervisor filter");
	seccomp_release(ctx);
	return r;
}
