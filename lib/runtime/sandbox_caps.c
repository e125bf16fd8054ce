/* The command's capabilities: the default set, applied, kept across a
 * change of user; and every capability dropped (sandbox.h). */
#include "runtime/sandbox.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "base/cleanup.h"

uint64_t recap_caps_default(void)
{
	static const int set[] = {CAP_CHOWN,	  CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID,
				  CAP_KILL,	  CAP_SETGID,	    CAP_SETUID, CAP_NET_BIND_SERVICE,
				  CAP_AUDIT_WRITE};
	uint64_t m = 0;
	for (size_t i = 0; i < ARRAY_SIZE(set); i++)
		m |= 1ull << set[i];
	return m;
}

static int drop_bounding(uint64_t keep, struct recap_error **err)
{
	int last = (int)cap_max_bits();
	for (int c = 0; c < last && c < 64; c++) {
		if (keep & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return recap_error_set_errno(err, errno,
						     "cannot drop capability %d from the bounding set", c);
	}
	return 0;
}

/* Effective and permitted: keep. Inheritable: only what must become ambient
 * (a non-root user's granted capabilities), never more: an inheritable
 * capability lets a file with that inheritable file capability gain it on
 * exec (CVE-2022-24769). */
static int set_sets(uint64_t keep, uint64_t inheritable, struct recap_error **err)
{
	cap_t c = cap_init();
	if (!c)
		return recap_error_set_errno(err, errno, "cap_init");
	int last = (int)cap_max_bits();
	for (int i = 0; i < last && i < 64; i++) {
		cap_value_t v = i;
		if (keep & (1ull << i)) {
			cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET);
			cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_SET);
		}
		if (keep & inheritable & (1ull << i))
			cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_SET);
	}
	int r = cap_set_proc(c);
	int e = errno;
	cap_free(c);
	return r < 0 ? recap_error_set_errno(err, e, "cannot set capabilities") : 0;
}

int recap_caps_apply(uint64_t keep, struct recap_error **err)
{
	/* the bounding set needs CAP_SETPCAP: shrink it before the rest */
	int r = drop_bounding(keep, err);
	if (r < 0)
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return recap_error_set_errno(err, errno, "cannot clear ambient capabilities");
	return set_sets(keep, 0, err);
}

int recap_caps_become(uid_t uid, gid_t gid, uint64_t keep, struct recap_error **err)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return recap_error_set_errno(err, errno, "PR_SET_KEEPCAPS");
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0)
		return recap_error_set_errno(err, errno, "cannot become group %u", (unsigned)gid);
	if (setresuid(uid, uid, uid) < 0)
		return recap_error_set_errno(err, errno, "cannot become user %u", (unsigned)uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return recap_error_set_errno(err, errno, "PR_SET_KEEPCAPS");
	/* root keeps its bounding set across exec: nothing inheritable or
	 * ambient. Another user's effective set was cleared by setuid, and exec
	 * would clear the rest: ambient capabilities (which must be
	 * inheritable too) carry the granted ones over. */
	int r = set_sets(keep, uid == 0 ? 0 : keep, err);
	for (int i = 0; r >= 0 && uid != 0 && i < (int)cap_max_bits() && i < 64; i++)
		if ((keep & (1ull << i)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
			r = recap_error_set_errno(err, errno, "cannot keep capability %d for user %u", i,
						  (unsigned)uid);
	return r;
}

int recap_caps_drop_all(int64_t uid, int64_t gid, struct recap_error **err)
{
	int r = drop_bounding(0, err);
	if (r < 0)
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return recap_error_set_errno(err, errno, "cannot clear ambient capabilities");
	gid_t g = gid > 0 ? (gid_t)gid : 0;
	if (uid > 0 && (setgroups(1, &g) < 0 || setresgid(g, g, g) < 0 ||
			setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0))
		return recap_error_set_errno(err, errno, "cannot become user %lld", (long long)uid);
	r = set_sets(0, 0, err);
	if (r >= 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		r = recap_error_set_errno(err, errno, "cannot set no_new_privs");
	return r;
}
