/* Merging one trace read from several sources (the heads and blocks) into
 * one answer: a span stored twice (a client retry that arrived after its
 * first copy was flushed) shows once, a resource or scope that several
 * sources decoded shows once, spans in start order as every source gives
 * them. Runs on the read path, only when more than one source had the
 * trace. */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"
#include "store/store_int.h"

static bool resource_eq(const struct resource *a, const struct resource *b)
{
	return a->dropped_attrs == b->dropped_attrs && slice_eq(a->schema_url, b->schema_url) &&
	       attr_list_eq(&a->attrs, &b->attrs);
}

/* Scopes compared after their resources were mapped (ra, rb). */
static bool scope_eq(const struct scope *a, uint32_t ra, const struct scope *b, uint32_t rb)
{
	return ra == rb && a->dropped_attrs == b->dropped_attrs && slice_eq(a->name, b->name) &&
	       slice_eq(a->version, b->version) && slice_eq(a->schema_url, b->schema_url) &&
	       attr_list_eq(&a->attrs, &b->attrs);
}

static int span_cmp(const void *pa, const void *pb)
{
	const struct span *a = pa, *b = pb;
	if (a->start_unix_ns != b->start_unix_ns)
		return a->start_unix_ns < b->start_unix_ns ? -1 : 1;
	return memcmp(a->span_id, b->span_id, 8);
}

int store_merge_trace(struct span_batch *out, uint32_t r0, uint32_t s0, uint32_t n0)
{
	int rc = 0;
	uint32_t nr = out->n_resources - r0, ns = out->n_scopes - s0, n = out->n_spans - n0;
	uint32_t *res_map = try_calloc(nr ? nr : 1, sizeof *res_map);
	uint32_t *scope_map = try_calloc(ns ? ns : 1, sizeof *scope_map);
	uint32_t *res_new = try_calloc(nr ? nr : 1, sizeof *res_new);
	uint32_t *scope_new = try_calloc(ns ? ns : 1, sizeof *scope_new);
	size_t cap = 16;
	while (cap < 2 * (size_t)n)
		cap *= 2;
	uint32_t *seen = try_calloc(cap, sizeof *seen); /* span index + 1 */
	if (!res_map || !scope_map || !res_new || !scope_new || !seen) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	/* canonical resource and scope of each: the first equal one */
	for (uint32_t i = 0; i < nr; i++) {
		res_map[i] = i;
		for (uint32_t j = 0; j < i; j++) {
			if (res_map[j] == j && resource_eq(&out->resources[r0 + i], &out->resources[r0 + j])) {
				res_map[i] = j;
				break;
			}
		}
	}
	for (uint32_t i = 0; i < ns; i++) {
		const struct scope *a = &out->scopes[s0 + i];
		uint32_t ra = a->resource >= r0 ? res_map[a->resource - r0] : a->resource;
		scope_map[i] = i;
		for (uint32_t j = 0; j < i; j++) {
			const struct scope *b = &out->scopes[s0 + j];
			uint32_t rb = b->resource >= r0 ? res_map[b->resource - r0] : b->resource;
			if (scope_map[j] == j && scope_eq(a, ra, b, rb)) {
				scope_map[i] = j;
				break;
			}
		}
	}
	/* the first copy of each span id stays */
	uint32_t kept = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct span *sp = &out->spans[n0 + i];
		size_t h = hash64(sp->span_id, 8) & (cap - 1);
		bool dup = false;
		while (seen[h]) {
			if (memcmp(out->spans[n0 + seen[h] - 1].span_id, sp->span_id, 8) == 0) {
				dup = true;
				break;
			}
			h = (h + 1) & (cap - 1);
		}
		if (dup)
			continue;
		out->spans[n0 + kept] = *sp;
		seen[h] = kept + 1;
		kept++;
	}
	out->n_spans = n0 + kept;
	/* keep the canonical resources and scopes the spans use, renumbered */
	for (uint32_t i = 0; i < kept; i++) {
		struct span *sp = &out->spans[n0 + i];
		if (sp->scope >= s0)
			scope_new[scope_map[sp->scope - s0]] = 1;
	}
	uint32_t ks = 0, kr = 0;
	for (uint32_t i = 0; i < ns; i++) {
		if (!scope_new[i])
			continue;
		const struct scope *sc = &out->scopes[s0 + i];
		if (sc->resource >= r0)
			res_new[res_map[sc->resource - r0]] = 1;
	}
	for (uint32_t i = 0; i < nr; i++) {
		if (res_new[i]) {
			out->resources[r0 + kr] = out->resources[r0 + i];
			res_new[i] = r0 + kr++;
		}
	}
	for (uint32_t i = 0; i < ns; i++) {
		if (!scope_new[i])
			continue;
		struct scope sc = out->scopes[s0 + i];
		if (sc.resource >= r0)
			sc.resource = res_new[res_map[sc.resource - r0]];
		out->scopes[s0 + ks] = sc;
		scope_new[i] = s0 + ks++;
	}
	for (uint32_t i = 0; i < kept; i++) {
		struct span *sp = &out->spans[n0 + i];
		if (sp->scope >= s0)
			sp->scope = scope_new[scope_map[sp->scope - s0]];
	}
	out->n_resources = r0 + kr;
	out->n_scopes = s0 + ks;
	qsort(out->spans + n0, kept, sizeof *out->spans, span_cmp);
out:
	free(res_map);
	free(scope_map);
	free(res_new);
	free(scope_new);
	free(seen);
	return rc;
}
