/* A subresource recap-apiserver serves (a run's log, its artifacts' tar),
 * streamed to a file as it arrives. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "base/error.h"
#include "session.h"

/* The aggregated API is not there (no APIService answers for the group). */
#define PLUGIN_STREAM_UNSERVED 1

/* Writes the body of GET path to f: escaped for a terminal (sanitize.h)
 * unless raw, a UTF-8 sequence or a CR split between pieces kept whole.
 * 0 when the stream ended whole; PLUGIN_STREAM_UNSERVED; or < 0 with *err
 * (the server's Status message, or the stream cut short). */
int plugin_stream(struct session *s, const char *path, FILE *f, bool raw, struct recap_error **err);
