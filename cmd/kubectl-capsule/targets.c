/* Targets as kubectl names them: see targets.h. */
#include "targets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/timeutil.h"
#include "kubesel/selector.h"

#define MAX_NAME 253

static const struct kind {
	const char *singular, *plural, *short_name;
	struct recap_kube_resource res;
} kinds[PLUGIN_KIND_COUNT] = {
    [PLUGIN_KIND_POD] = {"pod", "pods", "po", {"", "v1", "pods", true}},
    [PLUGIN_KIND_DEPLOYMENT] = {"deployment", "deployments", "deploy", {"apps", "v1", "deployments", true}},
    [PLUGIN_KIND_STATEFULSET] = {"statefulset", "statefulsets", "sts", {"apps", "v1", "statefulsets", true}},
    [PLUGIN_KIND_DAEMONSET] = {"daemonset", "daemonsets", "ds", {"apps", "v1", "daemonsets", true}},
    [PLUGIN_KIND_REPLICASET] = {"replicaset", "replicasets", "rs", {"apps", "v1", "replicasets", true}},
    [PLUGIN_KIND_JOB] = {"job", "jobs", NULL, {"batch", "v1", "jobs", true}},
};

const char *plugin_kind_name(enum plugin_kind kind)
{
	return kinds[kind].singular;
}

const struct recap_kube_resource *plugin_kind_resource(enum plugin_kind kind)
{
	return &kinds[kind].res;
}

/* "deploy", "Deployment", "deployments.apps", "deployments.v1.apps": a
 * name of the kind, then optionally ".GROUP" or ".VERSION.GROUP" (a pod's
 * group has no name: "pod", "pods", "po" only). */
static bool kind_matches(const struct kind *k, const char *s, size_t n)
{
	const char *names[] = {k->singular, k->plural, k->short_name};
	for (size_t i = 0; i < 3; i++) {
		size_t len = names[i] ? strlen(names[i]) : 0;
		if (!len || n < len || strncasecmp(s, names[i], len) != 0)
			continue;
		const char *rest = s + len;
		size_t nrest = n - len, g = strlen(k->res.group);
		if (nrest == 0)
			return true;
		if (!g || rest[0] != '.')
			continue;
		rest++, nrest--;
		size_t v = strlen(k->res.version);
		if (nrest > v + 1 && strncasecmp(rest, k->res.version, v) == 0 && rest[v] == '.')
			rest += v + 1, nrest -= v + 1;
		if (nrest == g && strncasecmp(rest, k->res.group, g) == 0)
			return true;
	}
	return false;
}

enum plugin_kind plugin_kind_lookup(const char *s, size_t n)
{
	enum plugin_kind k = 0;
	while (k < PLUGIN_KIND_COUNT && !kind_matches(&kinds[k], s, n))
		k++;
	return k;
}

const char *plugin_kind_short(enum plugin_kind kind)
{
	return kind == PLUGIN_KIND_POD ? "pod" : kinds[kind].short_name ?: kinds[kind].singular;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= MAX_NAME && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.") == n &&
	       s[0] != '-' && s[0] != '.';
}

int plugin_parse_target(const char *arg, struct plugin_target *ret, struct recap_error **err)
{
	const char *slash = strchr(arg, '/');
	struct plugin_target t = {.kind = PLUGIN_KIND_POD, .name = slash ? slash + 1 : arg};
	if (slash) {
		size_t n = (size_t)(slash - arg);
		t.kind = plugin_kind_lookup(arg, n);
		if (t.kind == PLUGIN_KIND_COUNT)
			return recap_error_set(err, EINVAL,
					       "'%s': unknown kind '%.*s' (a target is POD or KIND/NAME, "
					       "KIND one of pod, deployment (deploy), statefulset (sts), "
					       "daemonset (ds), replicaset (rs), job)",
					       arg, (int)n, arg);
	}
	if (!name_ok(t.name))
		return recap_error_set(err, EINVAL,
				       "'%s': '%s' is not a %s's name (lower case letters, digits, '-' "
				       "and '.')",
				       arg, t.name, kinds[t.kind].singular);
	*ret = t;
	return 0;
}

int plugin_workload_selector(json_t *workload, const char *what, char **ret, struct recap_error **err)
{
	json_t *sel = recap_json_path(workload, "spec.selector");
	if (!json_is_object(sel))
		return recap_error_set(err, EINVAL, "%s has no spec.selector", what);
	struct recap_kube_selector *parsed = NULL;
	int r = recap_kube_selector_from_json(sel, &parsed, err);
	if (r < 0)
		return recap_error_wrap(err, r, "the spec.selector of %s", what);
	struct recap_buf b = RECAP_BUF_INIT(2 * RECAP_KUBE_SELECTOR_MAX_BYTES);
	r = recap_kube_selector_format(parsed, &b);
	bool everything = parsed->n == 0;
	recap_kube_selector_free(parsed);
	if (r >= 0 && everything)
		r = recap_error_set(err, EINVAL, "the spec.selector of %s selects every pod: refused", what);
	else if (r < 0)
		r = recap_error_set(err, -r, "the spec.selector of %s cannot be written as a string", what);
	char *s = r >= 0 ? recap_buf_steal(&b) : NULL;
	recap_buf_free(&b);
	if (r >= 0 && !s)
		r = -ENOMEM;
	if (r >= 0)
		*ret = s;
	return r;
}

static bool pod_live(json_t *pod)
{
	const char *phase = recap_json_str(pod, "status.phase");
	if (recap_json_path(pod, "metadata.deletionTimestamp"))
		return false;
	return !phase || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0);
}

static int by_name(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(recap_json_str(x, "metadata.name") ?: "", recap_json_str(y, "metadata.name") ?: "");
}

json_t *plugin_live_pods(json_t *list)
{
	json_t *items = json_object_get(list, "items"), *pod;
	size_t n = json_array_size(items), k = 0, i;
	json_t **v = calloc(n ? n : 1, sizeof(*v));
	json_t *out = json_array();
	if (!v || !out) {
		free(v);
		json_decref(out);
		return NULL;
	}
	json_array_foreach (items, i, pod)
		if (pod_live(pod) && recap_json_str(pod, "metadata.name"))
			v[k++] = pod;
	qsort(v, k, sizeof(*v), by_name);
	for (i = 0; i < k; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

/* The Ready condition's transition time when it is True, else -1. */
static time_t ready_since(json_t *pod)
{
	size_t i;
	json_t *c;
	json_array_foreach (recap_json_path(pod, "status.conditions"), i, c) {
		const char *type = recap_json_str(c, "type"), *status = recap_json_str(c, "status");
		time_t t = 0;
		if (!type || strcmp(type, "Ready") != 0)
			continue;
		if (!status || strcmp(status, "True") != 0)
			return -1;
		recap_time_parse(recap_json_str(c, "lastTransitionTime") ?: "", &t);
		return t;
	}
	return -1;
}

static long long restarts(json_t *pod)
{
	long long n = 0;
	size_t i;
	json_t *s;
	json_array_foreach (recap_json_path(pod, "status.containerStatuses"), i, s)
		n += json_integer_value(json_object_get(s, "restartCount"));
	return n;
}

static int phase_rank(json_t *pod)
{
	const char *p = recap_json_str(pod, "status.phase") ?: "";
	return strcmp(p, "Running") == 0 ? 2 : strcmp(p, "Unknown") == 0 ? 1 : 0;
}

/* < 0 when a is the better pick (kubectl's ActivePods order, reversed). */
static int pick_order(json_t *a, json_t *b)
{
	int d = (recap_json_str(b, "spec.nodeName") != NULL) - (recap_json_str(a, "spec.nodeName") != NULL);
	if (!d)
		d = phase_rank(b) - phase_rank(a);
	time_t ra = ready_since(a), rb = ready_since(b);
	if (!d)
		d = (rb >= 0) - (ra >= 0);
	if (!d && ra >= 0 && rb >= 0 && ra != rb)
		d = ra < rb ? -1 : 1;
	long long xa = restarts(a), xb = restarts(b);
	if (!d && xa != xb)
		d = xa < xb ? -1 : 1;
	time_t ca = 0, cb = 0;
	recap_time_parse(recap_json_str(a, "metadata.creationTimestamp") ?: "", &ca);
	recap_time_parse(recap_json_str(b, "metadata.creationTimestamp") ?: "", &cb);
	if (!d && ca != cb)
		d = ca < cb ? -1 : 1;
	return d ? d : by_name(&a, &b);
}

json_t *plugin_pick_pod(json_t *pods)
{
	json_t *best = NULL, *pod;
	size_t i;
	json_array_foreach (pods, i, pod)
		if (!best || pick_order(pod, best) < 0)
			best = pod;
	return best;
}
