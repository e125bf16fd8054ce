/* Expectations: executions this controller created that its informer has
 * not shown yet, so a pass started in between does not create them again
 * (each duplicate costs the API server a whole create, validation
 * included, before it answers AlreadyExists). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include "controller/ctl.h"

/* Enough for every execution of the largest runs in flight at once. */
#define EXPECT_MAX 200000

static void key_of(char *buf, size_t size, const char *ns, const char *name)
{
	snprintf(buf, size, "%s/%s", ns ? ns : "", name ? name : "");
}

int recap_ctl_expect_new(struct recap_controller *ctl)
{
	ctl->expected = recap_kube_strmap_new(EXPECT_MAX);
	ctl->refused = recap_kube_strmap_new(EXPECT_MAX);
	return ctl->expected && ctl->refused ? 0 : -ENOMEM;
}

void recap_ctl_expect_free(struct recap_controller *ctl)
{
	recap_kube_strmap_free(ctl->expected, NULL);
	recap_kube_strmap_free(ctl->refused, NULL);
	ctl->expected = NULL;
	ctl->refused = NULL;
}

/* Best effort: at the limit (or out of memory) the next pass may meet
 * AlreadyExists, which counts as success. */
void recap_ctl_expect_created(struct recap_controller *ctl, const char *ns, const char *name)
{
	char key[600];
	key_of(key, sizeof(key), ns, name);
	uint64_t until = uv_now(ctl->loop) + CTL_EXPECT_TTL_MS;
	recap_kube_strmap_put(ctl->expected, key, (void *)(uintptr_t)until, NULL);
	recap_kube_strmap_remove(ctl->refused, key, NULL);
}

/* At the limit (or out of memory) the target counts as lost: failed, not
 * run twice. */
void recap_ctl_expect_refused(struct recap_controller *ctl, const char *ns, const char *name)
{
	char key[600];
	key_of(key, sizeof(key), ns, name);
	recap_kube_strmap_put(ctl->refused, key, NULL, NULL);
}

bool recap_ctl_expect_failed_create(struct recap_controller *ctl, const char *ns, const char *name,
				    long http_status)
{
	if (http_status >= 400 && http_status < 500 && http_status != 409) {
		recap_ctl_expect_refused(ctl, ns, name);
		return true;
	}
	recap_ctl_expect_created(ctl, ns, name);
	return false;
}

enum recap_dispatch_state recap_ctl_unseen(const char *execution, void *ctx)
{
	struct ctl_unseen *u = ctx;
	char key[600];
	if (recap_ctl_expected(u->ctl, u->ns, execution))
		return RECAP_DISPATCH_IN_FLIGHT;
	key_of(key, sizeof(key), u->ns, execution);
	return recap_kube_strmap_contains(u->ctl->refused, key) ? RECAP_DISPATCH_RETRY : RECAP_DISPATCH_LOST;
}

bool recap_ctl_expected(struct recap_controller *ctl, const char *ns, const char *name)
{
	char key[600];
	key_of(key, sizeof(key), ns, name);
	if (!recap_kube_strmap_contains(ctl->expected, key))
		return false;
	uint64_t until = (uintptr_t)recap_kube_strmap_get(ctl->expected, key);
	if (uv_now(ctl->loop) < until)
		return true;
	recap_kube_strmap_remove(ctl->expected, key, NULL);
	return false;
}

void recap_ctl_expect_seen(struct recap_controller *ctl, const char *ns, const char *name)
{
	char key[600];
	if (recap_kube_strmap_size(ctl->expected) == 0 && recap_kube_strmap_size(ctl->refused) == 0)
		return;
	key_of(key, sizeof(key), ns, name);
	recap_kube_strmap_remove(ctl->expected, key, NULL);
	recap_kube_strmap_remove(ctl->refused, key, NULL);
}

/* Drops expectations never met (an execution deleted before the
 * informer saw it). */
void recap_ctl_expect_sweep(struct recap_controller *ctl)
{
	struct recap_kube_strmap_iter it = RECAP_KUBE_STRMAP_ITER_INIT;
	const char *key;
	void *v;
	uint64_t now = uv_now(ctl->loop);
	while (recap_kube_strmap_next(ctl->expected, &it, &key, &v))
		if ((uintptr_t)v <= now)
			recap_kube_strmap_remove(ctl->expected, key, NULL);
}
