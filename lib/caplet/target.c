/* Is the container the CRI reports the one the execution names? A pure
 * function of the execution and the CRI's answer (unit-tested); asking the
 * CRI is cri.c's. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "api/names.h"
#include "api/types.h"
#include "base/json.h"
#include "caplet/spec.h"

const char *recap_caplet_target_id(json_t *exec, struct recap_error **err)
{
	const char *cid = recap_api_exec_spec_target_container_id(exec);
	const char *sep = cid ? strstr(cid, "://") : NULL;
	const char *id = sep ? sep + 3 : cid;
	if (!id || !*id) {
		recap_error_set(err, EINVAL, "spec.target.containerID is required");
		return NULL;
	}
	size_t n = strlen(id), digits = strspn(id, "0123456789");
	/* never read as a PID by the executor (containerd://1 is the node's
	 * init to a caplet with the node's PIDs), never a path */
	if (n > 128 || digits == n ||
	    strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_.") != n) {
		recap_error_set(err, EINVAL,
				"spec.target.containerID '%.128s' is not a container ID "
				"(<runtime>://<id>: letters, digits, '-', '_', '.', not a number)",
				id);
		return NULL;
	}
	return id;
}

/* One identity field: what the execution names against the kubelet's
 * label. 0 when they agree. */
static int same(const char *what, const char *label, const char *want, const char *got, const char *id,
		struct recap_error **err)
{
	if (!want)
		return recap_error_set(err, EINVAL, "spec.target.%s is required", what);
	if (!got)
		return recap_error_set(err, EINVAL,
				       "the CRI's container %s has no %s label: it is not a Kubernetes pod's",
				       id, label);
	if (strcmp(want, got) != 0)
		return recap_error_set(
		    err, EINVAL,
		    "the CRI's container %s belongs to %s '%.253s', the execution names '%.253s'", id, what,
		    got, want);
	return 0;
}

static int identity(json_t *exec, json_t *cri, const char *id, struct recap_error **err)
{
	int r = same("namespace", "io.kubernetes.pod.namespace", recap_api_meta_namespace(exec),
		     recap_json_str(cri, "podNamespace"), id, err);
	if (r >= 0)
		r = same("pod", "io.kubernetes.pod.name", recap_api_exec_spec_target_pod(exec),
			 recap_json_str(cri, "podName"), id, err);
	if (r >= 0)
		r = same("podUID", "io.kubernetes.pod.uid", recap_api_exec_spec_target_pod_uid(exec),
			 recap_json_str(cri, "podUID"), id, err);
	if (r >= 0)
		r = same("container", "io.kubernetes.container.name",
			 recap_api_exec_spec_target_container(exec), recap_json_str(cri, "container"), id,
			 err);
	return r;
}

int recap_caplet_target_check(json_t *exec, json_t *cri, int *ret_pid, const char **ret_reason,
			      struct recap_error **err)
{
	*ret_reason = RECAP_REASON_INVALID_SPEC;
	const char *id = recap_caplet_target_id(exec, err);
	if (!id)
		return -EINVAL;
	const char *got = recap_json_str(cri, "id");
	/* containerd resolves a unique prefix of an ID: the executor matches
	 * cgroups by the whole ID, so only the whole ID is the container */
	if (!got || strcmp(got, id) != 0)
		return recap_error_set(err, EINVAL, "the CRI answered for container '%.128s', not '%s'",
				       got ? got : "", id);
	int r = identity(exec, cri, id, err);
	if (r < 0)
		return r;
	*ret_reason = RECAP_REASON_TARGET_NOT_FOUND;
	const char *state = recap_json_str(cri, "state");
	if (!state || strcmp(state, "RUNNING") != 0)
		return recap_error_set(err, ESRCH, "container %s is not running (the CRI reports %s)", id,
				       state ? state : "no state");
	int64_t pid = recap_json_int(cri, "pid", 0);
	if (pid <= 1 || pid > INT_MAX)
		return recap_error_set(err, ESRCH, "the CRI reports no process for container %s", id);
	*ret_reason = NULL;
	*ret_pid = (int)pid;
	return 0;
}
