/* Between the kubeconfig reader and the merge of several files. Internal. */
#pragma once

#include <jansson.h>

#include "kube/config.h"

/* Merged entries remember where they came from, for messages. */
#define RECAP_KUBECONFIG_SOURCE "\x01source"
#define RECAP_KUBECONFIG_INDEX "\x01index"

/* A parsed kubeconfig (root a JSON object); name and base_dir as for
 * recap_kube_config_from_yaml. */
int recap_kube_config_from_root(json_t *root, const char *name, const char *base_dir,
				const struct recap_kube_select *sel, struct recap_kube_config **ret,
				struct recap_error **err);
/* A kubeconfig file read and parsed: its top level, a JSON object. */
int recap_kube_config_read_root(const char *path, json_t **ret, struct recap_error **err);
/* One file, with a selection. */
int recap_kube_config_from_file_select(const char *path, const struct recap_kube_select *sel,
				       struct recap_kube_config **ret, struct recap_error **err);
