/* Scope-bound cleanup (GNU C `cleanup` attribute) for the common resources.
 * Each helper accepts the "empty" value (NULL, -1) and does nothing then. */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void recap_freep(void *p)
{
	free(*(void **)p);
}

static inline void recap_closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
	*fd = -1;
}

static inline void recap_fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
	*f = NULL;
}

#define _cleanup_free_ _cleanup_(recap_freep)
#define _cleanup_close_ _cleanup_(recap_closep)
#define _cleanup_fclose_ _cleanup_(recap_fclosep)

/* Hands ownership out of a cleanup-guarded variable. */
#define steal_ptr(p)                                                                                         \
	({                                                                                                   \
		__typeof__(p) _tmp = (p);                                                                    \
		(p) = NULL;                                                                                  \
		_tmp;                                                                                        \
	})
#define steal_fd(fd)                                                                                         \
	({                                                                                                   \
		int _tmp = (fd);                                                                             \
		(fd) = -1;                                                                                   \
		_tmp;                                                                                        \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif
