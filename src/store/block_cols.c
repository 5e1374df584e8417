/* Query-time decoding of a block page's columns into plain arrays (ids,
 * times, the span attribute group), without building spans: the columnar
 * TraceQL executor (query/exec_columnar.c) reads only the columns a query
 * names, through the column cache, with every id, count and length checked
 * as block_read_page checks them. Layout: docs/storage.md. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "store/block_int.h"
#include "store/swar.h"

/* The buffers behind a struct block_cols. */
struct cols_priv {
	struct blk_col col[BCOL_COUNT];
	const struct block *blk; /* what is loaded: page of blk, the want bits done */
	uint32_t page;
	unsigned have;
	bool first_done; /* attr_first and n_attrs of the page are decoded */
	size_t cap_tn, cap_tf, cap_start, cap_dur, cap_scope, cap_name, cap_smsg;
	size_t cap_first, cap_key, cap_val, cap_type, cap_str, cap_int, cap_dbl, cap_bool, cap_dict[3];
};

void block_cols_init(struct block_cols *c)
{
	memset(c, 0, sizeof *c);
}

static void cols_drop(struct cols_priv *pv)
{
	for (int i = 0; i < BCOL_COUNT; i++)
		blk_col_release(&pv->col[i]);
	pv->blk = NULL;
	pv->have = 0;
	pv->first_done = false;
}

void block_cols_free(struct block_cols *c)
{
	struct cols_priv *pv = c->priv;
	if (pv) {
		cols_drop(pv);
		free(pv);
	}
	for (int i = 0; i < 3; i++)
		free(c->dict[i]);
	free(c->trace_nspans);
	free(c->trace_first);
	free(c->start);
	free(c->duration);
	free(c->scope);
	free(c->name);
	free(c->status_msg);
	free(c->attr_first);
	free(c->attr_key);
	free(c->attr_val);
	free(c->attr_type);
	free(c->attr_str);
	free(c->attr_int);
	free(c->attr_dbl);
	free(c->attr_bool);
	memset(c, 0, sizeof *c);
}

/* Make *p hold at least n elements of size sz (contents not kept). */
static int cols_grow(void *pp, size_t *cap, size_t n, size_t sz)
{
	void **p = pp;
	if (*p && *cap >= n)
		return 0;
	size_t want = n < 64 ? 64 : n + n / 4;
	void *q = try_malloc(want * sz);
	if (!q)
		return CLEW_ENOMEM;
	free(*p);
	*p = q;
	*cap = want;
	return 0;
}

struct cols_ld {
	struct block *b;
	uint32_t page;
	struct block_cols *c;
	struct cols_priv *pv;
	struct block_info info;
	int bad_col;
	char err[512];
};

#define CL_FAIL(l, colno)                                                                                  \
	do {                                                                                               \
		(l)->bad_col = (colno);                                                                    \
		return CLEW_ECORRUPT;                                                                      \
	} while (0)

static int cols_sec(struct cols_ld *l, int col, struct blk_cur *cur)
{
	struct cols_priv *pv = l->pv;
	int rc;
	if (!pv->col[col].ref && (rc = blk_col_load(l->b, l->page, (unsigned)col, &pv->col[col], l->err, sizeof l->err)) < 0)
		return rc;
	*cur = (struct blk_cur){pv->col[col].data, pv->col[col].data + pv->col[col].len, 0};
	return 0;
}

static int cols_dict(struct cols_ld *l, int cls)
{
	struct block_cols *c = l->c;
	int col = BCOL_DICT_NAMES + cls;
	struct blk_cur cur;
	int rc;
	if ((rc = cols_sec(l, col, &cur)) < 0)
		return rc;
	uint64_t n = blk_rd_varint(&cur);
	if (cur.err || n > blk_left(&cur))
		CL_FAIL(l, col);
	if ((rc = cols_grow(&c->dict[cls], &l->pv->cap_dict[cls], (size_t)n + 1, sizeof(struct slice))) < 0)
		return rc;
	struct slice *d = c->dict[cls];
	for (uint64_t i = 0; i < n; i++) {
		uint64_t len = blk_rd_varint(&cur);
		if (cur.err || len > blk_left(&cur))
			CL_FAIL(l, col);
		d[i] = slice_make(blk_rd_bytes(&cur, (size_t)len), (size_t)len);
		if (i > 0) {
			struct slice x = d[i - 1], y = d[i];
			size_t m = x.len < y.len ? x.len : y.len;
			int cmp = m ? memcmp(x.p, y.p, m) : 0;
			if (cmp > 0 || (cmp == 0 && x.len >= y.len))
				CL_FAIL(l, col);
		}
	}
	if (cur.p != cur.end)
		CL_FAIL(l, col);
	c->dict_n[cls] = (uint32_t)n;
	return 0;
}

/* n varints of column col, each below limit, into out; the column must
 * end there. */
static int cols_ids(struct cols_ld *l, int col, uint32_t n, uint64_t limit, uint32_t *out)
{
	struct blk_cur cur;
	int rc;
	if ((rc = cols_sec(l, col, &cur)) < 0)
		return rc;
	uint32_t i = 0;
	uint32_t max = 0;
	/* eight one-byte varints at a time while the bytes allow, one- and
	 * two-byte ones singly; anything longer, and the tail, the general way */
	while (i < n && cur.end - cur.p >= 8) {
		uint64_t w;
		memcpy(&w, cur.p, 8);
		if (!(w & 0x8080808080808080ull) && n - i >= 8) {
			for (int k = 0; k < 8; k++) {
				uint32_t v = (uint32_t)(w >> (8 * k)) & 0xff;
				max = v > max ? v : max;
				out[i + (uint32_t)k] = v;
			}
			i += 8;
			cur.p += 8;
			continue;
		}
		uint32_t b0 = cur.p[0], v;
		if (b0 < 0x80) {
			v = b0;
			cur.p++;
		} else if (cur.p[1] < 0x80) {
			v = (b0 & 0x7f) | (uint32_t)cur.p[1] << 7;
			cur.p += 2;
		} else {
			break;
		}
		max = v > max ? v : max;
		out[i++] = v;
	}
	if (n && (uint64_t)max >= limit)
		CL_FAIL(l, col);
	for (; i < n; i++) {
		uint64_t v = blk_rd_varint(&cur);
		if (v >= limit)
			CL_FAIL(l, col);
		out[i] = (uint32_t)v;
	}
	if (cur.err || cur.p != cur.end)
		CL_FAIL(l, col);
	return 0;
}

/* n zigzag varints of column col into out; the column must end there. */
static int cols_zz(struct cols_ld *l, int col, uint32_t n, int64_t *out)
{
	struct blk_cur cur;
	int rc;
	if ((rc = cols_sec(l, col, &cur)) < 0)
		return rc;
	for (uint32_t i = 0; i < n; i++)
		out[i] = blk_unzigzag(blk_rd_varint(&cur));
	if (cur.err || cur.p != cur.end)
		CL_FAIL(l, col);
	return 0;
}

/* attr_first of every span from the count column, bounded by the type
 * column (one type byte per attribute). */
static int cols_first(struct cols_ld *l)
{
	struct block_cols *c = l->c;
	struct cols_priv *pv = l->pv;
	const int g = BCOL_SPAN_ATTR;
	struct blk_cur cnt, typ;
	int rc;
	if (pv->first_done)
		return 0;
	if ((rc = cols_grow(&c->attr_first, &pv->cap_first, (size_t)c->spans + 1, sizeof(uint32_t))) < 0)
		return rc;
	if ((rc = cols_sec(l, g + BATTR_COUNT, &cnt)) < 0 || (rc = cols_sec(l, g + BATTR_TYPE, &typ)) < 0)
		return rc;
	uint64_t total = 0;
	for (uint32_t i = 0; i < c->spans; i++) {
		c->attr_first[i] = (uint32_t)total;
		uint64_t v;
		if (cnt.p < cnt.end && !(*cnt.p & 0x80))
			v = *cnt.p++;
		else
			v = blk_rd_varint(&cnt);
		if (cnt.err || v > blk_left(&typ) - total)
			CL_FAIL(l, g + BATTR_COUNT);
		total += v;
	}
	c->attr_first[c->spans] = (uint32_t)total;
	if (cnt.p != cnt.end)
		CL_FAIL(l, g + BATTR_COUNT);
	if (total != blk_left(&typ))
		CL_FAIL(l, g + BATTR_TYPE);
	c->n_attrs = (uint32_t)total;
	pv->first_done = true;
	return 0;
}

static int cols_attrs(struct cols_ld *l)
{
	struct block_cols *c = l->c;
	struct cols_priv *pv = l->pv;
	const int g = BCOL_SPAN_ATTR;
	struct blk_cur typ, str, in, dbl, bol, oth;
	int rc;
	if ((rc = cols_first(l)) < 0 || (rc = cols_sec(l, g + BATTR_TYPE, &typ)) < 0)
		return rc;
	uint64_t total = c->n_attrs;
	uint32_t n = (uint32_t)total;
	c->n_attrs = n;
	if ((rc = cols_grow(&c->attr_key, &pv->cap_key, (size_t)n + 1, sizeof(uint32_t))) < 0 ||
	    (rc = cols_grow(&c->attr_val, &pv->cap_val, (size_t)n + 1, sizeof(uint32_t))) < 0 ||
	    (rc = cols_grow(&c->attr_type, &pv->cap_type, (size_t)n + 1, 1)) < 0)
		return rc;
	if ((rc = cols_ids(l, g + BATTR_KEY, n, c->dict_n[1], c->attr_key)) < 0)
		return rc;
	if ((rc = cols_sec(l, g + BATTR_STR, &str)) < 0 || (rc = cols_sec(l, g + BATTR_INT, &in)) < 0 ||
	    (rc = cols_sec(l, g + BATTR_DOUBLE, &dbl)) < 0 || (rc = cols_sec(l, g + BATTR_BOOL, &bol)) < 0 ||
	    (rc = cols_sec(l, g + BATTR_OTHER, &oth)) < 0)
		return rc;
	/* each value takes at least one byte of its stream */
	if ((rc = cols_grow(&c->attr_str, &pv->cap_str, blk_left(&str) + 1, sizeof(uint32_t))) < 0 ||
	    (rc = cols_grow(&c->attr_int, &pv->cap_int, blk_left(&in) + 1, sizeof(int64_t))) < 0 ||
	    (rc = cols_grow(&c->attr_dbl, &pv->cap_dbl, blk_left(&dbl) / 8 + 1, sizeof(double))) < 0 ||
	    (rc = cols_grow(&c->attr_bool, &pv->cap_bool, blk_left(&bol) + 1, 1)) < 0)
		return rc;
	uint32_t ns = 0, ni = 0, nd = 0, nb = 0, no = 0;
	uint32_t n_values = c->dict_n[2];
	for (uint32_t k = 0; k < n; k++) {
		uint8_t t = typ.p[k];
		c->attr_type[k] = t;
		switch (t) {
		case ANY_STRING: {
			uint64_t v = blk_rd_varint(&str);
			if (str.err || v >= n_values)
				CL_FAIL(l, g + BATTR_STR);
			c->attr_val[k] = ns;
			c->attr_str[ns++] = (uint32_t)v;
			break;
		}
		case ANY_BOOL: {
			uint8_t v = blk_rd_u8(&bol);
			if (bol.err || v > 1)
				CL_FAIL(l, g + BATTR_BOOL);
			c->attr_val[k] = nb;
			c->attr_bool[nb++] = v;
			break;
		}
		case ANY_INT:
			c->attr_val[k] = ni;
			c->attr_int[ni++] = blk_unzigzag(blk_rd_varint(&in));
			if (in.err)
				CL_FAIL(l, g + BATTR_INT);
			break;
		case ANY_DOUBLE: {
			const uint8_t *p = blk_rd_bytes(&dbl, 8);
			if (!p)
				CL_FAIL(l, g + BATTR_DOUBLE);
			uint64_t bits = blk_le64(p);
			c->attr_val[k] = nd;
			memcpy(&c->attr_dbl[nd++], &bits, 8);
			break;
		}
		case ANY_EMPTY:
			c->attr_val[k] = 0;
			break;
		case ANY_ARRAY:
		case ANY_KVLIST:
		case ANY_BYTES: {
			uint64_t len = blk_rd_varint(&oth);
			if (oth.err || len > blk_left(&oth))
				CL_FAIL(l, g + BATTR_OTHER);
			struct blk_cur sub = {oth.p, oth.p + len, 0};
			struct any_value av;
			oth.p += len;
			rc = blk_dec_any(&sub, NULL, &av, 1);
			if (rc == CLEW_ENOMEM)
				return rc;
			if (rc < 0 || sub.p != sub.end || av.type != t)
				CL_FAIL(l, g + BATTR_OTHER);
			c->attr_val[k] = no++;
			break;
		}
		default:
			CL_FAIL(l, g + BATTR_TYPE);
		}
	}
	if (str.p != str.end)
		CL_FAIL(l, g + BATTR_STR);
	if (in.p != in.end)
		CL_FAIL(l, g + BATTR_INT);
	if (dbl.p != dbl.end)
		CL_FAIL(l, g + BATTR_DOUBLE);
	if (bol.p != bol.end)
		CL_FAIL(l, g + BATTR_BOOL);
	if (oth.p != oth.end)
		CL_FAIL(l, g + BATTR_OTHER);
	return 0;
}

static int cols_load(struct cols_ld *l, unsigned want)
{
	struct block_cols *c = l->c;
	struct cols_priv *pv = l->pv;
	struct block *b = l->b;
	const struct block_page_info *pi = block_page(b, l->page);
	uint32_t ns = pi->spans, nt = pi->traces;
	struct blk_cur cur;
	int rc;
	c->spans = ns;
	c->traces = nt;
	if (want & BLOCK_COLS_START)
		want |= BLOCK_COLS_TRACES;
	if (want & BLOCK_COLS_NAME)
		want |= BLOCK_COLS_DICT_NAMES;
	if (want & BLOCK_COLS_SPAN_ATTRS)
		want |= BLOCK_COLS_DICT_KEYS | BLOCK_COLS_DICT_VALUES;
	if (want & BLOCK_COLS_STATUS_MSG)
		want |= BLOCK_COLS_DICT_VALUES;
	want &= ~pv->have;
	if ((want & BLOCK_COLS_DICT_NAMES) && (rc = cols_dict(l, 0)) < 0)
		return rc;
	if ((want & BLOCK_COLS_DICT_KEYS) && (rc = cols_dict(l, 1)) < 0)
		return rc;
	if ((want & BLOCK_COLS_DICT_VALUES) && (rc = cols_dict(l, 2)) < 0)
		return rc;
	pv->have |= want; /* on failure the whole load is dropped */
	if (want & BLOCK_COLS_TRACE_IDS) {
		if ((rc = cols_sec(l, BCOL_TRACE_ID, &cur)) < 0)
			return rc;
		if (blk_left(&cur) != (size_t)nt * 16)
			CL_FAIL(l, BCOL_TRACE_ID);
		c->trace_ids = cur.p;
	}
	if (want & BLOCK_COLS_TRACES) {
		if ((rc = cols_grow(&c->trace_nspans, &pv->cap_tn, (size_t)nt + 1, sizeof(uint32_t))) < 0 ||
		    (rc = cols_grow(&c->trace_first, &pv->cap_tf, (size_t)nt + 1, sizeof(uint32_t))) < 0)
			return rc;
		if ((rc = cols_ids(l, BCOL_TRACE_NSPANS, nt, (uint64_t)ns + 1, c->trace_nspans)) < 0)
			return rc;
		uint64_t rows = 0;
		for (uint32_t t = 0; t < nt; t++) {
			c->trace_first[t] = (uint32_t)rows;
			if (c->trace_nspans[t] == 0)
				CL_FAIL(l, BCOL_TRACE_NSPANS);
			rows += c->trace_nspans[t];
		}
		if (rows != ns)
			CL_FAIL(l, BCOL_TRACE_NSPANS);
		c->trace_first[nt] = ns;
	}
	if (want & BLOCK_COLS_START) {
		if ((rc = cols_grow(&c->start, &pv->cap_start, (size_t)ns + 1 + nt, sizeof(int64_t))) < 0)
			return rc;
		int64_t *ts = c->start + ns + 1; /* trace starts, after the span starts */
		if ((rc = cols_zz(l, BCOL_TRACE_START, nt, ts)) < 0 || (rc = cols_zz(l, BCOL_START, ns, c->start)) < 0)
			return rc;
		for (uint32_t t = 0; t < nt; t++) {
			uint64_t base = (uint64_t)ts[t] + (uint64_t)l->info.min_start_ns;
			for (uint32_t i = c->trace_first[t]; i < c->trace_first[t + 1]; i++)
				c->start[i] = (int64_t)(base + (uint64_t)c->start[i]);
		}
	}
	if (want & BLOCK_COLS_DURATION) {
		if ((rc = cols_grow(&c->duration, &pv->cap_dur, (size_t)ns + 1, sizeof(int64_t))) < 0 ||
		    (rc = cols_zz(l, BCOL_DURATION, ns, c->duration)) < 0)
			return rc;
	}
	if (want & BLOCK_COLS_SCOPE) {
		if ((rc = cols_grow(&c->scope, &pv->cap_scope, (size_t)ns + 1, sizeof(uint32_t))) < 0 ||
		    (rc = cols_ids(l, BCOL_SCOPE, ns, l->info.scopes, c->scope)) < 0)
			return rc;
	}
	if (want & BLOCK_COLS_NAME) {
		if ((rc = cols_grow(&c->name, &pv->cap_name, (size_t)ns + 1, sizeof(uint32_t))) < 0 ||
		    (rc = cols_ids(l, BCOL_NAME, ns, c->dict_n[0], c->name)) < 0)
			return rc;
	}
	if (want & BLOCK_COLS_STATUS_MSG) {
		if ((rc = cols_grow(&c->status_msg, &pv->cap_smsg, (size_t)ns + 1, sizeof(uint32_t))) < 0 ||
		    (rc = cols_ids(l, BCOL_STATUS_MSG, ns, c->dict_n[2], c->status_msg)) < 0)
			return rc;
	}
	if (want & BLOCK_COLS_KIND_STATUS) {
		if ((rc = cols_sec(l, BCOL_KIND_STATUS, &cur)) < 0)
			return rc;
		if (blk_left(&cur) != (size_t)ns * 2)
			CL_FAIL(l, BCOL_KIND_STATUS);
		c->kind_status = cur.p;
	}
	if (want & BLOCK_COLS_SPAN_ATTRS)
		return cols_attrs(l);
	return 0;
}

int block_cols_load(struct block *b, uint32_t p, unsigned want, struct block_cols *c)
{
	int rc;
	if (p >= block_pages(b))
		return CLEW_EINVAL;
	if (!c->priv && !(c->priv = try_calloc(1, sizeof(struct cols_priv))))
		return CLEW_ENOMEM;
	struct cols_ld l = {.b = b, .page = p, .c = c, .pv = c->priv, .bad_col = -1};
	block_get_info(b, &l.info);
	if (l.pv->blk != b || l.pv->page != p) {
		cols_drop(l.pv);
		c->trace_ids = c->kind_status = NULL;
		c->n_attrs = 0;
		memset(c->dict_n, 0, sizeof c->dict_n);
		l.pv->blk = b;
		l.pv->page = p;
	}
	rc = cols_load(&l, want);
	if (rc == CLEW_ECORRUPT && l.bad_col >= 0)
		rc = blk_col_corrupt(b, p, (unsigned)l.bad_col, l.err, sizeof l.err);
	if (rc < 0)
		cols_drop(l.pv);
	return rc;
}


/* ---- one attribute key ---- */

void block_key_col_free(struct block_key_col *k)
{
	free(k->type);
	free(k->val);
	memset(k, 0, sizeof *k);
}

/* A typed value stream walked to the values of the key's attributes:
 * pos is the attribute index up to which types were counted, ord the
 * values of this type before pos, at the stream position of value ord. */
struct key_stream {
	struct blk_cur cur;
	uint32_t pos, ord, at;
	bool open;
};

/* Move s to the value of attribute k (of type t), *ord its ordinal among
 * the values of its type: 0, or CL_FAIL. */
static int key_stream_to(struct cols_ld *l, int col, struct key_stream *s, const uint8_t *typ, uint32_t k, uint8_t t,
			 uint32_t *ord)
{
	int rc;
	if (!s->open) {
		if ((rc = cols_sec(l, col, &s->cur)) < 0)
			return rc;
		s->open = true;
	}
	*ord = s->ord + (uint32_t)swar_count_eq(typ + s->pos, k - s->pos, t);
	s->ord = *ord + 1;
	s->pos = k + 1;
	if (t == ANY_STRING || t == ANY_INT) {
		const uint8_t *q = swar_skip_varints(s->cur.p, s->cur.end, *ord - s->at);
		if (!q)
			CL_FAIL(l, col);
		s->cur.p = q;
		s->at = *ord;
	}
	return 0;
}

/* Room in o for ns spans. */
static int key_col_reserve(struct block_key_col *o, uint32_t ns)
{
	if (o->cap < (size_t)ns + 1) {
		size_t cap = (size_t)ns + 1 + ns / 4;
		free(o->type);
		free(o->val);
		o->cap = 0;
		o->type = try_malloc(cap);
		o->val = try_malloc(cap * sizeof *o->val);
		if (!o->type || !o->val)
			return CLEW_ENOMEM;
		o->cap = cap;
	}
	o->spans = ns;
	return 0;
}

/* cols_key from dedicated column slot of the page (whose key it must be):
 * one varint per span, each decoded and checked against dict[2], the
 * column consumed to its last byte; no generic column is read. */
static int cols_ded(struct cols_ld *l, unsigned slot, const uint8_t *sel, struct block_key_col *o)
{
	const int col = BCOL_SPAN_DED + (int)slot;
	struct blk_cur cur;
	int rc;
	uint32_t ns = l->c->spans;
	uint64_t nv = l->c->dict_n[2];
	if ((rc = key_col_reserve(o, ns)) < 0 || (rc = cols_sec(l, col, &cur)) < 0)
		return rc;
	const uint8_t *p = cur.p;
	for (uint32_t i = 0; i < ns; i++) {
		uint64_t v;
		if (p < cur.end && *p < 0x80)
			v = *p++;
		else if (!(p = swar_read_varint(p, cur.end, &v)))
			CL_FAIL(l, col);
		if (v > nv)
			CL_FAIL(l, col);
		bool has = v && (!sel || sel[i]);
		o->type[i] = has ? ANY_STRING : BLOCK_KEY_NONE;
		o->val[i] = has ? v - 1 : 0;
	}
	if (p != cur.end)
		CL_FAIL(l, col);
	return 0;
}

/* The dedicated column slot of page p holding key kid, or -1. */
static int ded_slot(const struct block *b, uint32_t p, uint32_t kid)
{
	const struct block_page_info *pi = block_page(b, p);
	for (int k = 0; k < BLOCK_DED_MAX && kid != UINT32_MAX; k++)
		if (pi->ded_key[k] == kid + 1)
			return k;
	return -1;
}

static int cols_key(struct cols_ld *l, uint32_t kid, const uint8_t *sel, struct block_key_col *o)
{
	struct block_cols *c = l->c;
	const int g = BCOL_SPAN_ATTR;
	struct blk_cur kc, typ;
	struct key_stream ss = {0}, is = {0}, ds = {0}, bs = {0};
	int rc;
	uint32_t ns = c->spans;
	if ((rc = key_col_reserve(o, ns)) < 0)
		return rc;
	memset(o->type, BLOCK_KEY_NONE, ns);
	if (kid == UINT32_MAX)
		return 0;
	if (kid >= c->dict_n[1])
		return CLEW_EINVAL;
	if ((rc = cols_first(l)) < 0 || (rc = cols_sec(l, g + BATTR_TYPE, &typ)) < 0 ||
	    (rc = cols_sec(l, g + BATTR_KEY, &kc)) < 0)
		return rc;
	uint32_t n = c->n_attrs;
	if (!swar_bytes_below(typ.p, n, ANY_BYTES + 1))
		CL_FAIL(l, g + BATTR_TYPE);
	uint32_t n_keys = c->dict_n[1], n_values = c->dict_n[2];
	bool bytes = blk_left(&kc) == n; /* every key id one byte */
	if (bytes && !swar_bytes_below(kc.p, n, n_keys < 0x80 ? n_keys : 0x80))
		CL_FAIL(l, g + BATTR_KEY);
	uint32_t span = 0;
	for (uint32_t k = 0; k < n; k++) {
		if (bytes && sel) {
			/* the first attribute with the key of each selected span,
			 * searched within the span's attributes only */
			if (kid >= 0x80)
				break;
			uint32_t hit = UINT32_MAX;
			for (; span < ns && hit == UINT32_MAX; span++) {
				if (!sel[span]) {
					uint64_t w;
					if (!(span & 7) && ns - span >= 8 && (memcpy(&w, sel + span, 8), w == 0))
						span += 7; /* eight unselected spans */
					continue;
				}
				if (o->type[span] != BLOCK_KEY_NONE)
					continue;
				for (uint32_t j = c->attr_first[span]; j < c->attr_first[span + 1]; j++) {
					if (kc.p[j] == kid) {
						hit = j;
						break;
					}
				}
			}
			if (hit == UINT32_MAX)
				break;
			k = hit;
			span--;
		} else if (bytes) {
			if (kid >= 0x80)
				break;
			const uint8_t *m = memchr(kc.p + k, (int)kid, n - k);
			if (!m)
				break;
			k = (uint32_t)(m - kc.p);
		} else {
			uint64_t v = blk_rd_varint(&kc);
			if (kc.err || v >= n_keys)
				CL_FAIL(l, g + BATTR_KEY);
			if (v != kid)
				continue;
		}
		while (c->attr_first[span + 1] <= k)
			span++;
		if (o->type[span] != BLOCK_KEY_NONE)
			continue; /* not the span's first attribute with the key */
		uint8_t t = typ.p[k];
		if (sel && !sel[span]) {
			/* not wanted: marked so that later attributes of the span
			 * with the key are passed over too, then unmarked */
			o->type[span] = BLOCK_KEY_SKIP;
			continue;
		}
		uint64_t val = 0;
		uint32_t ord;
		switch (t) {
		case ANY_STRING:
			if ((rc = key_stream_to(l, g + BATTR_STR, &ss, typ.p, k, t, &ord)) < 0)
				return rc;
			val = blk_rd_varint(&ss.cur);
			if (ss.cur.err || val >= n_values)
				CL_FAIL(l, g + BATTR_STR);
			ss.at++;
			break;
		case ANY_INT:
			if ((rc = key_stream_to(l, g + BATTR_INT, &is, typ.p, k, t, &ord)) < 0)
				return rc;
			val = (uint64_t)blk_unzigzag(blk_rd_varint(&is.cur));
			if (is.cur.err)
				CL_FAIL(l, g + BATTR_INT);
			is.at++;
			break;
		case ANY_DOUBLE:
			if ((rc = key_stream_to(l, g + BATTR_DOUBLE, &ds, typ.p, k, t, &ord)) < 0)
				return rc;
			if (blk_left(&ds.cur) / 8 <= ord)
				CL_FAIL(l, g + BATTR_DOUBLE);
			val = blk_le64(ds.cur.p + (size_t)ord * 8);
			break;
		case ANY_BOOL:
			if ((rc = key_stream_to(l, g + BATTR_BOOL, &bs, typ.p, k, t, &ord)) < 0)
				return rc;
			if (blk_left(&bs.cur) <= ord || bs.cur.p[ord] > 1)
				CL_FAIL(l, g + BATTR_BOOL);
			val = bs.cur.p[ord];
			break;
		default:
			break;
		}
		o->type[span] = t;
		o->val[span] = val;
	}
	if (!bytes && !kc.err && kc.p != kc.end) {
		/* the loop may stop early only in the byte form; finish checking */
		CL_FAIL(l, g + BATTR_KEY);
	}
	if (sel)
		for (uint32_t i = 0; i < ns; i++)
			if (o->type[i] == BLOCK_KEY_SKIP)
				o->type[i] = BLOCK_KEY_NONE;
	/* the string stream's framing: one varint per string attribute */
	if (!ss.open && (rc = cols_sec(l, g + BATTR_STR, &ss.cur)) < 0)
		return rc;
	uint64_t strings = ss.ord + (uint32_t)swar_count_eq(typ.p + ss.pos, n - ss.pos, ANY_STRING);
	size_t left = blk_left(&ss.cur);
	if (ss.at + swar_varint_ends(ss.cur.p, left) != strings || (left && (ss.cur.end[-1] & 0x80)))
		CL_FAIL(l, g + BATTR_STR);
	return 0;
}

int block_cols_key(struct block *b, uint32_t p, struct block_cols *c, uint32_t kid, struct block_key_col *out)
{
	return block_cols_key_sel(b, p, c, kid, NULL, out);
}

int block_cols_key_sel(struct block *b, uint32_t p, struct block_cols *c, uint32_t kid, const uint8_t *sel,
		       struct block_key_col *out)
{
	int rc;
	if ((rc = block_cols_load(b, p, BLOCK_COLS_DICT_KEYS | BLOCK_COLS_DICT_VALUES, c)) < 0)
		return rc;
	struct cols_ld l = {.b = b, .page = p, .c = c, .pv = c->priv, .bad_col = -1};
	block_get_info(b, &l.info);
	int slot = kid < c->dict_n[1] ? ded_slot(b, p, kid) : -1;
	rc = slot >= 0 ? cols_ded(&l, (unsigned)slot, sel, out) : cols_key(&l, kid, sel, out);
	if (rc == CLEW_ECORRUPT && l.bad_col >= 0)
		rc = blk_col_corrupt(b, p, (unsigned)l.bad_col, l.err, sizeof l.err);
	if (rc < 0)
		cols_drop(l.pv);
	return rc;
}

int blk_ded_check(struct block *b, uint32_t p, char *err, size_t errlen, uint64_t *bad_off)
{
	const struct block_page_info *pi = block_page(b, p);
	struct block_cols c;
	struct block_key_col gen = {0}, ded = {0};
	int rc = 0;
	bool any = false;
	for (int k = 0; k < BLOCK_DED_MAX; k++)
		any |= pi->ded_key[k] != 0;
	if (!any)
		return 0;
	block_cols_init(&c);
	if ((rc = block_cols_load(b, p, BLOCK_COLS_DICT_KEYS | BLOCK_COLS_DICT_VALUES, &c)) < 0)
		goto out;
	struct cols_ld l = {.b = b, .page = p, .c = &c, .pv = c.priv, .bad_col = -1};
	block_get_info(b, &l.info);
	for (unsigned k = 0; k < BLOCK_DED_MAX && rc == 0; k++) {
		uint32_t kid = pi->ded_key[k] - 1;
		if (!pi->ded_key[k])
			continue;
		l.bad_col = BCOL_SPAN_DED + (int)k;
		if (kid >= c.dict_n[1]) {
			rc = CLEW_ECORRUPT;
			break;
		}
		if ((rc = cols_key(&l, kid, NULL, &gen)) < 0 || (rc = cols_ded(&l, k, NULL, &ded)) < 0)
			break;
		/* the same answer as the generic columns, span by span */
		for (uint32_t i = 0; i < c.spans && rc == 0; i++)
			if (gen.type[i] != ded.type[i] || (gen.type[i] == ANY_STRING && gen.val[i] != ded.val[i]))
				rc = CLEW_ECORRUPT;
	}
	if (rc == CLEW_ECORRUPT && l.bad_col >= 0) {
		*bad_off = blk_col_offset(b, p, (unsigned)l.bad_col);
		rc = blk_col_corrupt(b, p, (unsigned)l.bad_col, err, errlen);
	}
out:
	block_key_col_free(&gen);
	block_key_col_free(&ded);
	block_cols_free(&c);
	return rc;
}

/* ---- durations of selected spans ---- */

static int cols_dur_sel(struct cols_ld *l, const uint8_t *sel)
{
	struct block_cols *c = l->c;
	struct cols_priv *pv = l->pv;
	struct blk_cur cur;
	uint32_t ns = c->spans;
	int rc;
	if ((rc = cols_grow(&c->duration, &pv->cap_dur, (size_t)ns + 1, sizeof(int64_t))) < 0 ||
	    (rc = cols_sec(l, BCOL_DURATION, &cur)) < 0)
		return rc;
	/* one varint per span: the column's framing checked in full */
	size_t len = blk_left(&cur);
	if (swar_varint_ends(cur.p, len) != ns || (len && (cur.end[-1] & 0x80)))
		CL_FAIL(l, BCOL_DURATION);
	const uint8_t *p = cur.p;
	uint32_t at = 0; /* the span whose varint p is at */
	memset(c->duration, 0, (size_t)ns * sizeof *c->duration);
	for (uint32_t i = 0; i < ns; i++) {
		if (!sel[i]) {
			uint64_t w;
			if (!(i & 7) && ns - i >= 8 && (memcpy(&w, sel + i, 8), w == 0))
				i += 7; /* eight unselected spans */
			continue;
		}
		if (i > at && !(p = swar_skip_varints(p, cur.end, i - at)))
			CL_FAIL(l, BCOL_DURATION);
		uint64_t x;
		if (!(p = swar_read_varint(p, cur.end, &x)))
			CL_FAIL(l, BCOL_DURATION);
		c->duration[i] = blk_unzigzag(x);
		at = i + 1;
	}
	return 0;
}

int block_cols_duration_sel(struct block *b, uint32_t p, struct block_cols *c, const uint8_t *sel)
{
	struct cols_priv *pv = c->priv;
	if (!pv || pv->blk != b || pv->page != p)
		return CLEW_EINVAL;
	if (pv->have & BLOCK_COLS_DURATION)
		return 0;
	struct cols_ld l = {.b = b, .page = p, .c = c, .pv = pv, .bad_col = -1};
	block_get_info(b, &l.info);
	int rc = cols_dur_sel(&l, sel);
	if (rc == CLEW_ECORRUPT && l.bad_col >= 0)
		rc = blk_col_corrupt(b, p, (unsigned)l.bad_col, l.err, sizeof l.err);
	if (rc < 0)
		cols_drop(l.pv);
	return rc;
}

/* The ids of column col of the spans with sel[i] != 0 into out (the others
 * 0), each below limit; the column's framing checked in full. */
static int cols_ids_sel(struct cols_ld *l, int col, uint64_t limit, const uint8_t *sel, uint32_t *out)
{
	struct blk_cur cur;
	uint32_t ns = l->c->spans;
	int rc;
	if ((rc = cols_sec(l, col, &cur)) < 0)
		return rc;
	size_t len = blk_left(&cur);
	if (swar_varint_ends(cur.p, len) != ns || (len && (cur.end[-1] & 0x80)))
		CL_FAIL(l, col);
	const uint8_t *p = cur.p;
	uint32_t at = 0; /* the span whose varint p is at */
	memset(out, 0, (size_t)ns * sizeof *out);
	for (uint32_t i = 0; i < ns; i++) {
		if (!sel[i]) {
			uint64_t w;
			if (!(i & 7) && ns - i >= 8 && (memcpy(&w, sel + i, 8), w == 0))
				i += 7; /* eight unselected spans */
			continue;
		}
		if (i > at && !(p = swar_skip_varints(p, cur.end, i - at)))
			CL_FAIL(l, col);
		uint64_t x;
		if (!(p = swar_read_varint(p, cur.end, &x)) || x >= limit)
			CL_FAIL(l, col);
		out[i] = (uint32_t)x;
		at = i + 1;
	}
	return 0;
}

int block_cols_ids_sel(struct block *b, uint32_t p, struct block_cols *c, unsigned what, const uint8_t *sel)
{
	struct cols_priv *pv = c->priv;
	if (!pv || pv->blk != b || pv->page != p)
		return CLEW_EINVAL;
	if (pv->have & what)
		return 0;
	struct cols_ld l = {.b = b, .page = p, .c = c, .pv = pv, .bad_col = -1};
	block_get_info(b, &l.info);
	uint32_t ns = c->spans;
	int rc;
	switch (what) {
	case BLOCK_COLS_SCOPE:
		if ((rc = cols_grow(&c->scope, &pv->cap_scope, (size_t)ns + 1, sizeof(uint32_t))) == 0)
			rc = cols_ids_sel(&l, BCOL_SCOPE, l.info.scopes, sel, c->scope);
		break;
	case BLOCK_COLS_NAME:
		if (!(pv->have & BLOCK_COLS_DICT_NAMES))
			return CLEW_EINVAL;
		if ((rc = cols_grow(&c->name, &pv->cap_name, (size_t)ns + 1, sizeof(uint32_t))) == 0)
			rc = cols_ids_sel(&l, BCOL_NAME, c->dict_n[0], sel, c->name);
		break;
	case BLOCK_COLS_STATUS_MSG:
		if (!(pv->have & BLOCK_COLS_DICT_VALUES))
			return CLEW_EINVAL;
		if ((rc = cols_grow(&c->status_msg, &pv->cap_smsg, (size_t)ns + 1, sizeof(uint32_t))) == 0)
			rc = cols_ids_sel(&l, BCOL_STATUS_MSG, c->dict_n[2], sel, c->status_msg);
		break;
	default:
		return CLEW_EINVAL;
	}
	if (rc == CLEW_ECORRUPT && l.bad_col >= 0)
		rc = blk_col_corrupt(b, p, (unsigned)l.bad_col, l.err, sizeof l.err);
	if (rc < 0)
		cols_drop(l.pv);
	return rc;
}
