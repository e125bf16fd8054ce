/* Capabilities of the command: a minimal default set plus what was added. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

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
