/* A child process on the loop: argv, an optional document on fd 3 (a pipe
 * the child reads), stdout collected (bounded) and the end of stderr kept. */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "base/buf.h"
#include "base/error.h"

#define CAPLET_PROC_STDOUT_MAX (4u << 20)
#define CAPLET_PROC_STDERR_KEEP 2048

struct caplet_proc;
/* Runs once, after the exit and the end of both streams. status: exit code,
 * or -1 with term_signal. out/err are borrowed. */
typedef void (*caplet_proc_cb)(struct caplet_proc *p, int64_t status, int term_signal,
			       const struct recap_buf *out, const char *err, void *data);

int caplet_proc_spawn(uv_loop_t *loop, char *const *argv, const char *doc, size_t doc_len, caplet_proc_cb cb,
		      void *data, struct caplet_proc **ret, struct recap_error **err);
/* Like caplet_proc_spawn, but the document (at most doc_len bytes) is held
 * back: the child starts and blocks reading fd 3 until
 * caplet_proc_send_doc() gives it the document, or reads an empty one
 * after caplet_proc_drop_doc() (or when it outlives the caller). */
int caplet_proc_spawn_held(uv_loop_t *loop, char *const *argv, size_t doc_len, caplet_proc_cb cb, void *data,
			   struct caplet_proc **ret, struct recap_error **err);
int caplet_proc_send_doc(struct caplet_proc *p, const char *doc, size_t doc_len, struct recap_error **err);
void caplet_proc_drop_doc(struct caplet_proc *p);
pid_t caplet_proc_pid(const struct caplet_proc *p);
int caplet_proc_kill(struct caplet_proc *p, int sig);
