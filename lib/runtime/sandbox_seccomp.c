/* The default profile: an allow-list, built the way containerd's and
 * Docker's default profiles are. What ordinary tools need (ps, top, tcpdump,
 * strace, gdb, iperf3, logrotate, md5sum, a shell) is allowed; a few calls
 * more when a granted capability needs them; what reaches past the sandbox
 * whatever the capabilities (keyrings, io_uring, userfaultfd, kexec,
 * modules, file handles, swap, reboot) is refused with EPERM; anything else,
 * the calls of newer kernels included, gets ENOSYS, so that libc falls back.
 * Only the native ABI is allowed: i386 and x32 calls on x86_64 fail. */
#include "runtime/sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <string.h>

#include "base/cleanup.h"

#define CAPM(c) (1ull << (c))

static const char *const allowed[] = {
    /* files and directories */
    "open openat openat2 creat close close_range read write readv writev pread64 pwrite64 "
    "preadv pwritev preadv2 pwritev2 lseek sendfile splice tee vmsplice copy_file_range stat "
    "fstat lstat newfstatat statx statfs fstatfs access faccessat faccessat2 readlink "
    "readlinkat getdents getdents64 getcwd chdir fchdir mkdir mkdirat rmdir rename renameat "
    "renameat2 link linkat symlink symlinkat unlink unlinkat mknod mknodat chmod fchmod "
    "fchmodat fchmodat2 chown fchown lchown fchownat umask truncate ftruncate fallocate utime "
    "utimes utimensat futimesat fsync fdatasync sync syncfs sync_file_range fadvise64 "
    "readahead flock fcntl dup dup2 dup3 ioctl getxattr lgetxattr fgetxattr listxattr "
    "llistxattr flistxattr setxattr lsetxattr fsetxattr removexattr lremovexattr fremovexattr "
    "inotify_init inotify_init1 inotify_add_watch inotify_rm_watch fanotify_mark memfd_create "
    "pipe pipe2 io_setup io_destroy io_submit io_cancel io_getevents io_pgetevents",
    /* waiting for events */
    "select pselect6 poll ppoll epoll_create epoll_create1 epoll_ctl epoll_wait epoll_pwait "
    "epoll_pwait2 eventfd eventfd2 signalfd signalfd4 timerfd_create timerfd_settime "
    "timerfd_gettime",
    /* memory */
    "brk mmap munmap mremap mprotect madvise msync mincore mlock mlock2 munlock mlockall "
    "munlockall remap_file_pages get_mempolicy pkey_alloc pkey_free pkey_mprotect membarrier "
    "rseq map_shadow_stack",
    /* processes, threads, credentials, limits */
    "fork vfork execve execveat exit exit_group wait4 waitid set_tid_address set_robust_list "
    "get_robust_list futex futex_waitv arch_prctl get_thread_area set_thread_area prctl getpid "
    "getppid gettid getpgid setpgid getpgrp getsid setsid getuid geteuid getgid getegid "
    "getresuid getresgid getgroups setuid setgid setreuid setregid setresuid setresgid "
    "setfsuid setfsgid setgroups capget capset getrlimit setrlimit prlimit64 getrusage times "
    "getpriority setpriority sched_yield sched_getaffinity sched_setaffinity sched_getparam "
    "sched_setparam sched_getscheduler sched_setscheduler sched_getattr sched_setattr "
    "sched_get_priority_max sched_get_priority_min sched_rr_get_interval ioprio_get ioprio_set "
    "getcpu uname sysinfo getrandom seccomp landlock_create_ruleset landlock_add_rule "
    "landlock_restrict_self restart_syscall",
    /* signals (pidfd_getfd needs SYS_PTRACE: below) */
    "kill tkill tgkill rt_sigaction rt_sigprocmask rt_sigreturn rt_sigpending rt_sigsuspend "
    "rt_sigtimedwait rt_sigqueueinfo rt_tgsigqueueinfo sigaltstack pause pidfd_open "
    "pidfd_send_signal",
    /* time (setting a clock needs SYS_TIME: below) */
    "time gettimeofday clock_gettime clock_getres clock_nanosleep nanosleep alarm getitimer "
    "setitimer timer_create timer_settime timer_gettime timer_getoverrun timer_delete",
    /* sockets and System V / POSIX IPC (the kernel checks NET_RAW, NET_ADMIN) */
    "socket socketpair bind connect listen accept accept4 getsockname getpeername sendto "
    "recvfrom sendmsg recvmsg sendmmsg recvmmsg shutdown setsockopt getsockopt msgget msgsnd "
    "msgrcv msgctl semget semop semtimedop semctl shmget shmat shmdt shmctl mq_open mq_unlink "
    "mq_timedsend mq_timedreceive mq_notify mq_getsetattr",
};

/* Refused whatever was granted: not namespaced (keyrings, swap, modules,
 * the kernel image, accounting, quotas, I/O ports), a way around the mount
 * namespace (file handles: CVE-2014-3519, "shocker"), kernel attack surface
 * no tool needs (io_uring, userfaultfd), or the mount table: with SYS_ADMIN
 * an unmount would lift the masked and read-only /proc and /sys paths
 * (/proc/sys/kernel/core_pattern runs a program as the node's root), so no
 * capability opens the mount calls. */
static const char *const refused[] = {
    "mount umount umount2 pivot_root fsopen fsconfig fsmount fspick open_tree move_mount "
    "mount_setattr "
    "keyctl add_key request_key io_uring_setup io_uring_enter io_uring_register userfaultfd "
    "kexec_load kexec_file_load init_module finit_module delete_module create_module "
    "query_module get_kernel_syms open_by_handle_at name_to_handle_at swapon swapoff reboot "
    "acct lookup_dcookie quotactl quotactl_fd nfsservctl uselib iopl ioperm vm86 vm86old "
    "_sysctl sysfs ustat vhangup",
};

/* Allowed only with one of the capabilities (which the kernel checks
 * again); EPERM without. */
static const struct {
	const char *name;
	uint64_t caps;
} gated[] = {
    {"unshare", CAPM(CAP_SYS_ADMIN)},
    {"setns", CAPM(CAP_SYS_ADMIN)},
    {"sethostname", CAPM(CAP_SYS_ADMIN)},
    {"setdomainname", CAPM(CAP_SYS_ADMIN)},
    {"fanotify_init", CAPM(CAP_SYS_ADMIN)},
    {"bpf", CAPM(CAP_SYS_ADMIN) | CAPM(CAP_BPF)},
    {"perf_event_open", CAPM(CAP_SYS_ADMIN) | CAPM(CAP_PERFMON)},
    {"syslog", CAPM(CAP_SYS_ADMIN) | CAPM(CAP_SYSLOG)},
    {"ptrace", CAPM(CAP_SYS_PTRACE)},
    {"process_vm_readv", CAPM(CAP_SYS_PTRACE)},
    {"process_vm_writev", CAPM(CAP_SYS_PTRACE)},
    {"process_madvise", CAPM(CAP_SYS_PTRACE)},
    {"kcmp", CAPM(CAP_SYS_PTRACE)},
    {"pidfd_getfd", CAPM(CAP_SYS_PTRACE)},
    {"settimeofday", CAPM(CAP_SYS_TIME)},
    {"clock_settime", CAPM(CAP_SYS_TIME)},
    {"clock_adjtime", CAPM(CAP_SYS_TIME)},
    {"adjtimex", CAPM(CAP_SYS_TIME)},
    {"chroot", CAPM(CAP_SYS_CHROOT)},
    {"mbind", CAPM(CAP_SYS_NICE)},
    {"set_mempolicy", CAPM(CAP_SYS_NICE)},
    {"set_mempolicy_home_node", CAPM(CAP_SYS_NICE)},
    {"migrate_pages", CAPM(CAP_SYS_NICE)},
    {"move_pages", CAPM(CAP_SYS_NICE)},
};

static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, struct recap_error **err)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture, or newer than libseccomp */
	int r = seccomp_rule_add(ctx, action, nr, 0);
	return r < 0 ? recap_error_set_errno(err, r, "seccomp rule for %s", name) : 0;
}

/* clone() can make namespaces without unshare(): without SYS_ADMIN only
 * when no CLONE_NEW* flag is set (EPERM otherwise). clone3 hides its flags
 * in memory a filter cannot read, so it reports ENOSYS and libc falls back
 * to clone. */
static int clone_rules(scmp_filter_ctx ctx, uint64_t caps, struct recap_error **err)
{
	static const unsigned long flags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,	  CLONE_NEWUSER,
					      CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};
	unsigned long all = 0;
	if (caps & CAPM(CAP_SYS_ADMIN)) {
		int r = rule(ctx, SCMP_ACT_ALLOW, "clone", err);
		return r < 0 ? r : rule(ctx, SCMP_ACT_ALLOW, "clone3", err);
	}
	/* clone3 is on no list: the default action is its ENOSYS */
	int r = 0;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(flags); i++) {
		all |= flags[i];
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
	}
	if (r >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, all, 0));
	return r < 0 ? recap_error_set_errno(err, r, "seccomp rule for clone") : 0;
}

/* personality(): the query, Linux and 32-bit Linux domains, the old uname
 * and no address randomisation (gdb, setarch -R); never READ_IMPLIES_EXEC
 * or MMAP_PAGE_ZERO. */
static int personality_rules(scmp_filter_ctx ctx, struct recap_error **err)
{
	static const scmp_datum_t ok[] = {0x0, 0x8, 0x20000, 0x20008, 0x40000, 0x40008, 0xffffffff};
	int r = 0;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(ok); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(personality), 1,
				     SCMP_A0(SCMP_CMP_EQ, ok[i]));
	return r < 0 ? recap_error_set_errno(err, r, "seccomp rule for personality") : 0;
}

/* One rule per name of a space-separated list. */
static int rules(scmp_filter_ctx ctx, uint32_t action, const char *names, struct recap_error **err)
{
	char name[64];
	for (const char *p = names; *p;) {
		size_t n = strcspn(p, " ");
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = 0;
			int r = rule(ctx, action, name, err);
			if (r < 0)
				return r;
		}
		p += n + strspn(p + n, " ");
	}
	return 0;
}

uint64_t recap_seccomp_default_caps(void)
{
	uint64_t m = CAPM(CAP_SYS_ADMIN); /* clone_rules */
	for (size_t i = 0; i < ARRAY_SIZE(gated); i++)
		m |= gated[i].caps;
	return m;
}

static int add_rules(scmp_filter_ctx ctx, uint64_t caps, struct recap_error **err)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(allowed); i++)
		r = rules(ctx, SCMP_ACT_ALLOW, allowed[i], err);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(refused); i++)
		r = rules(ctx, SCMP_ACT_ERRNO(EPERM), refused[i], err);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(gated); i++)
		r = rule(ctx, (caps & gated[i].caps) ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO(EPERM), gated[i].name,
			 err);
	if (r >= 0)
		r = clone_rules(ctx, caps, err);
	if (r >= 0)
		r = personality_rules(ctx, err);
	return r;
}

int recap_seccomp_default(uint64_t caps, scmp_filter_ctx *ret, struct recap_error **err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
	if (!ctx)
		return recap_error_set(err, ENOMEM, "seccomp_init");
	/* the context holds the native ABI only: i386 and x32 calls get EPERM */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(EPERM));
	if (r < 0)
		r = recap_error_set_errno(err, r, "seccomp: bad-arch action");
	if (r >= 0)
		r = add_rules(ctx, caps, err);
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}
