#include "runtime/sync.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
