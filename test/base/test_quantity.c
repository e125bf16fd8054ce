#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/cleanup.h"
#include "base/quantity.h"

struct qcase {
	const char *s;
	int64_t units; /* rounded up to whole units */
	int64_t milli; /* rounded up to thousandths */
};

static const struct qcase good[] = {
    {"0", 0, 0},
    {"1", 1, 1000},
    {"+5", 5, 5000},
    {"-5", -5, -5000},
    {"0.5", 1, 500},
    {".5", 1, 500},
    {"5.", 5, 5000},
    {"007", 7, 7000},
    {"200m", 1, 200},
    {"1500m", 2, 1500},
    {"1n", 1, 1},
    {"100u", 1, 1},
    {"1.0001m", 1, 2},
    {"0.1n", 1, 1},
    {"1k", 1000, 1000000},
    {"1M", 1000000, 1000000000},
    {"1G", 1000000000, 1000000000000},
    {"1T", 1000000000000, 1000000000000000},
    {"1P", 1000000000000000, 1000000000000000000},
    {"1E", 1000000000000000000, INT64_MIN},
    {"1Ki", 1024, 1024000},
    {"64Mi", 67108864, 67108864000},
    {"1.5Gi", 1610612736, 1610612736000},
    {"2Ti", 2199023255552, 2199023255552000},
    {"1Pi", 1125899906842624, 1125899906842624000},
    {"1Ei", 1152921504606846976, INT64_MIN},
    {"1e3", 1000, 1000000},
    {"1E3", 1000, 1000000},
    {"12e-3", 1, 12},
    {"1e-12", 1, 1},
    {"1.5e+2", 150, 150000},
    {"0.000000000000000000000000000001", 1, 1},
};

static void parses(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct recap_quantity q;
		struct recap_error *err = NULL;
		int64_t units, milli;
		if (recap_quantity_parse(good[i].s, &q, &err) < 0)
			fail_msg("%s: %s", good[i].s, recap_error_message(err));
		assert_int_equal(recap_quantity_units(q, &units), 0);
		if (units != good[i].units)
			fail_msg("%s: %lld units, want %lld", good[i].s, (long long)units,
				 (long long)good[i].units);
		if (good[i].milli == INT64_MIN) {
			assert_int_equal(recap_quantity_milli(q, &milli), -ERANGE);
			continue;
		}
		assert_int_equal(recap_quantity_milli(q, &milli), 0);
		if (milli != good[i].milli)
			fail_msg("%s: %lld milli, want %lld", good[i].s, (long long)milli,
				 (long long)good[i].milli);
	}
}

static void refuses(void **state)
{
	static const char *bad[] = {
	    "",	   "Mi",    "1Zi", "1.2.3", "1 Mi", "abc",  "1e",
	    "1e+", "1KI",   "1mi", "--1",   "1.5.", "Ki1",  ".",
	    "+",   "1e1.5", " 1",  "1 ",    "0x10", "1Mi ", "99999999999999999999999999999999"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct recap_quantity q = {.nano = 42};
		struct recap_error *err = NULL;
		assert_int_equal(recap_quantity_parse(bad[i], &q, &err), -EINVAL);
		assert_true(q.nano == 42);
		assert_non_null(strstr(recap_error_message(err), "is not a quantity"));
		recap_error_free(err);
	}
	static const char *huge[] = {"1e1000", "1e28", "1000000000000000000000000000000Ei"};
	for (size_t i = 0; i < ARRAY_SIZE(huge); i++) {
		struct recap_quantity q;
		struct recap_error *err = NULL;
		int r = recap_quantity_parse(huge[i], &q, &err);
		if (r != -ERANGE && r != -EINVAL)
			fail_msg("%s: %d", huge[i], r);
		recap_error_free(err);
	}
}

static int cmp(const char *a, const char *b)
{
	struct recap_quantity qa, qb;
	assert_int_equal(recap_quantity_parse(a, &qa, NULL), 0);
	assert_int_equal(recap_quantity_parse(b, &qb, NULL), 0);
	return recap_quantity_cmp(qa, qb);
}

static void compares_exactly(void **state)
{
	assert_int_equal(cmp("1Gi", "1G"), 1);
	assert_int_equal(cmp("1000m", "1"), 0);
	assert_int_equal(cmp("0.25Gi", "256Mi"), 0);
	assert_int_equal(cmp("256Mi", "268435457"), -1);
	assert_int_equal(cmp("268435456", "256Mi"), 0);
	assert_int_equal(cmp("500m", "0.5"), 0);
	assert_int_equal(cmp("1e3", "1k"), 0);
	assert_int_equal(cmp("1001m", "1"), 1);
	assert_int_equal(cmp("-1", "0"), -1);
	assert_int_equal(cmp("1.000000001", "1"), 1);
}

/* Random strings over the quantity alphabet: parsed or refused, and what
 * parses compares consistently with itself. */
static void random_strings(void **state)
{
	static const char alphabet[] = "0123456789.+-eEkKMGTPinum ";
	srand(9);
	int parsed = 0;
	for (int round = 0; round < 50000; round++) {
		char s[24];
		size_t len = (size_t)rand() % (sizeof(s) - 1);
		for (size_t i = 0; i < len; i++)
			s[i] = alphabet[rand() % (sizeof(alphabet) - 1)];
		s[len] = '\0';
		struct recap_quantity q;
		struct recap_error *err = NULL;
		if (recap_quantity_parse(s, &q, &err) < 0) {
			assert_non_null(recap_error_message(err));
			recap_error_free(err);
			continue;
		}
		parsed++;
		assert_int_equal(recap_quantity_cmp(q, q), 0);
	}
	assert_true(parsed > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(parses),
	    cmocka_unit_test(refuses),
	    cmocka_unit_test(compares_exactly),
	    cmocka_unit_test(random_strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
