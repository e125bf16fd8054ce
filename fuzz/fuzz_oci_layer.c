/* Layer unpacking of arbitrary archives into a scratch directory. After
 * every input the directory's parent must hold nothing but the scratch
 * directory: no entry may land outside it. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/store.h"
#include "oci/unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[] = "/tmp/recap-fuzz-layer.XXXXXX";
static int basefd = -1;

static void only_scratch_left(void)
{
	DIR *d = opendir(base);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "root"))
			abort();
	if (d)
		closedir(d);
}

static void cleanup(void)
{
	if (basefd >= 0)
		recap_oci_rm_rf_at(basefd, "root");
	rmdir(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (basefd < 0) {
		if (!mkdtemp(base))
			abort();
		basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		atexit(cleanup);
	}
	int in = memfd_create("layer", MFD_CLOEXEC);
	if (in < 0 || write(in, data, size) != (ssize_t)size || lseek(in, 0, SEEK_SET) != 0)
		abort();
	mkdirat(basefd, "root", 0755);
	int root = openat(basefd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct recap_oci_unpack_limits lim = {.max_entries = 1000, .max_bytes = 1 << 20};
	struct recap_error *err = NULL;
	recap_oci_unpack_fd(in, root, &lim, &err);
	recap_error_free(err);
	close(root);
	close(in);
	only_scratch_left();
	recap_oci_rm_rf_at(basefd, "root");
	return 0;
}
