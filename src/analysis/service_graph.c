/* The service graph (see service_graph.h; rules in docs/analysis.md).
 *
 * Design notes. One pass over a set of spans (a whole trace for the scan,
 * an accepted batch for the live graph) classifies each span:
 *   entry    SERVER or CONSUMER span, or a span without parent: counts for
 *            its service's node;
 *   inferred CLIENT/PRODUCER span with db.* or messaging.* attributes: an
 *            edge to the database or destination node at once;
 *   caller   any other CLIENT/PRODUCER span: paired with its first answer
 *            child (SERVER, or CONSUMER without messaging attributes) of
 *            the same set; without one, the edge goes to the node its
 *            peer.service / server.address / net.peer.name / URL host
 *            names (the scan), or it waits in the pending table (live);
 *   msg consumer  CONSUMER with messaging attributes: destination -> service.
 * Live pending table: a FIFO ring of entries keyed (trace id, span id, side)
 * in a linear-probing hash with backward-shift deletion. A caller waits for
 * its answer, an answer for its caller; a match makes the edge and deletes
 * the entry; an entry older than the TTL (or pushed out when the ring is
 * full) resolves as the scan would (caller: inferred edge; answer: dropped).
 * Queries see pending callers resolved tentatively, so live and scan agree. */
#include "analysis/service_graph.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"
#include "query/exec.h"
#include "query/sketch.h"

#define SG_ALPHA 0.02
#define SG_SKETCH_BUCKETS 256
#define NS_PER_MIN (60LL * 1000000000LL)
#define SG_FUTURE_MINUTES 5
#define SG_MAX_STRINGS 65536

static const char *kind_names[] = {"service", "database", "messaging", "external"};

const char *sg_kind_name(enum sg_kind k)
{
	return (unsigned)k < 4 ? kind_names[k] : "external";
}

/* ---- the graph ---- */

struct sg_stats {
	uint64_t count, errors;
	struct sketch lat_ms;
};

struct sg_node {
	struct slice name, team;
	uint64_t hash;
	uint8_t kind; /* inferred kind when not a service */
	bool service;
	struct sg_stats st;
};

struct sg_edge {
	uint32_t src, dst;
	struct sg_stats st;
};

struct sg_graph {
	struct arena strings;
	struct sg_node *nodes;
	uint32_t n_nodes, cap_nodes;
	uint32_t *node_tab, node_tab_cap;
	struct sg_edge *edges;
	uint32_t n_edges, cap_edges;
	uint32_t *edge_tab, edge_tab_cap;
	uint64_t dropped;
};

static uint32_t *new_tab(uint32_t cap)
{
	uint32_t *t = try_malloc((size_t)cap * sizeof *t);
	if (t)
		memset(t, 0xff, (size_t)cap * sizeof *t);
	return t;
}

struct sg_graph *sg_graph_new(void)
{
	struct sg_graph *g = try_calloc(1, sizeof *g);
	if (!g)
		return NULL;
	arena_init(&g->strings, 0);
	g->node_tab_cap = 64;
	g->edge_tab_cap = 64;
	g->node_tab = new_tab(g->node_tab_cap);
	g->edge_tab = new_tab(g->edge_tab_cap);
	if (!g->node_tab || !g->edge_tab) {
		sg_graph_free(g);
		return NULL;
	}
	return g;
}

void sg_graph_free(struct sg_graph *g)
{
	if (!g)
		return;
	for (uint32_t k = 0; k < g->n_nodes; k++)
		sketch_free(&g->nodes[k].st.lat_ms);
	for (uint32_t k = 0; k < g->n_edges; k++)
		sketch_free(&g->edges[k].st.lat_ms);
	free(g->nodes);
	free(g->edges);
	free(g->node_tab);
	free(g->edge_tab);
	arena_reset(&g->strings);
	free(g);
}

uint64_t sg_graph_dropped(const struct sg_graph *g)
{
	return g->dropped;
}

static inline uint64_t edge_hash(uint32_t src, uint32_t dst)
{
	uint64_t k = ((uint64_t)src << 32) | dst;
	return hash64(&k, sizeof k);
}

static int rehash_nodes(struct sg_graph *g)
{
	uint32_t cap = g->node_tab_cap * 2;
	uint32_t *t = new_tab(cap);
	if (!t)
		return CLEW_ENOMEM;
	for (uint32_t k = 0; k < g->n_nodes; k++) {
		uint32_t h = (uint32_t)g->nodes[k].hash & (cap - 1);
		while (t[h] != UINT32_MAX)
			h = (h + 1) & (cap - 1);
		t[h] = k;
	}
	free(g->node_tab);
	g->node_tab = t;
	g->node_tab_cap = cap;
	return 0;
}

static int rehash_edges(struct sg_graph *g)
{
	uint32_t cap = g->edge_tab_cap * 2;
	uint32_t *t = new_tab(cap);
	if (!t)
		return CLEW_ENOMEM;
	for (uint32_t k = 0; k < g->n_edges; k++) {
		uint32_t h = (uint32_t)edge_hash(g->edges[k].src, g->edges[k].dst) & (cap - 1);
		while (t[h] != UINT32_MAX)
			h = (h + 1) & (cap - 1);
		t[h] = k;
	}
	free(g->edge_tab);
	g->edge_tab = t;
	g->edge_tab_cap = cap;
	return 0;
}

static struct slice keep(struct arena *a, struct slice s)
{
	if (!s.len)
		return (struct slice){(const uint8_t *)"", 0};
	void *p = arena_memdup(a, s.p, s.len);
	return p ? slice_make(p, s.len) : (struct slice){NULL, 0};
}

/* The node named name: 0 with *idx, 1 when the cap is reached (dropped),
 * CLEW_ENOMEM. */
static int node_get(struct sg_graph *g, struct slice name, uint32_t *idx)
{
	uint64_t hv = hash64(name.p, name.len);
	uint32_t h = (uint32_t)hv & (g->node_tab_cap - 1);
	while (g->node_tab[h] != UINT32_MAX) {
		const struct sg_node *nd = &g->nodes[g->node_tab[h]];
		if (nd->hash == hv && slice_eq(nd->name, name)) {
			*idx = g->node_tab[h];
			return 0;
		}
		h = (h + 1) & (g->node_tab_cap - 1);
	}
	if (g->n_nodes >= SG_MAX_NODES) {
		g->dropped++;
		return 1;
	}
	if (g->n_nodes == g->cap_nodes) {
		uint32_t cap = g->cap_nodes ? g->cap_nodes * 2 : 16;
		struct sg_node *v = try_realloc(g->nodes, (size_t)cap * sizeof *v);
		if (!v)
			return CLEW_ENOMEM;
		g->nodes = v;
		g->cap_nodes = cap;
	}
	struct sg_node *nd = &g->nodes[g->n_nodes];
	memset(nd, 0, sizeof *nd);
	nd->name = keep(&g->strings, name);
	if (!nd->name.p)
		return CLEW_ENOMEM;
	nd->team = (struct slice){(const uint8_t *)"", 0};
	nd->hash = hv;
	nd->kind = SG_EXTERNAL;
	sketch_init(&nd->st.lat_ms, SG_ALPHA, SG_SKETCH_BUCKETS);
	g->node_tab[h] = g->n_nodes;
	*idx = g->n_nodes++;
	if (g->n_nodes * 2 > g->node_tab_cap && rehash_nodes(g) < 0)
		return CLEW_ENOMEM;
	return 0;
}

static int edge_get(struct sg_graph *g, uint32_t src, uint32_t dst, uint32_t *idx)
{
	uint32_t h = (uint32_t)edge_hash(src, dst) & (g->edge_tab_cap - 1);
	while (g->edge_tab[h] != UINT32_MAX) {
		const struct sg_edge *e = &g->edges[g->edge_tab[h]];
		if (e->src == src && e->dst == dst) {
			*idx = g->edge_tab[h];
			return 0;
		}
		h = (h + 1) & (g->edge_tab_cap - 1);
	}
	if (g->n_edges >= SG_MAX_EDGES) {
		g->dropped++;
		return 1;
	}
	if (g->n_edges == g->cap_edges) {
		uint32_t cap = g->cap_edges ? g->cap_edges * 2 : 16;
		struct sg_edge *v = try_realloc(g->edges, (size_t)cap * sizeof *v);
		if (!v)
			return CLEW_ENOMEM;
		g->edges = v;
		g->cap_edges = cap;
	}
	struct sg_edge *e = &g->edges[g->n_edges];
	memset(e, 0, sizeof *e);
	e->src = src;
	e->dst = dst;
	sketch_init(&e->st.lat_ms, SG_ALPHA, SG_SKETCH_BUCKETS);
	g->edge_tab[h] = g->n_edges;
	*idx = g->n_edges++;
	if (g->n_edges * 2 > g->edge_tab_cap && rehash_edges(g) < 0)
		return CLEW_ENOMEM;
	return 0;
}

static int stats_add(struct sg_stats *st, int64_t dur_ns, bool error)
{
	st->count++;
	st->errors += error;
	return sketch_add(&st->lat_ms, (double)(dur_ns > 0 ? dur_ns : 0) / 1e6);
}

static int stats_merge(struct sg_stats *dst, const struct sg_stats *src)
{
	dst->count += src->count;
	dst->errors += src->errors;
	return sketch_merge(&dst->lat_ms, &src->lat_ms);
}

static void set_service(struct sg_graph *g, uint32_t idx, struct slice team)
{
	struct sg_node *nd = &g->nodes[idx];
	nd->service = true;
	if (!nd->team.len && team.len) {
		struct slice t = keep(&g->strings, team);
		if (t.p)
			nd->team = t;
	}
}

/* An entry span of service svc. */
static int graph_entry(struct sg_graph *g, struct slice svc, struct slice team, int64_t dur_ns, bool error)
{
	uint32_t n;
	int rc = node_get(g, svc, &n);
	if (rc)
		return rc < 0 ? rc : 0;
	set_service(g, n, team);
	return stats_add(&g->nodes[n].st, dur_ns, error);
}

/* One call from src to dst. src_service: src is one of our services (else
 * a messaging destination); dst_service: dst answered with its own span
 * (else dst is inferred, of kind dst_kind, and the call counts for it). */
static int graph_edge(struct sg_graph *g, struct slice src, struct slice src_team, bool src_service,
		      uint8_t src_kind, struct slice dst, struct slice dst_team, bool dst_service, uint8_t dst_kind,
		      int64_t dur_ns, bool error)
{
	uint32_t s, d, e;
	int rc = node_get(g, src, &s);
	if (rc)
		return rc < 0 ? rc : 0;
	if (src_service)
		set_service(g, s, src_team);
	else
		g->nodes[s].kind = src_kind;
	if ((rc = node_get(g, dst, &d)))
		return rc < 0 ? rc : 0;
	if (dst_service) {
		set_service(g, d, dst_team);
	} else {
		g->nodes[d].kind = dst_kind;
		if ((rc = stats_add(&g->nodes[d].st, dur_ns, error)) < 0)
			return rc;
	}
	if ((rc = edge_get(g, s, d, &e)))
		return rc < 0 ? rc : 0;
	return stats_add(&g->edges[e].st, dur_ns, error);
}

int sg_graph_merge(struct sg_graph *dst, const struct sg_graph *src)
{
	uint32_t *map = try_malloc(((size_t)src->n_nodes + 1) * sizeof *map);
	int rc = 0;
	if (!map)
		return CLEW_ENOMEM;
	for (uint32_t k = 0; k < src->n_nodes; k++) {
		const struct sg_node *sn = &src->nodes[k];
		map[k] = UINT32_MAX;
		if ((rc = node_get(dst, sn->name, &map[k])) < 0)
			goto out;
		if (rc) {
			map[k] = UINT32_MAX;
			rc = 0;
			continue;
		}
		struct sg_node *dn = &dst->nodes[map[k]];
		if (sn->service)
			set_service(dst, map[k], sn->team);
		else if (!dn->service)
			dn->kind = sn->kind;
		if ((rc = stats_merge(&dn->st, &sn->st)) < 0)
			goto out;
	}
	for (uint32_t k = 0; k < src->n_edges; k++) {
		const struct sg_edge *se = &src->edges[k];
		uint32_t e;
		if (map[se->src] == UINT32_MAX || map[se->dst] == UINT32_MAX)
			continue;
		if ((rc = edge_get(dst, map[se->src], map[se->dst], &e)) < 0)
			goto out;
		if (rc) {
			rc = 0;
			continue;
		}
		if ((rc = stats_merge(&dst->edges[e].st, &se->st)) < 0)
			goto out;
	}
	dst->dropped += src->dropped;
out:
	free(map);
	return rc;
}

/* ---- over the store ---- */

struct sg_scan {
	struct sg_graph *w[EXEC_MAX_WORKERS];
	int64_t start_ns, end_ns;
};

static int scan_visit(void *ctx, uint32_t worker, const struct span_batch *b, uint32_t first, uint32_t n,
		      const uint32_t *matched, uint32_t n_matched)
{
	struct sg_scan *c = ctx;
	(void)matched;
	(void)n_matched;
	if (!c->w[worker] && !(c->w[worker] = sg_graph_new()))
		return CLEW_ENOMEM;
	return sg_graph_add_trace(c->w[worker], b, first, n, c->start_ns, c->end_ns);
}

int sg_graph_scan(const struct store_query_ops *ops, void *impl, struct exec_query *xq, const struct exec_options *o,
		  int64_t start_ns, int64_t end_ns, struct sg_graph **out)
{
	struct sg_scan *c = try_calloc(1, sizeof *c);
	struct sg_graph *g = sg_graph_new();
	int rc = CLEW_ENOMEM;
	*out = NULL;
	if (!c || !g)
		goto out;
	c->start_ns = start_ns;
	c->end_ns = end_ns;
	rc = exec_scan_workers(ops, impl, xq, o, scan_visit, c, NULL);
	for (uint32_t k = 0; k < EXEC_MAX_WORKERS && rc >= 0; k++)
		if (c->w[k] && sg_graph_merge(g, c->w[k]) < 0)
			rc = CLEW_ENOMEM;
	if (rc >= 0) {
		*out = g;
		g = NULL;
		rc = 0;
	}
out:
	if (c)
		for (uint32_t k = 0; k < EXEC_MAX_WORKERS; k++)
			sg_graph_free(c->w[k]);
	free(c);
	sg_graph_free(g);
	return rc;
}

static int cmp_slice(struct slice a, struct slice b)
{
	size_t m = a.len < b.len ? a.len : b.len;
	int r = m ? memcmp(a.p, b.p, m) : 0;
	return r ? r : (a.len > b.len) - (a.len < b.len);
}

static int cmp_node_out(const void *x, const void *y)
{
	return cmp_slice(((const struct sg_node_out *)x)->name, ((const struct sg_node_out *)y)->name);
}

static int cmp_edge_out(const void *x, const void *y)
{
	const struct sg_edge_out *a = x, *b = y;
	int r = cmp_slice(a->source, b->source);
	return r ? r : cmp_slice(a->target, b->target);
}

static double finite_or_zero(double v)
{
	return isfinite(v) ? v : 0;
}

static void fill_figures(const struct sg_stats *st, double range_s, uint64_t *requests, uint64_t *errors,
			 double *rate, double *error_rate, double *p50, double *p99)
{
	*requests = st->count;
	*errors = st->errors;
	*rate = range_s > 0 ? (double)st->count / range_s : 0;
	*error_rate = st->count ? (double)st->errors / (double)st->count : 0;
	*p50 = finite_or_zero(sketch_quantile(&st->lat_ms, 0.5));
	*p99 = finite_or_zero(sketch_quantile(&st->lat_ms, 0.99));
}

int sg_graph_result(const struct sg_graph *g, double range_s, struct arena *a, struct sg_node_out **nodes,
		    uint32_t *n_nodes, struct sg_edge_out **edges, uint32_t *n_edges)
{
	*nodes = arena_array(a, g->n_nodes + 1, sizeof **nodes);
	*edges = arena_array(a, g->n_edges + 1, sizeof **edges);
	*n_nodes = *n_edges = 0;
	if (!*nodes || !*edges)
		return CLEW_ENOMEM;
	for (uint32_t k = 0; k < g->n_nodes; k++) {
		const struct sg_node *nd = &g->nodes[k];
		struct sg_node_out *o = &(*nodes)[k];
		o->name = nd->name;
		o->team = nd->team;
		o->kind = nd->service ? SG_SERVICE : (enum sg_kind)nd->kind;
		fill_figures(&nd->st, range_s, &o->requests, &o->errors, &o->rate, &o->error_rate, &o->p50_ms,
			     &o->p99_ms);
	}
	for (uint32_t k = 0; k < g->n_edges; k++) {
		const struct sg_edge *e = &g->edges[k];
		struct sg_edge_out *o = &(*edges)[k];
		o->source = g->nodes[e->src].name;
		o->target = g->nodes[e->dst].name;
		fill_figures(&e->st, range_s, &o->requests, &o->errors, &o->rate, &o->error_rate, &o->p50_ms,
			     &o->p99_ms);
	}
	*n_nodes = g->n_nodes;
	*n_edges = g->n_edges;
	if (g->n_nodes > 1)
		qsort(*nodes, g->n_nodes, sizeof **nodes, cmp_node_out);
	if (g->n_edges > 1)
		qsort(*edges, g->n_edges, sizeof **edges, cmp_edge_out);
	return 0;
}

/* ---- span classification ---- */

enum role { R_NONE, R_INFERRED, R_CALLER, R_ANSWER, R_MSG_CONSUMER };

static struct slice str_attr(const struct attr_list *l, const char *key)
{
	const struct attr *a = attr_find(l, key);
	if (a && a->value.type == ANY_STRING && a->value.u.str.len)
		return a->value.u.str;
	return (struct slice){NULL, 0};
}

static struct slice team_of(const struct resource *r)
{
	static const char *keys[] = {"service.team", "team.name", "team", "owner"};
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		struct slice t = str_attr(&r->attrs, keys[k]);
		if (t.len)
			return t;
	}
	return (struct slice){(const uint8_t *)"", 0};
}

/* "a b", or whichever is not empty, in a; empty when both are. */
static struct slice join2(struct arena *a, struct slice x, struct slice y)
{
	if (!x.len || !y.len)
		return x.len ? x : y;
	uint8_t *p = arena_alloc(a, x.len + 1 + y.len);
	if (!p)
		return (struct slice){NULL, 0};
	memcpy(p, x.p, x.len);
	p[x.len] = ' ';
	memcpy(p + x.len + 1, y.p, y.len);
	return slice_make(p, x.len + 1 + y.len);
}

/* The database or messaging destination a span names (strong), in *name. */
static bool strong_target(const struct span *s, struct arena *a, struct slice *name, uint8_t *kind)
{
	static const char *db_keys[] = {"db.name", "db.namespace", "peer.service", "server.address", "net.peer.name"};
	struct slice sys = str_attr(&s->attrs, "db.system"), db = {NULL, 0};
	for (size_t k = 0; k < sizeof db_keys / sizeof *db_keys && !db.len; k++)
		db = str_attr(&s->attrs, db_keys[k]);
	if (sys.len || db.len) {
		*name = join2(a, sys, db);
		*kind = SG_DATABASE;
		return name->len > 0;
	}
	sys = str_attr(&s->attrs, "messaging.system");
	struct slice dest = str_attr(&s->attrs, "messaging.destination.name");
	if (!dest.len)
		dest = str_attr(&s->attrs, "messaging.destination");
	if (sys.len || dest.len) {
		*name = join2(a, sys, dest);
		*kind = SG_MESSAGING;
		return name->len > 0;
	}
	return false;
}

/* The host of an absolute URL, or empty. */
static struct slice url_host(struct slice u)
{
	size_t k = 0;
	while (k + 2 < u.len && !(u.p[k] == ':' && u.p[k + 1] == '/' && u.p[k + 2] == '/'))
		k++;
	if (k + 2 >= u.len)
		return (struct slice){NULL, 0};
	size_t h = k + 3, e = h;
	while (e < u.len && u.p[e] != '/' && u.p[e] != ':' && u.p[e] != '?' && u.p[e] != '#')
		e++;
	/* skip user info */
	for (size_t i = h; i < e; i++)
		if (u.p[i] == '@')
			h = i + 1;
	return slice_make(u.p + h, e - h);
}

/* Where a caller without an answer went: peer.service, else a host. */
static bool weak_target(const struct span *s, struct slice *name, uint8_t *kind)
{
	static const char *keys[] = {"peer.service", "server.address", "net.peer.name"};
	*kind = SG_EXTERNAL;
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		*name = str_attr(&s->attrs, keys[k]);
		if (name->len)
			return true;
	}
	*name = url_host(str_attr(&s->attrs, "url.full"));
	if (!name->len)
		*name = url_host(str_attr(&s->attrs, "http.url"));
	return name->len > 0;
}

static bool has_messaging(const struct span *s)
{
	return attr_find(&s->attrs, "messaging.system") || attr_find(&s->attrs, "messaging.destination.name") ||
	       attr_find(&s->attrs, "messaging.destination");
}

static bool has_db(const struct span *s)
{
	return attr_find(&s->attrs, "db.system") || attr_find(&s->attrs, "db.name") ||
	       attr_find(&s->attrs, "db.namespace");
}

static enum role role_of(const struct span *s)
{
	switch (s->kind) {
	case SPAN_KIND_CLIENT:
	case SPAN_KIND_PRODUCER:
		return has_db(s) || has_messaging(s) ? R_INFERRED : R_CALLER;
	case SPAN_KIND_SERVER:
		return R_ANSWER;
	case SPAN_KIND_CONSUMER:
		return has_messaging(s) ? R_MSG_CONSUMER : R_ANSWER;
	default:
		return R_NONE;
	}
}

static inline bool is_entry(const struct span *s)
{
	return s->kind == SPAN_KIND_SERVER || s->kind == SPAN_KIND_CONSUMER || !s->has_parent;
}

static inline int64_t dur_of(const struct span *s)
{
	return s->end_unix_ns > s->start_unix_ns ? s->end_unix_ns - s->start_unix_ns : 0;
}

static inline bool is_error(const struct span *s)
{
	return s->status_code == STATUS_ERROR;
}

/* ---- an index of a span set by (trace id, id) ---- */

struct span_index {
	uint32_t *tab;
	uint32_t cap;
};

static uint64_t id_hash(const uint8_t trace[16], const uint8_t id[8])
{
	uint8_t k[24];
	memcpy(k, trace, 16);
	memcpy(k + 16, id, 8);
	return hash64(k, sizeof k);
}

/* Index spans [first, first+n) of b that pass want (by span id, or by
 * parent id when by_parent); the first of equal keys wins. */
static int index_build(struct span_index *x, const struct span_batch *b, uint32_t first, uint32_t n, bool by_parent,
		       struct arena *a)
{
	x->cap = 16;
	while (x->cap < n * 2)
		x->cap <<= 1;
	x->tab = arena_array(a, x->cap, sizeof *x->tab);
	if (!x->tab)
		return CLEW_ENOMEM;
	memset(x->tab, 0xff, (size_t)x->cap * sizeof *x->tab);
	for (uint32_t i = first; i < first + n; i++) {
		const struct span *s = &b->spans[i];
		if (by_parent && (!s->has_parent || role_of(s) != R_ANSWER))
			continue;
		const uint8_t *key = by_parent ? s->parent_span_id : s->span_id;
		uint32_t h = (uint32_t)id_hash(s->trace_id, key) & (x->cap - 1);
		for (;;) {
			uint32_t j = x->tab[h];
			if (j == UINT32_MAX) {
				x->tab[h] = i;
				break;
			}
			const struct span *o = &b->spans[j];
			if (memcmp(o->trace_id, s->trace_id, 16) == 0 &&
			    memcmp(by_parent ? o->parent_span_id : o->span_id, key, 8) == 0)
				break;
			h = (h + 1) & (x->cap - 1);
		}
	}
	return 0;
}

static int64_t index_find(const struct span_index *x, const struct span_batch *b, const uint8_t trace[16],
			  const uint8_t id[8], bool by_parent)
{
	uint32_t h = (uint32_t)id_hash(trace, id) & (x->cap - 1);
	while (x->tab[h] != UINT32_MAX) {
		const struct span *o = &b->spans[x->tab[h]];
		if (memcmp(o->trace_id, trace, 16) == 0 && memcmp(by_parent ? o->parent_span_id : o->span_id, id, 8) == 0)
			return x->tab[h];
		h = (h + 1) & (x->cap - 1);
	}
	return -1;
}

/* ---- one pass over a span set, into a sink ---- */

struct service_graph_live;

struct sink {
	struct sg_graph *g; /* the scan: one graph with a time filter */
	int64_t start_ns, end_ns;
	struct service_graph_live *live; /* else the live buckets */
	int64_t now_ns;
	struct arena *scratch;
};

static struct sg_graph *sink_graph(struct sink *k, int64_t t_ns);
static int live_pending_caller(struct sink *k, const struct span_batch *b, const struct span *s);
static int live_pending_answer(struct sink *k, const struct span_batch *b, const struct span *s);

static int pass(struct sink *k, const struct span_batch *b, uint32_t first, uint32_t n)
{
	struct span_index by_id, by_parent;
	int rc;
	if ((rc = index_build(&by_id, b, first, n, false, k->scratch)) < 0 ||
	    (rc = index_build(&by_parent, b, first, n, true, k->scratch)) < 0)
		return rc;
	for (uint32_t i = first; i < first + n; i++) {
		const struct span *s = &b->spans[i];
		const struct resource *r = span_batch_resource_of(b, s);
		struct slice svc = resource_service_name(r), name;
		uint8_t kind;
		struct sg_graph *g = sink_graph(k, s->start_unix_ns);
		if (is_entry(s) && g && (rc = graph_entry(g, svc, team_of(r), dur_of(s), is_error(s))) < 0)
			return rc;
		switch (role_of(s)) {
		case R_INFERRED:
			if (g && strong_target(s, k->scratch, &name, &kind) &&
			    (rc = graph_edge(g, svc, team_of(r), true, 0, name, SLICE_LIT(""), false, kind, dur_of(s),
					     is_error(s))) < 0)
				return rc;
			break;
		case R_MSG_CONSUMER:
			if (g && strong_target(s, k->scratch, &name, &kind) &&
			    (rc = graph_edge(g, name, SLICE_LIT(""), false, kind, svc, team_of(r), true, 0, dur_of(s),
					     is_error(s))) < 0)
				return rc;
			break;
		case R_CALLER: {
			int64_t c = index_find(&by_parent, b, s->trace_id, s->span_id, true);
			if (c >= 0) {
				const struct span *a = &b->spans[c];
				const struct resource *ar = span_batch_resource_of(b, a);
				if (g && (rc = graph_edge(g, svc, team_of(r), true, 0, resource_service_name(ar),
							  team_of(ar), true, 0, dur_of(s), is_error(s) || is_error(a))) < 0)
					return rc;
			} else if (k->live) {
				if ((rc = live_pending_caller(k, b, s)) < 0)
					return rc;
			} else if (g && weak_target(s, &name, &kind) &&
				   (rc = graph_edge(g, svc, team_of(r), true, 0, name, SLICE_LIT(""), false, kind,
						    dur_of(s), is_error(s))) < 0) {
				return rc;
			}
			break;
		}
		case R_ANSWER:
			if (k->live && s->has_parent && index_find(&by_id, b, s->trace_id, s->parent_span_id, false) < 0 &&
			    (rc = live_pending_answer(k, b, s)) < 0)
				return rc;
			break;
		default:
			break;
		}
	}
	return 0;
}

int sg_graph_add_trace(struct sg_graph *g, const struct span_batch *b, uint32_t first, uint32_t n, int64_t start_ns,
		       int64_t end_ns)
{
	struct arena scratch;
	arena_init(&scratch, 0);
	struct sink k = {.g = g, .start_ns = start_ns, .end_ns = end_ns, .scratch = &scratch};
	int rc = pass(&k, b, first, n);
	arena_reset(&scratch);
	return rc;
}

/* ---- live ---- */

enum { P_DEAD = 0, P_CALLER = 1, P_ANSWER = 2 };

struct pending {
	uint8_t trace[16], id[8]; /* caller: its span id; answer: its parent's */
	uint8_t side;		  /* P_* */
	uint8_t fb_kind;
	bool error, has_fb;
	int64_t t_ns, dur_ns, arrived_ns;
	struct slice svc, team, fb; /* interned */
};

struct bucket {
	int64_t minute;
	struct sg_graph *g;
};

struct service_graph_live {
	pthread_mutex_t mu;
	struct sg_live_options o;
	struct bucket *ring;
	uint32_t n_ring;
	struct pending *pend;
	uint32_t head, count;
	uint32_t *ptab, ptab_cap;
	uint64_t live_pending, skipped;
	/* interned strings (service names, teams, fallback targets) */
	struct arena strings;
	struct slice *str_items;
	uint32_t *str_tab, n_str, str_cap;
	struct arena scratch;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static struct sg_graph *sink_graph(struct sink *k, int64_t t_ns)
{
	if (!k->live) {
		if (t_ns < k->start_ns || (k->end_ns && t_ns >= k->end_ns))
			return NULL;
		return k->g;
	}
	struct service_graph_live *l = k->live;
	int64_t m = floor_div(t_ns, NS_PER_MIN), now_m = floor_div(k->now_ns, NS_PER_MIN);
	if (m <= now_m - (int64_t)l->o.minutes || m > now_m + SG_FUTURE_MINUTES) {
		l->skipped++;
		return NULL;
	}
	struct bucket *bk = &l->ring[(uint64_t)m % l->n_ring];
	if (bk->minute != m || !bk->g) {
		sg_graph_free(bk->g);
		bk->g = sg_graph_new();
		bk->minute = m;
		if (!bk->g) {
			l->skipped++;
			return NULL;
		}
	}
	return bk->g;
}

static struct slice intern(struct service_graph_live *l, struct slice s)
{
	if (!s.len)
		return (struct slice){(const uint8_t *)"", 0};
	uint64_t hv = hash64(s.p, s.len);
	uint32_t h = (uint32_t)hv & (l->str_cap - 1);
	while (l->str_tab[h] != UINT32_MAX) {
		if (slice_eq(l->str_items[l->str_tab[h]], s))
			return l->str_items[l->str_tab[h]];
		h = (h + 1) & (l->str_cap - 1);
	}
	if (l->n_str >= SG_MAX_STRINGS)
		return (struct slice){NULL, 0};
	struct slice k = keep(&l->strings, s);
	if (!k.p)
		return k;
	l->str_items[l->n_str] = k;
	l->str_tab[h] = l->n_str++;
	return k;
}

static uint64_t pend_hash(const uint8_t trace[16], const uint8_t id[8], uint8_t side)
{
	return id_hash(trace, id) ^ side;
}

static int64_t pend_find(struct service_graph_live *l, const uint8_t trace[16], const uint8_t id[8], uint8_t side,
			 uint32_t *slot)
{
	uint32_t h = (uint32_t)pend_hash(trace, id, side) & (l->ptab_cap - 1);
	while (l->ptab[h] != UINT32_MAX) {
		const struct pending *p = &l->pend[l->ptab[h]];
		if (p->side == side && memcmp(p->trace, trace, 16) == 0 && memcmp(p->id, id, 8) == 0) {
			*slot = h;
			return l->ptab[h];
		}
		h = (h + 1) & (l->ptab_cap - 1);
	}
	return -1;
}

/* Delete table slot i by backward shift (linear probing), mark it dead. */
static void pend_delete(struct service_graph_live *l, uint32_t i)
{
	uint32_t mask = l->ptab_cap - 1;
	l->pend[l->ptab[i]].side = P_DEAD;
	l->live_pending--;
	uint32_t j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (l->ptab[j] == UINT32_MAX)
			break;
		const struct pending *p = &l->pend[l->ptab[j]];
		uint32_t home = (uint32_t)pend_hash(p->trace, p->id, p->side) & mask;
		/* move j back to i unless its home lies cyclically in (i, j] */
		bool stay = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stay) {
			l->ptab[i] = l->ptab[j];
			i = j;
		}
	}
	l->ptab[i] = UINT32_MAX;
}

/* Resolve a caller nobody answered, as the scan does, into g. */
static int resolve_caller(struct sg_graph *g, const struct pending *p)
{
	if (!g || !p->has_fb)
		return 0;
	return graph_edge(g, p->svc, p->team, true, 0, p->fb, SLICE_LIT(""), false, p->fb_kind, p->dur_ns, p->error);
}

/* Pop the oldest entry, resolving it if alive. */
static int pend_pop(struct sink *k)
{
	struct service_graph_live *l = k->live;
	struct pending *p = &l->pend[l->head];
	int rc = 0;
	if (p->side != P_DEAD) {
		uint32_t slot;
		uint8_t side = p->side;
		if (pend_find(l, p->trace, p->id, side, &slot) >= 0)
			pend_delete(l, slot);
		if (side == P_CALLER)
			rc = resolve_caller(sink_graph(k, p->t_ns), p);
		p->side = P_DEAD;
	}
	l->head = (l->head + 1) % l->o.max_pending;
	l->count--;
	return rc;
}

static int pend_push(struct sink *k, const struct pending *e)
{
	struct service_graph_live *l = k->live;
	int rc;
	if (l->count == l->o.max_pending && (rc = pend_pop(k)) < 0)
		return rc;
	uint32_t at = (l->head + l->count) % l->o.max_pending;
	l->pend[at] = *e;
	l->count++;
	l->live_pending++;
	uint32_t h = (uint32_t)pend_hash(e->trace, e->id, e->side) & (l->ptab_cap - 1);
	while (l->ptab[h] != UINT32_MAX) {
		const struct pending *o = &l->pend[l->ptab[h]];
		if (o->side == e->side && memcmp(o->trace, e->trace, 16) == 0 && memcmp(o->id, e->id, 8) == 0) {
			/* a duplicate: the first one stays */
			l->pend[at].side = P_DEAD;
			l->live_pending--;
			return 0;
		}
		h = (h + 1) & (l->ptab_cap - 1);
	}
	l->ptab[h] = at;
	return 0;
}

static int live_pending_caller(struct sink *k, const struct span_batch *b, const struct span *s)
{
	struct service_graph_live *l = k->live;
	const struct resource *r = span_batch_resource_of(b, s);
	uint32_t slot;
	int64_t a = pend_find(l, s->trace_id, s->span_id, P_ANSWER, &slot);
	struct sg_graph *g = sink_graph(k, s->start_unix_ns);
	if (a >= 0) {
		struct pending ans = l->pend[a];
		pend_delete(l, slot);
		if (!g)
			return 0;
		return graph_edge(g, resource_service_name(r), team_of(r), true, 0, ans.svc, ans.team, true, 0,
				  dur_of(s), is_error(s) || ans.error);
	}
	if (!g)
		return 0;
	struct pending e = {.side = P_CALLER, .error = is_error(s), .t_ns = s->start_unix_ns, .dur_ns = dur_of(s),
			    .arrived_ns = k->now_ns};
	memcpy(e.trace, s->trace_id, 16);
	memcpy(e.id, s->span_id, 8);
	struct slice fb;
	e.has_fb = weak_target(s, &fb, &e.fb_kind);
	e.svc = intern(l, resource_service_name(r));
	e.team = intern(l, team_of(r));
	if (e.has_fb)
		e.fb = intern(l, fb);
	if (!e.svc.p || !e.team.p || (e.has_fb && !e.fb.p)) {
		/* no room to remember it: resolve it now */
		if (!e.has_fb)
			return 0;
		return graph_edge(g, resource_service_name(r), team_of(r), true, 0, fb, SLICE_LIT(""), false,
				  e.fb_kind, e.dur_ns, e.error);
	}
	return pend_push(k, &e);
}

static int live_pending_answer(struct sink *k, const struct span_batch *b, const struct span *s)
{
	struct service_graph_live *l = k->live;
	const struct resource *r = span_batch_resource_of(b, s);
	uint32_t slot;
	int64_t c = pend_find(l, s->trace_id, s->parent_span_id, P_CALLER, &slot);
	if (c >= 0) {
		struct pending cl = l->pend[c];
		pend_delete(l, slot);
		struct sg_graph *g = sink_graph(k, cl.t_ns);
		if (!g)
			return 0;
		return graph_edge(g, cl.svc, cl.team, true, 0, resource_service_name(r), team_of(r), true, 0, cl.dur_ns,
				  cl.error || is_error(s));
	}
	struct pending e = {.side = P_ANSWER, .error = is_error(s), .t_ns = s->start_unix_ns, .arrived_ns = k->now_ns};
	memcpy(e.trace, s->trace_id, 16);
	memcpy(e.id, s->parent_span_id, 8);
	e.svc = intern(l, resource_service_name(r));
	e.team = intern(l, team_of(r));
	if (!e.svc.p || !e.team.p)
		return 0;
	return pend_push(k, &e);
}

struct service_graph_live *sg_live_new(const struct sg_live_options *o)
{
	struct service_graph_live *l = try_calloc(1, sizeof *l);
	if (!l)
		return NULL;
	if (o)
		l->o = *o;
	if (!l->o.minutes)
		l->o.minutes = SG_LIVE_DEFAULT_MINUTES;
	if (l->o.pending_ttl_ns <= 0)
		l->o.pending_ttl_ns = SG_LIVE_DEFAULT_PENDING_TTL_NS;
	if (!l->o.max_pending)
		l->o.max_pending = SG_LIVE_DEFAULT_MAX_PENDING;
	pthread_mutex_init(&l->mu, NULL);
	arena_init(&l->strings, 0);
	arena_init(&l->scratch, 0);
	l->n_ring = l->o.minutes + SG_FUTURE_MINUTES + 1;
	l->ring = try_calloc(l->n_ring, sizeof *l->ring);
	l->pend = try_calloc(l->o.max_pending, sizeof *l->pend);
	l->ptab_cap = 16;
	while (l->ptab_cap < l->o.max_pending * 2)
		l->ptab_cap <<= 1;
	l->ptab = new_tab(l->ptab_cap);
	l->str_cap = SG_MAX_STRINGS * 2;
	l->str_tab = new_tab(l->str_cap);
	l->str_items = try_calloc(SG_MAX_STRINGS, sizeof *l->str_items);
	if (!l->ring || !l->pend || !l->ptab || !l->str_tab || !l->str_items) {
		sg_live_free(l);
		return NULL;
	}
	for (uint32_t k = 0; k < l->n_ring; k++)
		l->ring[k].minute = INT64_MIN;
	return l;
}

void sg_live_free(struct service_graph_live *l)
{
	if (!l)
		return;
	for (uint32_t k = 0; l->ring && k < l->n_ring; k++)
		sg_graph_free(l->ring[k].g);
	free(l->ring);
	free(l->pend);
	free(l->ptab);
	free(l->str_tab);
	free(l->str_items);
	arena_reset(&l->strings);
	arena_reset(&l->scratch);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static int expire(struct sink *k)
{
	struct service_graph_live *l = k->live;
	int rc;
	while (l->count && l->pend[l->head].arrived_ns <= k->now_ns - l->o.pending_ttl_ns)
		if ((rc = pend_pop(k)) < 0)
			return rc;
	return 0;
}

int sg_live_add_batch(struct service_graph_live *l, const struct span_batch *b, int64_t now_ns)
{
	pthread_mutex_lock(&l->mu);
	struct sink k = {.live = l, .now_ns = now_ns, .scratch = &l->scratch};
	int rc = expire(&k);
	if (rc == 0 && b->n_spans)
		rc = pass(&k, b, 0, b->n_spans);
	arena_reset(&l->scratch);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

bool sg_live_covers(struct service_graph_live *l, int64_t start_ns, int64_t end_ns, int64_t now_ns)
{
	(void)end_ns;
	pthread_mutex_lock(&l->mu);
	int64_t now_m = floor_div(now_ns, NS_PER_MIN);
	bool ok = start_ns >= l->o.covers_from_ns && floor_div(start_ns, NS_PER_MIN) > now_m - (int64_t)l->o.minutes;
	pthread_mutex_unlock(&l->mu);
	return ok;
}

struct sg_graph *sg_live_query(struct service_graph_live *l, int64_t start_ns, int64_t end_ns, int64_t now_ns,
			       int *rc)
{
	struct sg_graph *g = sg_graph_new();
	*rc = 0;
	if (!g) {
		*rc = CLEW_ENOMEM;
		return NULL;
	}
	pthread_mutex_lock(&l->mu);
	struct sink k = {.live = l, .now_ns = now_ns, .scratch = &l->scratch};
	*rc = expire(&k);
	int64_t m0 = floor_div(start_ns, NS_PER_MIN), m1 = floor_div(end_ns + NS_PER_MIN - 1, NS_PER_MIN);
	for (uint32_t i = 0; i < l->n_ring && *rc == 0; i++) {
		const struct bucket *bk = &l->ring[i];
		if (bk->g && bk->minute >= m0 && bk->minute < m1)
			*rc = sg_graph_merge(g, bk->g);
	}
	for (uint32_t i = 0; i < l->count && *rc == 0; i++) {
		const struct pending *p = &l->pend[(l->head + i) % l->o.max_pending];
		int64_t m = floor_div(p->t_ns, NS_PER_MIN);
		if (p->side == P_CALLER && m >= m0 && m < m1)
			*rc = resolve_caller(g, p);
	}
	pthread_mutex_unlock(&l->mu);
	if (*rc < 0) {
		sg_graph_free(g);
		return NULL;
	}
	return g;
}

void sg_live_stats(struct service_graph_live *l, uint64_t *pending, uint64_t *skipped)
{
	pthread_mutex_lock(&l->mu);
	*pending = l->live_pending;
	*skipped = l->skipped;
	pthread_mutex_unlock(&l->mu);
}
