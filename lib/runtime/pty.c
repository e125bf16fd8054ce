/* The supervisor's half of attach: a PTY on the capsule's devpts. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/exec.h"

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
