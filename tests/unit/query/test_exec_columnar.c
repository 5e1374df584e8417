/* The columnar TraceQL path against the span-by-span one: blocks of
 * `clew gen` spans (small pages, so page dictionaries differ) and a block of
 * hand-made spans (an attribute on some spans only, several types under one
 * key, duplicate keys, resources without service.name), behind a fake store;
 * every search and metrics query runs both ways and the results must be
 * identical, down to the bits of every sample. Then a block with a damaged
 * column: both ways answer CLEW_ECORRUPT. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "gen/topology.h"
#include "gen/tracegen.h"
#include "query/exec_columnar.h"
#include "query/metrics_exec.h"
#include "store/block.h"
#include "../../testlib.h"

#define T0 1700000000000000000LL
#define SEC 1000000000LL
#define N_BLOCKS 3
#define BLK_DIR_ENTRY_BYTES_TEST 28 /* docs/storage.md: directory entries */

static struct block *g_blocks[N_BLOCKS + 1];
static size_t g_n_blocks;
static struct fileops *g_ops;
static char g_dir[400]; /* where build() wrote the blocks */

static int fake_get_trace(void *impl, const uint8_t id[16], struct span_batch *out)
{
	(void)impl;
	int found = CLEW_ENOTFOUND;
	for (size_t k = 0; k < g_n_blocks; k++) {
		int rc = block_get_trace(g_blocks[k], id, out);
		if (rc == 0)
			found = 0;
		else if (rc != CLEW_ENOTFOUND)
			return rc;
	}
	return found;
}

static int fake_list_blocks(void *impl, struct store_block_list *out)
{
	(void)impl;
	out->items = calloc(g_n_blocks + 1, sizeof *out->items);
	if (!out->items)
		return CLEW_ENOMEM;
	for (size_t k = 0; k < g_n_blocks; k++) {
		block_ref(g_blocks[k]);
		out->items[k].block = g_blocks[k];
		out->items[k].seq = k;
		block_get_info(g_blocks[k], &out->items[k].info);
	}
	out->n = g_n_blocks;
	return 0;
}

static void fake_release_blocks(struct store_block_list *l)
{
	for (size_t k = 0; k < l->n; k++)
		block_unref(l->items[k].block);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

static int fake_scan_heads(void *impl, head_batch_fn fn, void *ctx)
{
	(void)impl;
	(void)fn;
	(void)ctx;
	return 0;
}

static const struct store_query_ops fake_ops = {fake_get_trace, fake_list_blocks, fake_release_blocks,
						fake_scan_heads};

static struct attr *attrs(struct arena *a, uint32_t n)
{
	return arena_zalloc(a, (size_t)n * sizeof(struct attr) + 1);
}

static void kv_str(struct attr *at, const char *k, const char *v)
{
	at->key = slice_cstr(k);
	at->value.type = ANY_STRING;
	at->value.u.str = slice_cstr(v);
}

/* Hand-made spans: 40 traces of 5 spans over 3 resources. */
static void make_odd(struct arena *a, struct span_batch *b)
{
	static const char *svc[] = {"svc-a", "users", NULL};
	static const char *mixs[] = {"v0", "v1", "v2", "v3", "v4", "v5", "v6"};
	static char names[5][16];
	span_batch_init(b, a);
	for (int r = 0; r < 3; r++) {
		struct resource *res = span_batch_add_resource(b);
		res->attrs.items = attrs(a, 2);
		res->attrs.n = 0;
		if (svc[r])
			kv_str(&res->attrs.items[res->attrs.n++], "service.name", svc[r]);
		struct attr *t = &res->attrs.items[res->attrs.n++];
		t->key = slice_cstr("tier");
		t->value.type = ANY_INT;
		t->value.u.i = r;
		span_batch_add_scope(b, (uint32_t)r);
	}
	for (int k = 0; k < 5; k++)
		snprintf(names[k], sizeof names[k], "op%d", k);
	for (int t = 0; t < 40; t++) {
		for (int k = 0; k < 5; k++) {
			int i = t * 5 + k;
			struct span *s = span_batch_add_span(b, (uint32_t)(i % 3));
			s->trace_id[0] = 0xee;
			s->trace_id[15] = (uint8_t)(t + 1);
			s->span_id[6] = (uint8_t)(t + 1);
			s->span_id[7] = (uint8_t)(k + 1);
			s->name = slice_cstr(names[k]);
			s->kind = (uint8_t)(k % 6);
			s->status_code = (uint8_t)(i % 3);
			if (i % 4 == 0)
				s->status_message = slice_cstr(i % 8 ? "boom" : "bang");
			s->start_unix_ns = T0 + (int64_t)t * 200000000LL + k * 1000000LL;
			s->end_unix_ns = s->start_unix_ns + (int64_t)(i % 17) * 1000000LL;
			if (k) {
				s->has_parent = true;
				s->parent_span_id[6] = (uint8_t)(t + 1);
				s->parent_span_id[7] = 1;
			}
			struct attr *l = attrs(a, 4);
			uint32_t n = 0;
			struct attr *m = &l[n++];
			m->key = slice_cstr("mix");
			switch (i % 6) {
			case 0: m->value.type = ANY_STRING, m->value.u.str = slice_cstr(mixs[i % 7]); break;
			case 1: m->value.type = ANY_INT, m->value.u.i = i % 5; break;
			case 2: m->value.type = ANY_DOUBLE, m->value.u.d = (i % 9) * 0.75; break;
			case 3: m->value.type = ANY_BOOL, m->value.u.b = i % 2; break;
			case 4: m->value.type = ANY_BYTES, m->value.u.str = slice_cstr("\x01\x02"); break;
			default: m->value.type = ANY_EMPTY; break;
			}
			if (i % 3 == 0)
				kv_str(&l[n++], "only", i % 2 ? "x" : "y");
			if (i % 5 == 0) {
				kv_str(&l[n++], "dup", "first");
				kv_str(&l[n++], "dup", "second");
			} else if (i % 7 == 0) {
				kv_str(&l[n++], "service.name", "span-level");
			}
			s->attrs.items = l;
			s->attrs.n = n;
		}
	}
}

static int write_block(struct block_writer *w, const char *name)
{
	struct block_info info;
	int rc = block_writer_finish(w, g_ops, g_dir, name, &info);
	block_writer_free(w);
	if (rc < 0)
		return rc;
	char path[512];
	char err[256];
	snprintf(path, sizeof path, "%s/%s", g_dir, name);
	struct block *b = block_open(g_ops, path, &rc, err, sizeof err);
	if (!b)
		return rc;
	g_blocks[g_n_blocks++] = b;
	return 0;
}

static int build(void)
{
	static int state;
	if (state)
		return state;
	state = -1;
	g_ops = fileops_posix();
	snprintf(g_dir, sizeof g_dir, "%s", test_tmpdir());
	struct topo t;
	struct gen g;
	struct arena a;
	struct span_batch b;
	topo_init(&t);
	arena_init(&a, 0);
	if (topo_default(&t) < 0)
		return -1;
	struct gen_config c = {.seed = 11, .start_unix_ns = T0, .clock_rate = 2000, .accounts = 1000,
			       .zipf_s = 1.0, .batch_spans = 500, .topo = &t, .faults = NULL};
	if (gen_init(&g, &c) < 0)
		return -1;
	struct block_writer_options wo = {.page_spans = 300};
	for (int k = 0; k < 2; k++) {
		struct block_writer *w = block_writer_new(&wo);
		for (int i = 0; i < 12; i++) {
			if (gen_next_batch(&g, &a, &b) < 0 || block_writer_add(w, &b) < 0)
				return -1;
		}
		char name[32];
		snprintf(name, sizeof name, "gen%d.blk", k);
		if (write_block(w, name) < 0)
			return -1;
	}
	gen_free(&g);
	topo_free(&t);
	arena_reset(&a);
	arena_init(&a, 0);
	struct block_writer_options wo2 = {.page_spans = 37};
	struct block_writer *w = block_writer_new(&wo2);
	make_odd(&a, &b);
	if (block_writer_add(w, &b) < 0 || write_block(w, "odd.blk") < 0)
		return -1;
	arena_reset(&a);
	state = 1;
	return state;
}

static const char *const search_queries[] = {
	"{}",
	"{ true }",
	"{ false }",
	"{resource.service.name = \"users\"}",
	"{.service.name = \"users\"}",
	"{.service.name = \"span-level\"}",
	"{\"users\" = resource.service.name}",
	"{resource.service.name != \"users\"}",
	"{resource.service.name =~ \"u.*\"}",
	"{name = \"identity.v1.Users/Get\"}",
	"{name = \"no such name\"}",
	"{name != \"no such name\"}",
	"{name != \"identity.v1.Users/Get\" && status = error}",
	"{name > \"m\"}",
	"{name <= \"op2\"}",
	"{name =~ \".*Get.*\"}",
	"{name !~ \"op[0-2]\"}",
	"{status = error}",
	"{status != ok}",
	"{kind = server}",
	"{kind = client || kind = producer}",
	"{!(status = error)}",
	"{!(kind = server) && !(status = unset)}",
	"{duration > 50ms}",
	"{duration >= 1ms && duration < 10ms}",
	"{duration > 1.5}",
	"{duration = 0}",
	"{duration != 3ms}",
	"{span.customer.id = \"no-such-customer\"}",
	"{span.customer.id != \"no-such-customer\"}",
	"{span.customer.tier = \"gold\"}",
	"{span.mix = 3}",
	"{span.mix > 2.5}",
	"{span.mix <= 1}",
	"{span.mix = \"v3\"}",
	"{span.mix >= \"v3\"}",
	"{span.mix =~ \"v[12]\"}",
	"{span.mix !~ \"v[12]\"}",
	"{span.mix = true}",
	"{span.mix != false}",
	"{span.mix != nil}",
	"{.mix < \"v4\"}",
	"{span.only = \"x\"}",
	"{span.only != \"x\"}",
	"{span.only != nil && span.mix != nil}",
	"{span.dup = \"first\"}",
	"{span.dup = \"second\"}",
	"{resource.tier > 0}",
	"{.tier = 2}",
	"{resource.tier = 1.0}",
	"{statusMessage = \"boom\"}",
	"{statusMessage != \"\"}",
	"{statusMessage =~ \"b.*\"}",
	"{} | {status = error}",
	"{kind = server} | {duration > 2ms} | {name != \"op0\"}",
	"{span.http.method = \"GET\" || resource.service.name = \"svc-a\"}",
	/* conjunctions: leaves in cost order, name and scope decoded for the
	 * spans the cheaper leaves left */
	"{resource.service.name = \"users\" && name = \"identity.v1.Users/Get\" && status = error}",
	"{status = error && resource.service.name != \"users\" && name =~ \".*Get.*\"}",
	"{resource.service.name =~ \"u.*\" && statusMessage != \"\" && kind != server}",
	"{name != \"op0\" && span.customer.id != nil && .service.name = \"users\"}",
	"{duration > 1ms && resource.tier > 0 && name > \"m\"}",
};

static int cmp_trace_id(const void *x, const void *y)
{
	return memcmp(((const struct exec_trace *)x)->trace_id, ((const struct exec_trace *)y)->trace_id, 16);
}

/* Run q as a search with the columnar path on or off. */
static int search(const char *q, bool columnar, struct exec_result *res, bool *planned, int64_t start, int64_t end)
{
	struct arena a;
	struct tql_error e;
	int rc;
	char err[256];
	arena_init(&a, 0);
	excol_set_enabled(columnar);
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &e);
	memset(res, 0, sizeof *res);
	arena_init(&res->arena, 0);
	if (!tq) {
		fprintf(stderr, "parse %s: %s\n", q, e.msg);
		arena_reset(&a);
		return CLEW_EPARSE;
	}
	struct exec_query *xq = exec_compile(tq, &a, &rc, err, sizeof err);
	if (!xq) {
		arena_reset(&a);
		return rc;
	}
	*planned = xq->col != NULL;
	struct exec_options o = {.limit = 100000, .threads = 2, .spss = 1000, .start_ns = start, .end_ns = end};
	arena_reset(&res->arena);
	rc = exec_search(&fake_ops, NULL, xq, &o, res);
	exec_query_free(xq);
	arena_reset(&a);
	if (res->n_traces > 1)
		qsort(res->traces, res->n_traces, sizeof *res->traces, cmp_trace_id);
	return rc;
}

static bool same_search(const char *q, int64_t start, int64_t end, bool expect_plan)
{
	struct exec_result x, y;
	bool px = false, py = false, ok = true;
	int rx = search(q, true, &x, &px, start, end);
	int ry = search(q, false, &y, &py, start, end);
	if (rx != ry || py || px != expect_plan || x.n_traces != y.n_traces) {
		fprintf(stderr, "%s: rc %d/%d plan %d/%d traces %zu/%zu\n", q, rx, ry, px, py, x.n_traces, y.n_traces);
		ok = false;
	}
	for (size_t k = 0; ok && k < x.n_traces; k++) {
		const struct exec_trace *a = &x.traces[k], *b = &y.traces[k];
		ok = memcmp(a->trace_id, b->trace_id, 16) == 0 && a->n_spansets == b->n_spansets &&
		     a->start_unix_ns == b->start_unix_ns && a->end_unix_ns == b->end_unix_ns;
		for (uint32_t s = 0; ok && s < a->n_spansets; s++) {
			ok = a->spansets[s].matched == b->spansets[s].matched && a->spansets[s].n_spans == b->spansets[s].n_spans;
			for (uint32_t i = 0; ok && i < a->spansets[s].n_spans; i++)
				ok = memcmp(a->spansets[s].spans[i].span_id, b->spansets[s].spans[i].span_id, 8) == 0;
		}
		if (!ok)
			fprintf(stderr, "%s: trace %zu differs\n", q, k);
	}
	exec_result_free(&x);
	exec_result_free(&y);
	excol_set_enabled(true);
	return ok;
}

TEST(columnar_search_matches_span_by_span)
{
	CHECK_INT(build(), ==, 1);
	size_t n = sizeof search_queries / sizeof *search_queries;
	uint32_t fails = 0;
	for (size_t k = 0; k < n; k++)
		fails += !same_search(search_queries[k], 0, 0, true);
	/* time ranges cutting pages and traces */
	fails += !same_search("{status = error}", T0 + 2 * SEC, T0 + 4 * SEC, true);
	fails += !same_search("{}", T0 + 3 * SEC + 1, T0 + 3 * SEC + 300000000LL, true);
	/* not eligible: the plan is refused, the results still agree */
	fails += !same_search("{name = \"op1\"} >> {name = \"op2\"}", 0, 0, false);
	fails += !same_search("{span.mix = span.only}", 0, 0, false);
	fails += !same_search("{rootServiceName = \"users\"}", 0, 0, false);
	fails += !same_search("{duration * 2 > 10ms}", 0, 0, false);
	CHECK_INT(fails, ==, 0);
}

/* A search that matches something: the path is not trivially empty. */
TEST(columnar_search_finds_traces)
{
	CHECK_INT(build(), ==, 1);
	struct exec_result x;
	bool p = false;
	CHECK_INT(search("{resource.service.name = \"users\"}", true, &x, &p, 0, 0), ==, 0);
	CHECK(p);
	CHECK(x.n_traces > 10);
	exec_result_free(&x);
	CHECK_INT(search("{span.only = \"x\"}", true, &x, &p, 0, 0), ==, 0);
	CHECK_INT(x.n_traces, >, 0);
	exec_result_free(&x);
	CHECK_INT(search("{name = \"no such name\"}", true, &x, &p, 0, 0), ==, 0);
	CHECK_INT(x.n_traces, ==, 0);
	exec_result_free(&x);
	excol_set_enabled(true);
}

static const char *const metrics_queries[] = {
	"{} | count_over_time()",
	"{} | rate()",
	"{} | count_over_time() by (resource.service.name)",
	"{} | count_over_time() by (.service.name)",
	"{resource.service.name = \"users\"} | quantile_over_time(duration, .99, .5) by (span.customer.id)",
	"{status = error} | rate() by (name)",
	"{} | sum_over_time(duration) by (kind)",
	"{} | avg_over_time(duration) by (status)",
	"{} | min_over_time(duration) by (span.mix)",
	"{} | max_over_time(duration) by (statusMessage)",
	"{} | histogram_over_time(duration) by (resource.tier)",
	"{} | sum_over_time(span.mix) by (name)",
	"{} | max_over_time(span.mix)",
	"{kind = server} | count_over_time() by (resource.service.name, name)",
	"{span.only != nil} | count_over_time() by (span.only, span.dup)",
	"{name = \"no such name\"} | count_over_time()",
	"{} | count_over_time() by (resource.service.name) | topk(3)",
	/* per-page group codes: many groups, groups on some pages only,
	 * values without a code (numbers), unscoped attributes falling back to
	 * the resource, several quantiles */
	"{} | quantile_over_time(duration, 0, .25, .5, .9, .99, 1) by (span.customer.id)",
	"{} | count_over_time() by (span.customer.id)",
	"{} | count_over_time() by (span.only)",
	"{} | rate() by (span.mix)",
	"{} | count_over_time() by (span.dup)",
	"{} | avg_over_time(span.mix) by (span.mix)",
	"{} | sum_over_time(duration) by (.service.name)",
	"{} | quantile_over_time(span.mix, .5) by (.service.name)",
	"{} | min_over_time(duration) by (resource.tier)",
	"{} | count_over_time() by (kind)",
	"{} | rate() by (statusMessage)",
	"{span.mix != nil} | quantile_over_time(duration, .9)",
	"{resource.service.name = \"users\" && name = \"identity.v1.Users/Get\" && status = error} | count_over_time()",
	"{resource.service.name = \"users\" && status = error} | count_over_time() by (name)",
	"{name =~ \".*Get.*\" && status != ok} | rate() by (resource.service.name)",
	"{kind = server && resource.service.name != \"users\"} | quantile_over_time(duration, .5) by (.service.name)",
};

static int metrics(const char *q, bool columnar, const struct metrics_exec_options *o, struct series_set **out)
{
	struct arena a;
	struct tql_error e;
	char err[256];
	struct metrics_out_stats st;
	arena_init(&a, 0);
	excol_set_enabled(columnar);
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &e);
	*out = NULL;
	if (!tq) {
		fprintf(stderr, "parse %s: %s\n", q, e.msg);
		arena_reset(&a);
		return CLEW_EPARSE;
	}
	int rc = metrics_exec_run(&fake_ops, NULL, tq, o, out, &st, err, sizeof err);
	arena_reset(&a);
	return rc;
}

static bool same_value(const struct tql_value *a, const struct tql_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case TQL_T_STRING: return slice_eq(a->u.s, b->u.s);
	case TQL_T_BOOL: return a->u.b == b->u.b;
	case TQL_T_FLOAT: return memcmp(&a->u.f, &b->u.f, 8) == 0;
	case TQL_T_NIL: return true;
	default: return a->u.i == b->u.i;
	}
}

static bool same_metrics(const char *q, const struct metrics_exec_options *o)
{
	struct series_set *x = NULL, *y = NULL;
	int rx = metrics(q, true, o, &x);
	int ry = metrics(q, false, o, &y);
	bool ok = rx == ry && (x != NULL) == (y != NULL);
	if (ok && x) {
		ok = series_count(x) == series_count(y) && series_n_steps(x) == series_n_steps(y);
		for (uint32_t i = 0; ok && i < series_count(x); i++) {
			const struct series_out *a = series_at(x, i), *b = series_at(y, i);
			ok = a->n_labels == b->n_labels;
			for (uint32_t l = 0; ok && l < a->n_labels; l++)
				ok = slice_eq(a->labels[l].name, b->labels[l].name) &&
				     same_value(&a->labels[l].value, &b->labels[l].value);
			for (uint32_t s = 0; ok && s < series_n_steps(x); s++)
				ok = (isnan(a->values[s]) && isnan(b->values[s])) || a->values[s] == b->values[s];
		}
	}
	if (!ok)
		fprintf(stderr, "%s: rc %d/%d series %u/%u\n", q, rx, ry, x ? series_count(x) : 0,
			y ? series_count(y) : 0);
	series_set_free(x);
	series_set_free(y);
	excol_set_enabled(true);
	return ok;
}

TEST(columnar_metrics_match_span_by_span)
{
	CHECK_INT(build(), ==, 1);
	struct metrics_exec_options many = {.start_ns = T0 - SEC, .end_ns = T0 + 20 * SEC, .step_ns = 700000000LL};
	many.scan.threads = 2;
	struct metrics_exec_options one = {.start_ns = T0 - SEC, .end_ns = T0 + 60 * SEC, .step_ns = 61 * SEC};
	one.scan.threads = 2;
	struct metrics_exec_options cut = {.start_ns = T0 + 2 * SEC + 1, .end_ns = T0 + 5 * SEC, .step_ns = SEC};
	cut.scan.threads = 1;
	size_t n = sizeof metrics_queries / sizeof *metrics_queries;
	uint32_t fails = 0;
	for (size_t k = 0; k < n; k++) {
		fails += !same_metrics(metrics_queries[k], &many);
		fails += !same_metrics(metrics_queries[k], &one);
		fails += !same_metrics(metrics_queries[k], &cut);
	}
	/* the series limit fails both ways, mid-page, whatever the path */
	struct metrics_exec_options few = many;
	few.max_series = 3;
	fails += !same_metrics("{} | count_over_time() by (span.customer.id)", &few);
	struct metrics_exec_options few1 = one;
	few1.max_series = 3;
	static const char *const limited[] = {
		"{} | count_over_time() by (span.customer.id)",
		"{} | quantile_over_time(duration, .5, .99) by (span.customer.id)",
		"{} | count_over_time() by (span.mix)",
		"{} | max_over_time(duration) by (name)",
		"{} | histogram_over_time(duration)",
	};
	for (size_t k = 0; k < sizeof limited / sizeof *limited; k++) {
		fails += !same_metrics(limited[k], &few);
		fails += !same_metrics(limited[k], &few1);
	}
	CHECK_INT(fails, ==, 0);
	/* and the columnar answer is not empty */
	struct series_set *x = NULL;
	CHECK_INT(metrics("{} | count_over_time() by (resource.service.name)", true, &one, &x), ==, 0);
	CHECK(series_count(x) > 3);
	series_set_free(x);
	excol_set_enabled(true);
}

/* Flip a byte inside column col of page 0 of the odd block (its CRC then
 * fails): both paths refuse with CLEW_ECORRUPT. */
TEST(columnar_corrupt_page)
{
	CHECK_INT(build(), ==, 1);
	char src[512], dst[512];
	snprintf(src, sizeof src, "%s/odd.blk", test_tmpdir());
	snprintf(dst, sizeof dst, "%s/odd-bad.blk", test_tmpdir());
	struct arena oa;
	struct span_batch ob;
	struct block_writer_options wo = {.page_spans = 37};
	struct block_writer *ow = block_writer_new(&wo);
	arena_init(&oa, 0);
	make_odd(&oa, &ob);
	CHECK_INT(block_writer_add(ow, &ob), ==, 0);
	CHECK_INT(block_writer_finish(ow, g_ops, test_tmpdir(), "odd.blk", NULL), ==, 0);
	block_writer_free(ow);
	arena_reset(&oa);
	FILE *f = fopen(src, "rb");
	CHECK(f != NULL);
	static uint8_t buf[1 << 20];
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	CHECK(len > 100 && len < sizeof buf);
	uint64_t dir = 0;
	memcpy(&dir, buf + len - 40, 8);
	static const int cols[] = {BCOL_NAME,
				   BCOL_SCOPE,
				   BCOL_KIND_STATUS,
				   BCOL_SPAN_ATTR + BATTR_KEY,
				   BCOL_SPAN_ATTR + BATTR_STR,
				   BCOL_SPAN_ATTR + BATTR_TYPE,
				   BCOL_SPAN_ATTR + BATTR_COUNT,
				   BCOL_SPAN_ATTR + BATTR_INT};
	static const char *qs[] = {"{name = \"op1\"}",	 "{resource.service.name = \"users\"}",
				   "{status = error}",	 "{span.mix = 3}",
				   "{span.only = \"x\"}", "{span.dup = \"second\"}",
				   "{span.only != nil}", "{span.mix = 3}"};
	for (int k = 0; k < 8; k++) {
		const uint8_t *e = buf + dir + (size_t)cols[k] * BLK_DIR_ENTRY_BYTES_TEST;
		uint64_t off;
		uint32_t slen;
		memcpy(&off, e, 8);
		memcpy(&slen, e + 8, 4);
		CHECK(slen > 0 && off + slen <= len);
		static uint8_t bad[1 << 20];
		memcpy(bad, buf, len);
		bad[off + slen / 2] ^= 0x5a;
		f = fopen(dst, "wb");
		CHECK(f != NULL);
		CHECK(fwrite(bad, 1, len, f) == len);
		fclose(f);
		int rc;
		char err[256];
		struct block *b = block_open(g_ops, dst, &rc, err, sizeof err);
		CHECK(b != NULL);
		struct block *saved[N_BLOCKS + 1];
		size_t saved_n = g_n_blocks;
		memcpy(saved, g_blocks, sizeof saved);
		g_blocks[0] = b;
		g_n_blocks = 1;
		struct exec_result x;
		bool p;
		int r1 = search(qs[k], true, &x, &p, 0, 0);
		exec_result_free(&x);
		int r2 = search(qs[k], false, &x, &p, 0, 0);
		exec_result_free(&x);
		char mq[128];
		snprintf(mq, sizeof mq, "%s | count_over_time()", qs[k]);
		struct metrics_exec_options one = {.start_ns = T0 - SEC, .end_ns = T0 + 60 * SEC, .step_ns = 61 * SEC};
		struct series_set *s1 = NULL, *s2 = NULL;
		int r3 = metrics(mq, true, &one, &s1);
		int r4 = metrics(mq, false, &one, &s2);
		series_set_free(s1);
		series_set_free(s2);
		memcpy(g_blocks, saved, sizeof saved);
		g_n_blocks = saved_n;
		block_unref(b);
		excol_set_enabled(true);
		CHECK_INT(r1, ==, CLEW_ECORRUPT);
		CHECK_INT(r2, ==, CLEW_ECORRUPT);
		CHECK_INT(r3, ==, CLEW_ECORRUPT);
		CHECK_INT(r4, ==, CLEW_ECORRUPT);
	}
}

/* block_cols_load checks: a page out of range, and the decoded arrays agree
 * with block_read_page. */
TEST(block_cols_agree_with_read_page)
{
	CHECK_INT(build(), ==, 1);
	struct block *b = g_blocks[2];
	struct block_cols c;
	block_cols_init(&c);
	CHECK_INT(block_cols_load(b, block_pages(b), BLOCK_COLS_NAME, &c), ==, CLEW_EINVAL);
	struct arena a;
	arena_init(&a, 0);
	for (uint32_t p = 0; p < block_pages(b); p++) {
		unsigned want = BLOCK_COLS_START | BLOCK_COLS_DURATION | BLOCK_COLS_NAME | BLOCK_COLS_KIND_STATUS |
				BLOCK_COLS_STATUS_MSG | BLOCK_COLS_SPAN_ATTRS | BLOCK_COLS_SCOPE | BLOCK_COLS_TRACE_IDS;
		CHECK_INT(block_cols_load(b, p, want, &c), ==, 0);
		struct span_batch sb;
		arena_reset(&a);
		arena_init(&a, 0);
		span_batch_init(&sb, &a);
		CHECK_INT(block_read_page(b, p, &sb), ==, 0);
		CHECK_INT(sb.n_spans, ==, c.spans);
		for (uint32_t i = 0; i < c.spans; i++) {
			const struct span *s = &sb.spans[i];
			CHECK_INT(c.start[i], ==, s->start_unix_ns);
			CHECK_INT(c.duration[i], ==, s->end_unix_ns - s->start_unix_ns);
			CHECK(slice_eq(c.dict[0][c.name[i]], s->name));
			CHECK(slice_eq(c.dict[2][c.status_msg[i]], s->status_message));
			CHECK_INT(c.kind_status[2 * i], ==, s->kind);
			CHECK_INT(c.kind_status[2 * i + 1], ==, s->status_code);
			CHECK_INT(c.attr_first[i + 1] - c.attr_first[i], ==, s->attrs.n);
			for (uint32_t k = 0; k < s->attrs.n; k++) {
				uint32_t j = c.attr_first[i] + k;
				CHECK(slice_eq(c.dict[1][c.attr_key[j]], s->attrs.items[k].key));
				CHECK_INT(c.attr_type[j], ==, s->attrs.items[k].value.type);
				if (c.attr_type[j] == ANY_STRING)
					CHECK(slice_eq(c.dict[2][c.attr_str[c.attr_val[j]]], s->attrs.items[k].value.u.str));
				if (c.attr_type[j] == ANY_INT)
					CHECK_INT(c.attr_int[c.attr_val[j]], ==, s->attrs.items[k].value.u.i);
			}
		}
	}
	arena_reset(&a);
	block_cols_free(&c);
}

/* block_cols_key gives, for every key of every page, each span's first
 * attribute with the key as the full decode of the attribute group has it
 * (several types under one key, duplicate keys, spans without the key, a
 * key absent from the page). */
TEST(block_cols_key_agrees_with_full_decode)
{
	CHECK_INT(build(), ==, 1);
	struct block_cols c, full;
	struct block_key_col kc;
	block_cols_init(&c);
	block_cols_init(&full);
	memset(&kc, 0, sizeof kc);
	uint64_t checked = 0, present = 0;
	for (size_t bi = 0; bi < g_n_blocks; bi++) {
		struct block *b = g_blocks[bi];
		for (uint32_t p = 0; p < block_pages(b); p++) {
			CHECK_INT(block_cols_load(b, p, BLOCK_COLS_SPAN_ATTRS, &full), ==, 0);
			CHECK_INT(block_cols_key(b, p, &c, UINT32_MAX, &kc), ==, 0);
			CHECK_INT(kc.spans, ==, full.spans);
			for (uint32_t i = 0; i < kc.spans; i++)
				CHECK_INT(kc.type[i], ==, BLOCK_KEY_NONE);
			CHECK_INT(block_cols_key(b, p, &c, full.dict_n[1], &kc), ==, CLEW_EINVAL);
			for (uint32_t kid = 0; kid < full.dict_n[1]; kid++) {
				CHECK_INT(block_cols_key(b, p, &c, kid, &kc), ==, 0);
				for (uint32_t i = 0; i < full.spans; i++) {
					uint32_t r = UINT32_MAX;
					for (uint32_t a = full.attr_first[i]; a < full.attr_first[i + 1] && r == UINT32_MAX; a++)
						if (full.attr_key[a] == kid)
							r = a;
					checked++;
					if (r == UINT32_MAX) {
						CHECK_INT(kc.type[i], ==, BLOCK_KEY_NONE);
						continue;
					}
					present++;
					uint8_t t = full.attr_type[r];
					uint32_t v = full.attr_val[r];
					CHECK_INT(kc.type[i], ==, t);
					if (t == ANY_STRING)
						CHECK_INT(kc.val[i], ==, full.attr_str[v]);
					else if (t == ANY_INT)
						CHECK_INT((int64_t)kc.val[i], ==, full.attr_int[v]);
					else if (t == ANY_BOOL)
						CHECK_INT(kc.val[i], ==, full.attr_bool[v]);
					else if (t == ANY_DOUBLE)
						CHECK(memcmp(&kc.val[i], &full.attr_dbl[v], 8) == 0);
				}
			}
		}
	}
	CHECK(present > 1000);
	CHECK(checked > present);
	block_key_col_free(&kc);
	block_cols_free(&c);
	block_cols_free(&full);
}

/* block_cols_key_sel and block_cols_duration_sel give the selected spans'
 * values as the full decode has them and nothing for the others (runs of
 * 64 selected spans, runs with every third selected, long unselected runs
 * broken by single spans). */
TEST(block_cols_sel_agree_with_full_decode)
{
	CHECK_INT(build(), ==, 1);
	struct block_cols c, full;
	struct block_key_col kc;
	block_cols_init(&c);
	block_cols_init(&full);
	memset(&kc, 0, sizeof kc);
	uint8_t *sel = NULL;
	uint64_t checked = 0, skipped = 0;
	for (size_t bi = 0; bi < g_n_blocks; bi++) {
		struct block *b = g_blocks[bi];
		for (uint32_t p = 0; p < block_pages(b); p++) {
			CHECK_INT(block_cols_load(b, p, BLOCK_COLS_SPAN_ATTRS | BLOCK_COLS_DURATION, &full), ==, 0);
			uint32_t n = full.spans;
			free(sel);
			sel = calloc((size_t)n + 1, 1);
			CHECK(sel != NULL);
			for (uint32_t i = 0; i < n; i++)
				sel[i] = (i / 64) % 4 == 0 || ((i / 64) % 4 == 1 && i % 3 == 1) || i % 97 == 5;
			/* without the whole column: selected durations only */
			CHECK_INT(block_cols_duration_sel(b, p, &c, sel), ==, CLEW_EINVAL);
			CHECK_INT(block_cols_load(b, p, BLOCK_COLS_SCOPE, &c), ==, 0);
			CHECK_INT(block_cols_duration_sel(b, p, &c, sel), ==, 0);
			for (uint32_t i = 0; i < n; i++)
				CHECK_INT(c.duration[i], ==, sel[i] ? full.duration[i] : 0);
			for (uint32_t kid = 0; kid < full.dict_n[1]; kid++) {
				CHECK_INT(block_cols_key_sel(b, p, &c, kid, sel, &kc), ==, 0);
				for (uint32_t i = 0; i < n; i++) {
					uint32_t r = UINT32_MAX;
					for (uint32_t a = full.attr_first[i]; a < full.attr_first[i + 1] && r == UINT32_MAX; a++)
						if (full.attr_key[a] == kid)
							r = a;
					if (!sel[i] || r == UINT32_MAX) {
						skipped += r != UINT32_MAX;
						CHECK_INT(kc.type[i], ==, BLOCK_KEY_NONE);
						continue;
					}
					checked++;
					uint8_t t = full.attr_type[r];
					uint32_t v = full.attr_val[r];
					CHECK_INT(kc.type[i], ==, t);
					if (t == ANY_STRING)
						CHECK_INT(kc.val[i], ==, full.attr_str[v]);
					else if (t == ANY_INT)
						CHECK_INT((int64_t)kc.val[i], ==, full.attr_int[v]);
					else if (t == ANY_BOOL)
						CHECK_INT(kc.val[i], ==, full.attr_bool[v]);
					else if (t == ANY_DOUBLE)
						CHECK(memcmp(&kc.val[i], &full.attr_dbl[v], 8) == 0);
				}
			}
			/* a loaded duration column is left as it is */
			CHECK_INT(block_cols_load(b, p, BLOCK_COLS_DURATION, &c), ==, 0);
			CHECK_INT(block_cols_duration_sel(b, p, &c, sel), ==, 0);
			for (uint32_t i = 0; i < n; i++)
				CHECK_INT(c.duration[i], ==, full.duration[i]);
		}
	}
	CHECK(checked > 1000);
	CHECK(skipped > 1000);
	free(sel);
	block_key_col_free(&kc);
	block_cols_free(&c);
	block_cols_free(&full);
}
