/* The embedded store over a data directory: <dir>/LOCK (flock, so two clews
 * never share a directory), <dir>/wal/ (the WAL), the head in memory. On
 * open the WAL is replayed into the head: each record is the payload of one
 * acknowledged batch, decoded and indexed again exactly as when it came in
 * (invalid spans are skipped the same way, duplicates collapse). */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "ingest/otlp_proto.h"
#include "store/head.h"

struct store {
	char *data_dir;
	int lock_fd;
	struct wal *wal;
	struct head *head;
	struct budget *memory;
	pthread_mutex_t charge_lock; /* guards charged_head_bytes */
	uint64_t charged_head_bytes;
	uint64_t replayed_records, replay_truncated_bytes;
};

static int make_dir(const char *path, char *errbuf, size_t errlen)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		snprintf(errbuf, errlen, "%s exists and is not a directory", path);
		return -ENOTDIR;
	}
	int rc = -errno;
	snprintf(errbuf, errlen, "cannot create data directory %s: %s", path, strerror(errno));
	return rc;
}

static int take_lock(struct store *s, char *errbuf, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/LOCK", s->data_dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->lock_fd < 0) {
		int rc = -errno;
		snprintf(errbuf, errlen, "data directory %s is not writable: %s", s->data_dir, strerror(errno));
		return rc;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int rc = -errno;
		if (errno == EWOULDBLOCK)
			snprintf(errbuf, errlen,
				 "data directory %s is in use by another clew process (lock %s is held); stop it or "
				 "choose another --data-dir",
				 s->data_dir, path);
		else
			snprintf(errbuf, errlen, "cannot lock %s: %s", path, strerror(errno));
		return rc;
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(s->lock_fd, 0) == 0 && pwrite(s->lock_fd, pid, (size_t)n, 0) < 0)
		log_warn("could not write pid to %s", path);
	return 0;
}

static void charge_head(struct store *s)
{
	if (!s->memory)
		return;
	struct head_stats hs;
	head_get_stats(s->head, &hs);
	pthread_mutex_lock(&s->charge_lock);
	if (hs.bytes > s->charged_head_bytes) {
		budget_force_charge(s->memory, hs.bytes - s->charged_head_bytes);
		s->charged_head_bytes = hs.bytes;
	}
	pthread_mutex_unlock(&s->charge_lock);
}

static int index_payload(struct store *s, uint8_t *payload, size_t len, const struct span_batch *b)
{
	int rc = head_insert(s->head, payload, len, b, NULL);
	charge_head(s);
	return rc;
}

static int replay_record(void *ctx, uint8_t type, struct slice payload, uint64_t lsn)
{
	struct store *s = ctx;
	if (type != WAL_REC_OTLP_PROTO) {
		log_warn("wal: record %llu has unknown type %u; skipped", (unsigned long long)lsn, type);
		return 0;
	}
	uint8_t *copy = try_malloc(payload.len);
	if (!copy)
		return CLEW_ENOMEM;
	memcpy(copy, payload.p, payload.len);
	struct arena arena;
	arena_init(&arena, 0);
	struct span_batch b;
	span_batch_init(&b, &arena);
	struct decode_error err = {{0}, 0};
	int rc = otlp_proto_decode_request(slice_make(copy, payload.len), &b, &err);
	if (rc < 0) {
		log_error("wal: record %llu does not decode (%s); skipped", (unsigned long long)lsn, err.msg);
		free(copy);
		arena_reset(&arena);
		return 0;
	}
	for (uint32_t i = 0; i < b.n_spans; i++)
		if (!b.spans[i].invalid_reason)
			b.spans[i].invalid_reason = span_invalid_reason(&b.spans[i]);
	rc = index_payload(s, copy, payload.len, &b);
	arena_reset(&arena);
	s->replayed_records++;
	return rc;
}

struct store *store_open(const struct store_options *opts, int *rc_out, char *errbuf, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof *s);
	int rc;
	s->lock_fd = -1;
	pthread_mutex_init(&s->charge_lock, NULL);
	s->data_dir = xstrdup(opts->data_dir);
	s->memory = opts->memory;
	errbuf[0] = 0;
	if ((rc = make_dir(s->data_dir, errbuf, errlen)) < 0)
		goto fail;
	if ((rc = take_lock(s, errbuf, errlen)) < 0)
		goto fail;
	char wal_dir[4096];
	snprintf(wal_dir, sizeof wal_dir, "%s/wal", s->data_dir);
	if ((rc = make_dir(wal_dir, errbuf, errlen)) < 0)
		goto fail;
	struct wal_options wo = {.dir = wal_dir, .sync = opts->wal_sync};
	s->wal = wal_open(&wo, &rc);
	if (!s->wal) {
		snprintf(errbuf, errlen, "cannot open the WAL in %s: %s", wal_dir, err_str(rc));
		goto fail;
	}
	s->head = head_new();
	struct wal_replay_result rr = {0};
	rc = wal_replay(s->wal, replay_record, s, &rr);
	if (rc < 0) {
		snprintf(errbuf, errlen, "cannot replay the WAL in %s: %s", wal_dir, err_str(rc));
		goto fail;
	}
	s->replay_truncated_bytes = rr.truncated_bytes;
	if (rr.records)
		log_info("wal: replayed %llu records (%llu bytes) into the head", (unsigned long long)rr.records,
			 (unsigned long long)rr.bytes);
	*rc_out = 0;
	return s;
fail:
	*rc_out = rc;
	if (s->wal)
		wal_close(s->wal);
	if (s->head)
		head_free(s->head);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->data_dir);
	free(s);
	return NULL;
}

int store_append(struct store *s, uint8_t *payload, size_t payload_len, const struct span_batch *b)
{
	int rc = wal_append(s->wal, WAL_REC_OTLP_PROTO, slice_make(payload, payload_len), NULL);
	if (rc < 0) {
		free(payload);
		return rc;
	}
	return index_payload(s, payload, payload_len, b);
}

int store_get_trace(struct store *s, const uint8_t trace_id[16], struct span_batch *out)
{
	return head_get_trace(s->head, trace_id, out);
}

void store_get_stats(struct store *s, struct store_stats *out)
{
	struct head_stats hs;
	struct wal_stats ws;
	head_get_stats(s->head, &hs);
	wal_get_stats(s->wal, &ws);
	out->head_spans = hs.spans;
	out->head_traces = hs.traces;
	out->head_bytes = hs.bytes;
	out->duplicates = hs.duplicates;
	out->wal_records = ws.records;
	out->wal_bytes = ws.bytes;
	out->wal_syncs = ws.syncs;
	out->wal_sync_ns_total = ws.sync_ns_total;
	out->replayed_records = s->replayed_records;
	out->replay_truncated_bytes = s->replay_truncated_bytes;
}

int store_close(struct store *s)
{
	int rc = wal_close(s->wal);
	head_free(s->head);
	if (s->memory && s->charged_head_bytes)
		budget_release(s->memory, s->charged_head_bytes);
	close(s->lock_fd);
	free(s->data_dir);
	free(s);
	return rc;
}
