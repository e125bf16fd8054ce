/* capsule-pull: the registry client and the layer unpacker, in a process of
 * their own. `capsule pull` and `capsule run --image` of an image not in the
 * store run it; nothing else in capsule loads libcurl or libarchive, and the
 * network-facing parsing (HTTP, token and manifest JSON, tar) never runs in
 * the process that joins a container's namespaces. */
#include "base/cleanup.h"
#include "cli.h"

static const struct capsule_verb verbs[] = {
    {"pull", capsule_verb_pull, "fetch an image into the node store"},
    {"verify", capsule_verb_verify, "check an image's cosign signature in its registry"},
};

int main(int argc, char **argv)
{
	return capsule_cli_main("capsule-pull", verbs, ARRAY_SIZE(verbs), argc, argv);
}
