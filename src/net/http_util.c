/* Small HTTP helpers shared by the HTTP/1.1 and HTTP/2 paths and the
 * handlers: header lookup, response building, clew's JSON error bodies,
 * reason phrases, and the gRPC metadata encodings (percent, base64). */
#include <stdio.h>
#include <string.h>

#include "base/codec.h"
#include "base/metrics.h"
#include "net/net_int.h"

const struct slice *http_request_header(const struct http_request *req, const char *name)
{
	for (uint32_t i = 0; i < req->n_headers; i++)
		if (slice_eq_nocase(req->headers[i].name, name))
			return &req->headers[i].value;
	return NULL;
}

void http_response_header(struct http_response *resp, struct http_request *req, const char *name,
			  struct slice value)
{
	if (resp->n_headers >= HTTP_MAX_RESPONSE_HEADERS)
		return;
	size_t nlen = strlen(name);
	char *n = arena_memdup(req->arena, name, nlen ? nlen : 1);
	void *v = arena_memdup(req->arena, value.p ? (const void *)value.p : "", value.len ? value.len : 1);
	if (!n || !v)
		return;
	resp->headers[resp->n_headers].name = slice_make(n, nlen);
	resp->headers[resp->n_headers].value = slice_make(v, value.len);
	resp->n_headers++;
}

void http_response_text(struct http_response *resp, struct http_request *req, int status,
			const char *content_type, struct slice body)
{
	resp->status = status;
	if (content_type)
		http_response_header(resp, req, "Content-Type", slice_cstr(content_type));
	buf_clear(&resp->body);
	buf_append_slice(&resp->body, body);
}

void net_response_init(struct http_response *resp)
{
	resp->status = 200;
	resp->n_headers = 0;
	buf_clear(&resp->body);
	resp->body.max_bytes = NET_RESP_BODY_MAX;
	resp->grpc_status = 0;
	resp->grpc_message = slice_make("", 0);
	resp->grpc_status_details_bin = slice_make("", 0);
}

static void json_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			buf_printf(b, "\\u%04x", c);
		else
			buf_append_byte(b, c);
	}
}

void net_error_response(struct http_response *resp, struct http_request *req, int status, const char *msg)
{
	resp->status = status;
	resp->n_headers = 0;
	buf_clear(&resp->body);
	http_response_header(resp, req, "Content-Type", SLICE_LIT("application/json"));
	if (status == 503 || status == 429)
		http_response_header(resp, req, "Retry-After", SLICE_LIT("1"));
	buf_printf(&resp->body, "{\"error\":{\"code\":%d,\"message\":\"", status);
	json_escape(&resp->body, msg);
	buf_append_cstr(&resp->body, "\"}}");
}

const char *net_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

void net_grpc_percent_encode(struct buf *b, struct slice s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];
		if (c >= 0x20 && c <= 0x7e && c != '%') {
			buf_append_byte(b, c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_append(b, e, 3);
		}
	}
}

void net_base64_unpadded(struct buf *b, const uint8_t *p, size_t n)
{
	size_t start = b->len;
	base64_encode(b, p, n);
	while (!b->err && b->len > start && b->p[b->len - 1] == '=')
		b->len--;
}
