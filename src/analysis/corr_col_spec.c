/* Correlations' speculation over block pages: a scan worker that has
 * counted enough units ranks a copy of its table and, for the rest of the
 * counting pass, gathers the latency figures of those candidates as the
 * figures pass would (corr_columnar.c calls it). When the final ranking is
 * known, each candidate that made it hands over its sketch, and the figures
 * pass skips the pages whose every ranked value a candidate covered. The
 * answers are the same as without it; docs/analysis.md explains it. */
#include <stdlib.h>
#include <string.h>

#include "analysis/corr_col_int.h"

void corr_col_spec_free(struct cw *w)
{
	struct cspec *sp = &w->spec;
	free(sp->rbuf);
	free(sp->rsorted);
	free(sp->rfirst);
	free(sp->vhead);
	for (uint32_t k = 0; sp->with && k < sp->rk.n; k++)
		sketch_free(&sp->with[k]);
	free(sp->with);
	free(sp->stamp);
	free(sp->cov);
	free(sp->cover);
	for (uint32_t k = 0; k < sp->n_refs; k++)
		block_unref(sp->refs[k]);
	free(sp->refs);
	corr_col_rset_free(&sp->rk);
	corr_table_free(sp->t);
	memset(sp, 0, sizeof *sp);
}

int corr_col_spec_start(struct corr_col *cc, struct cw *w)
{
	struct cspec *sp = &w->spec;
	struct corr_result *res;
	uint32_t wi = 0;
	int rc;
	while (wi < EXEC_MAX_THREADS && cc->w[wi] != w)
		wi++;
	sp->on = true;
	/* a copy: the worker's own table goes on changing (and its value
	 * bytes moving) while the candidates are looked for */
	if (!(sp->t = corr_table_new(cc->co->max_values)))
		return CLEW_ENOMEM;
	if ((rc = corr_table_merge(sp->t, w->t)) < 0 || (rc = corr_table_rank(sp->t, cc->spec_k, NULL, &res)) < 0)
		return rc;
	if ((rc = corr_col_rset_init(&sp->rk, sp->t, 0x80000000u | (cc->gen << 8) | wi, true)) < 0)
		return rc;
	sp->with = try_calloc(sp->rk.n + 1, sizeof *sp->with);
	sp->stamp = try_calloc(sp->rk.n + 1, sizeof *sp->stamp);
	sp->cov_mask = 255;
	sp->cov = try_calloc(sp->cov_mask + 1, sizeof *sp->cov);
	if (!sp->with || !sp->stamp || !sp->cov)
		return CLEW_ENOMEM;
	for (uint32_t k = 0; k < sp->rk.n; k++)
		sketch_init(&sp->with[k], 0, 0);
	return 0;
}

static uint32_t cov_slot(const struct cspec *sp, const struct block *blk, uint32_t p)
{
	uint64_t h = ((uint64_t)(uintptr_t)blk ^ ((uint64_t)p << 48 | p)) * 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(h >> 40) & sp->cov_mask;
}

static void cov_put(struct cspec *sp, const struct block *blk, uint32_t p)
{
	uint32_t h = cov_slot(sp, blk, p);
	while (sp->cov[h].blk && !(sp->cov[h].blk == blk && sp->cov[h].page == p))
		h = (h + 1) & sp->cov_mask;
	if (!sp->cov[h].blk)
		sp->cov_used++;
	sp->cov[h] = (struct covpage){blk, p};
}

int corr_col_spec_hold(struct cw *w, struct block *blk)
{
	struct cspec *sp = &w->spec;
	/* held until the figures pass is over, so that no other block can
	 * take its address in the meantime */
	bool held = sp->n_refs && sp->refs[sp->n_refs - 1] == blk;
	for (uint32_t k = 0; !held && k < sp->n_refs; k++)
		held = sp->refs[k] == blk;
	if (held)
		return 0;
	if (sp->n_refs == sp->cap_refs) {
		uint32_t cap = sp->cap_refs ? sp->cap_refs * 2 : 16;
		if (corr_col_grow((void **)&sp->refs, cap, sizeof *sp->refs) < 0)
			return CLEW_ENOMEM;
		sp->cap_refs = cap;
	}
	block_ref(blk);
	sp->refs[sp->n_refs++] = blk;
	return 0;
}

bool corr_col_spec_seen(const struct corr_col *cc, const struct block *blk)
{
	for (uint32_t k = 0; k < EXEC_MAX_THREADS; k++) {
		const struct cw *w = cc->w[k];
		for (uint32_t j = 0; w && j < w->spec.n_refs; j++)
			if (w->spec.refs[j] == blk)
				return true;
	}
	return false;
}

int corr_col_spec_cover(struct cw *w, struct block *blk, uint32_t p)
{
	struct cspec *sp = &w->spec;
	if ((sp->cov_used + 1) * 2 > sp->cov_mask + 1) {
		struct covpage *old = sp->cov;
		uint32_t n = sp->cov_mask + 1;
		if (!(sp->cov = try_calloc((size_t)n * 2, sizeof *sp->cov))) {
			sp->cov = old;
			return CLEW_ENOMEM;
		}
		sp->cov_mask = n * 2 - 1;
		sp->cov_used = 0;
		for (uint32_t k = 0; k < n; k++)
			if (old[k].blk)
				cov_put(sp, old[k].blk, old[k].page);
		free(old);
	}
	cov_put(sp, blk, p);
	return 0;
}

struct cw *corr_col_spec_owner(const struct corr_col *cc, const struct block *blk, uint32_t p)
{
	for (uint32_t k = 0; k < EXEC_MAX_THREADS; k++) {
		const struct cw *w = cc->w[k];
		if (!w || !w->spec.cov || !w->spec.cover)
			continue;
		const struct cspec *sp = &w->spec;
		for (uint32_t h = cov_slot(sp, blk, p); sp->cov[h].blk; h = (h + 1) & sp->cov_mask)
			if (sp->cov[h].blk == blk && sp->cov[h].page == p)
				return cc->w[k];
	}
	return NULL;
}

/* The key of result r without its scope's prefix, as the table keeps it. */
static struct slice bare_key(const struct corr_result *r)
{
	static const size_t pfx[] = {0, sizeof "resource." - 1, sizeof "span." - 1, sizeof "child." - 1};
	size_t n = r->scope <= CORR_SCOPE_CHILD ? pfx[r->scope] : 0;
	return n <= r->key.len ? slice_make(r->key.p + n, r->key.len - n) : r->key;
}

int corr_col_spec_settle(struct corr_col *cc)
{
	uint32_t n = cc->rk.n;
	int rc = 0;
	for (uint32_t k = 0; k < EXEC_MAX_THREADS && rc == 0; k++) {
		struct cw *w = cc->w[k];
		if (!w || !w->spec.on || !w->spec.cov)
			continue;
		struct cspec *sp = &w->spec;
		const struct corr_result *cand = corr_table_results(sp->t);
		struct sketch *tmp = try_calloc(n + 1, sizeof *tmp);
		free(sp->cover);
		sp->cover = try_calloc(n + 1, 1);
		if (!tmp || !sp->cover) {
			free(tmp);
			return CLEW_ENOMEM;
		}
		for (uint32_t f = 0; f < n; f++)
			sketch_init(&tmp[f], 0, 0);
		for (uint32_t j = 0; j < sp->rk.n && rc == 0; j++) {
			if (sp->rk.unsought && sp->rk.unsought[j])
				continue;
			int32_t f = corr_table_slot(cc->t, cand[j].scope, bare_key(&cand[j]), cand[j].vtype, cand[j].value);
			if (f < 0 || (uint32_t)f >= n)
				continue;
			sp->cover[f] = 1;
			if (sp->with[j].count && sketch_merge(&tmp[f], &sp->with[j]) < 0)
				rc = CLEW_ENOMEM;
		}
		if (rc == 0)
			rc = corr_table_merge_probe(cc->t, NULL, tmp);
		for (uint32_t f = 0; f < n; f++)
			sketch_free(&tmp[f]);
		free(tmp);
		sp->cover_all = true;
		for (uint32_t f = 0; f < n; f++)
			sp->cover_all &= sp->cover[f] != 0;
	}
	return rc;
}

int corr_col_spec_page(struct cw *w, uint32_t n_spans, uint32_t n_values)
{
	struct cspec *sp = &w->spec;
	uint32_t n_res = w->rc_.n_res;
	if (n_spans > sp->cap_rbuf) {
		if (corr_col_grow((void **)&sp->rbuf, n_spans, sizeof *sp->rbuf) < 0 ||
		    corr_col_grow((void **)&sp->rsorted, n_spans, sizeof *sp->rsorted) < 0)
			return CLEW_ENOMEM;
		sp->cap_rbuf = n_spans;
	}
	if (n_res + 1 > sp->cap_rfirst) {
		if (corr_col_grow((void **)&sp->rfirst, n_res + 1, sizeof *sp->rfirst) < 0)
			return CLEW_ENOMEM;
		sp->cap_rfirst = n_res + 1;
	}
	sp->n_rbuf = 0;
	if (n_values > sp->cap_vhead) {
		if (corr_col_grow((void **)&sp->vhead, n_values, sizeof *sp->vhead) < 0)
			return CLEW_ENOMEM;
		for (size_t k = sp->cap_vhead; k < n_values; k++)
			sp->vhead[k] = -1;
		sp->cap_vhead = n_values;
	}
	return 0;
}

int corr_col_spec_flush(struct cw *w)
{
	struct cspec *sp = &w->spec;
	const struct rcache *rc = &w->rc_;
	uint32_t n_res = rc->n_res;
	if (!sp->n_rbuf)
		return 0;
	memset(sp->rfirst, 0, ((size_t)n_res + 1) * sizeof *sp->rfirst);
	for (uint32_t k = 0; k < sp->n_rbuf; k++)
		sp->rfirst[sp->rbuf[k].r + 1]++;
	for (uint32_t r = 0; r < n_res; r++)
		sp->rfirst[r + 1] += sp->rfirst[r];
	for (uint32_t k = 0; k < sp->n_rbuf; k++) /* rfirst[r] runs to the end of r's durations */
		sp->rsorted[sp->rfirst[sp->rbuf[k].r]++] = sp->rbuf[k].dur;
	sp->n_rbuf = 0;
	for (uint32_t r = 0, from = 0; r < n_res; from = sp->rfirst[r++]) {
		for (uint32_t f = rc->rs_off[r]; f < rc->rs_off[r + 1]; f++) {
			struct sketch *s = &sp->with[rc->rs[f]];
			for (uint32_t k = from; k < sp->rfirst[r]; k++)
				if (sketch_add(s, (double)sp->rsorted[k]) < 0)
					return CLEW_ENOMEM;
		}
	}
	return 0;
}
