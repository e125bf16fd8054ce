/* capsule gc: remove blobs and layers no image or run references. */
#include <getopt.h>
#include <stdio.h>

#include "base/log.h"
#include "oci/gc.h"
#include "verbs.h"

int capsule_verb_gc(const struct capsule_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		fprintf(c == 'h' ? stdout : stderr, "usage: capsule gc\n");
		return c == 'h' ? 0 : 2;
	}
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_oci_store *s = NULL;
	struct recap_oci_gc_result res;
	int r = recap_oci_store_open(g->root, &s, &err);
	if (r >= 0)
		r = recap_oci_gc(s, &res, &err);
	recap_oci_store_close(s);
	if (r < 0) {
		log_error("%s", recap_error_message(err));
		return 1;
	}
	printf("removed %zu blobs (%llu bytes) and %zu layers; kept %zu blobs and %zu layers\n",
	       res.blobs_removed, (unsigned long long)res.bytes_freed, res.layers_removed, res.blobs_kept,
	       res.layers_kept);
	return 0;
}
