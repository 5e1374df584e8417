/* Unit tests of the store's life beyond the head: cuts into blocks, WAL
 * segments removed after a flush, replay of only what no block holds,
 * compaction (and its crash recovery), retention by age and disk budget,
 * full-disk and I/O errors during a flush, and a crash at every sync of a
 * workload with flushes: every acknowledged span must read back, once and
 * field for field. */
#include "../../testlib.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"
#include "store/store.h"

#define N_TRACES 6
#define NS_PER_HOUR (3600ll * 1000000000)

static char g_why[512];

static void trace_id_of(int t, uint8_t id[16])
{
	memset(id, 0, 16);
	id[0] = 0xab;
	id[7] = (uint8_t)(t * 7 + 1);
	id[15] = (uint8_t)(t + 1);
}

static void span_id_of(int t, int i, uint8_t id[8])
{
	memset(id, 0x5a, 8);
	id[0] = (uint8_t)(t + 1);
	id[1] = (uint8_t)i;
	id[2] = (uint8_t)(i >> 8);
}

static struct attr *attrs_new(struct span_batch *b, uint32_t n)
{
	return arena_zalloc(b->arena, (size_t)(n) * sizeof(struct attr));
}

/* Span i of trace t with every kind of field, its times from base_ns. */
static void fill_span(struct span_batch *b, struct span *sp, int t, int i, int64_t base_ns)
{
	static const char *names[] = {"GET /users", "SELECT", "publish"};
	trace_id_of(t, sp->trace_id);
	span_id_of(t, i, sp->span_id);
	if (i > 0) {
		span_id_of(t, 0, sp->parent_span_id);
		sp->has_parent = true;
	}
	sp->kind = (uint8_t)(i % 6);
	sp->status_code = (uint8_t)(i % 3);
	sp->flags = (uint32_t)(i & 1) | 0x100;
	sp->start_unix_ns = base_ns + (int64_t)i * 1000 + t;
	sp->end_unix_ns = sp->start_unix_ns + 500 + i;
	sp->name = slice_make((const uint8_t *)names[i % 3], strlen(names[i % 3]));
	if (i % 2)
		sp->trace_state = SLICE_LIT("vendor=x");
	if (sp->status_code == STATUS_ERROR)
		sp->status_message = SLICE_LIT("boom");
	struct attr *a = attrs_new(b, 5);
	a[0] = (struct attr){SLICE_LIT("http.status_code"), {.type = ANY_INT, .u.i = 200 + i}};
	a[1] = (struct attr){SLICE_LIT("ok"), {.type = ANY_BOOL, .u.b = (i % 2) == 0}};
	a[2] = (struct attr){SLICE_LIT("ratio"), {.type = ANY_DOUBLE, .u.d = i / 4.0}};
	a[3] = (struct attr){SLICE_LIT("peer"), {.type = ANY_STRING, .u.str = SLICE_LIT("db-1")}};
	struct any_value *items = arena_array(b->arena, 2, sizeof *items);
	items[0] = (struct any_value){.type = ANY_STRING, .u.str = SLICE_LIT("a")};
	items[1] = (struct any_value){.type = ANY_INT, .u.i = -i};
	a[4] = (struct attr){SLICE_LIT("list"), {.type = ANY_ARRAY, .u.array = {items, 2}}};
	sp->attrs = (struct attr_list){a, 5};
	sp->dropped_attrs = (uint32_t)(i % 2);
	sp->events = arena_array(b->arena, 1, sizeof *sp->events);
	sp->n_events = 1;
	sp->events[0].time_unix_ns = sp->start_unix_ns + 10;
	sp->events[0].name = SLICE_LIT("retry");
	struct attr *ea = attrs_new(b, 1);
	ea[0] = (struct attr){SLICE_LIT("attempt"), {.type = ANY_INT, .u.i = i}};
	sp->events[0].attrs = (struct attr_list){ea, 1};
	sp->dropped_events = (uint32_t)(i % 3 == 0);
	if (i % 3 == 0) {
		sp->links = arena_array(b->arena, 1, sizeof *sp->links);
		sp->n_links = 1;
		trace_id_of(t + 100, sp->links[0].trace_id);
		span_id_of(t + 100, i, sp->links[0].span_id);
		sp->links[0].trace_state = SLICE_LIT("l=1");
		sp->links[0].flags = 1;
	}
}

/* Add a resource (service per trace) and scope to b; returns the scope. */
static uint32_t add_context(struct span_batch *b, int t)
{
	static const char *svc[] = {"cart", "checkout", "payments"};
	struct resource *r = span_batch_add_resource(b);
	struct attr *a = attrs_new(b, 2);
	a[0] = (struct attr){SLICE_LIT("service.name"),
			     {.type = ANY_STRING, .u.str = slice_make((const uint8_t *)svc[t % 3], strlen(svc[t % 3]))}};
	a[1] = (struct attr){SLICE_LIT("host.name"), {.type = ANY_STRING, .u.str = SLICE_LIT("node-7")}};
	r->attrs = (struct attr_list){a, 2};
	struct scope *sc = span_batch_add_scope(b, b->n_resources - 1);
	sc->name = SLICE_LIT("io.clew.test");
	sc->version = SLICE_LIT("1.2");
	return b->n_scopes - 1;
}

/* Append spans [r0, r1) of every trace in [t0, t1) as one batch. */
static int append_rounds(struct store *s, int r0, int r1, int t0, int t1, int64_t base_ns)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	for (int t = t0; t < t1; t++) {
		uint32_t sc = add_context(&b, t);
		for (int r = r0; r < r1; r++)
			fill_span(&b, span_batch_add_span(&b, sc), t, r, base_ns);
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

static int append_round(struct store *s, int round, int t0, int t1, int64_t base_ns)
{
	return append_rounds(s, round, round + 1, t0, t1, base_ns);
}

static bool attrs_same(const struct attr_list *x, const struct attr_list *y)
{
	if (x->n != y->n)
		return false;
	for (uint32_t i = 0; i < x->n; i++)
		if (!slice_eq(x->items[i].key, y->items[i].key) || !any_value_eq(&x->items[i].value, &y->items[i].value))
			return false;
	return true;
}

static const char *span_diff(const struct span_batch *gb, const struct span *g, const struct span *e)
{
	if (memcmp(g->trace_id, e->trace_id, 16) || memcmp(g->span_id, e->span_id, 8))
		return "ids";
	if (g->has_parent != e->has_parent || memcmp(g->parent_span_id, e->parent_span_id, 8))
		return "parent";
	if (g->kind != e->kind || g->status_code != e->status_code || g->flags != e->flags)
		return "kind/status/flags";
	if (g->start_unix_ns != e->start_unix_ns || g->end_unix_ns != e->end_unix_ns)
		return "times";
	if (!slice_eq(g->name, e->name) || !slice_eq(g->trace_state, e->trace_state) ||
	    !slice_eq(g->status_message, e->status_message))
		return "strings";
	if (!attrs_same(&g->attrs, &e->attrs) || g->dropped_attrs != e->dropped_attrs)
		return "attributes";
	if (g->n_events != e->n_events || g->dropped_events != e->dropped_events)
		return "event count";
	for (uint32_t i = 0; i < g->n_events; i++)
		if (g->events[i].time_unix_ns != e->events[i].time_unix_ns ||
		    !slice_eq(g->events[i].name, e->events[i].name) ||
		    !attrs_same(&g->events[i].attrs, &e->events[i].attrs))
			return "event";
	if (g->n_links != e->n_links || g->dropped_links != e->dropped_links)
		return "link count";
	for (uint32_t i = 0; i < g->n_links; i++)
		if (memcmp(g->links[i].trace_id, e->links[i].trace_id, 16) ||
		    memcmp(g->links[i].span_id, e->links[i].span_id, 8) ||
		    !slice_eq(g->links[i].trace_state, e->links[i].trace_state) || g->links[i].flags != e->links[i].flags)
			return "link";
	if (g->scope >= gb->n_scopes)
		return "scope index";
	const struct scope *sc = &gb->scopes[g->scope];
	if (!slice_eq(sc->name, SLICE_LIT("io.clew.test")) || !slice_eq(sc->version, SLICE_LIT("1.2")))
		return "scope";
	if (sc->resource >= gb->n_resources)
		return "resource index";
	const struct resource *r = &gb->resources[sc->resource];
	const struct attr *svc = attr_find(&r->attrs, "service.name");
	const struct attr *host = attr_find(&r->attrs, "host.name");
	if (r->attrs.n != 2 || !svc || !host || !slice_eq(host->value.u.str, SLICE_LIT("node-7")))
		return "resource";
	return NULL;
}

/* Read trace t and check it holds spans 0..n-1, each once, each equal to
 * what was sent, in start order, each resource and scope once. 0 or -1
 * with g_why. */
static int check_trace(struct store *s, int t, int n, int64_t base_ns)
{
	uint8_t id[16];
	trace_id_of(t, id);
	struct arena a;
	arena_init(&a, 0);
	struct span_batch got, exp;
	span_batch_init(&got, &a);
	span_batch_init(&exp, &a);
	int rc = store_get_trace(s, id, &got), ret = -1;
	if (n == 0) {
		ret = rc == CLEW_ENOTFOUND ? 0 : -1;
		snprintf(g_why, sizeof g_why, "trace %d: expected not found, got %d (%u spans)", t, rc, got.n_spans);
		goto out;
	}
	if (rc < 0) {
		snprintf(g_why, sizeof g_why, "trace %d: %s", t, err_str(rc));
		goto out;
	}
	if (got.n_spans != (uint32_t)n) {
		snprintf(g_why, sizeof g_why, "trace %d: %u spans, expected %d", t, got.n_spans, n);
		goto out;
	}
	if (got.n_resources > 1 || got.n_scopes > 1) {
		snprintf(g_why, sizeof g_why, "trace %d: %u resources, %u scopes", t, got.n_resources, got.n_scopes);
		goto out;
	}
	uint32_t sc = add_context(&exp, t);
	for (int i = 0; i < n; i++) {
		struct span *e = span_batch_add_span(&exp, sc);
		fill_span(&exp, e, t, i, base_ns);
		const struct span *g = &got.spans[i]; /* start order = i order */
		const char *d = span_diff(&got, g, e);
		if (d) {
			snprintf(g_why, sizeof g_why, "trace %d span %d: %s differs", t, i, d);
			goto out;
		}
	}
	ret = 0;
out:
	arena_reset(&a);
	return ret;
}

#define CHECK_TRACES(s, n, base)                                                                           \
	do {                                                                                               \
		for (int t_ = 0; t_ < N_TRACES; t_++)                                                      \
			if (check_trace((s), t_, (n), (base)) != 0) {                                      \
				test_fail(__FILE__, __LINE__, "%s", g_why);                                \
				return;                                                                    \
			}                                                                                  \
	} while (0)

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	size_t sl = strlen(suffix);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > sl && strcmp(e->d_name + l - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void sub(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static int64_t g_now_ns;
static int64_t fake_now(void)
{
	return g_now_ns;
}

static struct store *open_store(const char *dir, struct store_options *o)
{
	char err[512];
	int rc;
	o->data_dir = dir;
	o->manual_maintenance = 1;
	struct store *s = store_open(o, &rc, err, sizeof err);
	if (!s)
		fprintf(stderr, "    store_open: %s\n", err);
	return s;
}

static struct store_stats stats_of(struct store *s)
{
	struct store_stats st;
	store_get_stats(s, &st);
	return st;
}

/* Spans an hour-aligned 3 hours ago: closed compaction windows. */
static int64_t old_base(void)
{
	int64_t now = clock_now_unix_ns();
	return (now / NS_PER_HOUR - 3) * NS_PER_HOUR;
}

TEST(store_blocks_flush_read_and_replay)
{
	char dir[600], wal[700], blocks[700];
	sub(dir, sizeof dir, test_tmpdir(), "flush");
	sub(wal, sizeof wal, dir, "wal");
	sub(blocks, sizeof blocks, dir, "blocks");
	int64_t base = old_base();
	struct store_options o = {.head_max_bytes = 12 << 10, .wal_segment_bytes = 4096};
	struct store *s = open_store(dir, &o);
	CHECK(s != NULL);
	int rounds = 40;
	for (int r = 0; r < rounds; r++) {
		CHECK_INT(append_round(s, r, 0, N_TRACES, base), ==, 0);
		if (r % 7 == 6) {
			CHECK_TRACES(s, r + 1, base);
			CHECK_INT(store_maintain(s), ==, 0);
		}
	}
	CHECK_TRACES(s, rounds, base); /* heads and blocks together */
	struct store_stats st = stats_of(s);
	CHECK_INT(st.flushes, >=, 3);
	CHECK_INT(st.blocks, >=, 1);
	CHECK_INT(count_files(blocks, ".blk"), ==, (int)st.blocks);
	CHECK_INT(store_flush(s), ==, 0);
	st = stats_of(s);
	CHECK_INT(st.head_spans, ==, 0);
	CHECK_INT(st.sealed_heads, ==, 0);
	CHECK_INT(st.block_spans, ==, rounds * N_TRACES);
	/* every segment but the newest is gone, and the newest is all covered */
	CHECK_INT(count_files(wal, ".log"), ==, 1);
	CHECK_TRACES(s, rounds, base);
	CHECK_INT(store_close(s), ==, 0);

	/* a restart replays nothing: every record is in a block */
	s = open_store(dir, &o);
	CHECK(s != NULL);
	st = stats_of(s);
	CHECK_INT(st.replayed_records, ==, 0);
	CHECK_INT(st.head_spans, ==, 0);
	CHECK_TRACES(s, rounds, base);
	/* new data after the blocks: replayed, and only it */
	for (int r = rounds; r < rounds + 5; r++)
		CHECK_INT(append_round(s, r, 0, N_TRACES, base), ==, 0);
	CHECK_INT(store_close(s), ==, 0);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	st = stats_of(s);
	CHECK_INT(st.replayed_records, ==, 5);
	CHECK_INT(st.head_spans, ==, 5 * N_TRACES);
	CHECK_TRACES(s, rounds + 5, base);
	store_close(s);
}

TEST(store_blocks_segments_kept_until_flushed_and_crash_before_removal)
{
	char dir[600], wal[700], copy[800], cmd[4000];
	sub(dir, sizeof dir, test_tmpdir(), "segs");
	sub(wal, sizeof wal, dir, "wal");
	sub(copy, sizeof copy, test_tmpdir(), "segs-wal-copy");
	int64_t base = old_base();
	struct store_options o = {.wal_segment_bytes = 2048};
	struct store *s = open_store(dir, &o);
	CHECK(s != NULL);
	for (int r = 0; r < 12; r++)
		CHECK_INT(append_round(s, r, 0, N_TRACES, base), ==, 0);
	int before = count_files(wal, ".log");
	CHECK_INT(before, >=, 3);
	/* nothing due: the head is small and young; the WAL stays */
	CHECK_INT(store_maintain(s), ==, 0);
	CHECK_INT(count_files(wal, ".log"), ==, before);
	CHECK_INT(stats_of(s).flushes, ==, 0);
	/* keep the segments as they were before the flush */
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", copy, wal, copy);
	CHECK_INT(system(cmd), ==, 0);
	CHECK_INT(store_flush(s), ==, 0);
	CHECK_INT(count_files(wal, ".log"), ==, 1);
	CHECK_INT(store_close(s), ==, 0);
	/* a crash between the block's finish and the segment removal: the
	 * segments come back, and the replay must skip what the block holds */
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", wal, copy, wal);
	CHECK_INT(system(cmd), ==, 0);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	struct store_stats st = stats_of(s);
	CHECK_INT(st.replayed_records, ==, 0);
	CHECK_INT(st.head_spans, ==, 0);
	CHECK_TRACES(s, 12, base);
	/* appends after it get lsns no block claims: they replay */
	CHECK_INT(append_round(s, 12, 0, N_TRACES, base), ==, 0);
	CHECK_INT(store_close(s), ==, 0);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	CHECK_INT(stats_of(s).replayed_records, ==, 1);
	CHECK_TRACES(s, 13, base);
	store_close(s);
}

TEST(store_blocks_retry_across_flush_reads_once)
{
	char dir[600];
	sub(dir, sizeof dir, test_tmpdir(), "retry");
	int64_t base = old_base();
	struct store_options o = {0};
	struct store *s = open_store(dir, &o);
	CHECK(s != NULL);
	for (int r = 0; r < 4; r++)
		CHECK_INT(append_round(s, r, 0, N_TRACES, base), ==, 0);
	CHECK_INT(store_flush(s), ==, 0);
	/* the client did not see the answer and sends rounds 2 and 3 again */
	for (int r = 2; r < 5; r++)
		CHECK_INT(append_round(s, r, 0, N_TRACES, base), ==, 0);
	CHECK_TRACES(s, 5, base); /* block + head: once each */
	CHECK_INT(store_flush(s), ==, 0);
	CHECK_INT(stats_of(s).blocks, ==, 2);
	CHECK_TRACES(s, 5, base); /* two blocks */
	/* a third block lets compaction merge the closed window */
	CHECK_INT(append_round(s, 1, 0, N_TRACES, base), ==, 0);
	CHECK_INT(store_flush(s), ==, 0);
	CHECK_INT(store_maintain(s), ==, 0);
	struct store_stats st = stats_of(s);
	CHECK_INT(st.compactions, ==, 1);
	CHECK_INT(st.blocks, ==, 1);
	CHECK_INT(st.block_spans, ==, 5 * N_TRACES); /* duplicates dropped */
	CHECK_TRACES(s, 5, base);
	CHECK_INT(store_close(s), ==, 0);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	CHECK_TRACES(s, 5, base);
	store_close(s);
}

TEST(store_blocks_compaction_merges_windows_and_recovers)
{
	char dir[600], blocks[700], aside[700], cmd[4000];
	sub(dir, sizeof dir, test_tmpdir(), "compact");
	sub(blocks, sizeof blocks, dir, "blocks");
	sub(aside, sizeof aside, test_tmpdir(), "compact-aside");
	int64_t base = old_base();
	struct store_options o = {0};
	struct store *s = open_store(dir, &o);
	CHECK(s != NULL);
	/* five flushes: traces 0-2 in an old window, trace 3-5 an hour later */
	for (int r = 0; r < 5; r++) {
		CHECK_INT(append_round(s, r, 0, 3, base), ==, 0);
		CHECK_INT(append_round(s, r, 3, N_TRACES, base + NS_PER_HOUR), ==, 0);
		/* a block holds both windows' traces only if flushed together:
		 * flush each window apart */
		CHECK_INT(store_flush(s), ==, 0);
	}
	CHECK_INT(stats_of(s).blocks, ==, 5);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", aside, blocks, aside);
	CHECK_INT(system(cmd), ==, 0);
	CHECK_INT(store_maintain(s), ==, 0);
	struct store_stats st = stats_of(s);
	CHECK_INT(st.compactions, ==, 1);
	CHECK_INT(st.blocks, ==, 1);
	CHECK_INT(st.block_spans, ==, 5 * N_TRACES);
	CHECK_INT(count_files(blocks, ".blk"), ==, 1);
	CHECK_INT(count_files(blocks, ".replaces"), ==, 1);
	for (int t = 0; t < N_TRACES; t++)
		if (check_trace(s, t, 5, t < 3 ? base : base + NS_PER_HOUR) != 0) {
			test_fail(__FILE__, __LINE__, "%s", g_why);
			return;
		}
	/* a reader holding a replaced block keeps its file until it lets go */
	CHECK_INT(store_close(s), ==, 0);

	/* a crash after the merged block was published but before its inputs
	 * were unlinked: they come back; the sidecar deletes them */
	snprintf(cmd, sizeof cmd, "cp '%s'/*.blk '%s'/", aside, blocks);
	CHECK_INT(system(cmd), ==, 0);
	CHECK_INT(count_files(blocks, ".blk"), ==, 6);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	CHECK_INT(stats_of(s).blocks, ==, 1);
	CHECK_INT(count_files(blocks, ".blk"), ==, 1);
	for (int t = 0; t < N_TRACES; t++)
		if (check_trace(s, t, 5, t < 3 ? base : base + NS_PER_HOUR) != 0) {
			test_fail(__FILE__, __LINE__, "%s", g_why);
			return;
		}
	CHECK_INT(store_close(s), ==, 0);

	/* a crash before the merged block was renamed: only its sidecar exists,
	 * naming live blocks; it is dropped and the blocks stay */
	char side[800];
	snprintf(side, sizeof side, "%s/blk-00000000000000ff-0000000000000001.blk.replaces", blocks);
	DIR *d = opendir(blocks);
	CHECK(d != NULL);
	FILE *f = fopen(side, "w");
	CHECK(f != NULL);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".blk") && !strstr(e->d_name, ".replaces"))
			fprintf(f, "%s\n", e->d_name);
	closedir(d);
	fclose(f);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	CHECK_INT(stats_of(s).blocks, ==, 1);
	CHECK(access(side, F_OK) != 0);
	CHECK_INT(count_files(blocks, ".blk"), ==, 1);
	store_close(s);
}

TEST(store_blocks_open_skips_tmp_and_corrupt_blocks)
{
	char dir[600], blocks[700], path[900];
	sub(dir, sizeof dir, test_tmpdir(), "corrupt");
	sub(blocks, sizeof blocks, dir, "blocks");
	int64_t base = old_base();
	struct store_options o = {0};
	struct store *s = open_store(dir, &o);
	CHECK(s != NULL);
	CHECK_INT(append_round(s, 0, 0, N_TRACES, base), ==, 0);
	CHECK_INT(store_flush(s), ==, 0);
	CHECK_INT(store_close(s), ==, 0);
	/* a leftover temporary file and a block of garbage */
	snprintf(path, sizeof path, "%s/blk-0000000000000009-0000000000000002.blk.tmp", blocks);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("partial", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/blk-0000000000000008-0000000000000001.blk", blocks);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("this is not a block file at all, but long enough to have a header and a footer", f);
	fclose(f);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	CHECK_INT(stats_of(s).blocks, ==, 1);
	CHECK_INT(count_files(blocks, ".tmp"), ==, 0);
	CHECK_INT(count_files(blocks, ".corrupt"), ==, 1);
	CHECK_TRACES(s, 1, base);
	/* new blocks get sequence numbers past every name seen */
	CHECK_INT(append_round(s, 1, 0, N_TRACES, base), ==, 0);
	CHECK_INT(store_flush(s), ==, 0);
	snprintf(path, sizeof path, "%s/blk-0000000000000009-", blocks);
	DIR *d = opendir(blocks);
	CHECK(d != NULL);
	int found = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		found += strncmp(e->d_name, "blk-0000000000000009-", 21) == 0;
	closedir(d);
	CHECK_INT(found, ==, 1);
	CHECK_TRACES(s, 2, base);
	store_close(s);
}

TEST(store_blocks_retention_by_age_and_disk)
{
	char dir[600];
	sub(dir, sizeof dir, test_tmpdir(), "retention");
	int64_t day = 24 * NS_PER_HOUR;
	g_now_ns = 100 * day;
	int64_t old = g_now_ns - 10 * day, recent = g_now_ns - day;
	struct store_options o = {.retention_ns = 7 * day, .now_unix_ns = fake_now};
	struct store *s = open_store(dir, &o);
	CHECK(s != NULL);
	CHECK_INT(append_round(s, 0, 0, 3, old), ==, 0);
	CHECK_INT(store_flush(s), ==, 0);
	CHECK_INT(append_round(s, 0, 3, N_TRACES, recent), ==, 0);
	CHECK_INT(store_flush(s), ==, 0);
	CHECK_INT(stats_of(s).blocks, ==, 2);
	/* a head older than retention is never touched: only blocks go */
	CHECK_INT(append_round(s, 1, 0, 3, old), ==, 0);
	CHECK_INT(store_maintain(s), ==, 0);
	struct store_stats st = stats_of(s);
	CHECK_INT(st.blocks, ==, 1);
	CHECK_INT(st.retention_deletions, ==, 1);
	CHECK_INT(st.head_spans, ==, 3);
	for (int t = 3; t < N_TRACES; t++)
		CHECK_INT(check_trace(s, t, 1, recent), ==, 0);
	uint8_t id[16];
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	trace_id_of(0, id);
	CHECK_INT(store_get_trace(s, id, &b), ==, 0);
	CHECK_INT(b.n_spans, ==, 1); /* round 1 from the head; round 0 expired */
	arena_reset(&a);
	CHECK_INT(store_close(s), ==, 0);

	/* the newest block goes too; its WAL records must not come back */
	g_now_ns += 10 * day;
	s = open_store(dir, &o);
	CHECK(s != NULL);
	CHECK_INT(stats_of(s).replayed_records, ==, 1);
	CHECK_INT(store_flush(s), ==, 0);
	CHECK_INT(store_maintain(s), ==, 0);
	CHECK_INT(stats_of(s).blocks, ==, 0);
	CHECK_INT(store_close(s), ==, 0);
	s = open_store(dir, &o);
	CHECK(s != NULL);
	st = stats_of(s);
	CHECK_INT(st.replayed_records, ==, 0);
	CHECK_INT(st.head_spans, ==, 0);
	for (int t = 0; t < N_TRACES; t++)
		CHECK_INT(check_trace(s, t, 0, 0), ==, 0);
	CHECK_INT(store_close(s), ==, 0);

	/* a disk budget: the oldest blocks go until blocks + WAL fit */
	char dir2[600];
	sub(dir2, sizeof dir2, test_tmpdir(), "retention-disk");
	struct store_options o2 = {0};
	s = open_store(dir2, &o2);
	CHECK(s != NULL);
	for (int r = 0; r < 4; r++) {
		CHECK_INT(append_round(s, 0, r, r + 1, old + r * day), ==, 0);
		CHECK_INT(store_flush(s), ==, 0);
	}
	st = stats_of(s);
	CHECK_INT(st.blocks, ==, 4);
	uint64_t per_block = st.block_bytes / 4;
	CHECK_INT(store_close(s), ==, 0);
	o2.max_disk_bytes = st.wal_disk_bytes + 2 * per_block + per_block / 2;
	s = open_store(dir2, &o2);
	CHECK(s != NULL);
	CHECK_INT(store_maintain(s), ==, 0);
	st = stats_of(s);
	CHECK_INT(st.blocks, ==, 2);
	CHECK_INT(st.retention_deletions, ==, 2);
	CHECK_INT(check_trace(s, 0, 0, 0), ==, 0); /* the oldest went first */
	CHECK_INT(check_trace(s, 1, 0, 0), ==, 0);
	CHECK_INT(check_trace(s, 2, 1, old + 2 * day), ==, 0);
	CHECK_INT(check_trace(s, 3, 1, old + 3 * day), ==, 0);
	store_close(s);
}

TEST(store_blocks_flush_failures_keep_data_and_recover)
{
	int errs[] = {ENOSPC, EIO};
	for (int k = 0; k < 2; k++) {
		for (int mode = 0; mode < 2; mode++) {
			char dir[600];
			snprintf(dir, sizeof dir, "%s/fail-%d-%d", test_tmpdir(), k, mode);
			int64_t base = old_base();
			struct fileops_faults plan = {.fail_errno = errs[k]};
			struct fileops *ops = fileops_faulty(fileops_posix(), &plan);
			struct store_options o = {.ops = ops};
			struct store *s = open_store(dir, &o);
			CHECK(s != NULL);
			for (int r = 0; r < 3; r++)
				CHECK_INT(append_round(s, r, 0, N_TRACES, base), ==, 0);
			/* the block's first write, or its first fsync, fails */
			if (mode == 0)
				plan.fail_write_at = plan.writes + 1;
			else
				plan.fail_sync_at = plan.syncs + 1;
			CHECK_INT(store_flush(s), ==, -errs[k]);
			struct store_stats st = stats_of(s);
			CHECK_INT(st.flush_failures, ==, 1);
			CHECK_INT(st.sealed_heads, ==, 1);
			CHECK_INT(st.blocks, ==, 0);
			CHECK_TRACES(s, 3, base); /* the sealed head still serves */
			/* ingest goes on meanwhile */
			CHECK_INT(append_round(s, 3, 0, N_TRACES, base), ==, 0);
			CHECK_TRACES(s, 4, base);
			/* the disk has room again: the retry succeeds */
			CHECK_INT(store_maintain(s), ==, 0);
			st = stats_of(s);
			CHECK_INT(st.sealed_heads, ==, 0);
			CHECK_INT(st.blocks, ==, 1);
			CHECK_INT(st.flushes, ==, 1);
			CHECK_TRACES(s, 4, base);
			CHECK_INT(store_close(s), ==, 0);
			fileops_faulty_free(ops);
			o.ops = NULL;
			s = open_store(dir, &o);
			CHECK(s != NULL);
			CHECK_TRACES(s, 4, base);
			store_close(s);
		}
	}
}

/* The crash workload: appends with flushes and a compaction; ack[r] = 1
 * for each round store_append acknowledged. */
static void crash_workload(struct store *s, int64_t base, int *ack, int rounds)
{
	for (int r = 0; r < rounds; r++) {
		ack[r] = append_round(s, r, 0, N_TRACES, base) == 0;
		if (r % 3 == 2)
			store_flush(s);
		if (r % 6 == 5)
			store_maintain(s);
	}
}

TEST(store_blocks_crash_at_every_sync)
{
	enum { ROUNDS = 10 };
	int64_t base = old_base();
	int ack[ROUNDS];
	char dir[600];
	/* count the syncs of a clean run */
	struct fileops_faults plan = {0};
	struct fileops *ops = fileops_faulty(fileops_posix(), &plan);
	sub(dir, sizeof dir, test_tmpdir(), "crash-clean");
	struct store_options o = {.ops = ops, .wal_segment_bytes = 4096};
	struct store *s = open_store(dir, &o);
	CHECK(s != NULL);
	crash_workload(s, base, ack, ROUNDS);
	CHECK_INT(stats_of(s).compactions, >=, 1);
	store_close(s);
	fileops_faulty_free(ops);
	uint64_t total = plan.syncs;
	CHECK_INT(total, >=, 20);

	for (uint64_t n = 1; n <= total; n++) {
		snprintf(dir, sizeof dir, "%s/crash-%llu", test_tmpdir(), (unsigned long long)n);
		plan = (struct fileops_faults){.crash_at_sync = n};
		ops = fileops_faulty(fileops_posix(), &plan);
		o = (struct store_options){.ops = ops, .wal_segment_bytes = 4096};
		s = open_store(dir, &o);
		if (!s) { /* the crash hit store_open's own syncs: nothing acknowledged */
			fileops_faulty_free(ops);
			continue;
		}
		crash_workload(s, base, ack, ROUNDS);
		store_close(s);
		fileops_faulty_free(ops);
		o = (struct store_options){.wal_segment_bytes = 4096};
		s = open_store(dir, &o);
		CHECK(s != NULL);
		/* acknowledged rounds form a prefix (after the crash every call
		 * fails); each of them reads back, each span once */
		int acked = 0;
		while (acked < ROUNDS && ack[acked])
			acked++;
		for (int r = acked; r < ROUNDS; r++)
			CHECK_INT(ack[r], ==, 0);
		for (int t = 0; t < N_TRACES; t++) {
			uint8_t id[16];
			trace_id_of(t, id);
			struct arena a;
			arena_init(&a, 0);
			struct span_batch b;
			span_batch_init(&b, &a);
			int rc = store_get_trace(s, id, &b);
			uint32_t got = rc == 0 ? b.n_spans : 0;
			arena_reset(&a);
			if (got < (uint32_t)acked || got > (uint32_t)acked + 1) {
				test_fail(__FILE__, __LINE__, "crash at sync %llu: trace %d has %u spans, %d acknowledged",
					  (unsigned long long)n, t, got, acked);
				store_close(s);
				return;
			}
			if (check_trace(s, t, (int)got, base) != 0) {
				test_fail(__FILE__, __LINE__, "crash at sync %llu: %s", (unsigned long long)n, g_why);
				store_close(s);
				return;
			}
		}
		store_close(s);
	}
}

static int count_valid(void *ctx, const struct span_batch *b)
{
	for (uint32_t i = 0; i < b->n_spans; i++)
		*(int *)ctx += !b->spans[i].invalid_reason;
	return 0;
}

TEST(store_blocks_flush_writes_each_head_span_once)
{
	char dir[600];
	sub(dir, sizeof dir, test_tmpdir(), "head-dups");
	int64_t base = old_base();
	struct store_options o = {0};
	struct store *s = open_store(dir, &o);
	CHECK(s != NULL);
	/* retries inside one head: whole batches and batches that overlap */
	CHECK_INT(append_rounds(s, 0, 3, 0, N_TRACES, base), ==, 0);
	CHECK_INT(append_rounds(s, 0, 3, 0, N_TRACES, base), ==, 0);
	CHECK_INT(append_rounds(s, 2, 6, 0, N_TRACES, base), ==, 0);
	CHECK_INT(append_rounds(s, 5, 7, 0, 3, base), ==, 0);
	CHECK_INT(append_rounds(s, 5, 7, 3, N_TRACES, base), ==, 0);
	CHECK_TRACES(s, 7, base);
	CHECK_INT(stats_of(s).head_spans, ==, 7 * N_TRACES);
	int walked = 0;
	CHECK_INT(store_embedded_query_ops.scan_heads(s, count_valid, &walked), ==, 0);
	CHECK_INT(walked, ==, 7 * N_TRACES);
	CHECK_INT(store_flush(s), ==, 0);
	walked = 0;
	CHECK_INT(store_scan_heads(s, count_valid, &walked), ==, 0);
	CHECK_INT(walked, ==, 0);
	struct store_stats st = stats_of(s);
	CHECK_INT(st.block_spans, ==, 7 * N_TRACES);
	CHECK_INT(st.head_spans, ==, 0);
	CHECK_TRACES(s, 7, base);
	/* the walk the query side uses sees nothing once all is in blocks */
	struct store_block_list l;
	CHECK_INT(store_list_blocks(s, &l), ==, 0);
	CHECK_INT(l.n, ==, 1);
	CHECK_INT(l.items[0].info.spans, ==, 7 * N_TRACES);
	store_release_blocks(&l);
	store_close(s);
}
