/* capsule: the executor the node agent spawns, and a standalone CLI. It
 * links the node store but not the registry client or the layer unpacker:
 * those live in capsule-pull, run only when an image must be fetched. */
#include "base/cleanup.h"
#include "cli.h"

/* One line per verb; each lives in its own file. */
static const struct capsule_verb verbs[] = {
    {"run", capsule_verb_run, "run a command attached to a container, then escape"},
    {"attach", capsule_verb_attach, "interactive shell attached to a container, then escape"},
    {"ps", capsule_verb_ps, "list runs in progress"},
    {"sweep", capsule_verb_sweep, "clean up runs left behind by a crash"},
    {"pull", capsule_verb_pull_exec, "fetch an image into the node store"},
    {"verify", capsule_verb_pull_exec, "check an image's cosign signature in its registry"},
    {"cri-status", capsule_verb_cri_exec, "a container's pod, state and PID as the CRI reports them"},
    {"images", capsule_verb_images, "list the images in the node store"},
    {"rmi", capsule_verb_rmi, "remove image references from the node store"},
    {"gc", capsule_verb_gc, "remove content no image or run references"},
};

int main(int argc, char **argv)
{
	return capsule_cli_main("capsule", verbs, ARRAY_SIZE(verbs), argc, argv);
}
