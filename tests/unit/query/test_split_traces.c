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

/* parts: bit 0 part 0, bit 1 part 1. */
static int append_parts(struct store *s, unsigned parts)
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
	for (int t = 1; t <= 3; t++) {
		for (int k = 0; k < (t == 3 ? 3 : 6); k++) {
			if (!((parts & 1) && in_part(t, k, 0)) && !((parts & 2) && in_part(t, k, 1)))
				continue;
			struct span *sp = span_batch_add_span(&b, (uint32_t)g_svc[k]);
			sp->trace_id[0] = 0xab;
			sp->trace_id[15] = (uint8_t)t;
			sp->span_id[0] = (uint8_t)t;
			sp->span_id[7] = (uint8_t)(k + 1);
			sp->name = slice_cstr(g_names[k]);
			sp->kind = k ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER;
			sp->status_code = (k == 3 || k == 5) ? STATUS_ERROR : STATUS_OK;
			sp->start_unix_ns = g_t0 + (t - 1) * 1000 * MS + k * MS;
			sp->end_unix_ns = sp->start_unix_ns + (int64_t)(20 - k) * MS;
			if (g_parent[k] >= 0) {
				sp->has_parent = true;
				sp->parent_span_id[0] = (uint8_t)t;
				sp->parent_span_id[7] = (uint8_t)(g_parent[k] + 1);
			}
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

enum layout { WHOLE, TWO_BLOCKS, BLOCK_AND_HEAD, HEAD_AND_BLOCK };

static struct store *open_layout(enum layout l)
{
	static const char *const names[] = {"whole", "two_blocks", "block_head", "head_block"};
	char dir[600], err[512];
	int rc;
	snprintf(dir, sizeof dir, "%s/split_%s", test_tmpdir(), names[l]);
	struct store_options o = {.data_dir = dir, .manual_maintenance = 1};
	struct store *s = store_open(&o, &rc, err, sizeof err);
	if (!s) {
		fprintf(stderr, "    store_open: %s\n", err);
		return NULL;
	}
	bool ok;
	switch (l) {
	case WHOLE: ok = append_parts(s, 3) == 0 && store_flush(s) == 0; break;
	case TWO_BLOCKS:
		ok = append_parts(s, 1) == 0 && store_flush(s) == 0 && append_parts(s, 2) == 0 && store_flush(s) == 0;
		break;
	case BLOCK_AND_HEAD: ok = append_parts(s, 1) == 0 && store_flush(s) == 0 && append_parts(s, 2) == 0; break;
	default: ok = append_parts(s, 2) == 0 && store_flush(s) == 0 && append_parts(s, 1) == 0; break;
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
static void search_text(struct store *s, const char *q, char *out, size_t cap)
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
	struct exec_options o = {.threads = 2, .spss = 10};
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
	struct store *st[4];
	for (int l = 0; l < 4; l++)
		CHECK((st[l] = open_layout((enum layout)l)) != NULL);
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
