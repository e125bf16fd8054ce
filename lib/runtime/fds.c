#include "runtime/fds.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* close_range(2), or one close(2) per fd below the limit on kernels before 5.9 */
static int close_between(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return 0;
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	struct rlimit rl;
	unsigned max =
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20) ? rl.rlim_cur : 1u << 20;
	for (unsigned fd = lo; fd <= hi && fd < max; fd++)
		close((int)fd);
	return 0;
}

int recap_fds_close_except(const int *keep, size_t n)
{
	int sorted[16];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (keep[i] < 0)
			continue;
		if (k == ARRAY_SIZE(sorted))
			return -E2BIG;
		sorted[k++] = keep[i];
	}
	qsort(sorted, k, sizeof(sorted[0]), cmp_int);
	unsigned lo = 0;
	for (size_t i = 0; i < k; i++) {
		unsigned fd = (unsigned)sorted[i];
		int r = fd > lo ? close_between(lo, fd - 1) : 0;
		if (r < 0)
			return r;
		if (fd + 1 > lo)
			lo = fd + 1;
	}
	return close_between(lo, ~0U);
}

int recap_fds_enter_workdir(const char *wd)
{
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, root, wd, &how, sizeof(how));
	if (fd < 0)
		return -errno;
	return fchdir(fd) < 0 ? -errno : 0;
}
