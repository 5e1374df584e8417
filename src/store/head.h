/* The head: acknowledged spans held in memory, readable at once. It keeps
 * the WAL payload (OTLP protobuf bytes) of each batch as a chunk and indexes
 * its spans by trace id; a span already present (same trace and span id, a
 * client retry) is not indexed again. Thread-safe: inserts from every I/O
 * thread, reads from the query side. */
#ifndef CLEW_STORE_HEAD_H
#define CLEW_STORE_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/span.h"

struct head;

struct head_stats {
	uint64_t spans;	     /* indexed spans */
	uint64_t traces;     /* distinct trace ids */
	uint64_t duplicates; /* spans skipped as already present */
	uint64_t bytes;	     /* payload bytes + index memory */
};

/* A new empty head. Owned by the caller (head_free). */
struct head *head_new(void);
void head_free(struct head *h);

/* Take ownership of payload (a malloc'd buffer holding an encoded
 * ExportTraceServiceRequest; freed by the head) and index the spans of b,
 * which was decoded from exactly that buffer (raw slices point into it).
 * Spans with invalid_reason are skipped. *dups_out (may be NULL) gets the
 * number skipped as duplicates. 0 or CLEW_ENOMEM (payload is freed then). */
int head_insert(struct head *h, uint8_t *payload, size_t payload_len, const struct span_batch *b,
		uint32_t *dups_out);

/* Append every span of the trace to out (resources and scopes included,
 * spans ordered by start time). Returns 0, CLEW_ENOTFOUND, or CLEW_ENOMEM. */
int head_get_trace(struct head *h, const uint8_t trace_id[16], struct span_batch *out);

void head_get_stats(struct head *h, struct head_stats *out);

#endif
