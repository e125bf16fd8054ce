/* The parsed form of a zone, shared by tz.c and tzif.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/tz.h"
#include "sched/tz_rule.h"

struct recap_tz {
	char name[RECAP_TZ_NAME_MAX + 1];
	size_t ntrans;
	int64_t *at;	 /* transition instants, ascending */
	int32_t *utoff;	 /* offset in effect from at[i] on */
	int32_t initial; /* offset before the first transition */
	bool has_rule;	 /* the footer rule governs times after the last transition */
	struct recap_tz_rule rule;
};
