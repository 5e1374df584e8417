/* Unit tests of size and duration parsing. */
#include "../../testlib.h"

#include "base/err.h"
#include "base/units.h"

TEST(units_sizes)
{
	uint64_t v;
	CHECK_INT(units_parse_size("1024", &v), ==, 0);
	CHECK_INT(v, ==, 1024);
	CHECK_INT(units_parse_size("64MiB", &v), ==, 0);
	CHECK_INT(v, ==, 64ull << 20);
	CHECK_INT(units_parse_size("4G", &v), ==, 0);
	CHECK_INT(v, ==, 4ull << 30);
	CHECK_INT(units_parse_size("512k", &v), ==, 0);
	CHECK_INT(v, ==, 512ull << 10);
	CHECK_INT(units_parse_size("", &v), ==, CLEW_EINVAL);
	CHECK_INT(units_parse_size("12X", &v), ==, CLEW_EINVAL);
	CHECK_INT(units_parse_size("-1", &v), ==, CLEW_EINVAL);
	CHECK_INT(units_parse_size("99999999999999999999", &v), ==, CLEW_EINVAL);
	CHECK_INT(units_parse_size("20000000T", &v), ==, CLEW_EINVAL);
}

TEST(units_durations)
{
	int64_t ns;
	CHECK_INT(units_parse_duration_ns("30s", &ns), ==, 0);
	CHECK_INT(ns, ==, 30000000000ll);
	CHECK_INT(units_parse_duration_ns("1m30s", &ns), ==, 0);
	CHECK_INT(ns, ==, 90000000000ll);
	CHECK_INT(units_parse_duration_ns("250ms", &ns), ==, 0);
	CHECK_INT(ns, ==, 250000000ll);
	CHECK_INT(units_parse_duration_ns("1.5s", &ns), ==, 0);
	CHECK_INT(ns, ==, 1500000000ll);
	CHECK_INT(units_parse_duration_ns("7d", &ns), ==, 0);
	CHECK_INT(ns, ==, 7ll * 86400 * 1000000000);
	CHECK_INT(units_parse_duration_ns("2", &ns), ==, 0);
	CHECK_INT(ns, ==, 2000000000ll);
	CHECK_INT(units_parse_duration_ns("10us", &ns), ==, 0);
	CHECK_INT(ns, ==, 10000);
	CHECK_INT(units_parse_duration_ns("5x", &ns), ==, CLEW_EINVAL);
	CHECK_INT(units_parse_duration_ns("s", &ns), ==, CLEW_EINVAL);
	CHECK_INT(units_parse_duration_ns("1..2s", &ns), ==, CLEW_EINVAL);
	CHECK_INT(units_parse_duration_ns("", &ns), ==, CLEW_EINVAL);
}
