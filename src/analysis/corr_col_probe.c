/* Correlations' figures pass over block pages: the ranked values looked up
 * once per page (a binary search of the page's sorted dictionaries for
 * strings, by value for small ints and booleans), so that the pass decodes
 * only the keys that carry one. */
#include <stdlib.h>
#include <string.h>

#include "analysis/corr_col_int.h"

/* A small int's text ("-999" to "999") as corr_table_add_counts got it;
 * false for other text. */
static bool parse_small_int(struct slice v, int64_t *out)
{
	size_t i = 0;
	bool neg = v.len > 0 && v.p[0] == '-';
	i = neg;
	if (i >= v.len || v.len - i > 3)
		return false;
	int64_t x = 0;
	for (; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return false;
		x = x * 10 + (v.p[i] - '0');
	}
	*out = neg ? -x : x;
	return true;
}

/* The ranked span attribute values of the table into c->pt. */
int corr_col_probe_targets(struct corr_col *c)
{
	const struct corr_result *r = corr_table_results(c->t);
	uint32_t n = corr_table_n_results(c->t);
	free(c->pt);
	c->pt = NULL;
	c->n_pt = 0;
	if (!n)
		return 0;
	if (!(c->pt = try_calloc(n, sizeof *c->pt)))
		return CLEW_ENOMEM;
	static const struct slice pfx = SLICE_LIT("span.");
	for (uint32_t k = 0; k < n; k++) {
		if (r[k].scope != CORR_SCOPE_SPAN || r[k].key.len < pfx.len || memcmp(r[k].key.p, pfx.p, pfx.len) != 0)
			continue;
		struct ptarget *t = &c->pt[c->n_pt++];
		t->key = slice_make(r[k].key.p + pfx.len, r[k].key.len - pfx.len);
		t->val = r[k].value;
		t->vtype = (uint8_t)r[k].vtype;
		t->slot = (int32_t)k;
		switch (r[k].vtype) {
		case CORR_V_STRING: /* a value at the cap may stand for longer ones */
			t->generic = r[k].truncated_value || r[k].value.len >= CORR_MAX_VALUE_LEN;
			break;
		case CORR_V_INT:
			t->generic = !parse_small_int(r[k].value, &t->ival);
			break;
		case CORR_V_BOOL:
			t->ival = slice_eq(r[k].value, SLICE_LIT("true"));
			break;
		default:
			t->generic = true;
			break;
		}
	}
	return 0;
}

/* The id of s in a sorted page dictionary d (n entries), or -1. */
static int64_t dict_find(const struct slice *d, uint32_t n, struct slice s)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		size_t m = d[mid].len < s.len ? d[mid].len : s.len;
		int cmp = m ? memcmp(d[mid].p, s.p, m) : 0;
		if (cmp == 0)
			cmp = d[mid].len < s.len ? -1 : d[mid].len > s.len;
		if (cmp == 0)
			return mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* The page's ranked span attribute values (the page dictionaries are
 * sorted: a binary search each): w->kok marks the key ids to decode,
 * w->thead/w->tg list each key's values to match, w->kgen the keys whose
 * attributes go through the page table. *any: some key is to decode. */
int corr_col_probe_page(struct corr_col *cc, struct cw *w, const struct block_cols *c, bool *any)
{
	uint32_t nk = c->dict_n[1];
	*any = false;
	if (nk > w->cap_kok || nk > w->cap_thead) {
		if (corr_col_grow((void **)&w->kok, nk, 1) < 0 || corr_col_grow((void **)&w->kgen, nk, 1) < 0 ||
		    corr_col_grow((void **)&w->thead, nk, sizeof *w->thead) < 0)
			return CLEW_ENOMEM;
		w->cap_kok = w->cap_thead = nk;
	}
	if (cc->n_pt > w->cap_tg) {
		if (corr_col_grow((void **)&w->tg, cc->n_pt, sizeof *w->tg) < 0)
			return CLEW_ENOMEM;
		w->cap_tg = cc->n_pt;
	}
	memset(w->kok, 0, nk);
	memset(w->kgen, 0, nk);
	for (uint32_t k = 0; k < nk; k++)
		w->thead[k] = -1;
	uint32_t n = 0;
	for (uint32_t k = 0; k < cc->n_pt; k++) {
		const struct ptarget *t = &cc->pt[k];
		int64_t kid = dict_find(c->dict[1], nk, t->key);
		if (kid < 0)
			continue;
		if (t->generic) {
			w->kok[kid] = w->kgen[kid] = 1;
			*any = true;
			continue;
		}
		struct ptg *g = &w->tg[n];
		switch (t->vtype) {
		case CORR_V_STRING: {
			int64_t vid = dict_find(c->dict[2], c->dict_n[2], t->val);
			if (vid < 0)
				continue; /* not on this page */
			g->type = ANY_STRING;
			g->val = (uint64_t)vid;
			break;
		}
		case CORR_V_INT:
			g->type = ANY_INT;
			g->val = (uint64_t)t->ival;
			break;
		default: /* CORR_V_BOOL */
			g->type = ANY_BOOL;
			g->val = (uint64_t)t->ival;
			break;
		}
		g->slot = t->slot;
		g->next = w->thead[kid];
		w->thead[kid] = (int32_t)n++;
		w->kok[kid] = 1;
		*any = true;
	}
	return 0;
}

/* The ranked slots of the page's names (as name and child.name) and of
 * the block's resources' services (child.service), for a probe. */
int corr_col_probe_slots(struct corr_col *cc, struct cw *w, const struct block_cols *c)
{
	if ((cc->p_name || cc->p_cname) && c->dict_n[0] > w->cap_pname) {
		if (corr_col_grow((void **)&w->pname, c->dict_n[0], sizeof *w->pname) < 0 ||
		    corr_col_grow((void **)&w->pcname, c->dict_n[0], sizeof *w->pcname) < 0)
			return CLEW_ENOMEM;
		w->cap_pname = c->dict_n[0];
	}
	for (uint32_t v = 0; cc->p_name && v < c->dict_n[0]; v++)
		w->pname[v] = corr_table_slot(cc->t, CORR_SCOPE_INTRINSIC, SLICE_LIT("name"), CORR_V_STRING, c->dict[0][v]);
	for (uint32_t v = 0; cc->p_cname && v < c->dict_n[0]; v++)
		w->pcname[v] = corr_table_slot(cc->t, CORR_SCOPE_CHILD, SLICE_LIT("name"), CORR_V_STRING, c->dict[0][v]);
	if (!cc->p_csvc)
		return 0;
	if (w->rc_.n_res > w->cap_pcsvc) {
		if (corr_col_grow((void **)&w->pcsvc, w->rc_.n_res, sizeof *w->pcsvc) < 0)
			return CLEW_ENOMEM;
		w->cap_pcsvc = w->rc_.n_res;
	}
	for (uint32_t r = 0; r < w->rc_.n_res; r++)
		w->pcsvc[r] = w->rc_.svc_canon[r] == r ? corr_table_slot(cc->t, CORR_SCOPE_CHILD, SLICE_LIT("service"),
									CORR_V_STRING, w->rc_.svc[r])
						       : -1;
	return 0;
}
