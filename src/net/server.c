/* The HTTP server: listeners shared by N I/O threads (EPOLLEXCLUSIVE on one
 * listening socket, so a busy port cannot be silently shared the way
 * SO_REUSEPORT would allow), each thread with its own epoll loop over its
 * own non-blocking connections, HTTP/1.1 served here, HTTP/2 handed over to
 * http2.c when a connection opens with the HTTP/2 preface.
 *
 * Connection states (HTTP/1.1): READING -(request whole)-> handler runs
 * synchronously -> WRITING -(flushed)-> READING (keep-alive, pipelined bytes
 * parsed at once) or closed; an error answer goes WRITING -> LINGER (write
 * side shut, input drained for up to 2 s so the client sees the answer and
 * not a reset) -> closed. Input is not read while a response is pending,
 * which is the backpressure for pipelining. A sweep per thread (at most 1 s
 * apart) applies request, idle and linger timeouts. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/budget.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/metrics.h"
#include "net/http2.h"
#include "net/net_int.h"

#define MS_NS 1000000LL
#define IN_MIN_BYTES (16 * 1024)
#define IN_READ_ROOM 4096
#define IN_KEEP_MAX (1024 * 1024) /* bigger input buffers are freed between requests */
#define IN_IDLE_FREE_NS (1000 * MS_NS)
#define BODY_KEEP_MAX (64 * 1024)

static void conn_process(struct net_conn *c);

bool net_charge(struct http_server *s, uint64_t n)
{
	return !s->cfg.memory || budget_try_charge(s->cfg.memory, n);
}

void net_release(struct http_server *s, uint64_t n)
{
	if (s->cfg.memory && n)
		budget_release(s->cfg.memory, n);
}

static int conn_grow_to(struct net_conn *c, size_t ncap)
{
	if (ncap > c->in.max_bytes)
		ncap = c->in.max_bytes;
	if (ncap <= c->in.cap)
		return 0;
	struct http_server *s = c->listener->server;
	if (!net_charge(s, ncap - c->charged))
		return CLEW_EBUSY;
	uint8_t *p = try_realloc(c->in.p, ncap);
	if (!p) {
		net_release(s, ncap - c->charged);
		return CLEW_ENOMEM;
	}
	c->in.p = p;
	c->in.cap = ncap;
	c->charged = ncap;
	return 0;
}

int net_conn_reserve(struct net_conn *c, size_t n)
{
	if (c->in.cap - c->in.len >= n)
		return 0;
	size_t need;
	if (size_add(c->in.len, n, &need) < 0 || need > c->in.max_bytes)
		return CLEW_ELIMIT;
	size_t ncap = c->in.cap * 2;
	if (ncap < need)
		ncap = need;
	if (ncap < IN_MIN_BYTES)
		ncap = IN_MIN_BYTES;
	return conn_grow_to(c, ncap);
}

void net_conn_free_input(struct net_conn *c)
{
	free(c->in.p);
	c->in.p = NULL;
	c->in.len = c->in.cap = 0;
	net_release(c->listener->server, c->charged);
	c->charged = 0;
}

void net_call_handler(struct net_listener *l, struct http_request *req, struct http_response *resp)
{
	int64_t t0 = clock_mono_ns();
	if (l->handler)
		l->handler(l->ctx, req, resp);
	else
		net_error_response(resp, req, 404, "no handler");
	metric_observe(l->latency, (double)(clock_mono_ns() - t0) / 1e9);
	atomic_fetch_add(&l->server->n_requests, 1);
}

bool http_request_client_gone(const struct http_request *req)
{
	const struct net_conn *c = req->conn;
	if (!c)
		return false;
	/* The handler runs on c's I/O thread, which is blocked in it: nothing
	 * reads the socket or closes it meanwhile, so a peek at its state is
	 * safe from any thread. */
	if (c->peer_closed)
		return true;
	struct pollfd p = {.fd = c->fd, .events = POLLRDHUP};
	int n;
	do
		n = poll(&p, 1, 0);
	while (n < 0 && errno == EINTR);
	return n == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* ---- connections ---- */

static void conn_set_events(struct net_conn *c)
{
	uint32_t ev = 0;
	bool out_pending = c->out.len > c->out_off || c->out_body;
	switch (c->state) {
	case CONN_READING:
		ev = c->peer_closed ? 0 : EPOLLIN;
		break;
	case CONN_WRITING:
		ev = EPOLLOUT;
		break;
	case CONN_LINGER:
		ev = EPOLLIN;
		break;
	case CONN_H2:
		if (!c->peer_closed && c->out.len - c->out_off < NET_OUT_HIGH_WATER)
			ev |= EPOLLIN;
		if (out_pending)
			ev |= EPOLLOUT;
		break;
	}
	if (ev == c->events)
		return;
	struct epoll_event e = {.events = ev, .data.ptr = c};
	epoll_ctl(c->thread->epfd, EPOLL_CTL_MOD, c->fd, &e);
	c->events = ev;
}

static void conn_close(struct net_conn *c)
{
	struct net_thread *t = c->thread;
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	t->n_conns--;
	if (c->h2)
		h2_conn_free(c);
	net_conn_free_input(c);
	buf_free(&c->out);
	buf_free(&c->resp.body);
	arena_reset(&c->arena);
	free(c->hdrs);
	atomic_fetch_sub(&c->listener->server->n_connections, 1);
	free(c);
}

/* Write what is pending: 1 when all is out, 0 when the socket is full,
 * -1 on error (the connection is dead). */
static int conn_flush(struct net_conn *c)
{
	for (;;) {
		struct iovec iov[2];
		int n_iov = 0;
		if (c->out.len > c->out_off)
			iov[n_iov++] = (struct iovec){c->out.p + c->out_off, c->out.len - c->out_off};
		if (c->out_body && c->out_body->len > c->body_off)
			iov[n_iov++] = (struct iovec){c->out_body->p + c->body_off, c->out_body->len - c->body_off};
		if (n_iov == 0) {
			buf_clear(&c->out);
			c->out_off = 0;
			c->out_body = NULL;
			c->body_off = 0;
			return 1;
		}
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n_iov};
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			c->dead = true;
			return -1;
		}
		c->last_active_ns = clock_mono_ns();
		size_t k = (size_t)n, head = c->out.len - c->out_off;
		if (k <= head) {
			c->out_off += k;
		} else {
			c->out_off = c->out.len;
			c->body_off += k - head;
		}
	}
}

static const char *thread_date(struct net_thread *t)
{
	time_t now = time(NULL);
	if (now != t->date_sec) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(t->date, sizeof t->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		t->date_sec = now;
	}
	return t->date;
}

static bool header_is_framing(struct slice name)
{
	return slice_eq_nocase(name, "content-length") || slice_eq_nocase(name, "connection") ||
	       slice_eq_nocase(name, "transfer-encoding") || slice_eq_nocase(name, "keep-alive");
}

static bool has_crlf(struct slice s)
{
	return memchr(s.p, '\r', s.len) || memchr(s.p, '\n', s.len);
}

/* Serialise c->resp as HTTP/1.1 into c->out (+ c->out_body) and flush. */
static void conn_start_response(struct net_conn *c, bool keep_alive, bool head_only)
{
	struct http_response *r = &c->resp;
	if (r->body.err) {
		net_error_response(r, &c->req, 500, "response too large");
		keep_alive = false;
	}
	if (r->status < 200 || r->status > 999)
		r->status = 500;
	struct buf *o = &c->out;
	buf_clear(o);
	o->max_bytes = 1024 * 1024;
	buf_printf(o, "HTTP/1.1 %d %s\r\n", r->status, net_status_reason(r->status));
	for (uint32_t i = 0; i < r->n_headers && i < HTTP_MAX_RESPONSE_HEADERS; i++) {
		struct http_header *h = &r->headers[i];
		if (header_is_framing(h->name) || has_crlf(h->name) || has_crlf(h->value) || h->name.len == 0)
			continue;
		buf_append_slice(o, h->name);
		buf_append(o, ": ", 2);
		buf_append_slice(o, h->value);
		buf_append(o, "\r\n", 2);
	}
	buf_printf(o, "Date: %s\r\n", thread_date(c->thread));
	bool no_body = r->status == 204 || r->status == 304;
	if (!no_body)
		buf_printf(o, "Content-Length: %zu\r\n", r->body.len);
	if (!keep_alive)
		buf_append_cstr(o, "Connection: close\r\n");
	else if (c->parser.minor == 0)
		buf_append_cstr(o, "Connection: keep-alive\r\n");
	buf_append(o, "\r\n", 2);
	if (o->err) {
		c->dead = true;
		return;
	}
	c->out_off = 0;
	c->out_body = (no_body || head_only || r->body.len == 0) ? NULL : &r->body;
	c->body_off = 0;
	c->close_after = !keep_alive;
	c->state = CONN_WRITING;
}

static void count_rejection(struct http_server *s, int status)
{
	struct metric *m = status == 503   ? s->rejected_memory
			   : status == 413 ? s->rejected_size
			   : status == 408 ? s->rejected_timeout
					   : s->rejected_malformed;
	metric_add(m, 1);
}

/* Answer an error the server decided on (bad request, limits, budget) and
 * close the connection afterwards without reading the rest. */
static void conn_send_error(struct net_conn *c, int status, const char *msg)
{
	count_rejection(c->listener->server, status);
	memset(&c->req, 0, sizeof c->req);
	c->req.arena = &c->arena;
	c->req.listener_ctx = c->listener->ctx;
	net_response_init(&c->resp);
	net_error_response(&c->resp, &c->req, status, msg);
	conn_start_response(c, false, false);
	c->linger_on_close = true;
}

static void conn_serve_request(struct net_conn *c)
{
	struct net_listener *l = c->listener;
	struct http_server *s = l->server;
	memset(&c->req, 0, sizeof c->req);
	if (!c->hdrs)
		c->hdrs = xcalloc(HTTP1_MAX_HEADERS, sizeof *c->hdrs);
	http1_fill_request(&c->parser, c->in.p, &c->req, c->hdrs);
	c->req.arena = &c->arena;
	c->req.listener_ctx = l->ctx;
	c->req.conn = c;
	net_response_init(&c->resp);
	net_call_handler(l, &c->req, &c->resp);
	c->n_served++;
	bool keep = c->parser.keep_alive && !atomic_load(&s->stopping);
	conn_start_response(c, keep, slice_eq_cstr(c->req.method, "HEAD"));
}

/* The response is out: reset for the next request, or close. */
static void conn_finish_response(struct net_conn *c)
{
	arena_reset(&c->arena);
	if (c->resp.body.cap > BODY_KEEP_MAX)
		buf_free(&c->resp.body);
	else
		buf_clear(&c->resp.body);
	if (c->close_after) {
		if (c->linger_on_close) {
			shutdown(c->fd, SHUT_WR);
			c->state = CONN_LINGER;
			c->linger_until_ns = clock_mono_ns() + NET_LINGER_NS;
			net_conn_free_input(c);
		} else {
			c->dead = true;
		}
		return;
	}
	size_t end = c->parser.end, left = c->in.len - end;
	if (left)
		memmove(c->in.p, c->in.p + end, left);
	c->in.len = left;
	http1_parser_reset(&c->parser);
	c->sent_continue = false;
	c->req_start_ns = left ? clock_mono_ns() : 0;
	c->state = CONN_READING;
	if (!left && c->in.cap > IN_KEEP_MAX)
		net_conn_free_input(c);
}

/* After HTTP1_MORE: answer Expect: 100-continue, size the buffer for a
 * known body. */
static void conn_head_hints(struct net_conn *c)
{
	struct http1_parser *p = &c->parser;
	if (!p->head_done)
		return;
	if (p->expect_continue && !c->sent_continue && c->in.len == p->head_len) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		c->sent_continue = true;
		if (send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof cont - 1)) {
			c->dead = true;
			return;
		}
	}
	if (p->has_length && !p->chunked) {
		size_t want = p->head_len + (size_t)p->content_length + IN_READ_ROOM;
		int rc = conn_grow_to(c, want);
		if (rc == CLEW_EBUSY)
			conn_send_error(c, 503, NET_MSG_OVER_BUDGET);
		else if (rc < 0)
			conn_send_error(c, 413, "request body too large");
	}
}

/* Drive the HTTP/1.1 state machine as far as the buffered input allows. */
static void conn_process(struct net_conn *c)
{
	while (!c->dead) {
		if (c->state == CONN_WRITING) {
			if (conn_flush(c) <= 0)
				return;
			conn_finish_response(c);
			continue;
		}
		if (c->state != CONN_READING || c->in.len == 0)
			return;
		int rc = http1_parse(&c->parser, c->in.p, &c->in.len);
		if (rc == HTTP1_MORE) {
			conn_head_hints(c);
			if (c->state == CONN_READING)
				return;
		} else if (rc == HTTP1_ERROR) {
			conn_send_error(c, c->parser.status, c->parser.error);
		} else {
			conn_serve_request(c);
		}
	}
}

/* Move frames from nghttp2 to the socket until it is full or nothing is
 * left to send. */
static void conn_h2_pump(struct net_conn *c)
{
	while (!c->dead) {
		h2_conn_send(c);
		if (c->dead || c->out.len == c->out_off || conn_flush(c) <= 0)
			return;
	}
}

static void conn_switch_to_h2(struct net_conn *c)
{
	c->state = CONN_H2;
	if (h2_conn_start(c) < 0 || h2_conn_recv(c, c->in.p, c->in.len) < 0) {
		c->dead = true;
		return;
	}
	net_conn_free_input(c);
	conn_h2_pump(c);
}

static void conn_read_h2(struct net_conn *c)
{
	uint8_t *scratch = c->thread->scratch;
	for (int i = 0; i < 16 && !c->dead; i++) {
		if (c->out.len - c->out_off >= NET_OUT_HIGH_WATER)
			break;
		ssize_t n = recv(c->fd, scratch, NET_SCRATCH_BYTES, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			break;
		}
		if (n == 0) {
			c->peer_closed = true;
			break;
		}
		c->last_active_ns = clock_mono_ns();
		if (h2_conn_recv(c, scratch, (size_t)n) < 0) {
			c->dead = true;
			break;
		}
		conn_h2_pump(c);
		if ((size_t)n < NET_SCRATCH_BYTES)
			break;
	}
}

static void conn_h2_writable(struct net_conn *c)
{
	if (conn_flush(c) <= 0)
		return;
	conn_h2_pump(c);
	if (!c->dead && c->out.len == c->out_off && h2_conn_finished(c))
		c->dead = true;
}

static void conn_drain(struct net_conn *c)
{
	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(c->fd, c->thread->scratch, NET_SCRATCH_BYTES, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->dead = true;
			return;
		}
	}
}

static void conn_readable(struct net_conn *c)
{
	if (c->state == CONN_LINGER) {
		conn_drain(c);
		return;
	}
	if (c->state == CONN_H2) {
		conn_read_h2(c);
		return;
	}
	for (int i = 0; i < 16 && !c->dead && c->state == CONN_READING; i++) {
		int rc = net_conn_reserve(c, IN_READ_ROOM);
		if (rc < 0) {
			if (rc == CLEW_EBUSY)
				conn_send_error(c, 503, NET_MSG_OVER_BUDGET);
			else
				conn_send_error(c, c->parser.head_done ? 413 : 431, "request too large");
			conn_process(c);
			return;
		}
		size_t room = c->in.cap - c->in.len;
		ssize_t n = recv(c->fd, c->in.p + c->in.len, room, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				c->dead = true;
			return;
		}
		if (n == 0) {
			/* half-closed: complete requests were answered already */
			c->peer_closed = true;
			c->dead = true;
			return;
		}
		int64_t now = clock_mono_ns();
		if (c->in.len == 0 && !c->req_start_ns)
			c->req_start_ns = now;
		c->last_active_ns = now;
		c->in.len += (size_t)n;
		if (c->n_served == 0 && c->in.len - (size_t)n < H2_PREFACE_LEN) {
			size_t k = c->in.len < H2_PREFACE_LEN ? c->in.len : H2_PREFACE_LEN;
			if (memcmp(c->in.p, H2_PREFACE, k) == 0) {
				if (k == H2_PREFACE_LEN)
					conn_switch_to_h2(c);
				if (c->state == CONN_H2)
					return;
				continue; /* wait for the whole preface */
			}
		}
		conn_process(c);
		if ((size_t)n < room)
			return;
	}
}

static void conn_event(struct net_conn *c, uint32_t ev)
{
	if ((ev & EPOLLERR) && !(ev & EPOLLIN)) {
		c->dead = true;
	} else {
		if (ev & EPOLLOUT) {
			if (c->state == CONN_H2)
				conn_h2_writable(c);
			else
				conn_process(c);
		}
		if (!c->dead && (ev & (EPOLLIN | EPOLLHUP)))
			conn_readable(c);
		if (!c->dead && c->state == CONN_H2 && c->out.len == c->out_off &&
		    (c->peer_closed || h2_conn_finished(c)))
			c->dead = true;
	}
	if (c->dead)
		conn_close(c);
	else
		conn_set_events(c);
}

/* ---- accepting ---- */

static void listener_accept(struct net_thread *t, struct net_listener *l)
{
	struct http_server *s = t->server;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE)
				log_warn("accept on %s: %s", l->name, strerror(errno));
			return;
		}
		if (atomic_load(&s->n_connections) >= s->cfg.max_connections ||
		    atomic_load(&s->stopping)) {
			metric_add(s->rejected_connections, 1);
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct net_conn *c = xcalloc(1, sizeof *c);
		c->kind = NET_CONN;
		c->fd = fd;
		c->state = CONN_READING;
		c->thread = t;
		c->listener = l;
		buf_init(&c->in, HTTP1_MAX_HEAD_BYTES + (size_t)l->max_body_bytes + 64 * 1024);
		buf_init(&c->out, 1024 * 1024);
		buf_init(&c->resp.body, NET_RESP_BODY_MAX);
		arena_init(&c->arena, 0);
		http1_parser_init(&c->parser, l->max_body_bytes);
		c->last_active_ns = clock_mono_ns();
		c->events = EPOLLIN;
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = t->conns;
		if (t->conns)
			t->conns->prev = c;
		t->conns = c;
		t->n_conns++;
		atomic_fetch_add(&s->n_connections, 1);
	}
}

/* ---- the I/O thread ---- */

static int64_t sweep_interval_ns(const struct http_server *s)
{
	int64_t ms = s->cfg.idle_timeout_ms < s->cfg.request_timeout_ms ? s->cfg.idle_timeout_ms
									 : s->cfg.request_timeout_ms;
	ms /= 4;
	if (ms < 20)
		ms = 20;
	if (ms > 1000)
		ms = 1000;
	return ms * MS_NS;
}

/* Apply timeouts; while stopping, close whatever has nothing in flight. */
static void thread_sweep(struct net_thread *t, int64_t now)
{
	struct http_server *s = t->server;
	bool stopping = atomic_load(&s->stopping);
	int64_t req_to = (int64_t)s->cfg.request_timeout_ms * MS_NS;
	int64_t idle_to = (int64_t)s->cfg.idle_timeout_ms * MS_NS;
	struct net_conn *next;
	for (struct net_conn *c = t->conns; c; c = next) {
		next = c->next;
		switch (c->state) {
		case CONN_READING:
			if (stopping) {
				c->dead = true;
			} else if (c->req_start_ns && now - c->req_start_ns > req_to) {
				conn_send_error(c, 408, "request took too long to arrive");
				conn_process(c);
			} else if (!c->req_start_ns && now - c->last_active_ns > idle_to) {
				c->dead = true;
			} else if (c->in.len == 0 && c->in.p && now - c->last_active_ns > IN_IDLE_FREE_NS) {
				net_conn_free_input(c);
			}
			break;
		case CONN_WRITING:
			if (now - c->last_active_ns > req_to)
				c->dead = true;
			break;
		case CONN_LINGER:
			if (now > c->linger_until_ns || stopping)
				c->dead = true;
			break;
		case CONN_H2:
			if (stopping && !c->goaway_sent) {
				c->goaway_sent = true;
				h2_conn_goaway(c);
				conn_h2_pump(c);
			}
			if (c->out.len > c->out_off) {
				if (now - c->last_active_ns > req_to)
					c->dead = true;
			} else if (h2_conn_idle(c)) {
				if (stopping || now - c->last_active_ns > idle_to || h2_conn_finished(c))
					c->dead = true;
			} else if (h2_conn_request_timed_out(c, now, req_to)) {
				c->dead = true;
			}
			break;
		}
		if (c->dead)
			conn_close(c);
		else
			conn_set_events(c);
	}
}

static void thread_remove_listeners(struct net_thread *t)
{
	struct http_server *s = t->server;
	for (int i = 0; i < s->n_listeners; i++)
		epoll_ctl(t->epfd, EPOLL_CTL_DEL, s->listeners[i]->fd, NULL);
	t->listeners_removed = true;
}

static void *thread_main(void *arg)
{
	struct net_thread *t = arg;
	struct http_server *s = t->server;
	struct epoll_event evs[64];
	int64_t interval = sweep_interval_ns(s);
	t->next_sweep_ns = clock_mono_ns() + interval;
	for (;;) {
		bool stopping = atomic_load(&s->stopping);
		int64_t now = clock_mono_ns();
		int timeout_ms = stopping ? 20 : (int)((t->next_sweep_ns - now) / MS_NS) + 1;
		if (timeout_ms < 0)
			timeout_ms = 0;
		int n = epoll_wait(t->epfd, evs, 64, timeout_ms);
		for (int i = 0; i < n; i++) {
			enum net_kind *kind = evs[i].data.ptr;
			if (*kind == NET_LISTENER) {
				if (!atomic_load(&s->stopping))
					listener_accept(t, (struct net_listener *)kind);
			} else if (*kind == NET_CONN) {
				conn_event((struct net_conn *)kind, evs[i].events);
			} else {
				uint64_t v;
				if (read(t->wakefd, &v, sizeof v) < 0)
					continue;
			}
		}
		stopping = atomic_load(&s->stopping);
		now = clock_mono_ns();
		if (stopping && !t->listeners_removed)
			thread_remove_listeners(t);
		if (stopping || now >= t->next_sweep_ns) {
			thread_sweep(t, now);
			t->next_sweep_ns = now + interval;
		}
		if (stopping && (t->n_conns == 0 || now >= atomic_load(&s->stop_deadline_ns)))
			break;
	}
	while (t->conns)
		conn_close(t->conns);
	return NULL;
}

/* ---- the server ---- */

struct http_server *http_server_new(const struct http_server_config *cfg)
{
	struct http_server *s = xcalloc(1, sizeof *s);
	if (cfg)
		s->cfg = *cfg;
	if (s->cfg.io_threads <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		s->cfg.io_threads = cpus > 0 ? (int)(2 * cpus) : 4;
		if (s->cfg.io_threads < 4)
			s->cfg.io_threads = 4;
	}
	if (!s->cfg.max_connections)
		s->cfg.max_connections = 10000;
	if (!s->cfg.idle_timeout_ms)
		s->cfg.idle_timeout_ms = 120000;
	if (!s->cfg.request_timeout_ms)
		s->cfg.request_timeout_ms = 30000;
	const char *name = "clew_http_rejected_total";
	const char *help = "HTTP requests and connections refused by the server, by reason";
	s->rejected_memory = metric_counter(name, help, "reason=\"memory\"");
	s->rejected_size = metric_counter(name, help, "reason=\"size\"");
	s->rejected_timeout = metric_counter(name, help, "reason=\"timeout\"");
	s->rejected_malformed = metric_counter(name, help, "reason=\"malformed\"");
	s->rejected_connections = metric_counter(name, help, "reason=\"connections\"");
	return s;
}

/* Split "host:port" / "[v6]:port" / ":port". */
static int split_addr(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon = strrchr(addr, ':');
	if (!colon || colon[1] == '\0' || (size_t)(colon - addr) >= hostlen || strlen(colon + 1) >= portlen)
		return CLEW_EINVAL;
	const char *h = addr;
	size_t hl = (size_t)(colon - addr);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	long v = 0;
	for (const char *q = port; *q; q++) {
		if (*q < '0' || *q > '9')
			return CLEW_EINVAL;
		v = v * 10 + (*q - '0');
		if (v > 65535)
			return CLEW_EINVAL;
	}
	return 0;
}

int http_server_listen(struct http_server *s, const struct http_listener_config *lc, char *errbuf,
		       size_t errlen)
{
	const char *name = lc->name ? lc->name : "http";
	const char *addr = lc->addr ? lc->addr : "";
	char host[64], port[16];
	struct addrinfo *ai = NULL;
	int fd = -1, rc;
	if (s->started || s->n_listeners >= NET_MAX_LISTENERS) {
		snprintf(errbuf, errlen, "cannot listen on %s (%s): too many listeners or server started", addr,
			 name);
		return CLEW_ESTATE;
	}
	if (split_addr(addr, host, sizeof host, port, sizeof port) < 0) {
		snprintf(errbuf, errlen, "cannot listen on %s (%s): expected host:port", addr, name);
		return CLEW_EINVAL;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (gai != 0) {
		snprintf(errbuf, errlen, "cannot listen on %s (%s): %s", addr, name, gai_strerror(gai));
		return CLEW_EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto sys_err;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0)
		goto sys_err;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		goto sys_err;
	int bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
						  : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(ai);

	struct net_listener *l = xcalloc(1, sizeof *l);
	l->kind = NET_LISTENER;
	l->fd = fd;
	l->index = s->n_listeners;
	l->port = bound_port;
	snprintf(l->name, sizeof l->name, "%s", name);
	snprintf(l->host, sizeof l->host, "%s", host[0] ? host : "0.0.0.0");
	l->handler = lc->handler;
	l->ctx = lc->ctx;
	l->max_body_bytes = lc->max_body_bytes ? lc->max_body_bytes : NET_DEFAULT_MAX_BODY;
	l->server = s;
	char labels[64];
	snprintf(labels, sizeof labels, "listener=\"%s\"", l->name);
	l->latency = metric_histogram("clew_http_request_duration_seconds",
				      "Time from a whole request to its response, by listener", labels,
				      METRIC_LATENCY_BOUNDS, METRIC_LATENCY_N_BOUNDS);
	s->listeners[s->n_listeners++] = l;
	log_info("listening: %s %s:%d", l->name, l->host, l->port);
	return l->index;

sys_err:
	rc = -errno;
	snprintf(errbuf, errlen, "cannot listen on %s (%s): %s", addr, name, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

int http_server_port(struct http_server *s, int listener)
{
	if (listener < 0 || listener >= s->n_listeners)
		return CLEW_EINVAL;
	return s->listeners[listener]->port;
}

int http_server_start(struct http_server *s)
{
	int rc = 0;
	if (s->started)
		return CLEW_ESTATE;
	s->n_threads = s->cfg.io_threads;
	s->threads = xcalloc((size_t)s->n_threads, sizeof *s->threads);
	for (int i = 0; i < s->n_threads; i++) {
		struct net_thread *t = &s->threads[i];
		t->server = s;
		t->wake_kind = NET_WAKE;
		t->epfd = epoll_create1(EPOLL_CLOEXEC);
		t->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (t->epfd < 0 || t->wakefd < 0) {
			rc = -errno;
			goto out;
		}
		t->scratch = xmalloc(NET_SCRATCH_BYTES);
		struct epoll_event e = {.events = EPOLLIN, .data.ptr = &t->wake_kind};
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wakefd, &e) < 0) {
			rc = -errno;
			goto out;
		}
		for (int k = 0; k < s->n_listeners; k++) {
			struct epoll_event le = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = s->listeners[k]};
			if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, s->listeners[k]->fd, &le) < 0) {
				rc = -errno;
				goto out;
			}
		}
	}
	s->started = true;
	for (int i = 0; i < s->n_threads; i++) {
		int e = pthread_create(&s->threads[i].tid, NULL, thread_main, &s->threads[i]);
		if (e != 0) {
			rc = -e;
			http_server_stop(s, 0);
			return rc;
		}
		s->threads[i].started = true;
	}
	return 0;
out:
	for (int i = 0; i < s->n_threads; i++) {
		if (s->threads[i].epfd > 0)
			close(s->threads[i].epfd);
		if (s->threads[i].wakefd > 0)
			close(s->threads[i].wakefd);
		free(s->threads[i].scratch);
	}
	free(s->threads);
	s->threads = NULL;
	s->n_threads = 0;
	return rc;
}

void http_server_stop(struct http_server *s, uint32_t timeout_ms)
{
	if (!s->started)
		return;
	atomic_store(&s->stop_deadline_ns, clock_mono_ns() + (int64_t)timeout_ms * MS_NS);
	atomic_store(&s->stopping, true);
	for (int i = 0; i < s->n_listeners; i++)
		shutdown(s->listeners[i]->fd, SHUT_RDWR);
	uint64_t one = 1;
	for (int i = 0; i < s->n_threads; i++)
		if (write(s->threads[i].wakefd, &one, sizeof one) < 0)
			log_warn("waking I/O thread: %s", strerror(errno));
	for (int i = 0; i < s->n_threads; i++) {
		struct net_thread *t = &s->threads[i];
		if (t->started)
			pthread_join(t->tid, NULL);
		close(t->epfd);
		close(t->wakefd);
		free(t->scratch);
	}
	free(s->threads);
	s->threads = NULL;
	s->n_threads = 0;
	for (int i = 0; i < s->n_listeners; i++) {
		close(s->listeners[i]->fd);
		s->listeners[i]->fd = -1;
	}
	s->started = false;
}

void http_server_free(struct http_server *s)
{
	if (!s)
		return;
	http_server_stop(s, 0);
	for (int i = 0; i < s->n_listeners; i++) {
		if (s->listeners[i]->fd >= 0)
			close(s->listeners[i]->fd);
		free(s->listeners[i]);
	}
	free(s);
}

void http_server_counts(struct http_server *s, uint64_t *connections, uint64_t *requests)
{
	if (connections)
		*connections = atomic_load(&s->n_connections);
	if (requests)
		*requests = atomic_load(&s->n_requests);
}
