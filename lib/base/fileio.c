#include "base/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/cleanup.h"

int recap_read_file(const char *path, size_t max, char **ret, size_t *ret_len, struct recap_error **err)
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
	size_t len = b.len;
	char *data = recap_buf_steal(&b);
	if (!data)
		return recap_error_set(err, ENOMEM, "%s: out of memory", path);
	*ret = data;
	*ret_len = len;
	return 0;
}
