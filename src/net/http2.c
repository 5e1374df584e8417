/* HTTP/2 (h2c, prior knowledge) and gRPC unary through nghttp2's server
 * session. Bytes read by server.c go to nghttp2_session_mem_recv; the
 * callbacks collect each stream's headers (into the stream's arena) and body
 * (a buf charged to the memory budget); streams that become complete, or
 * that must be refused (over max_body_bytes, over budget), are queued and
 * served after mem_recv returns, so handlers never run inside nghttp2.
 * Responses: non-gRPC as HTTP/1 (status, headers, body); gRPC as headers,
 * one length-prefixed message, trailers (grpc-status, grpc-message,
 * grpc-status-details-bin). Frames are pulled into conn->out by mem_send. */
#include "net/http2.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/metrics.h"
#include "net/net_int.h"

#define H2_MAX_STREAMS 100
#define H2_STREAM_WINDOW (1 << 20)
#define H2_CONN_WINDOW (16 << 20)

struct h2_stream {
	int32_t id;
	struct net_conn *c;
	struct h2_stream *prev, *next; /* all open streams */
	struct h2_stream *ready_next;
	bool queued, complete, answered;
	bool grpc, too_large, over_budget, bad_headers;
	int64_t start_ns;
	struct arena arena;
	struct http_header *headers;
	uint32_t n_headers, cap_headers;
	size_t header_bytes;
	struct slice method, path, query;
	struct buf body;
	uint64_t charged;
	uint64_t limit;
	struct http_request req;
	struct http_response resp;
	uint8_t prefix[5];
	size_t prefix_len;
	size_t data_off;
};

struct h2_conn {
	nghttp2_session *session;
	struct h2_stream *streams;
	uint32_t n_streams;
	struct h2_stream *ready_head, *ready_tail;
};

static struct http_server *server_of(struct net_conn *c)
{
	return c->listener->server;
}

static void stream_queue(struct h2_conn *h, struct h2_stream *st)
{
	if (st->queued || st->answered)
		return;
	st->queued = true;
	st->ready_next = NULL;
	if (h->ready_tail)
		h->ready_tail->ready_next = st;
	else
		h->ready_head = st;
	h->ready_tail = st;
}

static void stream_unqueue(struct h2_conn *h, struct h2_stream *st)
{
	if (!st->queued)
		return;
	struct h2_stream **pp = &h->ready_head, *prev = NULL;
	while (*pp && *pp != st) {
		prev = *pp;
		pp = &(*pp)->ready_next;
	}
	if (*pp)
		*pp = st->ready_next;
	if (h->ready_tail == st)
		h->ready_tail = prev;
	st->queued = false;
}

static void stream_drop_body(struct h2_stream *st)
{
	buf_free(&st->body);
	net_release(server_of(st->c), st->charged);
	st->charged = 0;
}

static void stream_free(struct h2_conn *h, struct h2_stream *st)
{
	stream_unqueue(h, st);
	if (st->prev)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next)
		st->next->prev = st->prev;
	h->n_streams--;
	stream_drop_body(st);
	buf_free(&st->resp.body);
	arena_reset(&st->arena);
	free(st);
}

static struct h2_stream *stream_get(nghttp2_session *session, int32_t id)
{
	return nghttp2_session_get_stream_user_data(session, id);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct net_conn *c = user_data;
	struct h2_conn *h = c->h2;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	struct h2_stream *st = xcalloc(1, sizeof *st);
	st->id = frame->hd.stream_id;
	st->c = c;
	st->start_ns = clock_mono_ns();
	arena_init(&st->arena, 0);
	st->limit = c->listener->max_body_bytes;
	buf_init(&st->body, (size_t)st->limit + 5);
	buf_init(&st->resp.body, NET_RESP_BODY_MAX);
	st->next = h->streams;
	if (h->streams)
		h->streams->prev = st;
	h->streams = st;
	h->n_streams++;
	nghttp2_session_set_stream_user_data(session, st->id, st);
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
		     const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0; /* request trailers are ignored */
	struct h2_stream *st = stream_get(session, frame->hd.stream_id);
	if (!st)
		return 0;
	st->header_bytes += namelen + valuelen + 32;
	if (st->header_bytes > HTTP1_MAX_HEAD_BYTES || st->n_headers >= HTTP1_MAX_HEADERS + 8)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	void *n = arena_memdup(&st->arena, name, namelen ? namelen : 1);
	void *v = arena_memdup(&st->arena, value, valuelen ? valuelen : 1);
	if (!n || !v)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	struct slice ns = slice_make(n, namelen), vs = slice_make(v, valuelen);
	if (namelen && name[0] == ':') {
		if (slice_eq_cstr(ns, ":method")) {
			st->method = vs;
		} else if (slice_eq_cstr(ns, ":path")) {
			const uint8_t *q = memchr(vs.p, '?', vs.len);
			st->path = q ? slice_make(vs.p, (size_t)(q - vs.p)) : vs;
			st->query = q ? slice_make(q + 1, vs.len - (size_t)(q - vs.p) - 1) : slice_make(vs.p, 0);
		}
		return 0;
	}
	if (slice_eq_cstr(ns, "content-type") && slice_starts_with(vs, "application/grpc"))
		st->grpc = true;
	if (st->n_headers == st->cap_headers) {
		uint32_t ncap = st->cap_headers ? st->cap_headers * 2 : 16;
		st->headers = arena_grow(&st->arena, st->headers, st->n_headers, ncap, sizeof *st->headers);
		if (!st->headers)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		st->cap_headers = ncap;
	}
	st->headers[st->n_headers++] = (struct http_header){ns, vs};
	return 0;
}

/* The byte limit of a stream's raw body: the message plus its 5-byte frame
 * header for gRPC. */
static uint64_t stream_body_limit(const struct h2_stream *st)
{
	return st->grpc ? st->limit + 5 : st->limit;
}

static int stream_reserve(struct h2_stream *st, size_t n)
{
	struct buf *b = &st->body;
	size_t need = b->len + n;
	if (need <= b->cap)
		return 0;
	size_t ncap = b->cap * 2;
	if (ncap < need)
		ncap = need;
	if (ncap < 16 * 1024)
		ncap = 16 * 1024;
	if (ncap > b->max_bytes)
		ncap = b->max_bytes;
	struct http_server *s = server_of(st->c);
	if (!net_charge(s, ncap - st->charged))
		return CLEW_EBUSY;
	uint8_t *p = try_realloc(b->p, ncap);
	if (!p) {
		net_release(s, ncap - st->charged);
		return CLEW_EBUSY;
	}
	b->p = p;
	b->cap = ncap;
	st->charged = ncap;
	return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data,
			 size_t len, void *user_data)
{
	struct net_conn *c = user_data;
	struct h2_stream *st = stream_get(session, stream_id);
	if (!st || st->answered || st->too_large || st->over_budget)
		return 0;
	if (st->body.len + len > stream_body_limit(st)) {
		st->too_large = true;
	} else if (stream_reserve(st, len) < 0) {
		st->over_budget = true;
	} else {
		memcpy(st->body.p + st->body.len, data, len);
		st->body.len += len;
		return 0;
	}
	/* refuse now rather than buffer the rest */
	stream_drop_body(st);
	stream_queue(c->h2, st);
	return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	struct net_conn *c = user_data;
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	struct h2_stream *st = stream_get(session, frame->hd.stream_id);
	if (!st)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
		for (uint32_t i = 0; i < st->n_headers; i++) {
			if (!slice_eq_cstr(st->headers[i].name, "content-length"))
				continue;
			struct slice v = st->headers[i].value;
			uint64_t n = 0;
			for (size_t k = 0; k < v.len && k < 19; k++)
				n = n * 10 + (uint64_t)(v.p[k] - '0');
			if (n > stream_body_limit(st)) {
				st->too_large = true;
				stream_queue(c->h2, st);
			}
		}
	}
	if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
		st->complete = true;
		stream_queue(c->h2, st);
	}
	return 0;
}

static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
	/* Our side of a refused stream is done: tell the client to stop sending. */
	if (frame->hd.type != NGHTTP2_HEADERS || !(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	struct h2_stream *st = stream_get(session, frame->hd.stream_id);
	if (st && !st->complete)
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
	struct net_conn *c = user_data;
	struct h2_stream *st = stream_get(session, stream_id);
	if (!st)
		return 0;
	nghttp2_session_set_stream_user_data(session, stream_id, NULL);
	stream_free(c->h2, st);
	return 0;
}

static ssize_t data_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
			 uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
	struct h2_stream *st = source->ptr;
	size_t total = st->prefix_len + st->resp.body.len;
	size_t n = 0;
	while (n < length && st->data_off < total) {
		size_t k;
		if (st->data_off < st->prefix_len) {
			k = st->prefix_len - st->data_off;
			if (k > length - n)
				k = length - n;
			memcpy(buf + n, st->prefix + st->data_off, k);
		} else {
			size_t off = st->data_off - st->prefix_len;
			k = st->resp.body.len - off;
			if (k > length - n)
				k = length - n;
			memcpy(buf + n, st->resp.body.p + off, k);
		}
		n += k;
		st->data_off += k;
	}
	if (st->data_off < total)
		return (ssize_t)n;
	*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	if (!st->grpc)
		return (ssize_t)n;
	*data_flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
	struct buf t;
	buf_init(&t, 64 * 1024);
	char code[16];
	int code_len = snprintf(code, sizeof code, "%d", st->resp.grpc_status);
	net_grpc_percent_encode(&t, st->resp.grpc_message);
	size_t msg_len = t.len;
	net_base64_unpadded(&t, st->resp.grpc_status_details_bin.p, st->resp.grpc_status_details_bin.len);
	nghttp2_nv nv[3] = {
		{(uint8_t *)"grpc-status", (uint8_t *)code, 11, (size_t)code_len, NGHTTP2_NV_FLAG_NONE},
		{(uint8_t *)"grpc-message", t.p ? t.p : (uint8_t *)"", 12, msg_len, NGHTTP2_NV_FLAG_NONE},
		{(uint8_t *)"grpc-status-details-bin", t.p ? t.p + msg_len : (uint8_t *)"", 23, t.len - msg_len,
		 NGHTTP2_NV_FLAG_NONE},
	};
	size_t n_nv = 1;
	if (msg_len)
		n_nv = 2;
	if (t.len > msg_len) {
		nv[n_nv] = nv[2];
		n_nv++;
	}
	int rc = nghttp2_submit_trailer(session, stream_id, nv, n_nv);
	buf_free(&t);
	return rc < 0 ? NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE : (ssize_t)n;
}

/* A lowercase copy of s in the arena (HTTP/2 header names must be). */
static struct slice lower_copy(struct arena *a, struct slice s)
{
	uint8_t *p = arena_alloc(a, s.len ? s.len : 1);
	if (!p)
		return slice_make("", 0);
	for (size_t i = 0; i < s.len; i++)
		p[i] = (s.p[i] >= 'A' && s.p[i] <= 'Z') ? (uint8_t)(s.p[i] + 32) : s.p[i];
	return slice_make(p, s.len);
}

static nghttp2_nv make_nv(struct slice name, struct slice value)
{
	return (nghttp2_nv){(uint8_t *)name.p, (uint8_t *)value.p, name.len, value.len, NGHTTP2_NV_FLAG_NONE};
}

static bool skip_response_header(struct slice name, bool grpc)
{
	return slice_eq_nocase(name, "content-length") || slice_eq_nocase(name, "connection") ||
	       slice_eq_nocase(name, "transfer-encoding") || slice_eq_nocase(name, "keep-alive") ||
	       slice_eq_nocase(name, "upgrade") || name.len == 0 || name.p[0] == ':' ||
	       (grpc && slice_eq_nocase(name, "content-type"));
}

static void stream_submit_response(struct net_conn *c, struct h2_stream *st)
{
	struct http_response *r = &st->resp;
	nghttp2_nv nv[HTTP_MAX_RESPONSE_HEADERS + 4];
	size_t n = 0;
	char status[8], clen[24];
	if (r->body.err) {
		if (st->grpc) {
			r->grpc_status = 13;
			r->grpc_message = SLICE_LIT("response too large");
		} else {
			net_error_response(r, &st->req, 500, "response too large");
		}
	}
	if (st->grpc)
		r->status = 200;
	if (r->status < 200 || r->status > 999)
		r->status = 500;
	snprintf(status, sizeof status, "%d", r->status);
	nv[n++] = make_nv(SLICE_LIT(":status"), slice_cstr(status));
	if (st->grpc)
		nv[n++] = make_nv(SLICE_LIT("content-type"), SLICE_LIT("application/grpc"));
	bool compressed = false;
	for (uint32_t i = 0; i < r->n_headers && i < HTTP_MAX_RESPONSE_HEADERS; i++) {
		struct http_header *hd = &r->headers[i];
		if (skip_response_header(hd->name, st->grpc))
			continue;
		if (slice_eq_nocase(hd->name, "grpc-encoding") && !slice_eq_cstr(hd->value, "identity"))
			compressed = true;
		nv[n++] = make_nv(lower_copy(&st->arena, hd->name), hd->value);
	}
	bool head = slice_eq_cstr(st->method, "HEAD");
	bool no_body = r->status == 204 || r->status == 304;
	nghttp2_data_provider prd = {.source.ptr = st, .read_callback = data_read};
	nghttp2_data_provider *dp = NULL;
	st->data_off = 0;
	if (st->grpc) {
		if (r->grpc_status != 0) {
			r->body.len = 0;
			st->prefix_len = 0;
		} else {
			uint32_t len = (uint32_t)r->body.len;
			st->prefix[0] = compressed ? 1 : 0;
			st->prefix[1] = (uint8_t)(len >> 24);
			st->prefix[2] = (uint8_t)(len >> 16);
			st->prefix[3] = (uint8_t)(len >> 8);
			st->prefix[4] = (uint8_t)len;
			st->prefix_len = 5;
		}
		dp = &prd;
	} else {
		if (!no_body) {
			snprintf(clen, sizeof clen, "%zu", r->body.len);
			nv[n++] = make_nv(SLICE_LIT("content-length"), slice_cstr(clen));
		}
		st->prefix_len = 0;
		if (!no_body && !head && r->body.len)
			dp = &prd;
	}
	st->answered = true;
	if (nghttp2_submit_response(c->h2->session, st->id, nv, n, dp) < 0)
		nghttp2_submit_rst_stream(c->h2->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_INTERNAL_ERROR);
}

/* Serve one queued stream: a refusal decided by net, or the handler. */
static void stream_serve(struct net_conn *c, struct h2_stream *st)
{
	struct http_server *s = server_of(c);
	struct http_request *req = &st->req;
	struct http_response *r = &st->resp;
	memset(req, 0, sizeof *req);
	req->proto = st->grpc ? HTTP_PROTO_GRPC : HTTP_PROTO_2;
	req->method = st->method;
	req->path = st->path;
	req->query = st->query;
	req->headers = st->headers;
	req->n_headers = st->n_headers;
	req->arena = &st->arena;
	req->listener_ctx = c->listener->ctx;
	req->conn = c;
	net_response_init(r);
	if (st->over_budget) {
		metric_add(s->rejected_memory, 1);
		if (st->grpc) {
			r->grpc_status = 14;
			r->grpc_message = SLICE_LIT(NET_MSG_OVER_BUDGET);
			http_response_header(r, req, "retry-after", SLICE_LIT("1"));
		} else {
			net_error_response(r, req, 503, NET_MSG_OVER_BUDGET);
		}
	} else if (st->too_large) {
		metric_add(s->rejected_size, 1);
		if (st->grpc) {
			r->grpc_status = 8;
			r->grpc_message = SLICE_LIT("request message larger than the limit");
		} else {
			net_error_response(r, req, 413, "request body too large");
		}
	} else if (st->grpc) {
		struct slice b = buf_slice(&st->body);
		uint32_t len = b.len >= 5 ? ((uint32_t)b.p[1] << 24 | (uint32_t)b.p[2] << 16 |
					     (uint32_t)b.p[3] << 8 | b.p[4])
					  : 0;
		if (b.len < 5 || b.p[0] > 1 || len != b.len - 5) {
			metric_add(s->rejected_malformed, 1);
			r->grpc_status = 13;
			r->grpc_message = SLICE_LIT("request is not one length-prefixed gRPC message");
		} else {
			req->grpc_compressed = b.p[0] == 1;
			req->body = slice_make(b.p + 5, len);
			net_call_handler(c->listener, req, r);
		}
	} else {
		req->body = buf_slice(&st->body);
		net_call_handler(c->listener, req, r);
	}
	stream_submit_response(c, st);
}

static void serve_ready(struct net_conn *c)
{
	struct h2_conn *h = c->h2;
	while (h->ready_head) {
		struct h2_stream *st = h->ready_head;
		h->ready_head = st->ready_next;
		if (!h->ready_head)
			h->ready_tail = NULL;
		st->queued = false;
		if (!st->answered)
			stream_serve(c, st);
	}
}

int h2_conn_start(struct net_conn *c)
{
	struct h2_conn *h = xcalloc(1, sizeof *h);
	c->h2 = h;
	nghttp2_session_callbacks *cb;
	if (nghttp2_session_callbacks_new(&cb) != 0)
		return CLEW_ENOMEM;
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	int rv = nghttp2_session_server_new(&h->session, cb, c);
	nghttp2_session_callbacks_del(cb);
	if (rv != 0)
		return CLEW_ENOMEM;
	nghttp2_settings_entry iv[] = {
		{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
		{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW},
		{NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, HTTP1_MAX_HEAD_BYTES},
	};
	if (nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0)
		return CLEW_ENOMEM;
	nghttp2_session_set_local_window_size(h->session, NGHTTP2_FLAG_NONE, 0, H2_CONN_WINDOW);
	return 0;
}

int h2_conn_recv(struct net_conn *c, const uint8_t *p, size_t n)
{
	ssize_t rv = nghttp2_session_mem_recv(c->h2->session, p, n);
	if (rv < 0)
		return CLEW_EPARSE;
	serve_ready(c);
	return 0;
}

void h2_conn_send(struct net_conn *c)
{
	if (c->out_off) { /* keep the pending bytes at the front */
		memmove(c->out.p, c->out.p + c->out_off, c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
	while (c->out.len - c->out_off < NET_OUT_HIGH_WATER) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->h2->session, &data);
		if (n < 0) {
			c->dead = true;
			return;
		}
		if (n == 0)
			return;
		buf_append(&c->out, data, (size_t)n);
		if (c->out.err) {
			c->dead = true;
			return;
		}
	}
}

bool h2_conn_finished(struct net_conn *c)
{
	return !nghttp2_session_want_read(c->h2->session) && !nghttp2_session_want_write(c->h2->session);
}

bool h2_conn_idle(struct net_conn *c)
{
	return c->h2->n_streams == 0;
}

bool h2_conn_request_timed_out(struct net_conn *c, int64_t now_ns, int64_t timeout_ns)
{
	for (struct h2_stream *st = c->h2->streams; st; st = st->next)
		if (!st->answered && now_ns - st->start_ns > timeout_ns)
			return true;
	return false;
}

void h2_conn_goaway(struct net_conn *c)
{
	nghttp2_session *s = c->h2->session;
	nghttp2_submit_goaway(s, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s), NGHTTP2_NO_ERROR,
			      NULL, 0);
}

void h2_conn_free(struct net_conn *c)
{
	struct h2_conn *h = c->h2;
	if (!h)
		return;
	while (h->streams) {
		struct h2_stream *st = h->streams;
		if (h->session)
			nghttp2_session_set_stream_user_data(h->session, st->id, NULL);
		stream_free(h, st);
	}
	nghttp2_session_del(h->session);
	free(h);
	c->h2 = NULL;
}
