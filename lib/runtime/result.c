/* The result of a run as the CLI and the node agent report it. */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

int recap_runtime_exit_status(const struct recap_run_result *res)
{
	if (res->exit_code >= 0)
		return res->exit_code;
	return 125;
}

json_t *recap_runtime_result_json(const struct recap_run_result *res)
{
	json_t *j = json_pack("{s:s, s:s, s:b, s:i}", "id", res->id, "reason", res->reason ? res->reason : "",
			      "escaped", res->escaped, "targetPid", (int)res->target_pid);
	if (!j)
		return NULL;
	if (res->exit_code >= 0)
		json_object_set_new(j, "exitCode", json_integer(res->exit_code));
	if (res->signal)
		json_object_set_new(j, "signal", json_integer(res->signal));
	if (res->message)
		json_object_set_new(j, "message", json_string(res->message));
	/* output may be any bytes: jansson needs UTF-8, so invalid sequences are
	 * replaced rather than the whole tail being dropped */
	const char *outs[] = {res->stdout_tail, res->stderr_tail};
	size_t lens[] = {res->stdout_len, res->stderr_len};
	const char *keys[] = {"stdout", "stderr"};
	for (int i = 0; i < 2; i++) {
		json_t *s = outs[i] ? json_stringn(outs[i], lens[i]) : NULL;
		if (!s && outs[i]) {
			char *copy = malloc(lens[i] + 1);
			for (size_t k = 0; copy && k < lens[i]; k++)
				copy[k] = (outs[i][k] & 0x80) || outs[i][k] == 0 ? '?' : outs[i][k];
			s = copy ? json_stringn(copy, lens[i]) : NULL;
			free(copy);
		}
		json_object_set_new(j, keys[i], s ? s : json_string(""));
	}
	json_object_set_new(j, "stdoutBytes", json_integer((json_int_t)res->stdout_total));
	json_object_set_new(j, "stderrBytes", json_integer((json_int_t)res->stderr_total));
	json_object_set_new(j, "outBytes", json_integer((json_int_t)res->out_bytes));
	json_object_set_new(j, "outFiles", json_integer((json_int_t)res->out_files));
	json_object_set_new(j, "outSkipped", json_integer((json_int_t)res->out_skipped));
	json_object_set_new(j, "phasesMs",
			    json_pack("{s:I, s:I, s:I, s:I}", "pull", (json_int_t)res->pull_ms, "attach",
				      (json_int_t)res->attach_ms, "run", (json_int_t)res->run_ms, "escape",
				      (json_int_t)res->escape_ms));
	return j;
}

void recap_runtime_result_free(struct recap_run_result *res)
{
	free(res->message);
	free(res->stdout_tail);
	free(res->stderr_tail);
	res->message = res->stdout_tail = res->stderr_tail = NULL;
}
