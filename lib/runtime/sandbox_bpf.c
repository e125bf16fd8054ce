/* A seccomp filter compiled to BPF before it is loaded: see sandbox.h. */
#include "runtime/sandbox.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/cleanup.h"

int recap_bpf_compile(scmp_filter_ctx ctx, struct recap_bpf *ret)
{
	/* a memfd, not a pipe: a large OCI profile's program would fill a
	 * pipe before libseccomp's one write of it returned */
	_cleanup_close_ int fd = memfd_create("recap-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r;
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0)
		return -errno;
	if (size == 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
	    size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;
	struct sock_filter *insns = malloc((size_t)size);
	if (!insns)
		return -ENOMEM;
	if (pread(fd, insns, (size_t)size, 0) != size) {
		free(insns);
		return -EIO;
	}
	*ret = (struct recap_bpf){.insns = insns, .len = (unsigned short)(size / sizeof(struct sock_filter))};
	return 0;
}

int recap_bpf_load(const struct recap_bpf *p)
{
	/* what seccomp_load does with libseccomp's default attributes (no
	 * TSYNC, LOG or SPEC_ALLOW flag; none of our filters sets one) */
	struct sock_fprog prog = {.len = p->len, .filter = p->insns};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? -errno : 0;
}

void recap_bpf_free(struct recap_bpf *p)
{
	free(p->insns);
	*p = (struct recap_bpf){0};
}
