/* The session socket: the command's terminal relayed to one client of
 * runs/<id>/session.sock (SOCK_SEQPACKET), one Kubernetes channel message per
 * packet (docs/executor-spec.md, "Sessions"). From the client: 0 stdin, 4
 * resize, [255, 0] stdin closed; to it: 1 output, then one Status on 3. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/timeutil.h"
#include "runtime/process.h"
#include "wsproto/channel.h"

void recap_session_init(struct recap_session *s)
{
	*s = (struct recap_session){.listen_fd = -1, .fd = -1};
}

static void stop_listening(struct recap_session *s)
{
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}

void recap_session_close(struct recap_session *s)
{
	stop_listening(s);
	if (s->path)
		(void)unlink(s->path);
	free(s->path);
	s->path = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Ends the session (the first reason stays); the loop acts on it. */
static void end(struct recap_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void end(struct recap_run *r, const char *fmt, ...)
{
	struct recap_session *s = &r->sess;
	if (s->end_msg[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->end_msg, sizeof(s->end_msg), fmt, ap);
	va_end(ap);
	s->out_len = 0;
	s->in_len = s->in_off = 0;
}

static void client_gone(struct recap_run *r)
{
	end(r, "the session's client went away");
	recap_session_close(&r->sess);
}

/* Bound with a umask, so that the socket is never reachable by others, not
 * even for an instant; bind never follows or replaces what is there. */
static int session_listen(struct recap_run *r, struct recap_error **err)
{
	struct recap_session *s = &r->sess;
	char path[4200];
	snprintf(path, sizeof(path), "%s/session.sock", r->paths.run_dir);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	_cleanup_close_ int dir = -1;
	if (strlen(path) < sizeof(a.sun_path)) {
		memcpy(a.sun_path, path, strlen(path) + 1);
	} else { /* a long store path: through the run directory's fd */
		dir = open(r->paths.run_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir < 0)
			return recap_error_set_errno(err, errno, "cannot open %s", r->paths.run_dir);
		snprintf(a.sun_path, sizeof(a.sun_path), "/proc/self/fd/%d/session.sock", dir);
	}
	s->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0)
		return recap_error_set_errno(err, errno, "cannot create the session socket");
	mode_t old = umask(0177);
	int b = bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a));
	int e = errno;
	umask(old);
	if (b < 0 && e == EADDRINUSE)
		return recap_error_set(err, EEXIST, "%s exists already: refused, nothing there is replaced",
				       path);
	if (b < 0)
		return recap_error_set_errno(err, e, "cannot bind the session socket %s", path);
	if (!(s->path = strdup(path)))
		return recap_error_set(err, ENOMEM, "out of memory");
	if (listen(s->listen_fd, 1) < 0)
		return recap_error_set_errno(err, errno, "cannot listen on %s", path);
	return 0;
}

/* A signal while no one is attached: SIGWINCH is no one's (0), the others
 * cancel the run (1). */
static int wait_signal(struct recap_run *r)
{
	struct signalfd_siginfo si;
	if (read(r->sig_fd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo == SIGWINCH)
		return 0;
	r->cancelled = true;
	return (int)si.ssi_signo;
}

int recap_session_accept(struct recap_run *r, const char **ret_reason, struct recap_error **err)
{
	struct recap_session *s = &r->sess;
	*ret_reason = RECAP_REASON_ATTACH_FAILED;
	int ret = session_listen(r, err);
	uint64_t now = recap_now_mono_ms(), until = now + (uint64_t)r->spec->session_attach_s * 1000;
	bool deadline = r->spec->timeout_ms && r->t_start + r->spec->timeout_ms < until;
	if (deadline)
		until = r->t_start + r->spec->timeout_ms;
	while (ret >= 0 && s->fd < 0) {
		now = recap_now_mono_ms();
		if (now >= until && deadline) {
			r->timed_out = true;
			*ret_reason = RECAP_REASON_DEADLINE_EXCEEDED;
			ret = recap_error_set(err, ETIMEDOUT,
					      "the run's timeoutSeconds passed before anyone attached");
			break;
		}
		if (now >= until) {
			*ret_reason = RECAP_REASON_CANCELLED;
			ret = recap_error_set(err, ETIMEDOUT,
					      "no one attached within %lld s (session.attachTimeoutSeconds)",
					      (long long)r->spec->session_attach_s);
			break;
		}
		struct pollfd p[2] = {{.fd = s->listen_fd, .events = POLLIN},
				      {.fd = r->sig_fd, .events = POLLIN}};
		uint64_t left = until - now;
		if (poll(p, 2, left > 60000 ? 60000 : (int)left) < 0 && errno != EINTR)
			ret = recap_error_set_errno(err, errno, "poll");
		int sig = p[1].revents ? wait_signal(r) : 0;
		if (sig) {
			*ret_reason = RECAP_REASON_CANCELLED;
			ret = recap_error_set(err, ECANCELED,
					      "the executor got signal %d before anyone attached", sig);
		} else if (p[0].revents) {
			s->fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (s->fd < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				ret = recap_error_set_errno(err, errno, "cannot accept on %s", s->path);
		}
	}
	/* one client: the path stays while the session lasts, nobody listens
	 * on it, so a second client is refused at once (ECONNREFUSED: the
	 * relay's 409) rather than taken for a session not made yet (ENOENT) */
	stop_listening(s);
	s->last_activity = recap_now_mono_ms();
	return ret;
}

short recap_session_sock_events(const struct recap_run *r)
{
	const struct recap_session *s = &r->sess;
	if (s->fd < 0 || s->end_msg[0])
		return 0;
	return (short)((s->in_len ? 0 : POLLIN) | (s->out_len ? POLLOUT : 0));
}

short recap_session_pty_events(const struct recap_run *r)
{
	const struct recap_session *s = &r->sess;
	return (short)((s->out_len ? 0 : POLLIN) | (s->in_len ? POLLOUT : 0));
}

static void flush_out(struct recap_run *r, uint64_t now)
{
	struct recap_session *s = &r->sess;
	if (!s->out_len || s->fd < 0)
		return;
	ssize_t n = send(s->fd, s->out, s->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)s->out_len) {
		s->out_len = 0;
		s->last_activity = now;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ENOBUFS) {
		client_gone(r);
	}
}

void recap_session_output(struct recap_run *r, const char *p, size_t n, uint64_t now)
{
	struct recap_session *s = &r->sess;
	if (s->fd < 0 || s->end_msg[0] || n == 0 || n >= sizeof(s->out))
		return; /* no client: the tails and the log have it */
	s->out[0] = RECAP_WSCHAN_STDOUT;
	memcpy(s->out + 1, p, n);
	s->out_len = n + 1;
	s->out_since = now;
	flush_out(r, now);
}

static void flush_in(struct recap_run *r)
{
	struct recap_session *s = &r->sess;
	while (s->in_off < s->in_len && r->pty_master >= 0) {
		ssize_t w = write(r->pty_master, s->in + s->in_off, s->in_len - s->in_off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return; /* polled for POLLOUT on the master */
		if (w <= 0)
			break; /* the terminal is gone: the input with it */
		s->in_off += (size_t)w;
	}
	s->in_len = s->in_off = 0;
}

void recap_session_on_pty_writable(struct recap_run *r, short revents)
{
	if (revents & (POLLOUT | POLLERR | POLLHUP))
		flush_in(r);
}

static void resize(struct recap_run *r, const char *p, size_t n)
{
	uint16_t w, h;
	struct recap_error *e = NULL;
	/* a malformed size is ignored, as the kubelet ignores one */
	if (recap_wschan_resize_parse(p, n, &w, &h, &e) < 0) {
		recap_error_free(e);
		return;
	}
	struct winsize ws = {.ws_row = h, .ws_col = w};
	if (r->pty_master >= 0)
		ioctl(r->pty_master, TIOCSWINSZ, &ws);
}

/* stdin closed: the terminal's EOF character, as kubectl sends Ctrl-D */
static void close_stdin(struct recap_run *r)
{
	struct recap_session *s = &r->sess;
	struct termios t;
	char eof = 4;
	if (r->pty_master >= 0 && tcgetattr(r->pty_master, &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
		eof = (char)t.c_cc[VEOF];
	s->stdin_closed = true;
	s->in[s->in_len++] = eof;
	flush_in(r);
}

static void on_message(struct recap_run *r, const char *m, size_t n)
{
	struct recap_session *s = &r->sess;
	switch ((unsigned char)m[0]) {
	case RECAP_WSCHAN_STDIN:
		if (s->stdin_closed || n == 1)
			return;
		memcpy(s->in, m + 1, n - 1);
		s->in_len = n - 1;
		s->in_off = 0;
		flush_in(r);
		return;
	case RECAP_WSCHAN_RESIZE:
		resize(r, m + 1, n - 1);
		return;
	case RECAP_WSCHAN_CLOSE:
		if (n == 2 && m[1] == RECAP_WSCHAN_STDIN) {
			if (!s->stdin_closed)
				close_stdin(r);
			return;
		}
		end(r, "the session's client broke the protocol: a close signal of %zu bytes%s", n,
		    n == 2 ? " for a stream other than stdin" : "");
		return;
	default:
		end(r, "the session's client broke the protocol: a message on channel %u",
		    (unsigned char)m[0]);
	}
}

static void read_messages(struct recap_run *r, uint64_t now)
{
	struct recap_session *s = &r->sess;
	char buf[RECAP_SESSION_MSG_MAX + 1];
	/* a few at a time, and none while stdin waits for the terminal */
	for (int i = 0; i < 16 && s->fd >= 0 && !s->in_len && !s->end_msg[0]; i++) {
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = recvmsg(s->fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) { /* EOF (or an empty message, no channel at all), ECONNRESET */
			client_gone(r);
			return;
		}
		s->last_activity = now;
		if ((size_t)n > RECAP_SESSION_MSG_MAX || (mh.msg_flags & MSG_TRUNC)) {
			end(r, "the session's client broke the protocol: a message of %zd bytes (at most %d)",
			    n, RECAP_SESSION_MSG_MAX);
			return;
		}
		on_message(r, buf, (size_t)n);
	}
}

void recap_session_on_sock(struct recap_run *r, short revents, uint64_t now)
{
	if (revents & POLLOUT)
		flush_out(r, now);
	if (revents & POLLIN)
		read_messages(r, now);
	else if (revents & (POLLHUP | POLLERR))
		client_gone(r);
}

uint64_t recap_session_idle_at(const struct recap_run *r)
{
	const struct recap_session *s = &r->sess;
	if (!r->spec->session || s->fd < 0 || s->end_msg[0])
		return 0;
	/* a client that sends but takes no output is bounded the same way */
	uint64_t idle = (uint64_t)r->spec->session_idle_s * 1000, at = s->last_activity + idle;
	return s->out_len && s->out_since + idle < at ? s->out_since + idle : at;
}

void recap_session_timers(struct recap_run *r, uint64_t now)
{
	const struct recap_session *s = &r->sess;
	uint64_t at = recap_session_idle_at(r);
	if (!at || now < at)
		return;
	if (s->out_len && now >= s->out_since + (uint64_t)r->spec->session_idle_s * 1000)
		end(r, "the session's client took no output for %lld s (session.idleTimeoutSeconds)",
		    (long long)r->spec->session_idle_s);
	else
		end(r, "the session was idle for %lld s (session.idleTimeoutSeconds)",
		    (long long)r->spec->session_idle_s);
}

/* One whole message, waiting for room until the deadline. */
static int send_until(int fd, const char *p, size_t n, uint64_t until)
{
	for (;;) {
		ssize_t w = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == (ssize_t)n)
			return 0;
		if (w >= 0 || (errno != EAGAIN && errno != EINTR && errno != ENOBUFS))
			return -EPIPE;
		uint64_t now = recap_now_mono_ms();
		if (now >= until)
			return -ETIMEDOUT;
		struct pollfd p1 = {.fd = fd, .events = POLLOUT};
		(void)poll(&p1, 1, (int)(until - now));
	}
}

/* The command's own end is its exit code (Success, or NonZeroExitCode);
 * every other end (never ran, cancelled, deadline, OOM) a Failure that says
 * what happened. */
static int status_json(const struct recap_run_result *res, struct recap_buf *b)
{
	bool own =
	    res->exit_code >= 0 && res->exit_code <= 255 &&
	    (strcmp(res->reason, RECAP_REASON_COMPLETED) == 0 ||
	     strcmp(res->reason, RECAP_REASON_FAILED) == 0 || strcmp(res->reason, RECAP_REASON_KILLED) == 0);
	if (own)
		return recap_wschan_status_exit(b, res->exit_code, NULL);
	char *m = NULL;
	int r = res->message	      ? asprintf(&m, "%s: %s", res->reason, res->message)
		: res->exit_code >= 0 ? asprintf(&m, "%s (exit code %d)", res->reason, res->exit_code)
				      : asprintf(&m, "%s", res->reason);
	if (r < 0)
		return -ENOMEM;
	r = recap_wschan_status_failure(b, m, NULL);
	free(m);
	if (r < 0) /* a message that is not UTF-8 */
		r = recap_wschan_status_failure(b, res->reason, NULL);
	return r;
}

void recap_session_finish(struct recap_run *r)
{
	struct recap_session *s = &r->sess;
	stop_listening(s);
	if (s->fd < 0)
		return;
	uint64_t until = recap_now_mono_ms() + RECAP_SESSION_FINISH_MS;
	int ret = 0;
	if (s->out_len)
		ret = send_until(s->fd, s->out, s->out_len, until);
	s->out_len = 0;
	struct recap_buf b = RECAP_BUF_INIT(RECAP_SESSION_MSG_MAX);
	char ch = RECAP_WSCHAN_ERROR;
	if (ret >= 0 && recap_buf_append(&b, &ch, 1) >= 0 && status_json(r->res, &b) >= 0)
		(void)send_until(s->fd, b.data, b.len, until);
	recap_buf_free(&b);
	recap_session_close(s);
}
