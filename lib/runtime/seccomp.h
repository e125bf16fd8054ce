/* The command's seccomp filter: the default profile or an OCI-format one. */
#pragma once

#include <seccomp.h>
#include <stdint.h>

#include "base/error.h"
#include "runtime/spec.h"

/* Builds the filter for the spec (NULL in *ret for unconfined). `caps` is the
 * final capability set: ptrace is allowed only with CAP_SYS_PTRACE, and OCI
 * rules with includes/excludes.caps are applied accordingly. */
int recap_seccomp_build(const struct recap_run_spec *s, uint64_t caps, scmp_filter_ctx *ret,
			struct recap_error **err);
/* The OCI profile parser, exposed for tests. */
int recap_seccomp_from_oci(json_t *profile, uint64_t caps, scmp_filter_ctx *ret, struct recap_error **err);
