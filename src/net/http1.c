/* The HTTP/1.1 request parser (RFC 9112), strict on purpose: bare LF, obs-fold,
 * control bytes, whitespace before ':', bad Content-Length, Content-Length
 * with Transfer-Encoding, a missing Host on HTTP/1.1 are all 400. The head is
 * scanned line by line as bytes arrive, so a slow client costs O(bytes);
 * chunk data is moved down over the chunk framing as it arrives, leaving the
 * body contiguous right after the head. */
#include "net/http1.h"

#include <string.h>

enum {
	ST_HEAD,
	ST_BODY_LENGTH,
	ST_CHUNK_SIZE,
	ST_CHUNK_DATA,
	ST_CHUNK_CRLF,
	ST_TRAILER,
	ST_DONE,
	ST_ERROR,
};

static int fail(struct http1_parser *p, int status, const char *msg)
{
	p->state = ST_ERROR;
	p->status = status;
	p->error = msg;
	return HTTP1_ERROR;
}

void http1_parser_init(struct http1_parser *p, uint64_t max_body_bytes)
{
	p->max_body_bytes = max_body_bytes;
	http1_parser_reset(p);
}

void http1_parser_reset(struct http1_parser *p)
{
	uint64_t max = p->max_body_bytes;
	/* headers[] is not cleared: n_headers says how many are valid */
	memset(p, 0, offsetof(struct http1_parser, headers));
	memset(&p->head_done, 0, sizeof *p - offsetof(struct http1_parser, head_done));
	p->max_body_bytes = max;
	p->state = ST_HEAD;
	p->keep_alive = true;
}

static bool is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool span_eq_nocase(const uint8_t *buf, struct http1_span s, const char *lit)
{
	return slice_eq_nocase(slice_make(buf + s.off, s.len), lit);
}

static struct http1_span trim(const uint8_t *buf, size_t a, size_t b)
{
	while (a < b && (buf[a] == ' ' || buf[a] == '\t'))
		a++;
	while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t'))
		b--;
	return (struct http1_span){(uint32_t)a, (uint32_t)(b - a)};
}

/* The request line [a, b) (without CRLF). */
static int parse_request_line(struct http1_parser *p, const uint8_t *buf, size_t a, size_t b)
{
	size_t i = a;
	while (i < b && is_tchar(buf[i]))
		i++;
	if (i == a || i >= b || buf[i] != ' ')
		return fail(p, 400, "malformed request line");
	if (i - a > HTTP1_MAX_METHOD)
		return fail(p, 400, "method too long");
	p->method = (struct http1_span){(uint32_t)a, (uint32_t)(i - a)};
	size_t t = ++i;
	while (i < b && buf[i] > 0x20 && buf[i] < 0x7f && buf[i] != '#')
		i++;
	if (i - t > HTTP1_MAX_TARGET)
		return fail(p, 414, "request target too long");
	if (i == t || i >= b || buf[i] != ' ')
		return fail(p, 400, "malformed request target");
	if (buf[t] != '/' && !(i - t == 1 && buf[t] == '*') && !(i - t > 7 && memcmp(buf + t, "http", 4) == 0))
		return fail(p, 400, "malformed request target");
	p->target = (struct http1_span){(uint32_t)t, (uint32_t)(i - t)};
	i++;
	if (b - i != 8 || memcmp(buf + i, "HTTP/", 5) != 0)
		return fail(p, 400, "malformed HTTP version");
	uint8_t major = buf[i + 5], dot = buf[i + 6], minor = buf[i + 7];
	if (major < '0' || major > '9' || dot != '.' || minor < '0' || minor > '9')
		return fail(p, 400, "malformed HTTP version");
	if (major != '1' || minor > '1')
		return fail(p, 505, "HTTP version not supported");
	p->minor = minor - '0';
	p->keep_alive = p->minor == 1;
	return 0;
}

static int parse_header_line(struct http1_parser *p, const uint8_t *buf, size_t a, size_t b, bool record)
{
	if (buf[a] == ' ' || buf[a] == '\t')
		return fail(p, 400, "obsolete header line folding");
	size_t i = a;
	while (i < b && is_tchar(buf[i]))
		i++;
	if (i == a || i >= b || buf[i] != ':')
		return fail(p, 400, "malformed header line");
	if (!record)
		return 0;
	if (p->n_headers >= HTTP1_MAX_HEADERS)
		return fail(p, 431, "too many header fields");
	struct http1_hdr *h = &p->headers[p->n_headers++];
	h->name = (struct http1_span){(uint32_t)a, (uint32_t)(i - a)};
	h->value = trim(buf, i + 1, b);
	return 0;
}

static int parse_content_length(struct http1_parser *p, const uint8_t *buf, struct http1_span v)
{
	if (v.len == 0 || v.len > 18)
		return fail(p, 400, "bad Content-Length");
	uint64_t n = 0;
	for (uint32_t k = 0; k < v.len; k++) {
		uint8_t c = buf[v.off + k];
		if (c < '0' || c > '9')
			return fail(p, 400, "bad Content-Length");
		n = n * 10 + (uint64_t)(c - '0');
	}
	if (p->has_length && n != p->content_length)
		return fail(p, 400, "conflicting Content-Length headers");
	p->has_length = true;
	p->content_length = n;
	return 0;
}

/* Apply Connection: a comma-separated token list. */
static void parse_connection(struct http1_parser *p, const uint8_t *buf, struct http1_span v)
{
	size_t a = v.off, end = (size_t)v.off + v.len;
	while (a < end) {
		size_t b = a;
		while (b < end && buf[b] != ',')
			b++;
		struct http1_span tok = trim(buf, a, b);
		if (span_eq_nocase(buf, tok, "close"))
			p->keep_alive = false;
		else if (span_eq_nocase(buf, tok, "keep-alive") && p->minor == 0)
			p->keep_alive = true;
		a = b + 1;
	}
}

/* The head is complete: the headers that frame the body. */
static int finish_head(struct http1_parser *p, const uint8_t *buf)
{
	bool te = false;
	bool close = false;
	for (uint32_t i = 0; i < p->n_headers; i++) {
		struct http1_hdr *h = &p->headers[i];
		if (span_eq_nocase(buf, h->name, "content-length")) {
			if (parse_content_length(p, buf, h->value) < 0)
				return HTTP1_ERROR;
		} else if (span_eq_nocase(buf, h->name, "transfer-encoding")) {
			if (te || !span_eq_nocase(buf, h->value, "chunked"))
				return fail(p, 501, "transfer coding not supported");
			te = true;
		} else if (span_eq_nocase(buf, h->name, "host")) {
			p->n_host++;
		} else if (span_eq_nocase(buf, h->name, "connection")) {
			parse_connection(p, buf, h->value);
			close |= !p->keep_alive;
		} else if (span_eq_nocase(buf, h->name, "expect") && p->minor == 1) {
			if (!span_eq_nocase(buf, h->value, "100-continue"))
				return fail(p, 417, "unsupported expectation");
			p->expect_continue = true;
		}
	}
	if (close)
		p->keep_alive = false;
	if (p->minor == 1 && p->n_host != 1)
		return fail(p, 400, "HTTP/1.1 request needs exactly one Host header");
	if (te && (p->has_length || p->minor == 0))
		return fail(p, 400, "Transfer-Encoding with Content-Length or on HTTP/1.0");
	if (p->has_length && p->content_length > p->max_body_bytes)
		return fail(p, 413, "request body too large");
	p->chunked = te;
	p->head_done = true;
	p->head_len = p->pos;
	if (te) {
		p->state = ST_CHUNK_SIZE;
	} else if (p->has_length && p->content_length > 0) {
		p->state = ST_BODY_LENGTH;
	} else {
		p->expect_continue = false; /* no body to wait for */
		p->state = ST_DONE;
	}
	return 0;
}

static int parse_head(struct http1_parser *p, const uint8_t *buf, size_t len)
{
	size_t i = p->scan;
	for (; i < len; i++) {
		uint8_t c = buf[i];
		if (c != '\n') {
			if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
				return fail(p, 400, "control character in request head");
			if (i > p->line_start && buf[i - 1] == '\r')
				return fail(p, 400, "CR not followed by LF");
			continue;
		}
		if (i == p->line_start || buf[i - 1] != '\r')
			return fail(p, 400, "bare LF in request head");
		size_t a = p->line_start, b = i - 1;
		p->line_start = i + 1;
		if (!p->line1_done) {
			if (a == b) /* empty lines before a request are ignored */
				continue;
			if (parse_request_line(p, buf, a, b) < 0)
				return HTTP1_ERROR;
			p->line1_done = true;
			continue;
		}
		if (a == b) {
			p->pos = p->scan = i + 1;
			return finish_head(p, buf);
		}
		if (parse_header_line(p, buf, a, b, true) < 0)
			return HTTP1_ERROR;
	}
	p->scan = i;
	if (len > HTTP1_MAX_HEAD_BYTES) {
		if (!p->line1_done && len - p->line_start > HTTP1_MAX_TARGET + 64)
			return fail(p, 414, "request line too long");
		return fail(p, 431, "request head too large");
	}
	if (!p->line1_done && p->scan - p->line_start > HTTP1_MAX_TARGET + 64)
		return fail(p, 414, "request line too long");
	return HTTP1_MORE;
}

/* A chunk-size line [pos, nl): hex size, optional extensions, CR. */
static int parse_chunk_size(struct http1_parser *p, const uint8_t *buf, size_t nl)
{
	size_t i = p->pos;
	uint64_t n = 0;
	int digits = 0;
	for (; i < nl; i++) {
		uint8_t c = buf[i], d;
		if (c >= '0' && c <= '9')
			d = (uint8_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (uint8_t)((c | 0x20) - 'a' + 10);
		else
			break;
		if (++digits > 15)
			return fail(p, 413, "chunk too large");
		n = n * 16 + d;
	}
	if (digits == 0 || nl == p->pos || buf[nl - 1] != '\r')
		return fail(p, 400, "malformed chunk size");
	while (i < nl - 1 && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	if (i < nl - 1 && buf[i] != ';')
		return fail(p, 400, "malformed chunk size");
	for (; i < nl - 1; i++)
		if ((buf[i] < 0x20 && buf[i] != '\t') || buf[i] == 0x7f)
			return fail(p, 400, "malformed chunk extension");
	if (n > p->max_body_bytes - p->body_len)
		return fail(p, 413, "request body too large");
	p->chunk_left = n;
	p->pos = p->scan = nl + 1;
	p->line_start = p->pos;
	p->state = n ? ST_CHUNK_DATA : ST_TRAILER;
	return 0;
}

/* Scan trailer lines (validated, then dropped) until the empty line. */
static int parse_trailers(struct http1_parser *p, const uint8_t *buf, size_t len)
{
	for (size_t i = p->scan; i < len; i++) {
		uint8_t c = buf[i];
		if (c != '\n') {
			if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
				return fail(p, 400, "control character in trailer");
			continue;
		}
		if (i == p->pos || buf[i - 1] != '\r')
			return fail(p, 400, "bare LF in trailer");
		size_t a = p->pos, b = i - 1;
		p->trailer_bytes += i + 1 - a;
		p->pos = p->scan = i + 1;
		if (a == b) {
			p->state = ST_DONE;
			return 0;
		}
		if (parse_header_line(p, buf, a, b, false) < 0)
			return HTTP1_ERROR;
		if (p->head_len + p->trailer_bytes > HTTP1_MAX_HEAD_BYTES)
			return fail(p, 431, "trailers too large");
	}
	p->scan = len;
	if (p->head_len + p->trailer_bytes + (len - p->pos) > HTTP1_MAX_HEAD_BYTES)
		return fail(p, 431, "trailers too large");
	return HTTP1_MORE;
}

/* Move the unparsed bytes [pos, len) down to the end of the body so far. */
static void compact(struct http1_parser *p, uint8_t *buf, size_t *len)
{
	size_t dst = p->head_len + (size_t)p->body_len;
	if (dst == p->pos)
		return;
	size_t n = *len - p->pos;
	memmove(buf + dst, buf + p->pos, n);
	size_t delta = p->pos - dst;
	p->scan -= delta;
	p->pos = dst;
	p->line_start = dst;
	*len -= delta;
}

static int parse_body(struct http1_parser *p, uint8_t *buf, size_t *len)
{
	for (;;) {
		switch (p->state) {
		case ST_BODY_LENGTH:
			if (*len - p->head_len < p->content_length)
				return HTTP1_MORE;
			p->body_len = p->content_length;
			p->pos = p->head_len + (size_t)p->content_length;
			p->state = ST_DONE;
			break;
		case ST_CHUNK_SIZE: {
			const uint8_t *nl = memchr(buf + p->scan, '\n', *len - p->scan);
			if (!nl) {
				p->scan = *len;
				if (*len - p->pos > HTTP1_MAX_CHUNK_LINE)
					return fail(p, 400, "chunk size line too long");
				compact(p, buf, len);
				return HTTP1_MORE;
			}
			if ((size_t)(nl - buf) - p->pos > HTTP1_MAX_CHUNK_LINE)
				return fail(p, 400, "chunk size line too long");
			if (parse_chunk_size(p, buf, (size_t)(nl - buf)) < 0)
				return HTTP1_ERROR;
			break;
		}
		case ST_CHUNK_DATA: {
			size_t avail = *len - p->pos;
			size_t n = p->chunk_left < avail ? (size_t)p->chunk_left : avail;
			size_t dst = p->head_len + (size_t)p->body_len;
			if (dst != p->pos)
				memmove(buf + dst, buf + p->pos, n);
			p->body_len += n;
			p->chunk_left -= n;
			p->pos += n;
			if (p->chunk_left) {
				compact(p, buf, len);
				return HTTP1_MORE;
			}
			p->state = ST_CHUNK_CRLF;
			break;
		}
		case ST_CHUNK_CRLF:
			if (*len - p->pos < 2) {
				if (*len > p->pos && buf[p->pos] != '\r')
					return fail(p, 400, "chunk data not followed by CRLF");
				compact(p, buf, len);
				return HTTP1_MORE;
			}
			if (buf[p->pos] != '\r' || buf[p->pos + 1] != '\n')
				return fail(p, 400, "chunk data not followed by CRLF");
			p->pos += 2;
			p->scan = p->line_start = p->pos;
			p->state = ST_CHUNK_SIZE;
			break;
		case ST_TRAILER: {
			int rc = parse_trailers(p, buf, *len);
			if (rc < 0)
				return rc;
			if (p->state != ST_DONE) {
				compact(p, buf, len);
				return HTTP1_MORE;
			}
			break;
		}
		case ST_DONE:
			if (p->chunked)
				compact(p, buf, len);
			p->end = p->head_len + (size_t)p->body_len;
			if (p->chunked)
				p->pos = p->end;
			return HTTP1_DONE;
		default:
			return fail(p, 400, "parser state");
		}
	}
}

int http1_parse(struct http1_parser *p, uint8_t *buf, size_t *len)
{
	if (p->state == ST_ERROR)
		return HTTP1_ERROR;
	if (p->state == ST_HEAD) {
		int rc = parse_head(p, buf, *len);
		if (rc < 0 || p->state == ST_HEAD)
			return rc;
	}
	return parse_body(p, buf, len);
}

void http1_fill_request(const struct http1_parser *p, const uint8_t *buf, struct http_request *req,
			struct http_header *hdrs)
{
	req->proto = HTTP_PROTO_1;
	req->method = slice_make(buf + p->method.off, p->method.len);
	struct slice t = slice_make(buf + p->target.off, p->target.len);
	if (t.len && t.p[0] != '/' && t.p[0] != '*') {
		/* absolute-form: drop scheme://authority */
		const uint8_t *s = memchr(t.p, '/', t.len);
		if (s && (size_t)(s - t.p) + 1 < t.len && s[1] == '/') {
			const uint8_t *path = memchr(s + 2, '/', t.len - (size_t)(s + 2 - t.p));
			t = path ? slice_make(path, t.len - (size_t)(path - t.p)) : SLICE_LIT("/");
		}
	}
	const uint8_t *q = memchr(t.p, '?', t.len);
	if (q) {
		req->path = slice_make(t.p, (size_t)(q - t.p));
		req->query = slice_make(q + 1, t.len - (size_t)(q - t.p) - 1);
	} else {
		req->path = t;
		req->query = slice_make(t.p + t.len, 0);
	}
	for (uint32_t i = 0; i < p->n_headers; i++) {
		hdrs[i].name = slice_make(buf + p->headers[i].name.off, p->headers[i].name.len);
		hdrs[i].value = slice_make(buf + p->headers[i].value.off, p->headers[i].value.len);
	}
	req->headers = hdrs;
	req->n_headers = p->n_headers;
	req->body = slice_make(buf + p->head_len, (size_t)p->body_len);
	req->grpc_compressed = false;
}
