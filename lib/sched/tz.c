#include "sched/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "sched/tz_internal.h"

void recap_tz_free(struct recap_tz *tz)
{
	if (!tz)
		return;
	free(tz->at);
	free(tz->utoff);
	free(tz);
}

void recap_tz_freep(struct recap_tz **tz)
{
	recap_tz_free(*tz);
	*tz = NULL;
}

const char *recap_tz_name(const struct recap_tz *tz)
{
	return tz->name;
}

static struct recap_tz *tz_new(const char *name)
{
	struct recap_tz *tz = calloc(1, sizeof(*tz));
	if (tz)
		snprintf(tz->name, sizeof(tz->name), "%s", name ? name : "UTC");
	return tz;
}

int recap_tz_fixed(const char *name, int32_t utoff, struct recap_tz **ret)
{
	struct recap_tz *tz = tz_new(name);
	if (!tz)
		return -ENOMEM;
	tz->initial = utoff;
	*ret = tz;
	return 0;
}

int32_t recap_tz_offset(const struct recap_tz *tz, int64_t t)
{
	if (tz->ntrans == 0 || t < tz->at[0])
		return tz->ntrans == 0 && tz->has_rule ? recap_sched_tz_rule_offset(&tz->rule, t)
						       : tz->initial;
	if (t >= tz->at[tz->ntrans - 1] && tz->has_rule)
		return recap_sched_tz_rule_offset(&tz->rule, t);
	size_t lo = 0, hi = tz->ntrans; /* at[lo] <= t < at[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->utoff[lo];
}

int recap_tz_check_name(const char *name, struct recap_error **err)
{
	size_t len = strlen(name);
	if (len == 0 || len > RECAP_TZ_NAME_MAX)
		return recap_error_set(err, EINVAL, "invalid time zone \"%.*s\": length must be 1..%d", 64,
				       name, RECAP_TZ_NAME_MAX);
	if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "//"))
		return recap_error_set(err, EINVAL, "invalid time zone \"%s\": not a relative zone name",
				       name);
	for (const char *p = name; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			  strchr("/_+-.", *p);
		if (!ok)
			return recap_error_set(
			    err, EINVAL, "invalid time zone \"%s\": character '%c' not allowed", name, *p);
		bool component_start = p == name || p[-1] == '/';
		if (component_start && *p == '.')
			return recap_error_set(err, EINVAL,
					       "invalid time zone \"%s\": a component may not start with '.'",
					       name);
	}
	return 0;
}

static int read_file(int dirfd, const char *dir, const char *name, char **ret, size_t *ret_len,
		     struct recap_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return recap_error_set(err, ENOENT, "unknown time zone \"%s\" (not in %s)", name,
					       dir);
		return recap_error_set_errno(err, errno, "time zone \"%s\": open %s/%s", name, dir, name);
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return recap_error_set(err, ENOENT, "unknown time zone \"%s\" (%s/%s is not a file)", name,
				       dir, name);
	if (st.st_size > RECAP_TZ_FILE_MAX)
		return recap_error_set(err, EFBIG, "time zone \"%s\": file larger than %d bytes", name,
				       RECAP_TZ_FILE_MAX);
	_cleanup_free_ char *data = malloc((size_t)st.st_size + 1);
	if (!data)
		return -ENOMEM;
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, data + len, (size_t)st.st_size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return recap_error_set_errno(err, errno, "time zone \"%s\": read", name);
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > (size_t)st.st_size)
			return recap_error_set(err, EFBIG, "time zone \"%s\": file grew while read", name);
	}
	*ret = steal_ptr(data);
	*ret_len = len;
	return 0;
}

int recap_tz_load_dir(const char *dir, const char *name, struct recap_tz **ret, struct recap_error **err)
{
	if (!name || !*name)
		return recap_tz_fixed("UTC", 0, ret);
	int r = recap_tz_check_name(name, err);
	if (r < 0)
		return r;
	_cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return recap_error_set_errno(err, errno, "time zone database %s", dir);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	r = read_file(dirfd, dir, name, &data, &len, err);
	if (r < 0)
		return r;
	return recap_tz_parse(data, len, name, ret, err);
}

int recap_tz_load(const char *name, struct recap_tz **ret, struct recap_error **err)
{
	return recap_tz_load_dir(RECAP_TZ_DIR, name, ret, err);
}
