/* Quantities in specs: bytes, CPUs, seconds. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/quantity.h"
#include "runtime/spec.h"

/* Sizes and CPU amounts are Kubernetes quantities, parsed exactly by the one
 * parser the policy uses too (base/quantity.h): what a CapsulePolicy admits
 * is what the executor applies. */
int recap_spec_parse_bytes(const char *s, int64_t *ret, struct recap_error **err)
{
	struct recap_quantity q;
	int r = recap_quantity_parse(s, &q, NULL);
	if (r < 0)
		return recap_error_set(err, r, "bad size '%s': not a quantity (e.g. 64Mi, 1G, 1048576)", s);
	int64_t v;
	if (q.nano < 0)
		return recap_error_set(err, EINVAL, "bad size '%s': negative", s);
	if (recap_quantity_units(q, &v) < 0)
		return recap_error_set(err, ERANGE, "size '%s' is too large", s);
	*ret = v;
	return 0;
}

int recap_spec_parse_cpus(const char *s, int64_t *ret, struct recap_error **err)
{
	struct recap_quantity q;
	int64_t m;
	if (recap_quantity_parse(s, &q, NULL) < 0 || q.nano <= 0)
		return recap_error_set(err, EINVAL, "bad CPU amount '%s' (e.g. 0.5, 2, 500m)", s);
	if (recap_quantity_milli(q, &m) < 0 || m < 1 || m > 1000000)
		return recap_error_set(err, ERANGE, "CPU amount '%s' out of range (1m to 1000 CPUs)", s);
	*ret = m;
	return 0;
}

int recap_spec_parse_seconds(const char *s, uint64_t *ret, struct recap_error **err)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < 0 || v > 1e7)
		return recap_error_set(err, EINVAL, "bad duration '%s' (seconds, e.g. 30 or 1.5)", s);
	*ret = (uint64_t)(v * 1000.0);
	return 0;
}

static int id_number(const char *s, size_t len, int64_t *ret)
{
	if (len == 0 || len > 10 || strspn(s, "0123456789") < len)
		return -EINVAL;
	long long v = strtoll(s, NULL, 10);
	if (v < 0 || v > 4294967294LL)
		return -ERANGE;
	*ret = v;
	return 0;
}

int recap_spec_parse_user(const char *s, int64_t *ret_uid, int64_t *ret_gid, struct recap_error **err)
{
	size_t ulen = strcspn(s, ":");
	int64_t uid, gid;
	if (id_number(s, ulen, &uid) < 0)
		return recap_error_set(err, EINVAL, "bad user '%s': a numeric uid[:gid] is needed", s);
	gid = uid;
	if (s[ulen] == ':' && id_number(s + ulen + 1, strlen(s + ulen + 1), &gid) < 0)
		return recap_error_set(err, EINVAL, "bad user '%s': a numeric uid[:gid] is needed", s);
	*ret_uid = uid;
	*ret_gid = gid;
	return 0;
}

int recap_spec_split_layers(const char *s, struct recap_strv *l, struct recap_error **err)
{
	const char *p = s;
	while (*p) {
		size_t len = strcspn(p, ":");
		if (len > 0) {
			_cleanup_free_ char *d = strndup(p, len);
			if (!d || recap_strv_push(l, d) < 0)
				return recap_error_set(err, ENOMEM, "too many layers");
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return 0;
}
