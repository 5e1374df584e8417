/* Unit tests of swar_read_varint: every value length from one to ten
 * bytes, read from the middle of a buffer (the eight-byte load) and at its
 * very end (the byte loop), give the value a plain byte-by-byte decoder
 * gives; a varint cut by the end or longer than ten bytes is refused. */
#include "../../testlib.h"

#include <string.h>

#include "store/swar.h"

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

TEST(swar_read_varint_every_length)
{
	uint64_t rng = 7;
	for (int bits = 0; bits <= 64; bits++) {
		for (int k = 0; k < 50; k++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			uint64_t v = bits == 64 ? rng : rng & ((1ull << bits) - 1);
			if (k == 0)
				v = bits == 64 ? UINT64_MAX : (1ull << bits) - 1; /* all ones: longest of its length */
			uint8_t buf[32];
			memset(buf, 0xff, sizeof buf); /* continuation bits after the varint */
			size_t n = put_varint(buf + 3, v);
			uint64_t got = 0;
			/* room for the eight-byte load */
			const uint8_t *end = swar_read_varint(buf + 3, buf + sizeof buf, &got);
			CHECK(end == buf + 3 + n);
			CHECK(got == v);
			/* the varint ends the buffer: the byte loop */
			got = 0;
			end = swar_read_varint(buf + 3, buf + 3 + n, &got);
			CHECK(end == buf + 3 + n);
			CHECK(got == v);
			/* cut one byte short */
			CHECK(swar_read_varint(buf + 3, buf + 3 + n - 1, &got) == NULL);
		}
	}
}

TEST(swar_read_varint_bad)
{
	uint8_t buf[16];
	uint64_t v = 0;
	memset(buf, 0x80, sizeof buf); /* no end at all */
	CHECK(swar_read_varint(buf, buf + sizeof buf, &v) == NULL);
	buf[10] = 0x01; /* an eleven-byte varint */
	CHECK(swar_read_varint(buf, buf + sizeof buf, &v) == NULL);
	buf[9] = 0x01; /* ten bytes: the last one's top bits fall off */
	CHECK(swar_read_varint(buf, buf + sizeof buf, &v) == buf + 10);
	CHECK(v == 1ull << 63);
	CHECK(swar_read_varint(buf, buf, &v) == NULL); /* empty */
	buf[0] = 0x05;
	CHECK(swar_read_varint(buf, buf + 1, &v) == buf + 1);
	CHECK(v == 5);
}
