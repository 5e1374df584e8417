/* Small helpers for the read API handlers. */
#include "api/api_util.h"

#include <string.h>

#include "base/codec.h"
#include "base/json.h"

void api_error(struct http_response *resp, struct http_request *req, int status, const char *message)
{
	resp->body.len = 0;
	struct json j;
	json_init(&j, &resp->body);
	json_obj_begin(&j);
	json_key(&j, "error");
	json_obj_begin(&j);
	json_key(&j, "code");
	json_int(&j, status);
	json_key(&j, "message");
	json_cstr(&j, message);
	json_obj_end(&j);
	json_obj_end(&j);
	resp->status = status;
	http_response_header(resp, req, "Content-Type", SLICE_LIT("application/json"));
}

void api_ok(struct http_response *resp, struct http_request *req, const char *content_type)
{
	resp->status = 200;
	http_response_header(resp, req, "Content-Type", slice_cstr(content_type));
}

bool api_parse_trace_id(struct slice s, uint8_t out[16])
{
	if (s.len == 0 || s.len > 32)
		return false;
	memset(out, 0, 16);
	for (size_t i = 0; i < s.len; i++) {
		int v = hex_digit_value(s.p[s.len - 1 - i]);
		if (v < 0)
			return false;
		size_t byte = 15 - i / 2;
		out[byte] |= (uint8_t)(i % 2 ? v << 4 : v);
	}
	return true;
}

static struct slice percent_decode(struct arena *a, struct slice s)
{
	char *o = arena_alloc(a, s.len + 1);
	if (!o)
		return (struct slice){NULL, 0};
	size_t n = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '%' && i + 2 < s.len && hex_digit_value(s.p[i + 1]) >= 0 && hex_digit_value(s.p[i + 2]) >= 0) {
			o[n++] = (char)(hex_digit_value(s.p[i + 1]) << 4 | hex_digit_value(s.p[i + 2]));
			i += 2;
		} else if (s.p[i] == '+') {
			o[n++] = ' ';
		} else {
			o[n++] = (char)s.p[i];
		}
	}
	o[n] = 0;
	return slice_make(o, n);
}

bool api_query_param_next(struct http_request *req, const char *name, size_t *pos, struct slice *out)
{
	size_t nlen = strlen(name);
	if (!req->query.p || *pos >= req->query.len)
		return false;
	const uint8_t *p = req->query.p + *pos, *end = req->query.p + req->query.len;
	while (p < end) {
		const uint8_t *amp = memchr(p, '&', (size_t)(end - p));
		const uint8_t *stop = amp ? amp : end;
		const uint8_t *eq = memchr(p, '=', (size_t)(stop - p));
		const uint8_t *kend = eq ? eq : stop;
		if ((size_t)(kend - p) == nlen && memcmp(p, name, nlen) == 0) {
			struct slice raw = eq ? slice_make(eq + 1, (size_t)(stop - eq - 1)) : (struct slice){NULL, 0};
			*out = percent_decode(req->arena, raw);
			*pos = (size_t)(stop - req->query.p);
			return true;
		}
		p = amp ? amp + 1 : end;
	}
	*pos = req->query.len;
	return false;
}

bool api_query_param(struct http_request *req, const char *name, struct slice *out)
{
	size_t pos = 0;
	return api_query_param_next(req, name, &pos, out);
}

bool api_path_rest(struct slice path, const char *prefix, struct slice *rest)
{
	if (!slice_starts_with(path, prefix))
		return false;
	size_t n = strlen(prefix);
	*rest = slice_make(path.p + n, path.len - n);
	return true;
}

bool api_accepts_protobuf(const struct http_request *req)
{
	const struct slice *a = http_request_header(req, "accept");
	if (!a)
		return false;
	return memmem(a->p, a->len, "/protobuf", 9) || memmem(a->p, a->len, "/x-protobuf", 11);
}
