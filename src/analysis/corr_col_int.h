/* Internal to the columnar correlations evaluator (corr_columnar.c and
 * corr_col_probe.c): the page codes, the per-worker state and the page
 * being counted. */
#ifndef CLEW_ANALYSIS_CORR_COL_INT_H
#define CLEW_ANALYSIS_CORR_COL_INT_H

#include "analysis/correlations.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/err.h"
#include "query/exec_columnar.h"
#include "query/exec_int.h"

/* Code categories (the top 4 bits of a code). */
enum {
	C_NAME = 1,
	C_KIND,
	C_STATUS,
	C_SSTR,
	C_SINT,
	C_SBOOL,
	C_SBIN,
	C_CSVC,
	C_CNAME,
	C_RES,
};

#define CODE(cat, kid, val) (((uint64_t)(cat) << 60) | ((uint64_t)(kid) << 36) | (uint64_t)(val))
#define EMPTY UINT64_MAX
#define BIN_CACHE 1024
#define VREF 0x80000000u

/* A ranked span attribute value, as the figures pass looks for it: a
 * string, small int or bool is matched on each page by its dictionary id
 * or value; the others (bins, strings at the value cap) go through the
 * page table (generic). */
struct ptarget {
	struct slice key, val; /* the key without "span." */
	uint8_t vtype;
	bool generic;
	int64_t ival;
	int32_t slot;
};

/* A ptarget on one page: attributes of its key id with this type and
 * value carry ranked slot slot; next: the key's next one, or -1. */
struct ptg {
	uint64_t val;
	int32_t slot, next;
	uint32_t kid;  /* speculation: of a string candidate */
	int32_t vnext; /* speculation: the next string candidate of the same value id, or -1 */
	uint8_t type;
};

/* A set of ranked values looked for on the pages: the ranking's (the
 * figures pass) or a worker's candidates (speculation in the counting
 * pass). Slots are those of t's last corr_table_rank. */
struct rset {
	const struct corr_table *t;
	uint32_t n;   /* slots */
	uint32_t gen; /* tells the per-block slot caches of two sets apart */
	bool p_name, p_kind, p_status, p_csvc, p_cname, p_span; /* keys with a ranked value */
	int32_t pkind[SPAN_KIND_CONSUMER + 1], pstatus[STATUS_ERROR + 1]; /* their ranked slots, or -1 */
	struct ptarget *pt; /* the ranked span attribute values */
	uint32_t n_pt;
	uint8_t *unsought; /* speculation: per slot, 1 for a value it does not look for (NULL: none) */
};

/* A page counted while its worker's candidates were looked for. */
struct covpage {
	const struct block *blk;
	uint32_t page;
};

/* A worker's speculation (counting pass, span level, latency): once it
 * has counted cc->spec_after units it ranks a copy of its table (t) and
 * from then on adds each unit's duration to the sketch of every candidate
 * the unit carries (with), as the figures pass does for a ranked value;
 * the pages so covered are kept in cov (their blocks held in refs). The
 * figures pass then reads only the pages and values not covered. */
struct cspec {
	bool on;
	struct corr_table *t;
	struct rset rk;
	struct sketch *with;
	uint32_t *stamp;
	struct covpage *cov;
	uint32_t cov_mask, cov_used;
	struct block **refs;
	uint32_t n_refs, cap_refs;
	/* every block the worker read in the counting pass is held (refs), so
	 * that the figures pass can tell a block it did not see */
	/* the page's units with a resource that has candidates: their
	 * resource and duration, added to the candidates' sketches resource by
	 * resource when the page is done (each sketch then stays in the cache
	 * while it takes them); rfirst: per resource + 1, counting sort */
	struct rdur {
		uint32_t r;
		int64_t dur;
	} *rbuf;
	uint32_t n_rbuf, cap_rbuf, cap_rfirst;
	int64_t *rsorted;
	uint32_t *rfirst;
	int32_t *vhead; /* see struct page */
	size_t cap_vhead;
	uint8_t *cover; /* figures pass: per ranked slot, whether with holds it */
	bool cover_all; /* every ranked slot */
};

struct pent {
	uint64_t code;
	uint32_t stamp, bad, total, ex; /* ex: the first bad row; in a probe, the slot + 1 (0 none) */
};

/* A dense counter (names by dictionary id, kinds, statuses, child services
 * by resource) for the counting pass. */
struct dent {
	uint32_t stamp, bad, total, ex;
};

/* The block's resources, decoded once per block per worker. */
struct rcache {
	const struct block *blk;
	struct arena a;
	uint32_t n_scopes, n_res, n_flat;
	uint32_t *scope_res;
	struct slice *svc;    /* per resource */
	uint32_t *svc_canon;  /* per resource: the first resource of the same service */
	uint32_t *off;	      /* per resource + 1: its attributes in flat */
	const struct attr **flat;
	uint32_t *canon;      /* per flat attribute: the first equal one */
	uint8_t *dup;	      /* an equal attribute comes earlier in its resource */
	int32_t *slot;	      /* probe: the ranked slot of each flat attribute */
	uint32_t slot_gen;
	uint32_t *rs_off, *rs; /* probe: per resource + 1, its ranked slots in rs */
	/* counting: per flat attribute, its value as counted (vok: counted at
	 * all), the value's hash and, once added, the key in the worker's table
	 * of generation key_gen */
	struct slice *vtext;
	uint64_t *vhash;
	uint8_t *vtype, *vok;
	struct corr_key **key;
	uint32_t key_gen;
};

struct cw {
	struct excol_worker *xw;
	struct corr_table *t;
	uint32_t t_gen; /* counts the tables t has been */
	struct sketch q, pop, *with;
	uint32_t n_with;
	struct corr_op *ops;
	uint32_t n_ops;
	int rc;
	struct rcache rc_;
	struct pent *tab;
	uint32_t mask, used;
	/* span attribute strings by value id (dictionary ids are dense): the
	 * first key seen with a value id of the page counts it here, others
	 * in tab */
	struct pent *vtab;
	size_t cap_vtab;
	uint32_t *touched; /* the entries in use, in insertion order (VREF: of vtab) */
	uint32_t n_touched, cap_touched;
	/* counting: dense counters */
	struct dent *dname, *dcname, *dcsvc;
	size_t cap_dname, cap_dcsvc;
	struct dent dkind[SPAN_KIND_CONSUMER + 1], dstatus[STATUS_ERROR + 1];
	struct corr_key **kmemo; /* fold: the table's key of each span attribute key id of the page */
	size_t cap_kmemo;
	/* probe: per span attribute key id of the page, 1 when the key has a
	 * ranked value; the page's attributes with those keys */
	uint8_t *kok;
	size_t cap_kok;
	struct block_keys_col kcol;
	/* probe: per key id of the page, its first ptg (-1 none) and whether
	 * its attributes go through the page table (kgen) */
	int32_t *thead;
	uint8_t *kgen;
	size_t cap_thead;
	struct ptg *tg;
	uint32_t cap_tg;
	/* probe: the ranked slot (or -1) of each name id of the page as name
	 * and as child.name, of each resource as child.service */
	int32_t *pname, *pcname, *pcsvc;
	size_t cap_pname, cap_pcsvc;
	/* per page */
	uint32_t *row_trace, *parent, *cfirst, *cnext, *stamp_slot;
	int64_t *unit_dur;
	uint8_t *bad;
	size_t cap_rows;
	uint32_t *rbad, *rtotal, *rex, *rtouched;
	uint32_t n_rtouched;
	size_t cap_res;
	struct { uint64_t key, val; } *memo;
	uint32_t memo_mask, memo_used;
	struct { uint64_t bits; uint32_t id; } bins[BIN_CACHE];
	uint64_t units;	     /* counted in this pass */
	uint64_t probe_pages; /* read by the figures pass */
	/* the figures pass met a block the counting pass did not read (the
	 * store changed in between): what the candidates covered may be read
	 * again, so the pass is done again without them */
	bool unseen;
	struct cspec spec;
};

struct corr_col {
	const struct exec_query *xq;
	const struct corr_options *co;
	int64_t start_ns, end_ns;
	struct corr_table *t;
	struct corr_op *ops;
	uint32_t *n_ops;
	enum corr_pass pass;
	int64_t threshold_ns;
	uint32_t gen;
	struct rset rk; /* probe: the ranked values */
	uint64_t spec_after; /* units a worker counts before it speculates */
	uint32_t spec_k;     /* candidates it ranks (0: no speculation) */
	uint64_t probe_pages; /* block pages the figures pass read */

	/* latency: the durations of the units the counting pass saw here, the
	 * population of the figures (the probe then reads only the units that
	 * carry a ranked value) */
	struct sketch pop;
	/* pop was filled by the quantile pass (the same units and durations as
	 * the counting pass sees), so the counting pass adds none to it */
	bool pop_known;
	struct cw *w[EXEC_MAX_THREADS];
};

struct page {
	struct corr_col *c;
	struct cw *w;
	struct block *blk;
	const struct block_cols *cols;
	const uint8_t *sel;
	uint32_t stamp; /* the current unit */
	bool bad;
	int64_t dur;
	bool children; /* child lists built */
	bool keys;     /* probe: w->kcol holds the page's ranked keys */
	bool oom;
	/* the ranked values looked for (probe, or speculation in the counting
	 * pass), the sketches of their slots and the unit last added to each;
	 * skip (may be NULL): slots the page needs no figures for */
	const struct rset *rs;
	struct sketch *with;
	uint32_t *sstamp;
	const uint8_t *skip;
	/* speculation in the counting pass: the candidates' span attribute
	 * values are matched as they are counted */
	bool spec; /* speculating (counting pass) */
	bool cand; /* some candidate span attribute value is on the page */
	const int32_t *vhead; /* per value id of the page, its first string candidate (tg), or -1 */
};

static inline int corr_col_grow(void **p, size_t n, size_t size)
{
	void *q = try_realloc(*p, (n ? n : 1) * size);
	if (!q)
		return CLEW_ENOMEM;
	*p = q;
	return 0;
}

/* The ranked values of r->t's last ranking into r (span attribute values
 * at the value cap and bins left out when spec: the speculation takes only
 * what it can match by id or value). 0 or CLEW_ENOMEM. */
int corr_col_rset_init(struct rset *r, const struct corr_table *t, uint32_t gen, bool spec);
void corr_col_rset_free(struct rset *r);
/* The page's ranked span attribute values: w->kok marks the key ids to
 * decode, w->thead/w->tg list each key's values to match, w->kgen the keys
 * whose attributes go through the page table. *any: some key is to decode. */
int corr_col_probe_page(const struct rset *r, struct cw *w, const struct block_cols *c, bool *any);
/* The ranked slots of the page's names and of the block's resources'
 * services (and, once per block and set, of its resource attributes). */
int corr_col_probe_slots(const struct rset *r, struct cw *w, const struct block_cols *c);

/* Speculation (corr_col_spec.c). Start it for worker w (its table ranked
 * into candidates) unless already on or not wanted. 0 or CLEW_ENOMEM. */
int corr_col_spec_start(struct corr_col *cc, struct cw *w);
/* Hold blk, read by w in the counting pass (once). 0 or CLEW_ENOMEM. */
int corr_col_spec_hold(struct cw *w, struct block *blk);
/* Whether some worker read blk in the counting pass. */
bool corr_col_spec_seen(const struct corr_col *cc, const struct block *blk);
/* Keep page p of blk (held) as covered by w's candidates. 0 or
 * CLEW_ENOMEM. */
int corr_col_spec_cover(struct cw *w, struct block *blk, uint32_t p);
/* The worker whose candidates covered page p of blk, or NULL. */
struct cw *corr_col_spec_owner(const struct corr_col *cc, const struct block *blk, uint32_t p);
/* At the start of the figures pass (cc->rk set): which ranked slots each
 * worker's candidates cover (w->cover, w->cover_all), their sketches added
 * to the table's. 0 or CLEW_ENOMEM. */
int corr_col_spec_settle(struct corr_col *cc);
/* Make room for a page of n_spans spans (their resources' durations) and
 * n_values value ids (vhead, -1 each). 0 or CLEW_ENOMEM. */
int corr_col_spec_page(struct cw *w, uint32_t n_spans, uint32_t n_values);
/* Add the page's units' durations to the candidates of their resources.
 * 0 or CLEW_ENOMEM. */
int corr_col_spec_flush(struct cw *w);
/* Drop w's speculation (candidates, sketches, covered pages, block refs). */
void corr_col_spec_free(struct cw *w);

#endif
