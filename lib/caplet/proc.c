#include "caplet/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"

struct caplet_proc {
	uv_process_t process;
	uv_pipe_t out, err;
	struct recap_buf outbuf;
	char errbuf[CAPLET_PROC_STDERR_KEEP + 1];
	size_t errlen;
	char readbuf[16384];
	int64_t status;
	int term_signal;
	int pending; /* exit + two streams */
	int handles;
	int held_doc; /* write end of fd 3's pipe while the document is held; -1 */
	bool exited, overflow;
	caplet_proc_cb cb;
	void *data;
};

static void on_closed(uv_handle_t *h)
{
	struct caplet_proc *p = h->data;
	if (--p->handles > 0)
		return;
	recap_buf_free(&p->outbuf);
	free(p);
}

void caplet_proc_drop_doc(struct caplet_proc *p)
{
	if (p && p->held_doc >= 0) {
		close(p->held_doc);
		p->held_doc = -1;
	}
}

static void finish_one(struct caplet_proc *p)
{
	if (--p->pending > 0)
		return;
	caplet_proc_drop_doc(p);
	p->errbuf[p->errlen] = '\0';
	if (p->overflow)
		p->outbuf.len = 0; /* an oversized result is no result */
	p->cb(p, p->status, p->term_signal, &p->outbuf, p->errbuf, p->data);
	uv_close((uv_handle_t *)&p->process, on_closed);
	uv_close((uv_handle_t *)&p->out, on_closed);
	uv_close((uv_handle_t *)&p->err, on_closed);
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int sig)
{
	struct caplet_proc *p = proc->data;
	p->status = sig ? -1 : status;
	p->term_signal = sig;
	p->exited = true;
	finish_one(p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct caplet_proc *p = h->data;
	*b = uv_buf_init(p->readbuf, sizeof(p->readbuf));
}

static void keep_err(struct caplet_proc *p, const char *d, size_t n)
{
	if (n >= CAPLET_PROC_STDERR_KEEP) {
		d += n - CAPLET_PROC_STDERR_KEEP;
		n = CAPLET_PROC_STDERR_KEEP;
	}
	if (p->errlen + n > CAPLET_PROC_STDERR_KEEP) {
		size_t drop = p->errlen + n - CAPLET_PROC_STDERR_KEEP;
		memmove(p->errbuf, p->errbuf + drop, p->errlen - drop);
		p->errlen -= drop;
	}
	memcpy(p->errbuf + p->errlen, d, n);
	p->errlen += n;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct caplet_proc *p = s->data;
	if (n < 0) {
		uv_read_stop(s);
		finish_one(p);
		return;
	}
	if (s == (uv_stream_t *)&p->err)
		keep_err(p, b->base, (size_t)n);
	else if (!p->overflow && recap_buf_append(&p->outbuf, b->base, (size_t)n) < 0)
		p->overflow = true;
}

static int write_all(int fd, const char *doc, size_t len, struct recap_error **err)
{
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, doc + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return recap_error_set_errno(err, errno, "writing the spec");
		off += (size_t)w;
	}
	return 0;
}

/* The pipe is sized for the document, so writing it never blocks. */
static int doc_pipe(size_t len, int *ret_read, int *ret_write, struct recap_error **err)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return recap_error_set_errno(err, errno, "pipe");
	_cleanup_close_ int rd = fds[0], wr = fds[1];
	if (len > 65536 && fcntl(wr, F_SETPIPE_SZ, (int)len) < 0)
		return recap_error_set_errno(err, errno, "spec of %zu bytes does not fit a pipe", len);
	*ret_read = steal_fd(rd);
	*ret_write = steal_fd(wr);
	return 0;
}

static int spawn(uv_loop_t *loop, char *const *argv, int docfd, caplet_proc_cb cb, void *data,
		 struct caplet_proc **ret, struct recap_error **err)
{
	struct caplet_proc *p = calloc(1, sizeof(*p));
	if (!p)
		return recap_error_set(err, ENOMEM, "out of memory");
	recap_buf_init(&p->outbuf, CAPLET_PROC_STDOUT_MAX);
	p->cb = cb;
	p->data = data;
	p->held_doc = -1;
	p->process.data = p->out.data = p->err.data = p;
	uv_pipe_init(loop, &p->out, 0);
	uv_pipe_init(loop, &p->err, 0);
	uv_stdio_container_t stdio[4] = {
	    {.flags = UV_IGNORE},
	    {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out},
	    {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->err},
	    {.flags = docfd >= 0 ? UV_INHERIT_FD : UV_IGNORE, .data.fd = docfd},
	};
	uv_process_options_t o = {
	    .exit_cb = on_exit_cb, .file = argv[0], .args = (char **)argv, .stdio = stdio, .stdio_count = 4};
	int r = uv_spawn(loop, &p->process, &o);
	if (r < 0) {
		p->handles = 2;
		uv_close((uv_handle_t *)&p->out, on_closed);
		uv_close((uv_handle_t *)&p->err, on_closed);
		return recap_error_set(err, -r, "spawn %s: %s", argv[0], uv_strerror(r));
	}
	p->handles = 3;
	p->pending = 3;
	uv_read_start((uv_stream_t *)&p->out, on_alloc, on_read);
	uv_read_start((uv_stream_t *)&p->err, on_alloc, on_read);
	*ret = p;
	return 0;
}

int caplet_proc_spawn(uv_loop_t *loop, char *const *argv, const char *doc, size_t doc_len, caplet_proc_cb cb,
		      void *data, struct caplet_proc **ret, struct recap_error **err)
{
	_cleanup_close_ int rd = -1, wr = -1;
	if (doc) {
		int r = doc_pipe(doc_len, &rd, &wr, err);
		if (r >= 0)
			r = write_all(wr, doc, doc_len, err);
		if (r < 0)
			return r;
	}
	return spawn(loop, argv, rd, cb, data, ret, err);
}

int caplet_proc_spawn_held(uv_loop_t *loop, char *const *argv, size_t doc_len, caplet_proc_cb cb, void *data,
			   struct caplet_proc **ret, struct recap_error **err)
{
	_cleanup_close_ int rd = -1, wr = -1;
	int r = doc_pipe(doc_len, &rd, &wr, err);
	if (r >= 0)
		r = spawn(loop, argv, rd, cb, data, ret, err);
	if (r >= 0)
		(*ret)->held_doc = steal_fd(wr);
	return r;
}

int caplet_proc_send_doc(struct caplet_proc *p, const char *doc, size_t doc_len, struct recap_error **err)
{
	if (p->held_doc < 0)
		return recap_error_set(err, EPIPE, "the spec was already sent or dropped");
	int r = write_all(p->held_doc, doc, doc_len, err);
	caplet_proc_drop_doc(p);
	return r;
}

pid_t caplet_proc_pid(const struct caplet_proc *p)
{
	return p->process.pid;
}

int caplet_proc_kill(struct caplet_proc *p, int sig)
{
	if (p->exited)
		return 0;
	return uv_process_kill(&p->process, sig);
}
