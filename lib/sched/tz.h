/* Time zones from the system tz database (TZif files, RFC 8536).
 *
 * A pure reader: the file is parsed once into a table of transitions plus the
 * POSIX TZ rule of its footer (used past the last transition), and lookups
 * neither touch the process's TZ nor take locks, so they are reentrant and
 * testable against any file.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define RECAP_TZ_DIR "/usr/share/zoneinfo"
/* Longest zone name accepted ("America/Argentina/ComodRivadavia" is 32). */
#define RECAP_TZ_NAME_MAX 128
/* Largest TZif file read (the biggest in tzdata is under 4 KiB). */
#define RECAP_TZ_FILE_MAX (256 * 1024)

struct recap_tz;

/* Loads zone `name` ("Europe/Berlin") from RECAP_TZ_DIR. NULL or "" is UTC.
 * Errors name the zone: unknown zone, invalid name (absolute, "..", odd
 * characters), not a TZif file. */
int recap_tz_load(const char *name, struct recap_tz **ret, struct recap_error **err);
/* Same from another directory (tests). */
int recap_tz_load_dir(const char *dir, const char *name, struct recap_tz **ret, struct recap_error **err);
/* Parses TZif data held in memory. */
int recap_tz_parse(const void *data, size_t len, const char *name, struct recap_tz **ret,
		   struct recap_error **err);
/* A fixed-offset zone (seconds east of UTC), e.g. for UTC itself. */
int recap_tz_fixed(const char *name, int32_t utoff, struct recap_tz **ret);
void recap_tz_free(struct recap_tz *tz);
void recap_tz_freep(struct recap_tz **tz);
#define _cleanup_tz_ __attribute__((cleanup(recap_tz_freep)))

const char *recap_tz_name(const struct recap_tz *tz);
/* Offset from UTC (seconds east) in effect at instant t (Unix seconds). */
int32_t recap_tz_offset(const struct recap_tz *tz, int64_t t);
/* Checks a zone name without loading it: 0 or -EINVAL with a message. */
int recap_tz_check_name(const char *name, struct recap_error **err);
