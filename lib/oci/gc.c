#include "oci/gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/json.h"
#include "oci/image.h"
#include "oci/images.h"

#define GC_KEEP_MAX (1u << 20)
/* a run's state (RECAP_STATE_MAX in lib/runtime) */
#define RUN_FILE_MAX (64 * 1024)

struct keep {
	char **v;
	size_t n, cap;
};

static int keep_add(struct keep *k, const char *hex)
{
	if (k->n == k->cap) {
		if (k->cap >= GC_KEEP_MAX)
			return -E2BIG;
		size_t cap = k->cap ? 2 * k->cap : 64;
		char **v = realloc(k->v, cap * sizeof(char *));
		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	if (!(k->v[k->n] = strdup(hex)))
		return -ENOMEM;
	k->n++;
	return 0;
}

static int keep_has(const struct keep *k, const char *name)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->v[i], name) == 0)
			return 1;
	return 0;
}

static void keep_free(struct keep *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
}

static int mark_digest(struct keep *k, const char *d)
{
	if (!d || recap_oci_digest_validate(d, NULL) < 0)
		return 0;
	return keep_add(k, recap_oci_digest_hex(d));
}

/* An image whose manifest is missing or corrupt keeps nothing: pulling it
 * again fetches what is needed. */
static int mark_image(struct recap_oci_store *s, json_t *v, struct keep *blobs, struct keep *layers)
{
	const char *manifest = recap_json_str(v, "manifest");
	int r = mark_digest(blobs, manifest);
	if (r >= 0)
		r = mark_digest(blobs, recap_json_str(v, "index"));
	if (r < 0 || !manifest || recap_oci_digest_validate(manifest, NULL) < 0)
		return r;
	_cleanup_oci_manifest_ struct recap_oci_manifest *m = NULL;
	if (recap_oci_image_manifest(s, manifest, &m, NULL) < 0)
		return 0;
	r = mark_digest(blobs, m->config.digest);
	for (size_t i = 0; r >= 0 && i < m->n_items; i++) {
		r = mark_digest(blobs, m->items[i].digest);
		if (r >= 0)
			r = mark_digest(layers, m->items[i].digest);
	}
	return r;
}

static int is_layer_id(const char *s, size_t n)
{
	if (n != RECAP_OCI_DIGEST_HEX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Reads runs/<id>/<name> (at most RUN_FILE_MAX bytes) into *ret; 0 and
 * *ret NULL when there is no such file. */
static int read_run_file(int runsfd, const char *run, const char *name, char **ret)
{
	char rel[512];
	*ret = NULL;
	if (snprintf(rel, sizeof(rel), "%s/%s", run, name) >= (int)sizeof(rel))
		return 0;
	_cleanup_close_ int fd = openat(runsfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	_cleanup_free_ char *buf = malloc(RUN_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = read(fd, buf, RUN_FILE_MAX);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	*ret = steal_ptr(buf);
	return 0;
}

/* runs/<id>/state names the layers the run mounts: {..., "layers": ["<hex>",
 * ...], ...}. The executor rewrites the state in place at each phase, and
 * only what follows the layers changes, so a read that overlaps a rewrite
 * still finds them whole: the array is parsed on its own. */
static int mark_state_layers(const char *state, struct keep *layers)
{
	const char *at = state ? strstr(state, "\"layers\":") : NULL;
	if (!at)
		return 0;
	at += strlen("\"layers\":");
	_cleanup_json_ json_t *a = json_loads(at, JSON_DISABLE_EOF_CHECK, NULL);
	size_t i;
	json_t *v;
	json_array_foreach (a, i, v) {
		const char *hex = json_string_value(v);
		if (hex && is_layer_id(hex, strlen(hex))) {
			int r = keep_add(layers, hex);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* runs/<id>/layers, one layer id per line: the claim of older executors. */
static int mark_list_layers(char *list, struct keep *layers)
{
	for (char *line = list, *nl; line && *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (is_layer_id(line, len)) {
			line[len] = '\0';
			int r = keep_add(layers, line);
			if (r < 0)
				return r;
		}
		if (!nl)
			break;
	}
	return 0;
}

static int mark_run(int runsfd, const char *run, struct keep *layers)
{
	_cleanup_free_ char *state = NULL, *list = NULL;
	int r = read_run_file(runsfd, run, "state", &state);
	if (r >= 0)
		r = mark_state_layers(state, layers);
	if (r >= 0)
		r = read_run_file(runsfd, run, "layers", &list);
	if (r >= 0)
		r = mark_list_layers(list, layers);
	return r;
}

static int mark_runs(struct recap_oci_store *s, struct keep *layers)
{
	int fd = openat(s->root_fd, "runs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (de = readdir(d)))
		if (de->d_name[0] != '.')
			r = mark_run(dirfd(d), de->d_name, layers);
	closedir(d);
	return r;
}

/* Removes every entry of dir (relative to the root) not in keep. */
static int sweep(struct recap_oci_store *s, const char *dir, const struct keep *keep, size_t *removed,
		 size_t *kept, uint64_t *bytes)
{
	int fd = openat(s->root_fd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *de;
	while (r >= 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (keep && keep_has(keep, de->d_name)) {
			(*kept)++;
			continue;
		}
		struct stat st;
		if (bytes && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			*bytes += st.st_size;
		r = recap_oci_rm_rf_at(dirfd(d), de->d_name);
		if (r >= 0 && removed)
			(*removed)++;
	}
	closedir(d);
	return r;
}

static int mark_all(struct recap_oci_store *s, struct keep *blobs, struct keep *layers,
		    struct recap_error **err)
{
	_cleanup_json_ json_t *images = NULL;
	int r = recap_oci_images_load(s, &images, err);
	if (r < 0)
		return r;
	const char *key;
	json_t *v;
	json_object_foreach (images, key, v) {
		r = mark_image(s, v, blobs, layers);
		if (r < 0)
			return recap_error_set_errno(err, -r, "gc: marking image %s", key);
	}
	r = mark_runs(s, layers);
	if (r < 0)
		return recap_error_set_errno(err, -r, "gc: reading %s/runs", s->root);
	return 0;
}

int recap_oci_gc(struct recap_oci_store *s, struct recap_oci_gc_result *ret, struct recap_error **err)
{
	_cleanup_close_ int lock = recap_oci_store_lock(s, "store", 1, err);
	if (lock < 0)
		return lock;
	struct keep blobs = {0}, layers = {0};
	struct recap_oci_gc_result res = {0};
	size_t ignored = 0;
	int r = mark_all(s, &blobs, &layers, err);
	if (r >= 0 &&
	    (r = sweep(s, "blobs/sha256", &blobs, &res.blobs_removed, &res.blobs_kept, &res.bytes_freed)) < 0)
		recap_error_set_errno(err, -r, "gc: sweeping %s/blobs", s->root);
	if (r >= 0 && (r = sweep(s, "layers", &layers, &res.layers_removed, &res.layers_kept, NULL)) < 0)
		recap_error_set_errno(err, -r, "gc: sweeping %s/layers", s->root);
	if (r >= 0 && (r = sweep(s, "tmp", NULL, &ignored, &ignored, NULL)) < 0)
		recap_error_set_errno(err, -r, "gc: sweeping %s/tmp", s->root);
	/* Per-blob and per-layer lock files are only taken under the shared
	 * store lock, which we hold exclusively: none is in use now. */
	struct keep locks = {.v = (char *[]){"store.lock", "index.lock"}, .n = 2};
	if (r >= 0 && (r = sweep(s, "locks", &locks, &ignored, &ignored, NULL)) < 0)
		recap_error_set_errno(err, -r, "gc: sweeping %s/locks", s->root);
	keep_free(&blobs);
	keep_free(&layers);
	if (r >= 0)
		*ret = res;
	return r;
}
