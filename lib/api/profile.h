/* An execution's profile (spec.capsule) as stored: without the defaults
 * that readers take from the getters (api/types.h). Pure. */
#pragma once

#include <jansson.h>

/* Takes out of profile every field of recap_api_profile_elided that holds
 * its default, and an object that is left empty by that: 0, or -ENOMEM. */
int recap_api_profile_elide_defaults(json_t *profile);
