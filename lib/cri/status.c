/* ContainerStatus over the wire. */
#include <errno.h>

#include "cri/container.h"
#include "cri/grpc.h"

#define METHOD "/runtime.v1.RuntimeService/ContainerStatus"

int recap_cri_container_status(const char *socket_path, const char *id, long timeout_ms,
			       struct recap_cri_container *ret, struct recap_error **err)
{
	struct recap_buf req = RECAP_BUF_INIT(RECAP_CRI_STRING_MAX + 16);
	struct recap_buf reply = RECAP_BUF_INIT(RECAP_GRPC_MESSAGE_MAX);
	const struct recap_grpc_call call = {
	    .socket_path = socket_path, .method = METHOD, .timeout_ms = timeout_ms};
	int status = 0;
	int r = recap_cri_status_request(id, &req);
	if (r < 0)
		r = recap_error_set(err, EINVAL, "container id '%.64s...' is too long", id);
	else
		r = recap_grpc_unary(&call, req.data, req.len, &reply, &status, err);
	if (r == -EREMOTEIO && status == RECAP_GRPC_NOT_FOUND) {
		recap_error_wrap(err, ENOENT, "container %s is not known to the CRI", id);
		r = -ENOENT;
	} else if (r >= 0 && (r = recap_cri_status_decode(reply.data, reply.len, ret, err)) < 0)
		r = recap_error_wrap(err, r, "%s on %s", METHOD, socket_path);
	recap_buf_free(&req);
	recap_buf_free(&reply);
	return r;
}
