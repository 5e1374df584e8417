/* Unit tests of the store: the data-directory lock, append then read back,
 * and replay of the WAL into the head after a reopen. */
#include "../../testlib.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"
#include "store/store.h"

/* Encode a batch of n spans of one trace, decode it back (so raw slices
 * point into the payload) and append it. */
static int append_trace(struct store *s, uint8_t trace_byte, int n)
{
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	struct resource *r = span_batch_add_resource(&b);
	resource_ensure_service_name(&b, r);
	span_batch_add_scope(&b, 0);
	for (int i = 0; i < n; i++) {
		struct span *sp = span_batch_add_span(&b, 0);
		memset(sp->trace_id, trace_byte, 16);
		memset(sp->span_id, i + 1, 8);
		sp->name = SLICE_LIT("op");
		sp->start_unix_ns = 1000 + i;
		sp->end_unix_ns = 2000 + i;
		struct attr *at = arena_zalloc(&a, sizeof *at);
		*at = (struct attr){SLICE_LIT("http.method"), {.type = ANY_STRING, .u.str = SLICE_LIT("GET")}};
		sp->attrs = (struct attr_list){at, 1};
	}
	struct buf enc;
	buf_init(&enc, 1 << 20);
	otlp_encode_request(&b, &enc);
	struct span_batch d;
	span_batch_init(&d, &a);
	struct decode_error err;
	int rc = otlp_proto_decode_request(buf_slice(&enc), &d, &err);
	if (rc == 0)
		rc = store_append(s, enc.p, enc.len, &d); /* takes the payload */
	else
		buf_free(&enc);
	arena_reset(&a);
	return rc;
}

static int count_spans(struct store *s, uint8_t trace_byte)
{
	uint8_t id[16];
	memset(id, trace_byte, 16);
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	span_batch_init(&b, &a);
	int rc = store_get_trace(s, id, &b);
	int n = rc == 0 ? (int)b.n_spans : rc;
	arena_reset(&a);
	return n;
}

TEST(store_lock_refuses_second_open)
{
	char dir[600], err[512];
	snprintf(dir, sizeof dir, "%s/data", test_tmpdir());
	struct store_options o = {.data_dir = dir, .wal_sync = WAL_SYNC_GROUP};
	int rc;
	struct store *s = store_open(&o, &rc, err, sizeof err);
	CHECK(s != NULL);
	struct store *s2 = store_open(&o, &rc, err, sizeof err);
	CHECK(s2 == NULL);
	CHECK(strstr(err, "in use by another clew") != NULL);
	CHECK_INT(store_close(s), ==, 0);
	s2 = store_open(&o, &rc, err, sizeof err);
	CHECK(s2 != NULL);
	store_close(s2);
}

TEST(store_not_writable_is_a_clear_error)
{
	char dir[600], err[512];
	snprintf(dir, sizeof dir, "%s/ro", test_tmpdir());
	CHECK_INT(mkdir(dir, 0555), ==, 0);
	if (geteuid() == 0)
		return; /* root writes anywhere: nothing to test */
	struct store_options o = {.data_dir = dir};
	int rc;
	CHECK(store_open(&o, &rc, err, sizeof err) == NULL);
	CHECK(strstr(err, "not writable") != NULL);
}

TEST(store_append_read_and_replay)
{
	char dir[600], err[512];
	snprintf(dir, sizeof dir, "%s/data", test_tmpdir());
	struct store_options o = {.data_dir = dir, .wal_sync = WAL_SYNC_GROUP};
	int rc;
	struct store *s = store_open(&o, &rc, err, sizeof err);
	CHECK(s != NULL);
	CHECK_INT(append_trace(s, 0x11, 3), ==, 0);
	CHECK_INT(append_trace(s, 0x22, 5), ==, 0);
	CHECK_INT(append_trace(s, 0x11, 3), ==, 0); /* a retry: stored once */
	CHECK_INT(count_spans(s, 0x11), ==, 3);
	CHECK_INT(count_spans(s, 0x22), ==, 5);
	CHECK_INT(count_spans(s, 0x33), ==, CLEW_ENOTFOUND);
	CHECK_INT(store_close(s), ==, 0);

	s = store_open(&o, &rc, err, sizeof err);
	CHECK(s != NULL);
	CHECK_INT(count_spans(s, 0x11), ==, 3);
	CHECK_INT(count_spans(s, 0x22), ==, 5);
	struct store_stats st;
	store_get_stats(s, &st);
	CHECK_INT(st.replayed_records, ==, 3);
	CHECK_INT(st.head_spans, ==, 8);
	store_close(s);
}

/* Ingest from several threads and read meanwhile, with the maintenance
 * thread cutting, flushing and compacting a tiny head underneath. */
enum { BG_WRITERS = 4, BG_BATCHES = 40 };

struct bg_ctx {
	struct store *s;
	int writer;
	int failures;
	_Atomic int *done;
};

static void *bg_write(void *arg)
{
	struct bg_ctx *c = arg;
	for (int k = 0; k < BG_BATCHES; k++)
		if (append_trace(c->s, (uint8_t)(c->writer * BG_BATCHES + k + 1), 3) != 0)
			c->failures++;
	return NULL;
}

static void *bg_read(void *arg)
{
	struct bg_ctx *c = arg;
	for (unsigned i = 0; !atomic_load(c->done); i++) {
		int n = count_spans(c->s, (uint8_t)(i % (BG_WRITERS * BG_BATCHES) + 1));
		if (n != 3 && n != CLEW_ENOTFOUND)
			c->failures++;
	}
	return NULL;
}

TEST(store_background_flush_while_ingesting_and_reading)
{
	char dir[600], err[512];
	snprintf(dir, sizeof dir, "%s/bg", test_tmpdir());
	struct store_options o = {.data_dir = dir, .wal_sync = WAL_SYNC_GROUP, .head_max_bytes = 24 << 10};
	int rc;
	struct store *s = store_open(&o, &rc, err, sizeof err);
	CHECK(s != NULL);
	_Atomic int done = 0;
	pthread_t w[BG_WRITERS], r;
	struct bg_ctx wc[BG_WRITERS], rc_ctx = {.s = s, .done = &done};
	pthread_create(&r, NULL, bg_read, &rc_ctx);
	for (int i = 0; i < BG_WRITERS; i++) {
		wc[i] = (struct bg_ctx){.s = s, .writer = i, .done = &done};
		pthread_create(&w[i], NULL, bg_write, &wc[i]);
	}
	for (int i = 0; i < BG_WRITERS; i++)
		pthread_join(w[i], NULL);
	struct store_stats st;
	for (int i = 0; i < 500; i++) {
		store_get_stats(s, &st);
		if (st.flushes >= 2 && st.sealed_heads == 0)
			break;
		usleep(10000);
	}
	atomic_store(&done, 1);
	pthread_join(r, NULL);
	CHECK_INT(rc_ctx.failures, ==, 0);
	for (int i = 0; i < BG_WRITERS; i++)
		CHECK_INT(wc[i].failures, ==, 0);
	CHECK_INT(st.flushes, >=, 2);
	CHECK_INT(st.blocks, >=, 1);
	for (int t = 1; t <= BG_WRITERS * BG_BATCHES; t++)
		CHECK_INT(count_spans(s, (uint8_t)t), ==, 3);
	CHECK_INT(store_close(s), ==, 0);

	o.manual_maintenance = 1;
	s = store_open(&o, &rc, err, sizeof err);
	CHECK(s != NULL);
	for (int t = 1; t <= BG_WRITERS * BG_BATCHES; t++)
		CHECK_INT(count_spans(s, (uint8_t)t), ==, 3);
	store_get_stats(s, &st);
	CHECK_INT(st.head_spans + st.block_spans, ==, 3 * BG_WRITERS * BG_BATCHES);
	store_close(s);
}
