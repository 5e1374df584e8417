/* Unit tests of the HTTP/1.1 request parser: valid requests whole and byte
 * by byte, chunked bodies, pipelining, limits, and malformed input. */
#include "../../testlib.h"

#include <stdio.h>
#include <stdlib.h>

#include "net/http1.h"

struct parsed {
	int rc;
	int status;
	uint8_t buf[200000];
	size_t len;
	struct http1_parser p;
	struct http_request req;
	struct http_header hdrs[HTTP1_MAX_HEADERS];
};

/* Feed text in pieces of at most step bytes (0 = all at once). */
static struct parsed *parse(const char *text, size_t n, size_t step, uint64_t max_body)
{
	struct parsed *r = calloc(1, sizeof *r);
	http1_parser_init(&r->p, max_body);
	size_t fed = 0;
	r->rc = HTTP1_MORE;
	while (fed < n && r->rc == HTTP1_MORE) {
		size_t k = step && n - fed > step ? step : n - fed;
		memcpy(r->buf + r->len, text + fed, k);
		r->len += k;
		fed += k;
		r->rc = http1_parse(&r->p, r->buf, &r->len);
	}
	r->status = r->p.status;
	if (r->rc == HTTP1_DONE)
		http1_fill_request(&r->p, r->buf, &r->req, r->hdrs);
	return r;
}

static struct parsed *parse_s(const char *text, size_t step)
{
	return parse(text, strlen(text), step, 1 << 20);
}

/* The status a whole input fails with (0 if it parses, -1 if incomplete). */
static int status_of(const char *text)
{
	struct parsed *r = parse_s(text, 0);
	int s = r->rc == HTTP1_ERROR ? r->status : r->rc == HTTP1_DONE ? 0 : -1;
	/* byte by byte must agree */
	struct parsed *r1 = parse_s(text, 1);
	int s1 = r1->rc == HTTP1_ERROR ? r1->status : r1->rc == HTTP1_DONE ? 0 : -1;
	free(r1);
	free(r);
	return s == s1 ? s : 9999;
}

TEST(http1_simple_get)
{
	for (size_t step = 0; step <= 3; step++) {
		struct parsed *r = parse_s("GET /api/search?q=%7B%7D&limit=20 HTTP/1.1\r\nHost: x\r\n"
					   "User-Agent: t\r\nAccept:  */*  \r\n\r\n",
					   step);
		CHECK_INT(r->rc, ==, HTTP1_DONE);
		CHECK_SLICE(r->req.method, "GET");
		CHECK_SLICE(r->req.path, "/api/search");
		CHECK_SLICE(r->req.query, "q=%7B%7D&limit=20");
		CHECK_INT(r->req.n_headers, ==, 3);
		CHECK_SLICE(r->req.headers[2].name, "Accept");
		CHECK_SLICE(r->req.headers[2].value, "*/*");
		CHECK_SLICE(*http_request_header(&r->req, "user-agent"), "t");
		CHECK(http_request_header(&r->req, "cookie") == NULL);
		CHECK_INT(r->req.body.len, ==, 0);
		CHECK(r->p.keep_alive);
		CHECK_INT(r->p.end, ==, r->len);
		free(r);
	}
}

TEST(http1_content_length_body)
{
	const char *t = "POST /v1/traces HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello worldGET";
	for (size_t step = 0; step <= 2; step++) {
		struct parsed *r = parse_s(t, step);
		CHECK_INT(r->rc, ==, HTTP1_DONE);
		CHECK_SLICE(r->req.body, "hello world");
		/* the pipelined bytes stay after p.end (when fed at once) */
		if (step == 0)
			CHECK_INT(r->len - r->p.end, ==, 3);
		free(r);
	}
}

TEST(http1_chunked_body_dechunked_in_place)
{
	const char *t = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
			"5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: v\r\n\r\nNEXT";
	for (size_t step = 0; step <= 7; step++) {
		struct parsed *r = parse_s(t, step);
		CHECK_INT(r->rc, ==, HTTP1_DONE);
		CHECK(r->p.chunked);
		CHECK_SLICE(r->req.body, "hello 0123456789");
		if (step == 0) {
			CHECK_INT(r->len - r->p.end, ==, 4);
			CHECK(memcmp(r->buf + r->p.end, "NEXT", 4) == 0);
		}
		free(r);
	}
}

TEST(http1_pipelined_requests)
{
	const char *t = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	struct parsed *r = parse_s(t, 0);
	CHECK_INT(r->rc, ==, HTTP1_DONE);
	CHECK_SLICE(r->req.path, "/a");
	size_t left = r->len - r->p.end;
	memmove(r->buf, r->buf + r->p.end, left);
	r->len = left;
	http1_parser_reset(&r->p);
	CHECK_INT(http1_parse(&r->p, r->buf, &r->len), ==, HTTP1_DONE);
	http1_fill_request(&r->p, r->buf, &r->req, r->hdrs);
	CHECK_SLICE(r->req.path, "/b");
	CHECK(!r->p.keep_alive);
	free(r);
}

TEST(http1_keep_alive_rules)
{
	struct parsed *r = parse_s("GET / HTTP/1.0\r\n\r\n", 0);
	CHECK_INT(r->rc, ==, HTTP1_DONE);
	CHECK(!r->p.keep_alive);
	free(r);
	r = parse_s("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0);
	CHECK(r->p.keep_alive);
	free(r);
	r = parse_s("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n", 0);
	CHECK(!r->p.keep_alive);
	free(r);
}

TEST(http1_expect_continue_and_leading_crlf)
{
	struct parsed *r = parse_s("\r\n\r\nPOST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
				   0);
	CHECK_INT(r->rc, ==, HTTP1_MORE);
	CHECK(r->p.head_done);
	CHECK(r->p.expect_continue);
	free(r);
	CHECK_INT(status_of("POST / HTTP/1.1\r\nHost: h\r\nExpect: fancy\r\nContent-Length: 3\r\n\r\n"), ==, 417);
}

TEST(http1_absolute_form_and_asterisk)
{
	struct parsed *r = parse_s("GET http://example.com:80/p/q?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	CHECK_INT(r->rc, ==, HTTP1_DONE);
	CHECK_SLICE(r->req.path, "/p/q");
	CHECK_SLICE(r->req.query, "x=1");
	free(r);
	r = parse_s("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 0);
	CHECK_SLICE(r->req.path, "*");
	free(r);
}

TEST(http1_malformed_is_400)
{
	const char *bad[] = {
		"GARBAGE\r\n\r\n",
		"GET /\r\n\r\n",
		"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
		"GET / http/1.1\r\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\nHost: h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\n\r\n",
		"GET / HTTP/1.1\r\nHost : h\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\n: novalue\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\rX\r\n\r\n",
		"GET / HTTP/1.1\r\n\r\n", /* no Host */
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET noslash HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n",
		"G\x7f T / HTTP/1.1\r\nHost: h\r\n\r\n",
		"\x00\x01\x02\x03",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n = i == 17 ? 4 : strlen(bad[i]);
		struct parsed *r = parse(bad[i], n, 0, 1 << 20);
		if (r->rc != HTTP1_ERROR || r->status != 400)
			test_fail(__FILE__, __LINE__, "case %zu: rc %d status %d", i, r->rc, r->status);
		free(r);
		r = parse(bad[i], n, 1, 1 << 20);
		if (r->rc != HTTP1_ERROR || r->status != 400)
			test_fail(__FILE__, __LINE__, "case %zu bytewise: rc %d status %d", i, r->rc, r->status);
		free(r);
	}
}

TEST(http1_other_statuses)
{
	CHECK_INT(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), ==, 505);
	CHECK_INT(status_of("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), ==, 505);
	CHECK_INT(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), ==, 501);
	CHECK_INT(status_of("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), ==, 0);
	CHECK_INT(status_of("GET / HTTP/1.1\r\nHost: h\r\n"), ==, -1);
}

TEST(http1_body_limits_413)
{
	struct parsed *r = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n", 49, 0, 100);
	CHECK_INT(r->rc, ==, HTTP1_ERROR);
	CHECK_INT(r->status, ==, 413);
	free(r);
	r = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n", 49, 0, 100);
	CHECK_INT(r->rc, ==, HTTP1_MORE);
	free(r);
	const char *ch = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "3\r\nabc\r\n3\r\nabc\r\n0\r\n\r\n";
	r = parse(ch, strlen(ch), 0, 5);
	CHECK_INT(r->rc, ==, HTTP1_ERROR);
	CHECK_INT(r->status, ==, 413);
	free(r);
	r = parse(ch, strlen(ch), 0, 6);
	CHECK_INT(r->rc, ==, HTTP1_DONE);
	CHECK_SLICE(r->req.body, "abcabc");
	free(r);
	const char *huge = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n";
	CHECK_INT(status_of(huge), ==, 413);
}

TEST(http1_header_limits)
{
	/* 101 headers -> 431 */
	static char t[100000];
	size_t n = (size_t)snprintf(t, sizeof t, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(t + n, sizeof t - n, "X-%d: v\r\n", i);
	snprintf(t + n, sizeof t - n, "\r\n");
	CHECK_INT(status_of(t), ==, 431);
	/* exactly 100 is fine */
	n = (size_t)snprintf(t, sizeof t, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 99; i++)
		n += (size_t)snprintf(t + n, sizeof t - n, "X-%d: v\r\n", i);
	snprintf(t + n, sizeof t - n, "\r\n");
	CHECK_INT(status_of(t), ==, 0);
	/* one 70 KB header -> 431 */
	n = (size_t)snprintf(t, sizeof t, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	memset(t + n, 'a', 70000);
	t[n + 70000] = 0;
	struct parsed *r = parse_s(t, 0);
	CHECK_INT(r->rc, ==, HTTP1_ERROR);
	CHECK_INT(r->status, ==, 431);
	free(r);
	/* a 9 KB target -> 414 */
	n = (size_t)snprintf(t, sizeof t, "GET /");
	memset(t + n, 'a', 9000);
	snprintf(t + n + 9000, sizeof t - n - 9000, " HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_INT(status_of(t), ==, 414);
	/* and without its end yet */
	t[n + 9000] = 0;
	r = parse_s(t, 0);
	CHECK_INT(r->rc, ==, HTTP1_ERROR);
	CHECK_INT(r->status, ==, 414);
	free(r);
}

TEST(http1_random_split_agrees)
{
	const char *t = "POST /v1/traces?x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
			"Content-Type: application/x-protobuf\r\n\r\n"
			"10\r\n0123456789abcdef\r\n2\r\nXY\r\n0\r\n\r\n";
	srand(7);
	for (int iter = 0; iter < 200; iter++) {
		struct parsed *r = parse_s(t, (size_t)(rand() % 13) + 1);
		CHECK_INT(r->rc, ==, HTTP1_DONE);
		CHECK_SLICE(r->req.body, "0123456789abcdefXY");
		CHECK_SLICE(r->req.query, "x");
		free(r);
	}
}
