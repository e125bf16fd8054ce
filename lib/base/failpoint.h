/* Failpoints: named places where a test build makes the process fail the
 * way a real fault would, at a chosen moment (as etcd's gofail and
 * FreeBSD's fail(9) do). They exist only in a build configured with
 * -Dfailpoints=true (hack/test's builds); in any other build
 * recap_failpoint() is a constant 0 and a binary holds no trace of them.
 *
 * The environment arms them:
 *
 *   RECAP_FAILPOINTS="NAME=ACTION[@N][;NAME=ACTION[@N]...]"
 *
 * ACTION is one of
 *   kill       the process dies at once (SIGKILL: no cleanup, as a crash
 *              or the OOM killer would leave it)
 *   stop       the process stops (SIGSTOP), as a hung one; SIGCONT resumes
 *   error      the operation there fails: recap_failpoint() returns -EIO
 *   sleep:MS   it waits MS milliseconds, then goes on
 * and @N fires it only the Nth time the point is reached (from 1); without
 * it, every time. Each firing is told on stderr ("failpoint NAME: ACTION")
 * before it acts, so a test can wait for it.
 *
 * The names in use are listed in docs/development.md. */
#pragma once

#include "base/error.h"

/* Reads RECAP_FAILPOINTS; a main calls it first and exits on an error (an
 * unknown action, or failpoints set for a build without them), so a test
 * that arms a point never passes because nothing was armed. */
int recap_failpoints_init(struct recap_error **err);

#ifdef RECAP_FAILPOINTS
/* 0, or -EIO when armed with "error"; kills, stops or sleeps in place. */
int recap_failpoint(const char *name);
#else
static inline int recap_failpoint(const char *name)
{
	(void)name;
	return 0;
}
#endif
