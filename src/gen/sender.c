/* clew gen's output: encoding, pacing, libcurl delivery with retries, and
 * the record file. gen depends on api/trace_json.h for the OTLP/JSON
 * encoding only (see docs/architecture.md). */
#include "gen/sender.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/trace_json.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"
#include "ingest/otlp_encode.h"

#define SENDER_MAX_BODY (256u << 20)
#define SENDER_MAX_ATTEMPTS 8

void sender_encode(const struct span_batch *b, enum gen_protocol p, struct buf *out)
{
	if (p == GEN_PROTO_JSON) {
		buf_append_cstr(out, "{\"resourceSpans\":");
		trace_json_write_otlp(b, out, TRACE_JSON_OTLP);
		buf_append_byte(out, '}');
		return;
	}
	size_t at = out->len;
	if (p == GEN_PROTO_GRPC)
		buf_append(out, "\0\0\0\0\0", 5);
	otlp_encode_request(b, out);
	if (p == GEN_PROTO_GRPC && !out->err) {
		uint32_t n = (uint32_t)(out->len - at - 5);
		out->p[at + 1] = (uint8_t)(n >> 24);
		out->p[at + 2] = (uint8_t)(n >> 16);
		out->p[at + 3] = (uint8_t)(n >> 8);
		out->p[at + 4] = (uint8_t)n;
	}
}

void sender_url(const char *target, enum gen_protocol p, char *out, size_t cap)
{
	if (!target || !*target)
		target = p == GEN_PROTO_GRPC ? "127.0.0.1:4317" : "127.0.0.1:4318";
	const char *sep = strstr(target, "://");
	const char *scheme = sep ? "" : "http://";
	const char *host = sep ? sep + 3 : target;
	size_t host_len = strcspn(host, "/");
	if (p == GEN_PROTO_GRPC)
		snprintf(out, cap, "%s%.*s/opentelemetry.proto.collector.trace.v1.TraceService/Export", scheme,
			 (int)(host + host_len - target), target);
	else
		snprintf(out, cap, "%s%s%s", scheme, target, host[host_len] ? "" : "/v1/traces");
}

/* ---- pacing ---- */

static void sleep_ns(int64_t ns)
{
	if (ns <= 0)
		return;
	struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
	nanosleep(&ts, NULL);
}

struct pace {
	int64_t t0;
	double rate;
};

/* How long to wait before sending `sent` spans more keeps the rate. */
static int64_t pace_wait(const struct pace *p, uint64_t sent)
{
	if (p->rate <= 0)
		return 0;
	int64_t due = p->t0 + (int64_t)((double)sent / p->rate * 1e9);
	return due - clock_mono_ns();
}

static bool limits_reached(const struct sender_config *c, const struct pace *p, uint64_t spans)
{
	if (c->stop && *c->stop)
		return true;
	if (c->max_spans && spans >= c->max_spans)
		return true;
	if (c->duration_ns && clock_mono_ns() - p->t0 >= c->duration_ns)
		return true;
	return false;
}

/* Next batch, no bigger than what --spans still allows. */
static int next_batch(struct gen *g, const struct sender_config *c, uint64_t generated, struct arena *a,
		      struct span_batch *b)
{
	uint32_t saved = g->c.batch_spans;
	if (c->max_spans && c->max_spans - generated < saved)
		g->c.batch_spans = (uint32_t)(c->max_spans - generated);
	int rc = gen_next_batch(g, a, b);
	g->c.batch_spans = saved;
	return rc;
}

/* ---- files ---- */

static int run_file(struct gen *g, const struct sender_config *c, struct sender_stats *st)
{
	FILE *f = strcmp(c->out_path, "-") == 0 ? stdout : fopen(c->out_path, "wb");
	if (!f)
		return -errno;
	struct arena a;
	struct span_batch b;
	struct buf out;
	arena_init(&a, 0);
	buf_init(&out, SENDER_MAX_BODY);
	struct pace p = {clock_mono_ns(), c->rate};
	int rc = 0;
	while (!limits_reached(c, &p, st->spans)) {
		sleep_ns(pace_wait(&p, st->spans));
		if ((rc = next_batch(g, c, st->spans, &a, &b)) < 0)
			break;
		buf_clear(&out);
		buf_append_u32le(&out, 0);
		otlp_encode_request(&b, &out);
		if (out.err) {
			rc = out.err;
			break;
		}
		uint32_t n = (uint32_t)(out.len - 4);
		memcpy(out.p, &(uint8_t[4]){(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)}, 4);
		if (fwrite(out.p, 1, out.len, f) != out.len) {
			rc = -errno;
			break;
		}
		st->spans += b.n_spans;
		st->batches++;
		st->bytes += out.len;
	}
	if (fflush(f) != 0 && rc == 0)
		rc = -errno;
	if (f != stdout && fclose(f) != 0 && rc == 0)
		rc = -errno;
	buf_free(&out);
	arena_reset(&a);
	return rc;
}

/* ---- network ---- */

struct slot {
	CURL *easy;
	struct buf body;
	uint32_t n_spans;
	int attempts;
	bool busy, waiting; /* waiting: a retry is due at retry_at */
	int64_t retry_at;
	int grpc_status; /* -1 until seen */
	char grpc_message[128];
};

struct net {
	const struct sender_config *c;
	CURLM *multi;
	struct curl_slist *headers;
	char url[1024];
	struct slot *slots;
	uint32_t n_slots, in_flight;
};

/* A small decimal number at p (spaces skipped), or -1. */
static int atoi_like(const char *p, size_t n)
{
	int v = -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' && v < 0)
			continue;
		if (p[i] < '0' || p[i] > '9')
			break;
		v = (v < 0 ? 0 : v * 10) + (p[i] - '0');
		if (v > 1000)
			break;
	}
	return v;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
	struct slot *s = ud;
	size_t len = size * n;
	if (len > 12 && strncasecmp(p, "grpc-status:", 12) == 0)
		s->grpc_status = atoi_like(p + 12, len - 12);
	else if (len > 13 && strncasecmp(p, "grpc-message:", 13) == 0) {
		size_t m = len - 13 < sizeof s->grpc_message - 1 ? len - 13 : sizeof s->grpc_message - 1;
		memcpy(s->grpc_message, p + 13, m);
		s->grpc_message[m] = 0;
	}
	return len;
}

static size_t discard_cb(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* Start (or restart) slot s's request. gRPC gets a fresh easy handle per
 * request: curl before 8.0 fails a second request on a reused
 * prior-knowledge HTTP/2 handle or connection, so only a slot's first
 * request asks for prior knowledge and later ones ask for HTTP/2, which
 * takes the open connection; a large receive buffer keeps the trailers. */
static void start_request(struct net *n, struct slot *s)
{
	bool reuse = s->easy != NULL;
	if (n->c->protocol == GEN_PROTO_GRPC && s->easy) {
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	if (!s->easy) {
		s->easy = curl_easy_init();
		if (!s->easy)
			abort();
		curl_easy_setopt(s->easy, CURLOPT_URL, n->url);
		curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, n->headers);
		curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, header_cb);
		curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s);
		curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, discard_cb);
		curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
		curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 60000L);
		curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
		if (n->c->protocol == GEN_PROTO_GRPC) {
			curl_easy_setopt(s->easy, CURLOPT_BUFFERSIZE, (long)CURL_MAX_READ_SIZE);
			curl_easy_setopt(s->easy, CURLOPT_HTTP_VERSION,
					 reuse ? (long)CURL_HTTP_VERSION_2_0 : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		}
	}
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body.p);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
	s->grpc_status = -1;
	s->grpc_message[0] = 0;
	s->busy = true;
	s->waiting = false;
	s->attempts++;
	curl_multi_add_handle(n->multi, s->easy);
	n->in_flight++;
}

__attribute__((format(printf, 2, 3))) static void note_error(struct sender_stats *st, const char *fmt, ...)
{
	if (st->first_error[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->first_error, sizeof st->first_error, fmt, ap);
	va_end(ap);
}

/* A request of s finished with result rc and HTTP code; account for it or
 * schedule a retry. */
static void finish_request(struct net *n, struct slot *s, CURLcode rc, long code, bool stopping,
			   struct sender_stats *st)
{
	bool grpc = n->c->protocol == GEN_PROTO_GRPC;
	bool ok = rc == CURLE_OK && code == 200 && (!grpc || s->grpc_status == 0);
	bool retryable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_SEND_ERROR ||
			 rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || code == 429 || code == 502 ||
			 code == 503 || code == 504 || (grpc && (s->grpc_status == 14 || s->grpc_status == 8));
	if (ok) {
		st->spans += s->n_spans;
		st->batches++;
		st->bytes += s->body.len;
		s->busy = false;
		return;
	}
	if (rc != CURLE_OK)
		note_error(st, "request failed: %s", curl_easy_strerror(rc));
	else if (grpc && code == 200)
		note_error(st, "gRPC status %d: %s", s->grpc_status, s->grpc_message);
	else
		note_error(st, "HTTP status %ld", code);
	if (retryable && !stopping && s->attempts < SENDER_MAX_ATTEMPTS) {
		int64_t backoff = 100000000LL << (s->attempts - 1);
		if (backoff > 5000000000LL)
			backoff = 5000000000LL;
		s->waiting = true;
		s->retry_at = clock_mono_ns() + backoff;
		st->retries++;
		return;
	}
	st->failed_batches++;
	st->failed_spans += s->n_spans;
	s->busy = false;
}

static void drain(struct net *n, bool stopping, struct sender_stats *st)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(n->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct slot *s;
		long code = 0;
		CURL *e = m->easy_handle;
		CURLcode rc = m->data.result;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&s);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		curl_multi_remove_handle(n->multi, e);
		n->in_flight--;
		finish_request(n, s, rc, code, stopping, st);
	}
}

static int run_net(struct gen *g, const struct sender_config *c, struct sender_stats *st)
{
	struct net n = {.c = c};
	sender_url(c->target, c->protocol, n.url, sizeof n.url);
	n.multi = curl_multi_init();
	if (!n.multi)
		return CLEW_ENOMEM;
	curl_multi_setopt(n.multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	if (c->protocol == GEN_PROTO_GRPC) {
		n.headers = curl_slist_append(NULL, "Content-Type: application/grpc");
		n.headers = curl_slist_append(n.headers, "TE: trailers");
	} else {
		n.headers = curl_slist_append(NULL, c->protocol == GEN_PROTO_JSON ? "Content-Type: application/json"
										  : "Content-Type: application/x-protobuf");
		n.headers = curl_slist_append(n.headers, "Expect:");
	}
	n.n_slots = c->concurrency ? c->concurrency : 4;
	n.slots = xcalloc(n.n_slots, sizeof *n.slots);
	for (uint32_t i = 0; i < n.n_slots; i++)
		buf_init(&n.slots[i].body, SENDER_MAX_BODY);
	struct arena a;
	struct span_batch b;
	arena_init(&a, 0);
	struct pace p = {clock_mono_ns(), c->rate};
	uint64_t generated = 0;
	int rc = 0;
	int64_t stop_deadline = 0;
	for (;;) {
		bool stopping = limits_reached(c, &p, generated);
		if (stopping && !stop_deadline)
			stop_deadline = clock_mono_ns() + 10000000000LL;
		int64_t now = clock_mono_ns();
		bool busy = false;
		for (uint32_t i = 0; i < n.n_slots; i++) {
			struct slot *s = &n.slots[i];
			if (s->waiting && (stopping || now >= s->retry_at)) {
				if (stopping) {
					s->waiting = s->busy = false;
					st->failed_batches++;
					st->failed_spans += s->n_spans;
				} else {
					start_request(&n, s);
				}
			}
			/* the limit is checked again per slot: several slots may start a
			 * batch in one pass, and --spans must not be overshot */
			if (!s->busy && !stopping && !limits_reached(c, &p, generated) &&
			    pace_wait(&p, generated) <= 0) {
				if ((rc = next_batch(g, c, generated, &a, &b)) < 0)
					goto out;
				buf_clear(&s->body);
				sender_encode(&b, c->protocol, &s->body);
				if (s->body.err) {
					rc = s->body.err;
					goto out;
				}
				s->n_spans = b.n_spans;
				s->attempts = 0;
				generated += b.n_spans;
				start_request(&n, s);
			}
			busy |= s->busy;
		}
		if (!busy && stopping)
			break;
		if (stopping && clock_mono_ns() > stop_deadline)
			break;
		int running;
		curl_multi_perform(n.multi, &running);
		drain(&n, stopping, st);
		int64_t wait_ms = 50;
		int64_t pw = pace_wait(&p, generated);
		if (pw > 0 && pw / 1000000 < wait_ms)
			wait_ms = pw / 1000000;
		if (n.in_flight)
			curl_multi_poll(n.multi, NULL, 0, (int)wait_ms, NULL);
		else
			sleep_ns(wait_ms > 0 ? (pw > 0 && pw < 50000000 ? pw : 1000000) : 0);
	}
out:
	for (uint32_t i = 0; i < n.n_slots; i++) {
		if (n.slots[i].easy) {
			curl_multi_remove_handle(n.multi, n.slots[i].easy);
			curl_easy_cleanup(n.slots[i].easy);
		}
		buf_free(&n.slots[i].body);
	}
	free(n.slots);
	curl_slist_free_all(n.headers);
	curl_multi_cleanup(n.multi);
	arena_reset(&a);
	return rc;
}

int sender_run(struct gen *g, const struct sender_config *c, struct sender_stats *st, char *err, size_t err_len)
{
	memset(st, 0, sizeof *st);
	int64_t t0 = clock_mono_ns();
	int rc;
	if (c->out_path) {
		rc = run_file(g, c, st);
		if (rc < 0 && err_len)
			snprintf(err, err_len, "%s: %s", c->out_path, err_str(rc));
	} else {
		rc = run_net(g, c, st);
		if (rc < 0 && err_len)
			snprintf(err, err_len, "%s", err_str(rc));
	}
	st->wall_s = (double)(clock_mono_ns() - t0) / 1e9;
	return rc;
}
