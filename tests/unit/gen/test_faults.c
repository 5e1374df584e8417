/* Each fault scenario of clew gen changes what it says, inside its window,
 * and nothing else: a run with the fault is compared span by span with the
 * same run (same seed) without it. */
#include "../../testlib.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "gen/faults.h"
#include "gen/topology.h"
#include "gen/tracegen.h"
#include "ingest/span.h"

#define T0 1767225600000000000LL
#define SEC 1000000000LL
#define WS (T0 + 5 * SEC) /* every fault below: start=5s,duration=5s */
#define WE (T0 + 10 * SEC)

/* What a test looks at in one span, copied out of the batch. */
struct sp {
	uint8_t trace_id[16], span_id[8];
	uint8_t kind, status;
	int64_t start, end, root_start;
	char service[32], name[64], db_name[32], peer[32], version[16], host[64], account[16], exc[64];
	int64_t content_length, resend;
	uint32_t n_attrs;
};

static void copy_str(char *dst, size_t cap, const struct attr_list *l, const char *key)
{
	const struct attr *a = attr_find(l, key);
	size_t n = a && a->value.type == ANY_STRING ? a->value.u.str.len : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, a->value.u.str.p, n);
	dst[n] = 0;
}

static int64_t get_int(const struct attr_list *l, const char *key)
{
	const struct attr *a = attr_find(l, key);
	return a && a->value.type == ANY_INT ? a->value.u.i : -1;
}

/* Generate a run of n_batches and summarise every span into *out. */
static uint32_t run(const char *fault, int n_batches, struct sp **out)
{
	struct topo t;
	struct fault_set fs;
	struct gen g;
	struct arena a;
	struct span_batch b;
	char err[256];
	uint32_t n = 0, cap = 0;
	*out = NULL;
	topo_init(&t);
	fault_set_init(&fs);
	arena_init(&a, 0);
	if (topo_default(&t) < 0 || (fault && fault_set_add(&fs, fault, err, sizeof err) < 0) ||
	    fault_set_bind(&fs, &t, T0, 100000, err, sizeof err) < 0)
		goto out;
	struct gen_config c = {.seed = 11, .start_unix_ns = T0, .clock_rate = 4000, .accounts = 100000,
			       .zipf_s = 1.0, .batch_spans = 500, .topo = &t, .faults = &fs};
	if (gen_init(&g, &c) < 0)
		goto out;
	for (int k = 0; k < n_batches && gen_next_batch(&g, &a, &b) == 0; k++) {
		for (uint32_t i = 0; i < b.n_spans; i++) {
			const struct span *s = &b.spans[i];
			const struct resource *r = span_batch_resource_of(&b, s);
			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				*out = realloc(*out, cap * sizeof **out);
			}
			struct sp *p = &(*out)[n++];
			memset(p, 0, sizeof *p);
			memcpy(p->trace_id, s->trace_id, 16);
			memcpy(p->span_id, s->span_id, 8);
			p->kind = s->kind;
			p->status = s->status_code;
			p->start = s->start_unix_ns;
			p->end = s->end_unix_ns;
			p->root_start = INT64_MAX;
			for (uint32_t j = 0; j < b.n_spans; j++)
				if (!b.spans[j].has_parent && !memcmp(b.spans[j].trace_id, s->trace_id, 16))
					p->root_start = b.spans[j].start_unix_ns;
			size_t nl = s->name.len < sizeof p->name - 1 ? s->name.len : sizeof p->name - 1;
			memcpy(p->name, s->name.p, nl);
			copy_str(p->service, sizeof p->service, &r->attrs, "service.name");
			copy_str(p->version, sizeof p->version, &r->attrs, "service.version");
			copy_str(p->host, sizeof p->host, &r->attrs, "host.name");
			copy_str(p->db_name, sizeof p->db_name, &s->attrs, "db.name");
			copy_str(p->peer, sizeof p->peer, &s->attrs, "peer.service");
			copy_str(p->account, sizeof p->account, &s->attrs, "customer.id");
			if (s->n_events)
				copy_str(p->exc, sizeof p->exc, &s->events[0].attrs, "exception.type");
			p->content_length = get_int(&s->attrs, "http.request_content_length");
			p->resend = get_int(&s->attrs, "http.request.resend_count");
			p->n_attrs = s->attrs.n;
		}
	}
	gen_free(&g);
out:
	arena_reset(&a);
	fault_set_free(&fs);
	topo_free(&t);
	return n;
}

static bool same_span(const struct sp *a, const struct sp *b)
{
	return !memcmp(a->span_id, b->span_id, 8) && a->start == b->start && a->end == b->end &&
	       a->status == b->status && a->n_attrs == b->n_attrs && !strcmp(a->version, b->version) &&
	       a->content_length == b->content_length;
}

/* Spans that end before the window, and traces that start after it, are
 * untouched. */
static int outside_unchanged(const struct sp *base, const struct sp *f, uint32_t n)
{
	int bad = 0;
	for (uint32_t i = 0; i < n; i++)
		if ((base[i].end < WS || base[i].root_start >= WE) && !same_span(&base[i], &f[i]))
			bad++;
	return bad;
}

TEST(fault_slow_shard_slows_only_its_shard_in_window)
{
	struct sp *base, *f;
	uint32_t n = run(NULL, 100, &base);
	uint32_t m = run("slow-shard:start=5s,duration=5s,shard=3,factor=8", 100, &f);
	CHECK_INT(n, >, 40000);
	CHECK_INT(n, ==, m);
	int hit = 0, other_db = 0;
	for (uint32_t i = 0; i < n; i++) {
		CHECK(!memcmp(base[i].span_id, f[i].span_id, 8));
		CHECK_INT(base[i].n_attrs, ==, f[i].n_attrs);
		if (!base[i].db_name[0])
			continue;
		int64_t bd = base[i].end - base[i].start - 1000, fd = f[i].end - f[i].start - 1000;
		if (!strcmp(f[i].db_name, "accounts_shard_3") && f[i].start >= WS && f[i].start < WE) {
			CHECK_INT(llabs(fd - 8 * bd), <=, 8);
			hit++;
		} else {
			CHECK_INT(fd, ==, bd);
			other_db++;
		}
	}
	CHECK_INT(hit, >, 20);
	CHECK_INT(other_db, >, 1000);
	CHECK_INT(outside_unchanged(base, f, n), ==, 0);
	free(base);
	free(f);
}

TEST(fault_bad_deploy_fails_one_endpoint_on_the_new_version)
{
	struct sp *base, *f;
	uint32_t n = run(NULL, 100, &base);
	uint32_t m = run("bad-deploy:start=5s,duration=5s,error_rate=0.5,new_version=9.9.9", 100, &f);
	CHECK_INT(n, ==, m);
	int new_errors = 0, relabelled = 0;
	for (uint32_t i = 0; i < n; i++) {
		CHECK_INT(base[i].end - base[i].start, ==, f[i].end - f[i].start);
		if (strcmp(base[i].version, f[i].version) != 0) {
			CHECK_STR(f[i].service, "accounts");
			CHECK_STR(f[i].version, "9.9.9");
			CHECK(f[i].start >= WS && f[i].start < WE);
			relabelled++;
		}
		if (!strcmp(f[i].exc, "java.lang.NullPointerException")) {
			CHECK(base[i].status != STATUS_ERROR || strcmp(base[i].exc, f[i].exc) != 0);
			CHECK_STR(f[i].service, "accounts");
			CHECK_STR(f[i].name, "accounts.v1.Accounts/GetAccount");
			CHECK_STR(f[i].version, "9.9.9");
			CHECK(f[i].start >= WS && f[i].start < WE);
			new_errors++;
		}
	}
	CHECK_INT(new_errors, >, 10);
	CHECK_INT(relabelled, >, new_errors);
	CHECK_INT(outside_unchanged(base, f, n), ==, 0);
	free(base);
	free(f);
}

TEST(fault_slow_dependency_adds_latency_to_its_calls)
{
	struct sp *base, *f;
	uint32_t n = run(NULL, 100, &base);
	uint32_t m = run("slow-dependency:start=5s,duration=5s,add=1500ms", 100, &f);
	CHECK_INT(n, ==, m);
	int hit = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (base[i].kind != SPAN_KIND_CLIENT || !base[i].peer[0])
			continue;
		int64_t bd = base[i].end - base[i].start, fd = f[i].end - f[i].start;
		if (!strcmp(f[i].peer, "payments-provider") && f[i].start >= WS && f[i].start < WE) {
			CHECK_INT(llabs(fd - bd - 1500 * 1000000LL), <=, 1);
			hit++;
		} else if (base[i].db_name[0] || !strcmp(f[i].peer, "email-provider")) {
			CHECK_INT(fd, ==, bd);
		}
	}
	CHECK_INT(hit, >, 0);
	CHECK_INT(outside_unchanged(base, f, n), ==, 0);
	free(base);
	free(f);
}

TEST(fault_huge_account_grows_only_its_requests)
{
	struct sp *base, *f;
	uint32_t n = run(NULL, 100, &base);
	uint32_t m = run("huge-account:start=5s,duration=5s,account=acct-001013,size_factor=100,factor=1", 100, &f);
	CHECK_INT(n, ==, m);
	int hit = 0;
	for (uint32_t i = 0; i < n; i++) {
		bool mine = !strcmp(f[i].account, "acct-001013") && f[i].start >= WS && f[i].start < WE;
		if (mine && base[i].content_length > 0) {
			CHECK_INT(f[i].content_length, >=, base[i].content_length * 99);
			hit++;
		} else if (!mine) {
			CHECK_INT(f[i].content_length, ==, base[i].content_length);
			CHECK_INT(f[i].end - f[i].start, ==, base[i].end - base[i].start);
		}
	}
	CHECK_INT(hit, >, 0);
	CHECK_INT(outside_unchanged(base, f, n), ==, 0);
	free(base);
	free(f);
}

TEST(fault_noisy_host_slows_work_on_that_host)
{
	struct sp *base, *f;
	uint32_t n = run(NULL, 100, &base);
	uint32_t m = run("noisy-host:start=5s,duration=5s,host=0,factor=3", 100, &f);
	CHECK_INT(n, ==, m);
	int hit = 0, other = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (base[i].kind != SPAN_KIND_INTERNAL)
			continue;
		int64_t bd = base[i].end - base[i].start - 1000, fd = f[i].end - f[i].start - 1000;
		bool on_host = strstr(f[i].host, "ip-10-0-16-11.") == f[i].host;
		if (on_host && f[i].start >= WS && f[i].start < WE) {
			CHECK_INT(llabs(fd - 3 * bd), <=, 3);
			hit++;
		} else {
			CHECK_INT(fd, ==, bd);
			other++;
		}
	}
	CHECK_INT(hit, >, 0);
	CHECK_INT(other, >, 100);
	CHECK_INT(outside_unchanged(base, f, n), ==, 0);
	free(base);
	free(f);
}

TEST(fault_retry_storm_retries_calls_to_its_peer_in_window)
{
	struct sp *base, *f;
	uint32_t n = run(NULL, 60, &base);
	uint32_t m = run("retry-storm:start=5s,duration=5s,retries=2", 60, &f);
	int retried = 0;
	for (uint32_t i = 0; i < n; i++)
		CHECK_INT(base[i].resend, ==, -1);
	for (uint32_t i = 0; i < m; i++) {
		if (f[i].resend < 0)
			continue;
		CHECK_STR(f[i].peer, "accounts");
		CHECK(f[i].start >= WS && f[i].start < WE + 2 * SEC);
		CHECK(f[i].resend >= 1 && f[i].resend <= 2);
		retried++;
	}
	CHECK_INT(retried, >, 20);
	for (uint32_t i = 0; i < n && base[i].end < WS; i++)
		CHECK(same_span(&base[i], &f[i]));
	free(base);
	free(f);
}
