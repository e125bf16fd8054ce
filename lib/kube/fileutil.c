#include "kube/fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"

int recap_kube_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct recap_error **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return recap_error_set_errno(err, errno, "%s", path);
	struct recap_buf b = RECAP_BUF_INIT(max);
	char chunk[16384];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			recap_buf_free(&b);
			return recap_error_set_errno(err, e, "%s", path);
		}
		if (n == 0)
			break;
		if (recap_buf_append(&b, chunk, (size_t)n) < 0) {
			recap_buf_free(&b);
			return recap_error_set(err, EFBIG, "%s: larger than the limit of %zu bytes", path,
					       max);
		}
	}
	*ret_len = b.len;
	*ret = recap_buf_steal(&b);
	return *ret ? 0 : recap_error_set(err, ENOMEM, "%s: out of memory", path);
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int recap_kube_base64_decode(const char *in, size_t len, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *out = malloc(len / 4 * 3 + 4);
	if (!out)
		return -ENOMEM;
	size_t n = 0, pad = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		int v = b64_value(c);
		if (v < 0 || pad)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (pad > 2 || bits >= 6)
		return -EINVAL;
	out[n] = '\0';
	*ret_len = n;
	*ret = steal_ptr(out);
	return 0;
}
