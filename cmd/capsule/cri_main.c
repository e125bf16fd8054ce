/* capsule-cri: the node's CRI asked about a container, in a process of its
 * own. It links libnghttp2 (gRPC needs HTTP/2), which neither caplet nor
 * the executor loads; caplet runs `capsule-cri cri-status` to confirm an
 * execution's target before anything of it starts. */
#include "base/cleanup.h"
#include "cli.h"

static const struct capsule_verb verbs[] = {
    {"cri-status", capsule_verb_cri_status, "a container's pod, state and PID as the CRI reports them"},
};

int main(int argc, char **argv)
{
	return capsule_cli_main("capsule-cri", verbs, ARRAY_SIZE(verbs), argc, argv);
}
