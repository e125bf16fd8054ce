/* attach: a PTY for the command, relayed to the executor's terminal.
 *
 * The PTY is made inside the capsule, on its own devpts instance, so that
 * the command's terminal has a name there (tty, ssh, sudo need one); the
 * supervisor sends the master back over a socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/run_internal.h"

void recap_tty_resize(struct recap_run *r)
{
	struct winsize ws;
	if (r->pty_master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		ioctl(r->pty_master, TIOCSWINSZ, &ws);
}

static void raw_mode(struct recap_run *r)
{
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &r->saved_tty) < 0)
		return;
	struct termios t = r->saved_tty;
	/* Ctrl-C, Ctrl-D, Ctrl-Z go to the command's terminal as bytes */
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
		r->tty_raw = true;
}

void recap_tty_restore(struct recap_run *r)
{
	if (r->tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &r->saved_tty);
	r->tty_raw = false;
}

int recap_tty_open(struct recap_run *r, struct recap_error **err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return recap_error_set_errno(err, errno, "cannot create the terminal channel");
	r->pty_sock = sv[0];
	r->child_pty_sock = sv[1];
	return 0;
}

void recap_tty_receive(struct recap_run *r)
{
	char byte;
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	ssize_t n;
	do
		n = recvmsg(r->pty_sock, &m, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
		r->out_eof = true; /* attaching failed: the sync channel says why */
		return;
	}
	memcpy(&r->pty_master, CMSG_DATA(c), sizeof(int));
	r->out_fd = r->pty_master;
	recap_tty_resize(r);
	raw_mode(r);
}
