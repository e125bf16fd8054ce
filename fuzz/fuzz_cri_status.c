/* The CRI's ContainerStatusResponse decoder on arbitrary bytes, and the gRPC
 * frame around it: a success must be consistent, a failure must say why. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cri/container.h"
#include "cri/grpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recap_cri_container c = {0};
	struct recap_error *err = NULL;
	int r = recap_cri_status_decode(data, size, &c, &err);
	if (r == 0) {
		if (!c.id || c.pid < 0 || strlen(c.id) > RECAP_CRI_STRING_MAX)
			abort();
	} else if (r != -EBADMSG || !err || c.id) {
		abort();
	}
	recap_cri_container_free(&c);
	recap_error_free(err);
	const void *msg;
	size_t len;
	if (recap_grpc_unframe(data, size, &msg, &len, NULL) == 0 &&
	    ((const uint8_t *)msg != data + 5 || len != size - 5))
		abort();
	return 0;
}
