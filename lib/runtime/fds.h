/* The run's processes hold only the fds they were handed: nothing of the
 * executor's (a directory fd of the host is a way out of the capsule's root,
 * CVE-2024-21626). */
#pragma once

#include <stddef.h>

/* Closes every fd of the calling process but those in keep (n entries,
 * negative ones ignored); 0 or -errno. */
int recap_fds_close_except(const int *keep, size_t n);
/* Enters wd, resolved inside the caller's root as if it were "/" (openat2
 * RESOLVE_IN_ROOT): ".." and absolute symlinks stay inside, magic links
 * (/proc/self/fd/N, /proc/<pid>/cwd) are refused; 0 or -errno. */
int recap_fds_enter_workdir(const char *wd);
