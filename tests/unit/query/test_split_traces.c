/* Traces split over blocks and the heads: a real store (manual maintenance)
 * holding two six-span traces in two parts each (flushed into two blocks,
 * or one part in a block and one in the head) must answer every search and
 * metrics query exactly as the same store holding them whole: plain,
 * structural, trace-level and pipeline queries, with the columnar path on
 * and off, and each span counted once. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"
#include "query/exec_columnar.h"
#include "query/metrics_exec.h"
#include "store/store.h"
#include "../../testlib.h"

#define MS 1000000LL

static int64_t g_t0;

/* Local span k (0..5) of split trace t (1, 2; 3 is a small whole trace):
 * r, l1, l2 children of r, l3 child of l2 (error), l4 child of l3, l5
 * child of r (error). Part 0 of trace 1 is {r, l1, l2}; trace 2's parts are
 * the other way round, so the part written first lacks the root there. */
static const char *const g_names[6] = {"GET /deep", "auth", "db", "query", "disk", "cache"};
static const int g_parent[6] = {-1, 0, 0, 2, 3, 0};
static const int g_svc[6] = {0, 0, 1, 1, 1, 2};
static const char *const g_svcs[3] = {"front", "back", "cache"};

static bool in_part(int t, int k, int part)
{
	bool upper = k <= 2;
	if (t == 3)
		return part == 0;
	return (t == 1 ? upper : !upper) == (part == 0);
}

/* One span of a test data set: trace t, local span k (its span id's last
 * byte is k + 1), the part it is written in, its parent (-1: a root), its
 * service (g_svcs), times in ms after g_t0, an error, an optional span
 * attribute tag. */
struct tspan {
	int t, k, part, parent, svc;
	const char *name;
	bool error;
	int64_t start_ms, dur_ms;
	const char *tag;
};

/* The spans of tab[0, n) in the parts of mask (bit 0 part 0, bit 1 part 1)
 * appended to s as one OTLP request. */
static int append_spans(struct store *s, const struct tspan *tab, size_t n, unsigned mask)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	for (int r = 0; r < 3; r++) {
		struct resource *res = span_batch_add_resource(&b);
		res->attrs.items = arena_zalloc(&a, sizeof(struct attr));
		res->attrs.n = 1;
		res->attrs.items[0].key = slice_cstr("service.name");
		res->attrs.items[0].value.type = ANY_STRING;
		res->attrs.items[0].value.u.str = slice_cstr(g_svcs[r]);
		span_batch_add_scope(&b, (uint32_t)r);
	}
	for (size_t i = 0; i < n; i++) {
		const struct tspan *x = &tab[i];
		if (!(mask & (1u << x->part)))
			continue;
		struct span *sp = span_batch_add_span(&b, (uint32_t)x->svc);
		sp->trace_id[0] = 0xab;
		sp->trace_id[15] = (uint8_t)x->t;
		sp->span_id[0] = (uint8_t)x->t;
		sp->span_id[7] = (uint8_t)(x->k + 1);
		sp->name = slice_cstr(x->name);
		sp->kind = x->parent >= 0 ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER;
		sp->status_code = x->error ? STATUS_ERROR : STATUS_OK;
		sp->start_unix_ns = g_t0 + x->start_ms * MS;
		sp->end_unix_ns = sp->start_unix_ns + x->dur_ms * MS;
		if (x->parent >= 0) {
			sp->has_parent = true;
			sp->parent_span_id[0] = (uint8_t)x->t;
			sp->parent_span_id[7] = (uint8_t)(x->parent + 1);
		}
		if (x->tag) {
			sp->attrs.items = arena_zalloc(&a, sizeof(struct attr));
			sp->attrs.n = 1;
			sp->attrs.items[0].key = slice_cstr("tag");
			sp->attrs.items[0].value.type = ANY_STRING;
			sp->attrs.items[0].value.u.str = slice_cstr(x->tag);
		}
	}
	struct buf enc;
	buf_init(&enc, 1 << 20);
	otlp_encode_request(&b, &enc);
	struct span_batch d;
	span_batch_init(&d, &a);
	struct decode_error err;
	int rc = otlp_proto_decode_request(buf_slice(&enc), &d, &err);
	if (rc == 0)
		rc = store_append(s, enc.p, enc.len, &d);
	else
		buf_free(&enc);
	arena_reset(&a);
	return rc;
}

static struct tspan g_deep[15];
static size_t g_n_deep;

/* The data set of split_traces_answer_as_whole: traces 1 and 2 split, 3
 * whole in part 0. */
static void make_deep(void)
{
	g_n_deep = 0;
	for (int t = 1; t <= 3; t++)
		for (int k = 0; k < (t == 3 ? 3 : 6); k++)
			g_deep[g_n_deep++] = (struct tspan){t, k, in_part(t, k, 0) ? 0 : 1, g_parent[k], g_svc[k],
							    g_names[k], k == 3 || k == 5, (t - 1) * 1000 + k,
							    20 - k, NULL};
}

enum layout { WHOLE, TWO_BLOCKS, BLOCK_AND_HEAD, HEAD_AND_BLOCK };

/* A store under set's name holding the spans of tab[0, n) as layout l
 * places their parts. */
static struct store *open_layout(enum layout l, const char *set, const struct tspan *tab, size_t n)
{
	static const char *const names[] = {"whole", "two_blocks", "block_head", "head_block"};
	char dir[600], err[512];
	int rc;
	snprintf(dir, sizeof dir, "%s/%s_%s", test_tmpdir(), set, names[l]);
	struct store_options o = {.data_dir = dir, .manual_maintenance = 1};
	struct store *s = store_open(&o, &rc, err, sizeof err);
	if (!s) {
		fprintf(stderr, "    store_open: %s\n", err);
		return NULL;
	}
	bool ok;
	switch (l) {
	case WHOLE: ok = append_spans(s, tab, n, 3) == 0 && store_flush(s) == 0; break;
	case TWO_BLOCKS:
		ok = append_spans(s, tab, n, 1) == 0 && store_flush(s) == 0 && append_spans(s, tab, n, 2) == 0 && store_flush(s) == 0;
		break;
	case BLOCK_AND_HEAD: ok = append_spans(s, tab, n, 1) == 0 && store_flush(s) == 0 && append_spans(s, tab, n, 2) == 0; break;
	default: ok = append_spans(s, tab, n, 2) == 0 && store_flush(s) == 0 && append_spans(s, tab, n, 1) == 0; break;
	}
	if (!ok) {
		store_close(s);
		return NULL;
	}
	return s;
}

static int cmp_trace_id(const void *x, const void *y)
{
	return memcmp(((const struct exec_trace *)x)->trace_id, ((const struct exec_trace *)y)->trace_id, 16);
}

/* The search answer as text: per trace (by id) its root, times, every
 * spanset's matched count and span ids, and the service figures. */
static void search_range(struct store *s, const char *q, int64_t start_ns, int64_t end_ns, char *out, size_t cap)
{
	struct arena a;
	struct tql_error te;
	char err[256];
	int rc;
	struct exec_result res;
	memset(&res, 0, sizeof res);
	arena_init(&a, 0);
	snprintf(out, cap, "error");
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &te);
	struct exec_query *xq = tq ? exec_compile(tq, &a, &rc, err, sizeof err) : NULL;
	struct exec_options o = {.start_ns = start_ns, .end_ns = end_ns, .threads = 2, .spss = 10};
	if (!xq || exec_search(&store_embedded_query_ops, s, xq, &o, &res) < 0)
		goto out;
	qsort(res.traces, res.n_traces, sizeof *res.traces, cmp_trace_id);
	struct buf b;
	buf_init(&b, 1 << 16);
	for (size_t k = 0; k < res.n_traces; k++) {
		const struct exec_trace *t = &res.traces[k];
		buf_printf(&b, "trace %u root %.*s/%.*s %lld..%lld:", t->trace_id[15], (int)t->root_service.len,
			   (const char *)t->root_service.p, (int)t->root_name.len, (const char *)t->root_name.p,
			   (long long)((t->start_unix_ns - g_t0) / MS), (long long)((t->end_unix_ns - g_t0) / MS));
		for (uint32_t i = 0; i < t->n_spansets; i++) {
			buf_printf(&b, " [%u", t->spansets[i].matched);
			for (uint32_t j = 0; j < t->spansets[i].n_spans; j++)
				buf_printf(&b, " %u", t->spansets[i].spans[j].span_id[7]);
			buf_printf(&b, "]");
		}
		/* service figures in name order, whatever order the parts gave */
		for (int v = 0; v < 3; v++)
			for (uint32_t i = 0; i < t->n_services; i++)
				if (slice_eq_cstr(t->services[i].name, g_svcs[v]))
					buf_printf(&b, " %s=%u/%u", g_svcs[v], t->services[i].spans, t->services[i].errors);
		buf_printf(&b, ";");
	}
	snprintf(out, cap, "%.*s", (int)b.len, b.err ? "" : (const char *)b.p);
	buf_free(&b);
out:
	exec_result_free(&res);
	exec_query_free(xq);
	arena_reset(&a);
}

static void search_text(struct store *s, const char *q, char *out, size_t cap)
{
	search_range(s, q, 0, 0, out, cap);
}

/* The metrics answer as text: each series' labels and its samples' sum. */
static void metrics_text(struct store *s, const char *q, char *out, size_t cap)
{
	struct arena a;
	struct tql_error te;
	char err[256];
	struct series_set *set = NULL;
	struct metrics_out_stats st;
	arena_init(&a, 0);
	snprintf(out, cap, "error");
	struct tql_query *tq = tql_parse(q, strlen(q), &a, &te);
	struct metrics_exec_options o = {.start_ns = g_t0 - 1000 * MS, .end_ns = g_t0 + 9000 * MS,
					 .step_ns = 10000 * MS};
	o.scan.threads = 2;
	if (!tq || metrics_exec_run(&store_embedded_query_ops, s, tq, &o, &set, &st, err, sizeof err) < 0) {
		snprintf(out, cap, "error %s", tq ? err : te.msg);
		goto out;
	}
	struct buf b;
	buf_init(&b, 1 << 16);
	for (uint32_t i = 0; i < series_count(set); i++) {
		const struct series_out *so = series_at(set, i);
		for (uint32_t l = 0; l < so->n_labels; l++) {
			const struct tql_value *v = &so->labels[l].value;
			if (v->type == TQL_T_STRING)
				buf_printf(&b, "%.*s ", (int)v->u.s.len, (const char *)v->u.s.p);
			else
				buf_printf(&b, "%lld ", (long long)v->u.i);
		}
		buf_printf(&b, "= %g;", so->values[0]);
	}
	snprintf(out, cap, "%.*s", (int)b.len, b.err ? "" : (const char *)b.p);
	buf_free(&b);
out:
	series_set_free(set);
	arena_reset(&a);
}

static const char *const g_search[] = {
	"{}",
	"{ status = error }",
	"{ resource.service.name = \"back\" }",
	"{ name = \"GET /deep\" } >> { status = error }",
	"{ name = \"db\" } > { name = \"query\" }",
	"{ } | count() = 6",
	"{ } | count() > 3",
	"{ } | avg(duration) > 16ms",
	"{ rootName = \"GET /deep\" && status = error }",
	"{ rootServiceName = \"front\" && name = \"disk\" }",
	"{ traceDuration > 18ms }",
	"{ } | by(resource.service.name) | count() > 1",
	"{ status = error } | select(span.x)",
	"{ childCount = 1 }",
};

static const char *const g_metrics[] = {
	"{ } | count_over_time()",
	"{ status = error } | count_over_time() by (resource.service.name)",
	"{ rootServiceName = \"front\" } | count_over_time()",
	"{ name = \"db\" } > { } | count_over_time()",
	"{ traceDuration > 18ms } | count_over_time() by (name)",
	"{ } | count() > 4 | count_over_time()",
};

TEST(split_traces_answer_as_whole)
{
	g_t0 = (clock_now_unix_ns() / (1000 * MS) - 600) * 1000 * MS;
	make_deep();
	struct store *st[4];
	for (int l = 0; l < 4; l++)
		CHECK((st[l] = open_layout((enum layout)l, "split", g_deep, g_n_deep)) != NULL);
	for (int l = 0; l < 4; l++)
		if (!st[l])
			return;
	struct store_stats ss;
	store_get_stats(st[TWO_BLOCKS], &ss);
	CHECK_INT(ss.blocks, ==, 2);
	store_get_stats(st[BLOCK_AND_HEAD], &ss);
	CHECK_INT(ss.blocks, ==, 1);
	CHECK_INT(ss.head_spans, ==, 6);
	static char want[8192], got[8192];
	for (int col = 0; col < 2; col++) {
		excol_set_enabled(col == 1);
		for (size_t i = 0; i < sizeof g_search / sizeof *g_search; i++) {
			search_text(st[WHOLE], g_search[i], want, sizeof want);
			CHECK(strncmp(want, "error", 5) != 0);
			for (int l = 1; l < 4; l++) {
				search_text(st[l], g_search[i], got, sizeof got);
				if (strcmp(got, want) != 0)
					fprintf(stderr, "    layout %d columnar %d %s\n    got  %s\n    want %s\n", l, col,
						g_search[i], got, want);
				CHECK_STR(got, want);
			}
		}
		for (size_t i = 0; i < sizeof g_metrics / sizeof *g_metrics; i++) {
			metrics_text(st[WHOLE], g_metrics[i], want, sizeof want);
			CHECK(strncmp(want, "error", 5) != 0);
			for (int l = 1; l < 4; l++) {
				metrics_text(st[l], g_metrics[i], got, sizeof got);
				if (strcmp(got, want) != 0)
					fprintf(stderr, "    layout %d columnar %d %s\n    got  %s\n    want %s\n", l, col,
						g_metrics[i], got, want);
				CHECK_STR(got, want);
			}
		}
	}
	excol_set_enabled(true);
	/* the absolute answers, so that a wrong whole store cannot pass */
	search_text(st[TWO_BLOCKS], "{}", got, sizeof got);
	CHECK_STR(got, "trace 1 root front/GET /deep 0..20: [6 1 2 3 4 5 6] front=2/0 back=3/1 cache=1/1;"
		       "trace 2 root front/GET /deep 1000..1020: [6 1 2 3 4 5 6] front=2/0 back=3/1 cache=1/1;"
		       "trace 3 root front/GET /deep 2000..2020: [3 1 2 3] front=2/0 back=1/0;");
	search_text(st[HEAD_AND_BLOCK], "{ name = \"GET /deep\" } >> { status = error }", got, sizeof got);
	CHECK_STR(got, "trace 1 root front/GET /deep 0..20: [2 4 6] front=2/0 back=3/1 cache=1/1;"
		       "trace 2 root front/GET /deep 1000..1020: [2 4 6] front=2/0 back=3/1 cache=1/1;");
	search_text(st[BLOCK_AND_HEAD], "{ } | count() = 6", got, sizeof got);
	CHECK(strstr(got, "trace 1 ") && strstr(got, "trace 2 ") && !strstr(got, "trace 3 "));
	metrics_text(st[TWO_BLOCKS], "{ } | count_over_time()", got, sizeof got);
	CHECK_STR(got, "= 15;");
	metrics_text(st[BLOCK_AND_HEAD], "{ rootServiceName = \"front\" } | count_over_time()", got, sizeof got);
	CHECK_STR(got, "= 15;");
	for (int l = 0; l < 4; l++)
		store_close(st[l]);
}

/* Trace 1 split so that the part holding its root (part 0) lacks every
 * value the queries filter on ("late", tag = "v"), and that part's block
 * ends before the later part does; traces 2 (part 0) and 3 (part 1) whole. */
static const struct tspan g_pruned[] = {
	{1, 0, 0, -1, 0, "GET /x", false, 0, 20, NULL},   {1, 1, 0, 0, 0, "auth", false, 1, 4, NULL},
	{1, 2, 1, 0, 1, "late", true, 10, 6000, "v"},     {1, 3, 1, 2, 1, "later", false, 11, 1, NULL},
	{2, 0, 0, -1, 0, "GET /x", false, 100, 20, NULL}, {2, 1, 0, 0, 0, "auth", false, 101, 4, NULL},
	{3, 0, 1, -1, 2, "GET /y", false, 200, 10, NULL}, {3, 1, 1, 0, 2, "auth", false, 201, 2, NULL},
};

static const char *const g_pruned_search[] = {
	"{ name = \"late\" }",
	"{ } >> { name = \"late\" }",
	"{ name = \"GET /x\" } > { name = \"late\" }",
	"{ name = \"late\" } < { name = \"GET /x\" }",
	"{ name = \"later\" } << { }",
	"{ name = \"auth\" } ~ { name = \"late\" }",
	"{ name = \"nothing\" } !>> { name = \"late\" }",
	"{ name = \"nothing\" } !~ { name = \"late\" }",
	"{ span.tag = \"v\" && rootName = \"GET /x\" }",
	"{ name = \"late\" } | count() = 1",
	"{ name = \"later\" && traceDuration > 1s }",
	"{ span.tag = \"v\" } | select(span.tag)",
};

static const char *const g_pruned_metrics[] = {
	"{ } >> { name = \"late\" } | count_over_time()",
	"{ rootName = \"GET /x\" && name = \"late\" } | count_over_time() by (resource.service.name)",
	"{ span.tag = \"v\" } | count_over_time()",
};

/* Pages are pruned by their dictionaries and by time; a query that needs
 * the whole trace must still find a split trace whose root lies in a
 * pruned page (or a block outside the time range) and the value it asks
 * for in another block or the head. */
TEST(split_traces_root_part_pruned)
{
	g_t0 = (clock_now_unix_ns() / (1000 * MS) - 600) * 1000 * MS;
	size_t n = sizeof g_pruned / sizeof *g_pruned;
	struct store *st[4];
	for (int l = 0; l < 4; l++)
		CHECK((st[l] = open_layout((enum layout)l, "pruned", g_pruned, n)) != NULL);
	for (int l = 0; l < 4; l++)
		if (!st[l])
			return;
	static char want[8192], got[8192];
	/* a window after part 0 ended: trace 1 still overlaps it, by "late" */
	int64_t from = g_t0 + 3000 * MS, to = g_t0 + 9000 * MS;
	for (int col = 0; col < 2; col++) {
		excol_set_enabled(col == 1);
		for (size_t i = 0; i < sizeof g_pruned_search / sizeof *g_pruned_search; i++) {
			for (int range = 0; range < 2; range++) {
				search_range(st[WHOLE], g_pruned_search[i], range ? from : 0, range ? to : 0, want,
					     sizeof want);
				CHECK(strstr(want, "trace 1 ") != NULL);
				for (int l = 1; l < 4; l++) {
					search_range(st[l], g_pruned_search[i], range ? from : 0, range ? to : 0, got,
						     sizeof got);
					if (strcmp(got, want) != 0)
						fprintf(stderr, "    layout %d columnar %d range %d %s\n    got  %s\n    want %s\n",
							l, col, range, g_pruned_search[i], got, want);
					CHECK_STR(got, want);
				}
			}
		}
		for (size_t i = 0; i < sizeof g_pruned_metrics / sizeof *g_pruned_metrics; i++) {
			metrics_text(st[WHOLE], g_pruned_metrics[i], want, sizeof want);
			CHECK_STR(want, strstr(g_pruned_metrics[i], "by (") ? "back = 1;" : "= 1;");
			for (int l = 1; l < 4; l++) {
				metrics_text(st[l], g_pruned_metrics[i], got, sizeof got);
				if (strcmp(got, want) != 0)
					fprintf(stderr, "    layout %d columnar %d %s\n    got  %s\n    want %s\n", l, col,
						g_pruned_metrics[i], got, want);
				CHECK_STR(got, want);
			}
		}
	}
	excol_set_enabled(true);
	search_text(st[TWO_BLOCKS], "{ } >> { name = \"late\" }", got, sizeof got);
	CHECK_STR(got, "trace 1 root front/GET /x 0..6010: [1 3] front=2/0 back=2/1;");
	search_range(st[BLOCK_AND_HEAD], "{ name = \"late\" } | count() = 1", from, to, got, sizeof got);
	CHECK_STR(got, "trace 1 root front/GET /x 0..6010: [1 3] front=2/0 back=2/1;");
	for (int l = 0; l < 4; l++)
		store_close(st[l]);
}
