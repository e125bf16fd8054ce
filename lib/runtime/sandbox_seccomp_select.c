/* Which seccomp filter a run's command gets: none (Unconfined), an OCI
 * profile (built at start, so that a bad one is refused before anything
 * mounts), or the default profile, whose program for the usual sets of
 * capabilities is built into the executor (runtime/seccomp_builtin.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "runtime/sandbox.h"
#include "runtime/seccomp_builtin.h"

int recap_seccomp_build(const struct recap_run_spec *s, uint64_t caps, scmp_filter_ctx *ret,
			struct recap_error **err)
{
	switch (s->seccomp) {
	case RECAP_SECCOMP_UNCONFINED:
		*ret = NULL;
		return 0;
	case RECAP_SECCOMP_DEFAULT:
		return recap_seccomp_default(caps, ret, err);
	case RECAP_SECCOMP_PROFILE:
		break;
	}
	_cleanup_json_ json_t *doc = NULL;
	int r = recap_json_load_file(s->seccomp_profile, RECAP_SPEC_MAX_BYTES, &doc, err);
	if (r >= 0)
		r = recap_seccomp_from_oci(doc, caps, ret, err);
	return r < 0 ? recap_error_wrap(err, r, "seccomp profile %s", s->seccomp_profile) : 0;
}

const struct recap_seccomp_builtin *recap_seccomp_builtin_find(uint64_t caps)
{
	uint64_t key = caps & recap_seccomp_default_caps();
	for (size_t i = 0; i < recap_seccomp_builtins_len; i++)
		if (recap_seccomp_builtins[i].caps == key)
			return &recap_seccomp_builtins[i];
	return NULL;
}

int recap_seccomp_default_bpf(uint64_t caps, struct recap_bpf *ret, struct recap_error **err)
{
	const struct recap_seccomp_builtin *b = recap_seccomp_builtin_find(caps);
	if (b) {
		size_t size = (size_t)b->len * sizeof(*b->insns);
		struct sock_filter *insns = malloc(size);
		if (!insns)
			return recap_error_set(err, ENOMEM, "cannot copy the seccomp filter");
		memcpy(insns, b->insns, size);
		*ret = (struct recap_bpf){.insns = insns, .len = b->len};
		return 0;
	}
	scmp_filter_ctx ctx = NULL;
	int r = recap_seccomp_default(caps, &ctx, err);
	if (r < 0)
		return r;
	r = recap_bpf_compile(ctx, ret);
	seccomp_release(ctx);
	return r < 0 ? recap_error_set_errno(err, -r, "cannot compile the seccomp filter") : 0;
}
