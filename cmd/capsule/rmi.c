/* capsule rmi REF...: drop references from the store (gc frees the content). */
#include <getopt.h>
#include <stdio.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "oci/images.h"
#include "oci/ref.h"
#include "verbs.h"

static int remove_one(struct recap_oci_store *s, const char *arg, struct recap_error **err)
{
	_cleanup_oci_ref_ struct recap_oci_ref *ref = NULL;
	int r = recap_oci_ref_parse(arg, &ref, err);
	if (r >= 0)
		r = recap_oci_ref_absolute_layout(ref);
	if (r < 0)
		return r;
	r = recap_oci_images_remove(s, ref->canonical, err);
	if (r >= 0)
		printf("untagged %s\n", ref->canonical);
	return r;
}

int capsule_verb_rmi(const struct capsule_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		fprintf(c == 'h' ? stdout : stderr, "usage: capsule rmi REF...\n");
		return c == 'h' ? 0 : 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: capsule rmi REF...\n");
		return 2;
	}
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_oci_store *s = NULL;
	int r = recap_oci_store_open(g->root, &s, &err);
	if (r < 0) {
		log_error("%s", recap_error_message(err));
		return 1;
	}
	int status = 0;
	for (int i = optind; i < argc; i++) {
		_cleanup_error_ struct recap_error *e = NULL;
		if (remove_one(s, argv[i], &e) < 0) {
			log_error("%s", recap_error_message(e));
			status = 1;
		}
	}
	recap_oci_store_close(s);
	return status;
}
