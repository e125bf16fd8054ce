/* Shared by the integration tests of lib/kube and lib/kubecache. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

#include "kube/client.h"
#include "kube/watch.h"

struct tclient {
	uv_loop_t loop;
	struct recap_kube_client *c;
};

/* Opens a client from a kubeconfig (NULL: $KUBECONFIG); fails the test on error. */
void tclient_open(struct tclient *t, const char *kubeconfig, const struct recap_kube_client_options *opts);
/* Opens a client from a config the test built. */
void tclient_open_config(struct tclient *t, const struct recap_kube_config *cfg,
			 const struct recap_kube_client_options *opts);
/* Closes the client, runs the loop dry and checks that no handle is left. */
void tclient_close(struct tclient *t);

/* Waits for a call started with recap_kube_sync_cb; returns its code,
 * hands out the object (if ret) and the message (if ret_msg, caller frees). */
enum recap_kube_code twait(struct tclient *t, struct recap_kube_sync *s, json_t **ret, char **ret_msg);

/* Runs the loop until *flag is true or timeout_ms passed; returns *flag. */
bool trun_until(struct tclient *t, const bool *flag, uint64_t timeout_ms);

/* The admin's config ($KUBECONFIG); fails the test on error. */
struct recap_kube_config *tadmin_config(void);
/* Writes text to path (created or truncated); fails the test on error. */
void twrite_file(const char *path, const char *text);
/* The number a file holds (a plugin's run count); -1 when none. */
long tread_number(const char *path);
/* A ConfigMap object {metadata:{name}, data:{k: v}}. */
json_t *tconfigmap(const char *name, const char *k, const char *v);

/* Runs `hack/cluster VERB --dir $RECAP_CLUSTER_DIR`; fails the test on error. */
void tcluster(const char *verb);

/* test/kube/flaky_server.py, a loopback HTTP server that misbehaves on
 * purpose (needs $RECAP_SOURCE_ROOT). It exits when its stdin closes, so it
 * never outlives the test, even one that crashes. */
struct tserver {
	pid_t pid;
	int stdin_fd;
	char url[64];
};
/* Returns 0, or -1 when it did not start (for a cmocka setup function). */
int tserver_start(struct tserver *s);
void tserver_stop(struct tserver *s);

extern const struct recap_kube_resource T_CONFIGMAPS;
extern const struct recap_kube_resource T_NAMESPACES;
