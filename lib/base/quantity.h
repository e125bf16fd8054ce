/* Kubernetes resource quantities ("64Mi", "200m", "1.5G", "1e3"), exact.
 *
 * Grammar: [+-] digits [. digits] [suffix], suffix one of the binary Ki Mi Gi
 * Ti Pi Ei, the decimal n u m k M G T P E, or an exponent e<int> / E<int>.
 * The value is held exactly in units of 10^-9; a value with finer precision is
 * rounded up, as Kubernetes does. Values beyond +-10^27 are refused.
 */
#pragma once

#include <stdint.h>

#include "base/error.h"

struct recap_quantity {
	__int128 nano; /* value x 10^9 */
};

int recap_quantity_parse(const char *s, struct recap_quantity *ret, struct recap_error **err);
/* -1, 0, 1. */
int recap_quantity_cmp(struct recap_quantity a, struct recap_quantity b);
/* Rounded up to a whole unit (bytes) / to a thousandth (millicores);
 * -ERANGE when that does not fit in int64. */
int recap_quantity_units(struct recap_quantity q, int64_t *ret);
int recap_quantity_milli(struct recap_quantity q, int64_t *ret);
