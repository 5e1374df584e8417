/* The HTTP server every port of clew is served by: epoll event loops on
 * several I/O threads, HTTP/1.1 (keep-alive, chunked and Content-Length
 * bodies, pipelining) and HTTP/2 cleartext through nghttp2 (prior knowledge
 * or the HTTP/2 preface on any listener), gRPC unary framing on top of
 * HTTP/2. A handler sees one complete request and fills one response; it
 * runs on the I/O thread and may block (e.g. waiting for the WAL). */
#ifndef CLEW_NET_HTTP_H
#define CLEW_NET_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/slice.h"

struct budget;
struct net_conn;

enum http_proto {
	HTTP_PROTO_1 = 1, /* HTTP/1.x */
	HTTP_PROTO_2,	  /* HTTP/2, not gRPC */
	HTTP_PROTO_GRPC,  /* HTTP/2 with content-type application/grpc */
};

struct http_header {
	struct slice name; /* lowercase for HTTP/2; as sent for HTTP/1.1 */
	struct slice value;
};

struct http_request {
	enum http_proto proto;
	struct slice method;
	struct slice path;  /* without the query string, not percent-decoded */
	struct slice query; /* after '?', empty if none */
	struct http_header *headers;
	uint32_t n_headers;
	/* The body as received: de-chunked, but content-encoding not undone.
	 * For gRPC: the message of the single length-prefixed frame, and
	 * grpc_compressed tells whether its flag byte said compressed. */
	struct slice body;
	bool grpc_compressed;
	struct arena *arena; /* per-request, freed after the response is sent */
	void *listener_ctx;  /* the ctx of the listener it came in on */
	struct net_conn *conn; /* net's own: the connection it came on (NULL in tests) */
};

#define HTTP_MAX_RESPONSE_HEADERS 16

struct http_response {
	int status; /* HTTP status; for gRPC the HTTP status stays 200 */
	struct http_header headers[HTTP_MAX_RESPONSE_HEADERS];
	uint32_t n_headers;
	struct buf body; /* for gRPC: the response message, framed by net */
	/* gRPC only: sent in the trailers. */
	int grpc_status;
	struct slice grpc_message;	       /* percent-encoded by net */
	struct slice grpc_status_details_bin; /* raw google.rpc.Status bytes; base64'd by net */
};

/* The first header named name (case-insensitive), or NULL. */
const struct slice *http_request_header(const struct http_request *req, const char *name);

/* Whether the client of req went away while its handler runs: the peer
 * closed or half-closed the connection, or it failed (HTTP/1.1 and HTTP/2
 * alike; a reset of a single HTTP/2 stream is not seen until the handler
 * returns). One poll(2) with no wait; safe from any thread while the
 * handler runs, so long-running handlers (queries) can stop early. false
 * for a request that did not come from a connection. */
bool http_request_client_gone(const struct http_request *req);

/* Add a response header; name and value are copied into the request arena.
 * Silently ignored past HTTP_MAX_RESPONSE_HEADERS. */
void http_response_header(struct http_response *resp, struct http_request *req, const char *name,
			  struct slice value);

/* Fill resp with status, content type and body text. */
void http_response_text(struct http_response *resp, struct http_request *req, int status,
			const char *content_type, struct slice body);

typedef void (*http_handler_fn)(void *ctx, struct http_request *req, struct http_response *resp);

struct http_listener_config {
	const char *name; /* for logs: "otlp-grpc", "otlp-http", "zipkin", "http" */
	const char *addr; /* "host:port"; port 0 picks a free port */
	http_handler_fn handler;
	void *ctx;
	uint64_t max_body_bytes; /* raw body cap; over it: 413 (RESOURCE_EXHAUSTED on gRPC); 0: 64 MiB */
};

struct http_server_config {
	int io_threads;		      /* 0: 2 x CPUs, at least 4 (handlers may block) */
	uint32_t max_connections;     /* over it new connections are closed; 0: 10,000 */
	uint32_t idle_timeout_ms;     /* close keep-alive connections idle this long; 0: 120 s */
	uint32_t request_timeout_ms;  /* a request must arrive whole within this (408); 0: 30 s */
	struct budget *memory;	      /* request buffers are charged here; NULL = none */
};

struct http_server;

/* A server with no listeners yet. Owned by the caller (http_server_free). */
struct http_server *http_server_new(const struct http_server_config *cfg);

/* Bind and listen now, so start-up errors are immediate. Returns the
 * listener index (>= 0), or -errno (-EADDRINUSE ...) with a message in
 * errbuf naming the address. */
int http_server_listen(struct http_server *s, const struct http_listener_config *l, char *errbuf,
		       size_t errlen);

/* The port a listener is bound to (useful after port 0). */
int http_server_port(struct http_server *s, int listener);

/* Start the I/O threads. 0 or -errno. */
int http_server_start(struct http_server *s);

/* Graceful stop: close the listeners, let requests in flight finish and
 * their responses go out (at most timeout_ms), close every connection, join
 * the threads. */
void http_server_stop(struct http_server *s, uint32_t timeout_ms);

void http_server_free(struct http_server *s);

/* Connections open now and requests served so far, for /metrics. */
void http_server_counts(struct http_server *s, uint64_t *connections, uint64_t *requests);

#endif
