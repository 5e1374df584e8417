/* Hex and base64 for ids on the text APIs. */
#include "base/codec.h"

#include "base/err.h"

static const char hexdig[] = "0123456789abcdef";

void hex_encode(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexdig[p[i] >> 4];
		out[2 * i + 1] = hexdig[p[i] & 15];
	}
}

int hex_digit_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(struct slice s, uint8_t *out, size_t n)
{
	if (s.len != 2 * n)
		return CLEW_EPARSE;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit_value(s.p[2 * i]), lo = hex_digit_value(s.p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return CLEW_EPARSE;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(struct buf *b, const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		char t[4] = {b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63], b64[v & 63]};
		buf_append(b, t, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		char t[4] = {b64[v >> 18], b64[(v >> 12) & 63], '=', '='};
		buf_append(b, t, 4);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		char t[4] = {b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63], '='};
		buf_append(b, t, 4);
	}
}

static int b64val(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int base64_decode(struct slice s, uint8_t *out, size_t max, size_t *out_len)
{
	size_t len = s.len;
	while (len > 0 && s.p[len - 1] == '=')
		len--;
	if (s.len - len > 2 || len % 4 == 1)
		return CLEW_EPARSE;
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64val(s.p[i]);
		if (v < 0)
			return CLEW_EPARSE;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= max)
				return CLEW_EPARSE;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	*out_len = o;
	return 0;
}
