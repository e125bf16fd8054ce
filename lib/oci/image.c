#include "oci/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cleanup.h"
#include "oci/images.h"

int recap_oci_image_manifest(struct recap_oci_store *s, const char *manifest, struct recap_oci_manifest **ret,
			     struct recap_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r = recap_oci_store_read_blob(s, manifest, RECAP_OCI_MANIFEST_MAX, &data, &len, err);
	if (r < 0)
		return r;
	r = recap_oci_manifest_parse(data, len, NULL, ret, err);
	if (r >= 0 && (*ret)->kind != RECAP_OCI_MANIFEST) {
		recap_oci_manifest_free(steal_ptr(*ret));
		return recap_error_set(err, EMEDIUMTYPE, "%s is not an image manifest", manifest);
	}
	return r;
}

static int fill_layers(struct recap_oci_store *s, const struct recap_oci_manifest *m,
		       struct recap_oci_image *img, struct recap_error **err)
{
	img->layer_ids = calloc(m->n_items + 1, sizeof(char *));
	img->layer_dirs = calloc(m->n_items + 1, sizeof(char *));
	if (!img->layer_ids || !img->layer_dirs)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_items; i++) {
		const char *hex = recap_oci_digest_hex(m->items[i].digest);
		img->layer_ids[i] = strdup(hex);
		img->layer_dirs[i] = recap_oci_store_layer_path(s, hex);
		img->n_layers = i + 1;
		if (!img->layer_ids[i] || !img->layer_dirs[i])
			return -ENOMEM;
		if (!recap_oci_store_has_layer(s, hex))
			return recap_error_set(err, ENOENT,
					       "layer %s of image %s is not unpacked (pull again)",
					       m->items[i].digest, img->manifest);
	}
	return 0;
}

static int load(struct recap_oci_store *s, struct recap_oci_image *img, struct recap_error **err)
{
	_cleanup_oci_manifest_ struct recap_oci_manifest *m = NULL;
	int r = recap_oci_image_manifest(s, img->manifest, &m, err);
	if (r < 0)
		return r;
	r = fill_layers(s, m, img, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	r = recap_oci_store_read_blob(s, m->config.digest, RECAP_OCI_CONFIG_MAX, &data, &len, err);
	if (r < 0)
		return r;
	return recap_oci_config_parse(data, len, &img->config, err);
}

int recap_oci_image_load(struct recap_oci_store *s, const char *ref, struct recap_oci_image **ret,
			 struct recap_error **err)
{
	struct recap_oci_image *img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	int r = recap_oci_images_resolve(s, ref, img->manifest, &img->pulled_with_credentials, err);
	if (r >= 0)
		r = load(s, img, err);
	if (r < 0) {
		recap_oci_image_free(img);
		return recap_error_wrap(err, -r, "image %s", ref);
	}
	*ret = img;
	return 0;
}

void recap_oci_image_free(struct recap_oci_image *img)
{
	if (!img)
		return;
	for (size_t i = 0; i < img->n_layers; i++) {
		free(img->layer_ids[i]);
		free(img->layer_dirs[i]);
	}
	free(img->layer_ids);
	free(img->layer_dirs);
	recap_oci_config_free(img->config);
	free(img);
}
