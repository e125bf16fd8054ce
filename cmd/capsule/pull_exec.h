/* Running capsule-pull, the program with the registry client and the layer
 * unpacker. */
#pragma once

#include "oci_opts.h"
#include "verbs.h"

/* Pulls ref into g->root with the image options opts (as given on the
 * command line, NULL-terminated). capsule-pull reports its progress and
 * errors on stderr; returns < 0 when it failed. */
int capsule_pull_image(const struct capsule_globals *g, const char *const *opts, const char *ref);
