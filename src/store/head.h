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
 * Spans with invalid_reason are skipped, and so are spans whose raw slice
 * (or whose resource's or scope's raw slice) does not lie in payload.
 * *dups_out (may be NULL) gets the number skipped as duplicates. Returns 0;
 * CLEW_ELIMIT for a payload over 4 GiB; CLEW_ENOMEM, after which the spans
 * indexed before the failure stay (a retry finds them as duplicates). The
 * payload is freed at once when no span of it was indexed. */
int head_insert(struct head *h, uint8_t *payload, size_t payload_len, const struct span_batch *b,
		uint32_t *dups_out);

/* Append every span of the trace to out (resources and scopes included,
 * each resource and scope once however many spans share it, spans ordered
 * by start time). Everything appended lives in out's arena, never in the
 * head's memory. Returns 0, CLEW_ENOTFOUND, CLEW_ENOMEM, or the decoder's
 * error if a stored message does not decode. */
int head_get_trace(struct head *h, const uint8_t trace_id[16], struct span_batch *out);

/* Called by head_for_each_batch with one decoded chunk; a non-zero return
 * stops the walk and is returned by it. */
typedef int (*head_batch_fn)(void *ctx, const struct span_batch *b);

/* Decode every chunk of the head again and call fn with it, the spans that
 * are not indexed (invalid, or duplicates of a span indexed from another
 * chunk) marked with invalid_reason, so that every indexed span is seen
 * exactly once. b and everything in it live only during the call. Chunks
 * inserted while the walk runs may or may not be seen. 0, fn's return,
 * CLEW_ENOMEM, or the decoder's error. */
int head_for_each_batch(struct head *h, head_batch_fn fn, void *ctx);

/* A consistent-enough snapshot of the counters (each shard is read under
 * its lock, shards one after the other). */
void head_get_stats(struct head *h, struct head_stats *out);

#endif
