/* A static probe run inside capsules by seccomp.sh: it makes the system calls
 * a capsule must not make (or may make only with a capability) and prints
 * one line per call, "<name> <errno name|ok>". Each call's arguments are
 * chosen so that, should the filter let it through, the kernel refuses it
 * with an errno other than EPERM or changes nothing that outlives the probe
 * (a ring of its own, a key type that does not exist, a clock set to NULL).
 *
 *   sys_probe calls        the refused and capability-gated calls
 *   sys_probe abi          the i386 (int 0x80) and x32 system call ABIs
 *   sys_probe supervisor   attacks on the run's supervisor (capsule-init)
 *   sys_probe caps         the Cap* lines of /proc/self/status
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/kcmp.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void report(const char *name, long r)
{
	printf("%s %s\n", name, r < 0 ? strerrorname_np(errno) : "ok");
	fflush(stdout);
}

/* Runs fn in a child (it may change what the probe is: a namespace, a
 * signal) and reports its result, or the signal that ended it. */
static void isolated(const char *name, long (*fn)(void))
{
	int p[2];
	if (pipe(p) < 0)
		return report(name, -1);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		long r = fn();
		int e = r < 0 ? errno : 0;
		(void)!write(p[1], &e, sizeof(e));
		_exit(0);
	}
	close(p[1]);
	int e = -1, st = 0;
	ssize_t n = read(p[0], &e, sizeof(e));
	close(p[0]);
	waitpid(pid, &st, 0);
	if (n != sizeof(e))
		printf("%s signal-%s\n", name, WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "none");
	else
		printf("%s %s\n", name, e ? strerrorname_np(e) : "ok");
	fflush(stdout);
}

static long do_unshare_user(void)
{
	return unshare(CLONE_NEWUSER);
}

static long do_unshare_mnt(void)
{
	return unshare(CLONE_NEWNS);
}

static long do_clone_newuser(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static long do_clone3(void)
{
	struct clone_args a = {.exit_signal = SIGCHLD};
	long pid = syscall(SYS_clone3, &a, sizeof(a));
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return pid;
}

static long do_mount(void)
{
	return mount("none", "/tmp", "tmpfs", 0, NULL);
}

static void refused_always(void)
{
	struct io_uring_params up = {0};
	report("io_uring_setup", syscall(SYS_io_uring_setup, 1, &up));
	report("io_uring_enter", syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
	report("io_uring_register", syscall(SYS_io_uring_register, -1, 0, NULL, 0));
	report("userfaultfd", syscall(SYS_userfaultfd, O_CLOEXEC));
	report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	report("add_key", syscall(SYS_add_key, "recap-no-such-type", "d", "x", 1, KEY_SPEC_PROCESS_KEYRING));
	report("request_key", syscall(SYS_request_key, "recap-no-such-type", "d", NULL, 0));
	report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0x8000)); /* bad flags, never an unload */
	report("kexec_file_load", syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0));
	report("init_module", syscall(SYS_init_module, NULL, 0, ""));
	report("finit_module", syscall(SYS_finit_module, -1, "", 0));
	report("delete_module", syscall(SYS_delete_module, "recap_no_such_module", O_NONBLOCK));
	report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
	struct {
		struct file_handle h;
		unsigned char buf[128];
	} fh = {.h.handle_bytes = 128};
	int mnt;
	report("name_to_handle_at", syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh.h, &mnt, 0));
	report("swapon", syscall(SYS_swapon, "/recap-no-such-file", 0));
	report("swapoff", syscall(SYS_swapoff, "/recap-no-such-file"));
	report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL)); /* bad magic: EINVAL if let through */
	report("acct", syscall(SYS_acct, "/recap-no-such-file"));
	report("iopl", syscall(SYS_iopl, 0));
	report("ioperm", syscall(SYS_ioperm, 0, 0, 0));
	report("quotactl", syscall(SYS_quotactl, 0, NULL, 0, NULL));
}

static void gated(void)
{
	isolated("mount", do_mount);
	report("umount2", umount2("/recap-no-such-dir", MNT_DETACH));
	isolated("unshare_user", do_unshare_user);
	isolated("unshare_mnt", do_unshare_mnt);
	int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	report("setns", setns(fd, CLONE_NEWUTS));
	report("pivot_root", syscall(SYS_pivot_root, "/recap-no-such-dir", "/recap-no-such-dir"));
	isolated("clone_newuser", do_clone_newuser);
	isolated("clone3", do_clone3);
	report("bpf", syscall(SYS_bpf, -1, NULL, 0));
	report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
	report("ptrace", ptrace(PTRACE_PEEKUSER, getpid(), NULL, NULL)); /* ESRCH: not traced */
	struct iovec none = {0};
	report("process_vm_readv", syscall(SYS_process_vm_readv, getpid(), &none, 0, &none, 0, 0));
	report("kcmp", syscall(SYS_kcmp, getpid(), getpid(), KCMP_VM, 0, 0));
	report("clock_settime", syscall(SYS_clock_settime, CLOCK_REALTIME, NULL));
	report("syslog", syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
	report("chroot", syscall(SYS_chroot, "/recap-no-such-dir"));
	/* a call on neither list: not a capsule's business */
	char ldt[16];
	report("modify_ldt", syscall(SYS_modify_ldt, 0, ldt, sizeof(ldt)));
	report("personality_read_implies_exec", syscall(SYS_personality, 0x0400000));
	report("personality_query", syscall(SYS_personality, 0xffffffff));
}

static long i386_getpid(void)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(20 /* __NR_getpid, i386 */) : "memory");
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static long x32_getpid(void)
{
	return syscall(0x40000000 | SYS_getpid);
}

static int abi(void)
{
	isolated("i386_getpid", i386_getpid);
	isolated("x32_getpid", x32_getpid);
	return 0;
}

static pid_t find_supervisor(void)
{
	pid_t p = getppid();
	for (int depth = 0; p > 0 && depth < 16; depth++) {
		char path[64], comm[64] = "", line[256];
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)p);
		FILE *f = fopen(path, "re");
		if (f && fgets(comm, sizeof(comm), f) && strcmp(comm, "capsule-init\n") == 0) {
			fclose(f);
			return p;
		}
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/proc/%d/status", (int)p);
		pid_t next = 0;
		if (!(f = fopen(path, "re")))
			return 0;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "PPid: %d", &next) == 1)
				break;
		fclose(f);
		p = next;
	}
	return 0;
}

static long open_proc(pid_t pid, const char *what, int flags)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	int fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return fd;
}

static int supervisor(void)
{
	pid_t sup = find_supervisor();
	printf("supervisor %d\n", (int)sup);
	if (sup <= 0)
		return 1;
	long r = ptrace(PTRACE_ATTACH, sup, NULL, NULL);
	report("ptrace_attach", r);
	if (r == 0) { /* let go of it, or its SIGSTOP would stop the run */
		waitpid(sup, NULL, __WALL);
		ptrace(PTRACE_DETACH, sup, NULL, NULL);
	}
	r = ptrace(PTRACE_SEIZE, sup, NULL, NULL);
	report("ptrace_seize", r);
	if (r == 0)
		ptrace(PTRACE_DETACH, sup, NULL, NULL);
	char buf[16];
	struct iovec local = {buf, sizeof(buf)}, remote = {(void *)0x400000, sizeof(buf)};
	report("process_vm_readv", syscall(SYS_process_vm_readv, sup, &local, 1, &remote, 1, 0));
	long pidfd = syscall(SYS_pidfd_open, sup, 0);
	report("pidfd_open", pidfd);
	if (pidfd >= 0) {
		long fd = syscall(SYS_pidfd_getfd, pidfd, 0, 0);
		report("pidfd_getfd", fd);
		close((int)pidfd);
	}
	report("proc_fd0", open_proc(sup, "fd/0", O_RDONLY));
	report("proc_mem_rw", open_proc(sup, "mem", O_RDWR));
	return 0;
}

static int caps(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "Cap", 3) == 0 || strncmp(line, "NoNewPrivs", 10) == 0 ||
		    strncmp(line, "Seccomp:", 8) == 0)
			fputs(line, stdout);
	if (f)
		fclose(f);
	return f ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *what = argc >= 2 ? argv[1] : "";
	if (strcmp(what, "calls") == 0) {
		refused_always();
		gated();
		return 0;
	}
	if (strcmp(what, "abi") == 0)
		return abi();
	if (strcmp(what, "supervisor") == 0)
		return supervisor();
	if (strcmp(what, "caps") == 0)
		return caps();
	fprintf(stderr, "usage: sys_probe calls|abi|supervisor|caps\n");
	return 2;
}
