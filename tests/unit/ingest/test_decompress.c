/* Unit tests of gzip inflation under a limit: round trip, a gzip bomb that
 * stops at the limit, truncated and corrupt data. */
#include "../../testlib.h"

#include <stdlib.h>

#include "base/err.h"
#include "ingest/decompress.h"

TEST(gzip_round_trip)
{
	char text[5000];
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = (char)('a' + i % 23);
	uint8_t *gz, *back;
	size_t gz_len, back_len;
	CHECK_INT(gzip_deflate(slice_make(text, sizeof text), &gz, &gz_len), ==, 0);
	CHECK(gz_len < sizeof text);
	CHECK_INT(gzip_inflate(slice_make(gz, gz_len), 1 << 20, &back, &back_len), ==, 0);
	CHECK_INT(back_len, ==, sizeof text);
	CHECK(memcmp(back, text, sizeof text) == 0);
	free(back);
	/* exactly at the limit is fine, one byte less is not */
	CHECK_INT(gzip_inflate(slice_make(gz, gz_len), sizeof text, &back, &back_len), ==, 0);
	free(back);
	CHECK_INT(gzip_inflate(slice_make(gz, gz_len), sizeof text - 1, &back, &back_len), ==, CLEW_ELIMIT);
	CHECK(back == NULL);
	free(gz);
}

TEST(gzip_bomb_stops_at_limit)
{
	size_t n = 50u << 20; /* 50 MiB of zeros compress to ~50 KiB */
	uint8_t *zeros = calloc(1, n), *gz, *back = NULL;
	size_t gz_len, back_len;
	CHECK(zeros != NULL);
	CHECK_INT(gzip_deflate(slice_make(zeros, n), &gz, &gz_len), ==, 0);
	free(zeros);
	CHECK(gz_len < (1u << 20));
	CHECK_INT(gzip_inflate(slice_make(gz, gz_len), 4u << 20, &back, &back_len), ==, CLEW_ELIMIT);
	CHECK(back == NULL);
	free(gz);
}

TEST(gzip_truncated_and_corrupt)
{
	const char *text = "hello hello hello hello hello hello";
	uint8_t *gz, *back = NULL;
	size_t gz_len, back_len;
	CHECK_INT(gzip_deflate(slice_cstr(text), &gz, &gz_len), ==, 0);
	for (size_t cut = 0; cut < gz_len; cut++)
		CHECK_INT(gzip_inflate(slice_make(gz, cut), 1 << 20, &back, &back_len), ==, CLEW_EPARSE);
	gz[gz_len / 2] ^= 0xff;
	int rc = gzip_inflate(slice_make(gz, gz_len), 1 << 20, &back, &back_len);
	CHECK_INT(rc, ==, CLEW_EPARSE);
	CHECK_INT(gzip_inflate(slice_cstr("not gzip at all"), 1 << 20, &back, &back_len), ==, CLEW_EPARSE);
	free(gz);
}
