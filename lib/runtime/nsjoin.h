/* Joining the target's namespaces. */
#pragma once

#include <sys/types.h>

#include "base/error.h"

/* setns(pidfd, flags) for the RECAP_JOIN_* set, atomically; on kernels
 * without pidfd setns, one /proc/<pid>/ns/<name> fd per namespace, each
 * checked against the pidfd so a reused pid is never joined. PID takes effect
 * for children only: the caller forks afterwards. */
int recap_nsjoin(int pidfd, pid_t pid, unsigned join, struct recap_error **err);
/* The executor's children are born in the target's PID namespace from now
 * on; *ret_saved is the caller's own, for recap_nsjoin_pid_restore (which
 * closes it) right after the fork. */
int recap_nsjoin_pid_for_children(int pidfd, pid_t pid, int *ret_saved, struct recap_error **err);
void recap_nsjoin_pid_restore(int saved);
/* Every namespace of net, ipc, uts and cgroup that join does not name is
 * made new (unshare), never left the executor's (the node's); a new network
 * namespace gets its loopback up. The PID namespace is the caller's to make
 * (CLONE_NEWPID at the fork, recap_nsjoin_fork). */
int recap_nsjoin_unshare_rest(unsigned join, struct recap_error **err);
/* fork(), with extra clone flags (CLONE_NEWPID); a pid, 0 in the child, or
 * -1 with errno. */
pid_t recap_nsjoin_fork(unsigned long clone_flags);
