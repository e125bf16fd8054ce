/* The node store names a CapsuleExecution's run after its UID: caplet runs
 * it as runs/<id>, keeps its output in logs/<id> and its artifacts in
 * out/<id>; recap-apiserver asks a node's relay for them by the same id. */
#pragma once

#include "base/error.h"

/* "ce-" and the UID's 32 hex digits, lower case. */
#define RECAP_API_RUN_ID_MAX 40

int recap_api_run_id(const char *uid, char out[RECAP_API_RUN_ID_MAX], struct recap_error **err);
