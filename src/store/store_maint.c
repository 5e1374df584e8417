/* The store's background steps over <data>/blocks/: loading the blocks at
 * open, flushing a sealed head into a block, merging the small blocks of a
 * time window (compaction) and deleting blocks by age and disk budget
 * (retention). The invariants they keep are in store.c's design notes.
 *
 * Compaction crash safety: before a merged block is finished, the sidecar
 * <merged>.replaces (the input names, one a line) is written durably. At
 * open, a sidecar whose block opened deletes the inputs still there; one
 * whose block is missing (the crash came before its rename) is removed and
 * the inputs stay. Either way each span is visible exactly once. */
#include "store/store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/log.h"

#define BLOCK_NAME_LEN 41 /* blk-<16 hex>-<16 hex>.blk */
#define SIDECAR_SUFFIX ".replaces"
#define FLOOR_NAME "WAL_FLOOR"

void store_block_name(uint64_t seq, uint64_t lsn, char *out)
{
	snprintf(out, STORE_BLOCK_NAME_MAX, "blk-%016" PRIx64 "-%016" PRIx64 ".blk", seq, lsn);
}


/* A sealed head or a merge frees hundreds of MiB at once; glibc keeps freed
 * memory of its per-thread arenas unless asked, so the process would grow
 * with the store instead of staying flat. Hand it back once more than
 * STORE_FREE_SLACK_BYTES sits unused: trimming every time would make the next
 * heads fault in fresh pages again, which costs more CPU than it saves. */
#define STORE_FREE_SLACK_BYTES ((size_t)512 << 20)

static void release_free_memory(void)
{
	struct mallinfo2 mi = mallinfo2();
	if (mi.fordblks > STORE_FREE_SLACK_BYTES)
		malloc_trim(0);
}

static int parse_hex16(const char *p, uint64_t *out)
{
	uint64_t v = 0;
	for (int i = 0; i < 16; i++) {
		char c = p[i];
		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Parse the first BLOCK_NAME_LEN chars of name as a block name; the rest
 * must be suffix. 0 or -1. */
static int parse_block_name(const char *name, const char *suffix, uint64_t *seq, uint64_t *lsn)
{
	size_t n = strlen(name), sl = strlen(suffix);
	if (n != BLOCK_NAME_LEN + sl || memcmp(name, "blk-", 4) != 0 || name[20] != '-' ||
	    memcmp(name + 37, ".blk", 4) != 0 || memcmp(name + BLOCK_NAME_LEN, suffix, sl) != 0)
		return -1;
	return parse_hex16(name + 4, seq) < 0 || parse_hex16(name + 21, lsn) < 0 ? -1 : 0;
}

static void blocks_path(const struct store *s, const char *name, const char *suffix, char *out)
{
	snprintf(out, STORE_PATH_MAX, "%s/%s%s", s->blocks_dir, name, suffix);
}

/* Write blocks/name durably: name.tmp, fsync, rename, fsync the directory.
 * 0 or -errno; nothing under name on failure (best effort). */
static int write_durable(struct store *s, const char *name, const void *p, size_t n)
{
	char tmp[STORE_PATH_MAX], path[STORE_PATH_MAX];
	blocks_path(s, name, ".tmp", tmp);
	blocks_path(s, name, "", path);
	struct fileops *ops = s->ops;
	int rc, fd = ops->open(ops, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	rc = fileops_write_all(ops, fd, p, n, 0);
	if (rc == 0)
		rc = ops->fsync(ops, fd);
	int crc = ops->close(ops, fd);
	if (rc == 0)
		rc = crc;
	if (rc == 0)
		rc = ops->rename(ops, tmp, path);
	if (rc == 0)
		rc = ops->fsync_dir(ops, s->blocks_dir);
	if (rc < 0) {
		ops->unlink(ops, tmp);
		ops->unlink(ops, path);
	}
	return rc;
}

/* Read a small file of blocks/ whole into a NUL-terminated malloc'd
 * buffer. 0 or -errno / CLEW_ELIMIT. */
static int read_small(struct store *s, const char *name, char **out)
{
	char path[STORE_PATH_MAX];
	blocks_path(s, name, "", path);
	struct fileops *ops = s->ops;
	off_t size = 0;
	char *buf = NULL;
	int rc, fd = ops->open(ops, path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	if ((rc = ops->file_size(ops, fd, &size)) < 0)
		goto out;
	if (size > (1 << 20)) {
		rc = CLEW_ELIMIT;
		goto out;
	}
	buf = xmalloc((size_t)size + 1);
	size_t got = 0;
	while (got < (size_t)size) {
		ssize_t r = ops->pread(ops, fd, buf + got, (size_t)size - got, (off_t)got);
		if (r <= 0) {
			rc = r < 0 ? (int)r : CLEW_ECORRUPT;
			goto out;
		}
		got += (size_t)r;
	}
	buf[got] = 0;
	*out = buf;
	buf = NULL;
out:
	ops->close(ops, fd);
	free(buf);
	return rc;
}

/* ---- the block list (callers hold mu) */

static void blocks_push(struct store *s, struct block *b, uint64_t seq, uint64_t lsn, const char *name)
{
	if (s->n_blocks == s->cap_blocks) {
		s->cap_blocks = s->cap_blocks ? s->cap_blocks * 2 : 16;
		s->blocks = xrealloc(s->blocks, s->cap_blocks * sizeof *s->blocks);
	}
	struct store_blk *e = &s->blocks[s->n_blocks++];
	e->block = b;
	e->seq = seq;
	e->lsn = lsn;
	snprintf(e->name, sizeof e->name, "%s", name);
	block_get_info(b, &e->info);
}

/* Take the entry of block b out of the list; its reference passes to the
 * caller. */
static void blocks_remove(struct store *s, const struct block *b)
{
	for (size_t i = 0; i < s->n_blocks; i++) {
		if (s->blocks[i].block == b) {
			memmove(&s->blocks[i], &s->blocks[i + 1], (s->n_blocks - i - 1) * sizeof *s->blocks);
			s->n_blocks--;
			return;
		}
	}
}

/* Drop a block for good: its sidecar now, its file when the last reader
 * lets go. Consumes the list's reference. */
static void block_drop(struct store *s, struct block *b, const char *name)
{
	char path[STORE_PATH_MAX];
	blocks_path(s, name, SIDECAR_SUFFIX, path);
	s->ops->unlink(s->ops, path);
	block_mark_deleted(b);
	block_unref(b);
}

/* ---- open */

struct dir_names {
	char **v;
	size_t n, cap;
};

static void names_push(struct dir_names *l, const char *name)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = xstrdup(name);
}

static void names_free(struct dir_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int find_block(const struct store *s, const char *name)
{
	for (size_t i = 0; i < s->n_blocks; i++)
		if (strcmp(s->blocks[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Finish the merge a sidecar describes, or forget it. */
static void apply_sidecar(struct store *s, const char *sidecar)
{
	char owner[STORE_BLOCK_NAME_MAX], path[STORE_PATH_MAX];
	snprintf(owner, sizeof owner, "%.*s", BLOCK_NAME_LEN, sidecar);
	if (find_block(s, owner) < 0) {
		/* the merge never published its block: the inputs are the data */
		blocks_path(s, sidecar, "", path);
		s->ops->unlink(s->ops, path);
		return;
	}
	char *text = NULL;
	int rc = read_small(s, sidecar, &text);
	if (rc < 0) {
		log_error("store: cannot read %s/%s: %s; the blocks it replaces stay (spans are read once)",
			  s->blocks_dir, sidecar, err_str(rc));
		return;
	}
	for (char *line = text, *nl; *line; line = nl) {
		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		else
			*nl++ = 0;
		int i = find_block(s, line);
		if (i < 0 || strcmp(line, owner) == 0)
			continue;
		log_info("store: %s/%s was merged into %s before a restart; deleting it", s->blocks_dir, line,
			 owner);
		struct store_blk e = s->blocks[i];
		blocks_remove(s, e.block);
		block_drop(s, e.block, e.name);
	}
	free(text);
}

int store_load_blocks(struct store *s, char *errbuf, size_t errlen)
{
	struct dir_names blks = {0}, sidecars = {0};
	int rc = 0;
	uint64_t max_seq = 0, seq, lsn;
	DIR *d = opendir(s->blocks_dir);
	if (!d) {
		rc = -errno;
		snprintf(errbuf, errlen, "cannot list %s: %s", s->blocks_dir, strerror(errno));
		return rc;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		if (len > 4 && strcmp(n + len - 4, ".tmp") == 0) {
			char path[STORE_PATH_MAX];
			blocks_path(s, n, "", path);
			log_info("store: removing unfinished %s", path);
			s->ops->unlink(s->ops, path);
			continue;
		}
		if (parse_block_name(n, "", &seq, &lsn) == 0)
			names_push(&blks, n);
		else if (parse_block_name(n, SIDECAR_SUFFIX, &seq, &lsn) == 0)
			names_push(&sidecars, n);
		else if (parse_block_name(n, ".corrupt", &seq, &lsn) != 0)
			continue;
		if (seq > max_seq)
			max_seq = seq;
	}
	closedir(d);
	s->next_seq = max_seq + 1;

	char *floor = NULL;
	if (read_small(s, FLOOR_NAME, &floor) == 0) {
		if (strlen(floor) < 16 || parse_hex16(floor, &s->floor_lsn) < 0)
			log_error("store: %s/%s does not hold an lsn; ignored", s->blocks_dir, FLOOR_NAME);
		free(floor);
	}

	if (blks.n)
		qsort(blks.v, blks.n, sizeof *blks.v, name_cmp); /* by seq: fixed-width hex */
	for (size_t i = 0; i < blks.n; i++) {
		char path[STORE_PATH_MAX], err[512] = "";
		blocks_path(s, blks.v[i], "", path);
		parse_block_name(blks.v[i], "", &seq, &lsn);
		struct block *b = block_open(s->ops, path, &rc, err, sizeof err);
		if (b) {
			blocks_push(s, b, seq, lsn, blks.v[i]);
			continue;
		}
		if (rc != CLEW_ECORRUPT) {
			snprintf(errbuf, errlen, "cannot open block %s: %s %s", path, err_str(rc), err);
			goto out;
		}
		char bad[STORE_PATH_MAX];
		blocks_path(s, blks.v[i], ".corrupt", bad);
		log_error("store: block %s is corrupt (%s); renamed to %s, its spans are not served", path, err,
			  bad);
		s->ops->rename(s->ops, path, bad);
		rc = 0;
	}
	for (size_t i = 0; i < sidecars.n; i++)
		apply_sidecar(s, sidecars.v[i]);
	s->covered_lsn = s->floor_lsn;
	for (size_t i = 0; i < s->n_blocks; i++)
		if (s->blocks[i].lsn > s->covered_lsn)
			s->covered_lsn = s->blocks[i].lsn;
	if (s->n_blocks)
		log_info("store: %zu blocks in %s; WAL records below %llu are in them", s->n_blocks, s->blocks_dir,
			 (unsigned long long)s->covered_lsn);
out:
	names_free(&blks);
	names_free(&sidecars);
	return rc;
}

/* ---- flush */

static int add_to_writer(void *ctx, const struct span_batch *b)
{
	return block_writer_add(ctx, b);
}

/* Create, finish and open a block named for (seq, lsn); on failure nothing
 * is left. Returns the block or NULL with *rc. */
static struct block *finish_block(struct store *s, struct block_writer *w, const char *name, int *rc)
{
	char path[STORE_PATH_MAX], err[512] = "";
	blocks_path(s, name, "", path);
	if ((*rc = block_writer_finish(w, s->ops, s->blocks_dir, name, NULL)) < 0)
		return NULL;
	struct block *b = block_open(s->ops, path, rc, err, sizeof err);
	if (!b) {
		log_error("store: cannot open the block just written: %s", err);
		s->ops->unlink(s->ops, path);
		s->ops->fsync_dir(s->ops, s->blocks_dir);
	}
	return b;
}

int store_flush_one(struct store *s)
{
	struct store_gen *g = store_oldest_sealed(s);
	char name[STORE_BLOCK_NAME_MAX];
	int rc;
	if (!g)
		return 0;
	uint64_t seq = s->next_seq++, end_lsn = g->end_lsn;
	store_block_name(seq, end_lsn, name);
	struct block_writer *w = block_writer_new(NULL);
	struct block *b = NULL;
	rc = head_for_each_batch(g->head, add_to_writer, w);
	if (rc == 0)
		b = finish_block(s, w, name, &rc);
	block_writer_free(w);
	if (!b) {
		pthread_mutex_lock(&s->mu);
		s->flush_failures++;
		pthread_mutex_unlock(&s->mu);
		if (!s->flush_failing)
			log_warn("store: cannot write %s/%s: %s; the head stays in memory and in the WAL, retrying",
				 s->blocks_dir, name, err_str(rc));
		s->flush_failing = 1;
		return rc;
	}
	pthread_mutex_lock(&s->mu);
	blocks_push(s, b, seq, end_lsn, name);
	s->sealed = g->next;
	if (end_lsn > s->covered_lsn)
		s->covered_lsn = end_lsn;
	s->flushes++;
	pthread_mutex_unlock(&s->mu);
	if (s->flush_failing)
		log_info("store: flushing the head into blocks works again (%s)", name);
	s->flush_failing = 0;
	store_gen_unref(g);
	release_free_memory();
	int r = wal_remove_segments_before(s->wal, end_lsn);
	if (r < 0)
		log_warn("store: cannot remove WAL segments below %llu: %s; retried after the next flush",
			 (unsigned long long)end_lsn, err_str(r));
	return 0;
}

/* ---- retention */

/* Make sure a restart skips WAL records below covered_lsn even once no
 * block carries it. */
static int write_floor(struct store *s, uint64_t lsn)
{
	char text[32];
	int n = snprintf(text, sizeof text, "%016" PRIx64 "\n", lsn);
	int rc = write_durable(s, FLOOR_NAME, text, (size_t)n);
	if (rc == 0)
		s->floor_lsn = lsn;
	return rc;
}

int store_retention(struct store *s)
{
	if (!s->o.retention_ns && !s->o.max_disk_bytes)
		return 0;
	int64_t cutoff = store_now_ns(s) - s->o.retention_ns;
	uint64_t wal_bytes = s->o.max_disk_bytes ? wal_disk_bytes(s->wal) : 0;
	int rc = 0;
	pthread_mutex_lock(&s->mu);
	size_t n = s->n_blocks, n_victims = 0;
	if (!n) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	struct store_blk *victims = xmalloc(n * sizeof *victims);
	const char **why = xmalloc(n * sizeof *why);
	uint8_t *gone = xcalloc(n, 1);
	uint64_t total = wal_bytes;
	for (size_t i = 0; i < n; i++) {
		if (s->o.retention_ns && s->blocks[i].info.max_end_ns < cutoff) {
			gone[i] = 1;
			why[i] = "older than --retention";
		} else {
			total += s->blocks[i].info.file_bytes;
		}
	}
	while (s->o.max_disk_bytes && total > s->o.max_disk_bytes) {
		size_t oldest = n;
		for (size_t i = 0; i < n; i++)
			if (!gone[i] && (oldest == n || s->blocks[i].info.max_end_ns < s->blocks[oldest].info.max_end_ns))
				oldest = i;
		if (oldest == n)
			break;
		gone[oldest] = 1;
		why[oldest] = "over --max-disk";
		total -= s->blocks[oldest].info.file_bytes;
	}
	uint64_t kept_lsn = 0;
	for (size_t i = 0; i < n; i++) {
		if (gone[i])
			n_victims++;
		else if (s->blocks[i].lsn > kept_lsn)
			kept_lsn = s->blocks[i].lsn;
	}
	uint64_t covered = s->covered_lsn;
	pthread_mutex_unlock(&s->mu);
	if (!n_victims)
		goto out;
	if (kept_lsn < covered && s->floor_lsn < covered && (rc = write_floor(s, covered)) < 0) {
		log_warn("store: cannot write %s/%s: %s; retention waits", s->blocks_dir, FLOOR_NAME, err_str(rc));
		goto out;
	}
	/* only this thread changes the list: the indexes still hold */
	pthread_mutex_lock(&s->mu);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (gone[i]) {
			why[k] = why[i];
			victims[k++] = s->blocks[i];
		}
	}
	for (size_t i = 0; i < k; i++)
		blocks_remove(s, victims[i].block);
	s->retention_deletions += k;
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < k; i++) {
		log_info("store: deleting block %s/%s (%llu spans, %llu bytes): %s", s->blocks_dir, victims[i].name,
			 (unsigned long long)victims[i].info.spans, (unsigned long long)victims[i].info.file_bytes,
			 why[i]);
		block_drop(s, victims[i].block, victims[i].name);
	}
out:
	free(victims);
	free(why);
	free(gone);
	return rc;
}

/* ---- compaction */

/* The (trace id, span id) pairs already written by a merge. Open
 * addressing; an all-zero key is empty (span ids are never zero). */
struct span_set {
	uint8_t (*keys)[24];
	size_t n, cap;
};

/* 1 if added, 0 if present, CLEW_ENOMEM. */
static int span_set_add(struct span_set *set, const uint8_t trace_id[16], const uint8_t span_id[8])
{
	static const uint8_t zero[24];
	uint8_t key[24];
	memcpy(key, trace_id, 16);
	memcpy(key + 16, span_id, 8);
	if ((set->n + 1) * 2 > set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 4096;
		uint8_t(*keys)[24] = try_calloc(ncap, 24);
		if (!keys)
			return CLEW_ENOMEM;
		for (size_t i = 0; i < set->cap; i++) {
			if (memcmp(set->keys[i], zero, 24) == 0)
				continue;
			size_t j = hash64(set->keys[i], 24) & (ncap - 1);
			while (memcmp(keys[j], zero, 24) != 0)
				j = (j + 1) & (ncap - 1);
			memcpy(keys[j], set->keys[i], 24);
		}
		free(set->keys);
		set->keys = keys;
		set->cap = ncap;
	}
	size_t j = hash64(key, 24) & (set->cap - 1);
	while (memcmp(set->keys[j], zero, 24) != 0) {
		if (memcmp(set->keys[j], key, 24) == 0)
			return 0;
		j = (j + 1) & (set->cap - 1);
	}
	memcpy(set->keys[j], key, 24);
	set->n++;
	return 1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Sleep so that compaction reads at most the configured rate. */
static void throttle(struct store *s, int64_t t0, uint64_t bytes)
{
	if (!s->o.compaction_bytes_per_sec)
		return;
	int64_t due = t0 + (int64_t)((double)bytes * 1e9 / (double)s->o.compaction_bytes_per_sec);
	for (int64_t now = clock_mono_ns(); now < due && !atomic_load(&s->stop); now = clock_mono_ns()) {
		int64_t ns = due - now < 100000000 ? due - now : 100000000;
		struct timespec ts = {ns / 1000000000, ns % 1000000000};
		nanosleep(&ts, NULL);
	}
}

/* Pick the blocks of the oldest window worth merging: at least two small
 * ones (four in the window still being written). Each is referenced.
 * Returns how many, 0 if nothing is due. */
static size_t pick_inputs(struct store *s, struct store_blk **out)
{
	int64_t win = s->o.compaction_window_ns;
	int64_t open_window = floor_div(store_now_ns(s), win);
	uint64_t small = s->o.compaction_max_mem_bytes / 32;
	size_t n = 0;
	*out = NULL;
	pthread_mutex_lock(&s->mu);
	int64_t best = INT64_MAX;
	for (size_t i = 0; i < s->n_blocks; i++) {
		const struct store_blk *a = &s->blocks[i];
		if (a->info.file_bytes >= small || a->info.spans == 0)
			continue;
		int64_t w = floor_div(a->info.min_start_ns, win);
		if (w >= best)
			continue;
		size_t count = 0;
		for (size_t j = 0; j < s->n_blocks; j++) {
			const struct store_blk *c = &s->blocks[j];
			if (c->info.file_bytes < small && c->info.spans && floor_div(c->info.min_start_ns, win) == w)
				count++;
		}
		if (count >= (w >= open_window ? 4u : 2u))
			best = w;
	}
	if (best != INT64_MAX) {
		*out = xmalloc(s->n_blocks * sizeof **out);
		for (size_t i = 0; i < s->n_blocks; i++) {
			const struct store_blk *c = &s->blocks[i];
			if (c->info.file_bytes < small && c->info.spans && floor_div(c->info.min_start_ns, win) == best) {
				(*out)[n++] = *c;
				block_ref(c->block);
			}
		}
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* Read every page of one input into the writer, dropping spans already
 * written. */
static int merge_block(struct store *s, struct block_writer *w, struct span_set *set, const struct store_blk *in,
		       int64_t t0, uint64_t *bytes_read)
{
	int rc = 0;
	uint32_t pages = block_pages(in->block);
	uint64_t page_bytes = pages ? in->info.file_bytes / pages : 0;
	struct arena arena;
	arena_init(&arena, 0);
	for (uint32_t p = 0; p < pages && rc == 0; p++) {
		if (atomic_load(&s->stop)) {
			rc = CLEW_ESTATE;
			break;
		}
		struct span_batch b;
		span_batch_init(&b, &arena);
		if ((rc = block_read_page(in->block, p, &b)) < 0)
			break;
		for (uint32_t i = 0; i < b.n_spans && rc >= 0; i++) {
			struct span *sp = &b.spans[i];
			rc = span_set_add(set, sp->trace_id, sp->span_id);
			if (rc == 0)
				sp->invalid_reason = "duplicate";
		}
		if (rc >= 0)
			rc = block_writer_add(w, &b);
		arena_reset(&arena);
		*bytes_read += page_bytes;
		throttle(s, t0, *bytes_read);
		/* keep the heads moving during a long merge */
		store_service_heads(s, true);
	}
	arena_reset(&arena);
	return rc;
}

int store_compact_step(struct store *s)
{
	struct store_blk *in = NULL;
	if (!s->o.manual_maintenance && s->compact_failing && clock_mono_ns() < s->compact_retry_mono_ns)
		return 0;
	size_t n = pick_inputs(s, &in), used = 0;
	if (n < 2) {
		for (size_t i = 0; i < n; i++)
			block_unref(in[i].block);
		free(in);
		return 0;
	}
	int rc = 0;
	char name[STORE_BLOCK_NAME_MAX], sidecar[STORE_BLOCK_NAME_MAX + 16];
	struct span_set set = {0};
	struct block_writer *w = block_writer_new(NULL);
	struct block *merged = NULL;
	struct buf list;
	buf_init(&list, 1 << 20);
	uint64_t bytes_read = 0, lsn = 0, spans_in = 0;
	int64_t t0 = clock_mono_ns();
	for (; used < n; used++) {
		if ((rc = merge_block(s, w, &set, &in[used], t0, &bytes_read)) < 0)
			goto out;
		if (in[used].lsn > lsn)
			lsn = in[used].lsn;
		spans_in += in[used].info.spans;
		buf_append(&list, in[used].name, strlen(in[used].name));
		buf_append(&list, "\n", 1);
		if (used >= 1 && block_writer_mem_bytes(w) >= s->o.compaction_max_mem_bytes) {
			used++;
			break;
		}
	}
	if (list.err) {
		rc = list.err;
		goto out;
	}
	uint64_t seq = s->next_seq++;
	store_block_name(seq, lsn, name);
	snprintf(sidecar, sizeof sidecar, "%s%s", name, SIDECAR_SUFFIX);
	if ((rc = write_durable(s, sidecar, list.p, list.len)) < 0)
		goto out;
	if (!(merged = finish_block(s, w, name, &rc))) {
		char path[STORE_PATH_MAX];
		blocks_path(s, sidecar, "", path);
		s->ops->unlink(s->ops, path);
		goto out;
	}
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < used; i++)
		blocks_remove(s, in[i].block);
	blocks_push(s, merged, seq, lsn, name);
	struct block_info info = s->blocks[s->n_blocks - 1].info;
	s->compactions++;
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < used; i++)
		block_drop(s, in[i].block, in[i].name); /* the list's reference */
	release_free_memory();
	log_info("store: merged %zu blocks (%llu spans) into %s (%llu spans, %llu bytes)", used,
		 (unsigned long long)spans_in, name, (unsigned long long)info.spans,
		 (unsigned long long)info.file_bytes);
	if (s->compact_failing)
		log_info("store: compaction works again");
	s->compact_failing = 0;
out:
	if (rc < 0 && rc != CLEW_ESTATE) {
		if (!s->compact_failing)
			log_warn("store: compaction failed: %s; the blocks stay as they are, retrying later",
				 err_str(rc));
		s->compact_failing = 1;
		s->compact_retry_mono_ns = clock_mono_ns() + 10ll * 1000000000;
	}
	for (size_t i = 0; i < n; i++)
		block_unref(in[i].block); /* pick_inputs' references */
	free(in);
	free(set.keys);
	buf_free(&list);
	block_writer_free(w);
	if (rc == CLEW_ESTATE)
		return 0;
	return rc < 0 ? rc : 1;
}
