/* A static probe for the capsule's sandbox, run inside a capsule by the
 * integration tests:
 *   probe syscalls   one line per dangerous call: "<name> <errno name|ok>"
 *   probe fds        the open descriptors: "fds: 0 1 2"
 *   probe alloc MIB  touches MIB mebibytes, then prints "allocated"
 *   probe getcwd     "getcwd <errno name|ok>"
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *name, long r)
{
	printf("%s %s\n", name, r < 0 ? strerrorname_np(errno) : "ok");
}

static int syscalls(void)
{
	report("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
	report("umount2", umount2("/proc", MNT_DETACH));
	report("unshare", unshare(CLONE_NEWUSER));
	int fd = open("/proc/self/ns/uts", O_RDONLY);
	report("setns", setns(fd, 0));
	report("keyctl", syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
	report("bpf", syscall(SYS_bpf, 0, NULL, 0));
	report("ptrace", ptrace(PTRACE_PEEKUSER, 1, NULL, NULL));
	report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
	report("pivot_root", syscall(SYS_pivot_root, "/tmp", "/tmp"));
	report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
	report("init_module", syscall(SYS_init_module, NULL, 0, ""));
	report("swapon", syscall(SYS_swapon, "/nonexistent", 0));
	long pid = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, 0);
	if (pid == 0)
		_exit(0);
	report("clone_newns", pid);
	return 0;
}

static int fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return 1;
	printf("fds:");
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
			printf(" %s", de->d_name);
	printf("\n");
	closedir(d);
	return 0;
}

static int alloc(long mib)
{
	for (long i = 0; i < mib; i++) {
		char *p = malloc(1 << 20);
		if (!p)
			return 1;
		memset(p, 1, 1 << 20);
	}
	printf("allocated\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "syscalls") == 0)
		return syscalls();
	if (argc >= 2 && strcmp(argv[1], "fds") == 0)
		return fds();
	if (argc >= 3 && strcmp(argv[1], "alloc") == 0)
		return alloc(atol(argv[2]));
	if (argc >= 2 && strcmp(argv[1], "getcwd") == 0) {
		char buf[256];
		report("getcwd", syscall(SYS_getcwd, buf, sizeof(buf)));
		return 0;
	}
	fprintf(stderr, "usage: probe syscalls|fds|alloc MIB|getcwd\n");
	return 2;
}
