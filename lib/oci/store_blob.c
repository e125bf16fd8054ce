/* Blobs read back from the store, their digest checked again (the store
 * half of lib/oci: sha256.c, no libcrypto). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "oci/store.h"

int recap_oci_store_read_blob(const struct recap_oci_store *s, const char *digest, size_t max, char **ret,
			      size_t *ret_len, struct recap_error **err)
{
	if (recap_oci_digest_validate(digest, err) < 0)
		return -EINVAL;
	char rel[64 + RECAP_OCI_DIGEST_MAX];
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", recap_oci_digest_hex(digest));
	_cleanup_close_ int fd = openat(s->root_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "blob %s is not in the store", digest);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return recap_error_set_errno(err, errno, "cannot stat blob %s", digest);
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
		return recap_error_set(err, EFBIG, "blob %s is %lld bytes (limit %zu)", digest,
				       (long long)st.st_size, max);
	_cleanup_free_ char *buf = malloc(st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return recap_error_set_errno(err, k < 0 ? errno : EIO, "cannot read blob %s", digest);
		got += k;
	}
	buf[got] = '\0';
	char have[RECAP_OCI_DIGEST_MAX];
	if (recap_oci_digest_buf(buf, got, have) < 0)
		return -ENOMEM;
	if (strcmp(have, digest) != 0)
		return recap_error_set(err, EBADMSG, "stored blob %s is corrupt (content has %s)", digest,
				       have);
	*ret = steal_ptr(buf);
	*ret_len = got;
	return 0;
}
