/* recap-seccomp-gen OUTPUT.c: writes the built-in programs of the default
 * seccomp profile (seccomp_builtin.h), compiled by libseccomp on the
 * machine the executor is built for, as C arrays. Run by the build. */
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/sandbox.h"

static int emit(FILE *f, unsigned idx, uint64_t caps, unsigned short *len)
{
	struct recap_error *err = NULL;
	scmp_filter_ctx ctx = NULL;
	int r = recap_seccomp_default(caps, &ctx, &err);
	if (r < 0) {
		fprintf(stderr, "recap-seccomp-gen: caps %#" PRIx64 ": %s\n", caps, recap_error_message(err));
		recap_error_free(err);
		return r;
	}
	struct recap_bpf b = {0};
	r = recap_bpf_compile(ctx, &b);
	seccomp_release(ctx);
	if (r < 0) {
		fprintf(stderr, "recap-seccomp-gen: caps %#" PRIx64 ": cannot compile: %s\n", caps,
			strerror(-r));
		return r;
	}
	fprintf(f, "static const struct sock_filter p%u[%u] = {\n", idx, b.len);
	for (unsigned i = 0; i < b.len; i++)
		fprintf(f, "    {%#x, %u, %u, %#" PRIx32 "},\n", b.insns[i].code, b.insns[i].jt,
			b.insns[i].jf, b.insns[i].k);
	fprintf(f, "};\n");
	*len = b.len;
	recap_bpf_free(&b);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: recap-seccomp-gen OUTPUT.c\n");
		return 2;
	}
	/* the default set alone, then with each capability the profile
	 * depends on (the usual additions: SYS_PTRACE for strace and gdb,
	 * SYS_ADMIN, PERFMON, ...) */
	uint64_t gated = recap_seccomp_default_caps(), base = recap_caps_default() & gated;
	uint64_t sets[65];
	unsigned n = 0;
	sets[n++] = base;
	for (unsigned c = 0; c < 64; c++)
		if ((gated & (1ull << c)) && !(base & (1ull << c)))
			sets[n++] = base | (1ull << c);
	FILE *f = fopen(argv[1], "w");
	if (!f) {
		fprintf(stderr, "recap-seccomp-gen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fprintf(f, "/* Written by recap-seccomp-gen at build time: the default seccomp profile's\n"
		   " * programs (runtime/seccomp_builtin.h). */\n"
		   "#include \"runtime/seccomp_builtin.h\"\n\n");
	unsigned short lens[65];
	for (unsigned i = 0; i < n; i++)
		if (emit(f, i, sets[i], &lens[i]) < 0) {
			fclose(f);
			remove(argv[1]);
			return 1;
		}
	fprintf(f, "\nconst struct recap_seccomp_builtin recap_seccomp_builtins[] = {\n");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "    {%#" PRIx64 "ull, %u, p%u},\n", sets[i], lens[i], i);
	fprintf(f, "};\nconst size_t recap_seccomp_builtins_len = %u;\n", n);
	if (fclose(f) != 0) {
		fprintf(stderr, "recap-seccomp-gen: %s: %s\n", argv[1], strerror(errno));
		remove(argv[1]);
		return 1;
	}
	return 0;
}
