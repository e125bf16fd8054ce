#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/escape.h"

/* the test's temp dir, removed by the teardown also when an assert failed */
static char base[64];

static int remove_base(void **state)
{
	if (base[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
		if (system(cmd) != 0)
			return -1;
	}
	base[0] = 0;
	return 0;
}

static void make_base(void)
{
	snprintf(base, sizeof(base), "/tmp/recap-rmtree.XXXXXX");
	assert_non_null(mkdtemp(base));
}

static void make(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void never_follows_symlinks(void **state)
{
	make_base();
	char outside[600], tree[600], p[700];
	snprintf(outside, sizeof(outside), "%s/outside", base);
	snprintf(tree, sizeof(tree), "%s/tree", base);
	assert_int_equal(mkdir(outside, 0755), 0);
	snprintf(p, sizeof(p), "%s/keep", outside);
	make(p, "precious");
	assert_int_equal(mkdir(tree, 0755), 0);
	snprintf(p, sizeof(p), "%s/link-to-dir", tree);
	assert_int_equal(symlink(outside, p), 0);
	snprintf(p, sizeof(p), "%s/link-to-file", tree);
	assert_int_equal(symlink("../outside/keep", p), 0);
	snprintf(p, sizeof(p), "%s/locked", tree);
	assert_int_equal(mkdir(p, 0), 0); /* like overlay's work/work */
	assert_int_equal(recap_rmtree(tree, NULL), 0);
	struct stat st;
	assert_int_equal(lstat(tree, &st), -1);
	snprintf(p, sizeof(p), "%s/keep", outside);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(recap_rmtree(base, NULL), 0);
	assert_int_equal(lstat(base, &st), -1);
	assert_int_equal(recap_rmtree(base, NULL), 0); /* absent: fine */
}

static void any_depth(void **state)
{
	make_base();
	int fd = open(base, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		assert_true(next >= 0);
		if (i % 100 == 0)
			close(openat(next, "f", O_CREAT | O_WRONLY, 0644));
		close(fd);
		fd = next;
	}
	close(fd);
	assert_int_equal(recap_rmtree(base, NULL), 0);
	struct stat st;
	assert_int_equal(lstat(base, &st), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(never_follows_symlinks, remove_base),
	    cmocka_unit_test_teardown(any_depth, remove_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
