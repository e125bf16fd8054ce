#include "base/failpoint.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FAILPOINTS_MAX 16
#define FAILPOINT_NAME_MAX 64

enum action { ACT_KILL, ACT_STOP, ACT_ERROR, ACT_SLEEP };

struct failpoint {
	char name[FAILPOINT_NAME_MAX];
	enum action action;
	unsigned long sleep_ms;
	unsigned long nth;  /* 0: every time */
	unsigned long hits; /* times reached */
};

static struct failpoint points[FAILPOINTS_MAX];
static size_t n_points;

static int parse_action(const char *s, struct failpoint *fp)
{
	char *end;
	if (strcmp(s, "kill") == 0)
		fp->action = ACT_KILL;
	else if (strcmp(s, "stop") == 0)
		fp->action = ACT_STOP;
	else if (strcmp(s, "error") == 0)
		fp->action = ACT_ERROR;
	else if (strncmp(s, "sleep:", 6) == 0 && s[6] >= '0' && s[6] <= '9') {
		errno = 0;
		fp->sleep_ms = strtoul(s + 6, &end, 10);
		if (errno || *end || fp->sleep_ms > 3600 * 1000UL)
			return -EINVAL;
		fp->action = ACT_SLEEP;
	} else
		return -EINVAL;
	return 0;
}

/* One "NAME=ACTION[@N]", in place. */
static int parse_one(char *item, struct failpoint *fp, struct recap_error **err)
{
	char *eq = strchr(item, '='), *at, *end;
	if (!eq || eq == item || (size_t)(eq - item) >= FAILPOINT_NAME_MAX)
		return recap_error_set(err, EINVAL, "RECAP_FAILPOINTS: \"%s\" is not NAME=ACTION[@N]", item);
	*eq = '\0';
	*fp = (struct failpoint){0};
	strcpy(fp->name, item);
	if ((at = strchr(eq + 1, '@'))) {
		*at = '\0';
		errno = 0;
		fp->nth = strtoul(at + 1, &end, 10);
		if (errno || *end || at[1] < '1' || at[1] > '9')
			return recap_error_set(err, EINVAL, "RECAP_FAILPOINTS: %s: @%s is not a count from 1",
					       item, at + 1);
	}
	if (parse_action(eq + 1, fp) < 0)
		return recap_error_set(
		    err, EINVAL, "RECAP_FAILPOINTS: %s: unknown action \"%s\" (kill, stop, error, sleep:MS)",
		    item, eq + 1);
	return 0;
}

int recap_failpoints_init(struct recap_error **err)
{
	const char *env = getenv("RECAP_FAILPOINTS");
	n_points = 0;
	if (!env || !*env)
		return 0;
#ifndef RECAP_FAILPOINTS
	return recap_error_set(err, ENOTSUP,
			       "RECAP_FAILPOINTS is set, but this build has no failpoints (configure it with "
			       "-Dfailpoints=true)");
#endif
	char *copy = strdup(env), *save = NULL;
	if (!copy)
		return -ENOMEM;
	int r = 0;
	for (char *item = strtok_r(copy, ";", &save); item && r >= 0; item = strtok_r(NULL, ";", &save)) {
		if (n_points == FAILPOINTS_MAX)
			r = recap_error_set(err, E2BIG, "RECAP_FAILPOINTS: more than %d points",
					    FAILPOINTS_MAX);
		else if ((r = parse_one(item, &points[n_points], err)) >= 0)
			n_points++;
	}
	free(copy);
	if (r < 0)
		n_points = 0;
	return r;
}

#ifdef RECAP_FAILPOINTS
static void say(const char *name, const char *what)
{
	/* One write, so lines from several processes do not mix. */
	char line[160];
	int n = snprintf(line, sizeof(line), "failpoint %s: %s\n", name, what);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		return;
}

int recap_failpoint(const char *name)
{
	for (size_t i = 0; i < n_points; i++) {
		struct failpoint *fp = &points[i];
		if (strcmp(fp->name, name) != 0)
			continue;
		fp->hits++;
		if (fp->nth && fp->hits != fp->nth)
			return 0;
		switch (fp->action) {
		case ACT_KILL:
			say(name, "kill");
			raise(SIGKILL);
			break;
		case ACT_STOP:
			say(name, "stop");
			raise(SIGSTOP);
			break;
		case ACT_ERROR:
			say(name, "error");
			return -EIO;
		case ACT_SLEEP: {
			say(name, "sleep");
			struct timespec ts = {(time_t)(fp->sleep_ms / 1000),
					      (long)(fp->sleep_ms % 1000) * 1000000L};
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
			break;
		}
		}
	}
	return 0;
}
#endif
