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

void corr_col_rset_free(struct rset *r)
{
	free(r->pt);
	free(r->unsought);
	memset(r, 0, sizeof *r);
}

int corr_col_rset_init(struct rset *r, const struct corr_table *t, uint32_t gen, bool spec)
{
	static const char *kinds[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
	static const char *statuses[] = {"unset", "ok", "error"};
	const struct corr_result *res = corr_table_results(t);
	uint32_t n = corr_table_n_results(t);
	corr_col_rset_free(r);
	r->t = t;
	r->n = n;
	r->gen = gen;
	r->p_name = corr_table_key_ranked(t, CORR_SCOPE_INTRINSIC, SLICE_LIT("name"));
	r->p_kind = corr_table_key_ranked(t, CORR_SCOPE_INTRINSIC, SLICE_LIT("kind"));
	r->p_status = corr_table_key_ranked(t, CORR_SCOPE_INTRINSIC, SLICE_LIT("status"));
	r->p_csvc = corr_table_key_ranked(t, CORR_SCOPE_CHILD, SLICE_LIT("service"));
	r->p_cname = corr_table_key_ranked(t, CORR_SCOPE_CHILD, SLICE_LIT("name"));
	r->p_span = corr_table_key_ranked(t, CORR_SCOPE_SPAN, (struct slice){0});
	for (uint32_t k = 0; k <= SPAN_KIND_CONSUMER; k++)
		r->pkind[k] = corr_table_slot(t, CORR_SCOPE_INTRINSIC, SLICE_LIT("kind"), CORR_V_KEYWORD, slice_cstr(kinds[k]));
	for (uint32_t k = 0; k <= STATUS_ERROR; k++)
		r->pstatus[k] = corr_table_slot(t, CORR_SCOPE_INTRINSIC, SLICE_LIT("status"), CORR_V_KEYWORD,
						slice_cstr(statuses[k]));
	if (!n)
		return 0;
	if (!(r->pt = try_calloc(n, sizeof *r->pt)))
		return CLEW_ENOMEM;
	static const struct slice pfx = SLICE_LIT("span.");
	for (uint32_t k = 0; k < n; k++) {
		if (res[k].scope != CORR_SCOPE_SPAN || res[k].key.len < pfx.len ||
		    memcmp(res[k].key.p, pfx.p, pfx.len) != 0)
			continue;
		struct ptarget *pt = &r->pt[r->n_pt++];
		pt->key = slice_make(res[k].key.p + pfx.len, res[k].key.len - pfx.len);
		pt->val = res[k].value;
		pt->vtype = (uint8_t)res[k].vtype;
		pt->slot = (int32_t)k;
		switch (res[k].vtype) {
		case CORR_V_STRING: /* a value at the cap may stand for longer ones */
			pt->generic = res[k].truncated_value || res[k].value.len >= CORR_MAX_VALUE_LEN;
			break;
		case CORR_V_INT:
			pt->generic = !parse_small_int(res[k].value, &pt->ival);
			break;
		case CORR_V_BOOL:
			pt->ival = slice_eq(res[k].value, SLICE_LIT("true"));
			break;
		default:
			pt->generic = true;
			break;
		}
		if (spec && pt->generic) { /* not looked for */
			r->n_pt--;
			if (!r->unsought && !(r->unsought = try_calloc(n, 1)))
				return CLEW_ENOMEM;
			r->unsought[k] = 1;
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
int corr_col_probe_page(const struct rset *r, struct cw *w, const struct block_cols *c, bool *any)
{
	uint32_t nk = c->dict_n[1];
	*any = false;
	if (nk > w->cap_kok || nk > w->cap_thead) {
		if (corr_col_grow((void **)&w->kok, nk, 1) < 0 || corr_col_grow((void **)&w->kgen, nk, 1) < 0 ||
		    corr_col_grow((void **)&w->thead, nk, sizeof *w->thead) < 0)
			return CLEW_ENOMEM;
		w->cap_kok = w->cap_thead = nk;
	}
	if (r->n_pt > w->cap_tg) {
		if (corr_col_grow((void **)&w->tg, r->n_pt, sizeof *w->tg) < 0)
			return CLEW_ENOMEM;
		w->cap_tg = r->n_pt;
	}
	memset(w->kok, 0, nk);
	memset(w->kgen, 0, nk);
	for (uint32_t k = 0; k < nk; k++)
		w->thead[k] = -1;
	uint32_t n = 0;
	for (uint32_t k = 0; k < r->n_pt; k++) {
		const struct ptarget *t = &r->pt[k];
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

/* The ranked slots of the page's names (as name and child.name), of the
 * block's resources' services (child.service) and, once per block and set,
 * of its resource attributes. */
int corr_col_probe_slots(const struct rset *r, struct cw *w, const struct block_cols *c)
{
	struct rcache *rc = &w->rc_;
	if ((r->p_name || r->p_cname) && c->dict_n[0] > w->cap_pname) {
		if (corr_col_grow((void **)&w->pname, c->dict_n[0], sizeof *w->pname) < 0 ||
		    corr_col_grow((void **)&w->pcname, c->dict_n[0], sizeof *w->pcname) < 0)
			return CLEW_ENOMEM;
		w->cap_pname = c->dict_n[0];
	}
	for (uint32_t v = 0; r->p_name && v < c->dict_n[0]; v++)
		w->pname[v] = corr_table_slot(r->t, CORR_SCOPE_INTRINSIC, SLICE_LIT("name"), CORR_V_STRING, c->dict[0][v]);
	for (uint32_t v = 0; r->p_cname && v < c->dict_n[0]; v++)
		w->pcname[v] = corr_table_slot(r->t, CORR_SCOPE_CHILD, SLICE_LIT("name"), CORR_V_STRING, c->dict[0][v]);
	if (rc->slot_gen != r->gen) { /* the ranked slots of the block's resource attributes */
		uint32_t n = 0;
		for (uint32_t f = 0; f < rc->n_flat; f++)
			rc->slot[f] = rc->dup[f] ? -1 : corr_table_attr_slot(r->t, CORR_SCOPE_RESOURCE, rc->flat[f]);
		for (uint32_t k = 0; k < rc->n_res; k++) {
			rc->rs_off[k] = n;
			for (uint32_t f = rc->off[k]; f < rc->off[k + 1]; f++)
				if (rc->slot[f] >= 0)
					rc->rs[n++] = (uint32_t)rc->slot[f];
		}
		rc->rs_off[rc->n_res] = n;
		rc->slot_gen = r->gen;
	}
	if (!r->p_csvc)
		return 0;
	if (rc->n_res > w->cap_pcsvc) {
		if (corr_col_grow((void **)&w->pcsvc, rc->n_res, sizeof *w->pcsvc) < 0)
			return CLEW_ENOMEM;
		w->cap_pcsvc = rc->n_res;
	}
	for (uint32_t k = 0; k < rc->n_res; k++)
		w->pcsvc[k] = rc->svc_canon[k] == k ? corr_table_slot(r->t, CORR_SCOPE_CHILD, SLICE_LIT("service"),
								     CORR_V_STRING, rc->svc[k])
						    : -1;
	return 0;
}
