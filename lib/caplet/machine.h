/* One execution's state machine: its states, the events that move it and
 * the table that says, for each state and event, the next state and the
 * action. caplet_exec_step() is the only code that changes a state; I/O
 * (API writes, the executor, pulls, the CRI check, timers) reports events
 * to it. docs/caplet.md carries the same table (test/caplet checks). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum caplet_state {
	CAPLET_S_NEW,	     /* seen; finalizer, policy and deadline not yet settled */
	CAPLET_S_LISTED,     /* in the startup list, not yet seen unstarted: found started, a predecessor's */
	CAPLET_S_QUEUED,     /* accepted, waiting for a slot (maxConcurrentPerNode) */
	CAPLET_S_PULLING,    /* holds a slot; the image is taken from the store or pulled */
	CAPLET_S_PULL_CLAIM, /* Pulling being written (a claim) */
	CAPLET_S_CONFIRMING, /* the CRI is asked about the target (a cri-status child) */
	CAPLET_S_ATTACHING,  /* the executor started, its spec held back; Attaching being claimed */
	CAPLET_S_RUNNING,    /* the executor has its spec */
	CAPLET_S_CANCELLING, /* deleted or the agent stopping: the executor was sent SIGTERM */
	CAPLET_S_SWEEPING,   /* the executor ended without a result: its run is swept */
	CAPLET_S_RECOVERING, /* found started by a previous agent: its executor killed, its run swept */
	CAPLET_S_FINISHING,  /* the terminal status being written */
	CAPLET_S_RELEASING,  /* status written, escaped: the finalizer being removed */
	CAPLET_S_FOREIGN,    /* claimed by another writer: nothing more is done (final) */
	CAPLET_S_DONE,	     /* nothing more to do (final) */
	CAPLET_STATES,
};

enum caplet_event {
	CAPLET_EV_NONE, /* an action's "nothing follows" */
	/* reported by I/O */
	CAPLET_EV_STARTUP_LIST,	     /* first seen in the agent's startup list */
	CAPLET_EV_CHECK,	     /* the object changed, or the tick: look again */
	CAPLET_EV_FINALIZER_WRITTEN, /* the finalizer was added or removed */
	CAPLET_EV_STATUS_WRITTEN,    /* the terminal status was written (or the object is past it) */
	CAPLET_EV_PHASE_WRITTEN,     /* a Running or Escaping write answered (either way) */
	CAPLET_EV_WRITE_FAILED,	     /* a finalizer or terminal status write failed: the tick retries */
	CAPLET_EV_SLOT,		     /* dispatched: a slot is its own */
	CAPLET_EV_CLAIMED,	     /* the claim (Pulling or Attaching) is recorded */
	CAPLET_EV_CLAIM_LOST,	     /* another writer claimed it */
	CAPLET_EV_CLAIM_FAILED,	     /* the claim could not be recorded (arg: msg) */
	CAPLET_EV_IMAGE_READY,	     /* arg: img */
	CAPLET_EV_IMAGE_FAILED,	     /* arg: msg */
	CAPLET_EV_TARGET_CONFIRMED,  /* arg: pid */
	CAPLET_EV_TARGET_REFUSED,    /* arg: reason, msg */
	CAPLET_EV_EXECUTOR_PHASE,    /* the executor reached a phase not yet written (arg: msg) */
	CAPLET_EV_RESULT,	     /* the executor ended with a result (arg: result) */
	CAPLET_EV_NO_RESULT,	     /* the executor ended without one (arg: status, sig, msg) */
	CAPLET_EV_SWEPT,	     /* the sweep of a run ended (arg: status) */
	/* followed from actions */
	CAPLET_EV_FOUND_ENDED,	   /* terminal or deleted, nothing of ours to undo */
	CAPLET_EV_FOUND_ESCAPED,   /* terminal and escaped, our finalizer still on it */
	CAPLET_EV_FOUND_STARTED,   /* Attaching, Running or Escaping, not by us */
	CAPLET_EV_FOUND_UNSTARTED, /* no phase, Pending or Pulling */
	CAPLET_EV_GONE,		   /* the object was deleted: nothing left to write to */
	CAPLET_EV_END,		   /* the terminal status is decided (x->final): nothing (more) runs */
	CAPLET_EV_ACCEPTED,	   /* policy, image reference and deadline admit it */
	CAPLET_EV_NOT_IN_STORE,	   /* the image has to be pulled */
	CAPLET_EV_SPEC_BUILT,	   /* the executor spec is ready: the target is next */
	CAPLET_EV_GO,		   /* Attaching recorded, the executor waiting: it gets the spec */
	CAPLET_EV_CANCEL,	   /* deleted, or the agent stopping, while it runs */
	CAPLET_EV_ESCAPED,	   /* the written status says escaped: the finalizer may go */
	CAPLET_EV_NOT_ESCAPED,	   /* the escape was not verified: the finalizer stays */
	CAPLET_EV_RELEASED,	   /* our finalizer is off */
	CAPLET_EVENTS,
};

/* What an event brings; each event uses the fields its comment names. */
struct recap_caplet_image;
struct caplet_event_arg {
	const char *reason, *msg;
	const struct recap_caplet_image *img;
	json_t *result;
	int64_t status;
	int pid, sig;
};

struct caplet_exec;
/* An action runs after the state is set; it may start I/O (whose answer is
 * a later event) and returns the event that follows at once, or NONE. */
typedef enum caplet_event (*caplet_action)(struct caplet_exec *x, const struct caplet_event_arg *arg);

struct caplet_transition {
	bool allowed; /* false: the event cannot happen in that state (refused, logged) */
	enum caplet_state next;
	caplet_action act; /* NULL: nothing to do */
	const char *act_name;
};

/* Per state: its name (as docs/caplet.md spells it) and what it implies. */
#define CAPLET_STATE_SLOT 1u	    /* counts against maxConcurrentPerNode */
#define CAPLET_STATE_ACTIVE 2u	    /* work in flight: a graceful stop waits for it */
#define CAPLET_STATE_FORGETTABLE 4u /* dropped once the object is gone and nothing is in flight */
#define CAPLET_STATE_FINAL 8u	    /* absorbing */
struct caplet_state_info {
	const char *name;
	unsigned flags;
};

extern const struct caplet_state_info caplet_states[CAPLET_STATES];
extern const char *const caplet_event_names[CAPLET_EVENTS];
extern const struct caplet_transition caplet_transitions[CAPLET_STATES][CAPLET_EVENTS];

/* The one place an execution's state changes: looks ev up in the table for
 * x's state, sets the next state and runs the action, then the event the
 * action returns, until none follows. arg may be NULL. */
void caplet_exec_step(struct caplet_exec *x, enum caplet_event ev, const struct caplet_event_arg *arg);
bool caplet_exec_in(const struct caplet_exec *x, unsigned state_flags);

/* The actions (exec.c, run.c, recover.c, progress.c). */
enum caplet_event caplet_act_look_new(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_look_queued(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_look_running(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_settle_unstarted(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_enqueue(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_stand_down(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_write_final(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_record(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_remove_finalizer(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_from_store(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_claim_pulling(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_pull(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_image_failed(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_build_spec(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_ask_cri(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_target_refused(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_attach(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_attached(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_attach_failed(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_abandon(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_early_exit(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_send_spec(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_report_phase(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_cancel(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_settle(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_sweep(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_recover(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_swept_restarted(struct caplet_exec *x, const struct caplet_event_arg *arg);
enum caplet_event caplet_act_swept_failed(struct caplet_exec *x, const struct caplet_event_arg *arg);
