/* Unit tests of the base layer: arena, buf, crc32c, hex/base64, budget. */
#include "../../testlib.h"

#include "base/arena.h"
#include "base/budget.h"
#include "base/buf.h"
#include "base/codec.h"
#include "base/crc32c.h"
#include "base/err.h"

TEST(arena_respects_cap)
{
	struct arena a;
	arena_init(&a, 100000);
	CHECK(arena_alloc(&a, 1000) != NULL);
	CHECK(arena_alloc(&a, 200000) == NULL);
	CHECK(arena_array(&a, SIZE_MAX / 2, 4) == NULL);
	arena_reset(&a);
	CHECK_INT(a.used_bytes, ==, 0);
}

TEST(buf_cap_is_sticky)
{
	struct buf b;
	buf_init(&b, 10);
	buf_append_cstr(&b, "hello");
	buf_append_cstr(&b, "world!");
	CHECK_INT(b.err, ==, CLEW_ELIMIT);
	buf_append_cstr(&b, "x");
	CHECK_INT(b.len, ==, 5);
	buf_free(&b);
}

TEST(crc32c_known_vector)
{
	/* the standard check value of CRC-32C */
	CHECK_INT(crc32c(0, "123456789", 9), ==, 0xE3069283u);
	uint32_t part = crc32c(0, "1234", 4);
	CHECK_INT(crc32c(part, "56789", 5), ==, 0xE3069283u);
}

TEST(hex_and_base64_round_trip)
{
	uint8_t id[8] = {0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3}, back[8];
	char hex[16];
	hex_encode(id, 8, hex);
	CHECK(memcmp(hex, "deadbeef00010203", 16) == 0);
	CHECK_INT(hex_decode(slice_make("DEADBEEF00010203", 16), back, 8), ==, 0);
	CHECK(memcmp(id, back, 8) == 0);
	CHECK_INT(hex_decode(slice_make("DEADBEEF0001020", 15), back, 8), ==, CLEW_EPARSE);
	CHECK_INT(hex_decode(slice_make("DEADBEEF0001020g", 16), back, 8), ==, CLEW_EPARSE);
	struct buf b;
	buf_init(&b, 100);
	base64_encode(&b, id, 8);
	CHECK_SLICE(buf_slice(&b), "3q2+7wABAgM=");
	size_t n;
	CHECK_INT(base64_decode(buf_slice(&b), back, 8, &n), ==, 0);
	CHECK_INT(n, ==, 8);
	CHECK(memcmp(id, back, 8) == 0);
	buf_free(&b);
}

TEST(budget_refuses_past_limit)
{
	struct budget b;
	budget_init(&b, 100);
	CHECK(budget_try_charge(&b, 60));
	CHECK(!budget_try_charge(&b, 50));
	budget_release(&b, 60);
	CHECK(budget_try_charge(&b, 100));
	CHECK(budget_exhausted(&b));
}
