/* Streaming JSON writer: every read API answer (Tempo, Jaeger, native) is
 * written through it straight into the response buffer. */
#include "base/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/codec.h"
#include "base/err.h"

void json_init(struct json *j, struct buf *out)
{
	j->out = out;
	j->depth = 0;
	j->after_key = false;
	j->n_items[0] = 0;
}

/* Separator before a value (or a key) at the current level. */
static void before_value(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->n_items[j->depth])
		buf_append_byte(j->out, ',');
	j->n_items[j->depth] = 1;
}

static void nest_open(struct json *j, uint8_t c)
{
	before_value(j);
	if (j->depth >= JSON_MAX_DEPTH) {
		if (!j->out->err)
			j->out->err = CLEW_ELIMIT;
		return;
	}
	buf_append_byte(j->out, c);
	j->n_items[++j->depth] = 0;
}

static void nest_close(struct json *j, uint8_t c)
{
	if (j->depth == 0) {
		if (!j->out->err)
			j->out->err = CLEW_EINVAL;
		return;
	}
	j->depth--;
	j->after_key = false;
	buf_append_byte(j->out, c);
}

void json_obj_begin(struct json *j)
{
	nest_open(j, '{');
}

void json_obj_end(struct json *j)
{
	nest_close(j, '}');
}

void json_arr_begin(struct json *j)
{
	nest_open(j, '[');
}

void json_arr_end(struct json *j)
{
	nest_close(j, ']');
}

/* Bytes that cannot be copied into a JSON string as they are: control
 * chars, quote, backslash, and every non-ASCII byte (checked as UTF-8). */
static inline bool special(uint8_t c)
{
	return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

/* Length of the valid UTF-8 sequence at p (2..4), or 0 when it is invalid;
 * then *bad gets the length of its maximal valid prefix (at least 1), which
 * is replaced by one U+FFFD as Unicode recommends. */
static size_t utf8_seq(const uint8_t *p, size_t n, size_t *bad)
{
	uint8_t c = p[0];
	size_t len;
	uint8_t lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		*bad = 1;
		return 0;
	}
	size_t i = 1;
	for (; i < len && i < n; i++) {
		uint8_t d = p[i];
		if (d < lo || d > hi)
			break;
		lo = 0x80;
		hi = 0xbf;
	}
	if (i == len)
		return len;
	*bad = i;
	return 0;
}

void json_escape(struct buf *out, struct slice s)
{
	static const char hexdig[] = "0123456789abcdef";
	const uint8_t *p = s.p, *end = s.p + s.len;
	while (p < end) {
		const uint8_t *run = p;
		while (p < end && !special(*p))
			p++;
		if (p > run)
			buf_append(out, run, (size_t)(p - run));
		if (p == end)
			break;
		uint8_t c = *p;
		if (c >= 0x80) {
			size_t bad = 0, n = utf8_seq(p, (size_t)(end - p), &bad);
			if (n) {
				buf_append(out, p, n);
				p += n;
			} else {
				buf_append(out, "\xef\xbf\xbd", 3);
				p += bad;
			}
			continue;
		}
		p++;
		switch (c) {
		case '"':
			buf_append(out, "\\\"", 2);
			break;
		case '\\':
			buf_append(out, "\\\\", 2);
			break;
		case '\n':
			buf_append(out, "\\n", 2);
			break;
		case '\r':
			buf_append(out, "\\r", 2);
			break;
		case '\t':
			buf_append(out, "\\t", 2);
			break;
		case '\b':
			buf_append(out, "\\b", 2);
			break;
		case '\f':
			buf_append(out, "\\f", 2);
			break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hexdig[c >> 4], hexdig[c & 15]};
			buf_append(out, u, 6);
		}
		}
	}
}

static void write_string(struct buf *out, struct slice s)
{
	buf_append_byte(out, '"');
	json_escape(out, s);
	buf_append_byte(out, '"');
}

void json_key_slice(struct json *j, struct slice key)
{
	before_value(j);
	write_string(j->out, key);
	buf_append_byte(j->out, ':');
	j->after_key = true;
}

void json_key(struct json *j, const char *key)
{
	json_key_slice(j, slice_cstr(key));
}

void json_str(struct json *j, struct slice s)
{
	before_value(j);
	write_string(j->out, s);
}

void json_cstr(struct json *j, const char *s)
{
	json_str(j, slice_cstr(s));
}

/* Decimal digits of v into the end of tmp[24]; returns the first char. */
static char *fmt_u64(uint64_t v, char *tmp_end)
{
	char *p = tmp_end;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

static void append_i64(struct buf *out, int64_t v)
{
	char tmp[24], *end = tmp + sizeof tmp;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char *p = fmt_u64(u, end);
	if (v < 0)
		*--p = '-';
	buf_append(out, p, (size_t)(end - p));
}

static void append_u64(struct buf *out, uint64_t v)
{
	char tmp[24], *end = tmp + sizeof tmp;
	char *p = fmt_u64(v, end);
	buf_append(out, p, (size_t)(end - p));
}

void json_int(struct json *j, int64_t v)
{
	before_value(j);
	append_i64(j->out, v);
}

void json_uint(struct json *j, uint64_t v)
{
	before_value(j);
	append_u64(j->out, v);
}

void json_int_str(struct json *j, int64_t v)
{
	before_value(j);
	buf_append_byte(j->out, '"');
	append_i64(j->out, v);
	buf_append_byte(j->out, '"');
}

void json_uint_str(struct json *j, uint64_t v)
{
	before_value(j);
	buf_append_byte(j->out, '"');
	append_u64(j->out, v);
	buf_append_byte(j->out, '"');
}

void json_double(struct json *j, double v)
{
	if (isnan(v)) {
		json_str(j, SLICE_LIT("NaN"));
		return;
	}
	if (isinf(v)) {
		json_str(j, v > 0 ? SLICE_LIT("Infinity") : SLICE_LIT("-Infinity"));
		return;
	}
	before_value(j);
	/* Integral values that fit print exactly without the printf cost. */
	if (fabs(v) < 1e15 && v == (double)(int64_t)v && !(v == 0 && signbit(v))) {
		append_i64(j->out, (int64_t)v);
		return;
	}
	char tmp[40];
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
		if (prec == 17 || strtod(tmp, NULL) == v)
			break;
	}
	if (n > 0)
		buf_append(j->out, tmp, (size_t)n);
}

void json_bool(struct json *j, bool v)
{
	before_value(j);
	if (v)
		buf_append(j->out, "true", 4);
	else
		buf_append(j->out, "false", 5);
}

void json_null_value(struct json *j)
{
	before_value(j);
	buf_append(j->out, "null", 4);
}

void json_hex(struct json *j, const uint8_t *p, size_t n)
{
	before_value(j);
	buf_append_byte(j->out, '"');
	char tmp[64];
	while (n > 0) {
		size_t k = n < sizeof tmp / 2 ? n : sizeof tmp / 2;
		hex_encode(p, k, tmp);
		buf_append(j->out, tmp, 2 * k);
		p += k;
		n -= k;
	}
	buf_append_byte(j->out, '"');
}

void json_base64(struct json *j, const uint8_t *p, size_t n)
{
	before_value(j);
	buf_append_byte(j->out, '"');
	base64_encode(j->out, p, n);
	buf_append_byte(j->out, '"');
}

void json_raw(struct json *j, struct slice text)
{
	before_value(j);
	buf_append_slice(j->out, text);
}
