/* The embedded store: one data directory holding the WAL and, later, the
 * blocks; the head in memory. store_append is the durable write path every
 * receiver ends in; store_get_trace is the read the query side uses. This is
 * the one interface the query side sees (a ClickHouse store can sit behind
 * it later). */
#ifndef CLEW_STORE_STORE_H
#define CLEW_STORE_STORE_H

#include <stdint.h>

#include "base/budget.h"
#include "ingest/span.h"
#include "store/wal.h"

struct store_options {
	const char *data_dir;
	enum wal_sync_mode wal_sync;
	struct budget *memory; /* the head is charged here; may be NULL */
};

struct store;

/* Open the data directory: create it if missing, take its lock (a second
 * clew on the same directory is refused), replay the WAL into the head.
 * Returns the store (owned by the caller, store_close) or NULL with *rc and
 * a message for the user in errbuf. */
struct store *store_open(const struct store_options *opts, int *rc, char *errbuf, size_t errlen);

/* Make a batch durable and readable: append payload (an OTLP
 * ExportTraceServiceRequest, malloc'd) to the WAL, then index the spans of b
 * (decoded from payload) in the head. Takes ownership of payload in every
 * case. Returns 0 once durable under the sync policy; -errno when the WAL
 * write or fsync failed (nothing acknowledged: answer retryably). */
int store_append(struct store *s, uint8_t *payload, size_t payload_len, const struct span_batch *b);

/* Every span of a trace into out. 0, CLEW_ENOTFOUND or CLEW_ENOMEM. */
int store_get_trace(struct store *s, const uint8_t trace_id[16], struct span_batch *out);

struct store_stats {
	uint64_t head_spans, head_traces, head_bytes, duplicates;
	uint64_t wal_records, wal_bytes, wal_syncs, wal_sync_ns_total;
	uint64_t replayed_records, replay_truncated_bytes;
};
void store_get_stats(struct store *s, struct store_stats *out);

/* Sync the WAL and release everything, the lock last. Returns the final
 * sync's result. */
int store_close(struct store *s);

#endif
