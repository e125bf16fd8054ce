/* What the run's processes hold and send: only the fds they were handed,
 * a working directory resolved inside their root, the PTY master for
 * attach, and their messages to the executor. */
#include "runtime/process.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* close_range(2), or one close(2) per fd below the limit on kernels before 5.9 */
static int close_between(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return 0;
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	struct rlimit rl;
	unsigned max =
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20) ? rl.rlim_cur : 1u << 20;
	for (unsigned fd = lo; fd <= hi && fd < max; fd++)
		close((int)fd);
	return 0;
}

int recap_fds_close_except(const int *keep, size_t n)
{
	int sorted[16];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0)
			continue;
		if (k == ARRAY_SIZE(sorted))
			return -E2BIG;
		sorted[k++] = keep[i];
	}
	qsort(sorted, k, sizeof(sorted[0]), cmp_int);
	unsigned lo = 0;
	for (size_t i = 0; i < k; i++) {
		unsigned fd = (unsigned)sorted[i];
		int r = fd > lo ? close_between(lo, fd - 1) : 0;
		if (r < 0)
			return r;
		if (fd + 1 > lo)
			lo = fd + 1;
	}
	return close_between(lo, ~0U);
}

int recap_fds_enter_workdir(const char *wd)
{
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, root, wd, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	return fchdir(fd) < 0 ? -errno : 0;
}

/* The supervisor's half of attach: a PTY on the capsule's devpts. */
static int send_fd(int sock, int fd)
{
	char byte = 0;
	char ctl[CMSG_SPACE(sizeof(int))];
	memset(ctl, 0, sizeof(ctl));
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &m, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

int recap_exec_pty(int sock)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -errno;
	char name[128];
	int slave = -1, r = 0;
	if (unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0)
		r = -errno;
	if (r >= 0 && (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		r = -errno;
	if (r >= 0)
		r = send_fd(sock, m);
	close(m);
	close(sock);
	if (r < 0) {
		if (slave >= 0)
			close(slave);
		return r;
	}
	return slave;
}

/* Messages to the executor: one write each, never interleaved. */
void recap_sync_send(int fd, enum recap_sync_kind kind, int code, int pid, const char *text)
{
	struct recap_sync_msg m = {.kind = kind, .code = code < 0 ? -code : code, .pid = pid};
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	ssize_t w;
	do
		w = write(fd, &m, sizeof(m));
	while (w < 0 && errno == EINTR);
}

void recap_sync_sendf(int fd, enum recap_sync_kind kind, int code, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	recap_sync_send(fd, kind, code, 0, text);
}
