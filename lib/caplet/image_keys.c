/* The signature keys a pull must verify with: the key sets of the policies
 * that select the execution's namespace (caplet_policy_signature_sets), as
 * files in the node store's keys/ (one per key, named by the SHA-256 of its
 * PEM, written once, whole, and renamed into place) and the executor's
 * `--verify-key FILE[,FILE...]` options, one per set. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"
#include "base/json.h"
#include "base/sha256.h"
#include "caplet/agent.h"
#include "oci/store.h"

#define KEY_PEM_MAX 8192 /* the schema's bound */

static void hex_of(const char *s, size_t n, char out[2 * RECAP_SHA256_LEN + 1])
{
	struct recap_sha256 h;
	uint8_t d[RECAP_SHA256_LEN];
	recap_sha256_init(&h);
	recap_sha256_update(&h, s, n);
	recap_sha256_final(&h, d);
	for (int i = 0; i < RECAP_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* <root>/keys/<hex>.pem holding pem; its path in *ret. */
static int key_file(const char *root, const char *pem, const char *hex, char **ret, struct recap_error **err)
{
	_cleanup_free_ char *dir = NULL, *path = NULL, *tmp = NULL;
	if (asprintf(&dir, "%s/keys", root) < 0 || asprintf(&path, "%s/%s.pem", dir, hex) < 0 ||
	    asprintf(&tmp, "%s/.%s.XXXXXX", dir, hex) < 0)
		return recap_error_set(err, ENOMEM, "out of memory");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return recap_error_set_errno(err, errno, "cannot make %s", dir);
	if (access(path, F_OK) == 0) { /* named by its content: written before */
		*ret = steal_ptr(path);
		return 0;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "cannot write a key in %s", dir);
	size_t n = strlen(pem), off = 0;
	int r = 0;
	while (off < n && r == 0) {
		ssize_t w = write(fd, pem + off, n - off);
		if (w < 0 && errno != EINTR)
			r = -errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (fchmod(fd, 0644) < 0 && r == 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return recap_error_set_errno(err, -r, "cannot write %s", path);
	}
	*ret = steal_ptr(path);
	return 0;
}

int caplet_image_verify_args(struct recap_caplet *c, json_t *sets, char ***ret_args, char **ret_tag,
			     struct recap_error **err)
{
	size_t n_sets = json_array_size(sets);
	struct recap_oci_store *store = NULL; /* made when missing: keys/ is in it */
	int r = recap_oci_store_open(c->o.root, &store, err);
	recap_oci_store_close(store);
	if (r < 0)
		return r;
	char **args = calloc(2 * n_sets + 1, sizeof(*args));
	struct recap_buf tag = RECAP_BUF_INIT(64 * 1024);
	r = args ? 0 : recap_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n_sets && r == 0; i++) {
		json_t *set = json_array_get(sets, i), *k;
		struct recap_buf files = RECAP_BUF_INIT(64 * 1024);
		size_t j;
		r = recap_buf_printf(&tag, "\nkeys of %s:", recap_json_str(set, "policy") ?: "");
		json_array_foreach (json_object_get(set, "publicKeys"), j, k) {
			const char *pem = json_string_value(k);
			char hex[2 * RECAP_SHA256_LEN + 1];
			_cleanup_free_ char *path = NULL;
			if (r < 0)
				break;
			if (!pem || strlen(pem) > KEY_PEM_MAX) {
				r = recap_error_set(
				    err, EINVAL,
				    "CapsulePolicy \"%s\": images.signatures.publicKeys[%zu] is not "
				    "a PEM key of at most %d bytes",
				    recap_json_str(set, "policy") ?: "", j, KEY_PEM_MAX);
				break;
			}
			hex_of(pem, strlen(pem), hex);
			r = key_file(c->o.root, pem, hex, &path, err);
			if (r == 0)
				r = recap_buf_printf(&files, "%s%s", j ? "," : "", path);
			if (r == 0)
				r = recap_buf_printf(&tag, " %s", hex);
		}
		if (r == 0 && files.len == 0)
			r = recap_error_set(err, EINVAL,
					    "CapsulePolicy \"%s\": images.signatures.publicKeys is empty",
					    recap_json_str(set, "policy") ?: "");
		if (r == 0) {
			args[2 * i] = strdup("--verify-key");
			args[2 * i + 1] = recap_buf_steal(&files);
			if (!args[2 * i] || !args[2 * i + 1])
				r = recap_error_set(err, ENOMEM, "out of memory");
		}
		recap_buf_free(&files);
	}
	if (r == -ENOBUFS)
		r = recap_error_set(err, E2BIG, "the policies' signature keys are too many");
	if (r < 0) {
		caplet_image_verify_args_free(args);
		recap_buf_free(&tag);
		return r;
	}
	*ret_args = args;
	*ret_tag = tag.len ? recap_buf_steal(&tag) : strdup("");
	return *ret_tag ? 0 : recap_error_set(err, ENOMEM, "out of memory");
}

void caplet_image_verify_args_free(char **args)
{
	for (size_t i = 0; args && args[i]; i++)
		free(args[i]);
	free(args);
}
