/* clew's HTTP/1.1 request parser: incremental (fed the bytes received so
 * far, it resumes where it stopped), strict (malformed requests get a 4xx
 * status to answer), zero-copy (results are offsets into the caller's
 * buffer). Chunked bodies are de-chunked in place, so the body is one
 * contiguous range of the receive buffer. Used by net/server.c. */
#ifndef CLEW_NET_HTTP1_H
#define CLEW_NET_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/http.h"

#define HTTP1_MAX_HEADERS 100
#define HTTP1_MAX_HEAD_BYTES (64 * 1024) /* request line + headers (+ trailers) */
#define HTTP1_MAX_METHOD 32
#define HTTP1_MAX_TARGET (8 * 1024)
#define HTTP1_MAX_CHUNK_LINE 1024

enum http1_result {
	HTTP1_ERROR = -1, /* p->status and p->error say what to answer */
	HTTP1_MORE = 0,	  /* need more bytes */
	HTTP1_DONE = 1,	  /* one whole request; p->end is where the next one starts */
};

struct http1_span {
	uint32_t off, len;
};

struct http1_hdr {
	struct http1_span name, value;
};

struct http1_parser {
	uint64_t max_body_bytes;
	int state;
	size_t pos;	   /* next unparsed byte */
	size_t scan;	   /* where the search for the next '\n' resumes */
	size_t line_start; /* start of the head line being scanned */
	bool line1_done;
	/* the head, once parsed */
	struct http1_span method, target;
	int minor; /* HTTP/1.<minor> */
	uint32_t n_headers;
	struct http1_hdr headers[HTTP1_MAX_HEADERS];
	bool head_done; /* request line and headers complete */
	bool chunked, has_length, keep_alive, expect_continue;
	uint64_t content_length;
	uint32_t n_host;
	size_t head_len; /* bytes from the buffer start to the body */
	/* the body: [head_len, head_len + body_len) once done */
	uint64_t body_len;
	uint64_t chunk_left;
	size_t trailer_bytes;
	size_t end; /* offset just past the request (HTTP1_DONE) */
	int status; /* HTTP1_ERROR: 400, 413, 414, 417, 431, 501, 505 */
	const char *error;
};

/* Prepare p for the first request of a connection. max_body_bytes caps the
 * (de-chunked) body; past it the parse fails with status 413. */
void http1_parser_init(struct http1_parser *p, uint64_t max_body_bytes);

/* Prepare p for the next request; the caller has moved the bytes after the
 * previous request to the start of its buffer. */
void http1_parser_reset(struct http1_parser *p);

/* Parse the request at the start of buf[0, *len). Call again with the same
 * buffer (possibly reallocated, with more bytes appended) after HTTP1_MORE.
 * Chunked bodies are compacted in place, so *len may shrink (in/out).
 * Returns an enum http1_result. */
int http1_parse(struct http1_parser *p, uint8_t *buf, size_t *len);

/* After HTTP1_DONE: fill req (method, path, query, headers, body) with
 * slices into buf. hdrs has room for HTTP1_MAX_HEADERS entries. */
void http1_fill_request(const struct http1_parser *p, const uint8_t *buf, struct http_request *req,
			struct http_header *hdrs);

#endif
