/* The run's mount namespace, seen from the executor: held from the moment
 * the supervisor reports it built, emptied at escape. */
#include "runtime/mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

int recap_mounts_ns_open(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int recap_mounts_ns_empty(int ns_fd, struct recap_error **err)
{
	/* setns(CLONE_NEWNS) needs a process that shares no fs state: a child,
	 * which then only detaches "/" (the namespace's root, no other path is
	 * resolved in it) and exits */
	pid_t pid = fork();
	if (pid < 0)
		return recap_error_set_errno(err, errno, "cannot fork to empty the run's mount namespace");
	if (pid == 0) {
		if (setns(ns_fd, CLONE_NEWNS) < 0)
			_exit(10);
		_exit(umount2("/", MNT_DETACH) < 0 ? 11 : 0);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return recap_error_set_errno(err, errno,
						     "cannot wait for the mount namespace's cleaner");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	return recap_error_set(err, EBUSY, "the run's mount namespace could not be %s (status %d)",
			       WIFEXITED(st) && WEXITSTATUS(st) == 10 ? "entered" : "emptied", st);
}
