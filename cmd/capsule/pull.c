/* capsule-pull pull REF: fetch an image into the node store (what
 * `capsule pull` runs). */
#include <getopt.h>
#include <stdio.h>

#include "base/log.h"
#include "oci/pull.h"
#include "verify.h"
#include "oci_opts.h"
#include "verbs.h"

static void pull_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: capsule pull [OPTIONS] REF\n\n"
	    "REF: [registry[:port]/]repo[:tag][@sha256:...] or oci:<dir>[:tag]\n\n" CAPSULE_OCI_OPTIONS_HELP);
	fprintf(f,
		"  --verify-key FILE[,FILE...]      refuse the image unless its cosign signature verifies\n"
		"                                   with one of these PEM public keys; repeated, each\n"
		"                                   must be met (at most %d keys in all)\n",
		RECAP_OCI_SIG_KEYS_MAX);
}

int capsule_verb_pull(const struct capsule_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {CAPSULE_OCI_LONG_OPTIONS,
					     {"verify-key", required_argument, NULL, 'k'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	struct capsule_oci_opts o;
	capsule_oci_opts_init(&o, recap_oci_pull_opts_default);
	o.pull.registry_only = g->registry_only;
	struct capsule_keys keys = {0};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			pull_usage(stdout);
			return 0;
		}
		if (c == 'k') {
			if (capsule_keys_add_set(&keys, optarg) < 0) {
				capsule_keys_free(&keys);
				return 2;
			}
			continue;
		}
		if (capsule_oci_opts_parse(&o, c, optarg) != 1) {
			pull_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		pull_usage(stderr);
		return 2;
	}
	if (capsule_keys_load(&keys) < 0) {
		capsule_keys_free(&keys);
		return 1;
	}
	o.pull.verify_keys = keys.keys;
	o.pull.n_verify_keys = keys.n;
	o.pull.verify_set_ends = keys.set_ends;
	o.pull.n_verify_sets = keys.n_sets;
	if (capsule_oci_opts_read_auth(&o) < 0)
		return 2;
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_oci_store *s = NULL;
	struct recap_oci_pull_result res;
	int r = recap_oci_store_open(g->root, &s, &err);
	if (r >= 0)
		r = recap_oci_pull(s, argv[optind], &o.pull, &res, &err);
	recap_oci_store_close(s);
	capsule_oci_opts_free(&o);
	if (r < 0) {
		log_error("%s", recap_error_message(err));
		capsule_keys_free(&keys);
		return res.signature_refused ? RECAP_OCI_PULL_EXIT_SIGNATURE : 1;
	}
	printf("%s %s (%zu layers, %zu blobs fetched)\n", res.canonical, res.manifest, res.n_layers,
	       res.blobs_fetched);
	if (res.verified && keys.n_sets > 1)
		printf("%s signature verified by every one of %zu key sets\n", res.signature.digest,
		       keys.n_sets);
	else if (res.verified)
		printf("%s signature verified with %s (signature %zu of %zu)\n", res.signature.digest,
		       keys.paths[res.signature.key], res.signature.signature + 1,
		       res.signature.n_signatures);
	capsule_keys_free(&keys);
	return 0;
}
