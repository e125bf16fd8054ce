/* The executor's loop while a run is attached: output, messages, the
 * supervisor's exit, signals and the deadline, all in one poll(). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/timeutil.h"
#include "runtime/mounts.h"
#include "runtime/process.h"

#define DRAIN_MS 1000	  /* output still read after the supervisor ended */
#define HARD_KILL_MS 3000 /* after SIGKILL, the supervisor too */

enum { P_SYNC, P_OUT, P_ERR, P_SIG, P_SUP, P_IN, P_N };

static void on_sync(struct recap_run *r)
{
	struct recap_sync_msg m;
	ssize_t n = read(r->sync_fd, &m, sizeof(m));
	if (n < 0 && errno == EINTR)
		return;
	if (n != (ssize_t)sizeof(m)) {
		r->sync_eof = true;
		r->t_attached = recap_now_mono_ms();
		/* the first child is done: reaped now, it leaves the cgroup early */
		if (r->c1 > 0 && waitpid(r->c1, NULL, WNOHANG) == r->c1)
			r->c1 = 0;
		return;
	}
	if (m.kind == RECAP_SYNC_PID && !r->sup && r->c1 > 0) {
		/* the first child is the supervisor now: reaped when it ends */
		r->sup = r->c1;
		r->c1 = 0;
		r->sup_pidfd = recap_pidfd_open(r->sup);
		/* held to the end: escape empties it, whoever else holds it */
		r->mnt_ns = recap_mounts_ns_open(r->sup);
		recap_run_write_state(r, "Running");
	} else if ((m.kind == RECAP_SYNC_ERROR || m.kind == RECAP_SYNC_EXEC_ERROR) && !r->fail_kind) {
		r->fail_kind = m.kind;
		r->fail_code = m.code ? m.code : EIO;
		m.text[sizeof(m.text) - 1] = 0;
		memcpy(r->fail_msg, m.text, sizeof(r->fail_msg));
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (fd >= 0 && n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a closed terminal must not stop the run */
		p += w;
		n -= (size_t)w;
	}
}

static void on_output(struct recap_run *r, int fd, struct recap_tail *t, int stream, bool *eof)
{
	char buf[65536];
	/* a session sends what it reads as one message */
	size_t want = r->spec->session ? RECAP_SESSION_MSG_MAX - 1 : sizeof(buf);
	ssize_t n = read(fd, buf, want);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) { /* EIO on a PTY master: the last slave closed */
		*eof = true;
		return;
	}
	recap_tail_push(t, buf, (size_t)n);
	recap_run_log_write(&r->log, buf, (size_t)n);
	if (r->spec->session)
		recap_session_output(r, buf, (size_t)n, recap_now_mono_ms());
	else
		write_all(stream, buf, (size_t)n);
}

static void on_stdin(struct recap_run *r)
{
	char buf[4096];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		r->stdin_eof = true;
		return;
	}
	write_all(r->pty_master, buf, (size_t)n);
}

static void stop(struct recap_run *r, uint64_t now)
{
	if (r->kill_at || r->hard_kill_at)
		return;
	(void)recap_cgroup_signal(&r->cg, SIGTERM, r->sup);
	r->kill_at = now + r->spec->grace_ms;
}

/* The session ended (its client went away, broke the protocol or was idle):
 * a terminal hangup, as when a remote terminal's line drops. Closing the
 * master sends SIGHUP to the command's session and foreground group; then
 * the normal stop of every process of the run. */
static void session_hangup(struct recap_run *r, uint64_t now)
{
	r->sess.hung_up = true;
	if (r->sup_exited || (r->sync_eof && !r->sup))
		return; /* the command ended first: the run ends as it did */
	r->sess.cancelled = true;
	if (r->pty_master >= 0) {
		close(r->pty_master);
		r->pty_master = r->out_fd = -1;
		r->out_eof = true;
	}
	stop(r, now);
}

static void on_session_pty(struct recap_run *r, short revents)
{
	if (revents & POLLOUT)
		recap_session_on_pty_writable(r, revents);
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (recap_session_pty_events(r) & POLLIN)
			on_output(r, r->out_fd, &r->out, -1, &r->out_eof);
		else /* no slave, and output waits: stdin goes nowhere */
			recap_session_on_pty_writable(r, POLLHUP);
	}
}

static void on_signal(struct recap_run *r, uint64_t now)
{
	struct signalfd_siginfo si;
	if (read(r->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGWINCH) {
		recap_tty_resize(r);
		return;
	}
	r->cancelled = true;
	stop(r, now);
}

static void on_supervisor_exit(struct recap_run *r, uint64_t now)
{
	int st;
	r->sup_exited = true;
	waitpid(r->sup, &st, 0);
	struct recap_exec_status status;
	if (read(r->status_fd, &status, sizeof(status)) == sizeof(status)) {
		r->status = status.wait_status;
		r->upper_full = status.upper_full;
		r->have_status = true;
	}
	r->drain_until = now + DRAIN_MS;
}

static void timers(struct recap_run *r, uint64_t now)
{
	if (r->spec->session)
		recap_session_timers(r, now);
	if (r->deadline && now >= r->deadline && !r->timed_out) {
		r->timed_out = true;
		stop(r, now);
	}
	if (r->kill_at && now >= r->kill_at) {
		(void)recap_cgroup_signal(&r->cg, SIGKILL, r->sup);
		r->kill_at = 0;
		r->hard_kill_at = now + HARD_KILL_MS;
	}
	if (r->hard_kill_at && now >= r->hard_kill_at) {
		(void)recap_cgroup_kill(&r->cg, 0);
		r->hard_kill_at = 0;
	}
}

static bool done(struct recap_run *r, uint64_t now)
{
	if (r->sync_eof && !r->sup)
		return true; /* the first child failed before the supervisor existed */
	if (!r->sup_exited)
		return false;
	return (r->out_eof && r->err_eof) || now >= r->drain_until;
}

static int timeout_of(const struct recap_run *r, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	uint64_t t[] = {r->deadline && !r->timed_out ? r->deadline : 0, r->kill_at, r->hard_kill_at,
			r->sup_exited ? r->drain_until : 0, recap_session_idle_at(r)};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (t[i] && t[i] < next)
			next = t[i];
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)(next - now < 60000 ? next - now : 60000);
}

int recap_run_loop(struct recap_run *r, struct recap_error **err)
{
	recap_run_close_child_ends(r);
	if (r->opts->tty)
		recap_tty_receive(r);
	if (r->spec->timeout_ms)
		r->deadline = r->t_start + r->spec->timeout_ms;
	r->err_eof = r->err_fd < 0;
	bool session = r->spec->session;
	for (;;) {
		uint64_t now = recap_now_mono_ms();
		timers(r, now);
		if (session && r->sess.end_msg[0] && !r->sess.hung_up)
			session_hangup(r, now);
		if (done(r, now))
			break;
		struct pollfd p[P_N] = {
		    [P_SYNC] = {.fd = r->sync_eof ? -1 : r->sync_fd, .events = POLLIN},
		    [P_OUT] = {.fd = r->out_eof ? -1 : r->out_fd, .events = POLLIN},
		    [P_ERR] = {.fd = r->err_eof ? -1 : r->err_fd, .events = POLLIN},
		    [P_SIG] = {.fd = r->sig_fd, .events = POLLIN},
		    [P_SUP] = {.fd = r->sup_exited ? -1 : r->sup_pidfd, .events = POLLIN},
		    [P_IN] = {.fd = r->opts->tty && !r->stdin_eof ? STDIN_FILENO : -1, .events = POLLIN},
		};
		if (session) { /* the socket for stdin; flow control both ways */
			short sev = recap_session_sock_events(r), pev = recap_session_pty_events(r);
			p[P_IN] = (struct pollfd){.fd = sev ? r->sess.fd : -1, .events = sev};
			p[P_OUT] = (struct pollfd){.fd = !r->out_eof && pev ? r->out_fd : -1, .events = pev};
		}
		int n = poll(p, P_N, timeout_of(r, now));
		if (n < 0 && errno != EINTR)
			return recap_error_set_errno(err, errno, "poll");
		now = recap_now_mono_ms();
		if (p[P_SYNC].revents)
			on_sync(r);
		if (p[P_OUT].revents && session)
			on_session_pty(r, p[P_OUT].revents);
		else if (p[P_OUT].revents)
			on_output(r, r->out_fd, &r->out, r->opts->stream_out, &r->out_eof);
		if (p[P_ERR].revents)
			on_output(r, r->err_fd, &r->err, r->opts->stream_err, &r->err_eof);
		if (p[P_SIG].revents)
			on_signal(r, now);
		if (p[P_IN].revents && session)
			recap_session_on_sock(r, p[P_IN].revents, now);
		else if (p[P_IN].revents)
			on_stdin(r);
		if (p[P_SUP].revents)
			on_supervisor_exit(r, now);
	}
	r->t_end = recap_now_mono_ms();
	return 0;
}
