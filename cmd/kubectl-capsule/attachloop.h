/* attach's session: the terminal and the WebSocket (kubectl exec -it's
 * side of the channel protocol, wsproto/channel.h).
 *
 * When stdin is a terminal it is put in raw mode (restored on every way out,
 * signals included), its size goes on the resize channel at the start and on
 * SIGWINCH. stdin goes on channel 0 and its end as v5's close signal; channels
 * 1 and 2 are written to stdout and stderr byte for byte; pings are answered;
 * the error channel's Status ends the session with the command's exit code.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "kube/raw.h"

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGWINCH are written to a pipe whose
 * read end this returns (non-blocking); the process then never dies of
 * them, the loops that poll it decide. -errno on failure. */
int plugin_attach_signals(void);
/* The signal number waiting on the pipe, 0 when none. */
int plugin_attach_signal_read(int fd);

struct attach_io {
	struct recap_kube_raw *conn;
	int version;	     /* 5 or 4 */
	const char *pending; /* bytes that came after the 101's head */
	size_t npending;
	int in_fd, out_fd, err_fd;
	bool tty;      /* in_fd is a terminal: raw mode and resize */
	int signal_fd; /* plugin_attach_signals() */
};

/* The process's exit status: the command's exit code, 1 for a failure
 * (printed on stderr), 128 + N when signal N ended the session. */
int plugin_attach_session(const struct attach_io *io);
