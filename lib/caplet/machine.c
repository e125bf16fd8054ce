/* The table of an execution's states and events, and the one function that
 * changes a state (as curl's multistate(): a name for each state, every
 * change logged). docs/caplet.md, "States and events", is the same table;
 * test/caplet/test_machine.c checks that they agree. */
#include <stddef.h>

#include "caplet/agent.h"

#define STEP_MAX 32 /* events that follow one another at once; more is a loop */

#define SLOT CAPLET_STATE_SLOT
#define ACTIVE CAPLET_STATE_ACTIVE
#define FORGET CAPLET_STATE_FORGETTABLE
#define FINAL CAPLET_STATE_FINAL

const struct caplet_state_info caplet_states[CAPLET_STATES] = {
    [CAPLET_S_NEW] = {"NEW", FORGET},
    [CAPLET_S_LISTED] = {"LISTED", FORGET},
    [CAPLET_S_QUEUED] = {"QUEUED", 0},
    [CAPLET_S_PULLING] = {"PULLING", SLOT | ACTIVE},
    [CAPLET_S_PULL_CLAIM] = {"PULL_CLAIM", SLOT | ACTIVE},
    [CAPLET_S_CONFIRMING] = {"CONFIRMING", SLOT | ACTIVE},
    [CAPLET_S_ATTACHING] = {"ATTACHING", SLOT | ACTIVE},
    [CAPLET_S_RUNNING] = {"RUNNING", SLOT | ACTIVE},
    [CAPLET_S_CANCELLING] = {"CANCELLING", SLOT | ACTIVE},
    [CAPLET_S_SWEEPING] = {"SWEEPING", SLOT | ACTIVE},
    [CAPLET_S_RECOVERING] = {"RECOVERING", ACTIVE},
    [CAPLET_S_FINISHING] = {"FINISHING", ACTIVE},
    [CAPLET_S_RELEASING] = {"RELEASING", ACTIVE},
    [CAPLET_S_FOREIGN] = {"FOREIGN", FORGET | FINAL},
    [CAPLET_S_DONE] = {"DONE", FORGET | FINAL},
};

const char *const caplet_event_names[CAPLET_EVENTS] = {
    [CAPLET_EV_NONE] = "none",
    [CAPLET_EV_STARTUP_LIST] = "startup-list",
    [CAPLET_EV_CHECK] = "check",
    [CAPLET_EV_FINALIZER_WRITTEN] = "finalizer-written",
    [CAPLET_EV_STATUS_WRITTEN] = "status-written",
    [CAPLET_EV_PHASE_WRITTEN] = "phase-written",
    [CAPLET_EV_WRITE_FAILED] = "write-failed",
    [CAPLET_EV_SLOT] = "slot",
    [CAPLET_EV_CLAIMED] = "claimed",
    [CAPLET_EV_CLAIM_LOST] = "claim-lost",
    [CAPLET_EV_CLAIM_FAILED] = "claim-failed",
    [CAPLET_EV_IMAGE_READY] = "image-ready",
    [CAPLET_EV_IMAGE_FAILED] = "image-failed",
    [CAPLET_EV_TARGET_CONFIRMED] = "target-confirmed",
    [CAPLET_EV_TARGET_REFUSED] = "target-refused",
    [CAPLET_EV_EXECUTOR_PHASE] = "executor-phase",
    [CAPLET_EV_RESULT] = "result",
    [CAPLET_EV_NO_RESULT] = "no-result",
    [CAPLET_EV_SWEPT] = "swept",
    [CAPLET_EV_FOUND_ENDED] = "found-ended",
    [CAPLET_EV_FOUND_ESCAPED] = "found-escaped",
    [CAPLET_EV_FOUND_STARTED] = "found-started",
    [CAPLET_EV_FOUND_UNSTARTED] = "found-unstarted",
    [CAPLET_EV_GONE] = "gone",
    [CAPLET_EV_END] = "end",
    [CAPLET_EV_ACCEPTED] = "accepted",
    [CAPLET_EV_NOT_IN_STORE] = "not-in-store",
    [CAPLET_EV_SPEC_BUILT] = "spec-built",
    [CAPLET_EV_GO] = "go",
    [CAPLET_EV_CANCEL] = "cancel",
    [CAPLET_EV_ESCAPED] = "escaped",
    [CAPLET_EV_NOT_ESCAPED] = "not-escaped",
    [CAPLET_EV_RELEASED] = "released",
};

/* [state][event] = next state and action; a pair not listed is refused.
 * One pair a line, as the table in docs/caplet.md reads. */
/* clang-format off */
#define T(next, act) {true, CAPLET_S_##next, caplet_act_##act, #act}
#define GO(next) {true, CAPLET_S_##next, NULL, "—"}
#define STAY(state) GO(state)
#define E(name) [CAPLET_EV_##name]

const struct caplet_transition caplet_transitions[CAPLET_STATES][CAPLET_EVENTS] = {
	[CAPLET_S_NEW] = {
		E(STARTUP_LIST)      = GO(LISTED),
		E(CHECK)             = T(NEW, look_new),
		E(FINALIZER_WRITTEN) = T(NEW, look_new),
		E(WRITE_FAILED)      = STAY(NEW),
		E(GONE)              = GO(DONE),
		E(FOUND_ENDED)       = GO(DONE),
		E(FOUND_ESCAPED)     = T(RELEASING, remove_finalizer),
		E(FOUND_STARTED)     = T(FOREIGN, stand_down),
		E(FOUND_UNSTARTED)   = T(NEW, settle_unstarted),
		E(END)               = T(FINISHING, write_final),
		E(ACCEPTED)          = T(QUEUED, enqueue),
	},
	[CAPLET_S_LISTED] = {
		E(CHECK)           = T(LISTED, look_new),
		E(GONE)            = GO(DONE),
		E(FOUND_ENDED)     = GO(DONE),
		E(FOUND_ESCAPED)   = T(RELEASING, remove_finalizer),
		E(FOUND_STARTED)   = T(RECOVERING, recover),
		E(FOUND_UNSTARTED) = T(NEW, settle_unstarted),
	},
	[CAPLET_S_QUEUED] = {
		E(CHECK) = T(QUEUED, look_queued),
		E(SLOT)  = T(PULLING, from_store),
		E(END)   = T(FINISHING, write_final),
	},
	[CAPLET_S_PULLING] = {
		E(CHECK)        = STAY(PULLING),
		E(NOT_IN_STORE) = T(PULL_CLAIM, claim_pulling),
		E(IMAGE_READY)  = T(PULLING, build_spec),
		E(IMAGE_FAILED) = T(FINISHING, image_failed),
		E(SPEC_BUILT)   = T(CONFIRMING, ask_cri),
		E(END)          = T(FINISHING, write_final),
	},
	[CAPLET_S_PULL_CLAIM] = {
		E(CHECK)        = STAY(PULL_CLAIM),
		E(CLAIMED)      = T(PULLING, pull),
		E(CLAIM_FAILED) = T(PULLING, pull),
		E(CLAIM_LOST)   = T(FOREIGN, stand_down),
	},
	[CAPLET_S_CONFIRMING] = {
		E(CHECK)            = STAY(CONFIRMING),
		E(TARGET_CONFIRMED) = T(ATTACHING, attach),
		E(TARGET_REFUSED)   = T(FINISHING, target_refused),
	},
	[CAPLET_S_ATTACHING] = {
		E(CHECK)        = STAY(ATTACHING),
		E(CLAIMED)      = T(ATTACHING, attached),
		E(GO)           = T(RUNNING, send_spec),
		E(END)          = T(FINISHING, abandon),
		E(CLAIM_FAILED) = T(FINISHING, attach_failed),
		E(CLAIM_LOST)   = T(FOREIGN, stand_down),
		E(RESULT)       = T(ATTACHING, early_exit),
		E(NO_RESULT)    = T(ATTACHING, early_exit),
	},
	[CAPLET_S_RUNNING] = {
		E(CHECK)          = T(RUNNING, look_running),
		E(PHASE_WRITTEN)  = T(RUNNING, look_running),
		E(CANCEL)         = T(CANCELLING, cancel),
		E(EXECUTOR_PHASE) = T(RUNNING, report_phase),
		E(RESULT)         = T(FINISHING, settle),
		E(NO_RESULT)      = T(SWEEPING, sweep),
	},
	[CAPLET_S_CANCELLING] = {
		E(CHECK)          = STAY(CANCELLING),
		E(PHASE_WRITTEN)  = STAY(CANCELLING),
		E(EXECUTOR_PHASE) = T(CANCELLING, report_phase),
		E(RESULT)         = T(FINISHING, settle),
		E(NO_RESULT)      = T(SWEEPING, sweep),
	},
	[CAPLET_S_SWEEPING] = {
		E(CHECK)         = STAY(SWEEPING),
		E(PHASE_WRITTEN) = STAY(SWEEPING),
		E(SWEPT)         = T(FINISHING, swept_failed),
	},
	[CAPLET_S_RECOVERING] = {
		E(CHECK) = STAY(RECOVERING),
		E(SWEPT) = T(FINISHING, swept_restarted),
	},
	[CAPLET_S_FINISHING] = {
		E(CHECK)          = T(FINISHING, write_final),
		E(PHASE_WRITTEN)  = T(FINISHING, write_final),
		E(RESULT)         = T(FINISHING, write_final),
		E(NO_RESULT)      = T(FINISHING, write_final),
		E(WRITE_FAILED)   = STAY(FINISHING),
		E(GONE)           = GO(DONE),
		E(STATUS_WRITTEN) = T(FINISHING, record),
		E(ESCAPED)        = T(RELEASING, remove_finalizer),
		E(NOT_ESCAPED)    = GO(DONE),
	},
	[CAPLET_S_RELEASING] = {
		E(CHECK)             = T(RELEASING, remove_finalizer),
		E(FINALIZER_WRITTEN) = T(RELEASING, remove_finalizer),
		E(RESULT)            = T(RELEASING, remove_finalizer),
		E(NO_RESULT)         = T(RELEASING, remove_finalizer),
		E(WRITE_FAILED)      = STAY(RELEASING),
		E(GONE)              = GO(DONE),
		E(RELEASED)          = GO(DONE),
	},
	[CAPLET_S_FOREIGN] = {
		E(CHECK)     = STAY(FOREIGN),
		E(RESULT)    = STAY(FOREIGN),
		E(NO_RESULT) = STAY(FOREIGN),
	},
	[CAPLET_S_DONE] = {
		E(CHECK)     = STAY(DONE),
		E(RESULT)    = STAY(DONE),
		E(NO_RESULT) = STAY(DONE),
	},
};
/* clang-format on */

bool caplet_exec_in(const struct caplet_exec *x, unsigned state_flags)
{
	return (caplet_states[x->st].flags & state_flags) != 0;
}

/* What entering or leaving a state implies beyond the state: the slot. */
static void set_state(struct caplet_exec *x, enum caplet_state next, enum caplet_event ev)
{
	enum caplet_state old = x->st;
	if (old == next)
		return;
	x->st = next;
	if (caplet_states[next].flags & FINAL)
		caplet_exec_release(x);
	caplet_logf(x->agent, RECAP_LOG_DEBUG, "execution %s: %s -> %s (%s)", x->key, caplet_states[old].name,
		    caplet_states[next].name, caplet_event_names[ev]);
	bool had = caplet_states[old].flags & SLOT, has = caplet_states[next].flags & SLOT;
	if (!had && has)
		x->agent->slots_used++;
	if (had && !has) {
		x->agent->slots_used--;
		caplet_dispatch(x->agent);
	}
}

void caplet_exec_step(struct caplet_exec *x, enum caplet_event ev, const struct caplet_event_arg *arg)
{
	for (int n = 0; ev != CAPLET_EV_NONE; n++) {
		const struct caplet_transition *t = &caplet_transitions[x->st][ev];
		if (!t->allowed || n == STEP_MAX) {
			caplet_logf(x->agent, RECAP_LOG_WARN,
				    "execution %s: event %s %s in state %s: refused", x->key,
				    caplet_event_names[ev],
				    t->allowed ? "follows too many others" : "cannot happen",
				    caplet_states[x->st].name);
			return;
		}
		set_state(x, t->next, ev);
		ev = t->act ? t->act(x, arg) : CAPLET_EV_NONE;
		arg = NULL; /* an event that follows brings nothing */
	}
}
