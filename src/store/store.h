/* The embedded store: one data directory holding the WAL and the immutable
 * block files; the head in memory, cut into blocks in the background, the
 * blocks compacted and expired there too. store_append is the durable write
 * path every receiver ends in; the read functions below (trace by id, the
 * block list, a walk over the head) are the one interface the query side
 * sees, narrow enough that a ClickHouse store can sit behind it later. */
#ifndef CLEW_STORE_STORE_H
#define CLEW_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/budget.h"
#include "ingest/span.h"
#include "store/block.h"
#include "store/fileops.h"
#include "store/head.h"
#include "store/wal.h"

struct store_options {
	const char *data_dir;
	enum wal_sync_mode wal_sync;
	struct budget *memory; /* the heads are charged here; may be NULL */
	struct fileops *ops;   /* NULL = fileops_posix(); must outlive the store */
	uint64_t head_max_bytes;   /* cut the head past this; 0 = 256 MiB */
	int64_t block_interval_ns; /* or this long after its first span; 0 = 2 min */
	int64_t retention_ns;	   /* delete blocks whose spans all ended before now - this; 0 = keep */
	uint64_t max_disk_bytes;   /* blocks + WAL; past it the oldest blocks go; 0 = no limit */
	int64_t compaction_window_ns;	     /* blocks are merged per window of min start; 0 = 1 h */
	uint64_t compaction_bytes_per_sec;   /* read rate of compaction; 0 = unthrottled */
	uint64_t compaction_max_mem_bytes;   /* writer memory of one merge; 0 = head_max_bytes */
	uint64_t wal_segment_bytes;	     /* 0 = the WAL's default */
	/* 0: a background thread cuts, flushes, compacts and expires. 1: nothing
	 * happens until store_maintain is called (tests). */
	int manual_maintenance;
	/* The wall clock for retention and compaction windows; NULL = real. */
	int64_t (*now_unix_ns)(void);
};

struct store;

/* Open the data directory: create it if missing, take its lock (a second
 * clew on the same directory is refused), delete unfinished block files,
 * open the blocks (a corrupt one is logged and renamed *.corrupt), finish
 * an interrupted compaction, replay the WAL records no block covers into
 * the head, and start the maintenance thread. Returns the store (owned by
 * the caller, store_close) or NULL with *rc and a message for the user in
 * errbuf. */
struct store *store_open(const struct store_options *opts, int *rc, char *errbuf, size_t errlen);

/* Make a batch durable and readable: append payload (an OTLP
 * ExportTraceServiceRequest, malloc'd) to the WAL, then index the spans of b
 * (decoded from payload) in the active head. Takes ownership of payload in
 * every case. Returns 0 once durable under the sync policy; -errno when the
 * WAL write or fsync failed, e.g. -ENOSPC on a full disk (nothing
 * acknowledged: answer retryably; appends work again once space returns). */
int store_append(struct store *s, uint8_t *payload, size_t payload_len, const struct span_batch *b);

/* Every span of a trace into out, from the heads and every block that may
 * hold it, each span once (by span id) and in start-time order, each
 * resource and scope once. 0, CLEW_ENOTFOUND, CLEW_ENOMEM, or a block's read
 * error (CLEW_ECORRUPT, -errno). */
int store_get_trace(struct store *s, const uint8_t trace_id[16], struct span_batch *out);

/* One block of the store, referenced for as long as the caller holds the
 * list (compaction and retention may drop it from the store meanwhile; its
 * file goes when the last reference does). */
struct store_block {
	struct block *block;
	uint64_t seq;
	struct block_info info;
};

struct store_block_list {
	struct store_block *items;
	size_t n;
};

/* The blocks now, oldest first, each referenced; release with
 * store_release_blocks. 0 or CLEW_ENOMEM. */
int store_list_blocks(struct store *s, struct store_block_list *out);
void store_release_blocks(struct store_block_list *l);

/* Walk every span in the heads (active and sealed, not yet in a block list
 * entry), as head_for_each_batch does for one head. A span flushed while
 * the walk runs may be seen here and in a block as well. 0 or fn's return
 * or an error. */
int store_scan_heads(struct store *s, head_batch_fn fn, void *ctx);

/* The read side as a table of functions, so the query side can be handed
 * another implementation (e.g. ClickHouse) later. impl is the store. */
struct store_query_ops {
	int (*get_trace)(void *impl, const uint8_t trace_id[16], struct span_batch *out);
	int (*list_blocks)(void *impl, struct store_block_list *out);
	void (*release_blocks)(struct store_block_list *l);
	int (*scan_heads)(void *impl, head_batch_fn fn, void *ctx);
};

/* The embedded store's implementation of store_query_ops. */
extern const struct store_query_ops store_embedded_query_ops;

/* Run maintenance once, now: cut the head if it is due, flush every sealed
 * head, expire blocks, then compact until nothing is left to merge. For
 * tests and manual_maintenance; the thread does the same. Returns the first
 * failure (the data stays where it was: in a head, the WAL, or old blocks),
 * or 0. */
int store_maintain(struct store *s);

/* Seal the active head now (if it holds spans) and flush every sealed head
 * into blocks. 0 or the first flush failure. */
int store_flush(struct store *s);

struct store_stats {
	uint64_t head_spans, head_traces, head_bytes, duplicates;
	uint64_t wal_records, wal_bytes, wal_syncs, wal_sync_ns_total;
	uint64_t replayed_records, replay_truncated_bytes;
	uint64_t sealed_heads;		/* cut, waiting for their flush */
	uint64_t blocks, block_bytes, block_spans;
	uint64_t flushes, flush_failures;
	uint64_t compactions, retention_deletions;
	uint64_t wal_disk_bytes;
};
void store_get_stats(struct store *s, struct store_stats *out);

/* Stop the maintenance thread (a merge in progress is abandoned, nothing
 * lost), sync the WAL and release everything, the lock last. Heads not yet
 * flushed stay in the WAL for the next open. Returns the final sync's
 * result. */
int store_close(struct store *s);

#endif
