/* Correlations on hand-built populations: Wilson bounds and numeric bins,
 * the small-count correction, a high-cardinality account behind most slow
 * spans with a tiny per-key cap, values seen only among the bad, keys on
 * some spans only, ties, tiny and one-sided populations, children, the
 * trace level's deduplication, the latency probe, truncation and the
 * error-symptom keys; the block-page path against the span-by-span path
 * on clew gen traffic (every option, filters, a time range). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/correlations.h"
#include "base/err.h"
#include "gen/topology.h"
#include "gen/tracegen.h"
#include "query/exec_columnar.h"
#include "query/traceql.h"
#include "store/block.h"
#include "store/fileops.h"
#include "../../testlib.h"

static struct arena g_a;
static struct span_batch g_b;

static void reset(void)
{
	static bool once;
	if (once)
		arena_reset(&g_a);
	once = true;
	arena_init(&g_a, 0);
	span_batch_init(&g_b, &g_a);
	for (int k = 0; k < 3; k++) { /* resources 0..2: services svc0..svc2 */
		struct resource *r = span_batch_add_resource(&g_b);
		r->attrs.items = arena_zalloc(&g_a, sizeof(struct attr));
		r->attrs.n = 1;
		r->attrs.items[0].key = slice_cstr("service.name");
		r->attrs.items[0].value.type = ANY_STRING;
		char *n = arena_alloc(&g_a, 16);
		snprintf(n, 16, "svc%d", k);
		r->attrs.items[0].value.u.str = slice_cstr(n);
		span_batch_add_scope(&g_b, (uint32_t)k);
	}
}

/* A span of trace `trace` with id `id` (parent 0 = root), on service svc,
 * named name, lasting dur_ms, status, and up to two string attributes. */
static uint32_t add(uint32_t trace, uint32_t id, uint32_t parent, uint32_t svc, const char *name, int64_t dur_ms,
		    int status, const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct span *s = span_batch_add_span(&g_b, svc);
	memcpy(s->trace_id, &trace, 4);
	s->trace_id[15] = 1;
	memcpy(s->span_id, &id, 4);
	s->span_id[7] = 1;
	if (parent) {
		s->has_parent = true;
		memcpy(s->parent_span_id, &parent, 4);
		s->parent_span_id[7] = 1;
	}
	s->name = slice_cstr(name);
	s->kind = SPAN_KIND_SERVER;
	s->status_code = (uint8_t)status;
	s->start_unix_ns = 1000000000LL;
	s->end_unix_ns = s->start_unix_ns + dur_ms * 1000000LL;
	uint32_t n = (k1 != NULL) + (k2 != NULL);
	if (n) {
		s->attrs.items = arena_zalloc(&g_a, n * sizeof(struct attr));
		s->attrs.n = 0;
		const char *k[2] = {k1, k2}, *v[2] = {v1, v2};
		for (int i = 0; i < 2; i++) {
			if (!k[i])
				continue;
			struct attr *a = &s->attrs.items[s->attrs.n++];
			a->key = slice_cstr(k[i]);
			a->value.type = ANY_STRING;
			a->value.u.str = slice_cstr(v[i]);
		}
	}
	return g_b.n_spans - 1;
}

/* Count every span of the batch as its own unit (one span per trace, or
 * the spans of a trace one after the other), bad when dur > thr_ms. */
static void count_spans(struct corr_table *t, int64_t thr_ms)
{
	for (uint32_t i = 0; i < g_b.n_spans;) {
		uint32_t e = i + 1;
		while (e < g_b.n_spans && memcmp(g_b.spans[e].trace_id, g_b.spans[i].trace_id, 16) == 0)
			e++;
		CHECK_INT(corr_table_begin_trace(t, &g_b, i, e - i), ==, 0);
		for (uint32_t k = i; k < e; k++) {
			int64_t d = corr_unit_duration(&g_b, &k, 1);
			CHECK_INT(corr_table_add(t, &k, 1, d > thr_ms * 1000000LL, d), ==, 0);
		}
		i = e;
	}
}

static const struct corr_result *find(const struct corr_result *r, int n, const char *key, const char *value)
{
	for (int k = 0; k < n; k++)
		if (slice_eq_cstr(r[k].key, key) && slice_eq_cstr(r[k].value, value))
			return &r[k];
	return NULL;
}

TEST(corr_wilson_bounds)
{
	CHECK(corr_wilson_lower(0, 0, CORR_Z) == 0);
	CHECK(corr_wilson_upper(0, 0, CORR_Z) == 1);
	CHECK(corr_wilson_lower(0, 100, CORR_Z) == 0);
	CHECK(corr_wilson_upper(100, 100, CORR_Z) == 1);
	double lo = corr_wilson_lower(30, 100, CORR_Z), hi = corr_wilson_upper(30, 100, CORR_Z);
	CHECK(lo < 0.3 && lo > 0.2);
	CHECK(hi > 0.3 && hi < 0.4);
	/* more evidence, tighter bound */
	CHECK(corr_wilson_lower(2, 2, CORR_Z) < corr_wilson_lower(2000, 2000, CORR_Z));
	CHECK(corr_wilson_lower(2000, 2000, CORR_Z) > 0.99);
	CHECK(corr_wilson_lower(2, 2, CORR_Z) < 0.4);
}

TEST(corr_bins)
{
	char b[64];
	corr_bin(1500, b, sizeof b);
	CHECK_STR(b, "[1000, 2000)");
	corr_bin(1000, b, sizeof b);
	CHECK_STR(b, "[1000, 2000)");
	corr_bin(999.9, b, sizeof b);
	CHECK_STR(b, "[500, 1000)");
	corr_bin(2000, b, sizeof b);
	CHECK_STR(b, "[2000, 5000)");
	corr_bin(0.7, b, sizeof b);
	CHECK_STR(b, "[0.5, 1)");
	corr_bin(0, b, sizeof b);
	CHECK_STR(b, "0");
	corr_bin(-15, b, sizeof b);
	CHECK_STR(b, "(-20, -10]");
	corr_bin(7e12, b, sizeof b);
	CHECK_STR(b, "[5e+12, 1e+13)");
	corr_bin(NAN, b, sizeof b);
	CHECK_STR(b, "NaN");
	CHECK_INT(corr_bin(1500, b, 4), ==, 3); /* cut to the room there is */
	CHECK_INT(corr_bin(1500, b, 0), ==, 0);
}

/* 10,000 spans over 2,000 accounts; one account carries 10 spans (0.1%),
 * all slow, and 60% of the slow ones. A per-key cap of 64 values forces
 * evictions all along; the account still comes first. */
TEST(corr_high_cardinality_account)
{
	reset();
	uint32_t id = 1;
	char *names = arena_alloc(&g_a, 2000 * 16);
	for (int k = 0; k < 10000; k++) {
		bool whale = k % 1000 == 500;
		bool other_slow = !whale && k % 1500 == 7; /* 7 slow spans of ordinary accounts */
		char *acct = names + (k % 2000) * 16;
		snprintf(acct, 16, "acct-%04d", k % 2000);
		add((uint32_t)k + 1, id++, 0, (uint32_t)k % 3, k % 2 ? "GET /a" : "GET /b", whale || other_slow ? 900 : 20,
		    0, "customer.id", whale ? "acct-whale" : acct, NULL, NULL);
	}
	struct corr_table *t = corr_table_new(64);
	CHECK(t != NULL);
	count_spans(t, 500);
	uint64_t bad, rest;
	corr_table_counts(t, &bad, &rest);
	CHECK_INT(bad, ==, 17);
	CHECK_INT(rest, ==, 9983);
	struct corr_result *r;
	int n = corr_table_rank(t, 5, NULL, &r);
	CHECK_INT(n, >=, 1);
	CHECK_SLICE(r[0].key, "span.customer.id");
	CHECK_SLICE(r[0].value, "acct-whale");
	CHECK_INT(r[0].bad, ==, 10);
	CHECK_INT(r[0].rest, ==, 0);
	CHECK_INT(r[0].n_examples, ==, CORR_MAX_EXAMPLES);
	CHECK(fabs(r[0].bad_share - 10.0 / 17) < 1e-9);
	CHECK(r[0].score > 0.3);
	corr_table_free(t);
}

/* The same full share difference seen on 2 units and on 2,000: the
 * correction ranks the larger evidence higher. */
TEST(corr_small_count_correction)
{
	double s[2];
	for (int run = 0; run < 2; run++) {
		reset();
		int nb = run ? 2000 : 2;
		uint32_t id = 1;
		for (int k = 0; k < nb + 4000; k++)
			add((uint32_t)k + 1, id++, 0, 0, "op", k < nb ? 900 : 10, 0, "x", k < nb ? "rare" : "common", NULL,
			    NULL);
		struct corr_table *t = corr_table_new(0);
		count_spans(t, 500);
		struct corr_result *r;
		int n = corr_table_rank(t, 5, NULL, &r);
		CHECK_INT(n, ==, 1);
		CHECK_SLICE(r[0].value, "rare");
		CHECK(r[0].bad_share == 1 && r[0].rest_share == 0);
		s[run] = r[0].score;
		corr_table_free(t);
	}
	CHECK(s[1] > s[0] + 0.3);
	/* in one population: 2 bad spans out of 3 with a value seen nowhere else
	 * against 1 of 3 ... the correction keeps both below the raw share */
	CHECK(s[0] < 1);
}

/* A key on some spans only, a value seen only among the bad, ties broken by
 * key then value, and values less common among the bad left out. */
TEST(corr_partial_keys_and_ties)
{
	reset();
	uint32_t id = 1;
	for (int k = 0; k < 100; k++) {
		bool slow = k < 10;
		add((uint32_t)k + 1, id++, 0, 0, slow ? "slow-op" : "op", slow ? 900 : 10, 0, slow ? "only.bad" : NULL,
		    "yes", slow ? "zz" : "aa", "v");
	}
	struct corr_table *t = corr_table_new(0);
	count_spans(t, 500);
	struct corr_result *r;
	int n = corr_table_rank(t, 20, NULL, &r);
	/* name=slow-op, span.only.bad=yes, span.zz=v tie exactly: intrinsic
	 * first, then span keys in byte order */
	CHECK_INT(n, ==, 3);
	CHECK_SLICE(r[0].key, "name");
	CHECK_SLICE(r[0].value, "slow-op");
	CHECK_SLICE(r[1].key, "span.only.bad");
	CHECK_SLICE(r[2].key, "span.zz");
	CHECK(r[0].score == r[1].score && r[1].score == r[2].score);
	CHECK_INT(r[1].rest, ==, 0);
	CHECK(find(r, n, "span.aa", "v") == NULL);	 /* only among the rest */
	CHECK(find(r, n, "resource.service.name", "svc0") == NULL); /* everywhere */
	CHECK(find(r, n, "status", "unset") == NULL);
	corr_table_free(t);
}

TEST(corr_tiny_and_one_sided_populations)
{
	struct corr_table *t = corr_table_new(0);
	struct corr_result *r;
	CHECK_INT(corr_table_rank(t, 5, NULL, &r), ==, 0); /* empty */
	reset();
	add(1, 1, 0, 0, "op", 900, 0, "k", "v", NULL, NULL);
	count_spans(t, 500); /* one span, bad: no rest at all */
	int n = corr_table_rank(t, 5, NULL, &r);
	CHECK_INT(n, >=, 1);
	CHECK(r[0].rest_share == 0 && r[0].bad == 1);
	CHECK(r[0].score < 0); /* nothing to tell it apart from */
	corr_table_free(t);
	t = corr_table_new(0);
	count_spans(t, 5000); /* the same span, good: no bad unit, no result */
	CHECK_INT(corr_table_rank(t, 5, NULL, &r), ==, 0);
	corr_table_free(t);
}

/* child.service and child.name of a span come from its children; a trace
 * unit counts each value once however many spans carry it. */
TEST(corr_children_and_trace_level)
{
	reset();
	/* trace 1: root on svc0 calls svc1 "db" twice, slow; trace 2: root calls svc2 */
	add(1, 1, 0, 0, "root", 900, 0, NULL, NULL, NULL, NULL);
	add(1, 2, 1, 1, "db", 400, 0, "shard", "3", NULL, NULL);
	add(1, 3, 1, 1, "db", 400, 0, "shard", "3", NULL, NULL);
	for (uint32_t k = 2; k < 6; k++) {
		add(k, 10 * k, 0, 0, "root", 20, 0, NULL, NULL, NULL, NULL);
		add(k, 10 * k + 1, 10 * k, 2, "cache", 1, 0, "shard", "1", NULL, NULL);
	}
	struct corr_table *t = corr_table_new(0);
	count_spans(t, 500);
	struct corr_result *r;
	int n = corr_table_rank(t, 50, NULL, &r);
	const struct corr_result *c = find(r, n, "child.service", "svc1");
	CHECK(c != NULL);
	CHECK_INT(c->bad, ==, 1); /* the root once, not once per child */
	CHECK(find(r, n, "child.name", "db") != NULL);
	corr_table_free(t);

	/* trace level: trace 1 is one bad unit; shard=3 counted once */
	t = corr_table_new(0);
	for (uint32_t i = 0; i < g_b.n_spans;) {
		uint32_t e = i + 1, all[8];
		while (e < g_b.n_spans && memcmp(g_b.spans[e].trace_id, g_b.spans[i].trace_id, 16) == 0)
			e++;
		for (uint32_t k = i; k < e; k++)
			all[k - i] = k;
		CHECK_INT(corr_table_begin_trace(t, &g_b, i, e - i), ==, 0);
		int64_t d = corr_unit_duration(&g_b, all, e - i);
		CHECK_INT(corr_table_add(t, all, e - i, d > 500000000LL, d), ==, 0);
		i = e;
	}
	uint64_t bad, rest;
	corr_table_counts(t, &bad, &rest);
	CHECK_INT(bad, ==, 1);
	CHECK_INT(rest, ==, 4);
	n = corr_table_rank(t, 50, NULL, &r);
	c = find(r, n, "span.shard", "3");
	CHECK(c != NULL);
	CHECK_INT(c->bad, ==, 1);
	CHECK_INT(c->rest, ==, 0);
	CHECK(find(r, n, "child.service", "svc1") != NULL);
	corr_table_free(t);
}

/* With and without: the value's spans take 900 ms, the others 10 ms. */
TEST(corr_latency_probe)
{
	reset();
	uint32_t id = 1;
	for (int k = 0; k < 200; k++)
		add((uint32_t)k + 1, id++, 0, 0, "op", k < 20 ? 900 : 10, 0, "host", k < 20 ? "h-bad" : "h-ok", NULL,
		    NULL);
	struct corr_table *t = corr_table_new(0);
	count_spans(t, 500);
	struct corr_result *r;
	int n = corr_table_rank(t, 5, NULL, &r);
	CHECK_INT(n, ==, 1);
	CHECK(isnan(r[0].with_p50_ms));
	for (uint32_t i = 0; i < g_b.n_spans; i++) {
		CHECK_INT(corr_table_begin_trace(t, &g_b, i, 1), ==, 0);
		CHECK_INT(corr_table_probe(t, &i, 1, corr_unit_duration(&g_b, &i, 1)), ==, 0);
	}
	CHECK_INT(corr_table_add(t, &id, 1, true, 0), ==, CLEW_ESTATE); /* no counting once probing */
	corr_table_finish_probe(t);
	CHECK(fabs(r[0].with_p50_ms - 900) < 9);
	CHECK(fabs(r[0].with_p99_ms - 900) < 9);
	CHECK(fabs(r[0].without_p50_ms - 10) < 0.1);
	CHECK(fabs(r[0].without_p99_ms - 10) < 0.1);
	double p50, p99;
	corr_table_population(t, &p50, &p99);
	CHECK(fabs(p50 - 10) < 0.1);
	CHECK(fabs(p99 - 900) < 9);
	corr_table_free(t);
}

/* Typed attributes: small ints exact, large ones and doubles binned, bools,
 * long strings cut; arrays not counted. */
TEST(corr_value_types)
{
	reset();
	static char longv[300];
	memset(longv, 'x', sizeof longv - 1);
	for (uint32_t k = 0; k < 40; k++) {
		bool slow = k < 10;
		uint32_t i = add(k + 1, k + 1, 0, 0, "op", slow ? 900 : 10, 0, "long", slow ? longv : "short", NULL, NULL);
		struct span *s = &g_b.spans[i];
		struct attr *a = arena_zalloc(&g_a, 6 * sizeof *a);
		a[0] = s->attrs.items[0];
		a[1].key = slice_cstr("code");
		a[1].value.type = ANY_INT;
		a[1].value.u.i = slow ? 503 : 200;
		a[2].key = slice_cstr("bytes");
		a[2].value.type = ANY_INT;
		a[2].value.u.i = slow ? 250000 : 900;
		a[3].key = slice_cstr("ratio");
		a[3].value.type = ANY_DOUBLE;
		a[3].value.u.d = slow ? 0.03 : 0.9;
		a[4].key = slice_cstr("retry");
		a[4].value.type = ANY_BOOL;
		a[4].value.u.b = slow;
		a[5].key = slice_cstr("list");
		a[5].value.type = ANY_ARRAY;
		s->attrs.items = a;
		s->attrs.n = 6;
	}
	struct corr_table *t = corr_table_new(0);
	count_spans(t, 500);
	struct corr_result *r;
	int n = corr_table_rank(t, 50, NULL, &r);
	const struct corr_result *c = find(r, n, "span.code", "503");
	CHECK(c && c->vtype == CORR_V_INT);
	c = find(r, n, "span.bytes", "[200000, 500000)");
	CHECK(c && c->vtype == CORR_V_RANGE && c->bad == 10);
	c = find(r, n, "span.ratio", "[0.02, 0.05)");
	CHECK(c && c->vtype == CORR_V_RANGE);
	c = find(r, n, "span.retry", "true");
	CHECK(c && c->vtype == CORR_V_BOOL);
	for (int k = 0; k < n; k++) {
		CHECK(!slice_eq_cstr(r[k].key, "span.list"));
		if (slice_eq_cstr(r[k].key, "span.long")) {
			CHECK(r[k].truncated_value);
			CHECK_INT(r[k].value.len, ==, CORR_MAX_VALUE_LEN);
		}
	}
	corr_table_free(t);
}

/* signal=error leaves out the keys that describe the failure itself. */
TEST(corr_error_symptoms_skipped)
{
	reset();
	for (uint32_t k = 0; k < 50; k++) {
		bool fail = k < 5;
		add(k + 1, k + 1, 0, fail ? 1 : 0, "op", 10, fail ? STATUS_ERROR : STATUS_OK, "error.type",
		    fail ? "NPE" : "none", "exception.message", fail ? "boom" : "none");
	}
	struct corr_table *t = corr_table_new(0);
	for (uint32_t i = 0; i < g_b.n_spans; i++) {
		CHECK_INT(corr_table_begin_trace(t, &g_b, i, 1), ==, 0);
		CHECK_INT(corr_table_add(t, &i, 1, g_b.spans[i].status_code == STATUS_ERROR, 1), ==, 0);
	}
	struct corr_result *r;
	int n = corr_table_rank(t, 50, NULL, &r);
	CHECK(find(r, n, "status", "error") != NULL);
	n = corr_table_rank(t, 50, corr_error_symptoms, &r);
	CHECK_INT(n, ==, 1);
	CHECK_SLICE(r[0].key, "resource.service.name");
	CHECK_SLICE(r[0].value, "svc1");
	const char *skip[] = {"resource.*", NULL};
	n = corr_table_rank(t, 50, skip, &r); /* status, error.type, exception.message */
	CHECK_INT(n, ==, 3);
	for (int k = 0; k < n; k++)
		CHECK(!(r[k].key.len > 9 && memcmp(r[k].key.p, "resource.", 9) == 0));
	corr_table_free(t);
}

/* Many distinct keys and values: the table stays within its caps. */
TEST(corr_caps)
{
	reset();
	char *buf = arena_alloc(&g_a, 3000 * 24);
	for (uint32_t k = 0; k < 3000; k++) {
		char *key = buf + k * 24, *val = key + 12;
		snprintf(key, 12, "k%u", k % 700u);
		snprintf(val, 12, "v%u", k);
		add(k + 1, k + 1, 0, 0, "op", k % 10 == 0 ? 900 : 10, 0, key, val, "req", val);
	}
	struct corr_table *t = corr_table_new(8);
	count_spans(t, 500);
	struct corr_result *r;
	int n = corr_table_rank(t, CORR_MAX_LIMIT, NULL, &r);
	CHECK_INT(n, >, 0);
	int req = 0;
	for (int k = 0; k < n; k++)
		req += slice_eq_cstr(r[k].key, "span.req");
	CHECK_INT(req, <=, 8);
	int keys = 0;
	for (int k = 0; k < n; k++)
		keys += r[k].key.len > 6 && memcmp(r[k].key.p, "span.k", 6) == 0;
	CHECK_INT(keys, <=, CORR_MAX_KEYS);
	corr_table_free(t);
}

/* A full key keeps the values with the most bad units, then the most
 * units, and of equal ones those counted first; a dropped value that comes
 * back counts from zero. Counts added through a key handle and by name go
 * to the same key; a table with CORR_MAX_KEYS keys has no handle for
 * another. */
TEST(corr_evict_order_and_key_handles)
{
	struct corr_table *t = corr_table_new(4);
	CHECK(t != NULL);
	struct corr_key *k = corr_table_key(t, CORR_SCOPE_SPAN, slice_cstr("x"));
	CHECK(k != NULL);
	CHECK(corr_table_key(t, CORR_SCOPE_SPAN, slice_cstr("x")) == k);
	CHECK(corr_table_key(t, CORR_SCOPE_RESOURCE, slice_cstr("x")) != k);
	static const struct {
		const char *v;
		uint64_t bad, total;
	} in[] = {{"a", 1, 10}, {"b", 1, 10}, {"c", 2, 10}, {"d", 1, 10}, {"e", 5, 5}};
	for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
		CHECK_INT(corr_table_add_key_counts(t, k, CORR_V_STRING, slice_cstr(in[i].v), in[i].bad, in[i].total,
						    NULL),
			  ==, 0);
	/* b was dropped with d (a, b, d tie; a came first): it starts again */
	CHECK_INT(corr_table_add_counts(t, CORR_SCOPE_SPAN, slice_cstr("x"), CORR_V_STRING, slice_cstr("b"), 1, 1, NULL),
		  ==, 0);
	CHECK_INT(corr_table_add_key_counts(t, k, CORR_V_STRING, slice_cstr("zero"), 0, 0, NULL), ==, 0);
	corr_table_add_units(t, 10, 100);
	struct corr_result *r;
	int n = corr_table_rank(t, 10, NULL, &r);
	CHECK_INT(n, ==, 4);
	bool seen[5] = {false};
	for (int i = 0; i < n; i++) {
		CHECK_INT(r[i].scope, ==, CORR_SCOPE_SPAN);
		CHECK_INT(r[i].value.len, ==, 1);
		int v = ((const char *)r[i].value.p)[0] - 'a';
		CHECK(v >= 0 && v < 5 && v != 3);
		if (v < 0 || v >= 5)
			continue;
		seen[v] = true;
		if (v == 0) {
			CHECK_INT(r[i].bad, ==, 1);
			CHECK_INT(r[i].rest, ==, 9);
		} else if (v == 1) {
			CHECK_INT(r[i].bad, ==, 1);
			CHECK_INT(r[i].rest, ==, 0);
		}
	}
	CHECK(seen[0] && seen[1] && seen[2] && seen[4] && !seen[3]);
	corr_table_free(t);

	t = corr_table_new(0);
	CHECK(t != NULL);
	char name[16];
	for (int i = 0; i < CORR_MAX_KEYS; i++) {
		snprintf(name, sizeof name, "k%d", i);
		CHECK(corr_table_key(t, CORR_SCOPE_SPAN, slice_cstr(name)) != NULL);
	}
	CHECK(corr_table_key(t, CORR_SCOPE_SPAN, slice_cstr("one-more")) == NULL);
	CHECK(corr_table_key(t, CORR_SCOPE_SPAN, slice_cstr("k7")) != NULL);
	CHECK_INT(corr_table_add_counts(t, CORR_SCOPE_SPAN, slice_cstr("one-more"), CORR_V_STRING, slice_cstr("v"), 1,
					1, NULL),
		  ==, 0);
	corr_table_free(t);
}

/* ---- the block-page path against the span-by-span path ---- */

static struct block *g_blk[4];
static size_t g_n_blk;

static int cb_get_trace(void *impl, const uint8_t id[16], struct span_batch *out)
{
	(void)impl;
	int found = CLEW_ENOTFOUND;
	for (size_t k = 0; k < g_n_blk; k++) {
		int rc = block_get_trace(g_blk[k], id, out);
		if (rc == 0)
			found = 0;
		else if (rc != CLEW_ENOTFOUND)
			return rc;
	}
	return found;
}

static int cb_list(void *impl, struct store_block_list *out)
{
	(void)impl;
	out->items = calloc(g_n_blk + 1, sizeof *out->items);
	if (!out->items)
		return CLEW_ENOMEM;
	for (size_t k = 0; k < g_n_blk; k++) {
		block_ref(g_blk[k]);
		out->items[k].block = g_blk[k];
		out->items[k].seq = k;
		block_get_info(g_blk[k], &out->items[k].info);
	}
	out->n = g_n_blk;
	return 0;
}

static void cb_release(struct store_block_list *l)
{
	for (size_t k = 0; k < l->n; k++)
		block_unref(l->items[k].block);
	free(l->items);
}

static int cb_heads(void *impl, head_batch_fn fn, void *ctx)
{
	(void)impl;
	(void)fn;
	(void)ctx;
	return 0;
}

static const struct store_query_ops cb_ops = {cb_get_trace, cb_list, cb_release, cb_heads};

/* Two blocks of clew gen traffic with small pages. */
static int make_gen_blocks(int64_t *t0, int64_t *t1)
{
	struct topo t;
	struct gen g;
	struct arena a;
	struct span_batch b;
	int rc;
	topo_init(&t);
	arena_init(&a, 0);
	if ((rc = topo_default(&t)) < 0)
		return rc;
	struct gen_config c = {.seed = 7, .start_unix_ns = 1767225600000000000LL, .clock_rate = 10000,
			       .accounts = 3000, .zipf_s = 1.0, .batch_spans = 2000, .topo = &t};
	if ((rc = gen_init(&g, &c)) < 0)
		return rc;
	*t0 = INT64_MAX;
	*t1 = 0;
	for (int k = 0; k < 2; k++) {
		struct block_writer_options wo = {.page_spans = 700};
		struct block_writer *w = block_writer_new(&wo);
		while (block_writer_spans(w) < 15000) {
			arena_reset(&a);
			if ((rc = gen_next_batch(&g, &a, &b)) < 0 || (rc = block_writer_add(w, &b)) < 0)
				return rc;
		}
		char name[32], path[1024], err[256];
		snprintf(name, sizeof name, "corr%d.blk", k);
		struct block_info bi;
		if ((rc = block_writer_finish(w, fileops_posix(), test_tmpdir(), name, &bi)) < 0)
			return rc;
		block_writer_free(w);
		if (bi.min_start_ns < *t0)
			*t0 = bi.min_start_ns;
		if (bi.max_start_ns > *t1)
			*t1 = bi.max_start_ns;
		snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
		if (!(g_blk[g_n_blk] = block_open(fileops_posix(), path, &rc, err, sizeof err)))
			return rc;
		g_n_blk++;
	}
	gen_free(&g);
	topo_free(&t);
	arena_reset(&a);
	return 0;
}

static int run_q(const char *q, const struct exec_options *o, const struct corr_options *co, bool columnar,
		 struct corr_report *rep)
{
	struct arena a;
	struct tql_error e;
	char err[256];
	int rc = CLEW_EPARSE;
	arena_init(&a, 0);
	excol_set_enabled(columnar);
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &e);
	struct exec_query *xq = tq ? exec_compile(tq, &a, &rc, err, sizeof err) : NULL;
	if (xq)
		rc = corr_run(&cb_ops, NULL, xq, o, co, rep);
	else
		memset(rep, 0, sizeof *rep);
	exec_query_free(xq);
	arena_reset(&a);
	excol_set_enabled(true);
	return rc;
}

static bool same_ms(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

TEST(corr_block_pages_match_span_by_span)
{
	int64_t t0, t1;
	CHECK_INT(make_gen_blocks(&t0, &t1), ==, 0);
	struct exec_options all = {.threads = 2};
	struct exec_options part = {.threads = 2, .start_ns = t0 + (t1 - t0) / 3, .end_ns = t0 + (t1 - t0) / 2};
	struct corr_options cos[] = {
		{.signal = CORR_SIGNAL_ERROR},
		{.signal = CORR_SIGNAL_LATENCY, .quantile = 0.99},
		{.signal = CORR_SIGNAL_LATENCY, .threshold_ns = 20000000LL, .limit = 40},
		{.signal = CORR_SIGNAL_ERROR, .level = CORR_LEVEL_TRACE},
		{.signal = CORR_SIGNAL_LATENCY, .level = CORR_LEVEL_TRACE, .quantile = 0.9},
		{.signal = CORR_SIGNAL_LATENCY, .quantile = 0.95, .per_operation = true},
		{.signal = CORR_SIGNAL_LATENCY, .quantile = 0.99, .self_time = true, .limit = 30},
		{.signal = CORR_SIGNAL_LATENCY, .threshold_ns = 1000000LL, .max_values = 64}, /* evictions */
	};
	const char *qs[] = {"{}", "{ kind = server }", "{ span.db.system = \"postgresql\" || status = error }",
			    "{ duration > 5ms }"};
	for (size_t qi = 0; qi < sizeof qs / sizeof *qs; qi++) {
		for (size_t k = 0; k < sizeof cos / sizeof *cos; k++) {
			for (int range = 0; range < 2; range++) {
				if (cos[k].max_values && (qi || range))
					continue; /* evictions depend on the order: {} over everything, one thread below */
				struct exec_options o = range ? part : all;
				if (cos[k].max_values)
					o.threads = 1;
				struct corr_report a, b;
				int ra = run_q(qs[qi], &o, &cos[k], false, &a);
				int rb = run_q(qs[qi], &o, &cos[k], true, &b);
				CHECK_INT(ra, ==, 0);
				CHECK_INT(rb, ==, 0);
				CHECK(a.bad == b.bad && a.rest == b.rest);
				CHECK(a.threshold_ns == b.threshold_ns);
				CHECK(a.inspected_spans == b.inspected_spans);
				CHECK(same_ms(a.p50_ms, b.p50_ms) && same_ms(a.p99_ms, b.p99_ms));
				CHECK_INT(a.n_results, ==, b.n_results);
				for (uint32_t i = 0; i < a.n_results && i < b.n_results; i++) {
					const struct corr_result *x = &a.results[i], *y = &b.results[i];
					bool same = slice_eq(x->key, y->key) && slice_eq(x->value, y->value) &&
						    x->bad == y->bad && x->rest == y->rest && x->vtype == y->vtype &&
						    same_ms(x->with_p50_ms, y->with_p50_ms) &&
						    same_ms(x->with_p99_ms, y->with_p99_ms) &&
						    same_ms(x->without_p99_ms, y->without_p99_ms);
					if (!same)
						fprintf(stderr, "q %zu options %zu range %d result %u: %.*s=%.*s %llu/%llu vs %.*s=%.*s %llu/%llu\n",
							qi, k, range, i, (int)x->key.len, (const char *)x->key.p,
							(int)x->value.len, (const char *)x->value.p, (unsigned long long)x->bad,
							(unsigned long long)x->rest, (int)y->key.len, (const char *)y->key.p,
							(int)y->value.len, (const char *)y->value.p, (unsigned long long)y->bad,
							(unsigned long long)y->rest);
					CHECK(same);
					CHECK(y->n_examples >= 1 || y->bad == 0);
				}
				corr_report_free(&a);
				corr_report_free(&b);
			}
		}
	}
	for (size_t k = 0; k < g_n_blk; k++) {
		block_mark_deleted(g_blk[k]);
		block_unref(g_blk[k]);
	}
	g_n_blk = 0;
}

/* The counting pass's guess of the ranked values (speculation) changes no
 * answer: latency figures included, whether the guess comes early (from
 * one page: candidates missing from the final ranking, pages read again for
 * the values missed) or later, on one or two workers, against no guess;
 * and a guess made late enough leaves pages the figures pass does not read. */
TEST(corr_speculation_same_answers)
{
	int64_t t0, t1;
	CHECK_INT(make_gen_blocks(&t0, &t1), ==, 0);
	struct corr_options cos[] = {
		{.signal = CORR_SIGNAL_LATENCY, .quantile = 0.99},
		{.signal = CORR_SIGNAL_LATENCY, .threshold_ns = 20000000LL, .limit = 40},
		{.signal = CORR_SIGNAL_LATENCY, .quantile = 0.9, .limit = 5},
		{.signal = CORR_SIGNAL_LATENCY, .quantile = 0.95, .per_operation = true},
		{.signal = CORR_SIGNAL_LATENCY, .quantile = 0.99, .self_time = true, .limit = 30},
		{.signal = CORR_SIGNAL_LATENCY, .threshold_ns = 1000000LL, .max_values = 64}, /* evictions */
	};
	const char *qs[] = {"{}", "{ kind = server }", "{ span.db.system = \"postgresql\" || status = error }"};
	const uint64_t afters[] = {1, 3000, 12000};
	uint64_t fewer = 0;
	for (size_t qi = 0; qi < sizeof qs / sizeof *qs; qi++) {
		for (size_t k = 0; k < sizeof cos / sizeof *cos; k++) {
			for (uint32_t threads = 1; threads <= 2; threads++) {
				if (cos[k].max_values && threads > 1)
					continue; /* evictions depend on the order of the pages */
				struct exec_options o = {.threads = threads};
				if (qi == 1) { /* a time range: its boundary pages go span by span */
					o.start_ns = t0 + (t1 - t0) / 4;
					o.end_ns = t1;
				}
				struct corr_options off = cos[k];
				off.spec_after = UINT64_MAX;
				struct corr_report a;
				CHECK_INT(run_q(qs[qi], &o, &off, true, &a), ==, 0);
				CHECK(a.n_results > 0);
				for (size_t s = 0; s < sizeof afters / sizeof *afters; s++) {
					struct corr_options on = cos[k];
					on.spec_after = afters[s];
					struct corr_report b;
					CHECK_INT(run_q(qs[qi], &o, &on, true, &b), ==, 0);
					CHECK(a.bad == b.bad && a.rest == b.rest && a.threshold_ns == b.threshold_ns);
					CHECK(same_ms(a.p50_ms, b.p50_ms) && same_ms(a.p99_ms, b.p99_ms));
					CHECK_INT(a.n_results, ==, b.n_results);
					for (uint32_t i = 0; i < a.n_results && i < b.n_results; i++) {
						const struct corr_result *x = &a.results[i], *y = &b.results[i];
						bool same = slice_eq(x->key, y->key) && slice_eq(x->value, y->value) &&
							    x->bad == y->bad && x->rest == y->rest &&
							    same_ms(x->with_p50_ms, y->with_p50_ms) &&
							    same_ms(x->with_p99_ms, y->with_p99_ms) &&
							    same_ms(x->without_p50_ms, y->without_p50_ms) &&
							    same_ms(x->without_p99_ms, y->without_p99_ms);
						if (!same)
							fprintf(stderr, "q %zu options %zu threads %u after %llu result %u: %.*s=%.*s with %.3f/%.3f vs %.3f/%.3f\n",
								qi, k, threads, (unsigned long long)afters[s], i, (int)x->key.len,
								(const char *)x->key.p, (int)x->value.len, (const char *)x->value.p,
								x->with_p50_ms, x->with_p99_ms, y->with_p50_ms, y->with_p99_ms);
						CHECK(same);
					}
					CHECK(b.figures_pages <= a.figures_pages);
					fewer += b.figures_pages < a.figures_pages;
					corr_report_free(&b);
				}
				corr_report_free(&a);
			}
		}
	}
	CHECK(fewer > 0);
	for (size_t k = 0; k < g_n_blk; k++) {
		block_mark_deleted(g_blk[k]);
		block_unref(g_blk[k]);
	}
	g_n_blk = 0;
}

/* A store whose blocks are replaced, after g_swap_at listings, by other
 * blocks holding the same spans (the same files opened again), as a
 * compaction between two passes would. */
static struct block *g_alt[4];
static int g_lists, g_swap_at;

static int swap_list(void *impl, struct store_block_list *out)
{
	int rc = cb_list(impl, out);
	if (rc < 0 || ++g_lists <= g_swap_at)
		return rc;
	for (size_t k = 0; k < out->n; k++) {
		block_unref(out->items[k].block);
		block_ref(g_alt[k]);
		out->items[k].block = g_alt[k];
	}
	return 0;
}

static const struct store_query_ops swap_ops = {cb_get_trace, swap_list, cb_release, cb_heads};

/* The figures pass over blocks the counting pass did not read (the store
 * changed in between) is done again without the counting pass's guess, so
 * no unit's figures count twice. */
TEST(corr_speculation_store_changed)
{
	int64_t t0, t1;
	char path[1024], err[256];
	int rc;
	CHECK_INT(make_gen_blocks(&t0, &t1), ==, 0);
	for (size_t k = 0; k < g_n_blk; k++) {
		snprintf(path, sizeof path, "%s/corr%zu.blk", test_tmpdir(), k);
		g_alt[k] = block_open(fileops_posix(), path, &rc, err, sizeof err);
		CHECK(g_alt[k] != NULL);
	}
	struct exec_options o = {.threads = 1};
	struct corr_options off = {.signal = CORR_SIGNAL_LATENCY, .threshold_ns = 20000000LL, .spec_after = UINT64_MAX};
	struct corr_options on = off;
	on.spec_after = 3000;
	struct arena a;
	struct tql_error e;
	arena_init(&a, 0);
	struct tql_query *tq = tql_parse("{}", 2, &a, &e);
	struct exec_query *xq = tq ? exec_compile(tq, &a, &rc, err, sizeof err) : NULL;
	CHECK(xq != NULL);
	struct corr_report x, y;
	CHECK_INT(corr_run(&cb_ops, NULL, xq, &o, &off, &x), ==, 0);
	g_lists = 0;
	g_swap_at = 1; /* the counting pass reads g_blk, the figures pass g_alt */
	CHECK_INT(corr_run(&swap_ops, NULL, xq, &o, &on, &y), ==, 0);
	CHECK(g_lists >= 2);
	CHECK_INT(x.n_results, ==, y.n_results);
	CHECK(x.n_results > 0);
	for (uint32_t i = 0; i < x.n_results && i < y.n_results; i++)
		CHECK(slice_eq(x.results[i].value, y.results[i].value) &&
		      same_ms(x.results[i].with_p50_ms, y.results[i].with_p50_ms) &&
		      same_ms(x.results[i].with_p99_ms, y.results[i].with_p99_ms) &&
		      same_ms(x.results[i].without_p99_ms, y.results[i].without_p99_ms));
	CHECK_INT(y.figures_pages, ==, x.figures_pages); /* every page read again */
	corr_report_free(&x);
	corr_report_free(&y);
	exec_query_free(xq);
	arena_reset(&a);
	for (size_t k = 0; k < g_n_blk; k++) {
		block_unref(g_alt[k]);
		block_mark_deleted(g_blk[k]);
		block_unref(g_blk[k]);
	}
	g_n_blk = 0;
}

/* block_cols_keys against a full decode of page p of blk, for every
 * subset of keys and spans the variants pick (0: every key, every span; 1
 * and 2: a third of the keys; 3: no key; 4: every key of two thirds of the
 * spans). Adds the attributes compared to *checked. */
static void check_keys_page(struct block *blk, uint32_t p, struct block_cols *c, struct block_keys_col *kc,
			    uint64_t *checked)
{
	static uint8_t want[4096], sel[8192];
	CHECK_INT(block_cols_load(blk, p, BLOCK_COLS_SPAN_ATTRS, c), ==, 0);
	CHECK(c->dict_n[1] <= sizeof want && c->spans <= sizeof sel);
	for (int variant = 0; variant < 5; variant++) {
		for (uint32_t k = 0; k < c->dict_n[1]; k++)
			want[k] = variant == 0 || variant == 4 || (variant != 3 && (k + (uint32_t)variant) % 3 == 0);
		for (uint32_t i = 0; i < c->spans; i++)
			sel[i] = variant < 2 || i % 3 != 0;
		CHECK_INT(block_cols_keys(blk, p, c, want, variant == 0 ? NULL : sel, kc), ==, 0);
		CHECK_INT(kc->spans, ==, c->spans);
		uint32_t n = 0;
		bool same = true;
		for (uint32_t i = 0; i < c->spans; i++) {
			same &= kc->first[i] == n;
			for (uint32_t j = c->attr_first[i]; variant == 0 || sel[i] ? j < c->attr_first[i + 1] : 0; j++) {
				uint32_t kid = c->attr_key[j], x = c->attr_val[j];
				if (!want[kid])
					continue;
				uint64_t v = 0;
				switch (c->attr_type[j]) {
				case ANY_STRING:
					v = c->attr_str[x];
					break;
				case ANY_INT:
					v = (uint64_t)c->attr_int[x];
					break;
				case ANY_DOUBLE:
					memcpy(&v, &c->attr_dbl[x], 8);
					break;
				case ANY_BOOL:
					v = c->attr_bool[x];
					break;
				default:
					break;
				}
				same &= n < kc->n && kc->kid[n] == kid && kc->type[n] == c->attr_type[j] && kc->val[n] == v;
				n++;
			}
		}
		same &= kc->first[c->spans] == n && kc->n == n;
		CHECK(same);
		if (variant == 3)
			CHECK_INT(kc->n, ==, 0);
		*checked += n;
	}
}

/* block_cols_keys (the latency figures' reader of the ranked keys, the
 * counting pass's reader of every key) gives the attributes a full decode
 * of the span attribute group gives, for any subset of keys and of spans. */
TEST(corr_block_cols_keys_match_full_decode)
{
	int64_t t0, t1;
	CHECK_INT(make_gen_blocks(&t0, &t1), ==, 0);
	struct block_cols c;
	struct block_keys_col kc;
	block_cols_init(&c);
	memset(&kc, 0, sizeof kc);
	uint8_t want[16] = {0};
	uint64_t checked = 0;
	for (size_t b = 0; b < g_n_blk; b++)
		for (uint32_t p = 0; p < block_pages(g_blk[b]); p++)
			check_keys_page(g_blk[b], p, &c, &kc, &checked);
	CHECK(checked > 10000); /* values of every type were compared */
	/* columns of another page than the one asked for (c holds the last
	 * page of the last block) */
	struct block_cols empty;
	block_cols_init(&empty);
	CHECK_INT(block_cols_keys(g_blk[0], 0, &empty, want, NULL, &kc), ==, CLEW_EINVAL);
	CHECK_INT(block_cols_keys(g_blk[0], block_pages(g_blk[0]), &c, want, NULL, &kc), ==, CLEW_EINVAL);
	block_keys_col_free(&kc);
	block_cols_free(&c);
	for (size_t k = 0; k < g_n_blk; k++) {
		block_mark_deleted(g_blk[k]);
		block_unref(g_blk[k]);
	}
	g_n_blk = 0;
}

/* Pages with values of every type and n_keys distinct span attribute keys:
 * more than 127 takes block_cols_keys' general walk (two-byte key ids),
 * fewer its one-byte walks. */
static void check_keys_mixed(uint32_t n_keys)
{
	reset();
	for (uint32_t i = 0; i < 300; i++) {
		uint32_t s = add(i + 1, i + 1, 0, i % 3, "op", 1 + i % 7, 0, NULL, NULL, NULL, NULL);
		struct span *sp = &g_b.spans[s];
		uint32_t n = i % 10; /* some spans have none */
		sp->attrs.items = arena_zalloc(&g_a, (n + 1) * sizeof(struct attr));
		sp->attrs.n = n;
		for (uint32_t k = 0; k < n; k++) {
			struct attr *a = &sp->attrs.items[k];
			char *key = arena_alloc(&g_a, 16);
			snprintf(key, 16, "k%u", (i * 7 + k * 31) % n_keys);
			a->key = slice_cstr(key);
			switch ((i + k) % 5) {
			case 0: {
				char *v = arena_alloc(&g_a, 16);
				snprintf(v, 16, "v%u", (i * k) % 50);
				a->value.type = ANY_STRING;
				a->value.u.str = slice_cstr(v);
				break;
			}
			case 1:
				a->value.type = ANY_INT;
				a->value.u.i = (int64_t)i * 1000003 - (int64_t)k * 77777;
				break;
			case 2:
				a->value.type = ANY_DOUBLE;
				a->value.u.d = i * 0.5 - k;
				break;
			case 3:
				a->value.type = ANY_BOOL;
				a->value.u.b = (i + k) % 2;
				break;
			default:
				a->value.type = ANY_BYTES;
				a->value.u.str = slice_cstr("ab");
				break;
			}
		}
	}
	struct block_writer_options wo = {.page_spans = 128};
	struct block_writer *w = block_writer_new(&wo);
	struct block_info bi;
	char name[32], path[1024], err[256];
	int rc;
	snprintf(name, sizeof name, "mixed%u.blk", n_keys);
	CHECK_INT(block_writer_add(w, &g_b), ==, 0);
	CHECK_INT(block_writer_finish(w, fileops_posix(), test_tmpdir(), name, &bi), ==, 0);
	block_writer_free(w);
	snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
	struct block *blk = block_open(fileops_posix(), path, &rc, err, sizeof err);
	CHECK(blk != NULL);
	if (!blk)
		return;
	struct block_cols c;
	struct block_keys_col kc;
	block_cols_init(&c);
	memset(&kc, 0, sizeof kc);
	uint64_t checked = 0, big_dicts = 0;
	for (uint32_t p = 0; p < block_pages(blk); p++) {
		check_keys_page(blk, p, &c, &kc, &checked);
		big_dicts += c.dict_n[1] > 127;
	}
	CHECK(block_pages(blk) >= 2);
	CHECK(checked > 2000);
	if (n_keys > 127)
		CHECK(big_dicts > 0); /* the general walk ran */
	else
		CHECK_INT(big_dicts, ==, 0);
	block_keys_col_free(&kc);
	block_cols_free(&c);
	block_mark_deleted(blk);
	block_unref(blk);
}

TEST(corr_block_cols_keys_every_type)
{
	check_keys_mixed(200);
	check_keys_mixed(100);
}

static void set_attr(struct attr *a, const char *key, enum any_type type)
{
	a->key = slice_cstr(key);
	a->value.type = type;
}

/* The latency figures pass finds each page's ranked span attribute values
 * by dictionary id (strings), by value (small ints, booleans) or through
 * the page table (bins, values at the 128-byte cap): on a block where
 * every kind is ranked, some only on some pages and one string also under
 * another key, the figures are those of the span-by-span path. */
TEST(corr_block_figures_every_value_kind)
{
	static char longv[2][160];
	for (int k = 0; k < 2; k++) {
		memset(longv[k], 'L', 150);
		longv[k][140] = (char)('a' + k); /* differs past the cap: one counted value */
		longv[k][150] = 0;
	}
	reset();
	for (uint32_t i = 0; i < 600; i++) {
		bool slow = i % 4 == 0 || i % 7 == 0;
		uint32_t s = add(i + 1, i + 1, 0, i % 3, i % 2 ? "get" : "put", slow ? 300 + i % 50 : 5 + i % 20, 0,
				 NULL, NULL, NULL, NULL);
		struct span *sp = &g_b.spans[s];
		sp->attrs.items = arena_zalloc(&g_a, 8 * sizeof(struct attr));
		struct attr *a = sp->attrs.items;
		uint32_t n = 0;
		set_attr(&a[n], "method", ANY_STRING);
		a[n++].value.u.str = slice_cstr(i % 4 == 0 ? "POST" : "GET");
		set_attr(&a[n], "code", ANY_INT);
		a[n++].value.u.i = i % 7 == 0 ? 503 : 200;
		set_attr(&a[n], "cached", ANY_BOOL);
		a[n++].value.u.b = i % 4 != 0;
		set_attr(&a[n], "bytes", ANY_INT);
		a[n++].value.u.i = i % 7 == 0 ? 150000 + i : 3000 + i;
		set_attr(&a[n], "ratio", ANY_DOUBLE);
		a[n++].value.u.d = i % 4 == 0 ? 0.75 : 0.02;
		if (i % 4 == 0 || i % 9 == 0) {
			set_attr(&a[n], "body", ANY_STRING);
			a[n++].value.u.str = slice_cstr(longv[i % 8 == 0]);
		}
		if (i % 8 == 0 || i % 10 == 1) {
			set_attr(&a[n], "alias", ANY_STRING); /* POST under another key */
			a[n++].value.u.str = slice_cstr("POST");
		}
		if (i < 150 && i % 4 == 0) { /* on the first pages only */
			set_attr(&a[n], "canary", ANY_STRING);
			a[n++].value.u.str = slice_cstr("yes");
		}
		sp->attrs.n = n;
	}
	struct block_writer_options wo = {.page_spans = 100};
	struct block_writer *w = block_writer_new(&wo);
	struct block_info bi;
	char path[1024], err[256];
	int rc;
	CHECK_INT(block_writer_add(w, &g_b), ==, 0);
	CHECK_INT(block_writer_finish(w, fileops_posix(), test_tmpdir(), "kinds.blk", &bi), ==, 0);
	block_writer_free(w);
	snprintf(path, sizeof path, "%s/kinds.blk", test_tmpdir());
	g_blk[0] = block_open(fileops_posix(), path, &rc, err, sizeof err);
	CHECK(g_blk[0] != NULL);
	g_n_blk = 1;
	CHECK(block_pages(g_blk[0]) >= 4);
	struct exec_options o = {.threads = 2};
	struct corr_options cos[] = {
		{.signal = CORR_SIGNAL_LATENCY, .threshold_ns = 100000000LL, .limit = 100},
		{.signal = CORR_SIGNAL_LATENCY, .quantile = 0.8, .limit = 100},
		{.signal = CORR_SIGNAL_LATENCY, .level = CORR_LEVEL_TRACE, .quantile = 0.8, .limit = 100},
	};
	const char *want[] = {"span.method", "span.code", "span.cached", "span.bytes", "span.ratio", "span.body",
			      "span.alias", "span.canary"};
	for (size_t k = 0; k < sizeof cos / sizeof *cos; k++) {
		struct corr_report a, b;
		CHECK_INT(run_q("{}", &o, &cos[k], false, &a), ==, 0);
		CHECK_INT(run_q("{}", &o, &cos[k], true, &b), ==, 0);
		CHECK_INT(a.n_results, ==, b.n_results);
		CHECK(same_ms(a.p50_ms, b.p50_ms) && same_ms(a.p99_ms, b.p99_ms));
		uint32_t kinds = 0;
		for (uint32_t i = 0; i < a.n_results && i < b.n_results; i++) {
			const struct corr_result *x = &a.results[i], *y = &b.results[i];
			CHECK(slice_eq(x->key, y->key) && slice_eq(x->value, y->value) && x->bad == y->bad &&
			      x->rest == y->rest);
			CHECK(!isnan(y->with_p50_ms) && same_ms(x->with_p50_ms, y->with_p50_ms) &&
			      same_ms(x->with_p99_ms, y->with_p99_ms) && same_ms(x->without_p50_ms, y->without_p50_ms) &&
			      same_ms(x->without_p99_ms, y->without_p99_ms));
			for (size_t q = 0; q < sizeof want / sizeof *want; q++)
				if (slice_eq_cstr(x->key, want[q]))
					kinds |= 1u << q;
		}
		if (k < 2)
			CHECK_INT(kinds, ==, (1u << (sizeof want / sizeof *want)) - 1); /* every kind was ranked */
		corr_report_free(&a);
		corr_report_free(&b);
	}
	block_mark_deleted(g_blk[0]);
	block_unref(g_blk[0]);
	g_n_blk = 0;
}
