/* HTTP/2 cleartext (prior knowledge) and gRPC unary on top of it, through
 * nghttp2. server.c hands a connection over here when its first bytes are
 * the HTTP/2 connection preface; complete streams are served by the same
 * listener handlers as HTTP/1.1. Private to net/. */
#ifndef CLEW_NET_HTTP2_H
#define CLEW_NET_HTTP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

struct net_conn;

/* Start an HTTP/2 server session on c (server SETTINGS queued in c->out).
 * 0 or CLEW_ENOMEM. */
int h2_conn_start(struct net_conn *c);

/* Feed received bytes (starting with the preface on the first call); runs
 * the handlers of streams that became complete and queues their responses.
 * 0, or a negative code when the connection must be closed. */
int h2_conn_recv(struct net_conn *c, const uint8_t *p, size_t n);

/* Move pending frames into c->out, up to the output high-water mark. */
void h2_conn_send(struct net_conn *c);

/* True when the session neither wants to read nor to write. */
bool h2_conn_finished(struct net_conn *c);

/* True when no stream is open (the connection is idle). */
bool h2_conn_idle(struct net_conn *c);

/* True if a stream has been incomplete longer than timeout_ns. */
bool h2_conn_request_timed_out(struct net_conn *c, int64_t now_ns, int64_t timeout_ns);

/* Queue GOAWAY: no new streams; those open are finished. */
void h2_conn_goaway(struct net_conn *c);

/* Free the session and every stream. */
void h2_conn_free(struct net_conn *c);

#endif
