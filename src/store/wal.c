/* The write-ahead log: ingest appends each accepted batch here and answers
 * the client only once wal_append has returned 0; at start the store replays
 * the segments into the head. All I/O goes through struct fileops.
 *
 * Design notes.
 * Format. Segment <dir>/wal-<16 lowercase hex of its first lsn>.log:
 *   header  "CLEWWAL1" | u32le version (1) | u32le CRC32C of those 12 bytes
 *   record  u32le len | u32le crc | u8 type | payload[len]
 *   crc = CRC32C over (le32 len, type, payload): the length is covered too,
 *   so a torn or flipped length is caught. The i-th record of a segment has
 *   lsn = first lsn + i. Lsns strictly increase across segments but may skip
 *   values: records whose write or fsync failed keep their lsn, unused.
 * Invariants.
 *   - [0, tail) of the active segment is the header and complete records,
 *     every one of them acknowledged (or being acknowledged) to its appender;
 *     nothing past tail is ever acknowledged.
 *   - In GROUP and ALWAYS mode, synced == tail whenever no leader is busy: an
 *     appender gets 0 only after an fsync covering its record succeeded.
 *   - Only the leader (busy = 1) does I/O on the active segment and moves
 *     fd/tail/synced; everyone else waits for !busy under mu.
 *   - After a failed write or fsync the segment is never fsynced again: it is
 *     cut back to tail (best effort) and closed; the next batch starts a new
 *     segment, so a full disk recovers by itself once space returns. Every
 *     record of the failed batch gets the error; records queued meanwhile
 *     were never written to that file and go to the new segment.
 * States.
 *   NEEDS_REPLAY  segments exist on disk, none read yet   (wal_open)
 *   READY/no seg  fd < 0: the next batch creates one      (wal_open on an
 *                 empty dir, wal_replay, seg_roll, seg_poison)
 *   READY/active  fd >= 0, appends go to tail             (wal_replay reusing
 *                 the last segment, seg_create from wal_lead)
 *   wal_append queues an encoded record and its waiter in pend; whoever finds
 *   no leader busy becomes the leader (wal_lead): it takes the whole queue,
 *   writes it with one pwrite, fsyncs once (per record in ALWAYS mode) and
 *   wakes every waiter of the batch with its result. */
#include "store/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/log.h"
#include "base/metrics.h"

#define WAL_MAGIC "CLEWWAL1"
#define WAL_VERSION 1u
#define WAL_HDR_BYTES 16
#define WAL_REC_HDR_BYTES 9
#define WAL_DEFAULT_SEGMENT_BYTES (64ull << 20)
#define WAL_DEFAULT_MAX_RECORD ((64u << 20) + 1024u)
#define WAL_READ_CHUNK ((size_t)1 << 20)
#define WAL_KEEP_BUF_BYTES ((size_t)4 << 20)
#define WAL_DIR_MAX 4096
#define WAL_PATH_MAX (WAL_DIR_MAX + 32)

enum wal_state { WAL_NEEDS_REPLAY, WAL_READY };

/* One appender waiting for its record's fate; lives on its stack. */
struct wal_waiter {
	uint64_t lsn;
	int rc;
	int done;
	struct wal_waiter *next;
};

struct wal_bytes {
	uint8_t *p;
	size_t len, cap;
};

struct wal {
	char dir[WAL_DIR_MAX + 1];
	struct fileops *ops;
	enum wal_sync_mode sync;
	uint64_t segment_bytes;
	uint32_t max_record_bytes;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum wal_state state;
	uint64_t *segs; /* first lsn of each segment on disk, ascending */
	size_t n_segs, cap_segs;
	uint64_t next_lsn;

	/* records queued for the next leader */
	struct wal_bytes pend, spare;
	uint64_t pend_first_lsn, pend_records;
	struct wal_waiter *wait_head, *wait_tail;
	int busy;
	int create_failing; /* segment creation failed last time (log once) */

	/* the active segment: the leader's while busy, else guarded by mu */
	int fd;
	char path[WAL_PATH_MAX];
	off_t tail;
	off_t synced;

	struct wal_stats stats;
};


/* The fsync latency histogram of /metrics. */
static void observe_fsync(uint64_t ns)
{
	static struct metric *_Atomic hist;
	if (!hist)
		hist = metric_histogram("clew_wal_fsync_duration_seconds", "Latency of WAL fsync calls.", NULL,
					METRIC_LATENCY_BOUNDS, METRIC_LATENCY_N_BOUNDS);
	metric_observe(hist, (double)ns / 1e9);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t rec_crc(uint32_t len, uint8_t type, const uint8_t *payload)
{
	uint8_t lb[4];
	put_le32(lb, len);
	uint32_t c = crc32c(0, lb, 4);
	c = crc32c(c, &type, 1);
	return crc32c(c, payload, len);
}

static void hdr_encode(uint8_t *p)
{
	memcpy(p, WAL_MAGIC, 8);
	put_le32(p + 8, WAL_VERSION);
	put_le32(p + 12, crc32c(0, p, 12));
}

static int hdr_valid(const uint8_t *p)
{
	return memcmp(p, WAL_MAGIC, 8) == 0 && get_le32(p + 8) == WAL_VERSION &&
	       get_le32(p + 12) == crc32c(0, p, 12);
}

static void seg_path(const char *dir, uint64_t first_lsn, char *out)
{
	snprintf(out, WAL_PATH_MAX, "%s/wal-%016" PRIx64 ".log", dir, first_lsn);
}

/* Parse "wal-<16 lowercase hex>.log"; 0 or -1. */
static int seg_parse_name(const char *name, uint64_t *lsn)
{
	if (strlen(name) != 24 || memcmp(name, "wal-", 4) != 0 || memcmp(name + 20, ".log", 4) != 0)
		return -1;
	uint64_t v = 0;
	for (int i = 4; i < 20; i++) {
		char c = name[i];
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	*lsn = v;
	return 0;
}

static void segs_push(struct wal *w, uint64_t lsn)
{
	if (w->n_segs && w->segs[w->n_segs - 1] == lsn)
		return;
	if (w->n_segs == w->cap_segs) {
		w->cap_segs = w->cap_segs ? w->cap_segs * 2 : 16;
		w->segs = xrealloc(w->segs, w->cap_segs * sizeof *w->segs);
	}
	w->segs[w->n_segs++] = lsn;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- reading segments (replay and check) ---- */

struct wal_scan {
	struct fileops *ops;
	int fd;
	off_t size;
	uint32_t max_rec;
	uint8_t *buf;
	size_t cap;
	off_t win_off;
	size_t win_len;
};

struct wal_scan_result {
	uint64_t records, payload_bytes;
	off_t good_end;	 /* end of the last intact record */
	int bad;	 /* 0 clean to EOF, 1 bad header, 2 bad record at good_end */
	const char *why; /* for the log line */
	int cb_rc;	 /* non-zero: the callback stopped the scan */
};

/* Make [off, off+n) of the file readable at *out: 0, 1 when it lies past
 * the end of the file, or -errno / CLEW_ENOMEM. n is checked against the
 * file size before anything is allocated. */
static int scan_need(struct wal_scan *s, off_t off, size_t n, const uint8_t **out)
{
	if ((uint64_t)off + n > (uint64_t)s->size)
		return 1;
	if (off >= s->win_off && (uint64_t)off + n <= (uint64_t)s->win_off + s->win_len) {
		*out = s->buf + (off - s->win_off);
		return 0;
	}
	size_t want = n > WAL_READ_CHUNK ? n : WAL_READ_CHUNK;
	if ((uint64_t)off + want > (uint64_t)s->size)
		want = (size_t)(s->size - off);
	if (want > s->cap) {
		uint8_t *p = try_realloc(s->buf, want);
		if (!p)
			return CLEW_ENOMEM;
		s->buf = p;
		s->cap = want;
	}
	size_t got = 0;
	while (got < want) {
		ssize_t r = s->ops->pread(s->ops, s->fd, s->buf + got, want - got, off + (off_t)got);
		if (r < 0)
			return (int)r;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	s->win_off = off;
	s->win_len = got;
	if (got < n)
		return 1;
	*out = s->buf;
	return 0;
}

/* Read one segment from the start, calling cb (may be NULL) for each intact
 * record. Stops at the first bad record (r->bad). 0 or -errno. */
static int scan_segment(struct wal_scan *s, uint64_t first_lsn, wal_replay_fn cb, void *ctx,
			struct wal_scan_result *r)
{
	memset(r, 0, sizeof *r);
	s->win_off = 0;
	s->win_len = 0;
	const uint8_t *p;
	int rc = scan_need(s, 0, WAL_HDR_BYTES, &p);
	if (rc < 0)
		return rc;
	if (rc > 0 || !hdr_valid(p)) {
		r->bad = 1;
		r->why = rc > 0 ? "missing or short segment header" : "bad segment header";
		return 0;
	}
	off_t off = WAL_HDR_BYTES;
	while (off < s->size) {
		r->good_end = off;
		rc = scan_need(s, off, WAL_REC_HDR_BYTES, &p);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			r->bad = 2;
			r->why = "torn record header";
			return 0;
		}
		uint32_t len = get_le32(p), crc = get_le32(p + 4);
		if (len > s->max_rec) {
			r->bad = 2;
			r->why = "record length over the limit";
			return 0;
		}
		rc = scan_need(s, off, WAL_REC_HDR_BYTES + (size_t)len, &p);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			r->bad = 2;
			r->why = "torn record";
			return 0;
		}
		if (rec_crc(len, p[8], p + WAL_REC_HDR_BYTES) != crc) {
			r->bad = 2;
			r->why = "record checksum mismatch";
			return 0;
		}
		if (cb) {
			int c = cb(ctx, p[8], slice_make(p + WAL_REC_HDR_BYTES, len), first_lsn + r->records);
			if (c != 0) {
				r->cb_rc = c;
				return 0;
			}
		}
		r->records++;
		r->payload_bytes += len;
		off += WAL_REC_HDR_BYTES + (off_t)len;
	}
	r->good_end = off;
	return 0;
}

/* ---- open ---- */

static int mkdir_p(struct fileops *ops, const char *dir)
{
	char tmp[WAL_DIR_MAX + 1];
	snprintf(tmp, sizeof tmp, "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) == 0) {
		/* make the new directory's own entry durable */
		char *slash = strrchr(tmp, '/');
		if (slash == tmp)
			return ops->fsync_dir(ops, "/");
		if (slash) {
			*slash = 0;
			return ops->fsync_dir(ops, tmp);
		}
		return ops->fsync_dir(ops, ".");
	}
	return errno == EEXIST ? 0 : -errno;
}

struct wal *wal_open(const struct wal_options *opts, int *rc)
{
	struct wal *w = NULL;
	DIR *d = NULL;
	int err = 0;
	if (!opts || !opts->dir || !opts->dir[0] || strlen(opts->dir) > WAL_DIR_MAX ||
	    (unsigned)opts->sync > WAL_SYNC_NONE) {
		err = CLEW_EINVAL;
		goto out;
	}
	w = xcalloc(1, sizeof *w);
	snprintf(w->dir, sizeof w->dir, "%s", opts->dir);
	w->ops = opts->ops ? opts->ops : fileops_posix();
	w->sync = opts->sync;
	w->segment_bytes = opts->segment_bytes ? opts->segment_bytes : WAL_DEFAULT_SEGMENT_BYTES;
	w->max_record_bytes = opts->max_record_bytes ? opts->max_record_bytes : WAL_DEFAULT_MAX_RECORD;
	w->fd = -1;
	w->next_lsn = 1;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if ((err = mkdir_p(w->ops, w->dir)) < 0)
		goto out;
	d = opendir(w->dir);
	if (!d) {
		err = -errno;
		goto out;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		uint64_t lsn;
		if (seg_parse_name(e->d_name, &lsn) == 0)
			segs_push(w, lsn);
	}
	if (w->n_segs)
		if (w->n_segs > 1)
			qsort(w->segs, w->n_segs, sizeof *w->segs, cmp_u64);
	w->state = w->n_segs ? WAL_NEEDS_REPLAY : WAL_READY;
out:
	if (d)
		closedir(d);
	if (err < 0 && w) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w->segs);
		free(w);
		w = NULL;
	}
	if (rc)
		*rc = err;
	return w;
}

/* ---- replay ---- */

/* Copy s into out[cap], cut to fit. */
static void copy_cut(char *out, size_t cap, const char *s)
{
	size_t n = strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = 0;
}

/* Cut the bad tail of the last segment (or rewrite its header) and make the
 * cut durable. 0 or -errno. */
static int replay_cut_tail(struct wal *w, int fd, const struct wal_scan_result *r)
{
	int rc;
	if (r->bad == 1) {
		uint8_t hdr[WAL_HDR_BYTES];
		hdr_encode(hdr);
		if ((rc = w->ops->ftruncate(w->ops, fd, 0)) < 0)
			return rc;
		if ((rc = fileops_write_all(w->ops, fd, hdr, sizeof hdr, 0)) < 0)
			return rc;
	} else if ((rc = w->ops->ftruncate(w->ops, fd, r->good_end)) < 0) {
		return rc;
	}
	return w->ops->fsync(w->ops, fd);
}

int wal_replay(struct wal *w, wal_replay_fn cb, void *ctx, struct wal_replay_result *res)
{
	struct wal_replay_result local;
	if (!res)
		res = &local;
	memset(res, 0, sizeof *res);
	if (w->state != WAL_NEEDS_REPLAY)
		return w->n_segs == 0 && w->fd < 0 ? 0 : CLEW_ESTATE;

	struct wal_scan s = {.ops = w->ops, .fd = -1, .max_rec = w->max_record_bytes};
	char path[WAL_PATH_MAX];
	uint64_t next = w->next_lsn;
	int rc = 0, fd = -1;
	for (size_t i = 0; i < w->n_segs; i++) {
		int last = i + 1 == w->n_segs;
		seg_path(w->dir, w->segs[i], path);
		fd = w->ops->open(w->ops, path, last ? O_RDWR : O_RDONLY, 0);
		if (fd < 0) {
			rc = fd;
			log_error("wal: %s: cannot open: %s", path, err_str(rc));
			goto out;
		}
		s.fd = fd;
		if ((rc = w->ops->file_size(w->ops, fd, &s.size)) < 0)
			goto out;
		struct wal_scan_result r;
		if ((rc = scan_segment(&s, w->segs[i], cb, ctx, &r)) < 0) {
			log_error("wal: %s: read failed: %s", path, err_str(rc));
			goto out;
		}
		res->records += r.records;
		res->bytes += r.payload_bytes;
		if (r.cb_rc) {
			rc = r.cb_rc;
			goto out;
		}
		if (w->segs[i] + r.records > next)
			next = w->segs[i] + r.records;
		int reuse = last;
		off_t end = r.good_end;
		if (r.bad && !last) {
			log_error("wal: %s: %s at offset %lld; skipping the rest of this segment", path, r.why,
				  (long long)r.good_end);
		} else if (r.bad) {
			if (r.bad == 1)
				log_warn("wal: %s: %s; rewriting it (%lld bytes dropped)", path, r.why,
					 (long long)s.size);
			else
				log_warn("wal: %s: %s at offset %lld; truncating %lld bytes of torn tail", path,
					 r.why, (long long)r.good_end, (long long)(s.size - r.good_end));
			res->truncated_bytes += (uint64_t)(s.size - r.good_end);
			copy_cut(res->truncated_file, sizeof res->truncated_file, path);
			int crc = replay_cut_tail(w, fd, &r);
			if (crc < 0) {
				/* leave it; the next replay sees an older segment with a
				 * bad tail, which is tolerated */
				log_error("wal: %s: cannot truncate: %s; starting a new segment", path,
					  err_str(crc));
				reuse = 0;
			}
			if (r.bad == 1)
				end = WAL_HDR_BYTES;
		}
		/* appends continue in the last segment only if its lsns line up */
		if (reuse && (w->segs[i] + r.records != next || (uint64_t)end >= w->segment_bytes))
			reuse = 0;
		if (reuse) {
			w->fd = fd;
			w->tail = w->synced = end;
			snprintf(w->path, sizeof w->path, "%s", path);
		} else {
			w->ops->close(w->ops, fd);
		}
		fd = -1;
	}
	pthread_mutex_lock(&w->mu);
	w->next_lsn = next;
	w->state = WAL_READY;
	pthread_mutex_unlock(&w->mu);
out:
	if (fd >= 0)
		w->ops->close(w->ops, fd);
	free(s.buf);
	return rc;
}

/* ---- the active segment (leader only) ---- */

/* Create and durably name a segment whose first record gets lsn. */
static int seg_create(struct wal *w, uint64_t lsn)
{
	char path[WAL_PATH_MAX];
	uint8_t hdr[WAL_HDR_BYTES];
	seg_path(w->dir, lsn, path);
	int rc = 0, fd = w->ops->open(w->ops, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	hdr_encode(hdr);
	rc = fileops_write_all(w->ops, fd, hdr, sizeof hdr, 0);
	if (rc == 0)
		rc = w->ops->fsync(w->ops, fd);
	if (rc == 0)
		rc = w->ops->fsync_dir(w->ops, w->dir);
	if (rc < 0) {
		w->ops->close(w->ops, fd);
		w->ops->unlink(w->ops, path);
		goto fail;
	}
	if (w->create_failing)
		log_info("wal: %s: created; appends work again", path);
	w->create_failing = 0;
	w->fd = fd;
	w->tail = w->synced = WAL_HDR_BYTES;
	snprintf(w->path, sizeof w->path, "%s", path);
	pthread_mutex_lock(&w->mu);
	segs_push(w, lsn);
	pthread_mutex_unlock(&w->mu);
	return 0;
fail:
	/* while the disk stays full every batch lands here: log only once */
	if (!w->create_failing)
		log_warn("wal: %s: cannot create a segment: %s; refusing appends until it works", path,
			 err_str(rc));
	w->create_failing = 1;
	return rc;
}

/* A write or fsync failed: records past tail are not durable. Cut them off
 * (best effort), and never fsync this file again: the next batch starts a
 * new segment. */
static void seg_poison(struct wal *w, const char *what, int err)
{
	log_warn("wal: %s: %s failed at offset %lld: %s; continuing in a new segment", w->path, what,
		 (long long)w->tail, err_str(err));
	w->ops->ftruncate(w->ops, w->fd, w->tail);
	w->ops->close(w->ops, w->fd);
	w->fd = -1;
}

/* Roll when the chunk would overflow a non-empty segment, then make sure a
 * segment is open; lsn is the chunk's first record. */
static int seg_prepare(struct wal *w, uint64_t lsn, size_t chunk)
{
	if (w->fd >= 0 && w->tail > WAL_HDR_BYTES && (uint64_t)w->tail + chunk > w->segment_bytes) {
		/* every record in it is durable already (or in NONE mode, written) */
		w->ops->close(w->ops, w->fd);
		w->fd = -1;
	}
	return w->fd >= 0 ? 0 : seg_create(w, lsn);
}

/* ---- append ---- */

/* The leader: called with mu held and no leader busy; takes every queued
 * record, writes and syncs them outside mu, then resolves their waiters. */
static void wal_lead(struct wal *w)
{
	w->busy = 1;
	struct wal_bytes batch = w->pend;
	w->pend = w->spare;
	w->pend.len = 0;
	w->spare = (struct wal_bytes){0};
	uint64_t first = w->pend_first_lsn, n = w->pend_records;
	w->pend_records = 0;
	struct wal_waiter *ws = w->wait_head;
	w->wait_head = w->wait_tail = NULL;
	pthread_mutex_unlock(&w->mu);

	uint64_t ok = 0, syncs = 0, sync_ns = 0, bytes = 0;
	size_t pos = 0;
	int rc = 0;
	while (pos < batch.len) {
		size_t chunk = batch.len - pos;
		uint64_t chunk_recs = n - ok;
		if (w->sync == WAL_SYNC_ALWAYS) {
			chunk = WAL_REC_HDR_BYTES + (size_t)get_le32(batch.p + pos);
			chunk_recs = 1;
		}
		if ((rc = seg_prepare(w, first + ok, chunk)) < 0)
			break;
		if ((rc = fileops_write_all(w->ops, w->fd, batch.p + pos, chunk, w->tail)) < 0) {
			seg_poison(w, "write", rc);
			break;
		}
		if (w->sync != WAL_SYNC_NONE) {
			int64_t t0 = clock_mono_ns();
			rc = w->ops->fsync(w->ops, w->fd);
			uint64_t one_sync_ns = (uint64_t)(clock_mono_ns() - t0);
			sync_ns += one_sync_ns;
			observe_fsync(one_sync_ns);
			syncs++;
			if (rc < 0) {
				seg_poison(w, "fsync", rc);
				break;
			}
			w->synced = w->tail + (off_t)chunk;
		}
		w->tail += (off_t)chunk;
		pos += chunk;
		ok += chunk_recs;
		bytes += chunk;
	}

	pthread_mutex_lock(&w->mu);
	w->stats.records += ok;
	w->stats.bytes += bytes;
	w->stats.syncs += syncs;
	w->stats.sync_ns_total += sync_ns;
	if (rc < 0 && !w->stats.sticky_err)
		w->stats.sticky_err = rc;
	for (uint64_t i = 0; ws; i++) {
		struct wal_waiter *next = ws->next;
		ws->rc = i < ok ? 0 : rc;
		ws->done = 1;
		ws = next;
	}
	batch.len = 0;
	if (batch.cap > WAL_KEEP_BUF_BYTES) {
		free(batch.p);
		batch = (struct wal_bytes){0};
	}
	w->spare = batch;
	w->busy = 0;
	pthread_cond_broadcast(&w->cv);
}

int wal_append(struct wal *w, uint8_t type, struct slice payload, uint64_t *lsn_out)
{
	if (payload.len > w->max_record_bytes)
		return CLEW_ELIMIT;
	pthread_mutex_lock(&w->mu);
	if (w->state != WAL_READY) {
		pthread_mutex_unlock(&w->mu);
		return CLEW_ESTATE;
	}
	size_t need = w->pend.len + WAL_REC_HDR_BYTES + payload.len;
	if (need > w->pend.cap) {
		size_t cap = w->pend.cap ? w->pend.cap : 4096;
		while (cap < need)
			cap *= 2;
		uint8_t *p = try_realloc(w->pend.p, cap);
		if (!p) {
			pthread_mutex_unlock(&w->mu);
			return CLEW_ENOMEM;
		}
		w->pend.p = p;
		w->pend.cap = cap;
	}
	uint8_t *rec = w->pend.p + w->pend.len;
	uint32_t len = (uint32_t)payload.len;
	put_le32(rec, len);
	put_le32(rec + 4, rec_crc(len, type, payload.p));
	rec[8] = type;
	if (len)
		memcpy(rec + WAL_REC_HDR_BYTES, payload.p, len);
	w->pend.len = need;
	if (w->pend_records++ == 0)
		w->pend_first_lsn = w->next_lsn;
	struct wal_waiter me = {.lsn = w->next_lsn++};
	if (w->wait_tail)
		w->wait_tail->next = &me;
	else
		w->wait_head = &me;
	w->wait_tail = &me;
	while (!me.done) {
		if (!w->busy)
			wal_lead(w); /* my record is still queued: lead its batch */
		else
			pthread_cond_wait(&w->cv, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	if (lsn_out)
		*lsn_out = me.lsn;
	return me.rc;
}

/* Called with mu held: wait until no leader is doing I/O. */
static void wait_idle(struct wal *w)
{
	while (w->busy)
		pthread_cond_wait(&w->cv, &w->mu);
}

int wal_sync(struct wal *w)
{
	int rc = 0;
	pthread_mutex_lock(&w->mu);
	wait_idle(w);
	if (w->fd >= 0 && w->synced < w->tail) {
		int64_t t0 = clock_mono_ns();
		rc = w->ops->fsync(w->ops, w->fd);
		uint64_t one_sync_ns = (uint64_t)(clock_mono_ns() - t0);
		w->stats.sync_ns_total += one_sync_ns;
		observe_fsync(one_sync_ns);
		w->stats.syncs++;
		if (rc == 0) {
			w->synced = w->tail;
		} else {
			if (!w->stats.sticky_err)
				w->stats.sticky_err = rc;
			seg_poison(w, "fsync", rc);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void wal_get_stats(struct wal *w, struct wal_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->stats;
	pthread_mutex_unlock(&w->mu);
}

int wal_remove_segments_before(struct wal *w, uint64_t lsn)
{
	char path[WAL_PATH_MAX];
	int rc = 0, removed = 0;
	pthread_mutex_lock(&w->mu);
	wait_idle(w);
	size_t i = 0;
	/* segment i holds lsns below segs[i + 1]; the newest is never removed */
	while (i + 1 < w->n_segs && w->segs[i + 1] <= lsn) {
		seg_path(w->dir, w->segs[i], path);
		rc = w->ops->unlink(w->ops, path);
		if (rc < 0 && rc != -ENOENT)
			break;
		rc = 0;
		i++;
		removed++;
	}
	if (i > 0) {
		memmove(w->segs, w->segs + i, (w->n_segs - i) * sizeof *w->segs);
		w->n_segs -= i;
		int drc = w->ops->fsync_dir(w->ops, w->dir);
		if (rc == 0)
			rc = drc;
	}
	pthread_mutex_unlock(&w->mu);
	return rc < 0 ? rc : removed;
}

int wal_roll(struct wal *w, uint64_t *next_lsn)
{
	pthread_mutex_lock(&w->mu);
	wait_idle(w);
	/* a segment without records already starts at next_lsn: keep it */
	if (w->fd >= 0 && w->tail > WAL_HDR_BYTES) {
		w->ops->close(w->ops, w->fd);
		w->fd = -1;
	}
	*next_lsn = w->next_lsn;
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void wal_advance_lsn(struct wal *w, uint64_t lsn)
{
	pthread_mutex_lock(&w->mu);
	if (w->next_lsn < lsn && w->pend_records == 0) {
		w->next_lsn = lsn;
		/* the open segment's lsns would no longer line up: start anew */
		if (w->fd >= 0) {
			w->ops->close(w->ops, w->fd);
			w->fd = -1;
		}
	}
	pthread_mutex_unlock(&w->mu);
}

uint64_t wal_disk_bytes(struct wal *w)
{
	char path[WAL_PATH_MAX];
	uint64_t total = 0;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n_segs; i++) {
		struct stat st;
		seg_path(w->dir, w->segs[i], path);
		if (stat(path, &st) == 0)
			total += (uint64_t)st.st_size;
	}
	pthread_mutex_unlock(&w->mu);
	return total;
}

int wal_close(struct wal *w)
{
	if (!w)
		return 0;
	int rc = 0;
	pthread_mutex_lock(&w->mu);
	wait_idle(w);
	if (w->fd >= 0) {
		if (w->synced < w->tail)
			rc = w->ops->fsync(w->ops, w->fd);
		int crc = w->ops->close(w->ops, w->fd);
		if (rc == 0)
			rc = crc;
		w->fd = -1;
	}
	pthread_mutex_unlock(&w->mu);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->pend.p);
	free(w->spare.p);
	free(w->segs);
	free(w);
	return rc;
}

int wal_check_file(const char *path, uint64_t *records, uint64_t *bad_offset)
{
	struct fileops *ops = fileops_posix();
	struct wal_scan s = {.ops = ops, .max_rec = WAL_DEFAULT_MAX_RECORD};
	struct wal_scan_result r = {0};
	if (records)
		*records = 0;
	if (bad_offset)
		*bad_offset = 0;
	int rc = ops->open(ops, path, O_RDONLY, 0);
	if (rc < 0)
		return rc;
	s.fd = rc;
	if ((rc = ops->file_size(ops, s.fd, &s.size)) < 0)
		goto out;
	if ((rc = scan_segment(&s, 0, NULL, NULL, &r)) < 0)
		goto out;
	if (records)
		*records = r.records;
	if (r.bad) {
		if (bad_offset)
			*bad_offset = (uint64_t)r.good_end;
		rc = CLEW_ECORRUPT;
	}
out:
	ops->close(ops, s.fd);
	free(s.buf);
	return rc;
}

bool wal_damage_is_tail(const char *path, uint64_t bad_offset)
{
	struct fileops *ops = fileops_posix();
	int fd = ops->open(ops, path, O_RDONLY, 0);
	if (fd < 0)
		return false;
	off_t size = 0;
	uint8_t *p = NULL;
	bool tail = false;
	if (ops->file_size(ops, fd, &size) < 0 || (uint64_t)size > ((uint64_t)1 << 32))
		goto out;
	if ((p = try_malloc((size_t)size + 1)) == NULL || ops->pread(ops, fd, p, (size_t)size, 0) != (ssize_t)size)
		goto out;
	/* A crash leaves the file short: a short segment header, or a last record
	 * whose declared length runs past the end. A complete record or header
	 * with a bad checksum is corruption. */
	if ((uint64_t)size < WAL_HDR_BYTES) {
		tail = true;
	} else if (bad_offset < WAL_HDR_BYTES) {
		tail = false;
	} else if (bad_offset + WAL_REC_HDR_BYTES > (uint64_t)size) {
		tail = true;
	} else {
		uint32_t len = get_le32(p + bad_offset);
		tail = len <= WAL_DEFAULT_MAX_RECORD && bad_offset + WAL_REC_HDR_BYTES + len > (uint64_t)size;
	}
	if (!tail)
		goto out;
	/* an intact record anywhere after the damage means it is not a tail */
	for (uint64_t o = bad_offset + 1; o + WAL_REC_HDR_BYTES <= (uint64_t)size; o++) {
		uint32_t len = get_le32(p + o);
		if (len > WAL_DEFAULT_MAX_RECORD || o + WAL_REC_HDR_BYTES + len > (uint64_t)size)
			continue;
		if (get_le32(p + o + 4) == rec_crc(len, p[o + 8], p + o + WAL_REC_HDR_BYTES)) {
			tail = false;
			break;
		}
	}
out:
	free(p);
	ops->close(ops, fd);
	return tail;
}
