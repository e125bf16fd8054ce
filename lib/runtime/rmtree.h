/* Deleting a directory tree that untrusted code wrote: never follows a
 * symlink, never crosses into another filesystem, any depth. */
#pragma once

#include "base/error.h"

/* Removes path and everything below it; absent is success. */
int recap_rmtree(const char *path, struct recap_error **err);
