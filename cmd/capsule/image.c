/* --image for run/attach: the image store (lib/oci) gives the layers and the
 * image config to the runtime; an image not in the store yet is pulled by
 * capsule-pull first. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "oci/image.h"
#include "oci/ref.h"
#include "pull_exec.h"
#include "runopts.h"

static int copy_list(struct recap_strv *dst, char **src)
{
	for (size_t i = 0; src && src[i]; i++)
		if (recap_strv_push(dst, src[i]) < 0)
			return -E2BIG;
	return 0;
}

static int fill(struct recap_run_spec *s, const struct recap_oci_image *img)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < img->n_layers; i++)
		r = recap_strv_push(&s->layers, img->layer_dirs[i]);
	const struct recap_oci_config *c = img->config;
	if (r >= 0 && c) {
		r = copy_list(&s->image_env, c->env);
		if (r >= 0)
			r = copy_list(&s->entrypoint, c->entrypoint);
		if (r >= 0)
			r = copy_list(&s->image_cmd, c->cmd);
		if (r >= 0 && c->working_dir && *c->working_dir && !s->workdir)
			r = (s->workdir = strdup(c->working_dir)) ? 0 : -ENOMEM;
		/* the image's User when the run does not say; names are refused */
		if (r >= 0 && c->user && *c->user && s->uid < 0)
			r = recap_spec_parse_user(c->user, &s->uid, &s->gid, NULL) < 0 ? -EINVAL : 0;
	}
	return r;
}

/* --registry-only: not even the store's copy of a layout (the check capsule-pull makes too). */
static int check_registry_only(const struct run_cli *c, struct recap_error **err)
{
	_cleanup_oci_ref_ struct recap_oci_ref *ref = NULL;
	int r = recap_oci_ref_parse(c->spec.image, &ref, err);
	if (r >= 0 && ref->kind != RECAP_OCI_REF_REGISTRY)
		r = recap_error_set(
		    err, EPERM,
		    "%s is an OCI layout on the node: only registry references are allowed here "
		    "(--registry-only)",
		    ref->canonical);
	return r;
}

static int load(struct recap_oci_store *st, struct run_cli *c, struct recap_oci_image **img,
		struct recap_error **err)
{
	int r = c->globals->registry_only ? check_registry_only(c, err) : 0;
	if (r < 0)
		return r;
	r = recap_oci_image_load(st, c->spec.image, img, err);
	if (r != -ENOENT)
		return r;
	recap_error_free(*err);
	*err = NULL;
	struct capsule_globals g = *c->globals;
	g.root = c->root; /* run's own --root wins */
	if (capsule_pull_image(&g, c->oci.forward, c->spec.image) < 0)
		return -EIO; /* capsule-pull said why */
	return recap_oci_image_load(st, c->spec.image, img, err);
}

int capsule_image_resolve(struct run_cli *c, uint64_t *ret_pull_ms)
{
	uint64_t t0 = recap_now_mono_ms();
	_cleanup_error_ struct recap_error *err = NULL;
	struct recap_oci_store *st = NULL;
	struct recap_oci_image *img = NULL;
	int r = recap_oci_store_open(c->root, &st, &err);
	if (r >= 0)
		r = load(st, c, &img, &err);
	if (r >= 0 && (r = fill(&c->spec, img)) < 0)
		r = recap_error_set(
		    &err, -r,
		    "image %s: too many layers or config entries, or a User that is not a numeric "
		    "uid[:gid] (give --user)",
		    c->spec.image);
	recap_oci_image_free(img);
	recap_oci_store_close(st);
	if (r < 0) {
		if (err)
			log_error("%s", recap_error_message(err));
		return r;
	}
	*ret_pull_ms = recap_now_mono_ms() - t0;
	return 0;
}
