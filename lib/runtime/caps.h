/* Capabilities of the command: a minimal default set plus what was added. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

/* CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, NET_BIND_SERVICE,
 * AUDIT_WRITE: enough for ordinary tools run as root, nothing that reaches
 * past the sandbox. */
uint64_t recap_caps_default(void);

/* Drops every capability outside `keep` from the bounding, ambient,
 * effective, permitted and inheritable sets of the caller. */
int recap_caps_apply(uint64_t keep, struct recap_error **err);
/* After recap_caps_apply: becomes uid:gid (no supplementary groups) keeping
 * exactly `keep` (the explicitly added capabilities: a non-root user gets
 * none of the default set), as ambient capabilities so that they survive
 * exec. */
int recap_caps_become(uid_t uid, gid_t gid, uint64_t keep, struct recap_error **err);
