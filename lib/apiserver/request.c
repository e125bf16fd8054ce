/* What every subresource does before its own work: check the names in the
 * path, authorize the user (a SubjectAccessReview), read objects. Each
 * answers the client itself when it fails. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver/internal.h"

bool apiserver_dns_name(const char *s, size_t max)
{
	size_t n = strlen(s);
	return n > 0 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n && s[0] != '-' &&
	       s[0] != '.' && s[n - 1] != '-' && s[n - 1] != '.';
}

bool apiserver_authorize(struct apiserver_conn *c, const struct apiserver_user *u,
			 const struct apiserver_sar_attrs *a)
{
	char *why = NULL;
	struct recap_error *err = NULL;
	int r = apiserver_sar_check(&c->s->sar, u, a, &why, &err);
	if (r < 0)
		apiserver_status(c, 500, "InternalError", "the authorization check failed: %s",
				 recap_error_message(err));
	else if (r == 0)
		apiserver_status(c, 403, "Forbidden",
				 "%s.%s \"%s\" is forbidden: User \"%s\" cannot %s resource \"%s/%s\" in API "
				 "group \"%s\" in the namespace \"%s\"%s%s",
				 a->resource, GROUP, a->name, u->name, a->verb, a->resource, a->subresource,
				 GROUP, a->ns, why ? ": " : "", why ? why : "");
	free(why);
	recap_error_free(err);
	return r == 1;
}

int apiserver_get(struct apiserver_conn *c, const char *path, json_t **ret)
{
	struct apiserver_call call = {.method = "GET", .path = path};
	struct recap_error *err = NULL;
	int r = apiserver_broker_call(c->s->broker, &call, &err);
	if (r < 0 && call.code == RECAP_KUBE_ERR_NOT_FOUND)
		r = -ENOENT;
	else if (r < 0)
		apiserver_status(c, 500, "InternalError", "%s", recap_error_message(err));
	recap_error_free(err);
	*ret = call.object;
	return r;
}
