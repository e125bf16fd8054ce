/* A subresource recap-apiserver serves (a run's log, its artifacts' tar),
 * streamed to a file as it arrives. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "base/error.h"
#include "kube/client.h"
#include "session.h"

/* The aggregated API is not there (no APIService answers for the group). */
#define PLUGIN_STREAM_UNSERVED 1

/* Writes the body of GET path to f: escaped for a terminal (sanitize.h)
 * unless raw, a UTF-8 sequence or a CR split between pieces kept whole.
 * 0 when the stream ended whole; PLUGIN_STREAM_UNSERVED; or < 0 with *err
 * (the server's Status message, or the stream cut short). */
int plugin_stream(struct session *s, const char *path, FILE *f, bool raw, struct recap_error **err);

/* The same, started and left to run on the session's loop beside others
 * (`run` follows every target at once). With a prefix ("[web-1] ") whole
 * lines are written, each with the prefix, in one piece: lines of streams
 * sharing f never mix. f NULL: the body is read and dropped. */
struct plugin_follow;
int plugin_follow_start(struct session *s, const char *path, FILE *f, bool raw, const char *prefix,
			struct plugin_follow **ret, struct recap_error **err);
bool plugin_follow_done(const struct plugin_follow *fl);
/* Whether a byte of the body has come (and been written). */
bool plugin_follow_got_data(const struct plugin_follow *fl);
/* Once done (or to stop it): the result as plugin_stream's; frees fl.
 * *status gets the HTTP status when not NULL. */
int plugin_follow_end(struct plugin_follow *fl, long *status, struct recap_error **err);

/* How a stream ended (lib/kube/stream.h's on_done) as plugin_stream's
 * result: 0, PLUGIN_STREAM_UNSERVED, or < 0 with *err (takes e). */
int plugin_stream_result(enum recap_kube_code code, long status, struct recap_error *e,
			 struct recap_error **err);

/* Whether the user can read run's log through recap-apiserver (one small
 * request): 0 when so, whatever the answer about the run itself;
 * PLUGIN_STREAM_UNSERVED when the group is not served; -1 when refused
 * (401, 403) or unanswered. why gets the reason when not 0. */
int plugin_log_served(struct session *s, const char *run, char *why, size_t len);
