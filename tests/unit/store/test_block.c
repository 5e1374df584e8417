/* Unit tests of block files: every field of every span round-trips through
 * writer, file and reader; traces across pages and batches; absent ids;
 * every flipped byte and every truncation is caught; faults during finish
 * leave no block under the final name. */
#include "../../testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/err.h"
#include "base/log.h"
#include "store/block.h"

/* ---- a batch with every field set ---- */

static struct slice S(const char *s)
{
	return slice_cstr(s);
}

static struct attr *attrs_every_type(struct arena *a, uint32_t *n)
{
	struct attr *at = arena_array(a, 12, sizeof *at);
	struct any_value *arr = arena_array(a, 4, sizeof *arr);
	struct attr *kv = arena_array(a, 3, sizeof *kv);
	struct any_value *inner = arena_array(a, 2, sizeof *inner);
	inner[0] = (struct any_value){.type = ANY_INT, .u.i = -7};
	inner[1] = (struct any_value){.type = ANY_EMPTY};
	arr[0] = (struct any_value){.type = ANY_STRING, .u.str = S("in array")};
	arr[1] = (struct any_value){.type = ANY_DOUBLE, .u.d = -0.0};
	arr[2] = (struct any_value){.type = ANY_ARRAY, .u.array = {inner, 2}};
	arr[3] = (struct any_value){.type = ANY_BOOL, .u.b = true};
	kv[0] = (struct attr){S("k1"), {.type = ANY_BYTES, .u.str = slice_make("\0\1\2", 3)}};
	kv[1] = (struct attr){S(""), {.type = ANY_KVLIST, .u.kvlist = {NULL, 0}}};
	kv[2] = (struct attr){S("k3"), {.type = ANY_ARRAY, .u.array = {arr, 4}}};
	double nan_payload;
	uint64_t bits = 0x7ff8000000000123ull;
	memcpy(&nan_payload, &bits, 8);
	int i = 0;
	at[i++] = (struct attr){S("str"), {.type = ANY_STRING, .u.str = S("hello")}};
	at[i++] = (struct attr){S("empty.str"), {.type = ANY_STRING, .u.str = S("")}};
	at[i++] = (struct attr){S("bool.t"), {.type = ANY_BOOL, .u.b = true}};
	at[i++] = (struct attr){S("bool.f"), {.type = ANY_BOOL, .u.b = false}};
	at[i++] = (struct attr){S("int.min"), {.type = ANY_INT, .u.i = INT64_MIN}};
	at[i++] = (struct attr){S("int.max"), {.type = ANY_INT, .u.i = INT64_MAX}};
	at[i++] = (struct attr){S("double.nan"), {.type = ANY_DOUBLE, .u.d = nan_payload}};
	at[i++] = (struct attr){S("double.inf"), {.type = ANY_DOUBLE, .u.d = -INFINITY}};
	at[i++] = (struct attr){S("bytes"), {.type = ANY_BYTES, .u.str = slice_make("\xff\x00z", 3)}};
	at[i++] = (struct attr){S("array"), {.type = ANY_ARRAY, .u.array = {arr, 4}}};
	at[i++] = (struct attr){S("kvlist"), {.type = ANY_KVLIST, .u.kvlist = {kv, 3}}};
	at[i++] = (struct attr){S("empty"), {.type = ANY_EMPTY}};
	*n = (uint32_t)i;
	return at;
}

static void set_id(uint8_t *p, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (i % 8))) ^ (uint8_t)(i * 31);
}

/* Two resources, three scopes, three traces: in-trace and outside parents,
 * events and links with attributes, one invalid span. */
static void make_full_batch(struct span_batch *b)
{
	struct arena *a = b->arena;
	for (int r = 0; r < 2; r++) {
		struct resource *res = span_batch_add_resource(b);
		res->attrs.items = attrs_every_type(a, &res->attrs.n);
		res->attrs.items[0].value.u.str = r ? S("svc-b") : S("svc-a");
		res->dropped_attrs = (uint32_t)r * 3;
		res->schema_url = r ? S("https://opentelemetry.io/schemas/1.21.0") : S("");
	}
	for (int s = 0; s < 3; s++) {
		struct scope *sc = span_batch_add_scope(b, s == 2 ? 1 : 0);
		sc->name = s ? S("scope.lib") : S("");
		sc->version = s == 1 ? S("1.2.3") : S("");
		if (s == 2)
			sc->attrs.items = attrs_every_type(a, &sc->attrs.n);
		sc->dropped_attrs = (uint32_t)s;
		sc->schema_url = s == 2 ? S("https://schema/scope") : S("");
	}
	for (int i = 0; i < 12; i++) {
		struct span *sp = span_batch_add_span(b, (uint32_t)(i % 3));
		int trace = i % 3;
		set_id(sp->trace_id, 16, 0x1000 + (uint64_t)trace);
		set_id(sp->span_id, 8, 0x5000 + (uint64_t)i);
		if (i >= 3) { /* parent: the trace's first span */
			set_id(sp->parent_span_id, 8, 0x5000 + (uint64_t)trace);
			sp->has_parent = true;
		}
		if (i == 4) { /* parent outside the block */
			set_id(sp->parent_span_id, 8, 0xdead);
		}
		sp->kind = (uint8_t)(i % 6);
		sp->status_code = (uint8_t)(i % 3);
		sp->flags = i == 5 ? 0xffffffffu : (uint32_t)i;
		sp->start_unix_ns = 1760000000000000000ll + (int64_t)(i * 7919 % 1000) * 1000;
		sp->end_unix_ns = sp->start_unix_ns + (i == 6 ? 0 : 123456789);
		sp->trace_state = i % 2 ? S("vendor=1,other=x") : S("");
		sp->name = i % 4 ? S("GET /api/v1/cart") : S("");
		sp->status_message = sp->status_code == STATUS_ERROR ? S("boom") : S("");
		if (i % 2 == 0)
			sp->attrs.items = attrs_every_type(a, &sp->attrs.n);
		sp->dropped_attrs = (uint32_t)i;
		sp->dropped_events = (uint32_t)i * 2;
		sp->dropped_links = i == 7 ? UINT32_MAX : 0;
		if (i % 3 == 1) {
			sp->n_events = 2;
			sp->events = arena_array(a, 2, sizeof *sp->events);
			sp->events[0].time_unix_ns = sp->start_unix_ns + 5;
			sp->events[0].name = S("exception");
			sp->events[0].attrs.items = attrs_every_type(a, &sp->events[0].attrs.n);
			sp->events[0].dropped_attrs = 4;
			sp->events[1].time_unix_ns = sp->start_unix_ns - 1000; /* before the span */
		}
		if (i % 4 == 2) {
			sp->n_links = 1;
			sp->links = arena_array(a, 1, sizeof *sp->links);
			set_id(sp->links[0].trace_id, 16, 0x9999);
			set_id(sp->links[0].span_id, 8, 0x8888);
			sp->links[0].trace_state = S("l=1");
			sp->links[0].attrs.items = attrs_every_type(a, &sp->links[0].attrs.n);
			sp->links[0].dropped_attrs = 2;
			sp->links[0].flags = 0x301;
		}
	}
	struct span *inv = span_batch_add_span(b, 0);
	set_id(inv->trace_id, 16, 0x1000);
	set_id(inv->span_id, 8, 0x7777);
	inv->invalid_reason = "test: rejected";
}

/* ---- comparison ---- */

static bool attrs_eq(const struct attr_list *x, const struct attr_list *y)
{
	if (x->n != y->n)
		return false;
	for (uint32_t i = 0; i < x->n; i++)
		if (!slice_eq(x->items[i].key, y->items[i].key) || !any_value_eq(&x->items[i].value, &y->items[i].value))
			return false;
	return true;
}

static bool resource_eq(const struct resource *x, const struct resource *y)
{
	return attrs_eq(&x->attrs, &y->attrs) && x->dropped_attrs == y->dropped_attrs &&
	       slice_eq(x->schema_url, y->schema_url);
}

static bool scope_eq(const struct span_batch *bx, const struct scope *x, const struct span_batch *by,
		     const struct scope *y)
{
	return slice_eq(x->name, y->name) && slice_eq(x->version, y->version) && attrs_eq(&x->attrs, &y->attrs) &&
	       x->dropped_attrs == y->dropped_attrs && slice_eq(x->schema_url, y->schema_url) &&
	       resource_eq(&bx->resources[x->resource], &by->resources[y->resource]);
}

/* Every field of span x (in batch bx) equals span y (in by); 0 or the
 * number of the first field that differs. */
static int span_diff(const struct span_batch *bx, const struct span *x, const struct span_batch *by,
		     const struct span *y)
{
	if (memcmp(x->trace_id, y->trace_id, 16) || memcmp(x->span_id, y->span_id, 8))
		return 1;
	if (x->has_parent != y->has_parent || memcmp(x->parent_span_id, y->parent_span_id, 8))
		return 2;
	if (x->kind != y->kind || x->status_code != y->status_code || x->flags != y->flags)
		return 3;
	if (x->start_unix_ns != y->start_unix_ns || x->end_unix_ns != y->end_unix_ns)
		return 4;
	if (!slice_eq(x->trace_state, y->trace_state) || !slice_eq(x->name, y->name) ||
	    !slice_eq(x->status_message, y->status_message))
		return 5;
	if (!attrs_eq(&x->attrs, &y->attrs) || x->dropped_attrs != y->dropped_attrs)
		return 6;
	if (x->n_events != y->n_events || x->dropped_events != y->dropped_events)
		return 7;
	for (uint32_t i = 0; i < x->n_events; i++) {
		const struct span_event *p = &x->events[i], *q = &y->events[i];
		if (p->time_unix_ns != q->time_unix_ns || !slice_eq(p->name, q->name) ||
		    !attrs_eq(&p->attrs, &q->attrs) || p->dropped_attrs != q->dropped_attrs)
			return 8;
	}
	if (x->n_links != y->n_links || x->dropped_links != y->dropped_links)
		return 9;
	for (uint32_t i = 0; i < x->n_links; i++) {
		const struct span_link *p = &x->links[i], *q = &y->links[i];
		if (memcmp(p->trace_id, q->trace_id, 16) || memcmp(p->span_id, q->span_id, 8) ||
		    !slice_eq(p->trace_state, q->trace_state) || !attrs_eq(&p->attrs, &q->attrs) ||
		    p->dropped_attrs != q->dropped_attrs || p->flags != q->flags)
			return 10;
	}
	if (!scope_eq(bx, &bx->scopes[x->scope], by, &by->scopes[y->scope]))
		return 11;
	return 0;
}

static const struct span *find_span(const struct span_batch *b, const uint8_t id[8])
{
	for (uint32_t i = 0; i < b->n_spans; i++)
		if (memcmp(b->spans[i].span_id, id, 8) == 0)
			return &b->spans[i];
	return NULL;
}

static const char *write_block(const struct span_batch *const *batches, int n, const struct block_writer_options *o,
			       const char *name, struct block_info *info)
{
	static char path[4096];
	struct block_writer *w = block_writer_new(o);
	for (int i = 0; i < n; i++)
		if (block_writer_add(w, batches[i]) < 0) {
			block_writer_free(w);
			return NULL;
		}
	int rc = block_writer_finish(w, fileops_posix(), test_tmpdir(), name, info);
	block_writer_free(w);
	if (rc < 0)
		return NULL;
	snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
	return path;
}

TEST(block_roundtrip_every_field)
{
	struct arena a, ao;
	struct span_batch b, out;
	arena_init(&a, 0);
	arena_init(&ao, 0);
	span_batch_init(&b, &a);
	span_batch_init(&out, &ao);
	make_full_batch(&b);
	const struct span_batch *bs[] = {&b};
	struct block_info info;
	const char *path = write_block(bs, 1, NULL, "full.blk", &info);
	CHECK(path != NULL);
	CHECK_INT(info.spans, ==, 12);
	CHECK_INT(info.traces, ==, 3);
	CHECK_INT(info.resources, ==, 2);
	CHECK_INT(info.scopes, ==, 3);
	char err[256];
	uint64_t off = 1;
	CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, &off), ==, 0);
	CHECK_INT(off, ==, 0);
	int rc;
	struct block *blk = block_open(fileops_posix(), path, &rc, err, sizeof err);
	CHECK(blk != NULL);
	struct block_info got;
	block_get_info(blk, &got);
	CHECK_INT(got.spans, ==, 12);
	CHECK_INT(got.file_bytes, ==, info.file_bytes);
	CHECK_INT(got.min_start_ns, ==, info.min_start_ns);
	for (int t = 0; t < 3; t++) {
		uint8_t id[16];
		set_id(id, 16, 0x1000 + (uint64_t)t);
		uint32_t before = out.n_spans;
		CHECK_INT(block_get_trace(blk, id, &out), ==, 0);
		CHECK_INT(out.n_spans - before, ==, 4);
		for (uint32_t i = before + 1; i < out.n_spans; i++)
			CHECK(out.spans[i - 1].start_unix_ns <= out.spans[i].start_unix_ns);
	}
	CHECK_INT(out.n_spans, ==, 12);
	CHECK(out.n_resources <= 6);
	for (uint32_t i = 0; i < b.n_spans; i++) {
		const struct span *x = &b.spans[i];
		const struct span *y = find_span(&out, x->span_id);
		if (x->invalid_reason) {
			CHECK(y == NULL);
			continue;
		}
		CHECK(y != NULL);
		CHECK_INT(span_diff(&b, x, &out, y), ==, 0);
	}
	/* the dictionaries answer membership without decoding spans */
	CHECK_INT(block_page_dict_has(blk, 0, BCOL_DICT_NAMES, S("GET /api/v1/cart")), ==, 1);
	CHECK_INT(block_page_dict_has(blk, 0, BCOL_DICT_NAMES, S("GET /api/v1/carts")), ==, 0);
	CHECK_INT(block_page_dict_has(blk, 0, BCOL_DICT_KEYS, S("double.nan")), ==, 1);
	CHECK_INT(block_page_dict_has(blk, 0, BCOL_DICT_VALUES, S("boom")), ==, 1);
	uint8_t *col;
	size_t len;
	CHECK_INT(block_read_column(blk, 0, BCOL_SPAN_ID, &col, &len), ==, 0);
	CHECK_INT(len, ==, 12 * 8);
	free(col);
	/* a page read gives the same spans */
	arena_reset(&ao);
	span_batch_init(&out, &ao);
	CHECK_INT(block_read_page(blk, 0, &out), ==, 0);
	CHECK_INT(out.n_spans, ==, 12);
	for (uint32_t i = 0; i < out.n_spans; i++) {
		const struct span *x = find_span(&b, out.spans[i].span_id);
		CHECK(x != NULL);
		CHECK_INT(span_diff(&b, x, &out, &out.spans[i]), ==, 0);
	}
	block_unref(blk);
	arena_reset(&a);
	arena_reset(&ao);
}

/* Traces of 1..40 spans, spread over three batches in scrambled order. */
static void make_traces(struct span_batch *bs, int n_batches, int n_traces, uint64_t seed)
{
	uint64_t rng = seed;
	for (int k = 0; k < n_batches; k++) {
		struct resource *r = span_batch_add_resource(&bs[k]);
		r->attrs.n = 1;
		r->attrs.items = arena_array(bs[k].arena, 1, sizeof(struct attr));
		r->attrs.items[0] = (struct attr){S("service.name"), {.type = ANY_STRING, .u.str = S("svc")}};
		span_batch_add_scope(&bs[k], 0);
	}
	for (int t = 0; t < n_traces; t++) {
		int n = 1 + t % 40;
		for (int i = 0; i < n; i++) {
			rng = rng * 6364136223846793005ull + 1442695040888963407ull;
			struct span_batch *b = &bs[(rng >> 33) % (uint64_t)n_batches];
			struct span *sp = span_batch_add_span(b, 0);
			set_id(sp->trace_id, 16, seed * 1000003 + (uint64_t)t);
			set_id(sp->span_id, 8, ((uint64_t)t << 20) + (uint64_t)i + 1);
			if (i) {
				set_id(sp->parent_span_id, 8, ((uint64_t)t << 20) + (uint64_t)(i / 2) + 1);
				sp->has_parent = true;
			}
			sp->start_unix_ns = 1760000000000000000ll + t * 1000000ll + (int64_t)((rng >> 20) % 100000);
			sp->end_unix_ns = sp->start_unix_ns + (int64_t)(rng % 10000000);
			char name[32];
			int len = snprintf(name, sizeof name, "op-%d", (int)(rng % 50));
			sp->name = slice_make(arena_memdup(b->arena, name, (size_t)len), (size_t)len);
			sp->attrs.n = 1;
			sp->attrs.items = arena_array(b->arena, 1, sizeof(struct attr));
			sp->attrs.items[0] = (struct attr){S("i"), {.type = ANY_INT, .u.i = t * 100 + i}};
		}
	}
}

TEST(block_many_traces_across_pages_and_batches)
{
	struct arena a, ao;
	struct span_batch bs[3], out;
	arena_init(&a, 0);
	arena_init(&ao, 0);
	for (int i = 0; i < 3; i++)
		span_batch_init(&bs[i], &a);
	const int n_traces = 1500;
	make_traces(bs, 3, n_traces, 42);
	const struct span_batch *bp[] = {&bs[0], &bs[1], &bs[2]};
	struct block_writer_options o = {.page_spans = 1000, .zstd_level = 1};
	struct block_info info;
	const char *path = write_block(bp, 3, &o, "many.blk", &info);
	CHECK(path != NULL);
	uint64_t total = bs[0].n_spans + bs[1].n_spans + bs[2].n_spans;
	CHECK_INT(info.spans, ==, total);
	CHECK_INT(info.traces, ==, n_traces);
	CHECK(info.pages > 20);
	char err[256];
	CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, NULL), ==, 0);
	int rc;
	struct block *blk = block_open(fileops_posix(), path, &rc, err, sizeof err);
	CHECK(blk != NULL);
	uint64_t seen = 0;
	for (int t = 0; t < n_traces; t++) {
		uint8_t id[16];
		set_id(id, 16, 42 * 1000003 + (uint64_t)t);
		arena_reset(&ao);
		span_batch_init(&out, &ao);
		CHECK_INT(block_get_trace(blk, id, &out), ==, 0);
		CHECK_INT(out.n_spans, ==, 1 + t % 40);
		for (uint32_t i = 0; i < out.n_spans; i++) {
			const struct span *sp = &out.spans[i];
			CHECK(memcmp(sp->trace_id, id, 16) == 0);
			CHECK(i == 0 || out.spans[i - 1].start_unix_ns <= sp->start_unix_ns);
			const struct span *orig = NULL;
			const struct span_batch *ob = NULL;
			for (int k = 0; k < 3 && !orig; k++)
				if ((orig = find_span(&bs[k], sp->span_id)))
					ob = &bs[k];
			CHECK(orig != NULL);
			CHECK_INT(span_diff(ob, orig, &out, sp), ==, 0);
		}
		seen += out.n_spans;
	}
	CHECK_INT(seen, ==, total);
	/* every page read back covers every span once */
	uint64_t from_pages = 0;
	for (uint32_t p = 0; p < block_pages(blk); p++) {
		arena_reset(&ao);
		span_batch_init(&out, &ao);
		CHECK_INT(block_read_page(blk, p, &out), ==, 0);
		CHECK_INT(out.n_spans, ==, block_page(blk, p)->spans);
		from_pages += out.n_spans;
	}
	CHECK_INT(from_pages, ==, total);
	/* absent ids: unknown, before the first and after the last, near hits */
	int may = 0;
	for (int i = 0; i < 20000; i++) {
		uint8_t id[16];
		set_id(id, 16, 77 * 1000003 + (uint64_t)i);
		may += block_may_contain(blk, id);
		arena_reset(&ao);
		span_batch_init(&out, &ao);
		CHECK_INT(block_get_trace(blk, id, &out), ==, CLEW_ENOTFOUND);
		CHECK_INT(out.n_spans, ==, 0);
	}
	CHECK(may < 200); /* filter false positives well under 1% */
	uint8_t lo[16] = {0}, hi[16];
	memset(hi, 0xff, 16);
	CHECK_INT(block_get_trace(blk, lo, &out), ==, CLEW_ENOTFOUND);
	CHECK_INT(block_get_trace(blk, hi, &out), ==, CLEW_ENOTFOUND);
	/* a repeated lookup is served from the cache */
	uint64_t h0, h1;
	block_cache_stats(NULL, &h0, NULL);
	uint8_t id[16];
	set_id(id, 16, 42 * 1000003 + 5);
	CHECK_INT(block_get_trace(blk, id, &out), ==, 0);
	block_cache_stats(NULL, &h1, NULL);
	CHECK(h1 > h0);
	block_unref(blk);
	arena_reset(&a);
	arena_reset(&ao);
}

TEST(block_empty_and_deleted)
{
	struct block_writer *w = block_writer_new(NULL);
	struct block_info info;
	CHECK_INT(block_writer_finish(w, fileops_posix(), test_tmpdir(), "empty.blk", &info), ==, 0);
	CHECK_INT(block_writer_finish(w, fileops_posix(), test_tmpdir(), "empty.blk", &info), ==, CLEW_ESTATE);
	block_writer_free(w);
	char path[4096], err[256];
	snprintf(path, sizeof path, "%s/empty.blk", test_tmpdir());
	CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, NULL), ==, 0);
	int rc;
	struct block *b = block_open(fileops_posix(), path, &rc, err, sizeof err);
	CHECK(b != NULL);
	uint8_t id[16] = {1};
	struct arena a;
	struct span_batch out;
	arena_init(&a, 0);
	span_batch_init(&out, &a);
	CHECK_INT(block_get_trace(b, id, &out), ==, CLEW_ENOTFOUND);
	block_ref(b);
	block_mark_deleted(b);
	block_unref(b);
	CHECK(access(path, F_OK) == 0); /* still referenced */
	block_unref(b);
	CHECK(access(path, F_OK) != 0);
	arena_reset(&a);
}

static uint8_t *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = xmalloc((size_t)len + 1);
	*n = fread(p, 1, (size_t)len, f);
	fclose(f);
	return p;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(p, 1, n, f);
		fclose(f);
	}
}

/* A small block of two traces with every field, for the corruption tests. */
static const char *small_block(struct arena *a, struct span_batch *b)
{
	span_batch_init(b, a);
	make_full_batch(b);
	const struct span_batch *bs[] = {b};
	return write_block(bs, 1, NULL, "small.blk", NULL);
}

TEST(block_every_flipped_byte_is_caught)
{
	struct arena a, ao;
	struct span_batch b, out;
	arena_init(&a, 0);
	arena_init(&ao, 0);
	const char *p = small_block(&a, &b);
	CHECK(p != NULL);
	char orig_path[4096], bad_path[4096], err[512];
	snprintf(orig_path, sizeof orig_path, "%s", p);
	snprintf(bad_path, sizeof bad_path, "%s/flipped.blk", test_tmpdir());
	size_t n;
	uint8_t *orig = read_file(orig_path, &n);
	CHECK(orig != NULL && n > 100);
	log_set_level(LOG_ERROR);
	for (size_t off = 0; off < n; off++) {
		orig[off] ^= 0xff;
		write_file(bad_path, orig, n);
		orig[off] ^= 0xff;
		uint64_t bad_off = 0;
		err[0] = 0;
		int rc = block_check(fileops_posix(), bad_path, err, sizeof err, &bad_off);
		if (rc != CLEW_ECORRUPT)
			test_fail(__FILE__, __LINE__, "flip at %zu: check gave %d", off, rc);
		CHECK_INT(rc, ==, CLEW_ECORRUPT);
		CHECK(strstr(err, "flipped.blk") != NULL);
		CHECK(bad_off <= off || off >= n - 40); /* the bad section starts at or before the flip */
		struct block *blk = block_open(fileops_posix(), bad_path, &rc, err, sizeof err);
		if (!blk) {
			CHECK_INT(rc, ==, CLEW_ECORRUPT);
			continue;
		}
		for (int t = 0; t < 3; t++) { /* never silently wrong data */
			uint8_t id[16];
			set_id(id, 16, 0x1000 + (uint64_t)t);
			arena_reset(&ao);
			span_batch_init(&out, &ao);
			rc = block_get_trace(blk, id, &out);
			CHECK(rc == 0 || rc == CLEW_ECORRUPT);
			if (rc == 0)
				for (uint32_t i = 0; i < out.n_spans; i++) {
					const struct span *x = find_span(&b, out.spans[i].span_id);
					CHECK(x != NULL);
					CHECK_INT(span_diff(&b, x, &out, &out.spans[i]), ==, 0);
				}
		}
		block_unref(blk);
	}
	log_set_level(LOG_INFO);
	free(orig);
	arena_reset(&a);
	arena_reset(&ao);
}

TEST(block_truncation_at_every_length)
{
	struct arena a;
	struct span_batch b;
	arena_init(&a, 0);
	const char *p = small_block(&a, &b);
	CHECK(p != NULL);
	char orig_path[4096], bad_path[4096], err[512];
	snprintf(orig_path, sizeof orig_path, "%s", p);
	snprintf(bad_path, sizeof bad_path, "%s/short.blk", test_tmpdir());
	size_t n;
	uint8_t *orig = read_file(orig_path, &n);
	CHECK(orig != NULL);
	for (size_t len = 0; len < n; len++) {
		write_file(bad_path, orig, len);
		int rc = block_check(fileops_posix(), bad_path, err, sizeof err, NULL);
		CHECK_INT(rc, ==, CLEW_ECORRUPT);
		struct block *blk = block_open(fileops_posix(), bad_path, &rc, err, sizeof err);
		CHECK(blk == NULL);
		CHECK_INT(rc, ==, CLEW_ECORRUPT);
		CHECK(strstr(err, "short.blk") != NULL);
	}
	/* appended garbage is caught too */
	uint8_t *longer = xmalloc(n + 7);
	memcpy(longer, orig, n);
	memset(longer + n, 0, 7);
	write_file(bad_path, longer, n + 7);
	CHECK_INT(block_check(fileops_posix(), bad_path, err, sizeof err, NULL), ==, CLEW_ECORRUPT);
	free(longer);
	free(orig);
	arena_reset(&a);
}

TEST(block_missing_file)
{
	char path[4096], err[256];
	snprintf(path, sizeof path, "%s/nope.blk", test_tmpdir());
	int rc;
	CHECK(block_open(fileops_posix(), path, &rc, err, sizeof err) == NULL);
	CHECK_INT(rc, ==, -ENOENT);
	CHECK(strstr(err, "nope.blk") != NULL);
	CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, NULL), ==, -ENOENT);
}

/* finish under a fault plan: an error, and nothing under the final name. */
static int finish_faulty(struct fileops_faults *plan, const struct span_batch *b, const char *name)
{
	struct fileops *ops = fileops_faulty(fileops_posix(), plan);
	struct block_writer *w = block_writer_new(&(struct block_writer_options){.page_spans = 4});
	block_writer_add(w, b);
	int rc = block_writer_finish(w, ops, test_tmpdir(), name, NULL);
	block_writer_free(w);
	fileops_faulty_free(ops);
	return rc;
}

TEST(block_finish_faults_leave_no_block)
{
	struct arena a;
	struct span_batch b;
	arena_init(&a, 0);
	span_batch_init(&b, &a);
	make_full_batch(&b);
	struct fileops_faults count = {0};
	CHECK_INT(finish_faulty(&count, &b, "count.blk"), ==, 0);
	CHECK(count.writes > 10);
	char path[4096], tmp[4096], err[256];
	for (uint64_t i = 1; i <= count.writes; i++) {
		for (int kind = 0; kind < 2; kind++) {
			struct fileops_faults plan = {.fail_errno = kind ? ENOSPC : EIO};
			if (kind)
				plan.fail_write_at = i;
			else
				plan.short_write_at = i; /* a short write is retried: must still succeed */
			int rc = finish_faulty(&plan, &b, "f.blk");
			snprintf(path, sizeof path, "%s/f.blk", test_tmpdir());
			snprintf(tmp, sizeof tmp, "%s/f.blk.tmp", test_tmpdir());
			if (kind) {
				CHECK_INT(rc, ==, -ENOSPC);
				CHECK(access(path, F_OK) != 0);
			} else {
				CHECK_INT(rc, ==, 0);
				CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, NULL), ==, 0);
				unlink(path);
			}
			CHECK(access(tmp, F_OK) != 0);
		}
	}
	struct fileops_faults sync_fail = {.fail_sync_at = 1, .fail_errno = EIO};
	CHECK_INT(finish_faulty(&sync_fail, &b, "s.blk"), ==, -EIO);
	snprintf(path, sizeof path, "%s/s.blk", test_tmpdir());
	CHECK(access(path, F_OK) != 0);
	struct fileops_faults crash = {.crash_at_sync = 1};
	CHECK(finish_faulty(&crash, &b, "c.blk") < 0);
	snprintf(path, sizeof path, "%s/c.blk", test_tmpdir());
	CHECK(access(path, F_OK) != 0);
	arena_reset(&a);
}

TEST(block_writer_refuses_bad_values_and_limits)
{
	struct arena a;
	struct span_batch b;
	arena_init(&a, 0);
	span_batch_init(&b, &a);
	make_full_batch(&b);
	b.spans[0].attrs.items[0].value.type = 99; /* unknown AnyValue type: that span is refused */
	struct block_writer *w = block_writer_new(&(struct block_writer_options){.max_mem_bytes = 100});
	CHECK_INT(block_writer_add(w, &b), ==, CLEW_EINVAL);
	CHECK_INT(block_writer_spans(w), ==, 11);
	CHECK_INT(block_writer_add(w, &b), ==, CLEW_ELIMIT); /* over its memory budget */
	CHECK(block_writer_mem_bytes(w) > 0);
	block_writer_free(w);
	arena_reset(&a);
}

/* Spans without any attribute leave some page dictionaries empty. */
TEST(block_spans_without_attributes)
{
	char dir[600], path[700], err[256];
	snprintf(dir, sizeof dir, "%s", test_tmpdir());
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	span_batch_add_resource(&b);
	span_batch_add_scope(&b, 0);
	struct span *s = span_batch_add_span(&b, 0);
	memset(s->trace_id, 3, 16);
	memset(s->span_id, 4, 8);
	s->start_unix_ns = 10;
	s->end_unix_ns = 20;
	struct block_writer *w = block_writer_new(NULL);
	CHECK_INT(block_writer_add(w, &b), ==, 0);
	CHECK_INT(block_writer_finish(w, fileops_posix(), dir, "bare.blk", NULL), ==, 0);
	block_writer_free(w);
	snprintf(path, sizeof path, "%s/bare.blk", dir);
	CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, NULL), ==, 0);
	int rc;
	struct block *blk = block_open(fileops_posix(), path, &rc, err, sizeof err);
	CHECK(blk != NULL);
	struct span_batch out;
	span_batch_init(&out, &a);
	CHECK_INT(block_get_trace(blk, s->trace_id, &out), ==, 0);
	CHECK_INT(out.n_spans, ==, 1);
	CHECK_INT(out.spans[0].end_unix_ns, ==, 20);
	block_unref(blk);
	arena_reset(&a);
}

/* The writer's sort: trace ids sharing their first eight bytes (64-bit
 * Zipkin ids, zero-padded), traces of 1 to 70 spans arriving shuffled with
 * equal start times among them, parents found in long traces. Every trace
 * reads back ordered by (start, arrival) with its parents inside it. */
TEST(block_sort_shared_prefixes_and_long_traces)
{
	char err[256];
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	span_batch_add_resource(&b);
	span_batch_add_scope(&b, 0);
	enum { TRACES = 60 };
	uint32_t nspans[TRACES];
	for (int t = 0; t < TRACES; t++)
		nspans[t] = (uint32_t)(t % 7 == 0 ? 70 : 1 + t % 20);
	/* arrival: round-robin over traces, spans of a trace in reverse start order */
	uint32_t done[TRACES] = {0};
	for (int left = 1; left;) {
		left = 0;
		for (int t = 0; t < TRACES; t++) {
			if (done[t] == nspans[t])
				continue;
			left = 1;
			uint32_t i = nspans[t] - 1 - done[t]++;
			struct span *s = span_batch_add_span(&b, 0);
			memset(s->trace_id, 0, 8); /* every id shares its first eight bytes */
			s->trace_id[8] = (uint8_t)(t % 3);
			s->trace_id[15] = (uint8_t)t;
			s->span_id[0] = (uint8_t)t;
			s->span_id[1] = (uint8_t)i;
			s->span_id[7] = 1;
			s->start_unix_ns = 1000 + (int64_t)(i / 2); /* pairs of equal starts */
			s->end_unix_ns = s->start_unix_ns + 5;
			s->flags = i; /* arrival order among equal starts: higher i first */
			if (i > 0) {
				s->has_parent = true;
				memcpy(s->parent_span_id, s->span_id, 8);
				s->parent_span_id[1] = (uint8_t)((i - 1) / 2);
			}
		}
	}
	const struct span_batch *bs[] = {&b};
	struct block_info info;
	const char *path = write_block(bs, 1, &(struct block_writer_options){.page_spans = 50}, "sorted.blk", &info);
	CHECK(path != NULL);
	CHECK_INT(info.traces, ==, TRACES);
	CHECK_INT(block_check(fileops_posix(), path, err, sizeof err, NULL), ==, 0);
	int rc;
	struct block *blk = block_open(fileops_posix(), path, &rc, err, sizeof err);
	CHECK(blk != NULL);
	for (int t = 0; t < TRACES; t++) {
		uint8_t id[16] = {0};
		id[8] = (uint8_t)(t % 3);
		id[15] = (uint8_t)t;
		struct span_batch out;
		span_batch_init(&out, &a);
		CHECK_INT(block_get_trace(blk, id, &out), ==, 0);
		CHECK_INT(out.n_spans, ==, nspans[t]);
		for (uint32_t k = 0; k < out.n_spans; k++) {
			const struct span *s = &out.spans[k];
			CHECK(memcmp(s->trace_id, id, 16) == 0);
			if (k > 0) {
				const struct span *p = &out.spans[k - 1];
				CHECK(p->start_unix_ns <= s->start_unix_ns);
				if (p->start_unix_ns == s->start_unix_ns)
					CHECK(p->flags > s->flags); /* arrival order kept */
			}
			if (s->flags > 0) {
				CHECK(s->has_parent);
				CHECK_INT(s->parent_span_id[1], ==, (s->flags - 1) / 2);
			}
		}
	}
	/* pages hold whole traces in trace-id order */
	for (uint32_t p = 1; p < block_pages(blk); p++)
		CHECK(memcmp(block_page(blk, p - 1)->last_trace_id, block_page(blk, p)->first_trace_id, 16) < 0);
	block_unref(blk);
	arena_reset(&a);
}
