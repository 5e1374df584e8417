/* The block writer: spans come in from the head (or from compaction, which
 * reads old blocks page by page) and leave as one immutable block file.
 *
 * Design notes.
 * Buffering. block_writer_add copies each valid span into a compact record
 * (varints; every string interned once in the writer's string table and
 * referred to by id; nested values in the generic encoding) plus a 48-byte
 * index entry (trace id, span id, start, record offset, arrival number).
 * Resources and scopes are interned by their generic encoding, so equal
 * ones share one entry of the block's tables. Typical cost: ~150 bytes per
 * span plus the distinct strings.
 * Finish. The entries are sorted by (trace id, start, arrival) with a radix
 * sort (sort_ents); traces are cut into pages of whole traces once a page
 * holds page_spans spans. Each page is transcoded in one pass over its
 * records: string columns first hold writer-wide ids while the strings the
 * page uses are collected; those are sorted into the page's three
 * dictionaries and the id columns rewritten with dictionary ids; the keys
 * most spans carry get dedicated columns (fin_dedicated). Every column becomes one
 * section (zstd unless that does not shrink it), written at once to
 * dir/name.tmp; then the block tables, filter, meta, directory and tail;
 * fsync, rename to dir/name, fsync of dir.
 * States. OPEN (new, add) -> FINISHED (finish, success or not: a writer
 * finishes once). A failed add leaves a sticky error that finish returns. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/alloc.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/hash.h"
#include "store/block_int.h"

#define BW_BUF_MAX ((size_t)1 << 40)

/* An interning table: byte strings to dense ids. A slot holds the top 32
 * bits of the string's hash and its id + 1 (0 = empty), so a probe touches
 * the string bytes only on a likely match. */
struct bw_intern {
	struct buf bytes;
	uint64_t *off; /* n + 1 offsets into bytes */
	uint32_t n, cap;
	uint64_t *slots;
	uint32_t mask;
};

enum { CLS_NAMES = 0, CLS_KEYS = 1, CLS_VALUES = 2, CLS_N = 3 };

struct bw_ent {
	uint8_t trace_id[16];
	uint8_t span_id[8];
	int64_t start;
	uint64_t off; /* into recs */
	uint32_t seq;
};

struct block_writer {
	struct block_writer_options opts;
	int err;
	int finished;
	struct bw_intern strs[CLS_N]; /* one per dictionary: names and keys stay small and hot */
	struct bw_intern res, scopes;
	struct buf recs;
	struct bw_ent *ents;
	uint64_t n_ents, cap_ents;
	struct buf scratch;
	uint32_t *res_map, *scope_map; /* per add: batch index -> writer index */
};

/* ---- interning ---- */

static size_t intern_mem(const struct bw_intern *t)
{
	return t->bytes.cap + (size_t)t->cap * 8 + ((size_t)t->mask + 1) * 8;
}

static struct slice intern_str(const struct bw_intern *t, uint32_t id)
{
	return slice_make(t->bytes.p + t->off[id], (size_t)(t->off[id + 1] - t->off[id]));
}

static inline uint64_t bw_ld64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t bw_mix(uint64_t a, uint64_t b)
{
	__uint128_t m = (__uint128_t)(a ^ 0x9E3779B97F4A7C15ull) * (b ^ 0xC2B2AE3D27D4EB4Full);
	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* The table hash: inline for strings of up to 16 bytes (most keys and
 * values), xxHash past that. Only this process sees it. */
static inline uint64_t bw_hash(const uint8_t *p, size_t n)
{
	uint64_t a, b;
	if (n >= 8 && n <= 16) {
		a = bw_ld64(p);
		b = bw_ld64(p + n - 8);
	} else if (n >= 4 && n < 8) {
		uint32_t x, y;
		memcpy(&x, p, 4);
		memcpy(&y, p + n - 4, 4);
		a = x;
		b = y;
	} else if (n > 0 && n < 4) {
		a = (uint64_t)p[0] << 16 | (uint64_t)p[n / 2] << 8 | p[n - 1];
		b = 0;
	} else if (n == 0) {
		a = b = 0;
	} else {
		return hash64(p, n);
	}
	return bw_mix(a ^ (uint64_t)n, b + (uint64_t)n);
}

static inline int bw_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n >= 8 && n <= 16)
		return bw_ld64(a) == bw_ld64(b) && bw_ld64(a + n - 8) == bw_ld64(b + n - 8);
	if (n > 16)
		return memcmp(a, b, n) == 0;
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

static int intern_grow_slots(struct bw_intern *t)
{
	uint32_t nslots = t->mask ? (t->mask + 1) * 2 : 1024;
	uint64_t *s = try_calloc(nslots, sizeof *s);
	if (!s)
		return CLEW_ENOMEM;
	for (uint32_t id = 0; id < t->n; id++) {
		struct slice str = intern_str(t, id);
		uint64_t h = bw_hash(str.p, str.len);
		uint32_t i = (uint32_t)h & (nslots - 1);
		while (s[i])
			i = (i + 1) & (nslots - 1);
		s[i] = (h & 0xffffffff00000000ull) | (id + 1);
	}
	free(t->slots);
	t->slots = s;
	t->mask = nslots - 1;
	return 0;
}

/* The id of s in t, adding it when new; 0 or CLEW_ENOMEM. */
static inline int intern(struct bw_intern *t, struct slice s, uint32_t *id)
{
	if (__builtin_expect(!t->slots || (uint64_t)t->n * 2 >= (uint64_t)t->mask + 1, 0) && intern_grow_slots(t) < 0)
		return CLEW_ENOMEM;
	const uint8_t *sp = s.p ? s.p : (const uint8_t *)"";
	uint64_t h = bw_hash(sp, s.len);
	uint64_t tag = h & 0xffffffff00000000ull;
	uint32_t i = (uint32_t)h & t->mask;
	for (uint64_t v; (v = t->slots[i]) != 0; i = (i + 1) & t->mask) {
		if ((v & 0xffffffff00000000ull) != tag)
			continue;
		uint32_t cand = (uint32_t)v - 1;
		uint64_t o = t->off[cand];
		if (t->off[cand + 1] - o == s.len && bw_eq(t->bytes.p + o, sp, s.len)) {
			*id = cand;
			return 0;
		}
	}
	if (t->n + 1 >= t->cap) {
		uint32_t ncap = t->cap ? t->cap * 2 : 1024;
		uint64_t *no = try_realloc(t->off, (size_t)ncap * sizeof *no);
		if (!no)
			return CLEW_ENOMEM;
		t->off = no;
		if (t->cap == 0)
			t->off[0] = 0;
		t->cap = ncap;
	}
	buf_append(&t->bytes, sp, s.len);
	if (t->bytes.err)
		return CLEW_ENOMEM;
	t->off[t->n + 1] = t->bytes.len;
	t->slots[i] = tag | (t->n + 1);
	*id = t->n++;
	return 0;
}

static void intern_free(struct bw_intern *t)
{
	buf_free(&t->bytes);
	free(t->off);
	free(t->slots);
}

/* ---- add: spans to records ---- */

struct block_writer *block_writer_new(const struct block_writer_options *opts)
{
	struct block_writer *w = xcalloc(1, sizeof *w);
	if (opts)
		w->opts = *opts;
	if (w->opts.zstd_level == 0)
		w->opts.zstd_level = 1;
	if (w->opts.page_spans == 0)
		w->opts.page_spans = 8192;
	if (w->opts.filter_bits_per_trace == 0)
		w->opts.filter_bits_per_trace = 16;
	for (int cls = 0; cls < CLS_N; cls++)
		buf_init(&w->strs[cls].bytes, BW_BUF_MAX);
	buf_init(&w->res.bytes, BW_BUF_MAX);
	buf_init(&w->scopes.bytes, BW_BUF_MAX);
	buf_init(&w->recs, BW_BUF_MAX);
	buf_init(&w->scratch, BW_BUF_MAX);
	return w;
}

void block_writer_free(struct block_writer *w)
{
	if (!w)
		return;
	for (int cls = 0; cls < CLS_N; cls++)
		intern_free(&w->strs[cls]);
	intern_free(&w->res);
	intern_free(&w->scopes);
	buf_free(&w->recs);
	buf_free(&w->scratch);
	free(w->ents);
	free(w->res_map);
	free(w->scope_map);
	free(w);
}

uint64_t block_writer_spans(const struct block_writer *w)
{
	return w->n_ents;
}

size_t block_writer_mem_bytes(const struct block_writer *w)
{
	return intern_mem(&w->strs[CLS_NAMES]) + intern_mem(&w->strs[CLS_KEYS]) + intern_mem(&w->strs[CLS_VALUES]) +
	       intern_mem(&w->res) + intern_mem(&w->scopes) + w->recs.cap +
	       (size_t)w->cap_ents * sizeof(struct bw_ent) + w->scratch.cap;
}

static int rec_sid(struct block_writer *w, int cls, struct slice s)
{
	uint32_t id;
	int rc = intern(&w->strs[cls], s, &id);
	if (rc < 0)
		return rc;
	buf_append_varint(&w->recs, id);
	return 0;
}

static int rec_attrs(struct block_writer *w, const struct attr_list *l)
{
	int rc;
	buf_append_varint(&w->recs, l->n);
	for (uint32_t i = 0; i < l->n; i++) {
		const struct attr *at = &l->items[i];
		const struct any_value *v = &at->value;
		if (v->type >= ANY_ARRAY && (rc = blk_any_ok(v, 1)) < 0)
			return rc;
		if ((rc = rec_sid(w, CLS_KEYS, at->key)) < 0)
			return rc;
		buf_append_byte(&w->recs, v->type);
		switch (v->type) {
		case ANY_STRING:
			if ((rc = rec_sid(w, CLS_VALUES, v->u.str)) < 0)
				return rc;
			break;
		case ANY_BOOL:
			buf_append_byte(&w->recs, v->u.b ? 1 : 0);
			break;
		case ANY_INT:
			buf_append_varint(&w->recs, blk_zigzag(v->u.i));
			break;
		case ANY_DOUBLE: {
			uint64_t bits;
			uint8_t le[8];
			memcpy(&bits, &v->u.d, 8);
			blk_put64(le, bits);
			buf_append(&w->recs, le, 8);
			break;
		}
		case ANY_EMPTY:
			break;
		default:
			buf_clear(&w->scratch);
			blk_enc_any(&w->scratch, v);
			if (w->scratch.err)
				return CLEW_ENOMEM;
			buf_append_varint(&w->recs, w->scratch.len);
			buf_append(&w->recs, w->scratch.p, w->scratch.len);
			break;
		}
	}
	return 0;
}

static uint64_t wrap_sub(int64_t a, int64_t b)
{
	return (uint64_t)a - (uint64_t)b;
}

/* The writer's index of batch scope si, interning it and its resource. */
static int map_scope(struct block_writer *w, const struct span_batch *b, uint32_t si, uint32_t *out)
{
	int rc;
	if (si >= b->n_scopes)
		return CLEW_EINVAL;
	if (w->scope_map[si] != UINT32_MAX) {
		*out = w->scope_map[si];
		return 0;
	}
	const struct scope *sc = &b->scopes[si];
	if (sc->resource >= b->n_resources)
		return CLEW_EINVAL;
	uint32_t ri = w->res_map[sc->resource];
	if (ri == UINT32_MAX) {
		const struct resource *r = &b->resources[sc->resource];
		for (uint32_t i = 0; i < r->attrs.n; i++)
			if ((rc = blk_any_ok(&r->attrs.items[i].value, 1)) < 0)
				return rc;
		buf_clear(&w->scratch);
		blk_enc_resource(&w->scratch, r);
		if (w->scratch.err)
			return CLEW_ENOMEM;
		if ((rc = intern(&w->res, buf_slice(&w->scratch), &ri)) < 0)
			return rc;
		w->res_map[sc->resource] = ri;
	}
	for (uint32_t i = 0; i < sc->attrs.n; i++)
		if ((rc = blk_any_ok(&sc->attrs.items[i].value, 1)) < 0)
			return rc;
	buf_clear(&w->scratch);
	blk_enc_scope(&w->scratch, sc, ri);
	if (w->scratch.err)
		return CLEW_ENOMEM;
	if ((rc = intern(&w->scopes, buf_slice(&w->scratch), out)) < 0)
		return rc;
	w->scope_map[si] = *out;
	return 0;
}

static int add_span(struct block_writer *w, const struct span_batch *b, const struct span *s)
{
	int rc;
	uint32_t scope;
	if ((rc = map_scope(w, b, s->scope, &scope)) < 0)
		return rc;
	if (w->n_ents == w->cap_ents) {
		uint64_t ncap = w->cap_ents ? w->cap_ents * 2 : 4096;
		struct bw_ent *n = try_realloc(w->ents, (size_t)ncap * sizeof *n);
		if (!n)
			return CLEW_ENOMEM;
		w->ents = n;
		w->cap_ents = ncap;
	}
	if (w->n_ents >= UINT32_MAX)
		return CLEW_ELIMIT;
	struct bw_ent *e = &w->ents[w->n_ents];
	memcpy(e->trace_id, s->trace_id, 16);
	memcpy(e->span_id, s->span_id, 8);
	e->start = s->start_unix_ns;
	e->off = w->recs.len;
	e->seq = (uint32_t)w->n_ents;

	struct buf *r = &w->recs;
	buf_append_varint(r, scope);
	buf_append_byte(r, s->has_parent ? 1 : 0);
	if (s->has_parent)
		buf_append(r, s->parent_span_id, 8);
	buf_append_varint(r, s->flags);
	if ((rc = rec_sid(w, CLS_VALUES, s->trace_state)) < 0 || (rc = rec_sid(w, CLS_NAMES, s->name)) < 0)
		return rc;
	buf_append_byte(r, s->kind);
	buf_append_byte(r, s->status_code);
	if ((rc = rec_sid(w, CLS_VALUES, s->status_message)) < 0)
		return rc;
	buf_append_varint(r, wrap_sub(s->end_unix_ns, s->start_unix_ns));
	buf_append_varint(r, s->dropped_attrs);
	buf_append_varint(r, s->dropped_events);
	buf_append_varint(r, s->dropped_links);
	if ((rc = rec_attrs(w, &s->attrs)) < 0)
		return rc;
	buf_append_varint(r, s->n_events);
	for (uint32_t i = 0; i < s->n_events; i++) {
		const struct span_event *ev = &s->events[i];
		buf_append_varint(r, blk_zigzag((int64_t)wrap_sub(ev->time_unix_ns, s->start_unix_ns)));
		if ((rc = rec_sid(w, CLS_NAMES, ev->name)) < 0)
			return rc;
		buf_append_varint(r, ev->dropped_attrs);
		if ((rc = rec_attrs(w, &ev->attrs)) < 0)
			return rc;
	}
	buf_append_varint(r, s->n_links);
	for (uint32_t i = 0; i < s->n_links; i++) {
		const struct span_link *ln = &s->links[i];
		buf_append(r, ln->trace_id, 16);
		buf_append(r, ln->span_id, 8);
		if ((rc = rec_sid(w, CLS_VALUES, ln->trace_state)) < 0)
			return rc;
		buf_append_varint(r, ln->flags);
		buf_append_varint(r, ln->dropped_attrs);
		if ((rc = rec_attrs(w, &ln->attrs)) < 0)
			return rc;
	}
	if (r->err)
		return CLEW_ENOMEM;
	w->n_ents++;
	return 0;
}

int block_writer_add(struct block_writer *w, const struct span_batch *b)
{
	int rc = 0, refused = 0;
	if (w->err)
		return w->err;
	if (w->finished)
		return CLEW_ESTATE;
	if (w->opts.max_mem_bytes && block_writer_mem_bytes(w) > w->opts.max_mem_bytes)
		return CLEW_ELIMIT;
	free(w->res_map);
	free(w->scope_map);
	w->res_map = try_malloc(((size_t)b->n_resources + 1) * sizeof *w->res_map);
	w->scope_map = try_malloc(((size_t)b->n_scopes + 1) * sizeof *w->scope_map);
	if (!w->res_map || !w->scope_map) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	memset(w->res_map, 0xff, ((size_t)b->n_resources + 1) * sizeof *w->res_map);
	memset(w->scope_map, 0xff, ((size_t)b->n_scopes + 1) * sizeof *w->scope_map);
	for (uint32_t i = 0; i < b->n_spans; i++) {
		const struct span *s = &b->spans[i];
		if (s->invalid_reason)
			continue;
		size_t mark = w->recs.len;
		if ((rc = add_span(w, b, s)) < 0) {
			w->recs.len = mark; /* the span is not added */
			if (rc == CLEW_EINVAL) { /* a span we cannot store exactly is refused, not the batch */
				refused = 1;
				rc = 0;
				continue;
			}
			goto out;
		}
	}
out:
	if (rc < 0)
		w->err = rc;
	return rc < 0 ? rc : refused ? CLEW_EINVAL : 0;
}

/* ---- finish: records to pages of columns ---- */

static int ent_cmp(const void *pa, const void *pb)
{
	const struct bw_ent *a = pa, *b = pb;
	int c = memcmp(a->trace_id, b->trace_id, 16);
	if (c)
		return c;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static inline uint64_t bw_be64(const uint8_t *p)
{
	return __builtin_bswap64(bw_ld64(p));
}

/* A radix sort key: the first 8 bytes of the trace id, big-endian. */
struct bw_key {
	uint64_t key;
	uint64_t idx;
};

/* Stable LSD radix sort of keys k (tmp as large), 8 bits a pass; bytes
 * equal in every key are skipped. Returns the array holding the result. */
static struct bw_key *radix_keys(struct bw_key *k, struct bw_key *tmp, size_t n, int from_byte)
{
	size_t cnt[8][256];
	memset(cnt, 0, sizeof cnt);
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < from_byte; d++)
			cnt[d][(k[i].key >> (8 * d)) & 0xff]++;
	for (int d = 0; d < from_byte; d++) {
		if (cnt[d][(k[0].key >> (8 * d)) & 0xff] == n)
			continue; /* every key has this byte */
		size_t sum = 0;
		for (int j = 0; j < 256; j++) {
			size_t c = cnt[d][j];
			cnt[d][j] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			tmp[cnt[d][(k[i].key >> (8 * d)) & 0xff]++] = k[i];
		struct bw_key *x = k;
		k = tmp;
		tmp = x;
	}
	return k;
}

/* Sort the entries by (trace id, start, arrival): the entries are scattered
 * by the trace id's first byte (stable), each bucket (small enough for the
 * CPU cache) radix-sorted on the next seven bytes and gathered back, then
 * each run sharing the first eight bytes (almost always one trace) sorted
 * by the full order. 0 or CLEW_ENOMEM. */
static int sort_ents(struct block_writer *w)
{
	uint64_t n = w->n_ents;
	struct bw_ent *tmp = try_malloc((size_t)n * sizeof *tmp);
	uint64_t *start = try_calloc(257, sizeof *start);
	uint64_t *pos = try_calloc(256, sizeof *pos);
	struct bw_key *k = NULL, *kt = NULL;
	int rc = CLEW_ENOMEM;
	if (!tmp || !start || !pos)
		goto out;
	for (uint64_t i = 0; i < n; i++)
		start[w->ents[i].trace_id[0] + 1]++;
	uint64_t big = 0;
	for (int j = 0; j < 256; j++) {
		big = start[j + 1] > big ? start[j + 1] : big;
		start[j + 1] += start[j];
		pos[j] = start[j];
	}
	if (!(k = try_malloc((size_t)big * sizeof *k)) || !(kt = try_malloc((size_t)big * sizeof *kt)))
		goto out;
	for (uint64_t i = 0; i < n; i++)
		tmp[pos[w->ents[i].trace_id[0]]++] = w->ents[i];
	for (int j = 0; j < 256; j++) {
		uint64_t a = start[j], m = start[j + 1] - a;
		for (uint64_t i = 0; i < m; i++) {
			k[i].key = bw_be64(tmp[a + i].trace_id);
			k[i].idx = a + i;
		}
		const struct bw_key *s = radix_keys(k, kt, (size_t)m, 7);
		for (uint64_t i = 0; i < m; i++)
			w->ents[a + i] = tmp[s[i].idx];
	}
	for (uint64_t i = 0; i < n;) {
		uint64_t j = i + 1, key = bw_be64(w->ents[i].trace_id);
		while (j < n && bw_be64(w->ents[j].trace_id) == key)
			j++;
		struct bw_ent *r = w->ents + i;
		uint64_t m = j - i;
		uint64_t x = 1;
		while (x < m && ent_cmp(&r[x - 1], &r[x]) <= 0)
			x++;
		if (x < m && m > 32) {
			qsort(r, (size_t)m, sizeof *r, ent_cmp);
		} else {
			for (; x < m; x++) { /* insertion sort: runs are short */
				if (ent_cmp(&r[x - 1], &r[x]) <= 0)
					continue;
				struct bw_ent v = r[x];
				uint64_t y = x;
				while (y > 0 && ent_cmp(&r[y - 1], &v) > 0) {
					r[y] = r[y - 1];
					y--;
				}
				r[y] = v;
			}
		}
		i = j;
	}
	rc = 0;
out:
	free(tmp);
	free(start);
	free(pos);
	free(k);
	free(kt);
	return rc;
}

struct pid_row {
	uint64_t id;
	uint32_t row;
};

static int pid_cmp(const void *pa, const void *pb)
{
	const struct pid_row *a = pa, *b = pb;
	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return (a->row > b->row) - (a->row < b->row);
}

/* Global string ids of one column of a page, before they become page
 * dictionary ids. */
struct bw_ids {
	uint32_t *p;
	size_t n, cap;
};

/* The columns that hold dictionary ids, and their dictionaries. */
static const struct {
	uint8_t col, cls;
} sid_cols[] = {
	{BCOL_TRACE_STATE, CLS_VALUES},
	{BCOL_NAME, CLS_NAMES},
	{BCOL_STATUS_MSG, CLS_VALUES},
	{BCOL_EV_NAME, CLS_NAMES},
	{BCOL_LN_STATE, CLS_VALUES},
	{BCOL_SPAN_ATTR + BATTR_KEY, CLS_KEYS},
	{BCOL_SPAN_ATTR + BATTR_STR, CLS_VALUES},
	{BCOL_EV_ATTR + BATTR_KEY, CLS_KEYS},
	{BCOL_EV_ATTR + BATTR_STR, CLS_VALUES},
	{BCOL_LN_ATTR + BATTR_KEY, CLS_KEYS},
	{BCOL_LN_ATTR + BATTR_STR, CLS_VALUES},
};
#define N_SID_COLS (sizeof sid_cols / sizeof sid_cols[0])

/* The state of finish. */
struct bw_fin {
	struct block_writer *w;
	struct fileops *ops;
	int fd;
	uint64_t off;
	int err;
	ZSTD_CCtx *cctx;
	uint8_t *zbuf;
	size_t zcap;
	struct blk_dirent *dir;
	size_t n_dir, cap_dir;
	struct buf col[BCOL_COUNT];
	struct bw_ids ids[BCOL_COUNT]; /* global string ids of the dictionary columns */
	uint32_t *local[CLS_N];	       /* global string id -> page dictionary id */
	uint32_t *used[CLS_N];
	uint32_t n_used[CLS_N], cap_used[CLS_N];
	uint8_t *seen[CLS_N]; /* per string of the class: seen on a page yet (distinct counts) */
	uint64_t distinct[CLS_N];
	struct pid_row *pids;
	size_t cap_pids;
	uint32_t *ded_cnt;  /* per page key: spans whose first attribute with it is a string */
	uint32_t *ded_seen; /* per page key: the last span (stamp) that had it */
	uint8_t *ded_bad;   /* per page key: a span's first attribute with it is not */
	uint8_t *ded_slot;  /* per page key: its dedicated column, or 0xff */
	size_t cap_ded;
	struct block_page_info *pi;
	int64_t min_start;
	struct block_info *info;
	int64_t max_end;
};

static void ids_push_slow(struct bw_fin *f, struct bw_ids *v, uint32_t id)
{
	size_t ncap = v->cap ? v->cap * 2 : 4096;
	uint32_t *np = try_realloc(v->p, ncap * sizeof *np);
	if (!np) {
		f->err = CLEW_ENOMEM;
		return;
	}
	v->p = np;
	v->cap = ncap;
	v->p[v->n++] = id;
}

static inline void fin_sid(struct bw_fin *f, int cls, struct blk_cur *c, unsigned col)
{
	uint32_t id = (uint32_t)blk_rd_varint(c);
	if (__builtin_expect(f->local[cls][id] == UINT32_MAX, 0)) {
		f->local[cls][id] = 0;
		if (f->n_used[cls] == f->cap_used[cls]) {
			f->cap_used[cls] = f->cap_used[cls] ? f->cap_used[cls] * 2 : 1024;
			f->used[cls] = xrealloc(f->used[cls], f->cap_used[cls] * sizeof(uint32_t));
		}
		f->used[cls][f->n_used[cls]++] = id;
		if (!f->seen[cls][id]) {
			f->seen[cls][id] = 1;
			f->distinct[cls]++;
		}
	}
	struct bw_ids *v = &f->ids[col];
	if (__builtin_expect(v->n < v->cap, 1))
		v->p[v->n++] = id;
	else
		ids_push_slow(f, v, id);
}

/* Copy one varint from the record as it is (the record holds it in the
 * column's encoding). */
static inline void fin_copy_varint(struct blk_cur *c, struct buf *o)
{
	const uint8_t *p = c->p;
	size_t n = 0, left = blk_left(c);
	while (n < left && n < 10 && (p[n] & 0x80))
		n++;
	if (n >= left || n >= 10) {
		c->err = 1;
		c->p = c->end;
		return;
	}
	n++;
	c->p += n;
	if (n == 1)
		buf_append_byte(o, p[0]);
	else
		buf_append(o, p, n);
}

static void fin_attrs(struct bw_fin *f, struct blk_cur *c, unsigned g)
{
	uint64_t n = blk_rd_varint(c);
	buf_append_varint(&f->col[g + BATTR_COUNT], n);
	for (uint64_t i = 0; i < n; i++) {
		fin_sid(f, CLS_KEYS, c, g + BATTR_KEY);
		uint8_t t = blk_rd_u8(c);
		buf_append_byte(&f->col[g + BATTR_TYPE], t);
		switch (t) {
		case ANY_STRING:
			fin_sid(f, CLS_VALUES, c, g + BATTR_STR);
			break;
		case ANY_BOOL:
			buf_append_byte(&f->col[g + BATTR_BOOL], blk_rd_u8(c));
			break;
		case ANY_INT:
			fin_copy_varint(c, &f->col[g + BATTR_INT]);
			break;
		case ANY_DOUBLE:
			buf_append(&f->col[g + BATTR_DOUBLE], blk_rd_bytes(c, 8), 8);
			break;
		case ANY_EMPTY:
			break;
		default: {
			uint64_t len = blk_rd_varint(c);
			buf_append_varint(&f->col[g + BATTR_OTHER], len);
			buf_append(&f->col[g + BATTR_OTHER], blk_rd_bytes(c, (size_t)len), (size_t)len);
			break;
		}
		}
	}
}

/* The row within its trace (of n spans, entries es) of the first span with
 * id pid, or -1; pids is the trace's (id, row) pairs sorted, or NULL for a
 * short trace searched in place. */
static int64_t fin_parent_row(const struct bw_ent *es, uint32_t n, const struct pid_row *pids, uint64_t pid)
{
	if (!pids) {
		for (uint32_t i = 0; i < n; i++)
			if (bw_ld64(es[i].span_id) == pid)
				return i;
		return -1;
	}
	uint32_t lo = 0, hi = n; /* lower bound of pid among the trace's span ids */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pids[mid].id < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && pids[lo].id == pid ? (int64_t)pids[lo].row : -1;
}

/* Transcode one span record: the i-th of its trace's n entries es. */
static void fin_span(struct bw_fin *f, const struct bw_ent *es, uint32_t i, int64_t trace_start,
		     const struct pid_row *pids, uint32_t n)
{
	struct block_writer *w = f->w;
	const struct bw_ent *e = &es[i];
	struct blk_cur c = {w->recs.p + e->off, w->recs.p + w->recs.len, 0};
	buf_append(&f->col[BCOL_SPAN_ID], e->span_id, 8);
	fin_copy_varint(&c, &f->col[BCOL_SCOPE]);
	uint8_t has_parent = blk_rd_u8(&c);
	if (!has_parent) {
		buf_append_byte(&f->col[BCOL_PARENT], 0);
	} else {
		const uint8_t *pid = blk_rd_bytes(&c, 8);
		int64_t row = pid ? fin_parent_row(es, n, pids, bw_ld64(pid)) : -1;
		if (row >= 0) {
			buf_append_varint(&f->col[BCOL_PARENT], (uint64_t)row + 2);
		} else {
			buf_append_byte(&f->col[BCOL_PARENT], 1);
			buf_append(&f->col[BCOL_PARENT_EXT], pid, 8);
		}
	}
	fin_copy_varint(&c, &f->col[BCOL_FLAGS]);
	fin_sid(f, CLS_VALUES, &c, BCOL_TRACE_STATE);
	fin_sid(f, CLS_NAMES, &c, BCOL_NAME);
	buf_append(&f->col[BCOL_KIND_STATUS], blk_rd_bytes(&c, 2), 2);
	fin_sid(f, CLS_VALUES, &c, BCOL_STATUS_MSG);
	uint64_t dur = blk_rd_varint(&c);
	int64_t d = (int64_t)dur, st = e->start;
	struct block_page_info *pi = f->pi;
	pi->min_dur_ns = d < pi->min_dur_ns ? d : pi->min_dur_ns;
	pi->max_dur_ns = d > pi->max_dur_ns ? d : pi->max_dur_ns;
	pi->min_start_ns = st < pi->min_start_ns ? st : pi->min_start_ns;
	pi->max_start_ns = st > pi->max_start_ns ? st : pi->max_start_ns;
	int64_t end = (int64_t)((uint64_t)st + dur);
	if (end > f->max_end)
		f->max_end = end;
	buf_append_varint(&f->col[BCOL_START], blk_zigzag((int64_t)wrap_sub(e->start, trace_start)));
	buf_append_varint(&f->col[BCOL_DURATION], blk_zigzag((int64_t)dur));
	for (int k = 0; k < 3; k++)
		fin_copy_varint(&c, &f->col[BCOL_DROPPED]);
	fin_attrs(f, &c, BCOL_SPAN_ATTR);
	uint64_t ne = blk_rd_varint(&c);
	buf_append_varint(&f->col[BCOL_EV_COUNT], ne);
	for (uint64_t k = 0; k < ne; k++) {
		fin_copy_varint(&c, &f->col[BCOL_EV_TIME]);
		fin_sid(f, CLS_NAMES, &c, BCOL_EV_NAME);
		fin_copy_varint(&c, &f->col[BCOL_EV_DROPPED]);
		fin_attrs(f, &c, BCOL_EV_ATTR);
	}
	uint64_t nl = blk_rd_varint(&c);
	buf_append_varint(&f->col[BCOL_LN_COUNT], nl);
	for (uint64_t k = 0; k < nl; k++) {
		buf_append(&f->col[BCOL_LN_TRACE_ID], blk_rd_bytes(&c, 16), 16);
		buf_append(&f->col[BCOL_LN_SPAN_ID], blk_rd_bytes(&c, 8), 8);
		fin_sid(f, CLS_VALUES, &c, BCOL_LN_STATE);
		fin_copy_varint(&c, &f->col[BCOL_LN_FLAGS]);
		fin_copy_varint(&c, &f->col[BCOL_LN_DROPPED]);
		fin_attrs(f, &c, BCOL_LN_ATTR);
	}
}

/* Write one section at the end of the file and note it in the directory. */
static void fin_section(struct bw_fin *f, uint8_t kind, uint16_t col, uint32_t page, const uint8_t *p, size_t n)
{
	if (f->err)
		return;
	if (n > BLK_MAX_SECTION) {
		f->err = CLEW_ELIMIT;
		return;
	}
	struct blk_dirent d = {.offset = f->off, .raw_len = (uint32_t)n, .kind = kind, .col = col, .page = page};
	const uint8_t *out = p;
	size_t out_len = n;
	if (n > 0 && kind != BLK_KIND_FILTER && !(kind == BLK_KIND_COLUMN && col == BCOL_TRACE_ID)) {
		size_t bound = ZSTD_compressBound(n);
		if (bound > f->zcap) {
			free(f->zbuf);
			f->zcap = bound;
			if (!(f->zbuf = try_malloc(bound))) {
				f->zcap = 0;
				f->err = CLEW_ENOMEM;
				return;
			}
		}
		size_t z = ZSTD_compressCCtx(f->cctx, f->zbuf, f->zcap, p, n, f->w->opts.zstd_level);
		if (!ZSTD_isError(z) && z < n) {
			out = f->zbuf;
			out_len = z;
			d.codec = BLK_CODEC_ZSTD;
		}
	}
	d.len = (uint32_t)out_len;
	d.crc = crc32c(0, out, out_len);
	if (out_len && (f->err = fileops_write_all(f->ops, f->fd, out, out_len, (off_t)f->off)) < 0)
		return;
	f->off += out_len;
	if (f->n_dir == f->cap_dir) {
		f->cap_dir = f->cap_dir ? f->cap_dir * 2 : 256;
		f->dir = xrealloc(f->dir, f->cap_dir * sizeof *f->dir);
	}
	f->dir[f->n_dir++] = d;
	if (kind == BLK_KIND_COLUMN && f->info) {
		f->info->column_bytes[col] += out_len;
		f->info->column_raw_bytes[col] += n;
	}
}

/* Transcode the traces of entries [a, b) into the columns, string ids
 * still global. */
static void fin_walk(struct bw_fin *f, uint64_t a, uint64_t b)
{
	struct block_writer *w = f->w;
	for (int i = 0; i < BCOL_COUNT; i++) {
		buf_clear(&f->col[i]);
		f->ids[i].n = 0;
	}
	f->pi->traces = 0;
	for (uint64_t t = a; t < b;) {
		uint64_t e = t + 1;
		while (e < b && memcmp(w->ents[e].trace_id, w->ents[t].trace_id, 16) == 0)
			e++;
		uint32_t n = (uint32_t)(e - t);
		f->pi->traces++;
		int64_t ts = w->ents[t].start;
		buf_append(&f->col[BCOL_TRACE_ID], w->ents[t].trace_id, 16);
		buf_append_varint(&f->col[BCOL_TRACE_NSPANS], n);
		buf_append_varint(&f->col[BCOL_TRACE_START], blk_zigzag((int64_t)wrap_sub(ts, f->min_start)));
		struct pid_row *pids = NULL;
		if (n > 16) { /* long traces: binary search for parents */
			if (n > f->cap_pids) {
				f->cap_pids = n;
				f->pids = xrealloc(f->pids, n * sizeof *f->pids);
			}
			for (uint32_t i = 0; i < n; i++) {
				f->pids[i].id = bw_ld64(w->ents[t + i].span_id);
				f->pids[i].row = i;
			}
			qsort(f->pids, n, sizeof *f->pids, pid_cmp);
			pids = f->pids;
		}
		for (uint32_t i = 0; i < n; i++) {
			if (t + i + 6 < w->n_ents) { /* records are read in sorted, not arrival, order */
				const uint8_t *r = w->recs.p + w->ents[t + i + 6].off;
				__builtin_prefetch(r);
				__builtin_prefetch(r + 64);
				__builtin_prefetch(r + 128);
			}
			fin_span(f, &w->ents[t], i, ts, pids, n);
		}
		t = e;
	}
}

static int sid_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct bw_intern *t = ctx;
	struct slice a = intern_str(t, *(const uint32_t *)pa), b = intern_str(t, *(const uint32_t *)pb);
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.p, b.p, n) : 0;
	return c ? c : (a.len > b.len) - (a.len < b.len);
}

static void page_stats_init(struct block_page_info *pi)
{
	memset(pi, 0, sizeof *pi);
	pi->min_start_ns = INT64_MAX;
	pi->max_start_ns = INT64_MIN;
	pi->min_dur_ns = INT64_MAX;
	pi->max_dur_ns = INT64_MIN;
}

/* The dedicated span attribute columns of the page whose generic columns
 * fin_walk filled (string ids global, the page dictionaries built): the
 * BLOCK_DED_MAX keys that most spans carry (at least half of them) and
 * whose every first occurrence in a span is a string, most spans first
 * (ties: the smaller key id); each gets a column of one varint per span,
 * the value id of its first attribute with the key + 1, 0 without one. */
static void fin_dedicated(struct bw_fin *f, struct block_page_info *pi)
{
	const unsigned g = BCOL_SPAN_ATTR;
	const uint32_t *keys = f->ids[g + BATTR_KEY].p, *strs = f->ids[g + BATTR_STR].p;
	const uint32_t *lkey = f->local[CLS_KEYS], *lval = f->local[CLS_VALUES];
	const uint8_t *typ = f->col[g + BATTR_TYPE].p;
	const struct buf *cnt_col = &f->col[g + BATTR_COUNT];
	uint32_t nk = f->n_used[CLS_KEYS], ns = pi->spans, n_chosen = 0;
	if (nk == 0 || f->err)
		return;
	if (nk > f->cap_ded) {
		free(f->ded_cnt);
		free(f->ded_seen);
		free(f->ded_bad);
		free(f->ded_slot);
		f->ded_cnt = try_malloc(nk * sizeof *f->ded_cnt);
		f->ded_seen = try_malloc(nk * sizeof *f->ded_seen);
		f->ded_bad = try_malloc(nk);
		f->ded_slot = try_malloc(nk);
		f->cap_ded = f->ded_cnt && f->ded_seen && f->ded_bad && f->ded_slot ? nk : 0;
		if (!f->cap_ded) {
			f->err = CLEW_ENOMEM;
			return;
		}
	}
	memset(f->ded_cnt, 0, nk * sizeof *f->ded_cnt);
	memset(f->ded_seen, 0, nk * sizeof *f->ded_seen);
	memset(f->ded_bad, 0, nk);
	memset(f->ded_slot, 0xff, nk);
	/* a span's first attribute with a key: the key not stamped with the
	 * span yet (stamps i + 1 here, ns + i + 1 in the second walk) */
	struct blk_cur cc = {cnt_col->p, cnt_col->p + cnt_col->len, 0};
	uint32_t at = 0;
	for (uint32_t i = 0; i < ns; i++) {
		uint32_t n = (uint32_t)blk_rd_varint(&cc);
		for (uint32_t j = at; j < at + n; j++) {
			uint32_t k = lkey[keys[j]];
			if (f->ded_seen[k] == i + 1)
				continue;
			f->ded_seen[k] = i + 1;
			if (typ[j] == ANY_STRING)
				f->ded_cnt[k]++;
			else
				f->ded_bad[k] = 1;
		}
		at += n;
	}
	if (cc.err)
		return;
	while (n_chosen < BLOCK_DED_MAX) {
		uint32_t best = UINT32_MAX;
		for (uint32_t k = 0; k < nk; k++)
			if (!f->ded_bad[k] && f->ded_cnt[k] && (uint64_t)f->ded_cnt[k] * 2 >= ns &&
			    (best == UINT32_MAX || f->ded_cnt[k] > f->ded_cnt[best]))
				best = k;
		if (best == UINT32_MAX)
			break;
		f->ded_bad[best] = 1; /* taken */
		f->ded_slot[best] = (uint8_t)n_chosen;
		pi->ded_key[n_chosen++] = best + 1;
	}
	cc = (struct blk_cur){cnt_col->p, cnt_col->p + cnt_col->len, 0};
	at = 0;
	uint32_t si = 0; /* the string ordinal of attribute j */
	for (uint32_t i = 0; i < ns && n_chosen; i++) {
		uint32_t n = (uint32_t)blk_rd_varint(&cc), val[BLOCK_DED_MAX] = {0};
		for (uint32_t j = at; j < at + n; j++) {
			uint32_t k = lkey[keys[j]];
			bool str = typ[j] == ANY_STRING, first = f->ded_seen[k] != ns + i + 1;
			f->ded_seen[k] = ns + i + 1;
			if (str && first && f->ded_slot[k] != 0xff)
				val[f->ded_slot[k]] = lval[strs[si]] + 1;
			si += str;
		}
		for (uint32_t k = 0; k < n_chosen; k++)
			buf_append_varint(&f->col[BCOL_SPAN_DED + k], val[k]);
		at += n;
	}
}

/* Transcode entries [a, b) (whole traces) as page number page: one walk
 * over the records, then the page dictionaries (the strings the page used,
 * sorted), then the id columns rewritten with dictionary ids. */
static void fin_page(struct bw_fin *f, uint64_t a, uint64_t b, uint32_t page, uint64_t first_row,
		     struct block_page_info *pi)
{
	struct block_writer *w = f->w;
	page_stats_init(pi);
	f->pi = pi;
	pi->first_row = first_row;
	pi->spans = (uint32_t)(b - a);
	memcpy(pi->first_trace_id, w->ents[a].trace_id, 16);
	memcpy(pi->last_trace_id, w->ents[b - 1].trace_id, 16);
	fin_walk(f, a, b);
	for (int cls = 0; cls < CLS_N; cls++) { /* the page dictionaries, sorted */
		if (f->n_used[cls] > 1) /* used[] is NULL while empty */
			qsort_r(f->used[cls], f->n_used[cls], sizeof(uint32_t), sid_cmp, &w->strs[cls]);
		struct buf *d = &f->col[BCOL_DICT_NAMES + cls];
		buf_clear(d);
		buf_append_varint(d, f->n_used[cls]);
		for (uint32_t i = 0; i < f->n_used[cls]; i++) {
			uint32_t id = f->used[cls][i];
			f->local[cls][id] = i;
			struct slice s = intern_str(&w->strs[cls], id);
			buf_append_varint(d, s.len);
			buf_append(d, s.p, s.len);
		}
	}
	for (size_t k = 0; k < N_SID_COLS; k++) {
		const struct bw_ids *v = &f->ids[sid_cols[k].col];
		const uint32_t *local = f->local[sid_cols[k].cls];
		struct buf *o = &f->col[sid_cols[k].col];
		if (buf_reserve(o, v->n * 5) < 0)
			continue;
		for (size_t i = 0; i < v->n; i++)
			buf_append_varint(o, local[v->p[i]]);
	}
	fin_dedicated(f, pi);
	for (int cls = 0; cls < CLS_N; cls++) {
		for (uint32_t i = 0; i < f->n_used[cls]; i++)
			f->local[cls][f->used[cls][i]] = UINT32_MAX;
		f->n_used[cls] = 0;
	}
	for (int i = 0; i < BCOL_COUNT; i++)
		if (f->col[i].err && !f->err)
			f->err = f->col[i].err;
	for (unsigned col = 0; col < BCOL_COUNT; col++)
		fin_section(f, BLK_KIND_COLUMN, (uint16_t)col, page, f->col[col].p, f->col[col].len);
}

static void put_page_entry(uint8_t *p, const struct block_page_info *pi)
{
	memset(p, 0, BLK_PAGE_ENTRY);
	memcpy(p, pi->first_trace_id, 16);
	memcpy(p + 16, pi->last_trace_id, 16);
	blk_put64(p + 32, pi->first_row);
	blk_put32(p + 40, pi->spans);
	blk_put32(p + 44, pi->traces);
	blk_put64(p + 48, (uint64_t)pi->min_start_ns);
	blk_put64(p + 56, (uint64_t)pi->max_start_ns);
	blk_put64(p + 64, (uint64_t)pi->min_dur_ns);
	blk_put64(p + 72, (uint64_t)pi->max_dur_ns);
	for (int k = 0; k < BLOCK_DED_MAX; k++)
		blk_put32(p + 80 + 4 * k, pi->ded_key[k]);
}

static void put_meta(uint8_t *p, const struct block_info *in, const struct block_writer_options *o)
{
	memset(p, 0, BLK_META_FIXED);
	blk_put64(p + 0, in->spans);
	blk_put64(p + 8, in->traces);
	blk_put32(p + 16, in->pages);
	blk_put32(p + 20, in->resources);
	blk_put32(p + 24, in->scopes);
	blk_put32(p + 28, BCOL_COUNT);
	blk_put64(p + 32, (uint64_t)in->min_start_ns);
	blk_put64(p + 40, (uint64_t)in->max_start_ns);
	blk_put64(p + 48, (uint64_t)in->max_end_ns);
	blk_put64(p + 56, (uint64_t)in->min_dur_ns);
	blk_put64(p + 64, (uint64_t)in->max_dur_ns);
	memcpy(p + 72, in->min_trace_id, 16);
	memcpy(p + 88, in->max_trace_id, 16);
	blk_put64(p + 104, in->distinct_names);
	blk_put64(p + 112, in->distinct_keys);
	blk_put64(p + 120, in->distinct_values);
	blk_put32(p + 128, o->page_spans);
	blk_put32(p + 132, o->filter_bits_per_trace);
}

/* A table section: varint count, then the interned encodings in id order. */
static void fin_table(struct bw_fin *f, uint8_t kind, const struct bw_intern *t)
{
	struct buf *s = &f->w->scratch;
	buf_clear(s);
	buf_append_varint(s, t->n);
	buf_append(s, t->bytes.p, t->bytes.len);
	if (s->err && !f->err)
		f->err = s->err;
	fin_section(f, kind, 0, BLK_PAGE_NONE, s->p, s->len);
}

int block_writer_finish(struct block_writer *w, struct fileops *ops, const char *dir, const char *name,
			struct block_info *out)
{
	struct block_info info;
	struct bw_fin f = {.w = w, .ops = ops, .fd = -1, .info = &info, .max_end = INT64_MIN};
	struct block_page_info *pages = NULL;
	uint8_t *filter = NULL, *meta = NULL, *dirb = NULL;
	char tmp[4096], fin[4096];
	int rc = 0, renamed = 0;
	memset(&info, 0, sizeof info);
	if (w->finished)
		return CLEW_ESTATE;
	w->finished = 1;
	if (w->err)
		return w->err;
	int n1 = snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
	int n2 = snprintf(fin, sizeof fin, "%s/%s", dir, name);
	if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof tmp || (size_t)n2 >= sizeof fin)
		return CLEW_EINVAL;

	uint64_t n = w->n_ents;
	if (n > 1 && (rc = sort_ents(w)) < 0)
		return rc;
	f.min_start = n ? INT64_MAX : 0;
	for (uint64_t i = 0; i < n; i++)
		if (w->ents[i].start < f.min_start)
			f.min_start = w->ents[i].start;
	for (int cls = 0; cls < CLS_N; cls++) {
		f.local[cls] = try_malloc(((size_t)w->strs[cls].n + 1) * sizeof(uint32_t));
		f.seen[cls] = try_calloc((size_t)w->strs[cls].n + 1, 1);
		if (!f.local[cls] || !f.seen[cls]) {
			rc = CLEW_ENOMEM;
			goto out;
		}
		memset(f.local[cls], 0xff, ((size_t)w->strs[cls].n + 1) * sizeof(uint32_t));
	}
	for (int i = 0; i < BCOL_COUNT; i++)
		buf_init(&f.col[i], BW_BUF_MAX);
	if (!(f.cctx = ZSTD_createCCtx())) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	if ((f.fd = ops->open(ops, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		rc = f.fd;
		goto out;
	}
	uint8_t hdr[BLK_HDR_BYTES];
	memcpy(hdr, BLK_MAGIC, 8);
	blk_put32(hdr + 8, BLK_VERSION);
	blk_put32(hdr + 12, crc32c(0, hdr, 12));
	if ((rc = fileops_write_all(ops, f.fd, hdr, sizeof hdr, 0)) < 0)
		goto out;
	f.off = BLK_HDR_BYTES;

	/* pages of whole traces */
	info.min_start_ns = n ? INT64_MAX : 0;
	info.max_start_ns = n ? INT64_MIN : 0;
	info.min_dur_ns = n ? INT64_MAX : 0;
	info.max_dur_ns = n ? INT64_MIN : 0;
	size_t cap_pages = 0;
	for (uint64_t a = 0; a < n && !f.err;) {
		uint64_t b = a;
		while (b < n && b - a < w->opts.page_spans) {
			uint64_t e = b + 1;
			while (e < n && memcmp(w->ents[e].trace_id, w->ents[b].trace_id, 16) == 0)
				e++;
			b = e;
		}
		if (info.pages == cap_pages) {
			cap_pages = cap_pages ? cap_pages * 2 : 64;
			pages = xrealloc(pages, cap_pages * sizeof *pages);
		}
		struct block_page_info *pi = &pages[info.pages];
		fin_page(&f, a, b, info.pages, a, pi);
		info.pages++;
		info.traces += pi->traces;
		if (pi->min_start_ns < info.min_start_ns)
			info.min_start_ns = pi->min_start_ns;
		if (pi->max_start_ns > info.max_start_ns)
			info.max_start_ns = pi->max_start_ns;
		if (pi->min_dur_ns < info.min_dur_ns)
			info.min_dur_ns = pi->min_dur_ns;
		if (pi->max_dur_ns > info.max_dur_ns)
			info.max_dur_ns = pi->max_dur_ns;
		a = b;
	}
	if ((rc = f.err) < 0)
		goto out;
	info.spans = n;
	info.max_end_ns = n ? f.max_end : 0;
	info.resources = w->res.n;
	info.scopes = w->scopes.n;
	if (n) {
		memcpy(info.min_trace_id, w->ents[0].trace_id, 16);
		memcpy(info.max_trace_id, w->ents[n - 1].trace_id, 16);
	}
	info.distinct_names = f.distinct[CLS_NAMES];
	info.distinct_keys = f.distinct[CLS_KEYS];
	info.distinct_values = f.distinct[CLS_VALUES];

	fin_table(&f, BLK_KIND_RESOURCES, &w->res);
	fin_table(&f, BLK_KIND_SCOPES, &w->scopes);
	size_t nb = blk_filter_blocks(info.traces, w->opts.filter_bits_per_trace);
	if (!(filter = try_calloc(nb, 32))) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < n; i++)
		if (i == 0 || memcmp(w->ents[i].trace_id, w->ents[i - 1].trace_id, 16) != 0)
			blk_filter_add(filter, nb, w->ents[i].trace_id);
	fin_section(&f, BLK_KIND_FILTER, 0, BLK_PAGE_NONE, filter, nb * 32);
	size_t meta_len = BLK_META_FIXED + (size_t)info.pages * BLK_PAGE_ENTRY;
	if (!(meta = try_malloc(meta_len))) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	put_meta(meta, &info, &w->opts);
	for (uint32_t p = 0; p < info.pages; p++)
		put_page_entry(meta + BLK_META_FIXED + (size_t)p * BLK_PAGE_ENTRY, &pages[p]);
	fin_section(&f, BLK_KIND_META, 0, BLK_PAGE_NONE, meta, meta_len);
	if ((rc = f.err) < 0)
		goto out;

	/* directory and tail */
	size_t dir_len = f.n_dir * BLK_DIR_ENTRY_BYTES;
	if (!(dirb = try_malloc(dir_len + BLK_TAIL_BYTES))) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < f.n_dir; i++) {
		uint8_t *d = dirb + i * BLK_DIR_ENTRY_BYTES;
		const struct blk_dirent *e = &f.dir[i];
		blk_put64(d, e->offset);
		blk_put32(d + 8, e->len);
		blk_put32(d + 12, e->raw_len);
		blk_put32(d + 16, e->crc);
		d[20] = e->kind;
		d[21] = e->codec;
		d[22] = (uint8_t)e->col;
		d[23] = (uint8_t)(e->col >> 8);
		blk_put32(d + 24, e->page);
	}
	uint8_t *tail = dirb + dir_len;
	blk_put64(tail, f.off);
	blk_put64(tail + 8, dir_len);
	blk_put32(tail + 16, (uint32_t)f.n_dir);
	blk_put32(tail + 20, crc32c(0, dirb, dir_len));
	blk_put32(tail + 24, info.pages);
	blk_put32(tail + 28, crc32c(0, tail, 28));
	memcpy(tail + 32, BLK_TAIL_MAGIC, 8);
	if ((rc = fileops_write_all(ops, f.fd, dirb, dir_len + BLK_TAIL_BYTES, (off_t)f.off)) < 0)
		goto out;
	info.file_bytes = f.off + dir_len + BLK_TAIL_BYTES;

	if ((rc = ops->fsync(ops, f.fd)) < 0)
		goto out;
	rc = ops->close(ops, f.fd);
	f.fd = -1;
	if (rc < 0)
		goto out;
	if ((rc = ops->rename(ops, tmp, fin)) < 0)
		goto out;
	renamed = 1;
	if ((rc = ops->fsync_dir(ops, dir)) < 0)
		goto out;
	if (out)
		*out = info;
out:
	if (f.fd >= 0)
		ops->close(ops, f.fd);
	if (rc < 0)
		ops->unlink(ops, renamed ? fin : tmp); /* never leave a block whose durability is unknown */
	for (int cls = 0; cls < CLS_N; cls++) {
		free(f.local[cls]);
		free(f.seen[cls]);
		free(f.used[cls]);
	}
	for (int i = 0; i < BCOL_COUNT; i++) {
		buf_free(&f.col[i]);
		free(f.ids[i].p);
	}
	free(f.pids);
	free(f.ded_cnt);
	free(f.ded_seen);
	free(f.ded_bad);
	free(f.ded_slot);
	free(f.dir);
	free(f.zbuf);
	ZSTD_freeCCtx(f.cctx);
	free(pages);
	free(filter);
	free(meta);
	free(dirb);
	return rc;
}
