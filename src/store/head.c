/* The head: spans acknowledged by the WAL, held in memory and queryable at
 * once, until the store cuts them into blocks.
 *
 * Design notes.
 * - A chunk is one WAL payload (an encoded ExportTraceServiceRequest) plus
 *   a table of "contexts", one per scope of the batch: the offsets of the
 *   encoded Resource and InstrumentationScope and of their schema URLs.
 *   Chunks are immutable once indexed and live until head_free; each keeps
 *   the range of its span start times so the store can later release them
 *   per time range.
 * - A span is indexed by a 40-byte ref (chunk, context, offset and length of
 *   its encoded Span, start time, span id) appended to its trace's ref list.
 *   Nothing else is decoded at insert time: head_get_trace decodes the refs
 *   of one trace on demand.
 * - The index is split in HEAD_SHARDS shards by trace-id hash, each behind
 *   its own mutex, so inserts from many I/O threads rarely meet. In a shard,
 *   an open-addressing table maps trace id -> trace, and a second one holds
 *   every (trace, span id) for the O(1) duplicate check of client retries.
 * - Invariant: every ref of a shard has exactly one slot in its span table;
 *   a trace's refs array only grows (refs are never removed yet). */
#include "store/head.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"
#include "ingest/otlp_proto.h"

#define HEAD_SHARDS 64
#define HEAD_SHARD_BITS 6

/* Offsets into a chunk's payload of what one scope of the batch shares. */
struct head_ctx {
	uint32_t res_off, res_len;
	uint32_t res_schema_off, res_schema_len;
	uint32_t scope_off, scope_len;
	uint32_t scope_schema_off, scope_schema_len;
};

struct head_chunk {
	uint8_t *payload;
	size_t len;
	struct head_ctx *ctx;
	uint32_t n_ctx;
	int64_t min_start_unix_ns, max_start_unix_ns;
	uint32_t n_spans, n_indexed; /* spans in the batch, spans indexed from it */
	struct head_chunk *next;
};

struct head_ref {
	const struct head_chunk *chunk;
	int64_t start_unix_ns;
	uint8_t span_id[8];
	uint32_t span_off, span_len;
	uint32_t ctx;
};

struct head_trace {
	uint8_t trace_id[16];
	struct head_ref *refs;
	uint32_t n, cap;
};

/* A span table slot: trace index + 1 (0 = empty) and ref index. */
struct head_slot {
	uint32_t trace, ref;
};

struct head_shard {
	pthread_mutex_t mu;
	struct head_trace *traces;
	uint32_t n_traces, cap_traces;
	uint32_t *trace_tab; /* trace index + 1, 0 = empty; size trace_tab_cap */
	uint32_t trace_tab_cap;
	struct head_slot *span_tab;
	uint32_t span_tab_cap;
	uint64_t spans, live_traces, duplicates;
	uint64_t index_bytes; /* traces, refs and both tables, as allocated */
};

struct head {
	struct head_shard shards[HEAD_SHARDS];
	pthread_mutex_t chunks_mu;
	struct head_chunk *chunks;
	atomic_uint_least64_t chunk_bytes;
};

struct head *head_new(void)
{
	struct head *h = xcalloc(1, sizeof *h);
	for (int i = 0; i < HEAD_SHARDS; i++)
		pthread_mutex_init(&h->shards[i].mu, NULL);
	pthread_mutex_init(&h->chunks_mu, NULL);
	atomic_init(&h->chunk_bytes, 0);
	return h;
}

static void chunk_free(struct head_chunk *c)
{
	free(c->payload);
	free(c->ctx);
	free(c);
}

void head_free(struct head *h)
{
	if (!h)
		return;
	for (int i = 0; i < HEAD_SHARDS; i++) {
		struct head_shard *sh = &h->shards[i];
		for (uint32_t t = 0; t < sh->n_traces; t++)
			free(sh->traces[t].refs);
		free(sh->traces);
		free(sh->trace_tab);
		free(sh->span_tab);
		pthread_mutex_destroy(&sh->mu);
	}
	for (struct head_chunk *c = h->chunks, *next; c; c = next) {
		next = c->next;
		chunk_free(c);
	}
	pthread_mutex_destroy(&h->chunks_mu);
	free(h);
}

/* ---- shard tables (caller holds the shard's mutex) */

static uint64_t span_hash(uint64_t trace_hash, const uint8_t span_id[8])
{
	return hash64_seed(span_id, 8, trace_hash);
}

static int trace_tab_grow(struct head_shard *sh)
{
	uint32_t ncap = sh->trace_tab_cap ? sh->trace_tab_cap * 2 : 64;
	if (ncap < sh->trace_tab_cap)
		return CLEW_ENOMEM;
	uint32_t *tab = try_calloc(ncap, sizeof *tab);
	if (!tab)
		return CLEW_ENOMEM;
	uint32_t mask = ncap - 1;
	for (uint32_t t = 0; t < sh->n_traces; t++) {
		uint32_t i = (uint32_t)hash64(sh->traces[t].trace_id, 16) & mask;
		while (tab[i])
			i = (i + 1) & mask;
		tab[i] = t + 1;
	}
	free(sh->trace_tab);
	sh->index_bytes += ((uint64_t)ncap - sh->trace_tab_cap) * sizeof *tab;
	sh->trace_tab = tab;
	sh->trace_tab_cap = ncap;
	return 0;
}

/* Index of the trace in sh, or UINT32_MAX. */
static uint32_t trace_find(const struct head_shard *sh, const uint8_t trace_id[16], uint64_t th)
{
	if (!sh->trace_tab_cap)
		return UINT32_MAX;
	uint32_t mask = sh->trace_tab_cap - 1;
	for (uint32_t i = (uint32_t)th & mask; sh->trace_tab[i]; i = (i + 1) & mask) {
		uint32_t t = sh->trace_tab[i] - 1;
		if (memcmp(sh->traces[t].trace_id, trace_id, 16) == 0)
			return t;
	}
	return UINT32_MAX;
}

static int trace_add(struct head_shard *sh, const uint8_t trace_id[16], uint64_t th, uint32_t *out)
{
	int rc;
	/* load factor at most 1/2 keeps probes short */
	if ((uint64_t)(sh->n_traces + 1) * 2 > sh->trace_tab_cap && (rc = trace_tab_grow(sh)) < 0)
		return rc;
	if (sh->n_traces == sh->cap_traces) {
		uint32_t ncap = sh->cap_traces ? sh->cap_traces * 2 : 64;
		struct head_trace *t = try_realloc(sh->traces, (size_t)ncap * sizeof *t);
		if (!t)
			return CLEW_ENOMEM;
		sh->index_bytes += (uint64_t)(ncap - sh->cap_traces) * sizeof *t;
		sh->traces = t;
		sh->cap_traces = ncap;
	}
	uint32_t idx = sh->n_traces++;
	struct head_trace *t = &sh->traces[idx];
	memcpy(t->trace_id, trace_id, 16);
	t->refs = NULL;
	t->n = t->cap = 0;
	uint32_t mask = sh->trace_tab_cap - 1, i = (uint32_t)th & mask;
	while (sh->trace_tab[i])
		i = (i + 1) & mask;
	sh->trace_tab[i] = idx + 1;
	*out = idx;
	return 0;
}

static void span_tab_put(struct head_slot *tab, uint32_t mask, uint64_t hash, uint32_t trace, uint32_t ref)
{
	uint32_t i = (uint32_t)hash & mask;
	while (tab[i].trace)
		i = (i + 1) & mask;
	tab[i].trace = trace + 1;
	tab[i].ref = ref;
}

static int span_tab_grow(struct head_shard *sh)
{
	uint32_t ncap = sh->span_tab_cap ? sh->span_tab_cap * 2 : 256;
	if (ncap < sh->span_tab_cap)
		return CLEW_ENOMEM;
	struct head_slot *tab = try_calloc(ncap, sizeof *tab);
	if (!tab)
		return CLEW_ENOMEM;
	for (uint32_t t = 0; t < sh->n_traces; t++) {
		const struct head_trace *tr = &sh->traces[t];
		uint64_t th = hash64(tr->trace_id, 16);
		for (uint32_t r = 0; r < tr->n; r++)
			span_tab_put(tab, ncap - 1, span_hash(th, tr->refs[r].span_id), t, r);
	}
	free(sh->span_tab);
	sh->index_bytes += ((uint64_t)ncap - sh->span_tab_cap) * sizeof *tab;
	sh->span_tab = tab;
	sh->span_tab_cap = ncap;
	return 0;
}

static bool span_present(const struct head_shard *sh, uint32_t trace, const uint8_t span_id[8], uint64_t hash)
{
	if (!sh->span_tab_cap)
		return false;
	uint32_t mask = sh->span_tab_cap - 1;
	const struct head_trace *tr = &sh->traces[trace];
	for (uint32_t i = (uint32_t)hash & mask; sh->span_tab[i].trace; i = (i + 1) & mask) {
		const struct head_slot *s = &sh->span_tab[i];
		if (s->trace == trace + 1 && memcmp(tr->refs[s->ref].span_id, span_id, 8) == 0)
			return true;
	}
	return false;
}

/* Index one span in its shard: 1 if added, 0 if a duplicate, or an error. */
static int shard_add_span(struct head_shard *sh, const struct span *s, uint64_t th, const struct head_ref *ref)
{
	int rc;
	uint32_t t = trace_find(sh, s->trace_id, th);
	if (t == UINT32_MAX && (rc = trace_add(sh, s->trace_id, th, &t)) < 0)
		return rc;
	uint64_t hs = span_hash(th, s->span_id);
	if (span_present(sh, t, s->span_id, hs)) {
		sh->duplicates++;
		return 0;
	}
	/* load factor at most 3/4 */
	if ((sh->spans + 1) * 4 > (uint64_t)sh->span_tab_cap * 3 && (rc = span_tab_grow(sh)) < 0)
		return rc;
	struct head_trace *tr = &sh->traces[t];
	if (tr->n == tr->cap) {
		uint32_t ncap = tr->cap ? tr->cap + tr->cap / 2 + 1 : 4;
		if (ncap < tr->cap)
			return CLEW_ELIMIT;
		struct head_ref *refs = try_realloc(tr->refs, (size_t)ncap * sizeof *refs);
		if (!refs)
			return CLEW_ENOMEM;
		sh->index_bytes += (uint64_t)(ncap - tr->cap) * sizeof *refs;
		tr->refs = refs;
		tr->cap = ncap;
	}
	if (tr->n == 0)
		sh->live_traces++;
	tr->refs[tr->n] = *ref;
	span_tab_put(sh->span_tab, sh->span_tab_cap - 1, hs, t, tr->n);
	tr->n++;
	sh->spans++;
	return 1;
}

/* ---- insert */

/* Offset of s inside [base, base + len); an empty slice is offset 0. */
static bool offset_of(struct slice s, const uint8_t *base, size_t len, uint32_t *off, uint32_t *n)
{
	if (s.len == 0) {
		*off = *n = 0;
		return true;
	}
	uintptr_t p = (uintptr_t)s.p, b = (uintptr_t)base;
	if (p < b || p - b > len || s.len > len - (p - b))
		return false;
	*off = (uint32_t)(p - b);
	*n = (uint32_t)s.len;
	return true;
}

int head_insert(struct head *h, uint8_t *payload, size_t payload_len, const struct span_batch *b,
		uint32_t *dups_out)
{
	int rc = 0;
	uint32_t dups = 0, added = 0;
	struct head_shard *locked = NULL;
	struct head_chunk *c = NULL;
	uint8_t *ctx_ok = NULL;
	if (payload_len > UINT32_MAX) {
		rc = CLEW_ELIMIT;
		goto out;
	}
	c = try_calloc(1, sizeof *c);
	ctx_ok = try_calloc(b->n_scopes ? b->n_scopes : 1, 1);
	if (!c || !ctx_ok || !(c->ctx = try_calloc(b->n_scopes ? b->n_scopes : 1, sizeof *c->ctx))) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	c->payload = payload;
	c->len = payload_len;
	c->n_ctx = b->n_scopes;
	c->min_start_unix_ns = INT64_MAX;
	c->max_start_unix_ns = INT64_MIN;
	for (uint32_t i = 0; i < b->n_scopes; i++) {
		const struct scope *sc = &b->scopes[i];
		if (sc->resource >= b->n_resources)
			continue;
		const struct resource *r = &b->resources[sc->resource];
		struct head_ctx *x = &c->ctx[i];
		ctx_ok[i] = offset_of(r->raw, payload, payload_len, &x->res_off, &x->res_len) &&
			    offset_of(r->schema_url, payload, payload_len, &x->res_schema_off, &x->res_schema_len) &&
			    offset_of(sc->raw, payload, payload_len, &x->scope_off, &x->scope_len) &&
			    offset_of(sc->schema_url, payload, payload_len, &x->scope_schema_off, &x->scope_schema_len);
	}

	for (uint32_t i = 0; i < b->n_spans; i++) {
		const struct span *s = &b->spans[i];
		struct head_ref ref;
		if (s->invalid_reason || s->scope >= b->n_scopes || !ctx_ok[s->scope] || s->raw.len == 0 ||
		    !offset_of(s->raw, payload, payload_len, &ref.span_off, &ref.span_len))
			continue;
		ref.chunk = c;
		ref.start_unix_ns = s->start_unix_ns;
		memcpy(ref.span_id, s->span_id, 8);
		ref.ctx = s->scope;
		uint64_t th = hash64(s->trace_id, 16);
		struct head_shard *sh = &h->shards[th >> (64 - HEAD_SHARD_BITS)];
		if (sh != locked) {
			if (locked)
				pthread_mutex_unlock(&locked->mu);
			pthread_mutex_lock(&sh->mu);
			locked = sh;
		}
		rc = shard_add_span(sh, s, th, &ref);
		if (rc < 0)
			break;
		if (rc == 0) {
			dups++;
			continue;
		}
		rc = 0;
		added++;
		if (s->start_unix_ns < c->min_start_unix_ns)
			c->min_start_unix_ns = s->start_unix_ns;
		if (s->start_unix_ns > c->max_start_unix_ns)
			c->max_start_unix_ns = s->start_unix_ns;
	}
	if (locked)
		pthread_mutex_unlock(&locked->mu);
	if (added) {
		/* refs point at the chunk now: it stays, even after a failure */
		c->n_spans = b->n_spans;
		c->n_indexed = added;
		atomic_fetch_add(&h->chunk_bytes, payload_len + sizeof *c + (uint64_t)b->n_scopes * sizeof *c->ctx);
		pthread_mutex_lock(&h->chunks_mu);
		c->next = h->chunks;
		h->chunks = c;
		pthread_mutex_unlock(&h->chunks_mu);
		c = NULL;
		payload = NULL;
	}
out:
	if (c) {
		free(c->ctx);
		free(c);
	}
	free(payload);
	free(ctx_ok);
	if (dups_out)
		*dups_out = dups;
	return rc;
}

/* ---- read */

static int ref_cmp(const void *a, const void *b)
{
	const struct head_ref *x = a, *y = b;
	if (x->start_unix_ns != y->start_unix_ns)
		return x->start_unix_ns < y->start_unix_ns ? -1 : 1;
	return memcmp(x->span_id, y->span_id, 8);
}

/* A resource or scope already decoded into the output, found again by the
 * bytes it was decoded from. */
struct seen {
	uint64_t hash;
	uint32_t parent; /* output resource of a scope; 0 for resources */
	struct slice raw, schema;
	uint32_t index; /* in the output batch */
};

struct seen_list {
	struct seen *items;
	uint32_t n, cap;
};

/* Memo of (chunk, context) -> output scope, so that most spans skip the
 * content comparison. Open addressing, never full. */
struct ctx_memo {
	const struct head_chunk *chunk;
	uint32_t ctx, scope;
};

static struct slice chunk_slice(const struct head_chunk *c, uint32_t off, uint32_t len)
{
	return slice_make(c->payload + off, len);
}

static int seen_find_or_add(struct seen_list *l, uint32_t parent, struct slice raw, struct slice schema,
			    bool *found, uint32_t **index_out)
{
	uint64_t hash = hash64_seed(schema.p ? schema.p : (const uint8_t *)"", schema.len,
				    hash64(raw.p ? raw.p : (const uint8_t *)"", raw.len) ^ parent);
	for (uint32_t i = 0; i < l->n; i++) {
		struct seen *s = &l->items[i];
		if (s->hash == hash && s->parent == parent && slice_eq(s->raw, raw) && slice_eq(s->schema, schema)) {
			*found = true;
			*index_out = &s->index;
			return 0;
		}
	}
	if (l->n == l->cap) {
		uint32_t ncap = l->cap ? l->cap * 2 : 8;
		struct seen *items = try_realloc(l->items, (size_t)ncap * sizeof *items);
		if (!items)
			return CLEW_ENOMEM;
		l->items = items;
		l->cap = ncap;
	}
	struct seen *s = &l->items[l->n++];
	*s = (struct seen){.hash = hash, .parent = parent, .raw = raw, .schema = schema};
	*found = false;
	*index_out = &s->index;
	return 0;
}

/* A copy of s in the arena, so the output never points into the head. */
static int arena_copy(struct arena *a, struct slice s, struct slice *out)
{
	if (s.len == 0) {
		*out = (struct slice){0};
		return 0;
	}
	void *p = arena_memdup(a, s.p, s.len);
	if (!p)
		return CLEW_ENOMEM;
	*out = slice_make(p, s.len);
	return 0;
}

/* Decode the resource and scope of (chunk, ctx) into out, sharing them
 * with earlier spans whose resource and scope have the same bytes. */
static int decode_context(struct span_batch *out, const struct head_chunk *c, uint32_t ctx,
			  struct seen_list *resources, struct seen_list *scopes, uint32_t *scope_out)
{
	const struct head_ctx *x = &c->ctx[ctx];
	struct decode_error derr;
	struct slice raw, schema;
	bool found;
	uint32_t *idx, res;
	int rc = seen_find_or_add(resources, 0, chunk_slice(c, x->res_off, x->res_len),
				  chunk_slice(c, x->res_schema_off, x->res_schema_len), &found, &idx);
	if (rc < 0)
		return rc;
	if (!found) {
		if ((rc = arena_copy(out->arena, chunk_slice(c, x->res_off, x->res_len), &raw)) < 0 ||
		    (rc = arena_copy(out->arena, chunk_slice(c, x->res_schema_off, x->res_schema_len), &schema)) < 0)
			return rc;
		if ((rc = otlp_proto_decode_resource(raw, out, idx, &derr)) < 0)
			return rc;
		out->resources[*idx].schema_url = schema;
	}
	res = *idx;
	rc = seen_find_or_add(scopes, res, chunk_slice(c, x->scope_off, x->scope_len),
			      chunk_slice(c, x->scope_schema_off, x->scope_schema_len), &found, &idx);
	if (rc < 0)
		return rc;
	if (!found) {
		if ((rc = arena_copy(out->arena, chunk_slice(c, x->scope_off, x->scope_len), &raw)) < 0 ||
		    (rc = arena_copy(out->arena, chunk_slice(c, x->scope_schema_off, x->scope_schema_len), &schema)) <
			    0)
			return rc;
		if ((rc = otlp_proto_decode_scope(raw, out, res, idx, &derr)) < 0)
			return rc;
		out->scopes[*idx].schema_url = schema;
	}
	*scope_out = *idx;
	return 0;
}

int head_get_trace(struct head *h, const uint8_t trace_id[16], struct span_batch *out)
{
	int rc = 0;
	struct head_ref *refs = NULL;
	struct ctx_memo *memo = NULL;
	struct seen_list resources = {0}, scopes = {0};
	uint32_t n = 0;
	uint64_t th = hash64(trace_id, 16);
	struct head_shard *sh = &h->shards[th >> (64 - HEAD_SHARD_BITS)];

	pthread_mutex_lock(&sh->mu);
	uint32_t t = trace_find(sh, trace_id, th);
	if (t != UINT32_MAX && sh->traces[t].n > 0) {
		n = sh->traces[t].n;
		refs = try_malloc((size_t)n * sizeof *refs);
		if (refs)
			memcpy(refs, sh->traces[t].refs, (size_t)n * sizeof *refs);
	}
	pthread_mutex_unlock(&sh->mu);
	if (n == 0)
		return CLEW_ENOTFOUND;
	if (!refs)
		return CLEW_ENOMEM;

	if (n > 1)
		qsort(refs, n, sizeof *refs, ref_cmp);
	uint32_t memo_cap = 16;
	while (memo_cap < 2 * (uint64_t)n && memo_cap < (1u << 30))
		memo_cap *= 2;
	memo = try_calloc(memo_cap, sizeof *memo);
	if (!memo) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct head_ref *r = &refs[i];
		uint64_t mh = hash64_seed(&r->chunk, sizeof r->chunk, r->ctx);
		uint32_t m = (uint32_t)mh & (memo_cap - 1);
		while (memo[m].chunk && (memo[m].chunk != r->chunk || memo[m].ctx != r->ctx))
			m = (m + 1) & (memo_cap - 1);
		if (!memo[m].chunk) {
			uint32_t scope;
			if ((rc = decode_context(out, r->chunk, r->ctx, &resources, &scopes, &scope)) < 0)
				goto out;
			memo[m] = (struct ctx_memo){.chunk = r->chunk, .ctx = r->ctx, .scope = scope};
		}
		struct slice raw;
		struct span *sp;
		struct decode_error derr;
		if ((rc = arena_copy(out->arena, chunk_slice(r->chunk, r->span_off, r->span_len), &raw)) < 0 ||
		    (rc = otlp_proto_decode_span(raw, out, memo[m].scope, &sp, &derr)) < 0)
			goto out;
	}
out:
	free(refs);
	free(memo);
	free(resources.items);
	free(scopes.items);
	return rc;
}

/* ---- walk */

/* True if span s of chunk c is the one the index holds for its id. */
static bool chunk_span_indexed(struct head *h, const struct head_chunk *c, const struct span *s)
{
	uint32_t off, len;
	if (!offset_of(s->raw, c->payload, c->len, &off, &len) || len == 0)
		return false;
	uint64_t th = hash64(s->trace_id, 16);
	struct head_shard *sh = &h->shards[th >> (64 - HEAD_SHARD_BITS)];
	bool found = false;
	pthread_mutex_lock(&sh->mu);
	uint32_t t = trace_find(sh, s->trace_id, th);
	if (t != UINT32_MAX && sh->span_tab_cap) {
		uint32_t mask = sh->span_tab_cap - 1;
		const struct head_trace *tr = &sh->traces[t];
		for (uint32_t i = (uint32_t)span_hash(th, s->span_id) & mask; sh->span_tab[i].trace;
		     i = (i + 1) & mask) {
			const struct head_slot *sl = &sh->span_tab[i];
			const struct head_ref *r = &tr->refs[sl->ref];
			if (sl->trace == t + 1 && memcmp(r->span_id, s->span_id, 8) == 0) {
				found = r->chunk == c && r->span_off == off;
				break;
			}
		}
	}
	pthread_mutex_unlock(&sh->mu);
	return found;
}

int head_for_each_batch(struct head *h, head_batch_fn fn, void *ctx)
{
	int rc = 0;
	pthread_mutex_lock(&h->chunks_mu);
	const struct head_chunk *c = h->chunks;
	pthread_mutex_unlock(&h->chunks_mu);
	struct arena arena;
	arena_init(&arena, 0);
	/* chunks are immutable and their next pointers never change */
	for (; c; c = c->next) {
		struct span_batch b;
		struct decode_error derr;
		span_batch_init(&b, &arena);
		if ((rc = otlp_proto_decode_request(slice_make(c->payload, c->len), &b, &derr)) < 0)
			break;
		/* the same bytes decode to the same spans: when every one was
		 * indexed, there is nothing to look up */
		for (uint32_t i = 0; c->n_indexed < c->n_spans && i < b.n_spans; i++) {
			struct span *s = &b.spans[i];
			if (!s->invalid_reason && !chunk_span_indexed(h, c, s))
				s->invalid_reason = "not indexed (a duplicate)";
		}
		rc = fn(ctx, &b);
		arena_reset(&arena);
		if (rc)
			break;
	}
	arena_reset(&arena);
	return rc;
}

void head_get_stats(struct head *h, struct head_stats *out)
{
	*out = (struct head_stats){0};
	out->bytes = sizeof *h + atomic_load(&h->chunk_bytes);
	for (int i = 0; i < HEAD_SHARDS; i++) {
		struct head_shard *sh = &h->shards[i];
		pthread_mutex_lock(&sh->mu);
		out->spans += sh->spans;
		out->traces += sh->live_traces;
		out->duplicates += sh->duplicates;
		out->bytes += sh->index_bytes;
		pthread_mutex_unlock(&sh->mu);
	}
}
