/* Joining the target's namespaces, and making new the ones not joined. */
#include "runtime/process.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "runtime/spec.h"

static const struct {
	unsigned bit;
	int flag;
	const char *name;
} namespaces[] = {
    {RECAP_JOIN_CGROUP, CLONE_NEWCGROUP, "cgroup"}, {RECAP_JOIN_IPC, CLONE_NEWIPC, "ipc"},
    {RECAP_JOIN_UTS, CLONE_NEWUTS, "uts"},	    {RECAP_JOIN_NET, CLONE_NEWNET, "net"},
    {RECAP_JOIN_PID, CLONE_NEWPID, "pid"},
};

static int join_by_path(int pidfd, pid_t pid, unsigned join, struct recap_error **err)
{
	int fds[ARRAY_SIZE(namespaces)];
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
		char path[64];
		fds[i] = -1;
		if (!(join & namespaces[i].bit))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, namespaces[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
	}
	/* the fds were opened by pid: still the same process? */
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int gone = poll(&p, 1, 0) > 0;
	int r = gone ? recap_error_set(err, ESRCH, "target process %d exited", (int)pid) : 0;
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++) {
		if (r >= 0 && (join & namespaces[i].bit) &&
		    (fds[i] < 0 || setns(fds[i], namespaces[i].flag) < 0))
			r = recap_error_set_errno(err, errno, "cannot join the target's %s namespace",
						  namespaces[i].name);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	return r;
}

int recap_nsjoin_pid_for_children(int pidfd, pid_t pid, int *ret_saved, struct recap_error **err)
{
	int saved = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (saved < 0)
		return recap_error_set_errno(err, errno, "cannot open own PID namespace");
	int r = recap_nsjoin(pidfd, pid, RECAP_JOIN_PID, err);
	if (r < 0) {
		close(saved);
		return r;
	}
	*ret_saved = saved;
	return 0;
}

void recap_nsjoin_pid_restore(int saved)
{
	/* back to the caller's own (active) namespace: always allowed */
	(void)setns(saved, CLONE_NEWPID);
	close(saved);
}

int recap_nsjoin(int pidfd, pid_t pid, unsigned join, struct recap_error **err)
{
	int flags = 0;
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++)
		if (join & namespaces[i].bit)
			flags |= namespaces[i].flag;
	if (flags == 0)
		return 0;
	if (setns(pidfd, flags) == 0)
		return 0;
	if (errno == ESRCH)
		return recap_error_set(err, ESRCH, "target process %d exited", (int)pid);
	if (errno != EINVAL)
		return recap_error_set_errno(err, errno, "cannot join the target's namespaces");
	return join_by_path(pidfd, pid, join, err);
}

/* A new network namespace has only lo, down: a tool that talks to itself
 * over 127.0.0.1 would fail. */
static int loopback_up(struct recap_error **err)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return recap_error_set_errno(err, errno, "cannot read the flags of lo");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return recap_error_set_errno(err, errno, "cannot bring lo up");
	return 0;
}

int recap_nsjoin_unshare_rest(unsigned join, struct recap_error **err)
{
	int flags = 0;
	for (size_t i = 0; i < ARRAY_SIZE(namespaces); i++)
		if (!(join & namespaces[i].bit) && namespaces[i].bit != RECAP_JOIN_PID &&
		    namespaces[i].bit != RECAP_JOIN_CGROUP)
			flags |= namespaces[i].flag;
	if (flags && unshare(flags) < 0)
		return recap_error_set_errno(err, errno, "cannot create the run's own namespaces");
	return (flags & CLONE_NEWNET) ? loopback_up(err) : 0;
}

pid_t recap_nsjoin_fork(unsigned long clone_flags)
{
	/* raw clone: fork(3) takes no flags; no stack, so it returns twice */
	return (pid_t)syscall(SYS_clone, SIGCHLD | clone_flags, NULL, NULL, NULL, NULL);
}
