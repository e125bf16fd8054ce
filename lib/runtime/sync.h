/* Messages from the run's child processes to the executor, one write each
 * (smaller than PIPE_BUF, so never interleaved). */
#pragma once

#include <stdarg.h>

enum recap_sync_kind {
	RECAP_SYNC_PID = 1,    /* attached: the first child is the supervisor now */
	RECAP_SYNC_ERROR,      /* attaching failed */
	RECAP_SYNC_EXEC_ERROR, /* the command could not be started */
};

struct recap_sync_msg {
	int kind;
	int code; /* positive errno */
	int pid;
	char text[1024];
};

void recap_sync_send(int fd, enum recap_sync_kind kind, int code, int pid, const char *text);
void recap_sync_sendf(int fd, enum recap_sync_kind kind, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
