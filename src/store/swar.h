/* Byte-parallel helpers for the block column readers: eight bytes of a
 * column tested at a time in a 64-bit word (type bytes counted, varint
 * ends counted and skipped, bounds checked), with per-byte counters summed
 * by a multiply before they can overflow. */
#ifndef CLEW_STORE_SWAR_H
#define CLEW_STORE_SWAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SWAR_ONES 0x0101010101010101ull
#define SWAR_HIGHS 0x8080808080808080ull

/* Per byte of w: 1 where it is zero, else 0. */
static inline uint64_t swar_zero_bytes(uint64_t w)
{
	uint64_t z = (w | ((w & ~SWAR_HIGHS) + ~SWAR_HIGHS)) & SWAR_HIGHS;
	return (~z >> 7) & SWAR_ONES;
}

/* The sum of the bytes of w (together under 256). */
static inline uint64_t swar_sum(uint64_t w)
{
	return (w * SWAR_ONES) >> 56;
}

/* Bytes of p[0, n) equal to want. */
static inline uint64_t swar_count_eq(const uint8_t *p, size_t n, uint8_t want)
{
	uint64_t c = 0, pat = want * SWAR_ONES;
	size_t i = 0;
	while (n - i >= 8) {
		uint64_t acc = 0;
		size_t stop = n - i >= 8 * 31 ? i + 8 * 31 : n - (n - i) % 8;
		for (; i < stop; i += 8) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			acc += swar_zero_bytes(w ^ pat);
		}
		c += swar_sum(acc);
	}
	for (; i < n; i++)
		c += p[i] == want;
	return c;
}

/* Bytes of p[0, n) that end a varint (top bit clear). */
static inline uint64_t swar_varint_ends(const uint8_t *p, size_t n)
{
	uint64_t t = 0;
	size_t i = 0;
	while (n - i >= 8) {
		uint64_t acc = 0;
		size_t stop = n - i >= 8 * 31 ? i + 8 * 31 : n - (n - i) % 8;
		for (; i < stop; i += 8) {
			uint64_t w;
			memcpy(&w, p + i, 8);
			acc += (~w >> 7) & SWAR_ONES;
		}
		t += swar_sum(acc);
	}
	for (; i < n; i++)
		t += !(p[i] >> 7);
	return t;
}

/* Past the next m varints of [p, end), or NULL when there are fewer. */
static inline const uint8_t *swar_skip_varints(const uint8_t *p, const uint8_t *end, uint64_t m)
{
	if (m == 0)
		return p;
	while (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t ends = ~w & SWAR_HIGHS; /* the top bit of each byte ending a varint */
		uint64_t t = swar_sum(ends >> 7);
		if (t >= m) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* the m-th end in this word: its lowest bits are the first bytes */
			for (; m > 1; m--)
				ends &= ends - 1;
			return p + __builtin_ctzll(ends) / 8 + 1;
#else
			break;
#endif
		}
		p += 8;
		m -= t;
	}
	for (; m && p < end; p++)
		m -= !(*p >> 7);
	return m ? NULL : p;
}

/* The varint at p into *v: past it, or NULL when it does not end before
 * end or runs past ten bytes. One eight-byte load when it fits in one: its
 * seven-bit groups are packed together in three steps. */
static inline const uint8_t *swar_read_varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (end - p >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		uint64_t ends = ~w & SWAR_HIGHS;
		if (ends) {
			unsigned len = (unsigned)__builtin_ctzll(ends) / 8 + 1;
			uint64_t x = w & 0x7f7f7f7f7f7f7f7full;
			if (len < 8)
				x &= (1ull << (8 * len)) - 1;
			x = (x & 0x007f007f007f007full) | ((x & 0x7f007f007f007f00ull) >> 1);
			x = (x & 0x00003fff00003fffull) | ((x & 0x3fff00003fff0000ull) >> 2);
			x = (x & 0x000000000fffffffull) | ((x & 0x0fffffff00000000ull) >> 4);
			*v = x;
			return p + len;
		}
	}
#endif
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 70 && p < end; shift += 7) {
		uint8_t b = *p++;
		x |= shift < 64 ? (uint64_t)(b & 0x7f) << shift : 0;
		if (!(b & 0x80)) {
			*v = x;
			return p;
		}
	}
	return NULL;
}

/* Whether every byte of p[0, n) is below lim (lim <= 0x80). */
static inline bool swar_bytes_below(const uint8_t *p, size_t n, unsigned lim)
{
	uint64_t add = (0x80u - lim) * SWAR_ONES, bad = 0;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		bad |= w | (w + add); /* a high bit: >= 0x80, or >= lim */
	}
	for (; i < n; i++)
		bad |= p[i] >= lim ? SWAR_HIGHS : 0;
	return !(bad & SWAR_HIGHS);
}

#endif
