/* The result of a run as the CLI and the node agent report it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/process.h"
#include "runtime/runtime.h"

int recap_runtime_exit_status(const struct recap_run_result *res)
{
	if (res->exit_code >= 0)
		return res->exit_code;
	return 125;
}

/* outList and outUnlisted: the files kept, with their sha256 */
static void out_list_json(json_t *j, const struct recap_run_result *res)
{
	json_t *list = json_array();
	json_int_t unlisted = (json_int_t)res->out_unlisted;
	for (size_t i = 0; list && i < res->out_listed; i++) {
		const struct recap_out_file *f = &res->out_list[i];
		/* a path that is not UTF-8 cannot be a JSON string: counted instead */
		json_t *o = json_pack("{s:s, s:I, s:s}", "path", f->path, "size", (json_int_t)f->size,
				      "digest", f->digest);
		if (!o)
			unlisted++;
		else
			json_array_append_new(list, o);
	}
	if (list)
		json_object_set_new(j, "outList", list);
	json_object_set_new(j, "outUnlisted", json_integer(unlisted));
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
	if (res->log_bytes || res->log_dropped) {
		json_object_set_new(j, "logBytes", json_integer((json_int_t)res->log_bytes));
		json_object_set_new(j, "logDropped", json_integer((json_int_t)res->log_dropped));
	}
	out_list_json(j, res);
	json_object_set_new(j, "phasesMs",
			    json_pack("{s:I, s:I, s:I, s:I}", "pull", (json_int_t)res->pull_ms, "attach",
				      (json_int_t)res->attach_ms, "run", (json_int_t)res->run_ms, "escape",
				      (json_int_t)res->escape_ms));
	return j;
}

void recap_runtime_result_free(struct recap_run_result *res)
{
	for (size_t i = 0; res->out_list && i < res->out_listed; i++)
		free(res->out_list[i].path);
	free(res->out_list);
	res->out_list = NULL;
	res->out_listed = 0;
	free(res->message);
	free(res->stdout_tail);
	free(res->stderr_tail);
	res->message = res->stdout_tail = res->stderr_tail = NULL;
}

/* The output tails: the last bytes of each stream, and a count of them all. */
int recap_tail_init(struct recap_tail *t, size_t cap)
{
	*t = (struct recap_tail){.cap = cap};
	if (cap && !(t->data = malloc(cap)))
		return -ENOMEM;
	return 0;
}

void recap_tail_push(struct recap_tail *t, const char *p, size_t n)
{
	t->total += n;
	if (t->cap == 0)
		return;
	if (n >= t->cap) {
		memcpy(t->data, p + n - t->cap, t->cap);
		t->start = 0;
		t->len = t->cap;
		return;
	}
	for (size_t done = 0; done < n;) {
		size_t end = (t->start + t->len) % t->cap;
		size_t chunk = t->cap - end;
		if (chunk > n - done)
			chunk = n - done;
		memcpy(t->data + end, p + done, chunk);
		done += chunk;
		size_t len = t->len + chunk;
		if (len > t->cap) {
			t->start = (t->start + len - t->cap) % t->cap;
			len = t->cap;
		}
		t->len = len;
	}
}

char *recap_tail_dup(const struct recap_tail *t, size_t *ret_len)
{
	char *s = malloc(t->len + 1);
	if (!s)
		return NULL;
	size_t first = t->cap - t->start;
	if (first > t->len)
		first = t->len;
	if (first)
		memcpy(s, t->data + t->start, first);
	if (t->len > first)
		memcpy(s + first, t->data, t->len - first);
	s[t->len] = 0;
	if (ret_len)
		*ret_len = t->len;
	return s;
}

void recap_tail_free(struct recap_tail *t)
{
	free(t->data);
	*t = (struct recap_tail){0};
}
