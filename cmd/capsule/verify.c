/* capsule-pull verify --key FILE REF: checks an image's cosign signature in
 * its registry and says which key verified which digest (what `capsule
 * verify` runs); the keys of `pull --verify-key` too. */
#include "verify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "oci_opts.h"
#include "verbs.h"

int capsule_keys_add(struct capsule_keys *k, const char *path)
{
	if (k->n >= RECAP_OCI_SIG_KEYS_MAX) {
		fprintf(stderr, "capsule: at most %d keys\n", RECAP_OCI_SIG_KEYS_MAX);
		return -1;
	}
	k->paths[k->n++] = path;
	return 0;
}

int capsule_keys_add_set(struct capsule_keys *k, const char *list)
{
	size_t before = k->n;
	for (const char *p = list;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 0) {
			fprintf(stderr, "capsule: --verify-key '%s': an empty file name\n", list);
			return -1;
		}
		char *path = strndup(p, len);
		if (!path || capsule_keys_add(k, path) < 0) {
			free(path);
			return -1;
		}
		k->owned[k->n - 1] = path;
		if (!comma)
			break;
		p = comma + 1;
	}
	if (k->n == before)
		return -1;
	k->set_ends[k->n_sets++] = k->n;
	return 0;
}

int capsule_keys_load(struct capsule_keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		_cleanup_error_ struct recap_error *err = NULL;
		if (k->keys[i])
			continue;
		if (recap_oci_sig_key_load(k->paths[i], &k->keys[i], &err) < 0) {
			log_error("%s", recap_error_message(err));
			return -1;
		}
	}
	return 0;
}

void capsule_keys_free(struct capsule_keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		recap_oci_sig_key_free(k->keys[i]);
		k->keys[i] = NULL;
		free(k->owned[i]);
		k->owned[i] = NULL;
	}
}

static void verify_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: capsule verify --key FILE [--key FILE]... [OPTIONS] REF\n\n"
	    "Checks REF's cosign signature in its registry: the digest REF resolves to (an index's\n"
	    "when it names an index) must have a signature (tag sha256-<hex>.sig) that verifies\n"
	    "with one of the keys and names that digest. Prints REF, the digest and the key.\n\n"
	    "  --key FILE                       PEM public key (cosign.pub: ECDSA, RSA or Ed25519;\n"
	    "                                   repeatable, at most %d)\n"
	    "  --insecure-registry HOST[:PORT]  talk plain HTTP to this registry (repeatable)\n"
	    "  --ca-file FILE                   PEM CA bundle trusted for the registry's TLS\n"
	    "  --registry-config DIR            mirrors and trust per registry (DIR/<registry>/hosts.toml)\n"
	    "  --auth-file FILE                 docker-style config.json with credentials\n"
	    "  --auth-fd N                      the same, read once from file descriptor N (a pipe)\n"
	    "  --stall-timeout SECONDS          give up a request under 1 KiB/s for this long (30)\n"
	    "  --pull-timeout SECONDS           give up after this long (600)\n",
	    RECAP_OCI_SIG_KEYS_MAX);
}

int capsule_verb_verify(const struct capsule_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"insecure-registry", required_argument, NULL, 0x101},
	    {"auth-file", required_argument, NULL, 0x102},
	    {"auth-fd", required_argument, NULL, 0x10a},
	    {"stall-timeout", required_argument, NULL, 0x107},
	    {"ca-file", required_argument, NULL, 0x108},
	    {"registry-config", required_argument, NULL, 0x10b},
	    {"pull-timeout", required_argument, NULL, 0x109},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct capsule_oci_opts o;
	capsule_oci_opts_init(&o, recap_oci_pull_opts_default);
	struct capsule_keys keys = {0};
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			verify_usage(stdout);
			return 0;
		}
		if (c == 'k' ? capsule_keys_add(&keys, optarg) < 0
			     : capsule_oci_opts_parse(&o, c, optarg) != 1) {
			verify_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc || keys.n == 0) {
		if (keys.n == 0)
			fprintf(stderr, "capsule: verify needs at least one --key\n");
		verify_usage(stderr);
		return 2;
	}
	if (capsule_keys_load(&keys) < 0) {
		capsule_keys_free(&keys);
		return 1;
	}
	if (capsule_oci_opts_read_auth(&o) < 0) {
		capsule_keys_free(&keys);
		return 2;
	}
	struct recap_oci_registry_opts ro = o.pull.registry;
	ro.deadline_s = o.pull.timeout_s > 0 ? o.pull.timeout_s : RECAP_OCI_PULL_TIMEOUT_S;
	ro.deadline_ms = recap_now_mono_ms() + (uint64_t)ro.deadline_s * 1000;
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_oci_sig_result res;
	int r = recap_oci_verify_ref(argv[optind], &ro, keys.keys, keys.n, &res, &err);
	if (r < 0) {
		log_error("%s", recap_error_message(err));
	} else {
		printf("%s %s verified with %s (signature %zu of %zu)\n", argv[optind], res.digest,
		       keys.paths[res.key], res.signature + 1, res.n_signatures);
	}
	capsule_keys_free(&keys);
	capsule_oci_opts_free(&o);
	return r < 0 ? 1 : 0;
}
