/* A static helper run inside capsules by test/escape/escape.sh. Each verb
 * tries one thing and prints one line the driver matches on; it never writes
 * anything but the bytes it is given (sysrq-trigger is opened, never written).
 *   attack write PATH DATA   "write PATH ok|<errno name>"
 *   attack openw PATH        "openw PATH ok|<errno name>" (open for writing only)
 *   attack umount PATH       "umount PATH ok|<errno name>"
 *   attack remount-rw PATH   "remount-rw PATH ok|<errno name>"
 *   attack masked PATH       "masked PATH yes|no|absent": /dev/null (reads
 *                            nothing) or an empty tmpfs where nothing can be made
 *   attack ro PATH           "ro PATH yes|no|absent": on a read-only mount
 *   attack cwd               "cwd <getcwd() or errno name>"
 *   attack mem PID           "mem PID ok|<errno name>": writes one byte of the
 *                            first writable mapping of PID's memory through
 *                            /proc/PID/mem, the byte that is already there
 *   attack ptrace PID        "ptrace PID ok|<errno name>": seizes PID, detaches
 *   attack vmwrite PID       "vmwrite PID ok|<errno name>": the byte already at
 *                            PID's first writable mapping, through process_vm_writev
 *   attack getfd PID N DATA  "getfd PID:N <errno name>" or "getfd-write PID:N
 *                            ok|<errno name>": pidfd_getfd of PID's fd N, then DATA
 *                            written to it
 *   attack cgroup1 DIR       "cgroup1 DIR ok|<errno name>": mounts a cgroup v1
 *                            hierarchy at DIR (CVE-2022-0492), then, if that
 *                            worked, "release_agent ok|<errno name>"
 *   attack blockdev PATH MAJ:MIN  "mknod PATH ok|..." then "readblk PATH ok|..."
 *   attack module PATH       "finit_module ..." and "init_module ..." (PATH: any file)
 *   attack shocker           "open_by_handle_at ok|<errno name>": the root
 *                            inode of the filesystem of / by handle
 *   attack forkbomb N        "forkbomb N ok" when N children were made, else
 *                            "forkbomb N <errno name>" and "forked K"; the
 *                            children are killed and reaped before it exits
 *   attack fill PATH         "fill PATH ok" after 128 MiB, else "fill PATH
 *                            <errno name>" and "filled PATH <bytes>"
 *   attack exec PATH ARGS... "exec PATH <errno name>" (only printed on failure)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(const char *verb, const char *path, int ok)
{
	printf("%s %s %s\n", verb, path, ok ? "ok" : strerrorname_np(errno));
	return 0;
}

static int write_file(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return report("write", path, 0);
	ssize_t n = write(fd, data, strlen(data));
	int e = errno;
	close(fd);
	errno = e;
	return report("write", path, n == (ssize_t)strlen(data));
}

static int openw(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	return report("openw", path, fd >= 0);
}

static int empty_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n == 0;
}

static int masked(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		printf("masked %s %s\n", path, errno == ENOENT ? "absent" : strerrorname_np(errno));
		return 0;
	}
	int yes = 0;
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
		/* writes to a device ignore a read-only mount: they go nowhere */
		char c;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		yes = fd >= 0 && read(fd, &c, 1) == 0;
		if (fd >= 0)
			close(fd);
	} else if (S_ISDIR(st.st_mode)) {
		struct statfs fs;
		char probe[4200];
		snprintf(probe, sizeof(probe), "%s/.recap-escape", path);
		yes = statfs(path, &fs) == 0 && fs.f_type == TMPFS_MAGIC && empty_dir(path) &&
		      mkdir(probe, 0700) < 0;
	}
	printf("masked %s %s\n", path, yes ? "yes" : "no");
	return 0;
}

static int readonly(const char *path)
{
	struct statvfs fs;
	if (statvfs(path, &fs) < 0) {
		printf("ro %s %s\n", path, errno == ENOENT ? "absent" : strerrorname_np(errno));
		return 0;
	}
	printf("ro %s %s\n", path, fs.f_flag & ST_RDONLY ? "yes" : "no");
	return 0;
}

static int cwd(void)
{
	char buf[4200];
	if (!getcwd(buf, sizeof(buf)))
		printf("cwd %s\n", strerrorname_np(errno));
	else
		printf("cwd %s\n", buf);
	return 0;
}

/* The first writable private mapping's start, from /proc/PID/maps. */
static int writable_addr(const char *pid, unsigned long *ret)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int found = -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && perms[1] == 'w') {
			*ret = lo;
			found = 0;
		}
	}
	fclose(f);
	if (found < 0)
		errno = ENOENT;
	return found;
}

static int mem(const char *pid)
{
	char path[64];
	unsigned long addr = 0;
	char c;
	snprintf(path, sizeof(path), "/proc/%s/mem", pid);
	/* the open for writing is the attack; the maps are only where to aim */
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return report("mem", pid, 0);
	int ok = writable_addr(pid, &addr) == 0 && pread(fd, &c, 1, (off_t)addr) == 1 &&
		 pwrite(fd, &c, 1, (off_t)addr) == 1;
	int e = errno;
	close(fd);
	errno = e;
	return report("mem", pid, ok);
}

static int seize(const char *pid)
{
	pid_t p = (pid_t)atoi(pid);
	if (ptrace(PTRACE_SEIZE, p, NULL, NULL) < 0)
		return report("ptrace", pid, 0);
	ptrace(PTRACE_DETACH, p, NULL, NULL);
	return report("ptrace", pid, 1);
}

/* The byte already at the first writable mapping, written back through
 * process_vm_writev (the other way into a process's memory). */
static int vmwrite(const char *pid)
{
	unsigned long addr = 0;
	char c = 0;
	pid_t p = (pid_t)atoi(pid);
	/* maps unreadable: an address that is surely unmapped; a refused call
	 * then says EPERM, an admitted one EFAULT */
	if (writable_addr(pid, &addr) < 0)
		addr = 4096;
	struct iovec local = {.iov_base = &c, .iov_len = 1},
		     remote = {.iov_base = (void *)addr, .iov_len = 1};
	if (process_vm_readv(p, &local, 1, &remote, 1, 0) != 1 && errno != EFAULT)
		return report("vmwrite", pid, 0);
	return report("vmwrite", pid, process_vm_writev(p, &local, 1, &remote, 1, 0) == 1);
}

/* A copy of PID's fd N (pidfd_getfd), then written through ("getfd PID:N"). */
static int getfd(const char *pid, const char *n, const char *data)
{
	char what[64];
	snprintf(what, sizeof(what), "%s:%s", pid, n);
	int pfd = (int)syscall(SYS_pidfd_open, atoi(pid), 0);
	if (pfd < 0)
		return report("getfd", what, 0);
	int fd = (int)syscall(SYS_pidfd_getfd, pfd, atoi(n), 0);
	int e = errno;
	close(pfd);
	errno = e;
	if (fd < 0)
		return report("getfd", what, 0);
	size_t len = strlen(data);
	int ok = write(fd, data, len) == (ssize_t)len;
	e = errno;
	close(fd);
	errno = e;
	return report("getfd-write", what, ok);
}

static int cgroup1(const char *dir)
{
	mkdir(dir, 0700);
	if (mount("cgroup", dir, "cgroup", 0, "none,name=recap-escape") < 0)
		return report("cgroup1", dir, 0);
	report("cgroup1", dir, 1);
	char ra[4200];
	snprintf(ra, sizeof(ra), "%s/release_agent", dir);
	int fd = open(ra, O_WRONLY | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, "/recap-escape-agent", 19) == 19;
	int e = errno;
	if (fd >= 0)
		close(fd);
	umount2(dir, MNT_DETACH);
	errno = e;
	return report("release_agent", dir, ok);
}

static int blockdev(const char *path, const char *majmin)
{
	unsigned maj, min;
	char buf[512];
	if (sscanf(majmin, "%u:%u", &maj, &min) != 2)
		return 2;
	report("mknod", path, mknod(path, S_IFBLK | 0600, makedev(maj, min)) == 0);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ok = fd >= 0 && read(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf);
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return report("readblk", path, ok);
}

static int module(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	report("finit_module", path, syscall(SYS_finit_module, fd, "", 0) == 0);
	if (fd >= 0)
		close(fd);
	static char image[64];
	return report("init_module", path, syscall(SYS_init_module, image, sizeof(image), "") == 0);
}

/* The shocker exploit's move: a handle built by hand, not obtained. */
static int shocker(void)
{
	struct {
		struct file_handle h;
		unsigned char ino[8];
	} fh = {.h = {.handle_bytes = 8, .handle_type = 1}};
	unsigned root_ino = 2;
	memcpy(fh.ino, &root_ino, sizeof(root_ino));
	int mfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = (int)syscall(SYS_open_by_handle_at, mfd, &fh.h, O_RDONLY);
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (mfd >= 0)
		close(mfd);
	errno = e;
	return report("open_by_handle_at", "/", fd >= 0);
}

#define FORKBOMB_MAX 8192

static int forkbomb(const char *count)
{
	static pid_t kids[FORKBOMB_MAX];
	long n = strtol(count, NULL, 10), k = 0;
	if (n <= 0 || n > FORKBOMB_MAX)
		return 2;
	for (; k < n; k++) {
		pid_t p = fork();
		if (p == 0) {
			pause();
			_exit(0);
		}
		if (p < 0)
			break;
		kids[k] = p;
	}
	int e = errno;
	for (long i = 0; i < k; i++)
		kill(kids[i], SIGKILL);
	for (long i = 0; i < k; i++)
		waitpid(kids[i], NULL, 0);
	errno = e;
	report("forkbomb", count, k == n);
	printf("forked %ld\n", k);
	return 0;
}

static int fill(const char *path)
{
	static char block[1 << 20];
	long long total = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t w = fd < 0 ? -1 : 0;
	memset(block, 'x', sizeof(block));
	while (fd >= 0 && total < (128ll << 20) && (w = write(fd, block, sizeof(block))) > 0)
		total += w;
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	report("fill", path, w > 0);
	printf("filled %s %lld\n", path, total);
	return 0;
}

int main(int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "";
	const char *path = argc >= 3 ? argv[2] : "";
	if (strcmp(verb, "write") == 0 && argc == 4)
		return write_file(path, argv[3]);
	if (strcmp(verb, "openw") == 0 && argc == 3)
		return openw(path);
	if (strcmp(verb, "umount") == 0 && argc == 3)
		return report(verb, path, umount2(path, MNT_DETACH) == 0);
	if (strcmp(verb, "remount-rw") == 0 && argc == 3)
		return report(verb, path, mount(NULL, path, NULL, MS_REMOUNT | MS_BIND, NULL) == 0);
	if (strcmp(verb, "masked") == 0 && argc == 3)
		return masked(path);
	if (strcmp(verb, "ro") == 0 && argc == 3)
		return readonly(path);
	if (strcmp(verb, "cwd") == 0)
		return cwd();
	if (strcmp(verb, "mem") == 0 && argc == 3)
		return mem(path);
	if (strcmp(verb, "ptrace") == 0 && argc == 3)
		return seize(path);
	if (strcmp(verb, "vmwrite") == 0 && argc == 3)
		return vmwrite(path);
	if (strcmp(verb, "getfd") == 0 && argc == 5)
		return getfd(path, argv[3], argv[4]);
	if (strcmp(verb, "cgroup1") == 0 && argc == 3)
		return cgroup1(path);
	if (strcmp(verb, "blockdev") == 0 && argc == 4)
		return blockdev(path, argv[3]);
	if (strcmp(verb, "module") == 0 && argc == 3)
		return module(path);
	if (strcmp(verb, "shocker") == 0)
		return shocker();
	if (strcmp(verb, "forkbomb") == 0 && argc == 3)
		return forkbomb(path);
	if (strcmp(verb, "fill") == 0 && argc == 3)
		return fill(path);
	if (strcmp(verb, "exec") == 0 && argc >= 3) {
		execv(path, argv + 2);
		return report("exec", path, 0);
	}
	fprintf(stderr, "usage: attack write|openw|umount|remount-rw|masked|ro PATH [DATA] | cwd | "
			"mem|ptrace|vmwrite PID | getfd PID N DATA | cgroup1 DIR | blockdev PATH MAJ:MIN | "
			"module PATH | shocker | "
			"forkbomb N | fill PATH | exec PATH\n");
	return 2;
}
