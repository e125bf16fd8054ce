/* The default seccomp profile compiled to BPF at build time
 * (recap-seccomp-gen writes sandbox_seccomp_builtin.c from
 * recap_seccomp_default): one program for the default capabilities and
 * one for each single capability the profile depends on
 * (recap_seccomp_default_caps) added. Any other set is built at start. */
#pragma once

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

struct recap_seccomp_builtin {
	uint64_t caps; /* the capabilities of recap_seccomp_default_caps() it is for */
	unsigned short len;
	const struct sock_filter *insns;
};

extern const struct recap_seccomp_builtin recap_seccomp_builtins[];
extern const size_t recap_seccomp_builtins_len;

/* The built-in program for caps (only the bits of
 * recap_seccomp_default_caps() count), or NULL. */
const struct recap_seccomp_builtin *recap_seccomp_builtin_find(uint64_t caps);
