/* Benchmark of the OTLP protobuf decoder: spans decoded per CPU-second on
 * batches of 512 realistic spans (about 10 attributes each, HTTP and
 * database calls, resources with k8s attributes), built with clew's encoder
 * from a deterministic generator, beside otlp_proto_walk() over the same
 * bytes (the floor). Prints machine-readable "name value" lines. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/buf.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"

#define BATCH_SPANS 512
#define N_RESOURCES 8

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((format(printf, 2, 3))) static struct slice fmt(struct arena *a, const char *f, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(tmp, sizeof tmp, f, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof tmp)
		n = sizeof tmp - 1;
	return slice_make(arena_memdup(a, tmp, (size_t)n), (size_t)n);
}

static struct attr str_attr(const char *key, struct slice v)
{
	struct attr at = {slice_cstr(key), {.type = ANY_STRING}};
	at.value.u.str = v;
	return at;
}

static struct attr int_attr(const char *key, int64_t v)
{
	struct attr at = {slice_cstr(key), {.type = ANY_INT}};
	at.value.u.i = v;
	return at;
}

static void gen_batch(struct span_batch *b, struct arena *a)
{
	static const char *services[] = {"checkout", "cart", "payment", "catalog",
					 "shipping", "auth", "search", "recommendation"};
	static const char *methods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
	static const char *routes[] = {"/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/payments",
				       "/api/v1/products/{sku}", "/api/v1/users/{id}/profile", "/healthz"};
	static const char *peers[] = {"postgres-primary.db.svc", "redis-0.cache.svc", "payments.example.com",
				      "kafka-1.queue.svc"};
	static const char *dbs[] = {"postgresql", "redis", "mysql", "mongodb"};
	span_batch_init(b, a);
	for (uint32_t r = 0; r < N_RESOURCES; r++) {
		struct resource *res = span_batch_add_resource(b);
		struct attr ra[] = {
			str_attr("service.name", slice_cstr(services[r])),
			str_attr("service.version", fmt(a, "1.%llu.0", (unsigned long long)(rnd() % 20))),
			str_attr("host.name", fmt(a, "ip-10-0-%llu.ec2.internal", (unsigned long long)(rnd() % 250))),
			str_attr("k8s.namespace.name", slice_cstr("production")),
			str_attr("k8s.pod.name", fmt(a, "checkout-7d9f8b-%05llx", (unsigned long long)(rnd() & 0xfffff))),
			str_attr("k8s.node.name", fmt(a, "node-%llu", (unsigned long long)(rnd() % 40))),
			str_attr("telemetry.sdk.language", slice_cstr("java")),
		};
		res->attrs.items = arena_memdup(a, ra, sizeof ra);
		res->attrs.n = sizeof ra / sizeof ra[0];
		struct scope *sc = span_batch_add_scope(b, r);
		sc->name = SLICE_LIT("io.opentelemetry.http");
		sc->version = SLICE_LIT("1.32.0");
	}
	for (uint32_t i = 0; i < BATCH_SPANS; i++) {
		struct span *s = span_batch_add_span(b, i % N_RESOURCES);
		uint64_t t = rnd(), u = rnd();
		memcpy(s->trace_id, &t, 8);
		memcpy(s->trace_id + 8, &u, 8);
		t = rnd();
		memcpy(s->span_id, &t, 8);
		if (i % 8) {
			t = rnd();
			memcpy(s->parent_span_id, &t, 8);
			s->has_parent = true;
		}
		s->kind = (uint8_t)(1 + rnd() % 3);
		s->start_unix_ns = 1700000000000000000LL + (int64_t)(rnd() % 1000000000000ULL);
		s->end_unix_ns = s->start_unix_ns + (int64_t)(rnd() % 500000000);
		const char *method = methods[rnd() % 6], *route = routes[rnd() % 6];
		char name[96];
		int n = snprintf(name, sizeof name, "%s %s", method, route);
		s->name = slice_make(arena_memdup(a, name, (size_t)n), (size_t)n);
		uint64_t status = rnd() % 20 ? 200 : 503;
		s->status_code = status == 503 ? STATUS_ERROR : STATUS_UNSET;
		if (status == 503)
			s->status_message = SLICE_LIT("upstream unavailable");
		s->flags = 0x101;
		struct attr sa[] = {
			str_attr("http.method", slice_cstr(method)),
			str_attr("http.route", slice_cstr(route)),
			int_attr("http.status_code", (int64_t)status),
			str_attr("net.peer.name", slice_cstr(peers[rnd() % 4])),
			int_attr("net.peer.port", 5432),
			str_attr("customer.id", fmt(a, "cust-%06llu", (unsigned long long)(rnd() % 50000))),
			str_attr("db.system", slice_cstr(dbs[rnd() % 4])),
			str_attr("http.url", fmt(a, "https://shop.example.com/api/v1/orders/%llu",
						 (unsigned long long)(rnd() % 1000000))),
			str_attr("user_agent.original", SLICE_LIT("okhttp/4.12.0")),
			int_attr("thread.id", (int64_t)(rnd() % 200)),
		};
		s->attrs.items = arena_memdup(a, sa, sizeof sa);
		s->attrs.n = sizeof sa / sizeof sa[0];
	}
}

int main(int argc, char **argv)
{
	double min_cpu = argc > 1 ? strtod(argv[1], NULL) : 1.0;
	struct arena gen_arena, arena;
	struct span_batch batch;
	struct buf body;
	struct decode_error err;
	arena_init(&gen_arena, 0);
	arena_init(&arena, 0);
	buf_init(&body, 64 << 20);
	gen_batch(&batch, &gen_arena);
	otlp_encode_request(&batch, &body);
	if (body.err) {
		fprintf(stderr, "encode failed: %d\n", body.err);
		return 1;
	}
	struct slice in = buf_slice(&body);

	long iters = 0;
	double t0 = cpu_seconds(), t;
	do {
		for (int k = 0; k < 50; k++) {
			arena_reset(&arena);
			span_batch_init(&batch, &arena);
			if (otlp_proto_decode_request(in, &batch, &err) != 0 || batch.n_spans != BATCH_SPANS) {
				fprintf(stderr, "decode failed: %s\n", err.msg);
				return 1;
			}
		}
		iters += 50;
	} while ((t = cpu_seconds() - t0) < min_cpu);
	double decode_rate = (double)iters * BATCH_SPANS / t;

	long walk_iters = 0, fields = 0;
	t0 = cpu_seconds();
	do {
		for (int k = 0; k < 50; k++) {
			long n = otlp_proto_walk(in);
			if (n < 0) {
				fprintf(stderr, "walk failed\n");
				return 1;
			}
			fields = n;
		}
		walk_iters += 50;
	} while ((t = cpu_seconds() - t0) < min_cpu);
	double walk_rate = (double)walk_iters * BATCH_SPANS / t;

	printf("batch_spans %d\n", BATCH_SPANS);
	printf("batch_bytes %zu\n", in.len);
	printf("bytes_per_span %.1f\n", (double)in.len / BATCH_SPANS);
	printf("fields_per_batch %ld\n", fields);
	printf("decode_spans_per_core_sec %.0f\n", decode_rate);
	printf("decode_mb_per_core_sec %.1f\n", decode_rate * (double)in.len / BATCH_SPANS / 1e6);
	printf("walk_spans_per_core_sec %.0f\n", walk_rate);
	printf("decode_vs_walk %.2f\n", decode_rate / walk_rate);
	arena_reset(&arena);
	arena_reset(&gen_arena);
	buf_free(&body);
	return 0;
}
