/* The supervisor (capsule-init) once the command runs: it lives in the
 * target's PID namespace for the whole run, so it holds nothing worth
 * taking and the command cannot reach it. */
#pragma once

#include <seccomp.h>
#include <sys/types.h>

#include "base/error.h"
#include "runtime/exec.h"

/* Before the command is forked, when it will have a filter: a filter of the
 * supervisor's that the command inherits, refusing (EPERM) ptrace,
 * process_vm_readv/writev, kcmp and pidfd_open aimed at the supervisor,
 * even with SYS_PTRACE granted. */
int recap_confine_guard(const struct recap_exec_ctx *c, struct recap_error **err);

/* After the fork, in the supervisor: the command's user when it is not
 * root, no capability in any set, no_new_privs, not dumpable, and an
 * allow-list of the calls its loop makes (wait, kill, pread of the cgroup's
 * procs, statfs, write of the status, sleep, exit); anything else EPERM. */
int recap_confine_supervisor(const struct recap_exec_ctx *c, struct recap_error **err);

/* The two filters, exposed for tests. */
int recap_confine_guard_filter(pid_t supervisor, scmp_filter_ctx *ret, struct recap_error **err);
int recap_confine_supervisor_filter(scmp_filter_ctx *ret, struct recap_error **err);
