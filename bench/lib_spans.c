/* The benchmarks' span generator: a handful of services, each span with the
 * attributes real instrumentation writes. */
#include "lib_spans.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *services[] = {"edge-gateway", "auth", "accounts", "billing", "search", "checkout",
				  "inventory", "notifications"};
static const char *routes[] = {"/api/v1/cart", "/api/v1/checkout", "/api/v1/accounts/{id}", "/api/v1/search",
			       "/api/v1/invoices/{id}", "/healthz", "/api/v1/orders"};
static const char *methods[] = {"GET", "POST", "PUT", "DELETE"};
static const char *tiers[] = {"free", "standard", "premium", "enterprise"};
static const char *regions[] = {"eu-west-1", "us-east-1", "ap-south-1"};

uint64_t bench_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

__attribute__((format(printf, 2, 3))) static struct slice fmt(struct arena *a, const char *f, ...)
{
	char tmp[96];
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

static void set_str(struct attr *at, const char *k, struct slice v)
{
	at->key = slice_cstr(k);
	at->value.type = ANY_STRING;
	at->value.u.str = v;
}

static void set_int(struct attr *at, const char *k, int64_t v)
{
	at->key = slice_cstr(k);
	at->value.type = ANY_INT;
	at->value.u.i = v;
}

static uint32_t add_service(struct span_batch *b, int svc, uint64_t *rng)
{
	struct resource *r = span_batch_add_resource(b);
	uint32_t ri = b->n_resources - 1;
	struct attr *at = arena_array(b->arena, 8, sizeof *at);
	set_str(&at[0], "service.name", slice_cstr(services[svc]));
	set_str(&at[1], "service.version", fmt(b->arena, "1.%llu.0", (unsigned long long)(bench_rand(rng) % 4)));
	set_str(&at[2], "service.namespace", SLICE_LIT("shop"));
	set_str(&at[3], "host.name", fmt(b->arena, "node-%llu", (unsigned long long)(bench_rand(rng) % 40)));
	set_str(&at[4], "k8s.pod.name", fmt(b->arena, "pod-%llx", (unsigned long long)(bench_rand(rng) % 100000)));
	set_str(&at[5], "k8s.namespace.name", SLICE_LIT("production"));
	set_str(&at[6], "deployment.environment", SLICE_LIT("production"));
	set_str(&at[7], "cloud.region", slice_cstr(regions[bench_rand(rng) % 3]));
	r->attrs.items = at;
	r->attrs.n = 8;
	struct scope *sc = span_batch_add_scope(b, ri);
	sc->name = SLICE_LIT("@opentelemetry/instrumentation-http");
	sc->version = SLICE_LIT("0.52.1");
	return b->n_scopes - 1;
}

void bench_make_batch(struct span_batch *b, uint64_t seed, int n_spans)
{
	uint64_t rng = seed * 7919 + 17;
	uint32_t scope_of[8];
	for (int s = 0; s < 8; s++)
		scope_of[s] = add_service(b, s, &rng);
	int64_t base_ns = 1760000000000000000ll + (int64_t)(seed % 100000) * 1000000000ll;
	int made = 0;
	while (made < n_spans) {
		int trace_len = 5 + (int)(bench_rand(&rng) % 26);
		if (trace_len > n_spans - made)
			trace_len = n_spans - made;
		uint64_t t1 = bench_rand(&rng), t2 = bench_rand(&rng);
		uint64_t customer = bench_rand(&rng) % 100000;
		int64_t start = base_ns + (int64_t)(bench_rand(&rng) % 1000000000);
		uint8_t root_id[8];
		for (int i = 0; i < trace_len; i++) {
			int svc = i == 0 ? 0 : 1 + (int)(bench_rand(&rng) % 7);
			struct span *sp = span_batch_add_span(b, scope_of[svc]);
			memcpy(sp->trace_id, &t1, 8);
			memcpy(sp->trace_id + 8, &t2, 8);
			uint64_t sid = bench_rand(&rng) | 1;
			memcpy(sp->span_id, &sid, 8);
			if (i == 0) {
				memcpy(root_id, sp->span_id, 8);
			} else {
				memcpy(sp->parent_span_id, root_id, 8);
				sp->has_parent = true;
			}
			bool client = i > 0 && bench_rand(&rng) % 3 == 0;
			sp->kind = client ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER;
			const char *route = routes[bench_rand(&rng) % 7];
			const char *method = methods[bench_rand(&rng) % 4];
			sp->name = SLICE_LIT("SELECT accounts");
			if (!client) {
				char nm[80];
				int n = snprintf(nm, sizeof nm, "%s %s", method, route);
				sp->name = slice_make(arena_memdup(b->arena, nm, (size_t)n), (size_t)n);
			}
			sp->start_unix_ns = start + i * 1000000;
			sp->end_unix_ns = sp->start_unix_ns + 200000 + (int64_t)(bench_rand(&rng) % 50000000);
			bool error = bench_rand(&rng) % 50 == 0;
			sp->status_code = error ? STATUS_ERROR : STATUS_UNSET;
			struct attr *at = arena_array(b->arena, 10, sizeof *at);
			int n = 0;
			if (client) {
				set_str(&at[n++], "db.system", SLICE_LIT("postgresql"));
				set_str(&at[n++], "db.name", fmt(b->arena, "accounts_shard_%llu", (unsigned long long)(customer % 8)));
				set_str(&at[n++], "db.statement", SLICE_LIT("SELECT * FROM accounts WHERE id = $1"));
				set_str(&at[n++], "net.peer.name", fmt(b->arena, "pg-%llu.internal", (unsigned long long)(customer % 8)));
				set_int(&at[n++], "net.peer.port", 5432);
			} else {
				set_str(&at[n++], "http.method", slice_cstr(method));
				set_str(&at[n++], "http.route", slice_cstr(route));
				set_int(&at[n++], "http.status_code", error ? 500 : 200);
				set_str(&at[n++], "http.scheme", SLICE_LIT("https"));
				set_str(&at[n++], "user_agent.original", SLICE_LIT("Mozilla/5.0 (X11; Linux x86_64)"));
			}
			set_str(&at[n++], "customer.id", fmt(b->arena, "acct-%05llu", (unsigned long long)(customer)));
			set_str(&at[n++], "customer.tier", slice_cstr(tiers[customer % 4]));
			set_str(&at[n++], "user.id", fmt(b->arena, "user-%llu", (unsigned long long)(bench_rand(&rng) % 10000000)));
			set_str(&at[n++], "request.id", fmt(b->arena, "%016llx", (unsigned long long)(bench_rand(&rng))));
			set_int(&at[n++], "thread.id", (int64_t)(bench_rand(&rng) % 64));
			sp->attrs.items = at;
			sp->attrs.n = (uint32_t)n;
			made++;
		}
	}
}
