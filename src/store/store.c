/* The embedded store over a data directory: <dir>/LOCK (flock, so two clews
 * never share a directory), <dir>/wal/ (the WAL), <dir>/blocks/ (immutable
 * block files), the heads in memory. This file: open, append, reads, stats,
 * the maintenance thread and close; the steps it runs are in store_maint.c.
 *
 * Design notes.
 * Generations. One active head receives inserts; a cut (store_cut) seals
 * it, starts a new one and rolls the WAL (wal_roll), all under the
 * exclusive cut_lock, which appenders hold shared across wal_append +
 * head_insert. So a sealed head holds exactly the records with lsn below
 * its end_lsn that no older head or block holds.
 * States of a span's data, and the function behind each move:
 *   WAL + active head          store_append
 *   WAL + sealed head          store_cut (head past head_max_bytes: by
 *                              the appender that filled it; block_interval
 *                              after its first span: by the thread)
 *   block (+ WAL)              store_flush_one: block_writer_finish (tmp,
 *                              fsync, rename, fsync dir), block_open, publish,
 *                              drop the head
 *   block                      wal_remove_segments_before(end_lsn)
 *   merged block               store_compact_step (sidecar *.replaces first)
 *   gone                       store_retention (age, then disk budget)
 * Invariants.
 *   - Sealed heads are flushed oldest first; a WAL segment is removed only
 *     after every record in it is in a published (durable) block.
 *   - A block's name blk-<seq>-<lsn>.blk says every WAL record below lsn is
 *     in blocks; on open, replay skips those (a crash between a block's
 *     finish and the segment removal duplicates nothing). covered_lsn never
 *     falls: retention writes it to blocks/WAL_FLOOR before deleting the
 *     block that carries it.
 *   - Retention and compaction only touch blocks, never heads or the WAL.
 *   - Readers take references (gens: refs, blocks: block_ref) under mu and
 *     read without it; a dropped head is freed, a dropped block's file is
 *     unlinked, when the last reference goes.
 *   - A failed flush keeps the sealed head (readable, charged to the
 *     memory budget, its WAL kept) and is retried with backoff; ingest goes
 *     on until the budget refuses. */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "ingest/otlp_proto.h"

#define STORE_DEFAULT_HEAD_MAX_BYTES (256ull << 20)
#define STORE_DEFAULT_BLOCK_INTERVAL_NS (120ll * 1000000000)
#define STORE_DEFAULT_WINDOW_NS (3600ll * 1000000000)
#define STORE_TICK_NS (250ll * 1000000)
#define STORE_BACKOFF_MIN_NS (500ll * 1000000)
#define STORE_BACKOFF_MAX_NS (30000ll * 1000000)

static int make_dir(const char *path, char *errbuf, size_t errlen)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		snprintf(errbuf, errlen, "%s exists and is not a directory", path);
		return -ENOTDIR;
	}
	int rc = -errno;
	snprintf(errbuf, errlen, "cannot create data directory %s: %s", path, strerror(errno));
	return rc;
}

static int take_lock(struct store *s, char *errbuf, size_t errlen)
{
	char path[STORE_PATH_MAX];
	snprintf(path, sizeof path, "%s/LOCK", s->data_dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lock_fd < 0) {
		int rc = -errno;
		snprintf(errbuf, errlen, "data directory %s is not writable: %s", s->data_dir, strerror(errno));
		return rc;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int rc = -errno;
		if (errno == EWOULDBLOCK)
			snprintf(errbuf, errlen,
				 "data directory %s is in use by another clew process (lock %s is held); stop it or "
				 "choose another --data-dir",
				 s->data_dir, path);
		else
			snprintf(errbuf, errlen, "cannot lock %s: %s", path, strerror(errno));
		return rc;
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(s->lock_fd, 0) == 0 && pwrite(s->lock_fd, pid, (size_t)n, 0) < 0)
		log_warn("could not write pid to %s", path);
	return 0;
}

int64_t store_now_ns(const struct store *s)
{
	return s->o.now_unix_ns ? s->o.now_unix_ns() : clock_now_unix_ns();
}

/* ---- generations */

static struct store_gen *gen_new(struct store *s)
{
	struct store_gen *g = xcalloc(1, sizeof *g);
	g->head = head_new();
	atomic_init(&g->refs, 1);
	atomic_init(&g->first_mono_ns, 0);
	atomic_init(&g->bytes, 0);
	g->memory = s->memory;
	return g;
}

void store_gen_unref(struct store_gen *g)
{
	if (!g || atomic_fetch_sub(&g->refs, 1) != 1)
		return;
	head_free(g->head);
	if (g->memory && g->charged)
		budget_release(g->memory, g->charged);
	free(g);
}

/* Charge the head's growth to the budget; returns the head's bytes. */
static uint64_t charge_gen(struct store *s, struct store_gen *g)
{
	struct head_stats hs;
	head_get_stats(g->head, &hs);
	if (!s->memory)
		return hs.bytes;
	pthread_mutex_lock(&s->charge_lock);
	if (hs.bytes > g->charged) {
		budget_force_charge(s->memory, hs.bytes - g->charged);
		g->charged = hs.bytes;
	}
	pthread_mutex_unlock(&s->charge_lock);
	return hs.bytes;
}

static void wake_maintenance(struct store *s)
{
	pthread_mutex_lock(&s->mu);
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Index b in head generation g; *full tells the caller the head is due
 * for a cut by size. */
static int index_payload(struct store *s, struct store_gen *g, uint8_t *payload, size_t len,
			 const struct span_batch *b, bool *full)
{
	int rc = head_insert(g->head, payload, len, b, NULL);
	int64_t zero = 0;
	if (atomic_load(&g->first_mono_ns) == 0)
		atomic_compare_exchange_strong(&g->first_mono_ns, &zero, clock_mono_ns());
	uint64_t bytes = charge_gen(s, g);
	atomic_store(&g->bytes, bytes);
	*full = bytes >= s->o.head_max_bytes;
	return rc;
}

/* ---- WAL replay */

struct replay_ctx {
	struct store *s;
	uint64_t skipped;
};

static int replay_record(void *arg, uint8_t type, struct slice payload, uint64_t lsn)
{
	struct replay_ctx *rx = arg;
	struct store *s = rx->s;
	if (lsn < s->covered_lsn) {
		rx->skipped++;
		return 0;
	}
	if (type != WAL_REC_OTLP_PROTO) {
		log_warn("wal: record %llu has unknown type %u; skipped", (unsigned long long)lsn, type);
		return 0;
	}
	uint8_t *copy = try_malloc(payload.len ? payload.len : 1);
	if (!copy)
		return CLEW_ENOMEM;
	memcpy(copy, payload.p, payload.len);
	struct arena arena;
	arena_init(&arena, 0);
	struct span_batch b;
	span_batch_init(&b, &arena);
	struct decode_error err = {{0}, 0};
	int rc = otlp_proto_decode_request(slice_make(copy, payload.len), &b, &err);
	if (rc < 0) {
		log_error("wal: record %llu does not decode (%s); skipped", (unsigned long long)lsn, err.msg);
		free(copy);
		arena_reset(&arena);
		return 0;
	}
	for (uint32_t i = 0; i < b.n_spans; i++)
		if (!b.spans[i].invalid_reason)
			b.spans[i].invalid_reason = span_invalid_reason(&b.spans[i]);
	bool full;
	rc = index_payload(s, s->active, copy, payload.len, &b, &full);
	arena_reset(&arena);
	s->replayed_records++;
	return rc;
}

/* ---- the maintenance thread */

struct store_gen *store_oldest_sealed(struct store *s)
{
	pthread_mutex_lock(&s->mu);
	struct store_gen *g = s->sealed;
	pthread_mutex_unlock(&s->mu);
	return g;
}

/* The active head is past head_max_bytes or block_interval_ns old. */
static bool gen_due(const struct store *s, struct store_gen *g)
{
	int64_t first = atomic_load(&g->first_mono_ns);
	return first && (atomic_load(&g->bytes) >= s->o.head_max_bytes ||
			 clock_mono_ns() - first >= s->o.block_interval_ns);
}

static bool cut_due(struct store *s)
{
	pthread_mutex_lock(&s->mu);
	bool due = gen_due(s, s->active);
	pthread_mutex_unlock(&s->mu);
	return due;
}

int store_cut(struct store *s, bool force)
{
	struct head_stats hs;
	pthread_rwlock_wrlock(&s->cut_lock);
	struct store_gen *g = s->active;
	head_get_stats(g->head, &hs);
	/* spans == 0: only duplicates or invalid spans, nothing to flush; not
	 * due: another thread cut it meanwhile */
	if (hs.spans == 0 || (!force && !gen_due(s, g))) {
		pthread_rwlock_unlock(&s->cut_lock);
		return 0;
	}
	uint64_t next_lsn;
	int rc = wal_roll(s->wal, &next_lsn);
	if (rc == 0) {
		struct store_gen *ng = gen_new(s);
		pthread_mutex_lock(&s->mu);
		g->end_lsn = next_lsn;
		struct store_gen **tail = &s->sealed;
		while (*tail)
			tail = &(*tail)->next;
		*tail = g;
		s->active = ng;
		pthread_mutex_unlock(&s->mu);
	}
	pthread_rwlock_unlock(&s->cut_lock);
	return rc;
}

int store_service_heads(struct store *s, bool honor_backoff)
{
	int rc = 0;
	if (cut_due(s))
		rc = store_cut(s, false);
	if (honor_backoff && s->flush_failing && clock_mono_ns() < s->next_flush_mono_ns)
		return rc;
	while (rc == 0 && store_oldest_sealed(s) && !atomic_load(&s->stop)) {
		if ((rc = store_flush_one(s)) < 0) {
			s->flush_backoff_ns = s->flush_backoff_ns ? s->flush_backoff_ns * 2 : STORE_BACKOFF_MIN_NS;
			if (s->flush_backoff_ns > STORE_BACKOFF_MAX_NS)
				s->flush_backoff_ns = STORE_BACKOFF_MAX_NS;
			s->next_flush_mono_ns = clock_mono_ns() + s->flush_backoff_ns;
		} else {
			s->flush_backoff_ns = 0;
		}
	}
	return rc;
}

/* One pass of maintenance. */
static int maintain_pass(struct store *s, bool honor_backoff)
{
	int rc, r;
	pthread_mutex_lock(&s->maint_mu);
	atomic_store(&s->flush_wanted, 0);
	rc = store_service_heads(s, honor_backoff);
	if ((r = store_retention(s)) < 0 && rc == 0)
		rc = r;
	while (!atomic_load(&s->stop)) {
		r = store_compact_step(s);
		if (r < 0 && rc == 0)
			rc = r;
		if (r <= 0)
			break;
	}
	pthread_mutex_unlock(&s->maint_mu);
	return rc;
}

static void *maintenance_main(void *arg)
{
	struct store *s = arg;
	while (!atomic_load(&s->stop)) {
		maintain_pass(s, true);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		int64_t deadline = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + STORE_TICK_NS;
		ts.tv_sec = deadline / 1000000000;
		ts.tv_nsec = deadline % 1000000000;
		pthread_mutex_lock(&s->mu);
		while (!atomic_load(&s->stop) && !atomic_load(&s->flush_wanted))
			if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

int store_maintain(struct store *s)
{
	return maintain_pass(s, false);
}

int store_flush(struct store *s)
{
	int rc = 0;
	pthread_mutex_lock(&s->maint_mu);
	rc = store_cut(s, true);
	while (rc == 0 && store_oldest_sealed(s))
		rc = store_flush_one(s);
	pthread_mutex_unlock(&s->maint_mu);
	return rc;
}

/* ---- open and close */

static void fill_defaults(struct store_options *o)
{
	if (!o->head_max_bytes)
		o->head_max_bytes = STORE_DEFAULT_HEAD_MAX_BYTES;
	if (o->block_interval_ns <= 0)
		o->block_interval_ns = STORE_DEFAULT_BLOCK_INTERVAL_NS;
	if (o->compaction_window_ns <= 0)
		o->compaction_window_ns = STORE_DEFAULT_WINDOW_NS;
	if (!o->compaction_max_mem_bytes)
		o->compaction_max_mem_bytes = o->head_max_bytes;
	if (!o->ops)
		o->ops = fileops_posix();
}

static void free_store(struct store *s)
{
	if (s->wal)
		wal_close(s->wal);
	for (struct store_gen *g = s->sealed, *next; g; g = next) {
		next = g->next;
		store_gen_unref(g);
	}
	store_gen_unref(s->active);
	for (size_t i = 0; i < s->n_blocks; i++)
		block_unref(s->blocks[i].block);
	free(s->blocks);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	pthread_rwlock_destroy(&s->cut_lock);
	pthread_mutex_destroy(&s->charge_lock);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->maint_mu);
	pthread_cond_destroy(&s->cv);
	free(s->data_dir);
	free(s);
}

struct store *store_open(const struct store_options *opts, int *rc_out, char *errbuf, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof *s);
	int rc;
	s->lock_fd = -1;
	s->o = *opts;
	fill_defaults(&s->o);
	s->ops = s->o.ops;
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->cut_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&s->charge_lock, NULL);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->maint_mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->data_dir = xstrdup(opts->data_dir);
	s->o.data_dir = s->data_dir;
	s->memory = opts->memory;
	s->next_seq = 1;
	errbuf[0] = 0;
	if ((rc = make_dir(s->data_dir, errbuf, errlen)) < 0)
		goto fail;
	if ((rc = take_lock(s, errbuf, errlen)) < 0)
		goto fail;
	char wal_dir[STORE_PATH_MAX];
	snprintf(wal_dir, sizeof wal_dir, "%s/wal", s->data_dir);
	snprintf(s->blocks_dir, sizeof s->blocks_dir, "%s/blocks", s->data_dir);
	if ((rc = make_dir(wal_dir, errbuf, errlen)) < 0 || (rc = make_dir(s->blocks_dir, errbuf, errlen)) < 0)
		goto fail;
	if ((rc = store_load_blocks(s, errbuf, errlen)) < 0)
		goto fail;
	struct wal_options wo = {
		.dir = wal_dir, .sync = s->o.wal_sync, .ops = s->ops, .segment_bytes = s->o.wal_segment_bytes};
	s->wal = wal_open(&wo, &rc);
	if (!s->wal) {
		snprintf(errbuf, errlen, "cannot open the WAL in %s: %s", wal_dir, err_str(rc));
		goto fail;
	}
	s->active = gen_new(s);
	struct wal_replay_result rr = {0};
	struct replay_ctx rx = {.s = s};
	rc = wal_replay(s->wal, replay_record, &rx, &rr);
	if (rc < 0) {
		snprintf(errbuf, errlen, "cannot replay the WAL in %s: %s", wal_dir, err_str(rc));
		goto fail;
	}
	wal_advance_lsn(s->wal, s->covered_lsn);
	s->replay_truncated_bytes = rr.truncated_bytes;
	if (rr.records)
		log_info("wal: replayed %llu records (%llu bytes) into the head, %llu already in blocks",
			 (unsigned long long)(rr.records - rx.skipped), (unsigned long long)rr.bytes,
			 (unsigned long long)rx.skipped);
	if (!s->o.manual_maintenance) {
		if ((rc = -pthread_create(&s->thread, NULL, maintenance_main, s)) < 0) {
			snprintf(errbuf, errlen, "cannot start the store's maintenance thread: %s", err_str(rc));
			goto fail;
		}
		s->thread_started = true;
	}
	*rc_out = 0;
	return s;
fail:
	*rc_out = rc;
	free_store(s);
	return NULL;
}

int store_close(struct store *s)
{
	if (s->thread_started) {
		pthread_mutex_lock(&s->mu);
		atomic_store(&s->stop, 1);
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	int rc = wal_close(s->wal);
	s->wal = NULL;
	free_store(s);
	return rc;
}

/* ---- append and reads */

int store_append(struct store *s, uint8_t *payload, size_t payload_len, const struct span_batch *b)
{
	bool full = false;
	pthread_rwlock_rdlock(&s->cut_lock);
	int rc = wal_append(s->wal, WAL_REC_OTLP_PROTO, slice_make(payload, payload_len), NULL);
	if (rc < 0)
		free(payload);
	else
		rc = index_payload(s, s->active, payload, payload_len, b, &full);
	pthread_rwlock_unlock(&s->cut_lock);
	/* cut here rather than wait for the maintenance thread, which may be
	 * busy flushing: blocks stay near head_max_bytes however far the flush
	 * lags (sealed heads queue up, charged to the memory budget) */
	if (full && !atomic_exchange(&s->cutting, 1)) {
		store_cut(s, false);
		atomic_store(&s->cutting, 0);
		if (!s->o.manual_maintenance && !atomic_exchange(&s->flush_wanted, 1))
			wake_maintenance(s);
	}
	return rc;
}

/* The heads now, newest first, each referenced; *n of them. */
static struct store_gen **ref_gens(struct store *s, size_t *n)
{
	pthread_mutex_lock(&s->mu);
	size_t k = 1;
	for (struct store_gen *g = s->sealed; g; g = g->next)
		k++;
	struct store_gen **gens = try_malloc(k * sizeof *gens);
	if (gens) {
		size_t i = k;
		for (struct store_gen *g = s->sealed; g; g = g->next)
			gens[--i] = g;
		gens[0] = s->active;
		for (i = 0; i < k; i++)
			atomic_fetch_add(&gens[i]->refs, 1);
	}
	pthread_mutex_unlock(&s->mu);
	*n = gens ? k : 0;
	return gens;
}

static void unref_gens(struct store_gen **gens, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_gen_unref(gens[i]);
	free(gens);
}

int store_get_trace(struct store *s, const uint8_t trace_id[16], struct span_batch *out)
{
	int rc = 0, found = 0;
	uint32_t r0 = out->n_resources, s0 = out->n_scopes, n0 = out->n_spans;
	size_t n_gens = 0, n_blks = 0;
	struct block **blks = NULL;
	struct store_gen **gens = ref_gens(s, &n_gens);
	if (!gens)
		return CLEW_ENOMEM;
	pthread_mutex_lock(&s->mu);
	if (s->n_blocks && !(blks = try_malloc(s->n_blocks * sizeof *blks)))
		rc = CLEW_ENOMEM;
	for (size_t i = 0; rc == 0 && i < s->n_blocks; i++) {
		if (block_may_contain(s->blocks[i].block, trace_id)) {
			block_ref(s->blocks[i].block);
			blks[n_blks++] = s->blocks[i].block;
		}
	}
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; rc == 0 && i < n_gens; i++) {
		int r = head_get_trace(gens[i]->head, trace_id, out);
		if (r == 0)
			found++;
		else if (r != CLEW_ENOTFOUND)
			rc = r;
	}
	for (size_t i = 0; rc == 0 && i < n_blks; i++) {
		uint32_t nr = out->n_resources, ns = out->n_scopes, nsp = out->n_spans;
		int r = block_get_trace(blks[i], trace_id, out);
		if (r == 0) {
			found++;
		} else if (r == CLEW_ECORRUPT) {
			/* logged by the block layer; what it may have appended is dropped
			 * and the other blocks and heads still answer */
			out->n_resources = nr;
			out->n_scopes = ns;
			out->n_spans = nsp;
		} else if (r != CLEW_ENOTFOUND) {
			rc = r;
		}
	}
	for (size_t i = 0; i < n_blks; i++)
		block_unref(blks[i]);
	free(blks);
	unref_gens(gens, n_gens);
	if (rc == 0 && !found)
		rc = CLEW_ENOTFOUND;
	if (rc == 0 && found > 1)
		rc = store_merge_trace(out, r0, s0, n0);
	return rc;
}

int store_list_blocks(struct store *s, struct store_block_list *out)
{
	*out = (struct store_block_list){0};
	pthread_mutex_lock(&s->mu);
	if (s->n_blocks && !(out->items = try_malloc(s->n_blocks * sizeof *out->items))) {
		pthread_mutex_unlock(&s->mu);
		return CLEW_ENOMEM;
	}
	for (size_t i = 0; i < s->n_blocks; i++) {
		struct store_block *b = &out->items[out->n++];
		b->block = s->blocks[i].block;
		b->seq = s->blocks[i].seq;
		b->info = s->blocks[i].info;
		block_ref(b->block);
	}
	pthread_mutex_unlock(&s->mu);
	return 0;
}

void store_release_blocks(struct store_block_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		block_unref(l->items[i].block);
	free(l->items);
	*l = (struct store_block_list){0};
}

int store_scan_heads(struct store *s, head_batch_fn fn, void *ctx)
{
	size_t n = 0;
	int rc = 0;
	struct store_gen **gens = ref_gens(s, &n);
	if (!gens)
		return CLEW_ENOMEM;
	/* oldest first */
	for (size_t i = n; rc == 0 && i > 0; i--)
		rc = head_for_each_batch(gens[i - 1]->head, fn, ctx);
	unref_gens(gens, n);
	return rc;
}

static int q_get_trace(void *impl, const uint8_t trace_id[16], struct span_batch *out)
{
	return store_get_trace(impl, trace_id, out);
}

static int q_list_blocks(void *impl, struct store_block_list *out)
{
	return store_list_blocks(impl, out);
}

static int q_scan_heads(void *impl, head_batch_fn fn, void *ctx)
{
	return store_scan_heads(impl, fn, ctx);
}

const struct store_query_ops store_embedded_query_ops = {
	.get_trace = q_get_trace,
	.list_blocks = q_list_blocks,
	.release_blocks = store_release_blocks,
	.scan_heads = q_scan_heads,
};

void store_get_stats(struct store *s, struct store_stats *out)
{
	struct wal_stats ws;
	*out = (struct store_stats){0};
	size_t n = 0;
	struct store_gen **gens = ref_gens(s, &n);
	for (size_t i = 0; i < n; i++) {
		struct head_stats hs;
		head_get_stats(gens[i]->head, &hs);
		out->head_spans += hs.spans;
		out->head_traces += hs.traces;
		out->head_bytes += hs.bytes;
		out->duplicates += hs.duplicates;
	}
	out->sealed_heads = n ? n - 1 : 0;
	unref_gens(gens, n);
	wal_get_stats(s->wal, &ws);
	out->wal_records = ws.records;
	out->wal_bytes = ws.bytes;
	out->wal_syncs = ws.syncs;
	out->wal_sync_ns_total = ws.sync_ns_total;
	out->wal_disk_bytes = wal_disk_bytes(s->wal);
	pthread_mutex_lock(&s->mu);
	out->replayed_records = s->replayed_records;
	out->replay_truncated_bytes = s->replay_truncated_bytes;
	out->blocks = s->n_blocks;
	for (size_t i = 0; i < s->n_blocks; i++) {
		out->block_bytes += s->blocks[i].info.file_bytes;
		out->block_spans += s->blocks[i].info.spans;
	}
	out->flushes = s->flushes;
	out->flush_failures = s->flush_failures;
	out->compactions = s->compactions;
	out->retention_deletions = s->retention_deletions;
	pthread_mutex_unlock(&s->mu);
}
