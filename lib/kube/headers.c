/* The headers every request to the API server carries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/client_internal.h"

static int add(struct recap_kube_headers *hd, const char *name, const char *value)
{
	const char *scheme = strcmp(name, "Authorization") == 0 ? "Bearer " : "";
	if (hd->n >= sizeof(hd->h) / sizeof(hd->h[0]) ||
	    asprintf(&hd->h[hd->n], "%s: %s%s", name, scheme, value) < 0)
		return -ENOMEM;
	hd->n++;
	return 0;
}

int recap_kube_client_headers(struct recap_kube_client *c, const char *content_type,
			      struct recap_kube_headers *hd, struct recap_error **err)
{
	*hd = (struct recap_kube_headers){0};
	int r = add(hd, "Accept", "application/json");
	if (r >= 0)
		r = add(hd, "User-Agent", c->user_agent);
	if (r >= 0 && content_type)
		r = add(hd, "Content-Type", content_type);
	for (char **i = c->impersonation; r >= 0 && i && *i; i++)
		if (hd->n >= sizeof(hd->h) / sizeof(hd->h[0]) || !(hd->h[hd->n++] = strdup(*i)))
			r = -ENOMEM;
	if (r < 0) {
		recap_kube_headers_free(hd);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	const char *token = NULL;
	r = recap_kube_client_credential(c, &token, &hd->token_generation, err);
	if (r < 0) {
		recap_kube_headers_free(hd);
		return r;
	}
	if (token && add(hd, "Authorization", token) < 0) {
		recap_kube_headers_free(hd);
		return recap_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

void recap_kube_headers_free(struct recap_kube_headers *hd)
{
	for (size_t i = 0; i < hd->n; i++) {
		explicit_bzero(hd->h[i], strlen(hd->h[i]));
		free(hd->h[i]);
	}
	hd->n = 0;
}
