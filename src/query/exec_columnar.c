/* Column-at-a-time TraceQL filters over block pages. A filter condition is
 * compiled into a tree of &&, ||, ! and leaves (field op literal); a page is
 * evaluated leaf by leaf into byte vectors, one byte per span. Before any
 * span column is read each leaf is tried against the page's dictionaries
 * and statistics (a name absent from the page makes `name = "x"` false for
 * the whole page), and the tree folded; only a page that may match has its
 * columns decoded. String comparisons become id ranges in the page's sorted
 * dictionaries, regexes a memo per dictionary id, status and kind a table of
 * 256 bytes, resource attributes one truth value per scope per block. Every
 * leaf answers what exec_eval / exec_compare answer for the same span. */
#include "query/exec_columnar.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

enum xf { XF_NAME, XF_STATUS, XF_KIND, XF_DURATION, XF_STATUS_MSG, XF_SPAN, XF_RES, XF_ANY };

struct excol_field {
	enum xf f;
	struct slice key; /* attributes */
};

struct leaf {
	struct excol_field fld;
	enum tql_op op; /* EQ..GTE, RE, NRE, EXISTS */
	struct exec_value lit;
	const struct tql_regex *re;
	bool int_fast; /* lit is int or duration and op a comparison: int64 compare */
	uint8_t tab[256]; /* status and kind: the answer per byte */
};

enum xn_kind { XN_CONST, XN_LEAF, XN_AND, XN_OR, XN_NOT };
#define XC_FALSE 0
#define XC_TRUE 1
#define XC_NIL 2
#define XC_UNKNOWN 3

struct xnode {
	enum xn_kind kind;
	uint8_t cval; /* XN_CONST: XC_FALSE / XC_TRUE / XC_NIL */
	uint32_t a, b, leaf;
};

struct excol_plan {
	const struct exec_query *xq;
	struct xnode *nodes;
	uint32_t n_nodes, cap_nodes, root;
	struct leaf *leaves;
	uint32_t n_leaves, cap_leaves;
	struct arena *a;
	bool fail;
	/* a root that is a conjunction of leaves: the leaves in the order they
	 * are evaluated (cheapest column first), else n_conj 0 */
	uint32_t conj[64];
	uint32_t n_conj;
};

/* ---- the worker ---- */

/* A string predicate over one dictionary: id in [lo, hi) xor inv, or a memo
 * (0 no, 1 yes, 2 not computed) for regexes. */
struct spred {
	uint32_t lo, hi;
	bool inv;
	uint8_t *memo;
	size_t cap_memo;
};

struct keyslot {
	struct slice key;
	uint32_t kid;	 /* id in the page's key dictionary, UINT32_MAX absent */
	struct block_key_col kc; /* per span: its first attribute with the key */
	bool page_done, refs_done;
	struct exec_value *res; /* per scope of the current block: the resource's value */
	bool block_done;
};

struct leafstate {
	struct spred sp[3]; /* per dictionary class */
	uint8_t *scope_truth; /* RES / ANY: per scope of the current block */
	uint8_t cst;	      /* XC_* for the current page */
	int ks;		      /* key slot, or -1 */
};

#define MAX_SLOTS 32

struct excol_worker {
	struct block_cols cols;
	struct block *blk;
	uint32_t page;
	uint32_t n_scopes;
	struct arena block_arena; /* resource values and truth tables of blk */
	const struct excol_plan *plan;
	struct leafstate *ls;
	uint32_t n_ls;
	uint8_t **vec; /* one vector per node */
	uint32_t n_vec;
	size_t cap_vec;
	struct keyslot slots[MAX_SLOTS];
	uint32_t n_slots;
	int fslot[EXCOL_MAX_FIELDS];
};

static atomic_int enabled_state = -1; /* -1: the environment not read yet */

bool excol_enabled(void)
{
	int st = atomic_load(&enabled_state);
	if (st < 0) {
		const char *e = getenv("CLEW_COLUMNAR");
		st = !(e && strcmp(e, "0") == 0);
		int expect = -1;
		if (!atomic_compare_exchange_strong(&enabled_state, &expect, st))
			st = expect;
	}
	return st == 1;
}

void excol_set_enabled(bool on)
{
	atomic_store(&enabled_state, on ? 1 : 0);
}

/* ---- compilation ---- */

static bool field_of(const struct tql_node *nd, struct excol_field *out)
{
	if (nd->kind == TQL_N_INTRINSIC) {
		switch (nd->u.intrinsic) {
		case TQL_I_NAME: out->f = XF_NAME; return true;
		case TQL_I_STATUS: out->f = XF_STATUS; return true;
		case TQL_I_KIND: out->f = XF_KIND; return true;
		case TQL_I_DURATION: out->f = XF_DURATION; return true;
		case TQL_I_STATUS_MESSAGE: out->f = XF_STATUS_MSG; return true;
		default: return false;
		}
	}
	if (nd->kind != TQL_N_ATTR || nd->u.attr.parent)
		return false;
	out->key = nd->u.attr.name;
	switch (nd->u.attr.scope) {
	case TQL_SCOPE_NONE: out->f = XF_ANY; return true;
	case TQL_SCOPE_SPAN: out->f = XF_SPAN; return true;
	case TQL_SCOPE_RESOURCE: out->f = XF_RES; return true;
	default: return false;
	}
}

static void lit_of(const struct tql_node *nd, struct exec_value *v)
{
	v->type = nd->u.val.type;
	switch (nd->u.val.type) {
	case TQL_T_BOOL: v->u.b = nd->u.val.u.b; break;
	case TQL_T_FLOAT: v->u.f = nd->u.val.u.f; break;
	case TQL_T_STRING: v->u.s = nd->u.val.u.s; break;
	default: v->u.i = nd->u.val.u.i; break;
	}
}

static uint32_t new_node(struct excol_plan *pl, enum xn_kind k)
{
	if (pl->n_nodes == pl->cap_nodes) {
		uint32_t cap = pl->cap_nodes ? pl->cap_nodes * 2 : 16;
		struct xnode *n = arena_grow(pl->a, pl->nodes, pl->n_nodes, cap, sizeof *n);
		if (!n) {
			pl->fail = true;
			return 0;
		}
		pl->nodes = n;
		pl->cap_nodes = cap;
	}
	memset(&pl->nodes[pl->n_nodes], 0, sizeof pl->nodes[0]);
	pl->nodes[pl->n_nodes].kind = k;
	return pl->n_nodes++;
}

static bool leaf_value(const struct leaf *l, const struct exec_value *v);

static uint32_t new_leaf(struct excol_plan *pl, const struct excol_field *f, enum tql_op op,
			 const struct exec_value *lit, const struct tql_regex *re)
{
	if (pl->n_leaves == pl->cap_leaves) {
		uint32_t cap = pl->cap_leaves ? pl->cap_leaves * 2 : 8;
		struct leaf *n = arena_grow(pl->a, pl->leaves, pl->n_leaves, cap, sizeof *n);
		if (!n) {
			pl->fail = true;
			return 0;
		}
		pl->leaves = n;
		pl->cap_leaves = cap;
	}
	struct leaf *l = &pl->leaves[pl->n_leaves];
	memset(l, 0, sizeof *l);
	l->fld = *f;
	l->op = op;
	if (lit)
		l->lit = *lit;
	else
		l->lit.type = TQL_T_NIL;
	l->re = re;
	l->int_fast = op >= TQL_OP_EQ && op <= TQL_OP_GTE && (l->lit.type == TQL_T_INT || l->lit.type == TQL_T_DURATION);
	if (f->f == XF_STATUS || f->f == XF_KIND) {
		for (int v = 0; v < 256; v++) {
			struct exec_value x = {.type = f->f == XF_STATUS ? TQL_T_STATUS : TQL_T_KIND, .u.i = v};
			l->tab[v] = leaf_value(l, &x);
		}
	}
	uint32_t k = new_node(pl, XN_LEAF);
	if (!pl->fail)
		pl->nodes[k].leaf = pl->n_leaves++;
	return k;
}

static enum tql_op mirror(enum tql_op op)
{
	switch (op) {
	case TQL_OP_LT: return TQL_OP_GT;
	case TQL_OP_LTE: return TQL_OP_GTE;
	case TQL_OP_GT: return TQL_OP_LT;
	case TQL_OP_GTE: return TQL_OP_LTE;
	default: return op;
	}
}

/* Compile condition nd; sets pl->fail when it is not eligible. */
static uint32_t comp(struct excol_plan *pl, const struct tql_node *nd)
{
	struct excol_field f;
	struct exec_value lit;
	uint32_t k, x, y;
	if (pl->fail)
		return 0;
	switch (nd->kind) {
	case TQL_N_STATIC:
		k = new_node(pl, XN_CONST);
		if (!pl->fail)
			pl->nodes[k].cval = nd->u.val.type != TQL_T_BOOL ? XC_NIL : nd->u.val.u.b ? XC_TRUE : XC_FALSE;
		return k;
	case TQL_N_UNARY:
		if (nd->op == TQL_OP_EXISTS) {
			if (!field_of(nd->a, &f))
				break;
			return new_leaf(pl, &f, TQL_OP_EXISTS, NULL, NULL);
		}
		if (nd->op != TQL_OP_NOT)
			break;
		x = comp(pl, nd->a);
		if (pl->fail)
			return 0;
		if (pl->nodes[x].kind == XN_CONST && pl->nodes[x].cval == XC_NIL)
			return x; /* !nil is nil */
		k = new_node(pl, XN_NOT);
		if (!pl->fail)
			pl->nodes[k].a = x;
		return k;
	case TQL_N_BINARY:
		switch (nd->op) {
		case TQL_OP_AND:
		case TQL_OP_OR:
			x = comp(pl, nd->a);
			y = comp(pl, nd->b);
			k = new_node(pl, nd->op == TQL_OP_AND ? XN_AND : XN_OR);
			if (!pl->fail) {
				pl->nodes[k].a = x;
				pl->nodes[k].b = y;
			}
			return k;
		case TQL_OP_EQ:
		case TQL_OP_NEQ:
		case TQL_OP_LT:
		case TQL_OP_LTE:
		case TQL_OP_GT:
		case TQL_OP_GTE:
			if (field_of(nd->a, &f) && nd->b->kind == TQL_N_STATIC) {
				lit_of(nd->b, &lit);
				return new_leaf(pl, &f, nd->op, &lit, NULL);
			}
			if (field_of(nd->b, &f) && nd->a->kind == TQL_N_STATIC) {
				lit_of(nd->a, &lit);
				return new_leaf(pl, &f, mirror(nd->op), &lit, NULL);
			}
			break;
		case TQL_OP_RE:
		case TQL_OP_NRE:
			if (field_of(nd->a, &f) && nd->b->kind == TQL_N_STATIC) {
				lit_of(nd->b, &lit);
				return new_leaf(pl, &f, nd->op, &lit, exec_find_regex(pl->xq, nd));
			}
			break;
		default:
			break;
		}
		break;
	default:
		break;
	}
	pl->fail = true;
	return 0;
}

/* The condition of a pipeline of filters: their conjunction. */
static uint32_t comp_pipeline(struct excol_plan *pl, const struct tql_node *nd)
{
	uint32_t acc = UINT32_MAX;
	if (nd->kind == TQL_N_FILTER)
		return comp(pl, nd->a);
	if (nd->kind != TQL_N_PIPELINE || nd->n_items == 0) {
		pl->fail = true;
		return 0;
	}
	for (uint32_t k = 0; k < nd->n_items && !pl->fail; k++) {
		uint32_t x = comp_pipeline(pl, nd->items[k]);
		if (acc == UINT32_MAX) {
			acc = x;
			continue;
		}
		uint32_t y = new_node(pl, XN_AND);
		if (!pl->fail) {
			pl->nodes[y].a = acc;
			pl->nodes[y].b = x;
		}
		acc = y;
	}
	return acc;
}

/* Collect the leaves of a conjunction rooted at k into pl->conj; false
 * when k holds anything but && and leaves. */
static bool conj_collect(struct excol_plan *pl, uint32_t k)
{
	const struct xnode *n = &pl->nodes[k];
	if (n->kind == XN_AND)
		return conj_collect(pl, n->a) && conj_collect(pl, n->b);
	if (n->kind != XN_LEAF || pl->n_conj >= 64)
		return false;
	pl->conj[pl->n_conj++] = n->leaf;
	return true;
}

/* The order a conjunction's leaves are evaluated in: fixed-width and
 * one-byte columns first, the id columns decoded for the spans still
 * selected (name, scope) after them, attributes last but the scope. */
static int leaf_cost(const struct leaf *l)
{
	switch (l->fld.f) {
	case XF_STATUS:
	case XF_KIND: return 0;
	case XF_DURATION: return 1;
	case XF_NAME: return 2;
	case XF_STATUS_MSG: return 3;
	case XF_SPAN:
	case XF_ANY: return 4;
	case XF_RES: return 5;
	}
	return 6;
}

struct excol_plan *excol_compile(const struct exec_query *xq, struct arena *a)
{
	if (!excol_enabled() || xq->q->kind != TQL_Q_SPANS || !xq->q->root)
		return NULL;
	struct excol_plan *pl = arena_zalloc(a, sizeof *pl);
	if (!pl)
		return NULL;
	pl->xq = xq;
	pl->a = a;
	pl->root = comp_pipeline(pl, xq->q->root);
	if (pl->fail || pl->n_leaves > 64 || pl->n_nodes > 256)
		return NULL;
	if (!conj_collect(pl, pl->root))
		pl->n_conj = 0;
	/* a stable insertion sort by column cost */
	for (uint32_t i = 1; i < pl->n_conj; i++) {
		uint32_t x = pl->conj[i], j = i;
		for (; j > 0 && leaf_cost(&pl->leaves[pl->conj[j - 1]]) > leaf_cost(&pl->leaves[x]); j--)
			pl->conj[j] = pl->conj[j - 1];
		pl->conj[j] = x;
	}
	return pl;
}

struct excol_field *excol_field_compile(const struct tql_node *nd, struct arena *a)
{
	struct excol_field f;
	memset(&f, 0, sizeof f);
	if (!excol_enabled() || !field_of(nd, &f))
		return NULL;
	struct excol_field *r = arena_zalloc(a, sizeof *r);
	if (r)
		*r = f;
	return r;
}

static unsigned field_want(const struct excol_field *f)
{
	switch (f->f) {
	case XF_NAME: return BLOCK_COLS_NAME;
	case XF_STATUS:
	case XF_KIND: return BLOCK_COLS_KIND_STATUS;
	case XF_DURATION: return BLOCK_COLS_DURATION;
	case XF_STATUS_MSG: return BLOCK_COLS_STATUS_MSG;
	case XF_SPAN: return BLOCK_COLS_DICT_KEYS | BLOCK_COLS_DICT_VALUES; /* and block_cols_key */
	case XF_RES: return BLOCK_COLS_SCOPE;
	case XF_ANY: return BLOCK_COLS_DICT_KEYS | BLOCK_COLS_DICT_VALUES | BLOCK_COLS_SCOPE;
	}
	return 0;
}

unsigned excol_fields_want(struct excol_field *const *f, uint32_t n)
{
	unsigned w = 0;
	for (uint32_t k = 0; k < n; k++)
		w |= field_want(f[k]);
	return w;
}

/* ---- values ---- */

/* What the evaluator answers for `v op lit` (v the field's value). */
static bool leaf_value(const struct leaf *l, const struct exec_value *v)
{
	if (l->op == TQL_OP_EXISTS)
		return v->type != TQL_T_NIL;
	if (l->op == TQL_OP_RE || l->op == TQL_OP_NRE) {
		if (v->type != TQL_T_STRING || !l->re)
			return false;
		bool m = exec_regex_match(l->re, v->u.s);
		return l->op == TQL_OP_RE ? m : !m;
	}
	if (v->type == TQL_T_NIL)
		return false;
	return exec_compare(l->op, v, &l->lit, false);
}

static bool ord(enum tql_op op, int c)
{
	switch (op) {
	case TQL_OP_EQ: return c == 0;
	case TQL_OP_NEQ: return c != 0;
	case TQL_OP_LT: return c < 0;
	case TQL_OP_LTE: return c <= 0;
	case TQL_OP_GT: return c > 0;
	case TQL_OP_GTE: return c >= 0;
	default: return false;
	}
}

static int slice_cmp(struct slice a, struct slice b)
{
	size_t m = a.len < b.len ? a.len : b.len;
	int c = m ? memcmp(a.p, b.p, m) : 0;
	if (c == 0)
		c = (a.len > b.len) - (a.len < b.len);
	return c;
}

/* The first id whose entry is >= s. */
static uint32_t dict_lower(const struct slice *d, uint32_t n, struct slice s)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (slice_cmp(d[mid], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- the worker ---- */

struct excol_worker *excol_worker_new(void)
{
	struct excol_worker *w = try_calloc(1, sizeof *w);
	if (!w)
		return NULL;
	block_cols_init(&w->cols);
	arena_init(&w->block_arena, 0);
	return w;
}

static void free_leafstates(struct excol_worker *w)
{
	for (uint32_t k = 0; k < w->n_ls; k++)
		for (int c = 0; c < 3; c++)
			free(w->ls[k].sp[c].memo);
	free(w->ls);
	w->ls = NULL;
	w->n_ls = 0;
}

void excol_worker_free(struct excol_worker *w)
{
	if (!w)
		return;
	block_cols_free(&w->cols);
	arena_reset(&w->block_arena);
	free_leafstates(w);
	for (uint32_t k = 0; k < w->n_vec; k++)
		free(w->vec[k]);
	free(w->vec);
	for (uint32_t k = 0; k < w->n_slots; k++)
		block_key_col_free(&w->slots[k].kc);
	free(w);
}

const struct block_cols *excol_cols(const struct excol_worker *w)
{
	return &w->cols;
}

static int slot_of(struct excol_worker *w, struct slice key)
{
	for (uint32_t k = 0; k < w->n_slots; k++)
		if (slice_eq(w->slots[k].key, key))
			return (int)k;
	if (w->n_slots == MAX_SLOTS)
		return -1;
	struct keyslot *s = &w->slots[w->n_slots];
	memset(s, 0, sizeof *s);
	s->key = key;
	return (int)w->n_slots++;
}

/* A new block: forget the per-block tables. */
static void block_switch(struct excol_worker *w, struct block *blk)
{
	if (w->blk == blk)
		return;
	w->blk = blk;
	struct block_info bi;
	block_get_info(blk, &bi);
	w->n_scopes = bi.scopes;
	arena_reset(&w->block_arena);
	for (uint32_t k = 0; k < w->n_slots; k++) {
		w->slots[k].block_done = false;
		w->slots[k].res = NULL;
	}
	for (uint32_t k = 0; k < w->n_ls; k++)
		w->ls[k].scope_truth = NULL;
}

/* The resource value of slot s for every scope of the current block. */
static int slot_res(struct excol_worker *w, struct keyslot *s)
{
	if (s->block_done)
		return 0;
	uint32_t ns = w->n_scopes;
	struct block_info bi;
	block_get_info(w->blk, &bi);
	struct exec_value *rv = arena_array(&w->block_arena, (size_t)ns + 1, sizeof *rv);
	struct exec_value *byres = arena_array(&w->block_arena, (size_t)bi.resources + 1, sizeof *byres);
	uint8_t *done = arena_zalloc(&w->block_arena, (size_t)bi.resources + 1);
	if (!rv || !byres || !done)
		return CLEW_ENOMEM;
	for (uint32_t si = 0; si < ns; si++) {
		uint32_t ri = block_scope_resource(w->blk, si);
		if (ri >= bi.resources)
			return CLEW_ECORRUPT;
		if (!done[ri]) {
			struct attr_list al;
			int rc = block_resource_attrs(w->blk, ri, &w->block_arena, &al);
			if (rc < 0)
				return rc;
			byres[ri].type = TQL_T_NIL;
			for (uint32_t k = 0; k < al.n; k++) {
				if (slice_eq(al.items[k].key, s->key)) {
					exec_value_from_any(&al.items[k].value, &byres[ri]);
					break;
				}
			}
			done[ri] = 1;
		}
		rv[si] = byres[ri];
	}
	s->res = rv;
	s->block_done = true;
	return 0;
}

/* The first attribute of each span with slot s's key, on this page (of
 * the spans with sel[i] only, when sel is not NULL). */
static int slot_refs(struct excol_worker *w, struct keyslot *s, const uint8_t *sel)
{
	if (s->refs_done)
		return 0;
	int rc = block_cols_key_sel(w->blk, w->page, &w->cols, s->kid, sel, &s->kc);
	if (rc < 0)
		return rc;
	s->refs_done = true;
	return 0;
}

static void slot_page(struct excol_worker *w, struct keyslot *s)
{
	if (s->page_done)
		return;
	const struct block_cols *c = &w->cols;
	uint32_t id = dict_lower(c->dict[1], c->dict_n[1], s->key);
	s->kid = id < c->dict_n[1] && slice_eq(c->dict[1][id], s->key) ? id : UINT32_MAX;
	s->page_done = true;
	s->refs_done = false;
}

/* The value of span i's attribute in kc (type not BLOCK_KEY_NONE). */
static void key_val(const struct block_cols *c, const struct block_key_col *kc, uint32_t i, struct exec_value *out)
{
	uint64_t v = kc->val[i];
	switch (kc->type[i]) {
	case ANY_STRING:
		out->type = TQL_T_STRING;
		out->u.s = c->dict[2][v];
		break;
	case ANY_BOOL:
		out->type = TQL_T_BOOL;
		out->u.b = v != 0;
		break;
	case ANY_INT:
		out->type = TQL_T_INT;
		out->u.i = (int64_t)v;
		break;
	case ANY_DOUBLE:
		out->type = TQL_T_FLOAT;
		memcpy(&out->u.f, &v, sizeof out->u.f);
		break;
	default:
		out->type = TQL_T_UNKNOWN;
		break;
	}
}

/* ---- string predicates ---- */

/* Prepare sp for leaf l over dictionary d of n entries. Returns the page
 * constant it implies for every string value: XC_FALSE, XC_TRUE or
 * XC_UNKNOWN. */
static int spred_prepare(struct spred *sp, const struct leaf *l, const struct slice *d, uint32_t n)
{
	sp->lo = sp->hi = 0;
	sp->inv = false;
	if (l->op == TQL_OP_EXISTS)
		return XC_TRUE;
	if (l->op == TQL_OP_RE || l->op == TQL_OP_NRE) {
		if (!l->re)
			return XC_FALSE;
		if (sp->cap_memo < (size_t)n + 1) {
			free(sp->memo);
			sp->cap_memo = (size_t)n + 1;
			if (!(sp->memo = try_malloc(sp->cap_memo))) {
				sp->cap_memo = 0;
				return -1;
			}
		}
		memset(sp->memo, 2, (size_t)n + 1);
		return XC_UNKNOWN;
	}
	if (l->lit.type != TQL_T_STRING)
		return XC_FALSE; /* a string never compares with a non-string */
	uint32_t lb = dict_lower(d, n, l->lit.u.s);
	uint32_t ub = lb + (lb < n && slice_eq(d[lb], l->lit.u.s));
	switch (l->op) {
	case TQL_OP_EQ: sp->lo = lb, sp->hi = ub; break;
	case TQL_OP_NEQ: sp->lo = lb, sp->hi = ub, sp->inv = true; break;
	case TQL_OP_LT: sp->lo = 0, sp->hi = lb; break;
	case TQL_OP_LTE: sp->lo = 0, sp->hi = ub; break;
	case TQL_OP_GT: sp->lo = ub, sp->hi = n; break;
	default: sp->lo = lb, sp->hi = n; break;
	}
	if (sp->lo >= sp->hi)
		return sp->inv ? XC_TRUE : XC_FALSE;
	if (sp->lo == 0 && sp->hi >= n)
		return sp->inv ? XC_FALSE : XC_TRUE;
	return XC_UNKNOWN;
}

static inline bool spred_test(struct spred *sp, const struct leaf *l, const struct slice *d, uint32_t id)
{
	if (sp->memo) {
		if (l->op == TQL_OP_RE || l->op == TQL_OP_NRE) {
			if (sp->memo[id] == 2) {
				bool m = exec_regex_match(l->re, d[id]);
				sp->memo[id] = (uint8_t)(l->op == TQL_OP_RE ? m : !m);
			}
			return sp->memo[id];
		}
	}
	return (id - sp->lo < sp->hi - sp->lo) != sp->inv;
}

/* ---- evaluation ---- */

static int ensure_state(struct excol_worker *w, const struct excol_plan *pl)
{
	if (w->plan == pl)
		return 0;
	free_leafstates(w);
	for (uint32_t k = 0; k < w->n_vec; k++)
		free(w->vec[k]);
	free(w->vec);
	w->vec = NULL;
	w->n_vec = 0;
	w->cap_vec = 0;
	w->plan = NULL;
	if (!(w->ls = try_calloc((size_t)pl->n_leaves + 1, sizeof *w->ls)))
		return CLEW_ENOMEM;
	w->n_ls = pl->n_leaves;
	if (!(w->vec = try_calloc((size_t)pl->n_nodes + 1, sizeof *w->vec)))
		return CLEW_ENOMEM;
	w->n_vec = pl->n_nodes + 1; /* the last one scratch for conjunctions */
	for (uint32_t k = 0; k < pl->n_leaves; k++) {
		const struct leaf *l = &pl->leaves[k];
		w->ls[k].ks = -1;
		if (l->fld.f == XF_SPAN || l->fld.f == XF_RES || l->fld.f == XF_ANY) {
			if ((w->ls[k].ks = slot_of(w, l->fld.key)) < 0)
				return CLEW_ENOMEM;
		}
	}
	w->plan = pl;
	return 0;
}

static int scope_truth(struct excol_worker *w, const struct leaf *l, struct leafstate *st)
{
	if (st->scope_truth)
		return 0;
	struct keyslot *s = &w->slots[st->ks];
	int rc = slot_res(w, s);
	if (rc < 0)
		return rc;
	uint8_t *t = arena_alloc(&w->block_arena, (size_t)w->n_scopes + 1);
	if (!t)
		return CLEW_ENOMEM;
	for (uint32_t si = 0; si < w->n_scopes; si++)
		t[si] = leaf_value(l, &s->res[si]);
	st->scope_truth = t;
	return 0;
}

/* The page constant of leaf k from dictionaries, statistics and the block
 * tables only; XC_UNKNOWN when the spans must be looked at. */
static int leaf_const(struct excol_worker *w, const struct leaf *l, struct leafstate *st, const struct block_page_info *pi)
{
	const struct block_cols *c = &w->cols;
	int rc;
	switch (l->fld.f) {
	case XF_NAME:
		return spred_prepare(&st->sp[0], l, c->dict[0], c->dict_n[0]);
	case XF_STATUS_MSG:
		return spred_prepare(&st->sp[2], l, c->dict[2], c->dict_n[2]);
	case XF_STATUS:
	case XF_KIND: {
		uint8_t x = l->tab[0];
		for (int v = 1; v < 256; v++)
			if (l->tab[v] != x)
				return XC_UNKNOWN;
		return x;
	}
	case XF_DURATION:
		if (l->op == TQL_OP_EXISTS)
			return XC_TRUE;
		if (l->int_fast) {
			int64_t x = l->lit.u.i;
			if (l->op == TQL_OP_EQ || l->op == TQL_OP_NEQ) {
				if (x < pi->min_dur_ns || x > pi->max_dur_ns)
					return l->op == TQL_OP_NEQ;
				return XC_UNKNOWN;
			}
			bool a = ord(l->op, (pi->min_dur_ns > x) - (pi->min_dur_ns < x));
			bool b = ord(l->op, (pi->max_dur_ns > x) - (pi->max_dur_ns < x));
			return a == b ? a : XC_UNKNOWN;
		}
		return XC_UNKNOWN;
	case XF_SPAN:
	case XF_ANY: {
		struct keyslot *s = &w->slots[st->ks];
		slot_page(w, s);
		if (l->fld.f == XF_ANY && (rc = scope_truth(w, l, st)) < 0)
			return rc;
		if (s->kid != UINT32_MAX) {
			if (spred_prepare(&st->sp[2], l, c->dict[2], c->dict_n[2]) < 0)
				return CLEW_ENOMEM;
			return XC_UNKNOWN;
		}
		if (l->fld.f == XF_SPAN)
			return XC_FALSE; /* nil everywhere */
		/* no span has the key: the resource decides */
	}
		/* fall through */
	case XF_RES: {
		if ((rc = scope_truth(w, l, st)) < 0)
			return rc;
		uint8_t x = w->n_scopes ? st->scope_truth[0] : 0;
		for (uint32_t si = 1; si < w->n_scopes; si++)
			if (st->scope_truth[si] != x)
				return XC_UNKNOWN;
		return x;
	}
	}
	return XC_UNKNOWN;
}

static unsigned leaf_cols(const struct leaf *l)
{
	return field_want(&l->fld);
}

/* Fold the tree over the leaf constants; collect the columns of the
 * leaves still needed. */
static int fold(const struct excol_plan *pl, struct excol_worker *w, uint32_t k, unsigned *want)
{
	const struct xnode *n = &pl->nodes[k];
	int a, b;
	switch (n->kind) {
	case XN_CONST:
		return n->cval == XC_TRUE ? XC_TRUE : XC_FALSE;
	case XN_LEAF:
		if (w->ls[n->leaf].cst == XC_UNKNOWN)
			*want |= leaf_cols(&pl->leaves[n->leaf]);
		return w->ls[n->leaf].cst;
	case XN_NOT:
		a = fold(pl, w, n->a, want);
		return a == XC_UNKNOWN ? a : !a;
	case XN_AND:
		a = fold(pl, w, n->a, want);
		if (a == XC_FALSE)
			return XC_FALSE;
		b = fold(pl, w, n->b, want);
		if (b == XC_FALSE)
			return XC_FALSE;
		return a == XC_TRUE && b == XC_TRUE ? XC_TRUE : XC_UNKNOWN;
	case XN_OR:
		a = fold(pl, w, n->a, want);
		if (a == XC_TRUE)
			return XC_TRUE;
		b = fold(pl, w, n->b, want);
		if (b == XC_TRUE)
			return XC_TRUE;
		return a == XC_FALSE && b == XC_FALSE ? XC_FALSE : XC_UNKNOWN;
	}
	return XC_UNKNOWN;
}

static void int_leaf(const struct leaf *l, const int64_t *v, uint32_t n, uint8_t *out)
{
	int64_t x = l->lit.u.i;
	uint32_t i;
	switch (l->op) {
	case TQL_OP_EQ: for (i = 0; i < n; i++) out[i] = v[i] == x; break;
	case TQL_OP_NEQ: for (i = 0; i < n; i++) out[i] = v[i] != x; break;
	case TQL_OP_LT: for (i = 0; i < n; i++) out[i] = v[i] < x; break;
	case TQL_OP_LTE: for (i = 0; i < n; i++) out[i] = v[i] <= x; break;
	case TQL_OP_GT: for (i = 0; i < n; i++) out[i] = v[i] > x; break;
	default: for (i = 0; i < n; i++) out[i] = v[i] >= x; break;
	}
}

/* A string leaf over n dictionary ids: a range test the compiler can
 * vectorise, or the regex memo. */
static void ids_leaf(struct spred *sp, const struct leaf *l, const struct slice *d, const uint32_t *restrict ids,
		     uint32_t n, uint8_t *restrict out)
{
	if (sp->memo && (l->op == TQL_OP_RE || l->op == TQL_OP_NRE)) {
		for (uint32_t i = 0; i < n; i++)
			out[i] = spred_test(sp, l, d, ids[i]);
		return;
	}
	uint32_t lo = sp->lo, width = sp->hi - sp->lo;
	uint8_t inv = sp->inv;
	for (uint32_t i = 0; i < n; i++)
		out[i] = (uint8_t)((ids[i] - lo < width) ^ inv);
}

static void eval_leaf(struct excol_worker *w, const struct leaf *l, struct leafstate *st, uint8_t *restrict out)
{
	const struct block_cols *c = &w->cols;
	uint32_t n = c->spans;
	struct exec_value v;
	switch (l->fld.f) {
	case XF_NAME:
		ids_leaf(&st->sp[0], l, c->dict[0], c->name, n, out);
		return;
	case XF_STATUS_MSG:
		ids_leaf(&st->sp[2], l, c->dict[2], c->status_msg, n, out);
		return;
	case XF_STATUS:
	case XF_KIND: {
		const uint8_t *restrict ks = c->kind_status + (l->fld.f == XF_STATUS);
		const uint8_t *restrict tab = l->tab;
		for (uint32_t i = 0; i < n; i++)
			out[i] = tab[ks[2 * i]];
		return;
	}
	case XF_DURATION:
		if (l->int_fast) {
			int_leaf(l, c->duration, n, out);
			return;
		}
		for (uint32_t i = 0; i < n; i++) {
			v.type = TQL_T_DURATION;
			v.u.i = c->duration[i];
			out[i] = leaf_value(l, &v);
		}
		return;
	case XF_RES: {
		const uint8_t *restrict truth = st->scope_truth;
		const uint32_t *restrict sc = c->scope;
		for (uint32_t i = 0; i < n; i++)
			out[i] = truth[sc[i]];
		return;
	}
	case XF_SPAN:
	case XF_ANY: {
		const struct keyslot *s = &w->slots[st->ks];
		bool str_lit = l->op >= TQL_OP_EQ && l->op <= TQL_OP_NRE && (l->lit.type == TQL_T_STRING || l->op >= TQL_OP_RE);
		const uint8_t *kt = s->kc.type;
		for (uint32_t i = 0; i < n; i++) {
			uint8_t t = kt[i];
			if (t == BLOCK_KEY_NONE) {
				out[i] = l->fld.f == XF_ANY ? st->scope_truth[c->scope[i]] : 0;
			} else if (t == ANY_STRING && str_lit) {
				out[i] = spred_test(&st->sp[2], l, c->dict[2], (uint32_t)s->kc.val[i]);
			} else {
				key_val(c, &s->kc, i, &v);
				out[i] = leaf_value(l, &v);
			}
		}
		return;
	}
	}
}

static uint32_t count_ones(const uint8_t *restrict v, uint32_t n)
{
	uint32_t c = 0;
	for (uint32_t i = 0; i < n; i++)
		c += v[i];
	return c;
}

/* out = a & b (or a | b) over n bytes of 0/1; returns its count of ones. */
static uint32_t and_or(uint8_t *restrict out, const uint8_t *restrict a, const uint8_t *restrict b, uint32_t n, bool or)
{
	uint32_t c = 0;
	if (or)
		for (uint32_t i = 0; i < n; i++)
			c += out[i] = a[i] | b[i];
	else
		for (uint32_t i = 0; i < n; i++)
			c += out[i] = a[i] & b[i];
	return c;
}

/* Evaluate node k into w->vec[k]; returns its count of ones. */
static uint32_t eval_node(struct excol_worker *w, const struct excol_plan *pl, uint32_t k)
{
	const struct xnode *nd = &pl->nodes[k];
	uint32_t n = w->cols.spans;
	uint8_t *out = w->vec[k];
	uint32_t ca;
	switch (nd->kind) {
	case XN_CONST:
		memset(out, nd->cval == XC_TRUE, n);
		return nd->cval == XC_TRUE ? n : 0;
	case XN_LEAF: {
		struct leafstate *st = &w->ls[nd->leaf];
		if (st->cst != XC_UNKNOWN) {
			memset(out, st->cst, n);
			return st->cst ? n : 0;
		}
		eval_leaf(w, &pl->leaves[nd->leaf], st, out);
		return count_ones(out, n);
	}
	case XN_NOT:
		ca = eval_node(w, pl, nd->a);
		{
			const uint8_t *restrict va = w->vec[nd->a];
			for (uint32_t i = 0; i < n; i++)
				out[i] = !va[i];
		}
		return n - ca;
	case XN_AND:
		ca = eval_node(w, pl, nd->a);
		if (ca == 0) {
			memset(out, 0, n);
			return 0;
		}
		if (eval_node(w, pl, nd->b) == 0) {
			memset(out, 0, n);
			return 0;
		}
		return and_or(out, w->vec[nd->a], w->vec[nd->b], n, false);
	case XN_OR:
		ca = eval_node(w, pl, nd->a);
		if (ca == n) {
			memset(out, 1, n);
			return n;
		}
		eval_node(w, pl, nd->b);
		return and_or(out, w->vec[nd->a], w->vec[nd->b], n, true);
	}
	return 0;
}

/* Room for n spans in every node vector. */
static int vec_room(struct excol_worker *w, uint32_t n)
{
	if (w->cap_vec >= (size_t)n + 1)
		return 0;
	for (uint32_t k = 0; k < w->n_vec; k++) {
		free(w->vec[k]);
		if (!(w->vec[k] = try_malloc((size_t)n + 1))) {
			w->cap_vec = 0;
			return CLEW_ENOMEM;
		}
	}
	w->cap_vec = (size_t)n + 1;
	return 0;
}

static int eval_conj(const struct excol_plan *pl, struct excol_worker *w, struct block *blk, uint32_t p, unsigned want,
		     unsigned extra_want, const uint8_t **sel, uint32_t *n_sel);

static unsigned dict_want(const struct excol_plan *pl)
{
	unsigned want = 0;
	for (uint32_t k = 0; k < pl->n_leaves; k++) {
		switch (pl->leaves[k].fld.f) {
		case XF_NAME: want |= BLOCK_COLS_DICT_NAMES; break;
		case XF_STATUS_MSG: want |= BLOCK_COLS_DICT_VALUES; break;
		case XF_SPAN:
		case XF_ANY: want |= BLOCK_COLS_DICT_KEYS | BLOCK_COLS_DICT_VALUES; break;
		default: break;
		}
	}
	return want;
}

int excol_eval_page(const struct excol_plan *pl, struct excol_worker *w, struct block *blk, uint32_t p,
		    unsigned extra_want, const uint8_t **sel, uint32_t *n_sel)
{
	int rc;
	*n_sel = 0;
	*sel = NULL;
	if ((rc = ensure_state(w, pl)) < 0)
		return rc;
	block_switch(w, blk);
	w->page = p;
	for (uint32_t k = 0; k < w->n_slots; k++)
		w->slots[k].page_done = w->slots[k].refs_done = false;
	const struct block_page_info *pi = block_page(blk, p);
	if (!pi)
		return CLEW_EINVAL;
	if ((rc = block_cols_load(blk, p, dict_want(pl), &w->cols)) < 0)
		return rc;
	for (uint32_t k = 0; k < pl->n_leaves; k++) {
		int c = leaf_const(w, &pl->leaves[k], &w->ls[k], pi);
		if (c < 0)
			return c == -1 ? CLEW_ENOMEM : c;
		w->ls[k].cst = (uint8_t)c;
	}
	unsigned want = 0;
	int root = fold(pl, w, pl->root, &want);
	if (root == XC_FALSE)
		return 0;
	if (pl->n_conj)
		return eval_conj(pl, w, blk, p, want, extra_want, sel, n_sel);
	if ((rc = block_cols_load(blk, p, want | extra_want, &w->cols)) < 0)
		return rc;
	if ((rc = vec_room(w, w->cols.spans)) < 0)
		return rc;
	for (uint32_t k = 0; k < pl->n_leaves; k++) {
		struct leafstate *st = &w->ls[k];
		if (st->cst == XC_UNKNOWN && st->ks >= 0 && pl->leaves[k].fld.f != XF_RES &&
		    (rc = slot_refs(w, &w->slots[st->ks], NULL)) < 0)
			return rc;
	}
	*n_sel = eval_node(w, pl, pl->root);
	*sel = w->vec[pl->root];
	return 0;
}

/* out &= v over n bytes of 0/1; the count of ones left. */
static uint32_t and_into(uint8_t *restrict out, const uint8_t *restrict v, uint32_t n)
{
	uint32_t c = 0;
	for (uint32_t i = 0; i < n; i++)
		c += out[i] &= v[i];
	return c;
}

/* Whether column bit col (BLOCK_COLS_NAME or BLOCK_COLS_SCOPE) can be
 * decoded for the selected spans only: no leaf but name (scope) leaves
 * reads it, and the caller did not ask for it. */
static bool sparse_col(const struct excol_plan *pl, const struct excol_worker *w, unsigned col, unsigned extra_want)
{
	if (extra_want & col)
		return false;
	enum xf only = col == BLOCK_COLS_NAME ? XF_NAME : XF_RES;
	for (uint32_t k = 0; k < pl->n_leaves; k++)
		if (w->ls[k].cst == XC_UNKNOWN && pl->leaves[k].fld.f != only && (leaf_cols(&pl->leaves[k]) & col))
			return false;
	return true;
}

/* A conjunction of leaves whose page constant is unknown for some (folded
 * to neither false nor true): the leaves in cost order into the root's
 * vector, each over the spans the ones before left, the name and scope
 * columns decoded for those spans only when nothing else reads them. */
static int eval_conj(const struct excol_plan *pl, struct excol_worker *w, struct block *blk, uint32_t p, unsigned want,
		     unsigned extra_want, const uint8_t **sel, uint32_t *n_sel)
{
	unsigned sparse = 0;
	int rc;
	if ((want & BLOCK_COLS_NAME) && sparse_col(pl, w, BLOCK_COLS_NAME, extra_want))
		sparse |= BLOCK_COLS_NAME;
	if ((want & BLOCK_COLS_SCOPE) && sparse_col(pl, w, BLOCK_COLS_SCOPE, extra_want))
		sparse |= BLOCK_COLS_SCOPE;
	if ((rc = block_cols_load(blk, p, (want & ~sparse) | extra_want, &w->cols)) < 0)
		return rc;
	uint32_t n = w->cols.spans;
	if ((rc = vec_room(w, n)) < 0)
		return rc;
	for (uint32_t k = 0; k < pl->n_leaves; k++) {
		struct leafstate *st = &w->ls[k];
		if (st->cst == XC_UNKNOWN && st->ks >= 0 && pl->leaves[k].fld.f != XF_RES &&
		    (rc = slot_refs(w, &w->slots[st->ks], NULL)) < 0)
			return rc;
	}
	uint8_t *out = w->vec[pl->root], *tmp = w->vec[w->n_vec - 1];
	uint32_t cnt = n;
	memset(out, 1, n);
	for (uint32_t j = 0; j < pl->n_conj && cnt; j++) {
		const struct leaf *l = &pl->leaves[pl->conj[j]];
		struct leafstate *st = &w->ls[pl->conj[j]];
		if (st->cst != XC_UNKNOWN)
			continue; /* true: the fold left no false leaf */
		unsigned col = l->fld.f == XF_NAME ? BLOCK_COLS_NAME : l->fld.f == XF_RES ? BLOCK_COLS_SCOPE : 0;
		if ((sparse & col) && (rc = block_cols_ids_sel(blk, p, &w->cols, col, out)) < 0)
			return rc;
		eval_leaf(w, l, st, tmp);
		cnt = and_into(out, tmp, n);
	}
	if (cnt == 0)
		memset(out, 0, n);
	*n_sel = cnt;
	*sel = out;
	return 0;
}

int excol_fields_prepare(struct excol_worker *w, struct excol_field *const *f, uint32_t n)
{
	return excol_fields_prepare_sel(w, f, n, NULL);
}

int excol_fields_prepare_sel(struct excol_worker *w, struct excol_field *const *f, uint32_t n, const uint8_t *sel)
{
	int rc;
	if (n > EXCOL_MAX_FIELDS)
		return CLEW_EINVAL;
	for (uint32_t j = 0; j < n; j++) {
		w->fslot[j] = -1;
		if (f[j]->f == XF_DURATION && sel && (rc = block_cols_duration_sel(w->blk, w->page, &w->cols, sel)) < 0)
			return rc;
		if (f[j]->f != XF_SPAN && f[j]->f != XF_RES && f[j]->f != XF_ANY)
			continue;
		int s = slot_of(w, f[j]->key);
		if (s < 0)
			return CLEW_ENOMEM;
		w->fslot[j] = s;
		struct keyslot *ks = &w->slots[s];
		if (f[j]->f != XF_RES) {
			slot_page(w, ks);
			if ((rc = slot_refs(w, ks, sel)) < 0)
				return rc;
		}
		if (f[j]->f != XF_SPAN && (rc = slot_res(w, ks)) < 0)
			return rc;
	}
	return 0;
}

void excol_field_value(struct excol_worker *w, const struct excol_field *f, uint32_t j, uint32_t i,
		       struct exec_value *out)
{
	const struct block_cols *c = &w->cols;
	out->type = TQL_T_NIL;
	switch (f->f) {
	case XF_NAME:
		out->type = TQL_T_STRING;
		out->u.s = c->dict[0][c->name[i]];
		return;
	case XF_STATUS_MSG:
		out->type = TQL_T_STRING;
		out->u.s = c->dict[2][c->status_msg[i]];
		return;
	case XF_STATUS:
		out->type = TQL_T_STATUS;
		out->u.i = c->kind_status[2 * i + 1];
		return;
	case XF_KIND:
		out->type = TQL_T_KIND;
		out->u.i = c->kind_status[2 * i];
		return;
	case XF_DURATION:
		out->type = TQL_T_DURATION;
		out->u.i = c->duration[i];
		return;
	case XF_RES:
		*out = w->slots[w->fslot[j]].res[c->scope[i]];
		return;
	case XF_SPAN:
	case XF_ANY: {
		const struct keyslot *s = &w->slots[w->fslot[j]];
		if (s->kc.type[i] != BLOCK_KEY_NONE)
			key_val(c, &s->kc, i, out);
		else if (f->f == XF_ANY)
			*out = s->res[c->scope[i]];
		return;
	}
	}
}

const int64_t *excol_field_durations(const struct excol_worker *w, const struct excol_field *f)
{
	return f->f == XF_DURATION ? w->cols.duration : NULL;
}

uint32_t excol_field_codes(const struct excol_worker *w, const struct excol_field *f, uint32_t j, uint32_t *codes)
{
	const struct block_cols *c = &w->cols;
	uint32_t n = c->spans;
	switch (f->f) {
	case XF_NAME:
		memcpy(codes, c->name, (size_t)n * sizeof *codes);
		return c->dict_n[0];
	case XF_STATUS_MSG:
		memcpy(codes, c->status_msg, (size_t)n * sizeof *codes);
		return c->dict_n[2];
	case XF_STATUS:
	case XF_KIND: {
		int o = f->f == XF_STATUS;
		for (uint32_t i = 0; i < n; i++)
			codes[i] = c->kind_status[2 * i + o];
		return 256;
	}
	case XF_RES:
		memcpy(codes, c->scope, (size_t)n * sizeof *codes);
		return w->n_scopes;
	case XF_SPAN:
	case XF_ANY: {
		/* dictionary ids, then nil (span) or the scope (unscoped) */
		const struct keyslot *s = &w->slots[w->fslot[j]];
		uint32_t nv = c->dict_n[2];
		for (uint32_t i = 0; i < n; i++) {
			uint8_t t = s->kc.type[i];
			if (t == ANY_STRING)
				codes[i] = (uint32_t)s->kc.val[i];
			else if (t != BLOCK_KEY_NONE)
				codes[i] = UINT32_MAX;
			else
				codes[i] = f->f == XF_SPAN ? nv : nv + c->scope[i];
		}
		return f->f == XF_SPAN ? nv + 1 : nv + w->n_scopes;
	}
	case XF_DURATION:
		break;
	}
	for (uint32_t i = 0; i < n; i++)
		codes[i] = UINT32_MAX;
	return 0;
}
