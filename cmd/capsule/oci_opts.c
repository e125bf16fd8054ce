#include "oci_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "oci/auth.h"

/* The flags of CAPSULE_OCI_LONG_OPTIONS, by value - 0x101. */
static const char *const flags[] = {
    "--insecure-registry", "--auth-file", "--max-blob-size",   "--max-layer-size",
    "--max-layer-entries", "--platform",  "--stall-timeout",   "--ca-file",
    "--pull-timeout",	   "--auth-fd",	  "--registry-config",
};

void capsule_oci_opts_init(struct capsule_oci_opts *o, void (*defaults)(struct recap_oci_pull_opts *))
{
	memset(o, 0, sizeof(*o));
	if (defaults)
		defaults(&o->pull);
	o->pull.registry.insecure = o->insecure;
	o->auth_fd = -1;
}

int capsule_oci_opts_read_auth(struct capsule_oci_opts *o)
{
	if (o->auth_fd < 0)
		return 0;
	struct recap_buf b = RECAP_BUF_INIT(RECAP_OCI_AUTH_FILE_MAX);
	char chunk[4096];
	int r = 0;
	for (;;) {
		ssize_t n = read(o->auth_fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "capsule: --auth-fd %d: %s\n", o->auth_fd, strerror(errno));
			r = -1;
		} else if (n > 0 && recap_buf_append(&b, chunk, (size_t)n) < 0) {
			fprintf(stderr, "capsule: --auth-fd %d: the credentials are over %d bytes\n",
				o->auth_fd, RECAP_OCI_AUTH_FILE_MAX);
			r = -1;
		}
		if (n <= 0 || r < 0)
			break;
	}
	explicit_bzero(chunk, sizeof(chunk));
	close(o->auth_fd);
	o->auth_fd = -1;
	if (r < 0 || b.len == 0) {
		if (r == 0)
			fprintf(stderr, "capsule: --auth-fd: the descriptor gave no credentials\n");
		if (b.data)
			explicit_bzero(b.data, b.len);
		recap_buf_free(&b);
		return -1;
	}
	o->auth_doc = b.data;
	o->auth_doc_len = b.len;
	o->pull.registry.auth_doc = o->auth_doc;
	o->pull.registry.auth_doc_len = o->auth_doc_len;
	return 0;
}

void capsule_oci_opts_free(struct capsule_oci_opts *o)
{
	if (o->auth_doc)
		explicit_bzero(o->auth_doc, o->auth_doc_len);
	free(o->auth_doc);
	o->auth_doc = NULL;
	o->pull.registry.auth_doc = NULL;
}

/* Keeps the option as given, for capsule-pull. */
static int forward(struct capsule_oci_opts *o, int c, const char *arg)
{
	if (o->n_forward + 2 > CAPSULE_OCI_FORWARD_MAX) {
		fprintf(stderr, "capsule: too many image options (at most %d)\n",
			CAPSULE_OCI_FORWARD_MAX / 2);
		return -1;
	}
	o->forward[o->n_forward++] = flags[c - 0x101];
	o->forward[o->n_forward++] = arg;
	return 1;
}

/* "123", "64K", "4M", "2G": bytes. */
static int parse_size(const char *s, uint64_t *ret)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	int shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end)
		return -EINVAL;
	if (shift && end[1])
		return -EINVAL;
	if (v > (UINT64_MAX >> shift) || v == 0)
		return -ERANGE;
	*ret = (uint64_t)v << shift;
	return 0;
}

static int parse_platform(struct capsule_oci_opts *o, const char *arg)
{
	if (snprintf(o->platform, sizeof(o->platform), "%s", arg) >= (int)sizeof(o->platform))
		return -EINVAL;
	char *arch = strchr(o->platform, '/');
	if (!arch || arch == o->platform || !arch[1])
		return -EINVAL;
	*arch++ = '\0';
	char *variant = strchr(arch, '/');
	if (variant) {
		*variant++ = '\0';
		if (!*variant)
			return -EINVAL;
	}
	o->pull.os = o->platform;
	o->pull.arch = arch;
	o->pull.variant = variant;
	return 0;
}

int capsule_oci_opts_parse(struct capsule_oci_opts *o, int c, const char *arg)
{
	int r = 0;
	switch (c) {
	case 0x101:
		if (o->n_insecure >= CAPSULE_INSECURE_MAX) {
			fprintf(stderr, "capsule: at most %d --insecure-registry options\n",
				CAPSULE_INSECURE_MAX);
			return -1;
		}
		o->insecure[o->n_insecure++] = arg;
		return forward(o, c, arg);
	case 0x108:
		o->pull.registry.ca_file = arg;
		return forward(o, c, arg);
	case 0x10b:
		o->pull.registry.hosts_dir = arg;
		return forward(o, c, arg);
	case 0x102:
		o->pull.registry.auth_file = arg;
		return forward(o, c, arg);
	case 0x10a: {
		char *end = NULL;
		errno = 0;
		long fd = strtol(arg, &end, 10);
		if (errno || end == arg || *end || fd < 3 || fd > 1023) {
			fprintf(stderr,
				"capsule: --auth-fd takes a descriptor number from 3 to 1023, not '%s'\n",
				arg);
			return -1;
		}
		o->auth_fd = (int)fd;
		return forward(o, c, arg);
	}
	case 0x103:
		r = parse_size(arg, &o->pull.max_blob);
		break;
	case 0x104:
		r = parse_size(arg, &o->pull.unpack.max_bytes);
		break;
	case 0x105:
		r = parse_size(arg, &o->pull.unpack.max_entries);
		break;
	case 0x106:
		r = parse_platform(o, arg);
		break;
	case 0x107: {
		uint64_t v = 0;
		r = parse_size(arg, &v);
		if (r >= 0 && v > 3600)
			r = -ERANGE;
		o->pull.registry.stall_timeout_s = (long)v;
		break;
	}
	case 0x109: {
		uint64_t v = 0;
		r = parse_size(arg, &v);
		if (r >= 0 && v > 86400)
			r = -ERANGE;
		o->pull.timeout_s = (long)v;
		break;
	}
	default:
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "capsule: bad value '%s' for an image option\n", arg);
		return -1;
	}
	return forward(o, c, arg);
}
