/* The image options of `pull` and of `run`/`attach --image`. `capsule`
 * checks them and forwards them as given to `capsule-pull`, which parses
 * them again into its pull options. */
#pragma once

#include "oci/pull.h"

#define CAPSULE_INSECURE_MAX 16
/* every option at most once, --insecure-registry CAPSULE_INSECURE_MAX times */
#define CAPSULE_OCI_FORWARD_MAX (2 * (CAPSULE_INSECURE_MAX + 11))

struct capsule_oci_opts {
	struct recap_oci_pull_opts pull;
	const char *insecure[CAPSULE_INSECURE_MAX + 1];
	int n_insecure;
	char platform[96];
	const char *forward[CAPSULE_OCI_FORWARD_MAX + 1]; /* "--name", "value", ..., NULL */
	int n_forward;
	int auth_fd;	/* --auth-fd; -1: none */
	char *auth_doc; /* what capsule_oci_opts_read_auth read from it */
	size_t auth_doc_len;
};

/* defaults fills o->pull's defaults (capsule-pull passes the pull library's;
 * capsule, which only checks and forwards, passes NULL). */
void capsule_oci_opts_init(struct capsule_oci_opts *o, void (*defaults)(struct recap_oci_pull_opts *));
/* Handles one long option of the image verbs (getopt's c and optarg);
 * returns 1 when handled, 0 when not ours, -1 on a bad value (printed). */
int capsule_oci_opts_parse(struct capsule_oci_opts *o, int c, const char *arg);
/* capsule-pull, once the options are parsed: reads the credentials
 * document of --auth-fd (whole, bounded) and closes the descriptor;
 * returns -1 after printing why it could not. */
int capsule_oci_opts_read_auth(struct capsule_oci_opts *o);
/* Wipes and frees what capsule_oci_opts_read_auth read. */
void capsule_oci_opts_free(struct capsule_oci_opts *o);
/* getopt_long entries for the options above (terminated by a NULL name
 * when appended to a verb's own list). */
/* clang-format off */
#define CAPSULE_OCI_LONG_OPTIONS \
	{"insecure-registry", required_argument, NULL, 0x101}, \
	{"auth-file", required_argument, NULL, 0x102}, \
	{"max-blob-size", required_argument, NULL, 0x103}, \
	{"max-layer-size", required_argument, NULL, 0x104}, \
	{"max-layer-entries", required_argument, NULL, 0x105}, \
	{"platform", required_argument, NULL, 0x106}, \
	{"stall-timeout", required_argument, NULL, 0x107}, \
	{"ca-file", required_argument, NULL, 0x108}, \
	{"pull-timeout", required_argument, NULL, 0x109}, \
	{"auth-fd", required_argument, NULL, 0x10a}, \
	{"registry-config", required_argument, NULL, 0x10b}
/* clang-format on */
#define CAPSULE_OCI_OPTIONS_HELP                                                                             \
	"  --insecure-registry HOST[:PORT]  talk plain HTTP to this registry (repeatable)\n"                 \
	"  --ca-file FILE                   PEM CA bundle trusted for the registry's TLS\n"                  \
	"  --registry-config DIR            mirrors and trust per registry: DIR/<registry>/hosts.toml\n"     \
	"                                   as containerd reads it (e.g. /etc/containerd/certs.d)\n"         \
	"  --auth-file FILE                 docker-style config.json with credentials\n"                     \
	"  --auth-fd N                      the same, read once from file descriptor N (a pipe)\n"           \
	"  --max-blob-size BYTES            limit per downloaded blob (default 4G)\n"                        \
	"  --max-layer-size BYTES           limit of a layer's unpacked size (default 16G)\n"                \
	"  --max-layer-entries N            limit of entries per layer (default 100000)\n"                   \
	"  --stall-timeout SECONDS          give up a request under 1 KiB/s for this long (30)\n"            \
	"  --pull-timeout SECONDS           give up the whole pull after this long (600)\n"                  \
	"  --platform OS/ARCH[/VARIANT]     platform chosen from an image index (default linux/"             \
	"<this machine>)\n"
