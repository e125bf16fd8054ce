/* attach: a PTY for the command, relayed to the executor's terminal. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
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
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return recap_error_set_errno(err, errno, "cannot open a pseudo-terminal");
	r->out_fd = r->pty_master = m;
	if (grantpt(m) < 0 || unlockpt(m) < 0)
		return recap_error_set_errno(err, errno, "cannot unlock the pseudo-terminal");
	char name[128];
	if (ptsname_r(m, name, sizeof(name)) != 0)
		return recap_error_set_errno(err, errno, "ptsname");
	r->child_in = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (r->child_in < 0)
		return recap_error_set_errno(err, errno, "cannot open %s", name);
	recap_tty_resize(r);
	raw_mode(r);
	return 0;
}
