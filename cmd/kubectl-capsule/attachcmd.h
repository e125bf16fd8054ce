/* The command `attach` hands over to: kubectl exec into the node's caplet
 * pod, running `capsule attach` there (pure: unit-tested).
 *
 *   kubectl [--kubeconfig F] [--context C] exec -i [-t] -n <caplet-ns> <caplet-pod> -c caplet --
 *     capsule attach --target <container-id> --image <ref> [--join L] [--target-fs none|ro|rw]
 *     [--cap-add L] [--cap-drop L] [-- COMMAND...]
 *
 * The connection then goes through the API server's exec streaming and its
 * RBAC (pods/exec in the caplet namespace), like any kubectl exec.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "args.h"
#include "base/error.h"

#define PLUGIN_CAPLET_CONTAINER "caplet"
#define PLUGIN_CAPLET_SELECTOR "app.kubernetes.io/name=recap,app.kubernetes.io/component=caplet"

/* NULL-terminated, every string owned; free with plugin_argv_free. `tty`:
 * stdin is a terminal (then -t, as kubectl exec -it). */
char **plugin_attach_argv(const struct attach_args *a, const char *caplet_pod, const char *container_id,
			  bool tty);
void plugin_argv_free(char **argv);
/* Shell-quoted, one line (attach --dry-run). */
void plugin_print_argv(FILE *f, char *const *argv);

/* The target container's ID (without the "containerd://" scheme) from a
 * Pod object; `container` NULL means the first. */
int plugin_pod_container_id(json_t *pod, const char *container, char **ret, struct recap_error **err);
/* The running caplet pod among a List of caplet pods on `node`. */
int plugin_pick_caplet(json_t *list, const char *node, const char *ns, const char **ret,
		       struct recap_error **err);
