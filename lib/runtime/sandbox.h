/* The sandbox: what confines a run beyond its namespaces and mounts. The
 * command's capabilities, its seccomp filter, Landlock for a read-only
 * target, the kernel's knobs masked in /proc and /sys, and the supervisor
 * confined once the command runs. */
#pragma once

#include <seccomp.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "runtime/process.h"
#include "runtime/spec.h"

/* Capabilities of the command: a minimal default set plus what was added. */

/* CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, NET_BIND_SERVICE,
 * AUDIT_WRITE: enough for ordinary tools run as root, nothing that reaches
 * past the sandbox. */
uint64_t recap_caps_default(void);

/* Drops every capability outside `keep` from the bounding and ambient
 * sets of the caller; effective and permitted become `keep`, inheritable
 * empty. */
int recap_caps_apply(uint64_t keep, struct recap_error **err);
/* After recap_caps_apply: becomes uid:gid (no supplementary groups) keeping
 * exactly `keep` (the explicitly added capabilities: a non-root user gets
 * none of the default set). A non-root user gets them as ambient (and so
 * inheritable) capabilities, so that they survive exec; root needs neither
 * and gets neither. */
int recap_caps_become(uid_t uid, gid_t gid, uint64_t keep, struct recap_error **err);
/* For a process that needs no privilege any more: every capability out of
 * every set (bounding included), no_new_privs; when uid > 0, becomes
 * uid:gid first (so that it can still signal that user's processes). */
int recap_caps_drop_all(int64_t uid, int64_t gid, struct recap_error **err);

/* The command's seccomp filter: the default profile or an OCI-format one. */

/* Builds the filter for the spec (NULL in *ret for unconfined). `caps` is the
 * final capability set: ptrace is allowed only with CAP_SYS_PTRACE, and OCI
 * rules with includes/excludes.caps are applied accordingly. */
int recap_seccomp_build(const struct recap_run_spec *s, uint64_t caps, scmp_filter_ctx *ret,
			struct recap_error **err);
/* The default profile alone (recap_seccomp_build's for RECAP_SECCOMP_DEFAULT).
 * Only the capabilities of recap_seccomp_default_caps() change it. */
int recap_seccomp_default(uint64_t caps, scmp_filter_ctx *ret, struct recap_error **err);
uint64_t recap_seccomp_default_caps(void);
/* The default profile's program for caps, as the run's supervisor loads it
 * (recap_exec_prepare): the one built into the executor when there is one
 * (runtime/seccomp_builtin.h), else built and compiled now. */
int recap_seccomp_default_bpf(uint64_t caps, struct recap_bpf *ret, struct recap_error **err);
/* The OCI profile parser, exposed for tests. */
int recap_seccomp_from_oci(json_t *profile, uint64_t caps, scmp_filter_ctx *ret, struct recap_error **err);

/* A filter compiled to BPF before the moment it is loaded (struct
 * recap_bpf, process.h; sandbox_bpf.c). */

/* The program libseccomp would load for ctx; -errno. */
int recap_bpf_compile(scmp_filter_ctx ctx, struct recap_bpf *ret);
/* no_new_privs, then the program, as seccomp_load does with libseccomp's
 * default attributes; -errno. */
int recap_bpf_load(const struct recap_bpf *p);
void recap_bpf_free(struct recap_bpf *p);

/* ReadOnly means read-only: Landlock confines the writes of a run whose
 * target filesystem is ReadOnly or None to the capsule's own places. */
enum recap_landlock_plan {
	RECAP_LANDLOCK_SKIP,   /* ReadWrite, or no Landlock and no target process in view */
	RECAP_LANDLOCK_APPLY,  /* confine */
	RECAP_LANDLOCK_REFUSE, /* no Landlock, and pid joined: the target's processes would
				  lead past a read-only /target */
};

/* The kernel's Landlock ABI version, or -errno (-ENOSYS, -EOPNOTSUPP: none). */
int recap_landlock_abi(void);

/* What a run with this target filesystem and join set does, given abi (a
 * version or -errno from recap_landlock_abi). */
enum recap_landlock_plan recap_landlock_plan(int abi, enum recap_target_fs fs, unsigned join);

/* In the command's process, after pivot_root, the working directory and
 * no_new_privs, before exec: writes (write, truncate, create, remove,
 * rename/link) are allowed only beneath the top-level entries of / but
 * /target, /proc and /sys, and of /dev only to existing files (/dev/shm and
 * /dev/mqueue fully). A file reached through /proc/<pid>/root, cwd, fd/N or
 * mem of a process outside the run is beneath none of them and refused
 * (EACCES), whatever the capabilities; Landlock also refuses ptrace of such
 * processes. Refuses the run (the plan above) where the kernel lacks Landlock
 * and pid is joined. */
int recap_landlock_confine(enum recap_target_fs fs, unsigned join, struct recap_error **err);

/* The supervisor (capsule-init) once the command runs: it lives in the
 * target's PID namespace for the whole run, so it holds nothing worth
 * taking and the command cannot reach it. */

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

/* The kernel's knobs in a capsule's /proc and /sys (sandbox_procmask.c). */

/* The OCI runtime spec's default maskedPaths (an empty read-only tmpfs over a
 * directory, /dev/null over a file) and readonlyPaths (bound read-only) of
 * the mounted /proc and /sys; paths this kernel lacks are skipped. */
int recap_mounts_protect_kernel(struct recap_error **err);
