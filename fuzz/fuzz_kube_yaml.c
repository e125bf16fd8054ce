/* libFuzzer target: YAML to JSON conversion (kubeconfig input). Depth and
 * node limits must hold for any input, aliases included. */
#include <stddef.h>
#include <stdint.h>

#include "kube/yamlconv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v = NULL;
	struct recap_error *err = NULL;
	if (recap_kube_yaml_parse((const char *)data, size, &v, &err) == 0)
		json_decref(v);
	recap_error_free(err);
	return 0;
}
