/* capsule images: the references in the node store. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "oci/images.h"
#include "verbs.h"

int capsule_verb_images(const struct capsule_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		fprintf(c == 'h' ? stdout : stderr, "usage: capsule images\n");
		return c == 'h' ? 0 : 2;
	}
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_oci_store *s = NULL;
	_cleanup_json_ json_t *images = NULL;
	int r = recap_oci_store_open(g->root, &s, &err);
	if (r >= 0)
		r = recap_oci_images_load(s, &images, &err);
	recap_oci_store_close(s);
	if (r < 0) {
		log_error("%s", recap_error_message(err));
		return 1;
	}
	printf("%-60s %s\n", "REFERENCE", "MANIFEST");
	const char *key;
	json_t *v;
	json_object_foreach (images, key, v) {
		const char *m = recap_json_str(v, "manifest");
		printf("%-60s %s\n", key, m ? m : "?");
	}
	return 0;
}
