/* Whether a Capsule spec may run: validation and CapsulePolicies. */
#pragma once

#include <jansson.h>
#include <stddef.h>

struct recap_controller;

struct ctl_admission {
	const char *reason; /* NULL admitted, "InvalidSpec", "PolicyViolation" or "SignatureRefused" */
	char *message;
	size_t governing;
	/* admitted so far, but the image's signatures are being checked: the
	 * object is queued again when they are (sigcheck.h) */
	bool pending;
};

/* Whether capsule decodes against the Capsule schema (api/check.h): when
 * it does not, a is refused as InvalidSpec with the first wrong field in
 * its message. Fills a (always; clear it after). Returns < 0 only when out
 * of memory. */
int recap_ctl_admit_decode(json_t *capsule, struct ctl_admission *a);
/* Judges spec, the Capsule's (capsule: that Capsule, decoded first) or a
 * run's snapshot of one (capsule NULL), for the object (kind, key) that
 * is queued again when a signature check it waits for ends. Fills a
 * (always; clear it after). Returns < 0 only when out of memory. */
int recap_ctl_admit(struct recap_controller *ctl, const char *ns, json_t *capsule, json_t *spec, int kind,
		    const char *key, struct ctl_admission *a);
void recap_ctl_admission_clear(struct ctl_admission *a);
