/* Tests of the HTTP server with real sockets on 127.0.0.1: keep-alive,
 * pipelining, chunked bodies, limits (413, 400, 408, 431, budget 503,
 * max_connections), slow and half-closed clients, idle timeout, graceful
 * stop, HTTP/2 + gRPC unary through nghttp2's client API, and many sequential
 * and concurrent streams on one HTTP/2 connection through libcurl. */
#include "../../testlib.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/budget.h"
#include "base/err.h"
#include "base/metrics.h"
#include "net/http.h"

/* ---- the test handler ---- */

#define BIG_BYTES (3u << 20)

static void test_handler(void *ctx, struct http_request *req, struct http_response *resp)
{
	if (slice_eq_cstr(req->path, "/sleep")) {
		usleep(300 * 1000);
		http_response_text(resp, req, 200, "text/plain", SLICE_LIT("slept"));
		return;
	}
	if (slice_eq_cstr(req->path, "/big")) { /* 3 MiB, more than socket buffers hold */
		for (size_t i = 0; i < BIG_BYTES; i++)
			buf_append_byte(&resp->body, (uint8_t)('a' + i % 26));
		return;
	}
	if (req->proto == HTTP_PROTO_GRPC) {
		const struct slice *want = http_request_header(req, "x-want-status");
		if (want) {
			resp->grpc_status = 5;
			resp->grpc_message = SLICE_LIT("not found: caf\xc3\xa9 100%");
			resp->grpc_status_details_bin = SLICE_LIT("\x08\x05\xff");
			return;
		}
		if (req->grpc_compressed)
			http_response_header(resp, req, "grpc-encoding", SLICE_LIT("gzip"));
		buf_append_slice(&resp->body, req->body);
		return;
	}
	resp->status = 200;
	http_response_header(resp, req, "Content-Type", SLICE_LIT("text/plain"));
	buf_append_slice(&resp->body, req->method);
	buf_append_byte(&resp->body, ' ');
	buf_append_slice(&resp->body, req->path);
	buf_append_byte(&resp->body, ' ');
	buf_append_slice(&resp->body, req->body);
}

struct srv {
	struct http_server *s;
	int port;
};

static int srv_start(struct srv *t, const struct http_server_config *cfg, uint64_t max_body)
{
	t->s = http_server_new(cfg);
	struct http_listener_config l = {.name = "test", .addr = "127.0.0.1:0", .handler = test_handler,
					 .max_body_bytes = max_body};
	char err[256];
	int idx = http_server_listen(t->s, &l, err, sizeof err);
	if (idx < 0)
		return idx;
	t->port = http_server_port(t->s, idx);
	return http_server_start(t->s);
}

static void srv_stop(struct srv *t)
{
	http_server_stop(t->s, 2000);
	http_server_free(t->s);
}

/* ---- a plain-socket client ---- */

struct client {
	int fd;
	char buf[1 << 20];
	size_t len;
};

static struct client *cl_connect(int port)
{
	struct client *c = calloc(1, sizeof *c);
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(c->fd);
		free(c);
		return NULL;
	}
	return c;
}

static void cl_close(struct client *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c);
}

static void cl_send(struct client *c, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t k = send(c->fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

static void cl_send_str(struct client *c, const char *s)
{
	cl_send(c, s, strlen(s));
}

/* Read more bytes: >0 read, 0 EOF, -1 error or timeout. */
static int cl_fill(struct client *c, int timeout_ms)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len - 1, 0);
	if (n < 0)
		return -1;
	c->len += (size_t)n;
	c->buf[c->len] = 0;
	return n > 0 ? 1 : 0;
}

struct resp {
	int status;
	char head[4096];
	char body[65536];
	size_t body_len;
};

/* Read one response (Content-Length framed). 0 or -1. */
static int cl_response(struct client *c, struct resp *r)
{
	memset(r, 0, sizeof *r);
	char *end;
	while (!(end = strstr(c->buf, "\r\n\r\n")))
		if (cl_fill(c, 5000) <= 0)
			return -1;
	size_t head_len = (size_t)(end - c->buf) + 4;
	if (head_len >= sizeof r->head)
		return -1;
	memcpy(r->head, c->buf, head_len);
	r->status = (int)strtol(c->buf + 9, NULL, 10);
	size_t clen = 0;
	const char *cl = strstr(r->head, "Content-Length: ");
	if (cl)
		clen = (size_t)strtoul(cl + 16, NULL, 10);
	while (c->len < head_len + clen)
		if (cl_fill(c, 5000) <= 0)
			return -1;
	if (clen >= sizeof r->body)
		return -1;
	memcpy(r->body, c->buf + head_len, clen);
	r->body_len = clen;
	memmove(c->buf, c->buf + head_len + clen, c->len - head_len - clen);
	c->len -= head_len + clen;
	c->buf[c->len] = 0;
	return 0;
}

/* True if the server closes the connection within timeout_ms (after any
 * unread bytes). */
static bool cl_sees_eof(struct client *c, int timeout_ms)
{
	for (;;) {
		int r = cl_fill(c, timeout_ms);
		if (r == 0)
			return true;
		if (r < 0)
			return errno == ECONNRESET;
	}
}

static const struct http_server_config small_cfg = {.io_threads = 2, .idle_timeout_ms = 5000,
						    .request_timeout_ms = 5000};

TEST(server_keep_alive_and_counts)
{
	struct srv t;
	CHECK_INT(srv_start(&t, &small_cfg, 1 << 20), ==, 0);
	struct client *c = cl_connect(t.port);
	CHECK(c);
	struct resp r;
	for (int i = 0; i < 3; i++) {
		cl_send_str(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
		CHECK_INT(cl_response(c, &r), ==, 0);
		CHECK_INT(r.status, ==, 200);
		CHECK_STR(r.body, "POST /echo hello");
		CHECK(strstr(r.head, "Content-Type: text/plain\r\n"));
		CHECK(!strstr(r.head, "Connection: close"));
	}
	uint64_t conns, reqs;
	http_server_counts(t.s, &conns, &reqs);
	CHECK_INT(conns, ==, 1);
	CHECK_INT(reqs, ==, 3);
	cl_send_str(c, "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK(strstr(r.head, "Connection: close\r\n"));
	CHECK(cl_sees_eof(c, 2000));
	cl_close(c);
	/* HTTP/1.0 without keep-alive closes too; HEAD has no body */
	c = cl_connect(t.port);
	cl_send_str(c, "HEAD /h HTTP/1.0\r\n\r\n");
	CHECK_INT(cl_response(c, &r), ==, -1); /* Content-Length says 8, no body follows */
	CHECK(strstr(c->buf, "HTTP/1.1 200 OK\r\n"));
	CHECK(strstr(c->buf, "Content-Length: 8\r\n"));
	cl_close(c);
	srv_stop(&t);
}

TEST(server_big_response_to_slow_reader)
{
	struct srv t;
	CHECK_INT(srv_start(&t, &small_cfg, 1 << 20), ==, 0);
	struct client *c = cl_connect(t.port);
	int small = 4096;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	cl_send_str(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
	usleep(100 * 1000); /* the server fills the socket and waits for EPOLLOUT */
	char *e;
	while (!(e = strstr(c->buf, "\r\n\r\n")))
		CHECK_INT(cl_fill(c, 5000), >, 0);
	CHECK(strstr(c->buf, "Content-Length: 3145728\r\n"));
	size_t head = (size_t)(e - c->buf) + 4, got = 0;
	bool ok = true;
	memmove(c->buf, c->buf + head, c->len - head);
	c->len -= head;
	for (;;) {
		size_t k = c->len < BIG_BYTES - got ? c->len : BIG_BYTES - got;
		for (size_t i = 0; i < k; i++)
			ok &= (size_t)c->buf[i] == 'a' + (got + i) % 26;
		got += k;
		memmove(c->buf, c->buf + k, c->len - k);
		c->len -= k;
		c->buf[c->len] = 0;
		if (got == BIG_BYTES || cl_fill(c, 5000) <= 0)
			break;
	}
	CHECK_INT(got, ==, BIG_BYTES);
	CHECK(ok);
	struct resp r;
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_STR(r.body, "GET /after ");
	cl_close(c);
	srv_stop(&t);
}

TEST(server_pipelining_and_chunked)
{
	struct srv t;
	CHECK_INT(srv_start(&t, &small_cfg, 1 << 20), ==, 0);
	struct client *c = cl_connect(t.port);
	cl_send_str(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
		       "POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n"
		       "GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
	struct resp r;
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_STR(r.body, "GET /a ");
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_STR(r.body, "POST /b wikipedia");
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_STR(r.body, "GET /c ");
	cl_close(c);
	srv_stop(&t);
}

TEST(server_rejects_oversize_and_garbage)
{
	struct srv t;
	CHECK_INT(srv_start(&t, &small_cfg, 1000), ==, 0);
	double before = metric_value(metric_counter("clew_http_rejected_total", "", "reason=\"size\""));
	/* 413 before the body is sent, then the connection closes */
	struct client *c = cl_connect(t.port);
	cl_send_str(c, "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
	static char chunk[1000];
	memset(chunk, 'z', sizeof chunk);
	cl_send(c, chunk, sizeof chunk);
	struct resp r;
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_INT(r.status, ==, 413);
	CHECK(strstr(r.head, "Connection: close"));
	CHECK(strstr(r.body, "{\"error\":{\"code\":413,"));
	CHECK(cl_sees_eof(c, 3000));
	cl_close(c);
	CHECK(metric_value(metric_counter("clew_http_rejected_total", "", "reason=\"size\"")) >= before + 1);
	/* chunked over the limit: 413 as well */
	c = cl_connect(t.port);
	cl_send_str(c, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n");
	cl_send(c, chunk, sizeof chunk);
	cl_send(c, chunk, sizeof chunk);
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_INT(r.status, ==, 413);
	cl_close(c);
	/* garbage: 400 and close */
	c = cl_connect(t.port);
	cl_send_str(c, "GARBAGE\r\n\r\n");
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_INT(r.status, ==, 400);
	CHECK(strstr(r.body, "\"code\":400"));
	CHECK(cl_sees_eof(c, 3000));
	cl_close(c);
	c = cl_connect(t.port);
	cl_send(c, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11); /* a TLS hello */
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_INT(r.status, ==, 400);
	cl_close(c);
	/* a valid request still works */
	c = cl_connect(t.port);
	cl_send_str(c, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_INT(r.status, ==, 200);
	cl_close(c);
	srv_stop(&t);
}

TEST(server_slow_and_half_closed_clients)
{
	struct srv t;
	CHECK_INT(srv_start(&t, &small_cfg, 1 << 20), ==, 0);
	struct client *c = cl_connect(t.port);
	const char *req = "POST /slow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
	for (size_t i = 0; req[i]; i++) {
		cl_send(c, req + i, 1);
		usleep(500);
	}
	struct resp r;
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_STR(r.body, "POST /slow abc");
	cl_close(c);
	/* the client shuts its write side after the request: still answered */
	c = cl_connect(t.port);
	cl_send_str(c, "GET /half HTTP/1.1\r\nHost: x\r\n\r\n");
	shutdown(c->fd, SHUT_WR);
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_STR(r.body, "GET /half ");
	CHECK(cl_sees_eof(c, 2000));
	cl_close(c);
	/* Expect: 100-continue */
	c = cl_connect(t.port);
	cl_send_str(c, "POST /cont HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
	while (!strstr(c->buf, "\r\n\r\n"))
		CHECK_INT(cl_fill(c, 3000), >, 0);
	CHECK(strncmp(c->buf, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0);
	memmove(c->buf, c->buf + 25, c->len - 25 + 1);
	c->len -= 25;
	cl_send_str(c, "ok");
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_STR(r.body, "POST /cont ok");
	cl_close(c);
	srv_stop(&t);
}

TEST(server_idle_and_request_timeouts)
{
	struct http_server_config cfg = {.io_threads = 2, .idle_timeout_ms = 300, .request_timeout_ms = 400};
	struct srv t;
	CHECK_INT(srv_start(&t, &cfg, 1 << 20), ==, 0);
	struct client *cs[40];
	for (int i = 0; i < 40; i++) {
		cs[i] = cl_connect(t.port);
		CHECK(cs[i]);
	}
	uint64_t conns = 0;
	for (int i = 0; i < 100 && conns != 40; i++) {
		usleep(10000);
		http_server_counts(t.s, &conns, NULL);
	}
	CHECK_INT(conns, ==, 40);
	for (int i = 0; i < 40; i++)
		CHECK(cl_sees_eof(cs[i], 3000));
	for (int i = 0; i < 100 && conns != 0; i++) {
		usleep(10000);
		http_server_counts(t.s, &conns, NULL);
	}
	CHECK_INT(conns, ==, 0);
	for (int i = 0; i < 40; i++)
		cl_close(cs[i]);
	/* slowloris: a head that never ends gets 408 */
	struct client *c = cl_connect(t.port);
	cl_send_str(c, "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n");
	usleep(150 * 1000);
	cl_send_str(c, "X-B: 2\r\n");
	struct resp r;
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_INT(r.status, ==, 408);
	CHECK(cl_sees_eof(c, 3000));
	cl_close(c);
	srv_stop(&t);
}

TEST(server_memory_budget_and_connection_limit)
{
	struct budget b;
	budget_init(&b, 40 * 1024);
	struct http_server_config cfg = {.io_threads = 1, .max_connections = 3, .memory = &b};
	struct srv t;
	CHECK_INT(srv_start(&t, &cfg, 1 << 20), ==, 0);
	struct metric *m = metric_counter("clew_http_rejected_total", "", "reason=\"memory\"");
	double before = metric_value(m);
	struct client *c = cl_connect(t.port);
	cl_send_str(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
	struct resp r;
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_INT(r.status, ==, 503);
	CHECK(strstr(r.head, "Retry-After: 1\r\n"));
	CHECK_STR(r.body, "{\"error\":{\"code\":503,\"message\":\"clew is over its memory budget; retry later\"}}");
	CHECK(metric_value(m) >= before + 1);
	cl_close(c);
	/* small requests fit */
	c = cl_connect(t.port);
	cl_send_str(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_INT(r.status, ==, 200);
	/* max_connections 3: the 4th is closed at once */
	struct client *c2 = cl_connect(t.port), *c3 = cl_connect(t.port);
	uint64_t conns = 0;
	for (int i = 0; i < 100 && conns != 3; i++) {
		usleep(10000);
		http_server_counts(t.s, &conns, NULL);
	}
	CHECK_INT(conns, ==, 3);
	struct client *c4 = cl_connect(t.port);
	CHECK(cl_sees_eof(c4, 2000));
	cl_close(c4);
	cl_close(c3);
	cl_close(c2);
	cl_close(c);
	srv_stop(&t);
	CHECK_INT(atomic_load(&b.used_bytes), ==, 0);
}

TEST(server_graceful_stop_waits_for_handler)
{
	struct srv t;
	CHECK_INT(srv_start(&t, &small_cfg, 1 << 20), ==, 0);
	struct client *c = cl_connect(t.port);
	struct client *idle = cl_connect(t.port);
	cl_send_str(c, "GET /sleep HTTP/1.1\r\nHost: x\r\n\r\n");
	usleep(100 * 1000);
	http_server_stop(t.s, 5000);
	struct resp r;
	CHECK_INT(cl_response(c, &r), ==, 0);
	CHECK_INT(r.status, ==, 200);
	CHECK_STR(r.body, "slept");
	CHECK(strstr(r.head, "Connection: close"));
	CHECK(cl_sees_eof(c, 1000));
	CHECK(cl_sees_eof(idle, 1000));
	cl_close(c);
	cl_close(idle);
	/* nothing listens any more */
	CHECK(cl_connect(t.port) == NULL);
	http_server_free(t.s);
}

TEST(server_listen_errors)
{
	struct srv t;
	CHECK_INT(srv_start(&t, &small_cfg, 1 << 20), ==, 0);
	struct http_server *s2 = http_server_new(&small_cfg);
	char addr[64], err[256], want[128];
	snprintf(addr, sizeof addr, "127.0.0.1:%d", t.port);
	struct http_listener_config l = {.name = "otlp-grpc", .addr = addr, .handler = test_handler};
	CHECK_INT(http_server_listen(s2, &l, err, sizeof err), ==, -EADDRINUSE);
	snprintf(want, sizeof want, "cannot listen on 127.0.0.1:%d (otlp-grpc): Address already in use", t.port);
	CHECK_STR(err, want);
	l.addr = "nonsense";
	CHECK(http_server_listen(s2, &l, err, sizeof err) < 0);
	CHECK(strstr(err, "cannot listen on nonsense (otlp-grpc)"));
	l.addr = "127.0.0.1:99999";
	CHECK(http_server_listen(s2, &l, err, sizeof err) < 0);
	http_server_free(s2);
	srv_stop(&t);
}

/* ---- HTTP/2 and gRPC through nghttp2's client ---- */

struct h2client {
	int fd;
	nghttp2_session *s;
	int status;
	char content_type[64];
	char grpc_status[16];
	char grpc_message[256];
	char details[256];
	bool status_in_trailers;
	uint8_t data[1 << 16];
	size_t data_len;
	size_t total_len;
	bool pattern_ok;
	bool closed;
	const uint8_t *send_body;
	size_t send_len, send_off;
};

static ssize_t h2c_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *ud)
{
	struct h2client *h = ud;
	ssize_t n = send(h->fd, data, len, MSG_NOSIGNAL);
	return n < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : n;
}

static void copy_hv(char *dst, size_t cap, const uint8_t *v, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = 0;
}

static int h2c_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
		      const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
	struct h2client *h = ud;
	char n[64], v[256];
	copy_hv(n, sizeof n, name, namelen);
	copy_hv(v, sizeof v, value, valuelen);
	if (strcmp(n, ":status") == 0)
		h->status = (int)strtol(v, NULL, 10);
	else if (strcmp(n, "content-type") == 0)
		copy_hv(h->content_type, sizeof h->content_type, value, valuelen);
	else if (strcmp(n, "grpc-status") == 0) {
		copy_hv(h->grpc_status, sizeof h->grpc_status, value, valuelen);
		h->status_in_trailers = f->headers.cat == NGHTTP2_HCAT_HEADERS;
	} else if (strcmp(n, "grpc-message") == 0)
		copy_hv(h->grpc_message, sizeof h->grpc_message, value, valuelen);
	else if (strcmp(n, "grpc-status-details-bin") == 0)
		copy_hv(h->details, sizeof h->details, value, valuelen);
	return 0;
}

static int h2c_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *ud)
{
	struct h2client *h = ud;
	for (size_t i = 0; i < len; i++)
		if (data[i] != (uint8_t)('a' + (h->total_len + i) % 26))
			h->pattern_ok = false;
	h->total_len += len;
	if (h->data_len + len <= sizeof h->data) {
		memcpy(h->data + h->data_len, data, len);
		h->data_len += len;
	}
	return 0;
}

static int h2c_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
	((struct h2client *)ud)->closed = true;
	return 0;
}

static ssize_t h2c_read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			     nghttp2_data_source *src, void *ud)
{
	struct h2client *h = ud;
	size_t n = h->send_len - h->send_off;
	if (n > len)
		n = len;
	memcpy(buf, h->send_body + h->send_off, n);
	h->send_off += n;
	if (h->send_off == h->send_len)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

static struct h2client *h2c_connect(int port)
{
	struct client *c = cl_connect(port);
	if (!c)
		return NULL;
	struct h2client *h = calloc(1, sizeof *h);
	h->fd = c->fd;
	free(c);
	nghttp2_session_callbacks *cb;
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_send_callback(cb, h2c_send);
	nghttp2_session_callbacks_set_on_header_callback(cb, h2c_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, h2c_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, h2c_close);
	nghttp2_session_client_new(&h->s, cb, h);
	nghttp2_session_callbacks_del(cb);
	nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, NULL, 0);
	return h;
}

static void h2c_free(struct h2client *h)
{
	nghttp2_session_del(h->s);
	close(h->fd);
	free(h);
}

/* One request on a fresh stream; waits for the stream to close. 0 or -1. */
static int h2c_request(struct h2client *h, const char *method, const char *path, const char *ctype,
		       const char *extra_name, const void *body, size_t body_len)
{
	h->status = 0;
	h->content_type[0] = h->grpc_status[0] = h->grpc_message[0] = h->details[0] = 0;
	h->data_len = h->total_len = 0;
	h->pattern_ok = true;
	h->closed = false;
	h->status_in_trailers = false;
	h->send_body = body;
	h->send_len = body_len;
	h->send_off = 0;
	nghttp2_nv nv[6];
	size_t n = 0;
#define NV(a, b) (nghttp2_nv){(uint8_t *)(a), (uint8_t *)(b), strlen(a), strlen(b), NGHTTP2_NV_FLAG_NONE}
	nv[n++] = NV(":method", method);
	nv[n++] = NV(":path", path);
	nv[n++] = NV(":scheme", "http");
	nv[n++] = NV(":authority", "127.0.0.1");
	if (ctype)
		nv[n++] = NV("content-type", ctype);
	if (extra_name)
		nv[n++] = NV(extra_name, "1");
#undef NV
	nghttp2_data_provider prd = {.read_callback = h2c_read_body};
	if (nghttp2_submit_request(h->s, NULL, nv, n, body ? &prd : NULL, NULL) < 0)
		return -1;
	while (!h->closed) {
		if (nghttp2_session_send(h->s) != 0)
			return -1;
		struct pollfd p = {.fd = h->fd, .events = POLLIN};
		if (poll(&p, 1, 5000) <= 0)
			return -1;
		uint8_t buf[16384];
		ssize_t k = recv(h->fd, buf, sizeof buf, 0);
		if (k <= 0)
			return -1;
		if (nghttp2_session_mem_recv(h->s, buf, (size_t)k) < 0)
			return -1;
	}
	return nghttp2_session_send(h->s) == 0 ? 0 : -1;
}

static size_t grpc_frame(uint8_t *out, uint8_t flag, const void *msg, size_t n)
{
	out[0] = flag;
	out[1] = (uint8_t)(n >> 24);
	out[2] = (uint8_t)(n >> 16);
	out[3] = (uint8_t)(n >> 8);
	out[4] = (uint8_t)n;
	memcpy(out + 5, msg, n);
	return n + 5;
}

TEST(server_http2_and_grpc_unary)
{
	struct srv t;
	CHECK_INT(srv_start(&t, &small_cfg, 1000), ==, 0);
	struct h2client *h = h2c_connect(t.port);
	CHECK(h);
	static uint8_t frame[4096];
	const char *grpc = "application/grpc";
	const char *method = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

	/* unary round trip */
	size_t n = grpc_frame(frame, 0, "hello", 5);
	CHECK_INT(h2c_request(h, "POST", method, grpc, NULL, frame, n), ==, 0);
	CHECK_INT(h->status, ==, 200);
	CHECK_STR(h->content_type, "application/grpc");
	CHECK_INT(h->data_len, ==, 10);
	CHECK(memcmp(h->data, "\0\0\0\0\5hello", 10) == 0);
	CHECK_STR(h->grpc_status, "0");
	CHECK(h->status_in_trailers);

	/* the compressed flag reaches the handler (which answers compressed) */
	n = grpc_frame(frame, 1, "zz", 2);
	CHECK_INT(h2c_request(h, "POST", method, grpc, NULL, frame, n), ==, 0);
	CHECK_INT(h->data_len, ==, 7);
	CHECK_INT(h->data[0], ==, 1);
	CHECK(memcmp(h->data + 5, "zz", 2) == 0);

	/* an error status: message percent-encoded, details base64 unpadded */
	n = grpc_frame(frame, 0, "x", 1);
	CHECK_INT(h2c_request(h, "POST", method, grpc, "x-want-status", frame, n), ==, 0);
	CHECK_STR(h->grpc_status, "5");
	CHECK_STR(h->grpc_message, "not found: caf%C3%A9 100%25");
	CHECK_STR(h->details, "CAX/");
	CHECK_INT(h->data_len, ==, 0);

	/* over max_body_bytes: RESOURCE_EXHAUSTED */
	static uint8_t big[3000];
	n = grpc_frame(frame, 0, big, 2000);
	CHECK_INT(h2c_request(h, "POST", method, grpc, NULL, frame, n), ==, 0);
	CHECK_STR(h->grpc_status, "8");

	/* bad framing: INTERNAL, handler not called */
	CHECK_INT(h2c_request(h, "POST", method, grpc, NULL, "\0\0\0\0\7abc", 8), ==, 0);
	CHECK_STR(h->grpc_status, "13");

	/* plain HTTP/2 is served like HTTP/1 */
	CHECK_INT(h2c_request(h, "POST", "/v1/traces?x=1", "application/x-protobuf", NULL, "body", 4), ==, 0);
	CHECK_INT(h->status, ==, 200);
	CHECK_STR(h->content_type, "text/plain");
	CHECK_INT(h->data_len, ==, 20);
	CHECK(memcmp(h->data, "POST /v1/traces body", 20) == 0);
	CHECK_INT(h2c_request(h, "POST", "/big", "text/plain", NULL, big, 2000), ==, 0);
	CHECK_INT(h->status, ==, 413);
	/* a response far bigger than the windows and socket buffers */
	CHECK_INT(h2c_request(h, "GET", "/big", NULL, NULL, NULL, 0), ==, 0);
	CHECK_INT(h->status, ==, 200);
	CHECK_INT(h->total_len, ==, BIG_BYTES);
	CHECK(h->pattern_ok);
	h2c_free(h);

	uint64_t reqs;
	http_server_counts(t.s, NULL, &reqs);
	CHECK_INT(reqs, >=, 4);
	srv_stop(&t);
}

TEST(server_http2_with_curl)
{
	if (system("curl --version 2>/dev/null | grep -q HTTP2") != 0)
		return; /* no curl with HTTP/2 here */
	struct srv t;
	CHECK_INT(srv_start(&t, &small_cfg, 1 << 20), ==, 0);
	char cmd[256];
	snprintf(cmd, sizeof cmd,
		 "curl -s --http2-prior-knowledge -X POST --data-binary abc http://127.0.0.1:%d/curl", t.port);
	FILE *f = popen(cmd, "r");
	CHECK(f);
	char out[256] = {0};
	size_t n = fread(out, 1, sizeof out - 1, f);
	pclose(f);
	out[n] = 0;
	CHECK_STR(out, "POST /curl abc");
	srv_stop(&t);
}

TEST(server_http2_over_budget_is_unavailable)
{
	struct budget b;
	budget_init(&b, 24 * 1024); /* room for the 16 KiB first read, not for 30 KB */
	struct http_server_config cfg = {.io_threads = 1, .memory = &b};
	struct srv t;
	CHECK_INT(srv_start(&t, &cfg, 1 << 20), ==, 0);
	struct h2client *h = h2c_connect(t.port);
	CHECK(h);
	static uint8_t frame[40000], msg[30000];
	size_t n = grpc_frame(frame, 0, msg, sizeof msg);
	CHECK_INT(h2c_request(h, "POST", "/svc/M", "application/grpc", NULL, frame, n), ==, 0);
	CHECK_INT(h->status, ==, 200);
	CHECK_STR(h->grpc_status, "14");
	CHECK_STR(h->grpc_message, "clew is over its memory budget; retry later");
	CHECK_INT(h2c_request(h, "POST", "/plain", "text/plain", NULL, msg, sizeof msg), ==, 0);
	CHECK_INT(h->status, ==, 503);
	CHECK(h->data_len > 0 && strstr((const char *)h->data, "\"code\":503") != NULL);
	/* the connection still serves requests that fit */
	n = grpc_frame(frame, 0, "ok", 2);
	CHECK_INT(h2c_request(h, "POST", "/svc/M", "application/grpc", NULL, frame, n), ==, 0);
	CHECK_STR(h->grpc_status, "0");
	h2c_free(h);
	srv_stop(&t);
	CHECK_INT(atomic_load(&b.used_bytes), ==, 0);
}

/* ---- libcurl, many streams on one HTTP/2 connection ---- */

#define CURL_MSG_BYTES (200 * 1024)

struct cx {
	CURL *e;
	bool grpc;
	const uint8_t *expect; /* the echo expected back (gRPC) */
	size_t expect_len;
	size_t got;
	bool body_ok;
	char text[256]; /* the start of a plain response */
	char grpc_status[16];
	bool status_after_body; /* grpc-status came in the trailers */
	CURLcode result;
	long code, http_version, new_conns;
};

static size_t cx_write(char *p, size_t size, size_t n, void *arg)
{
	struct cx *x = arg;
	size_t len = size * n;
	if (x->grpc) {
		if (x->got + len > x->expect_len || memcmp(p, x->expect + x->got, len) != 0)
			x->body_ok = false;
	} else if (x->got + len < sizeof x->text) {
		memcpy(x->text + x->got, p, len);
	}
	x->got += len;
	return len;
}

static size_t cx_header(char *p, size_t size, size_t n, void *arg)
{
	struct cx *x = arg;
	size_t len = size * n;
	if (len > 13 && memcmp(p, "grpc-status: ", 13) == 0) {
		size_t v = 13;
		while (v < len && p[v] != '\r' && p[v] != '\n')
			v++;
		copy_hv(x->grpc_status, sizeof x->grpc_status, (const uint8_t *)p + 13, v - 13);
		x->status_after_body = x->got > 0;
	}
	return len;
}

/* curl before 8.0.0 fails every transfer on a reused prior-knowledge
 * connection before sending anything ("Error in the HTTP2 framing layer",
 * curl issue 10634), whatever the server does. There, transfers after the
 * first ask for HTTP/2 without prior knowledge, which takes the open HTTP/2
 * connection just the same. (curl 7.88 also drops a stream's trailers when
 * it ends while another stream has paused the session on a full 16 KiB
 * receive buffer, hence the big CURLOPT_BUFFERSIZE in cx_init.) */
static long curl_reuse_version(void)
{
	return curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000 ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
									    : CURL_HTTP_VERSION_2_0;
}

static void cx_init(struct cx *x, int port, const char *path, long version, struct curl_slist *hdrs,
		    const uint8_t *body, size_t body_len, bool grpc)
{
	memset(x, 0, sizeof *x);
	x->grpc = grpc;
	x->expect = body;
	x->expect_len = body_len;
	x->body_ok = true;
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
	x->e = curl_easy_init();
	curl_easy_setopt(x->e, CURLOPT_URL, url);
	curl_easy_setopt(x->e, CURLOPT_HTTP_VERSION, version);
	curl_easy_setopt(x->e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(x->e, CURLOPT_BUFFERSIZE, (long)CURL_MAX_READ_SIZE);
	curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(x->e, CURLOPT_POSTFIELDS, (const char *)body);
	curl_easy_setopt(x->e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, cx_write);
	curl_easy_setopt(x->e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->e, CURLOPT_HEADERFUNCTION, cx_header);
	curl_easy_setopt(x->e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->e, CURLOPT_PRIVATE, (char *)x);
	curl_easy_setopt(x->e, CURLOPT_TIMEOUT_MS, 10000L);
}

/* Run n transfers at once on multi; fills each cx's result. */
static void cx_run(CURLM *multi, struct cx *xs, int n)
{
	for (int i = 0; i < n; i++)
		curl_multi_add_handle(multi, xs[i].e);
	int running = n;
	while (running > 0) {
		curl_multi_perform(multi, &running);
		if (running > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(multi, &left))) {
		struct cx *x = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		x->result = m->data.result;
		curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &x->code);
		curl_easy_getinfo(x->e, CURLINFO_HTTP_VERSION, &x->http_version);
		curl_easy_getinfo(x->e, CURLINFO_NUM_CONNECTS, &x->new_conns);
	}
	for (int i = 0; i < n; i++) {
		curl_multi_remove_handle(multi, xs[i].e);
		curl_easy_cleanup(xs[i].e);
		xs[i].e = NULL;
	}
}

static bool cx_grpc_ok(const struct cx *x)
{
	return x->result == CURLE_OK && x->code == 200 && x->http_version == CURL_HTTP_VERSION_2_0 &&
	       x->new_conns == 0 && x->body_ok && x->got == x->expect_len && strcmp(x->grpc_status, "0") == 0 &&
	       x->status_after_body;
}

static bool cx_plain_ok(const struct cx *x, const char *want)
{
	return x->result == CURLE_OK && x->code == 200 && x->http_version == CURL_HTTP_VERSION_2_0 &&
	       x->new_conns == 0 && x->got == strlen(want) && strcmp(x->text, want) == 0;
}

TEST(server_http2_many_streams_with_libcurl)
{
	CHECK_INT(curl_global_init(CURL_GLOBAL_DEFAULT), ==, CURLE_OK);
	struct srv t;
	CHECK_INT(srv_start(&t, &small_cfg, 1 << 20), ==, 0);
	uint8_t *bodies[4];
	size_t body_len = CURL_MSG_BYTES + 5;
	for (int b = 0; b < 4; b++) { /* a different message per stream, to catch mixed-up streams */
		bodies[b] = malloc(body_len);
		for (size_t i = 0; i < CURL_MSG_BYTES; i++)
			bodies[b][5 + i] = (uint8_t)(i * 7 + (size_t)b * 13 + i / 251);
		bodies[b][0] = 0;
		bodies[b][1] = (uint8_t)(CURL_MSG_BYTES >> 24);
		bodies[b][2] = (uint8_t)(CURL_MSG_BYTES >> 16);
		bodies[b][3] = (uint8_t)(CURL_MSG_BYTES >> 8);
		bodies[b][4] = (uint8_t)CURL_MSG_BYTES;
	}
	struct curl_slist *grpc = curl_slist_append(NULL, "Content-Type: application/grpc");
	grpc = curl_slist_append(grpc, "TE: trailers");
	struct curl_slist *plain = curl_slist_append(NULL, "Content-Type: text/plain");
	CURLM *multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	long reuse = curl_reuse_version();
	const char *method = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
	static struct cx xs[12];

	/* the first request opens the connection */
	cx_init(&xs[0], t.port, "/first", CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE, plain, (const uint8_t *)"abc", 3,
		false);
	cx_run(multi, xs, 1);
	CHECK_INT(xs[0].result, ==, CURLE_OK);
	CHECK_INT(xs[0].code, ==, 200);
	CHECK_INT(xs[0].http_version, ==, CURL_HTTP_VERSION_2_0);
	CHECK_INT(xs[0].new_conns, ==, 1);
	CHECK_STR(xs[0].text, "POST /first abc");

	/* sequential requests on it, plain and gRPC of 200 KB */
	for (int i = 0; i < 3; i++) {
		cx_init(&xs[0], t.port, "/again", reuse, plain, (const uint8_t *)"xyz", 3, false);
		cx_run(multi, xs, 1);
		CHECK_INT(xs[0].result, ==, CURLE_OK);
		CHECK(cx_plain_ok(&xs[0], "POST /again xyz"));
		cx_init(&xs[0], t.port, method, reuse, grpc, bodies[i], body_len, true);
		cx_run(multi, xs, 1);
		CHECK_INT(xs[0].result, ==, CURLE_OK);
		CHECK_STR(xs[0].grpc_status, "0");
		CHECK_INT(xs[0].got, ==, body_len);
		CHECK(cx_grpc_ok(&xs[0]));
	}

	/* concurrent streams, twice: gRPC echoes interleaved with plain requests */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 12; i++) {
			if (i % 4 == 3)
				cx_init(&xs[i], t.port, "/conc", reuse, plain, (const uint8_t *)"q", 1, false);
			else
				cx_init(&xs[i], t.port, method, reuse, grpc, bodies[i % 4], body_len, true);
		}
		cx_run(multi, xs, 12);
		for (int i = 0; i < 12; i++) {
			CHECK_INT(xs[i].result, ==, CURLE_OK);
			if (i % 4 == 3)
				CHECK(cx_plain_ok(&xs[i], "POST /conc q"));
			else
				CHECK(cx_grpc_ok(&xs[i]));
		}
	}

	/* a gRPC error status still leaves the connection usable */
	struct curl_slist *want = curl_slist_append(NULL, "Content-Type: application/grpc");
	want = curl_slist_append(want, "x-want-status: 1");
	cx_init(&xs[0], t.port, method, reuse, want, bodies[0], body_len, true);
	cx_init(&xs[1], t.port, method, reuse, grpc, bodies[1], body_len, true);
	cx_run(multi, xs, 2);
	CHECK_INT(xs[0].result, ==, CURLE_OK);
	CHECK_STR(xs[0].grpc_status, "5");
	CHECK_INT(xs[0].got, ==, 0);
	CHECK(cx_grpc_ok(&xs[1]));

	uint64_t conns = 0, reqs = 0;
	http_server_counts(t.s, &conns, &reqs);
	CHECK_INT(conns, ==, 1);
	CHECK_INT(reqs, ==, 1 + 6 + 24 + 2);

	curl_multi_cleanup(multi);
	curl_slist_free_all(grpc);
	curl_slist_free_all(plain);
	curl_slist_free_all(want);
	for (int b = 0; b < 4; b++)
		free(bodies[b]);
	srv_stop(&t);
	curl_global_cleanup();
}
