/* A fast streaming JSON writer over a struct buf. It tracks nesting in a
 * small stack so commas and colons come out by themselves; strings are
 * escaped (quotes, backslash, control chars) and invalid UTF-8 is replaced
 * by U+FFFD, so any byte slice from the wire can be written as a string.
 * Errors (cap reached, out of memory, nesting too deep) are the buf's
 * sticky error: the caller checks out->err once at the end. */
#ifndef CLEW_BASE_JSON_H
#define CLEW_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/slice.h"

/* Deepest nesting of objects and arrays the writer accepts; past it the
 * buf's error becomes CLEW_ELIMIT. */
#define JSON_MAX_DEPTH 64

struct json {
	struct buf *out;
	uint32_t depth;
	bool after_key;			   /* a key was written, its value comes next */
	uint8_t n_items[JSON_MAX_DEPTH + 1]; /* per level: 0 = nothing written yet */
};

/* Start writing JSON values to out (appended after what out holds). */
void json_init(struct json *j, struct buf *out);

void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);

/* An object key; the next call writes its value. */
void json_key(struct json *j, const char *key);
void json_key_slice(struct json *j, struct slice key);

/* Values. Strings are escaped; invalid UTF-8 becomes U+FFFD. */
void json_str(struct json *j, struct slice s);
void json_cstr(struct json *j, const char *s);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
/* Shortest decimal that reads back as v (up to %.17g); NaN and infinities,
 * which JSON numbers cannot hold, become the strings "NaN", "Infinity" and
 * "-Infinity" as the protobuf JSON mapping writes them. */
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
/* null (not json_null: jansson, which clew parses with, owns that name). */
void json_null_value(struct json *j);
/* Integers as decimal strings, as the protobuf JSON mapping writes 64-bit
 * integers. */
void json_int_str(struct json *j, int64_t v);
void json_uint_str(struct json *j, uint64_t v);
/* Bytes as a string of lowercase hex / of padded standard base64. */
void json_hex(struct json *j, const uint8_t *p, size_t n);
void json_base64(struct json *j, const uint8_t *p, size_t n);
/* A value that is already valid JSON text, written as is. */
void json_raw(struct json *j, struct slice text);

/* Append s escaped as the inside of a JSON string (no quotes) to out. */
void json_escape(struct buf *out, struct slice s);

#endif
