/* The write-ahead log: every accepted batch is appended here before it is
 * acknowledged. Segment files wal-<16 hex first lsn>.log in <data>/wal/.
 * Each record: u32 length, u32 CRC32C (of type+payload), u8 type, payload.
 * Group commit: concurrent appenders share one fsync; wal_append returns
 * only when the record is durable under the sync policy. */
#ifndef CLEW_STORE_WAL_H
#define CLEW_STORE_WAL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/slice.h"
#include "store/fileops.h"

enum wal_sync_mode {
	WAL_SYNC_GROUP = 0, /* default: group commit, fsync before the ack */
	WAL_SYNC_ALWAYS,    /* one fsync per record, no sharing */
	WAL_SYNC_NONE,	    /* no fsync (benchmarks only) */
};

/* Record types. */
enum wal_record_type {
	WAL_REC_OTLP_PROTO = 1, /* an ExportTraceServiceRequest */
};

struct wal_options {
	const char *dir; /* created if missing */
	enum wal_sync_mode sync;
	uint64_t segment_bytes; /* roll to a new segment past this; default 64 MiB */
	uint32_t max_record_bytes;
	struct fileops *ops; /* NULL = fileops_posix() */
};

struct wal_stats {
	uint64_t records, bytes, syncs;
	uint64_t sync_ns_total; /* summed fsync latency */
	int sticky_err;		/* first write/sync failure, 0 if none */
};

struct wal;

/* Open (create) the WAL in opts->dir. Nothing is replayed yet. Returns the
 * WAL (owned by the caller, wal_close) or NULL with *rc set. */
struct wal *wal_open(const struct wal_options *opts, int *rc);

/* Called by wal_replay for each intact record, in order. payload points
 * into a read buffer valid only during the call. A non-zero return stops
 * the replay and is returned by it. */
typedef int (*wal_replay_fn)(void *ctx, uint8_t type, struct slice payload, uint64_t lsn);

struct wal_replay_result {
	uint64_t records;
	uint64_t bytes;
	uint64_t truncated_bytes; /* torn or corrupt tail cut off */
	char truncated_file[256];
};

/* Replay every segment, oldest first. A torn or corrupt tail of the last
 * segment is truncated (logged, counted in *res), never an error; corruption
 * in the middle of an older segment stops that segment there, logged. Must
 * run before the first append. 0 or -errno / cb's return. */
int wal_replay(struct wal *w, wal_replay_fn cb, void *ctx, struct wal_replay_result *res);

/* Append one record and wait until it is durable under the sync policy.
 * Thread-safe; concurrent callers share fsyncs in group mode. *lsn_out (may
 * be NULL) gets the record's log sequence number (lsns strictly increase,
 * but the lsns of failed appends are skipped). Returns 0; CLEW_ELIMIT if
 * the record is too big; -errno (e.g. -ENOSPC, -EIO) when the write or the
 * fsync failed: the record is then NOT durable and must not be
 * acknowledged. After a failed fsync the WAL rolls to a new segment and
 * later appends may succeed again (a full disk recovers by itself). */
int wal_append(struct wal *w, uint8_t type, struct slice payload, uint64_t *lsn_out);

/* fsync whatever was written. 0 or -errno. */
int wal_sync(struct wal *w);

void wal_get_stats(struct wal *w, struct wal_stats *out);

/* Sync and close. Returns the sync's result. */
int wal_close(struct wal *w);

/* Remove whole segments whose records all have lsn < lsn (the active,
 * newest segment is never removed), then fsync the directory. For the
 * store, once the head's data before lsn is safe in blocks. Returns the
 * number of segments removed, or -errno. */
int wal_remove_segments_before(struct wal *w, uint64_t lsn);

/* Close the active segment so that the next record starts a new one, and
 * give the lsn that record will get (*next_lsn): every record appended
 * before the call has an lsn below it. The store cuts its head here. Waits
 * for a leader doing I/O. 0 (closing never fails the WAL). */
int wal_roll(struct wal *w, uint64_t *next_lsn);

/* Make the next lsn at least lsn (the store's blocks may cover lsns whose
 * segments are gone). Call after wal_replay, before the first append. */
void wal_advance_lsn(struct wal *w, uint64_t lsn);

/* Bytes the segment files take on disk now. */
uint64_t wal_disk_bytes(struct wal *w);

/* Check one segment file without changing it: 0 if every record is intact;
 * CLEW_ECORRUPT with *bad_offset at the first bad record. *records gets the
 * count of good records. For `clew check`. */
int wal_check_file(const char *path, uint64_t *records, uint64_t *bad_offset);

/* After wal_check_file found damage at bad_offset: true if it is the tail a
 * crash during a write leaves (the file ends inside the segment header or
 * inside the last record, and no intact record follows), which was never
 * acknowledged; false for a complete header or record with a bad checksum,
 * or when intact records follow (corruption). I/O errors count as false. */
bool wal_damage_is_tail(const char *path, uint64_t bad_offset);

#endif
