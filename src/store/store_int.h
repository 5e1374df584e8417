/* Private to the store (store.c, store_maint.c, store_merge.c): the store
 * object, its head generations and block list, and the maintenance steps
 * (cut, flush, compaction, retention) store.c calls. Design notes: store.c. */
#ifndef CLEW_STORE_STORE_INT_H
#define CLEW_STORE_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "store/store.h"

#define STORE_DIR_MAX 4096
#define STORE_PATH_MAX (STORE_DIR_MAX + 128)
#define STORE_BLOCK_NAME_MAX 48 /* "blk-<16 hex>-<16 hex>.blk" + room */

/* One head generation: the active one receives inserts; sealed ones wait
 * for their flush and stay readable until their block is published. */
struct store_gen {
	struct head *head;
	atomic_int refs;	      /* the store's list + readers in flight */
	uint64_t end_lsn;	      /* sealed: every record of this and older heads has lsn < end_lsn */
	uint64_t charged;	      /* bytes charged to the memory budget (under charge_lock) */
	_Atomic int64_t first_mono_ns; /* first insert; 0 while empty */
	_Atomic uint64_t bytes;	       /* head bytes at the last insert */
	struct store_gen *next;	      /* sealed list, oldest first */
	struct budget *memory;
};

/* A published block: the store holds one reference. */
struct store_blk {
	struct block *block;
	uint64_t seq;
	uint64_t lsn; /* WAL records with lsn below it are in blocks */
	char name[STORE_BLOCK_NAME_MAX];
	struct block_info info;
};

struct store {
	char *data_dir;
	char blocks_dir[STORE_DIR_MAX];
	int lock_fd;
	struct fileops *ops;
	struct wal *wal;
	struct budget *memory;
	struct store_options o; /* defaults filled in; data_dir not owned */

	/* Appenders hold it shared across wal_append + head_insert; a cut holds
	 * it exclusively, so every record below the cut's lsn is in the sealed
	 * head. Writer-preferring, so a cut is not starved by ingest. */
	pthread_rwlock_t cut_lock;
	pthread_mutex_t charge_lock; /* guards store_gen.charged */

	/* mu guards active, sealed, blocks and the counters below; readers take
	 * references under it and read without it. */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* wakes the maintenance thread */
	struct store_gen *active;
	struct store_gen *sealed; /* oldest first */
	struct store_blk *blocks; /* ascending seq */
	size_t n_blocks, cap_blocks;
	uint64_t next_seq;
	uint64_t covered_lsn; /* records below it are (or were) in blocks */
	uint64_t flushes, flush_failures, compactions, retention_deletions;
	uint64_t replayed_records, replay_truncated_bytes;
	atomic_int cutting;	 /* an appender is cutting the head */
	atomic_int flush_wanted; /* a head was sealed: wake the thread */

	/* the maintenance thread */
	pthread_mutex_t maint_mu; /* one maintenance pass at a time */
	pthread_t thread;
	bool thread_started;
	atomic_int stop;
	int flush_failing; /* log on state changes only */
	int64_t flush_backoff_ns, next_flush_mono_ns;
	int compact_failing;
	int64_t compact_retry_mono_ns; /* after a failed merge */
	uint64_t floor_lsn; /* in blocks/WAL_FLOOR */
};

/* Generations (store.c). The oldest sealed head, read under mu: only the
 * maintenance pass removes it, so it stays valid for that pass. */
void store_gen_unref(struct store_gen *g);
struct store_gen *store_oldest_sealed(struct store *s);

/* The wall clock of retention and windows. */
int64_t store_now_ns(const struct store *s);

/* Maintenance steps, run by one thread at a time under maint_mu. Each
 * returns 0, or a failure after which the data stays where it was.
 * store_cut seals the active head if it holds spans and is due (or force;
 * store.c; also called by appenders); store_service_heads cuts if
 * due and flushes the sealed heads, after a failure not before its backoff
 * if honor_backoff (store.c; compaction calls it between pages). */
int store_cut(struct store *s, bool force);
int store_service_heads(struct store *s, bool honor_backoff);
int store_flush_one(struct store *s);
int store_retention(struct store *s);
/* One merge; 1 if it merged, 0 if nothing is due, or an error. */
int store_compact_step(struct store *s);

/* Startup (store_maint.c): clean blocks/, finish interrupted compactions,
 * open the blocks and read the WAL floor. 0 or an error with a message. */
int store_load_blocks(struct store *s, char *errbuf, size_t errlen);

/* The block file name for (seq, lsn) into out[STORE_BLOCK_NAME_MAX]. */
void store_block_name(uint64_t seq, uint64_t lsn, char *out);

/* Merge spans appended to out from several sources (store_merge.c): from
 * the resource r0, scope s0 and span n0 on, keep each span id once (the
 * first), each equal resource and scope once, spans in start order.
 * 0 or CLEW_ENOMEM. */
int store_merge_trace(struct span_batch *out, uint32_t r0, uint32_t s0, uint32_t n0);

#endif
