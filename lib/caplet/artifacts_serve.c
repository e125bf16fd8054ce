/* A run's artifacts for the node's relay: a status for what cannot be
 * served, else the tar. */
#include <errno.h>
#include <time.h>

#include "caplet/artifacts.h"

int recap_caplet_artifacts_serve(const char *root, const char *run_id, const char *path,
				 recap_caplet_write_fn write, void *stream, int (*begin)(void *stream),
				 struct recap_error **err, void *userdata)
{
	enum recap_caplet_artifacts_state st;
	int r = recap_caplet_artifacts_check(root, run_id, path, time(NULL), &st, err);
	if (r == -EINVAL)
		return 400;
	if (r < 0)
		return 500;
	switch (st) {
	case RECAP_CAPLET_ARTIFACTS_NONE:
		recap_error_set(err, ENOENT, "run %s kept %s%s on this node", run_id,
				*path ? "no " : "no artifacts", *path ? path : "");
		return 404;
	case RECAP_CAPLET_ARTIFACTS_EXPIRED:
		recap_error_set(err, ESTALE,
				"the artifacts of run %s expired and were removed (output.retentionSeconds)",
				run_id);
		return 410;
	case RECAP_CAPLET_ARTIFACTS_RUNNING:
		recap_error_set(err, EBUSY, "run %s has not ended: its artifacts are kept when it does",
				run_id);
		return 409;
	default:
		break;
	}
	if (begin(stream) < 0)
		return -EPIPE;
	r = recap_caplet_artifacts_tar(root, run_id, path, write, stream, err);
	return r < 0 ? r : 0;
}
