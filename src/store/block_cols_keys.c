/* Several span attribute keys of a block page decoded in one walk of the
 * span attribute group (block_cols_keys): the count, key and type columns
 * are read once, the values of the keys asked for are decoded and those of
 * the other keys are skipped, a run of them at a time, without decoding.
 * The analyses use it to read only the keys they still need from a page
 * (correlations' latency figures). Layout: docs/storage.md. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "store/block_int.h"
#include "store/swar.h"

void block_keys_col_free(struct block_keys_col *k)
{
	free(k->first);
	free(k->kid);
	free(k->type);
	free(k->val);
	memset(k, 0, sizeof *k);
}

/* A value stream of one type: pos is the attribute up to which the types
 * were counted, ord the values of the type before it, at the ordinal of
 * the value cur is at (varint streams). */
struct ks_stream {
	struct blk_cur cur;
	uint64_t pos, ord, at;
};

struct ks_walk {
	struct block *b;
	uint32_t page;
	int bad_col;
	struct blk_col col[BATTR_COLS];
	char err[512];
};

static int ks_grow(struct block_keys_col *o, uint32_t spans, size_t n)
{
	if (o->cap_spans < (size_t)spans + 1) {
		size_t cap = (size_t)spans + 1 + spans / 4;
		uint32_t *f = try_realloc(o->first, cap * sizeof *f);
		if (!f)
			return CLEW_ENOMEM;
		o->first = f;
		o->cap_spans = cap;
	}
	if (o->cap < n + 1) {
		size_t cap = n + 1 + n / 2;
		uint32_t *k = try_realloc(o->kid, cap * sizeof *k);
		if (k)
			o->kid = k;
		uint8_t *t = try_realloc(o->type, cap);
		if (t)
			o->type = t;
		uint64_t *v = try_realloc(o->val, cap * sizeof *v);
		if (v)
			o->val = v;
		if (!k || !t || !v)
			return CLEW_ENOMEM;
		o->cap = cap;
	}
	return 0;
}

#define KS_FAIL(w, c)                                                                                      \
	do {                                                                                               \
		(w)->bad_col = BCOL_SPAN_ATTR + (c);                                                       \
		return CLEW_ECORRUPT;                                                                      \
	} while (0)

/* The value of attribute j (type t, a wanted key) into *val. */
static int ks_value(struct ks_walk *w, struct ks_stream *s, const uint8_t *typ, uint64_t j, uint8_t t,
		    uint32_t n_values, uint64_t *val)
{
	static const uint8_t col_of[] = {[ANY_STRING] = BATTR_STR,
					 [ANY_BOOL] = BATTR_BOOL,
					 [ANY_INT] = BATTR_INT,
					 [ANY_DOUBLE] = BATTR_DOUBLE};
	*val = 0;
	if (t < ANY_STRING || t > ANY_DOUBLE)
		return 0;
	struct ks_stream *x = &s[t];
	uint64_t ord = x->ord + (uint64_t)swar_count_eq(typ + x->pos, j - x->pos, t);
	x->ord = ord + 1;
	x->pos = j + 1;
	switch (t) {
	case ANY_STRING:
	case ANY_INT: {
		const uint8_t *q = swar_skip_varints(x->cur.p, x->cur.end, ord - x->at);
		if (!q)
			KS_FAIL(w, col_of[t]);
		x->cur.p = q;
		uint64_t v = blk_rd_varint(&x->cur);
		if (x->cur.err || (t == ANY_STRING && v >= n_values))
			KS_FAIL(w, col_of[t]);
		x->at = ord + 1;
		*val = t == ANY_INT ? (uint64_t)blk_unzigzag(v) : v;
		break;
	}
	case ANY_DOUBLE:
		if (blk_left(&x->cur) / 8 <= ord)
			KS_FAIL(w, BATTR_DOUBLE);
		*val = blk_le64(x->cur.p + ord * 8);
		break;
	default: /* ANY_BOOL */
		if (blk_left(&x->cur) <= ord || x->cur.p[ord] > 1)
			KS_FAIL(w, BATTR_BOOL);
		*val = x->cur.p[ord];
		break;
	}
	return 0;
}

/* A varint at *pp (one and two bytes inline); false when it runs past end
 * or over 64 bits. */
static inline bool ks_rd(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	if (end - p >= 2) {
		if (!(p[0] & 0x80)) {
			*v = p[0];
			*pp = p + 1;
			return true;
		}
		if (!(p[1] & 0x80)) {
			*v = (uint64_t)(p[0] & 0x7f) | (uint64_t)p[1] << 7;
			*pp = p + 2;
			return true;
		}
	}
	struct blk_cur c = {p, end, 0};
	*v = blk_rd_varint(&c);
	*pp = c.p;
	return !c.err;
}

/* The walk when every key id is one byte: the streams of the spans asked
 * for are read in order, every value decoded (and checked) and written
 * where the next wanted one goes, kept or not by the key without a branch
 * (which keys are wanted varies attribute by attribute, so a branch would
 * be mispredicted often); the values of the spans not selected are counted
 * by type and skipped together. Leaves s[t] as ks_walk's final checks
 * expect (every type counted up to the last attribute). */
static int ks_walk_bytes(struct ks_walk *w, struct blk_cur *cnt, const uint8_t *keys, const uint8_t *typ, size_t n,
			 struct ks_stream *s, const uint8_t *want, const uint8_t *sel, uint32_t n_values,
			 struct block_keys_col *o, uint32_t ns, uint64_t *jp)
{
	uint64_t j = 0, ps = 0, pi = 0, ob = 0, od = 0, ns_str = 0, ns_int = 0;
	const uint8_t *sp = s[ANY_STRING].cur.p, *se = s[ANY_STRING].cur.end;
	const uint8_t *ip = s[ANY_INT].cur.p, *ie = s[ANY_INT].cur.end;
	const uint8_t *bp = s[ANY_BOOL].cur.p, *dp = s[ANY_DOUBLE].cur.p;
	size_t bn = blk_left(&s[ANY_BOOL].cur), dn = blk_left(&s[ANY_DOUBLE].cur) / 8;
	uint32_t found = 0;
	int rc;
	for (uint32_t i = 0; i < ns; i++) {
		o->first[i] = found;
		uint64_t m;
		if (cnt->p < cnt->end && !(*cnt->p & 0x80))
			m = *cnt->p++;
		else
			m = blk_rd_varint(cnt);
		if (cnt->err || m > n - j)
			KS_FAIL(w, BATTR_COUNT);
		uint64_t end = j + m;
		if (sel && !sel[i]) {
			for (; j < end; j++) {
				uint8_t t = typ[j];
				ps += t == ANY_STRING;
				pi += t == ANY_INT;
				ob += t == ANY_BOOL;
				od += t == ANY_DOUBLE;
			}
			continue;
		}
		if (ps) {
			if (!(sp = swar_skip_varints(sp, se, ps)))
				KS_FAIL(w, BATTR_STR);
			ns_str += ps;
			ps = 0;
		}
		if (pi) {
			if (!(ip = swar_skip_varints(ip, ie, pi)))
				KS_FAIL(w, BATTR_INT);
			ns_int += pi;
			pi = 0;
		}
		if (found + m > o->cap && (rc = ks_grow(o, ns, found + m + (size_t)found / 2)) < 0)
			return rc;
		uint32_t *okid = o->kid;
		uint8_t *otype = o->type;
		uint64_t *oval = o->val;
		for (; j < end; j++) {
			uint8_t t = typ[j], kid = keys[j];
			uint64_t v = 0;
			if (t == ANY_STRING) {
				if (!ks_rd(&sp, se, &v) || v >= n_values)
					KS_FAIL(w, BATTR_STR);
				ns_str++;
			} else if (t == ANY_INT) {
				if (!ks_rd(&ip, ie, &v))
					KS_FAIL(w, BATTR_INT);
				v = (uint64_t)blk_unzigzag(v);
				ns_int++;
			} else if (t == ANY_DOUBLE) {
				if (dn <= od)
					KS_FAIL(w, BATTR_DOUBLE);
				v = blk_le64(dp + od++ * 8);
			} else if (t == ANY_BOOL) {
				if (bn <= ob || bp[ob] > 1)
					KS_FAIL(w, BATTR_BOOL);
				v = bp[ob++];
			}
			oval[found] = v;
			okid[found] = kid;
			otype[found] = t;
			found += want[kid] != 0;
		}
	}
	o->first[ns] = found;
	o->n = found;
	s[ANY_STRING].ord = ns_str + ps;
	s[ANY_STRING].at = ns_str;
	s[ANY_STRING].cur.p = sp;
	s[ANY_INT].ord = ns_int + pi;
	s[ANY_INT].at = ns_int;
	s[ANY_INT].cur.p = ip;
	s[ANY_BOOL].ord = ob;
	s[ANY_DOUBLE].ord = od;
	for (unsigned t = ANY_STRING; t <= ANY_DOUBLE; t++)
		s[t].pos = j;
	*jp = j;
	return 0;
}

static int ks_walk(struct ks_walk *w, const struct block_cols *c, const uint8_t *want, const uint8_t *sel,
		   struct block_keys_col *o)
{
	int rc;
	for (unsigned k = 0; k < BATTR_COLS; k++) {
		if (k == BATTR_OTHER)
			continue;
		if ((rc = blk_col_load(w->b, w->page, BCOL_SPAN_ATTR + k, &w->col[k], w->err, sizeof w->err)) < 0)
			return rc;
	}
	uint32_t ns = c->spans, n_keys = c->dict_n[1], n_values = c->dict_n[2];
	struct blk_cur cnt = {w->col[BATTR_COUNT].data, w->col[BATTR_COUNT].data + w->col[BATTR_COUNT].len, 0};
	struct blk_cur kc = {w->col[BATTR_KEY].data, w->col[BATTR_KEY].data + w->col[BATTR_KEY].len, 0};
	const uint8_t *typ = w->col[BATTR_TYPE].data;
	size_t n = w->col[BATTR_TYPE].len; /* one type byte per attribute */
	struct ks_stream s[ANY_DOUBLE + 1];
	memset(s, 0, sizeof s);
	static const uint8_t cols[] = {0, BATTR_STR, BATTR_BOOL, BATTR_INT, BATTR_DOUBLE};
	for (unsigned t = ANY_STRING; t <= ANY_DOUBLE; t++)
		s[t].cur = (struct blk_cur){w->col[cols[t]].data, w->col[cols[t]].data + w->col[cols[t]].len, 0};
	if (!swar_bytes_below(typ, n, ANY_BYTES + 1))
		KS_FAIL(w, BATTR_TYPE);
	bool bytes = blk_left(&kc) == n; /* every key id one byte */
	if (bytes && !swar_bytes_below(kc.p, n, n_keys < 0x80 ? n_keys : 0x80))
		KS_FAIL(w, BATTR_KEY);
	uint32_t found = 0;
	uint64_t j = 0;
	if ((rc = ks_grow(o, ns, 64)) < 0)
		return rc;
	o->spans = ns;
	if (bytes) {
		if ((rc = ks_walk_bytes(w, &cnt, kc.p, typ, n, s, want, sel, n_values, o, ns, &j)) < 0)
			return rc;
		goto check;
	}
	for (uint32_t i = 0; i < ns; i++) {
		o->first[i] = found;
		uint64_t m;
		if (cnt.p < cnt.end && !(*cnt.p & 0x80))
			m = *cnt.p++;
		else
			m = blk_rd_varint(&cnt);
		if (cnt.err || m > n - j)
			KS_FAIL(w, BATTR_COUNT);
		uint64_t end = j + m;
		if (bytes && sel && !sel[i]) {
			j = end;
			continue;
		}
		for (; j < end; j++) {
			uint64_t kid;
			if (bytes) {
				kid = kc.p[j];
			} else {
				kid = blk_rd_varint(&kc);
				if (kc.err || kid >= n_keys)
					KS_FAIL(w, BATTR_KEY);
				if (sel && !sel[i])
					continue;
			}
			if (!want[kid])
				continue;
			if (found == o->cap && (rc = ks_grow(o, ns, (size_t)found * 2)) < 0)
				return rc;
			uint8_t t = typ[j];
			if ((rc = ks_value(w, s, typ, j, t, n_values, &o->val[found])) < 0)
				return rc;
			o->kid[found] = (uint32_t)kid;
			o->type[found] = t;
			found++;
		}
	}
	o->first[ns] = found;
	o->n = found;
check:
	if (cnt.p != cnt.end)
		KS_FAIL(w, BATTR_COUNT);
	if (j != n)
		KS_FAIL(w, BATTR_TYPE);
	if (!bytes && kc.p != kc.end)
		KS_FAIL(w, BATTR_KEY);
	/* the streams' framing: every value there, nothing after */
	for (unsigned t = ANY_STRING; t <= ANY_DOUBLE; t++) {
		struct ks_stream *x = &s[t];
		uint64_t total = x->ord + (uint64_t)swar_count_eq(typ + x->pos, n - x->pos, (uint8_t)t);
		size_t left = blk_left(&x->cur);
		bool ok;
		if (t == ANY_STRING || t == ANY_INT)
			ok = x->at + swar_varint_ends(x->cur.p, (size_t)(x->cur.end - x->cur.p)) == total && !(left && (x->cur.end[-1] & 0x80));
		else
			ok = left == total * (t == ANY_DOUBLE ? 8 : 1);
		if (!ok)
			KS_FAIL(w, cols[t]);
	}
	return 0;
}

int block_cols_keys(struct block *b, uint32_t p, const struct block_cols *c, const uint8_t *want, const uint8_t *sel,
		    struct block_keys_col *out)
{
	const struct block_page_info *pi = block_page(b, p);
	if (!pi || pi->spans != c->spans || (c->dict_n[1] && !c->dict[1]))
		return CLEW_EINVAL;
	struct ks_walk w = {.b = b, .page = p, .bad_col = -1};
	out->n = 0;
	int rc = ks_walk(&w, c, want, sel, out);
	for (unsigned k = 0; k < BATTR_COLS; k++)
		blk_col_release(&w.col[k]);
	if (rc == CLEW_ECORRUPT && w.bad_col >= 0)
		rc = blk_col_corrupt(b, p, (unsigned)w.bad_col, w.err, sizeof w.err);
	return rc;
}
