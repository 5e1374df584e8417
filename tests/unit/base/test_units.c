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

TEST(units_rfc3339)
{
	int64_t ns;
	CHECK(units_parse_rfc3339_ns(slice_cstr("2026-01-01T00:00:00Z"), &ns));
	CHECK_INT(ns, ==, 1767225600ll * 1000000000);
	CHECK(units_parse_rfc3339_ns(slice_cstr("2026-01-01T01:00:00.5+01:00"), &ns));
	CHECK_INT(ns, ==, 1767225600ll * 1000000000 + 500000000);
	CHECK(!units_parse_rfc3339_ns(slice_cstr("2026-01-01T00:00:00"), &ns));
	CHECK(!units_parse_rfc3339_ns(slice_cstr("2026-13-01T00:00:00Z"), &ns));
	CHECK(!units_parse_rfc3339_ns(slice_cstr("1969-12-31T23:59:59Z"), &ns));
	CHECK(!units_parse_rfc3339_ns(slice_cstr("2026-01-01T00:00:00.Z"), &ns));
}
