/* attach's session on the terminal and the WebSocket: see attachloop.h. */
#include "attachloop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include "attachws.h"
#include "base/buf.h"
#include "sanitize.h"
#include "wsproto/channel.h"
#include "wsproto/frame.h"

#define READ_CHUNK 32768
#define MESSAGE_MAX (4u << 20)
#define SEND_BUF_MAX (8u << 20)
#define SEND_BACKLOG (256u << 10) /* stdin waits while more than this is unsent */

static int signal_pipe[2] = {-1, -1};

static void on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;
	(void)!write(signal_pipe[1], &b, 1);
	errno = saved;
}

int plugin_attach_signals(void)
{
	if (signal_pipe[0] < 0 && pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	return signal_pipe[0];
}

int plugin_attach_signal_read(int fd)
{
	unsigned char b;
	return read(fd, &b, 1) == 1 ? b : 0;
}

/* ---- the terminal ---- */

static struct termios saved_term;
static int raw_fd = -1;

static void term_restore(void)
{
	if (raw_fd < 0)
		return;
	tcsetattr(raw_fd, TCSADRAIN, &saved_term);
	raw_fd = -1;
}

static int term_raw(int fd)
{
	static bool registered;
	struct termios t;
	if (tcgetattr(fd, &saved_term) < 0)
		return -errno;
	t = saved_term;
	cfmakeraw(&t);
	if (!registered) {
		atexit(term_restore); /* whatever way out is taken */
		registered = true;
	}
	raw_fd = fd;
	if (tcsetattr(fd, TCSADRAIN, &t) < 0) {
		raw_fd = -1;
		return -errno;
	}
	return 0;
}

/* ---- the connection ---- */

struct loop {
	const struct attach_io *io;
	struct recap_ws_decoder dec;
	struct recap_buf out; /* frames not sent yet */
	bool stdin_eof;
	bool closing; /* our close frame is queued: send it and stop */
	bool done;
	int status;
	char *message; /* printed as "error: ..." at the end */
	struct recap_error *err;
};

static void mask_key(uint8_t key[4])
{
	if (getrandom(key, 4, 0) != 4)
		for (int i = 0; i < 4; i++)
			key[i] = (uint8_t)random();
}

static void finish(struct loop *l, int status, const char *message)
{
	if (l->done)
		return;
	l->done = true;
	l->status = status;
	if (message && !l->message)
		l->message = strdup(message);
}

static void fail_err(struct loop *l, const char *what)
{
	char *m = NULL;
	if (asprintf(&m, "%s: %s", what, l->err ? recap_error_message(l->err) : "out of memory") < 0)
		m = NULL;
	recap_error_free(l->err);
	l->err = NULL;
	finish(l, 1, m ? m : what);
	free(m);
}

static void queue(struct loop *l, enum recap_wschan_channel ch, const void *p, size_t n)
{
	uint8_t key[4];
	mask_key(key);
	if (recap_wschan_encode(&l->out, RECAP_WS_CLIENT, ch, p, n, key, &l->err) < 0)
		fail_err(l, "sending to the session");
}

static void queue_close(struct loop *l, uint16_t code)
{
	uint8_t key[4];
	mask_key(key);
	if (!l->closing && recap_ws_encode_close(&l->out, RECAP_WS_CLIENT, code, NULL, key, &l->err) < 0) {
		recap_error_free(l->err);
		l->err = NULL;
	}
	l->closing = true;
}

static void send_resize(struct loop *l)
{
	struct winsize ws;
	if (!l->io->tty || ioctl(l->io->in_fd, TIOCGWINSZ, &ws) < 0 || !ws.ws_col || !ws.ws_row)
		return;
	char json[64];
	int n = snprintf(json, sizeof(json), "{\"Width\":%u,\"Height\":%u}", ws.ws_col, ws.ws_row);
	queue(l, RECAP_WSCHAN_RESIZE, json, (size_t)n);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			poll(&pfd, 1, -1);
			continue;
		}
		if (k <= 0)
			return -errno;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void on_status(struct loop *l, const uint8_t *p, size_t n)
{
	char *message = NULL;
	int code = plugin_attach_exit_code(p, n, &message);
	finish(l, code, message);
	free(message);
	queue_close(l, RECAP_WS_CLOSE_NORMAL);
}

static void on_message(struct loop *l, const struct recap_ws_message *m)
{
	struct recap_wschan_message cm;
	switch (m->opcode) {
	case RECAP_WS_PING: {
		uint8_t key[4];
		mask_key(key);
		if (recap_ws_encode(&l->out, RECAP_WS_CLIENT, RECAP_WS_PONG, true, m->data, m->len, key,
				    &l->err) < 0)
			fail_err(l, "answering a ping");
		return;
	}
	case RECAP_WS_PONG:
		return;
	case RECAP_WS_CLOSE:
		queue_close(l, m->close_code == RECAP_WS_CLOSE_NO_STATUS ? RECAP_WS_CLOSE_NORMAL
									 : m->close_code);
		finish(l, 1, "the session ended without an exit status");
		return;
	default:
		break;
	}
	if (recap_wschan_decode(l->io->version, RECAP_WS_CLIENT, m, &cm, &l->err) < 0) {
		queue_close(l, RECAP_WS_CLOSE_PROTOCOL_ERROR);
		fail_err(l, "the session's stream");
		return;
	}
	switch (cm.channel) {
	case RECAP_WSCHAN_STDOUT:
	case RECAP_WSCHAN_STDERR: {
		int fd = cm.channel == RECAP_WSCHAN_STDOUT ? l->io->out_fd : l->io->err_fd;
		if (cm.len && write_all(fd, cm.data, cm.len) < 0 && cm.channel == RECAP_WSCHAN_STDOUT) {
			queue_close(l, RECAP_WS_CLOSE_GOING_AWAY);
			finish(l, 1, "cannot write the session's output");
		}
		return;
	}
	case RECAP_WSCHAN_ERROR:
		if (cm.len)
			on_status(l, cm.data, cm.len);
		return;
	default: /* the server closing a stream of its own: nothing to do */
		return;
	}
}

static void feed(struct loop *l, const char *p, size_t n)
{
	while (n && !l->done) {
		size_t used = 0;
		struct recap_ws_message m;
		int r = recap_ws_decoder_feed(&l->dec, p, n, &used, &m, &l->err);
		if (r < 0) {
			queue_close(l, recap_ws_decoder_close_code(&l->dec) ?: RECAP_WS_CLOSE_PROTOCOL_ERROR);
			fail_err(l, "the session's stream");
			return;
		}
		p += used;
		n -= used;
		if (r == 1)
			on_message(l, &m);
		else if (used == 0)
			return;
	}
}

static void read_conn(struct loop *l)
{
	char buf[READ_CHUNK];
	while (!l->done) {
		long k = recap_kube_raw_recv(l->io->conn, buf, sizeof(buf), &l->err);
		if (k == -EAGAIN)
			return;
		if (k <= 0) {
			recap_error_free(l->err);
			l->err = NULL;
			finish(l, 1, "the session ended without an exit status");
			return;
		}
		feed(l, buf, (size_t)k);
	}
}

static void read_stdin(struct loop *l)
{
	char buf[READ_CHUNK];
	ssize_t k = read(l->io->in_fd, buf, sizeof(buf));
	if (k < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (k > 0) {
		queue(l, RECAP_WSCHAN_STDIN, buf, (size_t)k);
		return;
	}
	l->stdin_eof = true; /* v4 has no way to say so: the command keeps its stdin open */
	if (l->io->version >= 5) {
		uint8_t key[4];
		mask_key(key);
		if (recap_wschan_encode_close(&l->out, RECAP_WS_CLIENT, RECAP_WSCHAN_STDIN, key, &l->err) < 0)
			fail_err(l, "closing stdin");
	}
}

/* Sends what it can without waiting; < 0 when the connection failed. */
static int flush(struct loop *l)
{
	while (l->out.len) {
		long k = recap_kube_raw_send(l->io->conn, l->out.data, l->out.len, &l->err);
		if (k == -EAGAIN)
			return 0;
		if (k <= 0)
			return -EPIPE;
		recap_buf_consume(&l->out, (size_t)k);
	}
	return 0;
}

/* What is queued when the session ends (the close frame) goes out, for a
 * moment at most. */
static void drain(struct loop *l)
{
	for (int i = 0; i < 20 && l->out.len; i++) {
		if (flush(l) < 0)
			break;
		struct pollfd pfd = {.fd = recap_kube_raw_fd(l->io->conn), .events = POLLOUT};
		if (l->out.len)
			poll(&pfd, 1, 50);
	}
	recap_error_free(l->err);
	l->err = NULL;
}

static void on_signals(struct loop *l)
{
	int sig;
	while ((sig = plugin_attach_signal_read(l->io->signal_fd)) > 0) {
		if (sig == SIGWINCH) {
			send_resize(l);
			continue;
		}
		queue_close(l, RECAP_WS_CLOSE_GOING_AWAY);
		char m[64];
		snprintf(m, sizeof(m), "session ended by signal %d (%s)", sig, strsignal(sig));
		finish(l, 128 + sig, m);
	}
}

int plugin_attach_session(const struct attach_io *io)
{
	struct loop l = {.io = io, .out = RECAP_BUF_INIT(SEND_BUF_MAX)};
	recap_ws_decoder_init(&l.dec, RECAP_WS_CLIENT, MESSAGE_MAX);
	if (io->tty && term_raw(io->in_fd) < 0)
		fprintf(stderr, "warning: cannot put the terminal in raw mode: %s\n", strerror(errno));
	send_resize(&l);
	feed(&l, io->pending, io->npending);
	int sock = recap_kube_raw_fd(io->conn);
	while (!l.done) {
		if (flush(&l) < 0) {
			recap_error_free(l.err);
			l.err = NULL;
			finish(&l, 1, "the session ended without an exit status");
			break;
		}
		struct pollfd pfd[3] = {
		    {.fd = sock, .events = POLLIN | (l.out.len ? POLLOUT : 0)},
		    {.fd = io->signal_fd, .events = POLLIN},
		    {.fd = io->in_fd, .events = POLLIN},
		};
		nfds_t n = l.stdin_eof || l.out.len > SEND_BACKLOG ? 2 : 3;
		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			finish(&l, 1, "poll failed");
			break;
		}
		if (pfd[1].revents)
			on_signals(&l);
		if (!l.done && n == 3 && pfd[2].revents)
			read_stdin(&l);
		if (!l.done && pfd[0].revents)
			read_conn(&l);
	}
	drain(&l);
	term_restore();
	if (l.message) {
		/* the message may quote the server: escaped */
		if (io->tty)
			fputs("\r\n", stderr); /* the cursor may stand mid-line */
		plugin_printf_safe(stderr, "error: %s\n", l.message);
	}
	free(l.message);
	recap_buf_free(&l.out);
	recap_ws_decoder_free(&l.dec);
	return l.status;
}
