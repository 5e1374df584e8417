/* Private to net/: the server, its listeners, I/O threads and connections,
 * shared by server.c (event loops, HTTP/1.1), http2.c (HTTP/2 and gRPC) and
 * http_util.c (small helpers). Nothing outside net/ includes this. */
#ifndef CLEW_NET_NET_INT_H
#define CLEW_NET_NET_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "net/http.h"
#include "net/http1.h"

#define NET_DEFAULT_MAX_BODY (64u * 1024 * 1024)
#define NET_RESP_BODY_MAX (64u * 1024 * 1024)
#define NET_MAX_LISTENERS 16
#define NET_LINGER_NS (2 * 1000000000LL)
#define NET_SCRATCH_BYTES (64 * 1024)
#define NET_OUT_HIGH_WATER (256 * 1024) /* stop producing output past this */

enum net_kind { NET_LISTENER = 1, NET_CONN, NET_WAKE };

struct metric;
struct h2_conn;
struct http_server;

struct net_listener {
	enum net_kind kind; /* NET_LISTENER; first, for epoll dispatch */
	int fd;
	int index;
	int port;
	char name[32];
	char host[64];
	http_handler_fn handler;
	void *ctx;
	uint64_t max_body_bytes;
	struct metric *latency; /* clew_http_request_duration_seconds{listener=name} */
	struct http_server *server;
};

struct net_thread {
	int epfd;
	int wakefd;
	enum net_kind wake_kind; /* epoll data for wakefd points here */
	pthread_t tid;
	bool started;
	struct http_server *server;
	struct net_conn *conns; /* doubly linked, for the timeout sweep */
	uint32_t n_conns;
	bool listeners_removed;
	uint8_t *scratch; /* NET_SCRATCH_BYTES, for HTTP/2 reads and draining */
	int64_t next_sweep_ns;
	int64_t date_sec; /* cached Date header */
	char date[40];
};

enum conn_state {
	CONN_READING,  /* HTTP/1.1: waiting for or reading a request */
	CONN_WRITING,  /* a response is being written */
	CONN_LINGER,   /* error sent, write side shut, draining input */
	CONN_H2,       /* HTTP/2: nghttp2 session drives it */
};

struct net_conn {
	enum net_kind kind; /* NET_CONN; first, for epoll dispatch */
	int fd;
	enum conn_state state;
	struct net_thread *thread;
	struct net_listener *listener;
	struct net_conn *prev, *next;
	uint32_t events; /* current epoll interest */
	/* input: the request being received, pipelined bytes after it */
	struct buf in;
	uint64_t charged; /* bytes of in.cap charged to the memory budget */
	struct http1_parser parser;
	bool sent_continue;
	bool peer_closed;
	bool close_after;     /* close once the output is flushed */
	bool linger_on_close; /* ... and drain the unread request first */
	bool dead;	      /* close at the end of this event */
	bool goaway_sent;
	uint64_t n_served;
	int64_t req_start_ns; /* first byte of the request in progress, 0 if none */
	int64_t last_active_ns;
	int64_t linger_until_ns;
	/* output: head bytes, then body (HTTP/1.1) */
	struct buf out;
	size_t out_off;
	struct buf *out_body;
	size_t body_off;
	/* the request being served (HTTP/1.1) */
	struct http_request req;
	struct http_response resp;
	struct arena arena;
	struct http_header *hdrs; /* HTTP1_MAX_HEADERS entries, allocated once */
	struct h2_conn *h2;
};

struct http_server {
	struct http_server_config cfg;
	struct net_listener *listeners[NET_MAX_LISTENERS];
	int n_listeners;
	struct net_thread *threads;
	int n_threads;
	bool started;
	_Atomic bool stopping;
	_Atomic int64_t stop_deadline_ns;
	_Atomic uint64_t n_connections;
	_Atomic uint64_t n_requests;
	struct metric *rejected_memory;
	struct metric *rejected_size;
	struct metric *rejected_timeout;
	struct metric *rejected_malformed;
	struct metric *rejected_connections;
};

/* Grow c->in so that at least n more bytes fit, charging the growth to the
 * memory budget. 0, CLEW_EBUSY (budget refused), CLEW_ELIMIT or CLEW_ENOMEM. */
int net_conn_reserve(struct net_conn *c, size_t n);

/* Free c->in and release its charge. */
void net_conn_free_input(struct net_conn *c);

/* Charge / release n bytes of the server's budget (no-op without one). */
bool net_charge(struct http_server *s, uint64_t n);
void net_release(struct http_server *s, uint64_t n);

/* Run the listener's handler for req and record latency and the request
 * count. resp must be prepared by net_response_init. */
void net_call_handler(struct net_listener *l, struct http_request *req, struct http_response *resp);

/* Reset resp for a new request: status 200, no headers, empty body (cap
 * NET_RESP_BODY_MAX, keeping any allocation), gRPC status 0. */
void net_response_init(struct http_response *resp);

/* Fill resp with clew's JSON error body {"error":{"code":..,"message":..}}
 * and, for 503, Retry-After: 1. */
void net_error_response(struct http_response *resp, struct http_request *req, int status, const char *msg);

/* The standard reason phrase of an HTTP status ("OK", "Not Found" ...). */
const char *net_status_reason(int status);

/* Append s percent-encoded as gRPC requires for grpc-message. */
void net_grpc_percent_encode(struct buf *b, struct slice s);

/* Append base64 of p without padding (for -bin metadata). */
void net_base64_unpadded(struct buf *b, const uint8_t *p, size_t n);

/* The message clew sends when its memory budget refuses a request. */
#define NET_MSG_OVER_BUDGET "clew is over its memory budget; retry later"

#endif
