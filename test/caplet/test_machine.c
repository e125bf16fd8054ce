/* The execution's state machine: the table in docs/caplet.md ("States and
 * events") is the one in lib/caplet/machine.c, pair by pair; every state is
 * reachable, the final states are absorbing, and a pair the table does not
 * list is refused with a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "caplet/agent.h"

static const char *doc_path;

struct doc_pair {
	bool listed;
	int next;
	char act[64];
};
static struct doc_pair doc[CAPLET_STATES][CAPLET_EVENTS];

/* The cell without spaces and backticks. */
static void clean(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++)
		if (*r != '`' && *r != ' ')
			*w++ = *r;
	*w = '\0';
}

static int state_of(const char *name)
{
	for (int s = 0; s < CAPLET_STATES; s++)
		if (strcmp(caplet_states[s].name, name) == 0)
			return s;
	fail_msg("docs/caplet.md names a state '%s' that lib/caplet/machine.c lacks", name);
	return -1;
}

static int event_of(const char *name)
{
	for (int e = 0; e < CAPLET_EVENTS; e++)
		if (strcmp(caplet_event_names[e], name) == 0)
			return e;
	fail_msg("docs/caplet.md names an event '%s' that lib/caplet/machine.c lacks", name);
	return -1;
}

/* Splits a table row into n cells (the text between the bars). */
static bool cells(char *line, char **cell, int n)
{
	if (line[0] != '|')
		return false;
	char *p = line + 1;
	for (int i = 0; i < n; i++) {
		char *bar = strchr(p, '|');
		if (!bar)
			return false;
		*bar = '\0';
		cell[i] = p;
		p = bar + 1;
	}
	return true;
}

/* A row: states and events may be lists ("`check`, `result`"). */
static void doc_row(char *states, char *events, char *next, char *act)
{
	clean(states), clean(events), clean(next), clean(act);
	char *ss = NULL, *es = NULL;
	for (char *s = strtok_r(states, ",", &ss); s; s = strtok_r(NULL, ",", &ss)) {
		int st = state_of(s);
		_cleanup_free_ char *copy = strdup(events);
		for (char *e = strtok_r(copy, ",", &es); e; e = strtok_r(NULL, ",", &es)) {
			struct doc_pair *d = &doc[st][event_of(e)];
			if (d->listed)
				fail_msg("docs/caplet.md lists %s on %s twice", s, e);
			d->listed = true;
			d->next = state_of(next);
			snprintf(d->act, sizeof(d->act), "%s", act);
		}
	}
}

static void read_doc(const char *header, int ncells, void (*row)(char **cell))
{
	FILE *f = fopen(doc_path, "re");
	if (!f)
		fail_msg("cannot open %s", doc_path);
	char line[1024], *cell[4];
	bool in = false;
	int rows = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!in) {
			in = strcmp(line, header) == 0;
			continue;
		}
		if (!cells(line, cell, ncells))
			break;
		if (strncmp(cell[0], " ---", 4) == 0)
			continue;
		rows++;
		row(cell);
	}
	fclose(f);
	if (!rows)
		fail_msg("%s has no table headed '%s'", doc_path, header);
}

static void transition_row(char **cell)
{
	doc_row(cell[0], cell[1], cell[2], cell[3]);
}

static void test_doc_equals_table(void **state)
{
	read_doc("| state | event | next | action |", 4, transition_row);
	for (int s = 0; s < CAPLET_STATES; s++)
		for (int e = 0; e < CAPLET_EVENTS; e++) {
			const struct caplet_transition *t = &caplet_transitions[s][e];
			const struct doc_pair *d = &doc[s][e];
			const char *sn = caplet_states[s].name, *en = caplet_event_names[e];
			if (t->allowed != d->listed)
				fail_msg("%s on %s: %s in lib/caplet/machine.c, %s in docs/caplet.md", sn, en,
					 t->allowed ? "listed" : "refused", d->listed ? "listed" : "missing");
			if (!t->allowed)
				continue;
			if ((int)t->next != d->next)
				fail_msg("%s on %s: next %s in the code, %s in the doc", sn, en,
					 caplet_states[t->next].name, caplet_states[d->next].name);
			if (strcmp(t->act_name, d->act) != 0)
				fail_msg("%s on %s: action %s in the code, %s in the doc", sn, en,
					 t->act_name, d->act);
		}
}

static bool state_seen[CAPLET_STATES];

static void state_row(char **cell)
{
	clean(cell[0]), clean(cell[1]);
	int s = state_of(cell[0]);
	if (state_seen[s])
		fail_msg("docs/caplet.md describes %s twice", cell[0]);
	state_seen[s] = true;
	bool slot = strcmp(cell[1], "yes") == 0;
	if (slot != ((caplet_states[s].flags & CAPLET_STATE_SLOT) != 0))
		fail_msg("%s: the doc says it %s a slot, the code disagrees", cell[0],
			 slot ? "holds" : "does not hold");
}

static void test_doc_states(void **state)
{
	read_doc("| state | slot | meaning |", 3, state_row);
	for (int s = 0; s < CAPLET_STATES; s++)
		if (!state_seen[s])
			fail_msg("docs/caplet.md does not describe state %s", caplet_states[s].name);
}

static void test_every_state_reachable(void **state)
{
	bool seen[CAPLET_STATES] = {[CAPLET_S_NEW] = true};
	for (bool grew = true; grew;) {
		grew = false;
		for (int s = 0; s < CAPLET_STATES; s++)
			for (int e = 0; seen[s] && e < CAPLET_EVENTS; e++) {
				const struct caplet_transition *t = &caplet_transitions[s][e];
				if (t->allowed && !seen[t->next])
					seen[t->next] = grew = true;
			}
	}
	for (int s = 0; s < CAPLET_STATES; s++)
		if (!seen[s])
			fail_msg("state %s cannot be reached from NEW", caplet_states[s].name);
}

/* Final states take the events that may still come (a look, a held
 * executor's end) and go nowhere; the others all lead on. */
static void test_final_states_absorb(void **state)
{
	for (int s = 0; s < CAPLET_STATES; s++) {
		bool final = caplet_states[s].flags & CAPLET_STATE_FINAL, leaves = false;
		for (int e = 0; e < CAPLET_EVENTS; e++) {
			const struct caplet_transition *t = &caplet_transitions[s][e];
			if (!t->allowed)
				continue;
			if (final && ((int)t->next != s || t->act))
				fail_msg("final state %s leads to %s on %s", caplet_states[s].name,
					 caplet_states[t->next].name, caplet_event_names[e]);
			leaves |= (int)t->next != s;
		}
		if (!final && !leaves)
			fail_msg("state %s never leads anywhere but is not final", caplet_states[s].name);
	}
}

static void test_names_complete(void **state)
{
	for (int e = 0; e < CAPLET_EVENTS; e++) {
		assert_non_null(caplet_event_names[e]);
		bool used = false;
		for (int s = 0; s < CAPLET_STATES; s++)
			used |= caplet_transitions[s][e].allowed;
		if (used == (e == CAPLET_EV_NONE))
			fail_msg("event %s is %s", caplet_event_names[e], used ? "listed" : "never listed");
	}
	for (int s = 0; s < CAPLET_STATES; s++)
		assert_non_null(caplet_states[s].name);
}

static char logged[4096];
static enum recap_log_level logged_level;

static void capture(enum recap_log_level level, const char *msg, void *data)
{
	snprintf(logged, sizeof(logged), "%s", msg);
	logged_level = level;
}

static void test_refused_pair_logged(void **state)
{
	struct recap_caplet agent = {.o = {.log = capture}};
	char key[] = "ns/e1";
	struct caplet_exec x = {.agent = &agent, .key = key, .st = CAPLET_S_DONE};
	caplet_exec_step(&x, CAPLET_EV_SLOT, NULL);
	assert_int_equal(x.st, CAPLET_S_DONE);
	assert_int_equal(agent.slots_used, 0);
	assert_int_equal(logged_level, RECAP_LOG_WARN);
	assert_string_equal(logged, "execution ns/e1: event slot cannot happen in state DONE: refused");
	x.st = CAPLET_S_NEW;
	caplet_exec_step(&x, CAPLET_EV_SWEPT, NULL);
	assert_int_equal(x.st, CAPLET_S_NEW);
	assert_non_null(strstr(logged, "event swept cannot happen in state NEW"));
}

static void test_change_logged(void **state)
{
	struct recap_caplet agent = {.o = {.log = capture}};
	char key[] = "ns/e1";
	struct caplet_exec x = {.agent = &agent, .key = key};
	caplet_exec_step(&x, CAPLET_EV_STARTUP_LIST, NULL);
	assert_int_equal(x.st, CAPLET_S_LISTED);
	assert_int_equal(logged_level, RECAP_LOG_DEBUG);
	assert_string_equal(logged, "execution ns/e1: NEW -> LISTED (startup-list)");
	logged[0] = '\0';
	x.st = CAPLET_S_DONE;
	caplet_exec_step(&x, CAPLET_EV_CHECK, NULL); /* listed, nothing to do: silent */
	assert_int_equal(x.st, CAPLET_S_DONE);
	assert_string_equal(logged, "");
}

int main(int argc, char **argv)
{
	doc_path = argc > 1 ? argv[1] : "docs/caplet.md";
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_doc_equals_table),	  cmocka_unit_test(test_doc_states),
	    cmocka_unit_test(test_every_state_reachable), cmocka_unit_test(test_final_states_absorb),
	    cmocka_unit_test(test_names_complete),	  cmocka_unit_test(test_refused_pair_logged),
	    cmocka_unit_test(test_change_logged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
