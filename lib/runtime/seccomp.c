/* The default profile: everything allowed except what reaches past the
 * sandbox (mounts, namespaces, kernel keyrings, BPF, modules, reboot, ...). */
#include "runtime/seccomp.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>

#include "base/cleanup.h"
#include "base/json.h"

static const char *const denied[] = {
    "mount",
    "umount",
    "umount2",
    "unshare",
    "setns",
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "create_module",
    "open_by_handle_at",
    "pivot_root",
    "swapon",
    "swapoff",
    "reboot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "move_mount",
    "mount_setattr",
    "userfaultfd",
    "perf_event_open",
    "lookup_dcookie",
    "acct",
    "quotactl",
    "nfsservctl",
    "uselib",
    "iopl",
    "ioperm",
    "vm86",
    "vm86old",
    "kcmp",
    "name_to_handle_at",
};

static int deny(scmp_filter_ctx ctx, const char *name, struct recap_error **err)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0; /* not on this architecture */
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
	return r < 0 ? recap_error_set_errno(err, r, "seccomp rule for %s", name) : 0;
}

/* clone() can make namespaces without unshare(); clone3 hides its flags in
 * memory a filter cannot read, so it reports ENOSYS and libc falls back. */
static int deny_clone_namespaces(scmp_filter_ctx ctx, struct recap_error **err)
{
	static const unsigned long flags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,	  CLONE_NEWUSER,
					      CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
					 SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
		if (r < 0)
			return recap_error_set_errno(err, r, "seccomp rule for clone");
	}
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	return r < 0 ? recap_error_set_errno(err, r, "seccomp rule for clone3") : 0;
}

static int default_profile(uint64_t caps, scmp_filter_ctx *ret, struct recap_error **err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return recap_error_set(err, ENOMEM, "seccomp_init");
	/* foreign ABIs (i386, x32) get EPERM for every call */
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ERRNO(EPERM));
	if (r < 0)
		r = recap_error_set_errno(err, r, "seccomp: bad-arch action");
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(denied); i++)
		r = deny(ctx, denied[i], err);
	if (r >= 0 && !(caps & (1ull << CAP_SYS_PTRACE))) {
		r = deny(ctx, "ptrace", err);
		if (r >= 0)
			r = deny(ctx, "process_vm_readv", err);
		if (r >= 0)
			r = deny(ctx, "process_vm_writev", err);
	}
	if (r >= 0)
		r = deny_clone_namespaces(ctx, err);
	if (r < 0) {
		seccomp_release(ctx);
		return r;
	}
	*ret = ctx;
	return 0;
}

int recap_seccomp_build(const struct recap_run_spec *s, uint64_t caps, scmp_filter_ctx *ret,
			struct recap_error **err)
{
	switch (s->seccomp) {
	case RECAP_SECCOMP_UNCONFINED:
		*ret = NULL;
		return 0;
	case RECAP_SECCOMP_DEFAULT:
		return default_profile(caps, ret, err);
	case RECAP_SECCOMP_PROFILE:
		break;
	}
	_cleanup_json_ json_t *doc = NULL;
	int r = recap_json_load_file(s->seccomp_profile, RECAP_SPEC_MAX_BYTES, &doc, err);
	if (r >= 0)
		r = recap_seccomp_from_oci(doc, caps, ret, err);
	return r < 0 ? recap_error_wrap(err, r, "seccomp profile %s", s->seccomp_profile) : 0;
}
