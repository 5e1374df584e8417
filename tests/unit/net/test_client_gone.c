/* Tests of http_request_client_gone with real sockets on 127.0.0.1: a
 * handler that waits for its client sees it go away (close, reset) and
 * stops early; a client that stays is never reported gone; requests built
 * outside net are never gone. */
#include "../../testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/clock.h"
#include "net/http.h"

#define GONE_WAIT_MS 3000

static _Atomic int gone_seen;	 /* 1 once the waiting handler saw its client go */
static _Atomic int handler_done; /* the waiting handler returned */
static _Atomic int handler_started;

/* /wait: loop until the client is gone (or GONE_WAIT_MS), as a query would
 * between pages. /check: answer "gone" or "here" at once. */
static void gone_handler(void *ctx, struct http_request *req, struct http_response *resp)
{
	if (slice_eq_cstr(req->path, "/wait")) {
		atomic_store(&handler_started, 1);
		int64_t until = clock_mono_ns() + (int64_t)GONE_WAIT_MS * 1000000;
		bool gone = false;
		while (!gone && clock_mono_ns() < until) {
			gone = http_request_client_gone(req);
			usleep(2000);
		}
		atomic_store(&gone_seen, gone ? 1 : 0);
		http_response_text(resp, req, 200, "text/plain", gone ? SLICE_LIT("gone") : SLICE_LIT("here"));
		atomic_store(&handler_done, 1);
		return;
	}
	bool gone = http_request_client_gone(req);
	http_response_text(resp, req, 200, "text/plain", gone ? SLICE_LIT("gone") : SLICE_LIT("here"));
}

static int gone_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void gone_send(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

/* Read until the body holds want or timeout; true if it does. */
static bool gone_read_has(int fd, const char *want, int timeout_ms)
{
	char buf[4096];
	size_t len = 0;
	int64_t until = clock_mono_ns() + (int64_t)timeout_ms * 1000000;
	while (clock_mono_ns() < until && len < sizeof buf - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, want))
			return true;
	}
	return false;
}

static bool wait_flag(_Atomic int *flag, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 5 && !atomic_load(flag); i++)
		usleep(5000);
	return atomic_load(flag) != 0;
}

static struct http_server *gone_server(int *port)
{
	struct http_server_config cfg = {.io_threads = 2, .idle_timeout_ms = 5000, .request_timeout_ms = 5000};
	struct http_server *s = http_server_new(&cfg);
	struct http_listener_config l = {.name = "gone", .addr = "127.0.0.1:0", .handler = gone_handler};
	char err[256];
	int idx = http_server_listen(s, &l, err, sizeof err);
	if (idx < 0 || http_server_start(s) < 0) {
		http_server_free(s);
		return NULL;
	}
	*port = http_server_port(s, idx);
	return s;
}

TEST(net_client_gone_on_close)
{
	int port;
	struct http_server *s = gone_server(&port);
	CHECK(s != NULL);
	/* a client that stays gets "here" */
	int fd = gone_connect(port);
	CHECK(fd >= 0);
	gone_send(fd, "GET /check HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(gone_read_has(fd, "here", 3000));
	close(fd);

	/* a client that closes while its handler runs: seen well before the
	 * handler's own limit */
	atomic_store(&gone_seen, 0);
	atomic_store(&handler_done, 0);
	atomic_store(&handler_started, 0);
	fd = gone_connect(port);
	CHECK(fd >= 0);
	gone_send(fd, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(wait_flag(&handler_started, 2000));
	usleep(50 * 1000);
	CHECK_INT(atomic_load(&handler_done), ==, 0); /* still waiting: not gone yet */
	int64_t t0 = clock_mono_ns();
	close(fd);
	CHECK(wait_flag(&handler_done, 2500));
	CHECK_INT(atomic_load(&gone_seen), ==, 1);
	CHECK_INT((clock_mono_ns() - t0) / 1000000, <, 1000);

	/* a reset (SO_LINGER 0) is seen as well */
	atomic_store(&gone_seen, 0);
	atomic_store(&handler_done, 0);
	atomic_store(&handler_started, 0);
	fd = gone_connect(port);
	CHECK(fd >= 0);
	gone_send(fd, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(wait_flag(&handler_started, 2000));
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
	CHECK(wait_flag(&handler_done, 2500));
	CHECK_INT(atomic_load(&gone_seen), ==, 1);

	/* the server still serves new clients */
	fd = gone_connect(port);
	CHECK(fd >= 0);
	gone_send(fd, "GET /check HTTP/1.1\r\nHost: x\r\n\r\n");
	CHECK(gone_read_has(fd, "here", 3000));
	close(fd);
	http_server_stop(s, 2000);
	http_server_free(s);
}

TEST(net_client_gone_without_connection)
{
	struct http_request req = {.proto = HTTP_PROTO_1};
	CHECK(!http_request_client_gone(&req));
}
