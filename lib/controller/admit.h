/* Whether a Capsule spec may run: validation and CapsulePolicies. */
#pragma once

#include <jansson.h>
#include <stddef.h>

struct recap_controller;

struct ctl_admission {
	const char *reason; /* NULL admitted, "InvalidSpec" or "PolicyViolation" */
	char *message;
	size_t governing;
};

/* Fills a (always; clear it after). Returns < 0 only when out of memory. */
int recap_ctl_admit(struct recap_controller *ctl, const char *ns, json_t *spec, struct ctl_admission *a);
void recap_ctl_admission_clear(struct ctl_admission *a);
