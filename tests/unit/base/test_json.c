/* Unit tests of the JSON writer: structure, escaping, UTF-8 repair, numbers,
 * and the buf's cap and sticky error. Output is parsed back with jansson. */
#include "../../testlib.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"

static json_t *parse(const struct buf *b)
{
	json_error_t e;
	json_t *v = json_loadb((const char *)b->p, b->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!v)
		fprintf(stderr, "json parse: %s at %d: %.*s\n", e.text, e.position, (int)b->len, (const char *)b->p);
	return v;
}

/* Write s as a JSON string, parse it back, and return the parsed copy
 * (NUL allowed) in out[cap]; returns its length or -1. */
static long round_trip_str(struct slice s, char *out, size_t cap)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	struct json j;
	json_init(&j, &b);
	json_str(&j, s);
	json_t *v = parse(&b);
	long n = -1;
	if (v && json_is_string(v) && json_string_length(v) <= cap) {
		n = (long)json_string_length(v);
		memcpy(out, json_string_value(v), (size_t)n);
	}
	json_decref(v);
	buf_free(&b);
	return n;
}

TEST(json_structure_and_commas)
{
	struct buf b;
	buf_init(&b, 4096);
	struct json j;
	json_init(&j, &b);
	json_obj_begin(&j);
	json_key(&j, "a");
	json_int(&j, -5);
	json_key(&j, "b");
	json_arr_begin(&j);
	json_bool(&j, true);
	json_bool(&j, false);
	json_null_value(&j);
	json_obj_begin(&j);
	json_obj_end(&j);
	json_arr_begin(&j);
	json_arr_end(&j);
	json_arr_end(&j);
	json_key(&j, "c");
	json_uint(&j, 9223372036854775807ull);
	json_key(&j, "d");
	json_int_str(&j, INT64_MIN);
	json_key(&j, "e");
	json_uint_str(&j, 18446744073709551615ull);
	json_key(&j, "f");
	json_raw(&j, SLICE_LIT("{\"x\":1}"));
	json_obj_end(&j);
	CHECK_INT(b.err, ==, 0);
	CHECK_SLICE(buf_slice(&b), "{\"a\":-5,\"b\":[true,false,null,{},[]],\"c\":9223372036854775807,"
				   "\"d\":\"-9223372036854775808\",\"e\":\"18446744073709551615\",\"f\":{\"x\":1}}");
	json_t *v = parse(&b);
	CHECK(v != NULL);
	CHECK_INT(json_integer_value(json_object_get(v, "a")), ==, -5);
	CHECK_STR(json_string_value(json_object_get(v, "d")), "-9223372036854775808");
	CHECK_INT(json_array_size(json_object_get(v, "b")), ==, 5);
	json_decref(v);
	buf_free(&b);
}

TEST(json_top_level_sequence_of_values)
{
	struct buf b;
	buf_init(&b, 200);
	struct json j;
	json_init(&j, &b);
	json_arr_begin(&j);
	json_int(&j, 0);
	json_int(&j, 1);
	json_uint(&j, UINT64_MAX);
	json_int(&j, INT64_MIN);
	json_arr_end(&j);
	CHECK_SLICE(buf_slice(&b), "[0,1,18446744073709551615,-9223372036854775808]");
	buf_free(&b);
}

TEST(json_escapes_quotes_backslash_and_control_chars)
{
	struct buf b;
	buf_init(&b, 4096);
	struct json j;
	json_init(&j, &b);
	static const char in[] = "a\"b\\c\n\r\t\b\f\x01\x1f\x7f/<>";
	json_str(&j, slice_make(in, sizeof in - 1));
	CHECK_SLICE(buf_slice(&b), "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f/<>\"");
	char out[64];
	long n = round_trip_str(slice_make(in, sizeof in - 1), out, sizeof out);
	CHECK_INT(n, ==, sizeof in - 1);
	CHECK(memcmp(out, in, sizeof in - 1) == 0);
	/* an embedded NUL is escaped, not a terminator */
	n = round_trip_str(slice_make("x\0y", 3), out, sizeof out);
	CHECK_INT(n, ==, 3);
	CHECK(memcmp(out, "x\0y", 3) == 0);
	buf_free(&b);
}

TEST(json_keeps_valid_utf8)
{
	/* 2, 3 and 4 byte sequences, including the edges of each range */
	static const char in[] = "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf "
				 "\xee\x80\x80 \xf4\x8f\xbf\xbf \xf0\x90\x80\x80";
	char out[128];
	long n = round_trip_str(slice_make(in, sizeof in - 1), out, sizeof out);
	CHECK_INT(n, ==, sizeof in - 1);
	CHECK(memcmp(out, in, sizeof in - 1) == 0);
}

static int check_repair(const char *in, size_t len, const char *want)
{
	char out[128];
	long n = round_trip_str(slice_make(in, len), out, sizeof out);
	if (n < 0 || (size_t)n != strlen(want) || memcmp(out, want, (size_t)n) != 0) {
		fprintf(stderr, "repair: got %ld bytes \"%.*s\", want \"%s\"\n", n, n < 0 ? 0 : (int)n, out, want);
		return 0;
	}
	return 1;
}

#define FFFD "\xef\xbf\xbd"

TEST(json_replaces_invalid_utf8)
{
	CHECK(check_repair("a\x80z", 3, "a" FFFD "z"));	      /* lone continuation */
	CHECK(check_repair("a\xffz", 3, "a" FFFD "z"));	      /* never valid */
	CHECK(check_repair("\xc0\xaf", 2, FFFD FFFD));	      /* overlong '/' */
	CHECK(check_repair("\xc1\xbf", 2, FFFD FFFD));	      /* overlong */
	CHECK(check_repair("\xe0\x80\xaf", 3, FFFD FFFD FFFD)); /* overlong 3-byte */
	CHECK(check_repair("\xed\xa0\x80", 3, FFFD FFFD FFFD)); /* surrogate D800 */
	CHECK(check_repair("\xf4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD)); /* > U+10FFFF */
	CHECK(check_repair("\xf5\x80", 2, FFFD FFFD));
	/* truncated sequences: the valid prefix becomes one U+FFFD */
	CHECK(check_repair("x\xe2\x82", 3, "x" FFFD));
	CHECK(check_repair("x\xe2\x82y", 4, "x" FFFD "y"));
	CHECK(check_repair("\xf0\x9f\x98", 3, FFFD));
	CHECK(check_repair("\xf0\x9f\x98\xc3\xa9", 5, FFFD "\xc3\xa9"));
	CHECK(check_repair("\xc3", 1, FFFD));
	/* and the result is always valid JSON jansson accepts */
	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	char out[1024];
	CHECK(round_trip_str(slice_make(all, sizeof all), out, sizeof out) > 0);
}

TEST(json_doubles_round_trip_shortest)
{
	static const double vals[] = {0.1, 1.5, -2.25, 1e300, -1e-300, 3.141592653589793, 0.30000000000000004,
				      123456789012345680000.0, 5e-324, 1.7976931348623157e308, 42.0, -0.0};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		struct buf b;
		buf_init(&b, 100);
		struct json j;
		json_init(&j, &b);
		json_double(&j, vals[i]);
		json_t *v = parse(&b);
		CHECK(v != NULL);
		CHECK(json_is_number(v));
		CHECK(json_number_value(v) == vals[i]);
		json_decref(v);
		buf_free(&b);
	}
	struct buf b;
	buf_init(&b, 100);
	struct json j;
	json_init(&j, &b);
	json_arr_begin(&j);
	json_double(&j, 0.1);
	json_double(&j, 42.0);
	json_double(&j, NAN);
	json_double(&j, INFINITY);
	json_double(&j, -INFINITY);
	json_arr_end(&j);
	CHECK_SLICE(buf_slice(&b), "[0.1,42,\"NaN\",\"Infinity\",\"-Infinity\"]");
	buf_free(&b);
}

TEST(json_hex_and_base64)
{
	struct buf b;
	buf_init(&b, 100);
	struct json j;
	json_init(&j, &b);
	static const uint8_t id[8] = {0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3};
	json_arr_begin(&j);
	json_hex(&j, id, 8);
	json_base64(&j, id, 8);
	json_hex(&j, id, 0);
	json_arr_end(&j);
	CHECK_SLICE(buf_slice(&b), "[\"deadbeef00010203\",\"3q2+7wABAgM=\",\"\"]");
	buf_free(&b);
}

TEST(json_cap_and_depth_are_sticky_errors)
{
	struct buf b;
	buf_init(&b, 16);
	struct json j;
	json_init(&j, &b);
	json_arr_begin(&j);
	json_cstr(&j, "0123456789abcdef");
	CHECK_INT(b.err, ==, CLEW_ELIMIT);
	size_t len = b.len;
	json_int(&j, 1);
	json_arr_end(&j);
	CHECK_INT(b.len, ==, len);
	buf_free(&b);

	buf_init(&b, 4096);
	json_init(&j, &b);
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		json_arr_begin(&j);
	CHECK_INT(b.err, ==, 0);
	json_arr_begin(&j);
	CHECK_INT(b.err, ==, CLEW_ELIMIT);
	buf_free(&b);

	/* closing more than was opened is our bug, reported the same way */
	buf_init(&b, 4096);
	json_init(&j, &b);
	json_obj_end(&j);
	CHECK_INT(b.err, ==, CLEW_EINVAL);
	buf_free(&b);
}
