/* The executor's channels to the run: output, sync, status, signals. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/process.h"

static int pipe_pair(int *rd, int *wr)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	*rd = p[0];
	*wr = p[1];
	return 0;
}

static int signals(struct recap_run *r)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, &s, &r->old_mask) < 0)
		return -errno;
	r->sig_fd = signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
	return r->sig_fd < 0 ? -errno : 0;
}

int recap_run_pipes(struct recap_run *r, struct recap_error **err)
{
	int ret = signals(r);
	if (ret >= 0)
		ret = pipe_pair(&r->sync_fd, &r->child_sync);
	if (ret >= 0)
		ret = pipe_pair(&r->status_fd, &r->child_status);
	if (ret < 0)
		return recap_error_set_errno(err, ret, "cannot create the run's channels");
	char procs[4400];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", r->cg.dirs[0]);
	r->procs_fd = open(procs, O_RDONLY | O_CLOEXEC);
	if (r->procs_fd < 0)
		return recap_error_set_errno(err, errno, "cannot open %s", procs);
	if (r->opts->tty)
		return recap_tty_open(r, err);
	r->child_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (r->child_in < 0)
		return recap_error_set_errno(err, errno, "cannot open /dev/null");
	ret = pipe_pair(&r->out_fd, &r->child_out);
	if (ret >= 0)
		ret = pipe_pair(&r->err_fd, &r->child_err);
	return ret < 0 ? recap_error_set_errno(err, ret, "cannot create output pipes") : 0;
}

static void closefd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void recap_run_init_fds(struct recap_run *r)
{
	int *fds[] = {&r->sync_fd,    &r->status_fd,  &r->out_fd,	  &r->err_fd,
		      &r->sup_pidfd,  &r->procs_fd,   &r->child_in,	  &r->child_out,
		      &r->child_err,  &r->child_sync, &r->child_status,	  &r->sig_fd,
		      &r->pty_master, &r->pty_sock,   &r->child_pty_sock, &r->mnt_ns};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		*fds[i] = -1;
}

void recap_run_close_fds(struct recap_run *r)
{
	int *fds[] = {&r->sync_fd,	&r->status_fd, &r->out_fd,	   &r->err_fd,	  &r->sup_pidfd,
		      &r->procs_fd,	&r->child_in,  &r->child_out,	   &r->child_err, &r->child_sync,
		      &r->child_status, &r->pty_sock,  &r->child_pty_sock, &r->mnt_ns};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		closefd(fds[i]);
	if (r->sig_fd >= 0) {
		closefd(&r->sig_fd);
		sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
	}
	r->pty_master = -1;
}

/* The children's ends, once the first child has them. */
void recap_run_close_child_ends(struct recap_run *r)
{
	int *fds[] = {&r->child_in,   &r->child_out,	&r->child_err,
		      &r->child_sync, &r->child_status, &r->child_pty_sock};
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		closefd(fds[i]);
}

/* attach: a PTY for the command, relayed to the executor's terminal.
 *
 * The PTY is made inside the capsule, on its own devpts instance, so that
 * the command's terminal has a name there (tty, ssh, sudo need one); the
 * supervisor sends the master back over a socket. */
void recap_tty_resize(struct recap_run *r)
{
	struct winsize ws;
	if (r->spec->session)
		return; /* the client's resize messages size it (process_session.c) */
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
	if (r->spec->session) {
		/* the socket's client, not the caller's terminal: the loop never
		 * blocks on the command's terminal (process_session.c) */
		(void)fcntl(r->pty_master, F_SETFL, fcntl(r->pty_master, F_GETFL) | O_NONBLOCK);
		return;
	}
	recap_tty_resize(r);
	raw_mode(r);
}
