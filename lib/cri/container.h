/* The CRI's ContainerStatus (k8s.io/cri-api runtime.v1), reduced to what
 * confirms a target: the container's state, the pod the kubelet's labels
 * name, and its init's PID as containerd reports it (verbose info). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/error.h"

/* runtime.v1.ContainerState */
enum recap_cri_state {
	RECAP_CRI_CREATED = 0,
	RECAP_CRI_RUNNING = 1,
	RECAP_CRI_EXITED = 2,
	RECAP_CRI_UNKNOWN = 3,
};

/* The longest string field or label taken from a reply; the verbose info
 * document may be longer (RECAP_CRI_INFO_MAX). */
#define RECAP_CRI_STRING_MAX 4096
#define RECAP_CRI_INFO_MAX (1u << 20)

struct recap_cri_container {
	char *id;
	int state; /* enum recap_cri_state, or what the runtime sent */
	/* the kubelet's labels io.kubernetes.pod.name, .pod.namespace,
	 * .pod.uid, io.kubernetes.container.name (NULL when absent) */
	char *pod_name, *pod_namespace, *pod_uid, *container_name;
	pid_t pid; /* info["info"].pid; 0 when the runtime did not say */
};

void recap_cri_container_free(struct recap_cri_container *c);
const char *recap_cri_state_name(int state);

/* ContainerStatusRequest{container_id = id, verbose = true}. */
int recap_cri_status_request(const char *id, struct recap_buf *out);

/* Decodes a ContainerStatusResponse. -EBADMSG with a message for anything
 * malformed: bad wire format, a string with a NUL byte or longer than its
 * bound, a repeated field we keep, an info document that is not JSON or a
 * pid that is not a positive int. ret is filled only on success. */
int recap_cri_status_decode(const void *msg, size_t len, struct recap_cri_container *ret,
			    struct recap_error **err);

/* Asks the CRI at socket_path for container id (a bare ID, without
 * "containerd://"), within timeout_ms. -ENOENT (the runtime does not know
 * it), -EBADMSG, or the transport's errors (recap_grpc_unary); every
 * message names the socket. */
int recap_cri_container_status(const char *socket_path, const char *id, long timeout_ms,
			       struct recap_cri_container *ret, struct recap_error **err);
