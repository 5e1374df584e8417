/* The block reader: opens a block file (footer, directory, meta, filter and
 * the resource and scope tables are read and verified at once), finds a
 * trace through the filter, the page table and the page's sorted trace ids,
 * and decodes only that page; block_check walks everything. Decompressed
 * columns are kept in one process-wide cache with a byte budget (an LRU list
 * and a probation list, so a scan larger than the budget still hits). Reads
 * are pread calls, so any number of threads may read one block. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/alloc.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/log.h"
#include "store/block_int.h"

/* A decompressed section, shared by the cache and its readers. */
struct cbuf {
	atomic_int refs;
	uint64_t blk, sec;
	size_t len;
	struct cbuf *prev, *next, *hnext;
	int seg; /* SEG_*: the cache list holding it */
	uint8_t data[];
};

struct block {
	struct fileops *ops;
	int fd;
	char *path;
	atomic_int refs;
	atomic_int deleted;
	uint64_t uid;
	uint64_t file_size;
	uint32_t ncols; /* columns per page: BLK_COLS_V1 (version 1) or BCOL_COUNT */
	struct blk_dirent *dir;
	size_t n_dir;
	struct block_info info;
	struct block_page_info *pages;
	uint8_t *filter;
	size_t filter_blocks;
	uint32_t filter_bits;
	struct cbuf *res, *scopes;  /* the tables, decompressed */
	uint64_t *res_off;	    /* n + 1 offsets into res->data */
	uint64_t *scope_off;	    /* n + 1 offsets into scopes->data */
	uint32_t *scope_res;	    /* resource of each scope */
};

/* ---- errors ---- */

__attribute__((format(printf, 5, 6))) static int bad(char *err, size_t errlen, const char *path, uint64_t off,
						     const char *fmt, ...)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "%s: corrupt block at byte %" PRIu64 ": ", path, off);
		if (n >= 0 && (size_t)n < errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return CLEW_ECORRUPT;
}

/* ---- the cache of decompressed sections ---- */

/* Two LRU lists: the main one, filled first, and a probation list (a
 * sixteenth of the budget) that a section read once the main list is full
 * goes to; a hit there moves it to the main list. A scan over more columns
 * than the budget holds so keeps finding the part that fits (plain LRU
 * would evict every section just before its next read), and a section read
 * twice in a row (a trace lookup) is still kept. */
enum { SEG_NONE = 0, SEG_MAIN = 1, SEG_PROBATION = 2 };
#define CACHE_MIN_BUCKETS 4096

static struct {
	pthread_mutex_t mu;
	struct cbuf *head[3], *tail[3]; /* per segment, most recently used first */
	size_t seg_bytes[3];
	struct cbuf **bucket; /* hash chains: n_bucket, a power of two */
	size_t n_bucket, n_entries;
	size_t bytes, budget;
	uint64_t hits, misses;
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER, .budget = (size_t)256 << 20};

static atomic_uint_fast64_t next_uid = 1;

static void cbuf_release(struct cbuf *c)
{
	if (c && atomic_fetch_sub(&c->refs, 1) == 1)
		free(c);
}

static size_t cache_hash(uint64_t blk, uint64_t sec)
{
	uint64_t h = (blk * 0x9E3779B97F4A7C15ull) ^ (sec * 0xC2B2AE3D27D4EB4Full);
	return (size_t)(h ^ (h >> 29));
}

static size_t cache_slot(uint64_t blk, uint64_t sec)
{
	return cache_hash(blk, sec) & (cache.n_bucket - 1);
}

/* The main budget, the probation one being the rest. */
static size_t cache_main_budget(void)
{
	return cache.budget - cache.budget / 16;
}

static void seg_unlink(struct cbuf *c)
{
	int s = c->seg;
	if (c->prev)
		c->prev->next = c->next;
	else
		cache.head[s] = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		cache.tail[s] = c->prev;
	cache.seg_bytes[s] -= c->len;
}

static void seg_push_front(struct cbuf *c, int s)
{
	c->seg = s;
	c->prev = NULL;
	c->next = cache.head[s];
	if (cache.head[s])
		cache.head[s]->prev = c;
	cache.head[s] = c;
	if (!cache.tail[s])
		cache.tail[s] = c;
	cache.seg_bytes[s] += c->len;
}

/* Unlink c from its list and its bucket; the caller holds mu. */
static void cache_unlink(struct cbuf *c)
{
	seg_unlink(c);
	struct cbuf **pp = &cache.bucket[cache_slot(c->blk, c->sec)];
	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	cache.bytes -= c->len;
	cache.n_entries--;
	c->seg = SEG_NONE;
}

/* Evict the least recently used sections of segment s down to limit. */
static void seg_evict_to(int s, size_t limit)
{
	while (cache.seg_bytes[s] > limit && cache.tail[s]) {
		struct cbuf *c = cache.tail[s];
		cache_unlink(c);
		cbuf_release(c);
	}
}

static void cache_evict_to(size_t budget)
{
	size_t prob = budget / 16;
	seg_evict_to(SEG_PROBATION, prob);
	seg_evict_to(SEG_MAIN, budget - prob);
}

/* Double the hash table when it holds more entries than buckets (kept as
 * it is when the memory is not there: chains just get longer). */
static void cache_maybe_grow(void)
{
	if (cache.n_bucket && cache.n_entries < cache.n_bucket)
		return;
	size_t n = cache.n_bucket ? cache.n_bucket * 2 : CACHE_MIN_BUCKETS;
	struct cbuf **nb = try_calloc(n, sizeof *nb);
	if (!nb)
		return;
	for (size_t i = 0; i < cache.n_bucket; i++) {
		for (struct cbuf *c = cache.bucket[i], *nx; c; c = nx) {
			nx = c->hnext;
			size_t j = cache_hash(c->blk, c->sec) & (n - 1);
			c->hnext = nb[j];
			nb[j] = c;
		}
	}
	free(cache.bucket);
	cache.bucket = nb;
	cache.n_bucket = n;
}

static struct cbuf *cache_get(uint64_t blk, uint64_t sec)
{
	pthread_mutex_lock(&cache.mu);
	struct cbuf *c = cache.n_bucket ? cache.bucket[cache_slot(blk, sec)] : NULL;
	while (c && (c->blk != blk || c->sec != sec))
		c = c->hnext;
	if (c) {
		cache.hits++;
		atomic_fetch_add(&c->refs, 1);
		if (c != cache.head[SEG_MAIN]) { /* to the front of the main list */
			int from = c->seg;
			seg_unlink(c);
			seg_push_front(c, SEG_MAIN);
			if (from == SEG_PROBATION)
				seg_evict_to(SEG_MAIN, cache_main_budget());
		}
	} else {
		cache.misses++;
	}
	pthread_mutex_unlock(&cache.mu);
	return c;
}

/* Offer c (one reference held by the caller) to the cache; returns the
 * buffer to use (another thread's equal one if it got there first). */
static struct cbuf *cache_put(struct cbuf *c)
{
	pthread_mutex_lock(&cache.mu);
	struct cbuf *o = cache.n_bucket ? cache.bucket[cache_slot(c->blk, c->sec)] : NULL;
	while (o && (o->blk != c->blk || o->sec != c->sec))
		o = o->hnext;
	if (o) {
		atomic_fetch_add(&o->refs, 1);
		pthread_mutex_unlock(&cache.mu);
		cbuf_release(c);
		return o;
	}
	if (c->len <= cache.budget / 16 || (c->len <= cache.budget / 4 && cache.seg_bytes[SEG_MAIN] + c->len <= cache_main_budget())) {
		cache_maybe_grow();
		if (cache.n_bucket) {
			size_t slot = cache_slot(c->blk, c->sec);
			atomic_fetch_add(&c->refs, 1);
			c->hnext = cache.bucket[slot];
			cache.bucket[slot] = c;
			cache.bytes += c->len;
			cache.n_entries++;
			/* the main list while it has room, else probation */
			seg_push_front(c, cache.seg_bytes[SEG_MAIN] + c->len <= cache_main_budget() ? SEG_MAIN : SEG_PROBATION);
			cache_evict_to(cache.budget);
		}
	}
	pthread_mutex_unlock(&cache.mu);
	return c;
}

static void cache_purge_block(uint64_t blk)
{
	pthread_mutex_lock(&cache.mu);
	for (int s = SEG_MAIN; s <= SEG_PROBATION; s++) {
		for (struct cbuf *c = cache.head[s], *n; c; c = n) {
			n = c->next;
			if (c->blk == blk) {
				cache_unlink(c);
				cbuf_release(c);
			}
		}
	}
	pthread_mutex_unlock(&cache.mu);
}

void block_cache_set_budget(size_t bytes)
{
	pthread_mutex_lock(&cache.mu);
	cache.budget = bytes;
	cache_evict_to(bytes);
	pthread_mutex_unlock(&cache.mu);
}

size_t block_cache_default_budget(uint64_t memory_limit_bytes)
{
	uint64_t b = memory_limit_bytes / BLOCK_CACHE_SHARE;
	if (b < BLOCK_CACHE_MIN_BYTES)
		b = BLOCK_CACHE_MIN_BYTES;
	return b > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)b;
}

void block_cache_stats(size_t *bytes, uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_lock(&cache.mu);
	if (bytes)
		*bytes = cache.bytes;
	if (hits)
		*hits = cache.hits;
	if (misses)
		*misses = cache.misses;
	pthread_mutex_unlock(&cache.mu);
}

/* ---- sections ---- */

static int read_at(struct block *b, void *p, size_t n, uint64_t off)
{
	uint8_t *cur = p;
	while (n > 0) {
		ssize_t r = b->ops->pread(b->ops, b->fd, cur, n, (off_t)off);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return CLEW_ECORRUPT; /* the file shrank under us */
		cur += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* One zstd decompression context per thread (a context costs more to set
 * up than a small column does to decompress). */
static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;

static void dctx_free(void *p)
{
	ZSTD_freeDCtx(p);
}

static void dctx_init(void)
{
	pthread_key_create(&dctx_key, dctx_free);
}

static ZSTD_DCtx *dctx_get(void)
{
	pthread_once(&dctx_once, dctx_init);
	ZSTD_DCtx *d = pthread_getspecific(dctx_key);
	if (!d && (d = ZSTD_createDCtx()) && pthread_setspecific(dctx_key, d) != 0) {
		ZSTD_freeDCtx(d);
		d = NULL;
	}
	return d;
}

/* Section di from its stored bytes (already read): CRC-checked and
 * decompressed into a new buffer (offered to the cache when use_cache).
 * *out holds one reference. */
static int sec_decode(struct block *b, size_t di, const uint8_t *stored, int use_cache, struct cbuf **out,
		      char *err, size_t errlen)
{
	const struct blk_dirent *d = &b->dir[di];
	struct cbuf *c;
	*out = NULL;
	if (crc32c(0, stored, d->len) != d->crc)
		return bad(err, errlen, b->path, d->offset, "CRC mismatch in section %zu (%s, page %" PRIu32 ")", di,
			   d->kind == BLK_KIND_COLUMN ? blk_col_name(d->col) : "table", d->page);
	if (!(c = try_malloc(sizeof *c + (size_t)d->raw_len + 1)))
		return CLEW_ENOMEM;
	memset(c, 0, sizeof *c);
	atomic_init(&c->refs, 1);
	c->blk = b->uid;
	c->sec = di;
	c->len = d->raw_len;
	if (d->codec == BLK_CODEC_RAW) {
		if (d->len)
			memcpy(c->data, stored, d->len);
	} else {
		ZSTD_DCtx *dx = dctx_get();
		size_t z = dx ? ZSTD_decompressDCtx(dx, c->data, d->raw_len, stored, d->len)
			      : ZSTD_decompress(c->data, d->raw_len, stored, d->len);
		if (ZSTD_isError(z) || z != d->raw_len) {
			free(c);
			return bad(err, errlen, b->path, d->offset, "section %zu does not decompress to %" PRIu32 " bytes",
				   di, d->raw_len);
		}
	}
	*out = use_cache ? cache_put(c) : c;
	return 0;
}

/* Section di read, CRC-checked and decompressed (through the cache when
 * use_cache). *out holds one reference. */
static int sec_load(struct block *b, size_t di, int use_cache, struct cbuf **out, char *err, size_t errlen)
{
	const struct blk_dirent *d = &b->dir[di];
	uint8_t *stored;
	int rc;
	*out = NULL;
	if (use_cache && (*out = cache_get(b->uid, di)))
		return 0;
	if (!(stored = try_malloc((size_t)d->len + 1)))
		return CLEW_ENOMEM;
	if ((rc = read_at(b, stored, d->len, d->offset)) == 0)
		rc = sec_decode(b, di, stored, use_cache, out, err, errlen);
	else if (rc == CLEW_ECORRUPT)
		rc = bad(err, errlen, b->path, d->offset, "short read");
	free(stored);
	return rc;
}

/* Sections [first, first + n) (contiguous in the file) into out[]: those
 * the cache lacks are read with one pread and decoded. */
static int sec_load_run(struct block *b, size_t first, size_t n, int use_cache, struct cbuf **out, char *err,
			size_t errlen)
{
	size_t lo = n, hi = 0;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		out[i] = use_cache ? cache_get(b->uid, first + i) : NULL;
		if (!out[i]) {
			lo = i < lo ? i : lo;
			hi = i + 1;
		}
	}
	if (lo >= hi)
		return 0;
	uint64_t at = b->dir[first + lo].offset;
	size_t len = (size_t)(b->dir[first + hi - 1].offset + b->dir[first + hi - 1].len - at);
	uint8_t *stored = try_malloc(len + 1);
	if (!stored)
		return CLEW_ENOMEM;
	if ((rc = read_at(b, stored, len, at)) < 0) {
		if (rc == CLEW_ECORRUPT)
			rc = bad(err, errlen, b->path, at, "short read");
		goto out;
	}
	for (size_t i = lo; i < hi && rc == 0; i++)
		if (!out[i])
			rc = sec_decode(b, first + i, stored + (b->dir[first + i].offset - at), use_cache, &out[i], err,
					errlen);
out:
	free(stored);
	return rc;
}

/* ---- open ---- */

static void block_free(struct block *b)
{
	if (!b)
		return;
	cache_purge_block(b->uid);
	if (b->fd >= 0)
		b->ops->close(b->ops, b->fd);
	if (atomic_load(&b->deleted))
		b->ops->unlink(b->ops, b->path);
	cbuf_release(b->res);
	cbuf_release(b->scopes);
	free(b->res_off);
	free(b->scope_off);
	free(b->scope_res);
	free(b->filter);
	free(b->pages);
	free(b->dir);
	free(b->path);
	free(b);
}

static int parse_dir(struct block *b, const uint8_t *p, uint64_t dir_off, uint32_t n_pages, char *err,
		     size_t errlen)
{
	uint64_t expect = BLK_HDR_BYTES;
	for (size_t i = 0; i < b->n_dir; i++) {
		const uint8_t *e = p + i * BLK_DIR_ENTRY_BYTES;
		struct blk_dirent *d = &b->dir[i];
		d->offset = blk_le64(e);
		d->len = blk_le32(e + 8);
		d->raw_len = blk_le32(e + 12);
		d->crc = blk_le32(e + 16);
		d->kind = e[20];
		d->codec = e[21];
		d->col = (uint16_t)(e[22] | e[23] << 8);
		d->page = blk_le32(e + 24);
		uint64_t at = dir_off + i * BLK_DIR_ENTRY_BYTES;
		size_t n_cols = (size_t)n_pages * b->ncols;
		uint8_t want_kind = i < n_cols ? BLK_KIND_COLUMN : (uint8_t)(BLK_KIND_RESOURCES + (i - n_cols));
		uint32_t want_page = i < n_cols ? (uint32_t)(i / b->ncols) : BLK_PAGE_NONE;
		uint16_t want_col = i < n_cols ? (uint16_t)(i % b->ncols) : 0;
		if (d->offset != expect)
			return bad(err, errlen, b->path, at, "section %zu at offset %" PRIu64 ", expected %" PRIu64, i,
				   d->offset, expect);
		if (d->kind != want_kind || d->page != want_page || d->col != want_col)
			return bad(err, errlen, b->path, at, "section %zu has kind %u page %" PRIu32 " column %u", i,
				   d->kind, d->page, d->col);
		if (d->codec > BLK_CODEC_ZSTD || d->raw_len > BLK_MAX_SECTION ||
		    (d->codec == BLK_CODEC_RAW && d->len != d->raw_len))
			return bad(err, errlen, b->path, at, "section %zu has bad codec or lengths", i);
		expect += d->len;
	}
	if (expect != dir_off)
		return bad(err, errlen, b->path, dir_off, "sections end at %" PRIu64 ", directory at %" PRIu64, expect,
			   dir_off);
	return 0;
}

static int parse_meta(struct block *b, const struct cbuf *m, uint32_t n_pages, char *err, size_t errlen)
{
	uint64_t at = b->dir[b->n_dir - 1].offset;
	const uint8_t *p = m->data;
	if (m->len != BLK_META_FIXED + (size_t)n_pages * BLK_PAGE_ENTRY)
		return bad(err, errlen, b->path, at, "meta of %zu bytes for %" PRIu32 " pages", m->len, n_pages);
	struct block_info *in = &b->info;
	in->spans = blk_le64(p);
	in->traces = blk_le64(p + 8);
	in->pages = blk_le32(p + 16);
	in->resources = blk_le32(p + 20);
	in->scopes = blk_le32(p + 24);
	in->min_start_ns = (int64_t)blk_le64(p + 32);
	in->max_start_ns = (int64_t)blk_le64(p + 40);
	in->max_end_ns = (int64_t)blk_le64(p + 48);
	in->min_dur_ns = (int64_t)blk_le64(p + 56);
	in->max_dur_ns = (int64_t)blk_le64(p + 64);
	memcpy(in->min_trace_id, p + 72, 16);
	memcpy(in->max_trace_id, p + 88, 16);
	in->distinct_names = blk_le64(p + 104);
	in->distinct_keys = blk_le64(p + 112);
	in->distinct_values = blk_le64(p + 120);
	b->filter_bits = blk_le32(p + 132);
	if (blk_le32(p + 28) != b->ncols || in->pages != n_pages)
		return bad(err, errlen, b->path, at, "meta disagrees with the directory");
	if (!(b->pages = try_calloc((size_t)n_pages + 1, sizeof *b->pages)))
		return CLEW_ENOMEM;
	uint64_t rows = 0, traces = 0;
	for (uint32_t i = 0; i < n_pages; i++) {
		const uint8_t *e = p + BLK_META_FIXED + (size_t)i * BLK_PAGE_ENTRY;
		struct block_page_info *pi = &b->pages[i];
		memcpy(pi->first_trace_id, e, 16);
		memcpy(pi->last_trace_id, e + 16, 16);
		pi->first_row = blk_le64(e + 32);
		pi->spans = blk_le32(e + 40);
		pi->traces = blk_le32(e + 44);
		pi->min_start_ns = (int64_t)blk_le64(e + 48);
		pi->max_start_ns = (int64_t)blk_le64(e + 56);
		pi->min_dur_ns = (int64_t)blk_le64(e + 64);
		pi->max_dur_ns = (int64_t)blk_le64(e + 72);
		for (uint32_t k = 0; k < BLOCK_DED_MAX && b->ncols > BLK_COLS_V1; k++) {
			/* a dedicated column exactly where a key is named, each key once */
			pi->ded_key[k] = blk_le32(e + 80 + 4 * k);
			bool has_col = b->dir[(size_t)i * b->ncols + BCOL_SPAN_DED + k].raw_len != 0, dup = false;
			for (uint32_t j = 0; j < k; j++)
				dup |= pi->ded_key[k] && pi->ded_key[j] == pi->ded_key[k];
			if (dup || has_col != (pi->ded_key[k] != 0))
				return bad(err, errlen, b->path, at, "page %" PRIu32 " names dedicated columns it lacks", i);
		}
		if (pi->first_row != rows || pi->traces == 0 || pi->spans < pi->traces ||
		    memcmp(pi->first_trace_id, pi->last_trace_id, 16) > 0 ||
		    (i > 0 && memcmp(b->pages[i - 1].last_trace_id, pi->first_trace_id, 16) >= 0))
			return bad(err, errlen, b->path, at, "page %" PRIu32 " of the page table is inconsistent", i);
		rows += pi->spans;
		traces += pi->traces;
	}
	if (rows != in->spans || traces != in->traces || (n_pages && (memcmp(in->min_trace_id, b->pages[0].first_trace_id, 16) ||
								     memcmp(in->max_trace_id, b->pages[n_pages - 1].last_trace_id, 16))))
		return bad(err, errlen, b->path, at, "meta totals disagree with the page table");
	return 0;
}

/* Offsets of the n entries of a table section, validating each. */
static int parse_table(struct block *b, const struct cbuf *t, int scopes, uint32_t n_expect, uint64_t **offs,
		       uint64_t at, char *err, size_t errlen)
{
	struct blk_cur c = {t->data, t->data + t->len, 0};
	uint64_t n = blk_rd_varint(&c);
	if (c.err || n != n_expect)
		return bad(err, errlen, b->path, at, "table holds %" PRIu64 " entries, meta says %" PRIu32, n, n_expect);
	if (!(*offs = try_calloc((size_t)n + 1, sizeof **offs)))
		return CLEW_ENOMEM;
	if (scopes && !(b->scope_res = try_calloc((size_t)n + 1, sizeof *b->scope_res)))
		return CLEW_ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		(*offs)[i] = (uint64_t)(c.p - t->data);
		int rc;
		if (scopes) {
			struct scope sc;
			rc = blk_dec_scope(&c, NULL, &sc);
			if (rc == 0 && sc.resource >= b->info.resources)
				rc = CLEW_ECORRUPT;
			b->scope_res[i] = sc.resource;
		} else {
			struct resource r;
			rc = blk_dec_resource(&c, NULL, &r);
		}
		if (rc == CLEW_ENOMEM)
			return rc;
		if (rc < 0)
			return bad(err, errlen, b->path, at, "%s %" PRIu64 " does not decode", scopes ? "scope" : "resource",
				   i);
	}
	(*offs)[n] = (uint64_t)(c.p - t->data);
	if (c.p != c.end)
		return bad(err, errlen, b->path, at, "trailing bytes after the table");
	return 0;
}

static struct block *open_impl(struct fileops *ops, const char *path, int *rc_out, char *err, size_t errlen,
			       uint64_t *bad_off)
{
	struct block *b = xcalloc(1, sizeof *b);
	uint8_t hdr[BLK_HDR_BYTES], tail[BLK_TAIL_BYTES];
	uint8_t *dirb = NULL;
	struct cbuf *meta = NULL, *filt = NULL;
	int rc;
	if (err && errlen)
		err[0] = 0;
	b->ops = ops;
	b->path = xstrdup(path);
	b->uid = atomic_fetch_add(&next_uid, 1);
	atomic_init(&b->refs, 1);
	atomic_init(&b->deleted, 0);
	*bad_off = 0;
	if ((b->fd = ops->open(ops, path, O_RDONLY, 0)) < 0) {
		rc = b->fd;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, err_str(rc));
		goto out;
	}
	off_t size;
	if ((rc = ops->file_size(ops, b->fd, &size)) < 0)
		goto out;
	b->file_size = (uint64_t)size;
	if (b->file_size < BLK_HDR_BYTES + BLK_TAIL_BYTES) {
		*bad_off = b->file_size;
		rc = bad(err, errlen, path, b->file_size, "file of %" PRIu64 " bytes is too short for a block",
			 b->file_size);
		goto out;
	}
	if ((rc = read_at(b, hdr, sizeof hdr, 0)) < 0)
		goto out;
	if (memcmp(hdr, BLK_MAGIC, 8) != 0 || blk_le32(hdr + 12) != crc32c(0, hdr, 12)) {
		rc = bad(err, errlen, path, 0, "bad header magic or CRC");
		goto out;
	}
	b->ncols = blk_le32(hdr + 8) == 1 ? BLK_COLS_V1 : BCOL_COUNT;
	if (blk_le32(hdr + 8) != BLK_VERSION && blk_le32(hdr + 8) != 1) {
		rc = bad(err, errlen, path, 8, "unknown block version %" PRIu32, blk_le32(hdr + 8));
		goto out;
	}
	uint64_t tail_at = b->file_size - BLK_TAIL_BYTES;
	if ((rc = read_at(b, tail, sizeof tail, tail_at)) < 0)
		goto out;
	if (memcmp(tail + 32, BLK_TAIL_MAGIC, 8) != 0 || blk_le32(tail + 28) != crc32c(0, tail, 28)) {
		*bad_off = tail_at;
		rc = bad(err, errlen, path, tail_at, "bad footer magic or CRC (truncated file?)");
		goto out;
	}
	uint64_t dir_off = blk_le64(tail), dir_len = blk_le64(tail + 8);
	uint32_t n_dir = blk_le32(tail + 16), n_pages = blk_le32(tail + 24);
	if (dir_len != (uint64_t)n_dir * BLK_DIR_ENTRY_BYTES || dir_off < BLK_HDR_BYTES || dir_off > tail_at ||
	    dir_off + dir_len != tail_at || n_dir != (uint64_t)n_pages * b->ncols + BLK_BLOCK_SECTIONS) {
		*bad_off = tail_at;
		rc = bad(err, errlen, path, tail_at, "footer describes an impossible directory");
		goto out;
	}
	*bad_off = dir_off;
	if (!(dirb = try_malloc((size_t)dir_len + 1)) || !(b->dir = try_calloc(n_dir, sizeof *b->dir))) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	b->n_dir = n_dir;
	if ((rc = read_at(b, dirb, (size_t)dir_len, dir_off)) < 0)
		goto out;
	if (crc32c(0, dirb, (size_t)dir_len) != blk_le32(tail + 20)) {
		rc = bad(err, errlen, path, dir_off, "directory CRC mismatch");
		goto out;
	}
	if ((rc = parse_dir(b, dirb, dir_off, n_pages, err, errlen)) < 0)
		goto out;
	size_t first_tab = (size_t)n_pages * b->ncols;
	*bad_off = b->dir[n_dir - 1].offset;
	if ((rc = sec_load(b, n_dir - 1, 0, &meta, err, errlen)) < 0 ||
	    (rc = parse_meta(b, meta, n_pages, err, errlen)) < 0)
		goto out;
	*bad_off = b->dir[first_tab + 2].offset;
	if ((rc = sec_load(b, first_tab + 2, 0, &filt, err, errlen)) < 0)
		goto out;
	if (filt->len == 0 || filt->len % 32) {
		rc = bad(err, errlen, path, *bad_off, "filter of %zu bytes", filt->len);
		goto out;
	}
	b->filter_blocks = filt->len / 32;
	if (!(b->filter = try_malloc(filt->len))) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	memcpy(b->filter, filt->data, filt->len);
	*bad_off = b->dir[first_tab].offset;
	if ((rc = sec_load(b, first_tab, 0, &b->res, err, errlen)) < 0 ||
	    (rc = parse_table(b, b->res, 0, b->info.resources, &b->res_off, *bad_off, err, errlen)) < 0)
		goto out;
	*bad_off = b->dir[first_tab + 1].offset;
	if ((rc = sec_load(b, first_tab + 1, 0, &b->scopes, err, errlen)) < 0 ||
	    (rc = parse_table(b, b->scopes, 1, b->info.scopes, &b->scope_off, *bad_off, err, errlen)) < 0)
		goto out;
	b->info.file_bytes = b->file_size;
	for (size_t i = 0; i < first_tab; i++) {
		b->info.column_bytes[b->dir[i].col] += b->dir[i].len;
		b->info.column_raw_bytes[b->dir[i].col] += b->dir[i].raw_len;
	}
	rc = 0;
out:
	free(dirb);
	cbuf_release(meta);
	cbuf_release(filt);
	*rc_out = rc;
	if (rc < 0) {
		if (rc != CLEW_ECORRUPT && err && errlen && !err[0])
			snprintf(err, errlen, "%s: %s", path, err_str(rc));
		block_free(b);
		return NULL;
	}
	return b;
}

struct block *block_open(struct fileops *ops, const char *path, int *rc, char *err, size_t errlen)
{
	uint64_t off;
	return open_impl(ops, path, rc, err, errlen, &off);
}

void block_ref(struct block *b)
{
	atomic_fetch_add(&b->refs, 1);
}

void block_unref(struct block *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1)
		block_free(b);
}

void block_mark_deleted(struct block *b)
{
	atomic_store(&b->deleted, 1);
}

const char *block_path(const struct block *b)
{
	return b->path;
}

void block_get_info(const struct block *b, struct block_info *out)
{
	*out = b->info;
}

uint32_t block_pages(const struct block *b)
{
	return b->info.pages;
}

const struct block_page_info *block_page(const struct block *b, uint32_t p)
{
	return p < b->info.pages ? &b->pages[p] : NULL;
}

int block_may_contain(const struct block *b, const uint8_t trace_id[16])
{
	if (b->info.traces == 0 || memcmp(trace_id, b->info.min_trace_id, 16) < 0 ||
	    memcmp(trace_id, b->info.max_trace_id, 16) > 0)
		return 0;
	return blk_filter_has(b->filter, b->filter_blocks, trace_id);
}


/* ---- pages ---- */

struct dict {
	struct slice *s;
	uint32_t n;
};

/* A page being decoded: its columns, a cursor over each, its dictionaries,
 * and where decoded spans go. */
struct page_dec {
	struct block *b;
	uint32_t page;
	const struct block_page_info *pi;
	struct cbuf *col[BCOL_COUNT];
	struct blk_cur cur[BCOL_COUNT];
	struct dict dict[3];
	int bad_col;
	struct span_batch *out;
	uint32_t *scope_map, *res_map;
	/* what the walk saw, for block_check */
	int64_t min_start, max_start, min_dur, max_dur, max_end;
};

#define PD_FAIL(pd, c)                                                                                     \
	do {                                                                                               \
		(pd)->bad_col = (c);                                                                       \
		return CLEW_ECORRUPT;                                                                      \
	} while (0)

static void page_release(struct page_dec *pd)
{
	for (int i = 0; i < BCOL_COUNT; i++)
		cbuf_release(pd->col[i]);
	for (int i = 0; i < 3; i++)
		free(pd->dict[i].s);
	free(pd->scope_map);
	free(pd->res_map);
}

static uint64_t sec_offset(const struct block *b, uint32_t page, int col)
{
	return b->dir[(size_t)page * b->ncols + (size_t)col].offset;
}

static int parse_dict(struct page_dec *pd, int cls)
{
	int col = BCOL_DICT_NAMES + cls;
	struct blk_cur *c = &pd->cur[col];
	uint64_t n = blk_rd_varint(c);
	if (c->err || n > blk_left(c))
		PD_FAIL(pd, col);
	struct dict *d = &pd->dict[cls];
	if (!(d->s = try_malloc(((size_t)n + 1) * sizeof *d->s)))
		return CLEW_ENOMEM;
	d->n = (uint32_t)n;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t len = blk_rd_varint(c);
		if (c->err || len > blk_left(c))
			PD_FAIL(pd, col);
		d->s[i] = slice_make(blk_rd_bytes(c, (size_t)len), (size_t)len);
		if (i > 0) { /* strictly increasing: a dictionary is a sorted set */
			struct slice a = d->s[i - 1], b = d->s[i];
			size_t m = a.len < b.len ? a.len : b.len;
			int cmp = m ? memcmp(a.p, b.p, m) : 0;
			if (cmp > 0 || (cmp == 0 && a.len >= b.len))
				PD_FAIL(pd, col);
		}
	}
	if (c->p != c->end)
		PD_FAIL(pd, col);
	return 0;
}

/* Load every column of page p (CRC-checked) and parse its dictionaries. */
static int page_load(struct page_dec *pd, struct block *b, uint32_t p, int use_cache, char *err, size_t errlen)
{
	int rc;
	memset(pd, 0, sizeof *pd);
	pd->b = b;
	pd->page = p;
	pd->pi = &b->pages[p];
	pd->bad_col = -1;
	/* the generic columns: the dedicated ones repeat what they hold */
	if ((rc = sec_load_run(b, (size_t)p * b->ncols, BLK_COLS_V1, use_cache, pd->col, err, errlen)) < 0)
		return rc;
	for (int i = 0; i < BLK_COLS_V1; i++)
		pd->cur[i] = (struct blk_cur){pd->col[i]->data, pd->col[i]->data + pd->col[i]->len, 0};
	if (pd->col[BCOL_TRACE_ID]->len != (size_t)pd->pi->traces * 16)
		pd->bad_col = BCOL_TRACE_ID;
	else if (pd->col[BCOL_SPAN_ID]->len != (size_t)pd->pi->spans * 8)
		pd->bad_col = BCOL_SPAN_ID;
	else if (pd->col[BCOL_KIND_STATUS]->len != (size_t)pd->pi->spans * 2)
		pd->bad_col = BCOL_KIND_STATUS;
	for (int cls = 0; cls < 3 && pd->bad_col < 0; cls++)
		if ((rc = parse_dict(pd, cls)) == CLEW_ENOMEM)
			return rc;
	if (pd->bad_col >= 0)
		return bad(err, errlen, b->path, sec_offset(b, p, pd->bad_col), "page %" PRIu32 " column %s is malformed",
			   p, blk_col_name((unsigned)pd->bad_col));
	return 0;
}

static int rd_str(struct page_dec *pd, int col, int cls, struct slice *dst)
{
	struct blk_cur *c = &pd->cur[col];
	uint64_t v = blk_rd_varint(c);
	if (c->err || v >= pd->dict[cls].n)
		PD_FAIL(pd, col);
	if (!dst)
		return 0;
	struct slice s = pd->dict[cls].s[v];
	*dst = (struct slice){0};
	if (s.len) {
		void *cp = arena_memdup(pd->out->arena, s.p, s.len);
		if (!cp)
			return CLEW_ENOMEM;
		*dst = slice_make(cp, s.len);
	}
	return 0;
}

static int rd_u32(struct page_dec *pd, int col, uint32_t *out)
{
	uint64_t v = blk_rd_varint(&pd->cur[col]);
	if (pd->cur[col].err || v > UINT32_MAX)
		PD_FAIL(pd, col);
	*out = (uint32_t)v;
	return 0;
}

/* A count of items that each take at least min_bytes of column per_col. */
static int rd_count(struct page_dec *pd, int col, int per_col, size_t min_bytes, uint32_t *out)
{
	uint64_t v = blk_rd_varint(&pd->cur[col]);
	if (pd->cur[col].err || v > UINT32_MAX || v * min_bytes > blk_left(&pd->cur[per_col]))
		PD_FAIL(pd, col);
	*out = (uint32_t)v;
	return 0;
}

static int rd_attrs(struct page_dec *pd, int g, int m, struct attr_list *out)
{
	uint32_t n;
	int rc;
	struct arena *a = m ? pd->out->arena : NULL;
	if ((rc = rd_count(pd, g + BATTR_COUNT, g + BATTR_TYPE, 1, &n)) < 0)
		return rc;
	struct attr *items = NULL;
	if (m && n && !(items = arena_array(a, n, sizeof *items)))
		return CLEW_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct attr scratch, *at = items ? &items[i] : &scratch;
		memset(at, 0, sizeof *at);
		if ((rc = rd_str(pd, g + BATTR_KEY, 1, m ? &at->key : NULL)) < 0)
			return rc;
		uint8_t t = blk_rd_u8(&pd->cur[g + BATTR_TYPE]);
		if (pd->cur[g + BATTR_TYPE].err || t > ANY_BYTES)
			PD_FAIL(pd, g + BATTR_TYPE);
		at->value.type = t;
		switch (t) {
		case ANY_STRING:
			if ((rc = rd_str(pd, g + BATTR_STR, 2, m ? &at->value.u.str : NULL)) < 0)
				return rc;
			break;
		case ANY_BOOL: {
			uint8_t v = blk_rd_u8(&pd->cur[g + BATTR_BOOL]);
			if (pd->cur[g + BATTR_BOOL].err || v > 1)
				PD_FAIL(pd, g + BATTR_BOOL);
			at->value.u.b = v;
			break;
		}
		case ANY_INT:
			at->value.u.i = blk_unzigzag(blk_rd_varint(&pd->cur[g + BATTR_INT]));
			if (pd->cur[g + BATTR_INT].err)
				PD_FAIL(pd, g + BATTR_INT);
			break;
		case ANY_DOUBLE: {
			const uint8_t *p = blk_rd_bytes(&pd->cur[g + BATTR_DOUBLE], 8);
			if (!p)
				PD_FAIL(pd, g + BATTR_DOUBLE);
			uint64_t bits = blk_le64(p);
			memcpy(&at->value.u.d, &bits, 8);
			break;
		}
		case ANY_EMPTY:
			break;
		default: {
			struct blk_cur *c = &pd->cur[g + BATTR_OTHER];
			uint64_t len = blk_rd_varint(c);
			if (c->err || len > blk_left(c))
				PD_FAIL(pd, g + BATTR_OTHER);
			struct blk_cur sub = {c->p, c->p + len, 0};
			c->p += len;
			rc = blk_dec_any(&sub, a, &at->value, 1);
			if (rc == CLEW_ENOMEM)
				return rc;
			if (rc < 0 || sub.p != sub.end || at->value.type != t)
				PD_FAIL(pd, g + BATTR_OTHER);
			break;
		}
		}
	}
	if (out) {
		out->items = items;
		out->n = n;
	}
	return 0;
}

/* The output batch's index of block scope si, adding it (and its resource)
 * on first use. */
static int map_scope(struct page_dec *pd, uint32_t si, uint32_t *out)
{
	struct block *b = pd->b;
	struct span_batch *o = pd->out;
	int rc;
	if (pd->scope_map[si] != UINT32_MAX) {
		*out = pd->scope_map[si];
		return 0;
	}
	uint32_t ri = b->scope_res[si];
	if (pd->res_map[ri] == UINT32_MAX) {
		struct blk_cur c = {b->res->data + b->res_off[ri], b->res->data + b->res_off[ri + 1], 0};
		struct resource r;
		if ((rc = blk_dec_resource(&c, o->arena, &r)) < 0)
			return rc;
		struct resource *nr = span_batch_add_resource(o);
		if (!nr)
			return CLEW_ENOMEM;
		*nr = r;
		pd->res_map[ri] = o->n_resources - 1;
	}
	struct blk_cur c = {b->scopes->data + b->scope_off[si], b->scopes->data + b->scope_off[si + 1], 0};
	struct scope sc;
	if ((rc = blk_dec_scope(&c, o->arena, &sc)) < 0)
		return rc;
	struct scope *ns = span_batch_add_scope(o, pd->res_map[ri]);
	if (!ns)
		return CLEW_ENOMEM;
	sc.resource = pd->res_map[ri];
	*ns = sc;
	pd->scope_map[si] = *out = o->n_scopes - 1;
	return 0;
}

/* Decode the span at page row `row`, the i-th of a trace of n spans whose
 * first row is row0 and first start ts; materialise it (trace id tid)
 * into pd->out if m. */
static int rd_span(struct page_dec *pd, const uint8_t *tid, uint32_t row, uint32_t row0, uint32_t n, int64_t ts,
		   int m)
{
	struct span sp;
	int rc;
	memset(&sp, 0, sizeof sp);
	memcpy(sp.span_id, pd->col[BCOL_SPAN_ID]->data + (size_t)row * 8, 8);
	uint32_t scope;
	if ((rc = rd_u32(pd, BCOL_SCOPE, &scope)) < 0)
		return rc;
	if (scope >= pd->b->info.scopes)
		PD_FAIL(pd, BCOL_SCOPE);
	uint64_t pref = blk_rd_varint(&pd->cur[BCOL_PARENT]);
	if (pd->cur[BCOL_PARENT].err || (pref >= 2 && pref - 2 >= n))
		PD_FAIL(pd, BCOL_PARENT);
	if (pref == 1) {
		const uint8_t *p = blk_rd_bytes(&pd->cur[BCOL_PARENT_EXT], 8);
		if (!p)
			PD_FAIL(pd, BCOL_PARENT_EXT);
		memcpy(sp.parent_span_id, p, 8);
		sp.has_parent = true;
	} else if (pref >= 2) {
		memcpy(sp.parent_span_id, pd->col[BCOL_SPAN_ID]->data + (size_t)(row0 + pref - 2) * 8, 8);
		sp.has_parent = true;
	}
	if ((rc = rd_u32(pd, BCOL_FLAGS, &sp.flags)) < 0 ||
	    (rc = rd_str(pd, BCOL_TRACE_STATE, 2, m ? &sp.trace_state : NULL)) < 0 ||
	    (rc = rd_str(pd, BCOL_NAME, 0, m ? &sp.name : NULL)) < 0)
		return rc;
	sp.kind = pd->col[BCOL_KIND_STATUS]->data[(size_t)row * 2];
	sp.status_code = pd->col[BCOL_KIND_STATUS]->data[(size_t)row * 2 + 1];
	if ((rc = rd_str(pd, BCOL_STATUS_MSG, 2, m ? &sp.status_message : NULL)) < 0)
		return rc;
	int64_t d_start = blk_unzigzag(blk_rd_varint(&pd->cur[BCOL_START]));
	if (pd->cur[BCOL_START].err)
		PD_FAIL(pd, BCOL_START);
	int64_t dur = blk_unzigzag(blk_rd_varint(&pd->cur[BCOL_DURATION]));
	if (pd->cur[BCOL_DURATION].err)
		PD_FAIL(pd, BCOL_DURATION);
	sp.start_unix_ns = (int64_t)((uint64_t)ts + (uint64_t)d_start);
	sp.end_unix_ns = (int64_t)((uint64_t)sp.start_unix_ns + (uint64_t)dur);
	if (sp.start_unix_ns < pd->min_start)
		pd->min_start = sp.start_unix_ns;
	if (sp.start_unix_ns > pd->max_start)
		pd->max_start = sp.start_unix_ns;
	if (dur < pd->min_dur)
		pd->min_dur = dur;
	if (dur > pd->max_dur)
		pd->max_dur = dur;
	if (sp.end_unix_ns > pd->max_end)
		pd->max_end = sp.end_unix_ns;
	if ((rc = rd_u32(pd, BCOL_DROPPED, &sp.dropped_attrs)) < 0 ||
	    (rc = rd_u32(pd, BCOL_DROPPED, &sp.dropped_events)) < 0 ||
	    (rc = rd_u32(pd, BCOL_DROPPED, &sp.dropped_links)) < 0)
		return rc;
	if ((rc = rd_attrs(pd, BCOL_SPAN_ATTR, m, &sp.attrs)) < 0)
		return rc;
	struct arena *a = pd->out ? pd->out->arena : NULL;
	uint32_t ne, nl;
	if ((rc = rd_count(pd, BCOL_EV_COUNT, BCOL_EV_TIME, 1, &ne)) < 0)
		return rc;
	if (m && ne && !(sp.events = arena_array(a, ne, sizeof *sp.events)))
		return CLEW_ENOMEM;
	for (uint32_t i = 0; i < ne; i++) {
		struct span_event scratch, *ev = sp.events ? &sp.events[i] : &scratch;
		memset(ev, 0, sizeof *ev);
		int64_t dt = blk_unzigzag(blk_rd_varint(&pd->cur[BCOL_EV_TIME]));
		if (pd->cur[BCOL_EV_TIME].err)
			PD_FAIL(pd, BCOL_EV_TIME);
		ev->time_unix_ns = (int64_t)((uint64_t)sp.start_unix_ns + (uint64_t)dt);
		if ((rc = rd_str(pd, BCOL_EV_NAME, 0, m ? &ev->name : NULL)) < 0 ||
		    (rc = rd_u32(pd, BCOL_EV_DROPPED, &ev->dropped_attrs)) < 0 ||
		    (rc = rd_attrs(pd, BCOL_EV_ATTR, m, &ev->attrs)) < 0)
			return rc;
	}
	sp.n_events = ne;
	if ((rc = rd_count(pd, BCOL_LN_COUNT, BCOL_LN_TRACE_ID, 16, &nl)) < 0)
		return rc;
	if (m && nl && !(sp.links = arena_array(a, nl, sizeof *sp.links)))
		return CLEW_ENOMEM;
	for (uint32_t i = 0; i < nl; i++) {
		struct span_link scratch, *ln = sp.links ? &sp.links[i] : &scratch;
		memset(ln, 0, sizeof *ln);
		const uint8_t *ltid = blk_rd_bytes(&pd->cur[BCOL_LN_TRACE_ID], 16);
		const uint8_t *lsid = blk_rd_bytes(&pd->cur[BCOL_LN_SPAN_ID], 8);
		if (!ltid)
			PD_FAIL(pd, BCOL_LN_TRACE_ID);
		if (!lsid)
			PD_FAIL(pd, BCOL_LN_SPAN_ID);
		memcpy(ln->trace_id, ltid, 16);
		memcpy(ln->span_id, lsid, 8);
		if ((rc = rd_str(pd, BCOL_LN_STATE, 2, m ? &ln->trace_state : NULL)) < 0 ||
		    (rc = rd_u32(pd, BCOL_LN_FLAGS, &ln->flags)) < 0 ||
		    (rc = rd_u32(pd, BCOL_LN_DROPPED, &ln->dropped_attrs)) < 0 ||
		    (rc = rd_attrs(pd, BCOL_LN_ATTR, m, &ln->attrs)) < 0)
			return rc;
	}
	sp.n_links = nl;
	if (!m)
		return 0;
	uint32_t oscope;
	if ((rc = map_scope(pd, scope, &oscope)) < 0)
		return rc;
	struct span *o = span_batch_add_span(pd->out, oscope);
	if (!o)
		return CLEW_ENOMEM;
	sp.scope = oscope;
	memcpy(sp.trace_id, tid, 16);
	*o = sp;
	return 0;
}

/* Walk traces [0, t_to) of the page, materialising those from t_from on
 * into pd->out (when set). With full, also check the page is consumed to
 * its last byte. */
static int page_walk(struct page_dec *pd, uint32_t t_from, uint32_t t_to, int full)
{
	const struct block_page_info *pi = pd->pi;
	int rc;
	uint32_t rows = 0;
	pd->min_start = pd->min_dur = INT64_MAX;
	pd->max_start = pd->max_dur = pd->max_end = INT64_MIN;
	if (pd->out) {
		uint32_t ns = pd->b->info.scopes, nr = pd->b->info.resources;
		pd->scope_map = try_malloc(((size_t)ns + 1) * sizeof(uint32_t));
		pd->res_map = try_malloc(((size_t)nr + 1) * sizeof(uint32_t));
		if (!pd->scope_map || !pd->res_map)
			return CLEW_ENOMEM;
		memset(pd->scope_map, 0xff, ((size_t)ns + 1) * sizeof(uint32_t));
		memset(pd->res_map, 0xff, ((size_t)nr + 1) * sizeof(uint32_t));
	}
	for (uint32_t t = 0; t < t_to; t++) {
		uint32_t n;
		if ((rc = rd_u32(pd, BCOL_TRACE_NSPANS, &n)) < 0)
			return rc;
		if (n == 0 || n > pi->spans - rows)
			PD_FAIL(pd, BCOL_TRACE_NSPANS);
		int64_t ts = blk_unzigzag(blk_rd_varint(&pd->cur[BCOL_TRACE_START]));
		if (pd->cur[BCOL_TRACE_START].err)
			PD_FAIL(pd, BCOL_TRACE_START);
		ts = (int64_t)((uint64_t)ts + (uint64_t)pd->b->info.min_start_ns);
		int m = pd->out && t >= t_from;
		const uint8_t *tid = pd->col[BCOL_TRACE_ID]->data + (size_t)t * 16;
		for (uint32_t i = 0; i < n; i++)
			if ((rc = rd_span(pd, tid, rows + i, rows, n, ts, m)) < 0)
				return rc;
		rows += n;
	}
	if (!full)
		return 0;
	if (rows != pi->spans)
		PD_FAIL(pd, BCOL_TRACE_NSPANS);
	for (int i = 0; i < BLK_COLS_V1; i++) {
		if (i == BCOL_TRACE_ID || i == BCOL_SPAN_ID || i == BCOL_KIND_STATUS)
			continue; /* read by index; their lengths were checked */
		if (pd->cur[i].p != pd->cur[i].end)
			PD_FAIL(pd, i);
	}
	return 0;
}

static int walk_error(struct page_dec *pd, int rc, char *err, size_t errlen)
{
	if (rc != CLEW_ECORRUPT)
		return rc;
	int col = pd->bad_col >= 0 ? pd->bad_col : 0;
	return bad(err, errlen, pd->b->path, sec_offset(pd->b, pd->page, col),
		   "page %" PRIu32 " column %s does not decode", pd->page, blk_col_name((unsigned)col));
}

static void log_corrupt(int rc, const char *err)
{
	if (rc == CLEW_ECORRUPT)
		log_warn("%s", err);
}

uint32_t block_page_of_trace(const struct block *b, const uint8_t trace_id[16])
{
	uint32_t lo = 0, hi = b->info.pages; /* the last page whose first id <= trace_id */
	if (hi == 0)
		return UINT32_MAX;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (memcmp(b->pages[mid].first_trace_id, trace_id, 16) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	if (memcmp(trace_id, b->pages[lo].first_trace_id, 16) < 0 || memcmp(trace_id, b->pages[lo].last_trace_id, 16) > 0)
		return UINT32_MAX;
	return lo;
}

int block_get_trace(struct block *b, const uint8_t trace_id[16], struct span_batch *out)
{
	char err[512] = "";
	struct page_dec pd;
	struct cbuf *ids = NULL;
	int rc;
	if (!block_may_contain(b, trace_id))
		return CLEW_ENOTFOUND;
	uint32_t p = block_page_of_trace(b, trace_id);
	if (p == UINT32_MAX)
		return CLEW_ENOTFOUND;
	if ((rc = sec_load(b, (size_t)p * b->ncols + BCOL_TRACE_ID, 1, &ids, err, sizeof err)) < 0) {
		log_corrupt(rc, err);
		return rc;
	}
	uint32_t nt = b->pages[p].traces;
	if (ids->len != (size_t)nt * 16) {
		cbuf_release(ids);
		rc = bad(err, sizeof err, b->path, sec_offset(b, p, BCOL_TRACE_ID), "trace ids of page %" PRIu32, p);
		log_corrupt(rc, err);
		return rc;
	}
	uint32_t a = 0, z = nt;
	while (a < z) {
		uint32_t mid = a + (z - a) / 2;
		if (memcmp(ids->data + (size_t)mid * 16, trace_id, 16) < 0)
			a = mid + 1;
		else
			z = mid;
	}
	int found = a < nt && memcmp(ids->data + (size_t)a * 16, trace_id, 16) == 0;
	cbuf_release(ids);
	if (!found)
		return CLEW_ENOTFOUND;
	if ((rc = page_load(&pd, b, p, 1, err, sizeof err)) < 0)
		goto out;
	pd.out = out;
	if ((rc = page_walk(&pd, a, a + 1, 0)) < 0)
		rc = walk_error(&pd, rc, err, sizeof err);
out:
	page_release(&pd);
	log_corrupt(rc, err);
	return rc;
}

int block_read_page(struct block *b, uint32_t p, struct span_batch *out)
{
	char err[512] = "";
	struct page_dec pd;
	int rc;
	if (p >= b->info.pages)
		return CLEW_EINVAL;
	if ((rc = page_load(&pd, b, p, 1, err, sizeof err)) < 0)
		goto out;
	pd.out = out;
	if ((rc = page_walk(&pd, 0, b->pages[p].traces, 1)) < 0)
		rc = walk_error(&pd, rc, err, sizeof err);
out:
	page_release(&pd);
	log_corrupt(rc, err);
	return rc;
}

int block_read_column(struct block *b, uint32_t p, enum block_col col, uint8_t **data, size_t *len)
{
	char err[512] = "";
	struct cbuf *c;
	int rc;
	if (p >= b->info.pages || (unsigned)col >= b->ncols)
		return CLEW_EINVAL;
	if ((rc = sec_load(b, (size_t)p * b->ncols + col, 1, &c, err, sizeof err)) < 0) {
		log_corrupt(rc, err);
		return rc;
	}
	*data = try_malloc(c->len + 1);
	if (!*data) {
		cbuf_release(c);
		return CLEW_ENOMEM;
	}
	memcpy(*data, c->data, c->len);
	*len = c->len;
	cbuf_release(c);
	return 0;
}

int block_page_dict_has(struct block *b, uint32_t p, enum block_col dict, struct slice s)
{
	char err[512] = "";
	struct page_dec pd;
	int rc;
	if (p >= b->info.pages || dict < BCOL_DICT_NAMES || dict > BCOL_DICT_VALUES)
		return CLEW_EINVAL;
	memset(&pd, 0, sizeof pd);
	pd.b = b;
	pd.page = p;
	if ((rc = sec_load(b, (size_t)p * b->ncols + dict, 1, &pd.col[dict], err, sizeof err)) < 0)
		goto out;
	pd.cur[dict] = (struct blk_cur){pd.col[dict]->data, pd.col[dict]->data + pd.col[dict]->len, 0};
	int cls = dict - BCOL_DICT_NAMES;
	if ((rc = parse_dict(&pd, cls)) < 0) {
		rc = walk_error(&pd, rc, err, sizeof err);
		goto out;
	}
	uint32_t lo = 0, hi = pd.dict[cls].n;
	rc = 0;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct slice e = pd.dict[cls].s[mid];
		size_t m = e.len < s.len ? e.len : s.len;
		int cmp = m ? memcmp(e.p, s.p, m) : 0;
		if (cmp == 0)
			cmp = (e.len > s.len) - (e.len < s.len);
		if (cmp == 0) {
			rc = 1;
			break;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
out:
	page_release(&pd);
	log_corrupt(rc, err);
	return rc;
}

/* ---- check ---- */

static int check_pages(struct block *b, char *err, size_t errlen, uint64_t *bad_off)
{
	struct page_dec pd;
	int rc = 0;
	const struct block_info *in = &b->info;
	int64_t min_start = INT64_MAX, max_start = INT64_MIN, min_dur = INT64_MAX, max_dur = INT64_MIN,
		max_end = INT64_MIN;
	const uint8_t *prev = NULL;
	uint8_t prev_id[16];
	for (uint32_t p = 0; p < in->pages; p++) {
		const struct block_page_info *pi = &b->pages[p];
		*bad_off = sec_offset(b, p, 0);
		if ((rc = page_load(&pd, b, p, 0, err, errlen)) < 0)
			goto page_out;
		if ((rc = page_walk(&pd, 0, pi->traces, 1)) < 0) {
			*bad_off = sec_offset(b, p, pd.bad_col >= 0 ? pd.bad_col : 0);
			rc = walk_error(&pd, rc, err, errlen);
			goto page_out;
		}
		*bad_off = sec_offset(b, p, BCOL_TRACE_ID);
		for (uint32_t t = 0; t < pi->traces; t++) {
			const uint8_t *id = pd.col[BCOL_TRACE_ID]->data + (size_t)t * 16;
			if (prev && memcmp(prev, id, 16) >= 0) {
				rc = bad(err, errlen, b->path, *bad_off, "trace ids not sorted in page %" PRIu32, p);
				goto page_out;
			}
			if (!blk_filter_has(b->filter, b->filter_blocks, id)) {
				*bad_off = b->dir[(size_t)in->pages * b->ncols + 2].offset;
				rc = bad(err, errlen, b->path, *bad_off, "filter lacks a trace id of page %" PRIu32, p);
				goto page_out;
			}
			memcpy(prev_id, id, 16);
			prev = prev_id;
		}
		if (memcmp(pd.col[BCOL_TRACE_ID]->data, pi->first_trace_id, 16) ||
		    memcmp(prev_id, pi->last_trace_id, 16) || pd.min_start != pi->min_start_ns ||
		    pd.max_start != pi->max_start_ns || pd.min_dur != pi->min_dur_ns || pd.max_dur != pi->max_dur_ns) {
			*bad_off = b->dir[b->n_dir - 1].offset;
			rc = bad(err, errlen, b->path, *bad_off, "page table entry %" PRIu32 " disagrees with the page", p);
			goto page_out;
		}
		if ((rc = blk_ded_check(b, p, err, errlen, bad_off)) < 0)
			goto page_out;
		min_start = pd.min_start < min_start ? pd.min_start : min_start;
		max_start = pd.max_start > max_start ? pd.max_start : max_start;
		min_dur = pd.min_dur < min_dur ? pd.min_dur : min_dur;
		max_dur = pd.max_dur > max_dur ? pd.max_dur : max_dur;
		max_end = pd.max_end > max_end ? pd.max_end : max_end;
	page_out:
		page_release(&pd);
		if (rc < 0)
			return rc;
	}
	if (in->pages && (min_start != in->min_start_ns || max_start != in->max_start_ns || min_dur != in->min_dur_ns ||
			  max_dur != in->max_dur_ns || max_end != in->max_end_ns)) {
		*bad_off = b->dir[b->n_dir - 1].offset;
		return bad(err, errlen, b->path, *bad_off, "block statistics disagree with the pages");
	}
	if (b->filter_blocks != blk_filter_blocks(in->traces, b->filter_bits ? b->filter_bits : 16)) {
		*bad_off = b->dir[(size_t)in->pages * b->ncols + 2].offset;
		return bad(err, errlen, b->path, *bad_off, "filter size does not fit the trace count");
	}
	return 0;
}

int block_check(struct fileops *ops, const char *path, char *err, size_t errlen, uint64_t *bad_offset)
{
	uint64_t off = 0;
	int rc;
	struct block *b = open_impl(ops, path, &rc, err, errlen, &off);
	if (b) {
		rc = check_pages(b, err, errlen, &off);
		block_unref(b);
	}
	if (bad_offset)
		*bad_offset = rc == CLEW_ECORRUPT ? off : 0;
	return rc;
}

/* ---- hooks for block_cols.c ---- */

int blk_col_load(struct block *b, uint32_t p, unsigned col, struct blk_col *out, char *err, size_t errlen)
{
	struct cbuf *c = NULL;
	out->data = NULL;
	out->len = 0;
	out->ref = NULL;
	if (p >= b->info.pages || col >= b->ncols)
		return CLEW_EINVAL;
	int rc = sec_load(b, (size_t)p * b->ncols + col, 1, &c, err, errlen);
	if (rc < 0)
		return rc;
	out->data = c->data;
	out->len = c->len;
	out->ref = c;
	return 0;
}

void blk_col_release(struct blk_col *c)
{
	cbuf_release(c->ref);
	c->ref = NULL;
	c->data = NULL;
	c->len = 0;
}

uint64_t blk_col_offset(const struct block *b, uint32_t p, unsigned col)
{
	return sec_offset(b, p, (int)col);
}

int blk_col_corrupt(struct block *b, uint32_t p, unsigned col, char *err, size_t errlen)
{
	int rc = bad(err, errlen, b->path, sec_offset(b, p, (int)col), "page %" PRIu32 " column %s does not decode", p,
		     blk_col_name(col));
	log_corrupt(rc, err);
	return rc;
}

uint32_t block_scope_resource(const struct block *b, uint32_t si)
{
	return si < b->info.scopes ? b->scope_res[si] : 0;
}

int block_resource_attrs(const struct block *b, uint32_t ri, struct arena *a, struct attr_list *out)
{
	if (ri >= b->info.resources)
		return CLEW_EINVAL;
	struct blk_cur c = {b->res->data + b->res_off[ri], b->res->data + b->res_off[ri + 1], 0};
	struct resource r;
	int rc = blk_dec_resource(&c, a, &r);
	if (rc < 0)
		return rc;
	*out = r.attrs;
	return 0;
}

int block_scope_get(const struct block *b, uint32_t si, struct arena *a, struct scope *out)
{
	if (si >= b->info.scopes)
		return CLEW_EINVAL;
	struct blk_cur c = {b->scopes->data + b->scope_off[si], b->scopes->data + b->scope_off[si + 1], 0};
	return blk_dec_scope(&c, a, out);
}
