/* The front proxy: kube-apiserver forwards a request with a client
 * certificate the requestheader CA signed (one of the allowed names) and the
 * user it authenticated in headers (X-Remote-User, X-Remote-Group,
 * X-Remote-Extra-<key>; the names come from the ConfigMap
 * kube-system/extension-apiserver-authentication). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "base/error.h"

#define APISERVER_FP_MAX 16

struct apiserver_frontproxy {
	char *ca; /* PEM */
	char *allowed[APISERVER_FP_MAX];
	char *user_headers[APISERVER_FP_MAX];
	char *group_headers[APISERVER_FP_MAX];
	char *extra_prefixes[APISERVER_FP_MAX];
};

/* From the ConfigMap object; an error names a missing or malformed key. */
int apiserver_frontproxy_parse(json_t *cm, struct apiserver_frontproxy *ret, struct recap_error **err);
void apiserver_frontproxy_free(struct apiserver_frontproxy *fp);
bool apiserver_frontproxy_allows(const struct apiserver_frontproxy *fp, const char *cn);

/* Who the front proxy says the request is from. */
struct apiserver_user {
	char *name;
	json_t *groups; /* array of strings */
	json_t *extra;	/* object: key -> array of strings */
};

/* head: the request head (request line, headers, the blank line). */
int apiserver_frontproxy_user(const struct apiserver_frontproxy *fp, const char *head,
			      struct apiserver_user *ret, struct recap_error **err);
void apiserver_user_free(struct apiserver_user *u);
