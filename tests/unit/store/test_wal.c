/* Unit tests of the WAL: round trips across segments, replay of torn and
 * corrupt files, write and fsync failures, a crash at the Nth fsync under
 * concurrent appenders, and group commit. */
#include "../../testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "store/wal.h"

/* ---- helpers ---- */

struct rec {
	uint64_t lsn;
	uint8_t type;
	size_t len;
	uint8_t *p;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static int collect(void *ctx, uint8_t type, struct slice payload, uint64_t lsn)
{
	struct recs *rs = ctx;
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		rs->v = realloc(rs->v, rs->cap * sizeof *rs->v);
	}
	struct rec *r = &rs->v[rs->n++];
	r->lsn = lsn;
	r->type = type;
	r->len = payload.len;
	r->p = malloc(payload.len + 1);
	if (payload.len)
		memcpy(r->p, payload.p, payload.len);
	return 0;
}

static void recs_free(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].p);
	free(rs->v);
	memset(rs, 0, sizeof *rs);
}

/* Deterministic payload of record i: len bytes derived from i. */
static void fill_payload(uint8_t *p, size_t len, uint64_t i)
{
	for (size_t j = 0; j < len; j++)
		p[j] = (uint8_t)(i * 31 + j * 7 + (j >> 8));
}

static int payload_ok(const struct rec *r, size_t len, uint64_t i)
{
	if (r->len != len)
		return 0;
	for (size_t j = 0; j < len; j++)
		if (r->p[j] != (uint8_t)(i * 31 + j * 7 + (j >> 8)))
			return 0;
	return 1;
}

static uint32_t rng_next(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static struct wal *open_wal(const char *dir, enum wal_sync_mode mode, uint64_t seg_bytes,
			    struct fileops *ops)
{
	struct wal_options o = {.dir = dir, .sync = mode, .segment_bytes = seg_bytes, .ops = ops};
	int rc = 0;
	struct wal *w = wal_open(&o, &rc);
	if (!w)
		fprintf(stderr, "    wal_open: %s\n", err_str(rc));
	return w;
}

static int append_n(struct wal *w, uint64_t first_i, int n, size_t len)
{
	uint8_t buf[4096];
	for (int k = 0; k < n; k++) {
		fill_payload(buf, len, first_i + (uint64_t)k);
		int rc = wal_append(w, WAL_REC_OTLP_PROTO, slice_make(buf, len), NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Sorted list of the segment files in dir; returns the count. */
static int list_segments(const char *dir, char names[][32], int max)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, "wal-", 4) == 0 && strlen(e->d_name) < 32 && n < max)
			memcpy(names[n++], e->d_name, strlen(e->d_name) + 1);
	if (d)
		closedir(d);
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char t[32];
			memcpy(t, names[j], 32);
			memcpy(names[j], names[j - 1], 32);
			memcpy(names[j - 1], t, 32);
		}
	return n;
}

static void remove_segments(const char *dir)
{
	char names[256][32], path[700];
	int n = list_segments(dir, names, 256);
	for (int i = 0; i < n; i++) {
		if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) < (int)sizeof path)
			unlink(path);
	}
}

static int write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	ssize_t w = n ? write(fd, p, n) : 0;
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

static uint8_t *read_file(const char *path, size_t *n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	struct stat st;
	fstat(fd, &st);
	uint8_t *p = malloc((size_t)st.st_size + 1);
	*n = (size_t)read(fd, p, (size_t)st.st_size);
	close(fd);
	return p;
}

static off_t path_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

/* ---- round trips ---- */

TEST(wal_round_trip_across_segments)
{
	const char *dir = test_tmpdir();
	struct wal *w = open_wal(dir, WAL_SYNC_GROUP, 4096, NULL);
	CHECK(w);
	CHECK_INT(wal_replay(w, collect, NULL, NULL), ==, 0); /* empty dir: nothing */
	uint32_t seed = 7;
	size_t lens[300];
	uint8_t buf[1200];
	for (uint64_t i = 0; i < 300; i++) {
		lens[i] = i % 50 == 0 ? 0 : rng_next(&seed) % 1100;
		fill_payload(buf, lens[i], i);
		uint64_t lsn = 0;
		CHECK_INT(wal_append(w, (uint8_t)(1 + i % 3), slice_make(buf, lens[i]), &lsn), ==, 0);
		CHECK_INT(lsn, ==, i + 1);
	}
	struct wal_stats st;
	wal_get_stats(w, &st);
	CHECK_INT(st.records, ==, 300);
	CHECK_INT(st.syncs, ==, 300);
	CHECK_INT(st.sticky_err, ==, 0);
	CHECK_INT(wal_close(w), ==, 0);

	char names[256][32], path[700];
	int nseg = list_segments(dir, names, 256);
	CHECK_INT(nseg, >=, 4);
	CHECK_STR(names[0], "wal-0000000000000001.log");
	for (int i = 0; i < nseg; i++) {
		CHECK(snprintf(path, sizeof path, "%s/%s", dir, names[i]) < (int)sizeof path);
		uint64_t n = 0, bad = 1;
		CHECK_INT(wal_check_file(path, &n, &bad), ==, 0);
		CHECK_INT(bad, ==, 0);
		CHECK(n > 0);
		/* a segment exceeds the limit only when one record alone does */
		CHECK(path_size(path) <= 4096);
	}

	struct recs rs = {0};
	struct wal_replay_result res;
	w = open_wal(dir, WAL_SYNC_GROUP, 4096, NULL);
	CHECK(w);
	CHECK_INT(wal_append(w, 1, SLICE_LIT("early"), NULL), ==, CLEW_ESTATE);
	CHECK_INT(wal_replay(w, collect, &rs, &res), ==, 0);
	CHECK_INT(rs.n, ==, 300);
	CHECK_INT(res.records, ==, 300);
	CHECK_INT(res.truncated_bytes, ==, 0);
	uint64_t total = 0;
	for (uint64_t i = 0; i < 300; i++) {
		CHECK_INT(rs.v[i].lsn, ==, i + 1);
		CHECK_INT(rs.v[i].type, ==, 1 + i % 3);
		CHECK(payload_ok(&rs.v[i], lens[i], i));
		total += lens[i];
	}
	CHECK_INT(res.bytes, ==, total);
	CHECK_INT(wal_replay(w, collect, &rs, &res), ==, CLEW_ESTATE);
	uint64_t lsn = 0;
	CHECK_INT(wal_append(w, 1, SLICE_LIT("after"), &lsn), ==, 0);
	CHECK_INT(lsn, ==, 301);
	CHECK_INT(wal_close(w), ==, 0);
	recs_free(&rs);

	w = open_wal(dir, WAL_SYNC_GROUP, 4096, NULL);
	CHECK_INT(wal_replay(w, collect, &rs, &res), ==, 0);
	CHECK_INT(rs.n, ==, 301);
	CHECK_INT(rs.v[300].lsn, ==, 301);
	CHECK_SLICE(slice_make(rs.v[300].p, rs.v[300].len), "after");
	wal_close(w);
	recs_free(&rs);
}

static int stop_at_3(void *ctx, uint8_t type, struct slice payload, uint64_t lsn)
{
	int *seen = ctx;
	return ++*seen == 3 ? 42 : 0;
}

TEST(wal_sync_modes_limits_and_callback_stop)
{
	const char *dir = test_tmpdir();
	struct wal *w = open_wal(dir, WAL_SYNC_ALWAYS, 0, NULL);
	CHECK(w);
	CHECK_INT(append_n(w, 0, 10, 100), ==, 0);
	struct wal_stats st;
	wal_get_stats(w, &st);
	CHECK_INT(st.syncs, ==, 10);
	CHECK_INT(st.bytes, ==, 10 * 109);
	struct wal_options o = {.dir = dir, .max_record_bytes = 1000};
	CHECK_INT(wal_close(w), ==, 0);

	int rc = 0;
	w = wal_open(&o, &rc);
	CHECK(w);
	int seen = 0;
	CHECK_INT(wal_replay(w, stop_at_3, &seen, NULL), ==, 42);
	CHECK_INT(wal_append(w, 1, SLICE_LIT("x"), NULL), ==, CLEW_ESTATE);
	wal_close(w);

	w = wal_open(&o, &rc);
	CHECK_INT(wal_replay(w, NULL, NULL, NULL), ==, 0);
	uint8_t big[1001] = {0};
	CHECK_INT(wal_append(w, 1, slice_make(big, 1001), NULL), ==, CLEW_ELIMIT);
	CHECK_INT(wal_append(w, 1, slice_make(big, 1000), NULL), ==, 0);
	wal_close(w);

	remove_segments(dir);
	w = open_wal(dir, WAL_SYNC_NONE, 0, NULL);
	CHECK_INT(append_n(w, 0, 10, 100), ==, 0);
	wal_get_stats(w, &st);
	CHECK_INT(st.syncs, ==, 0);
	CHECK_INT(st.records, ==, 10);
	CHECK_INT(wal_sync(w), ==, 0);
	wal_get_stats(w, &st);
	CHECK_INT(st.syncs, ==, 1);
	CHECK_INT(wal_sync(w), ==, 0); /* nothing new to sync */
	wal_get_stats(w, &st);
	CHECK_INT(st.syncs, ==, 1);
	CHECK_INT(wal_close(w), ==, 0);

	struct wal_options bad = {.dir = NULL};
	CHECK(wal_open(&bad, &rc) == NULL);
	CHECK_INT(rc, ==, CLEW_EINVAL);
	char file[700];
	snprintf(file, sizeof file, "%s/plainfile", dir);
	CHECK_INT(write_file(file, "x", 1), ==, 0);
	struct wal_options notdir = {.dir = file};
	CHECK(wal_open(&notdir, &rc) == NULL);
	CHECK(rc < 0);
	/* a missing parent is created */
	char nested[700];
	snprintf(nested, sizeof nested, "%s/a/b/wal", dir);
	w = open_wal(nested, WAL_SYNC_GROUP, 0, NULL);
	CHECK(w);
	CHECK_INT(append_n(w, 0, 1, 10), ==, 0);
	wal_close(w);
}

/* ---- torn and corrupt files ---- */

/* Writes 5 records (the last of 40 bytes) and returns the segment's bytes
 * and the offset of the last record. */
static uint8_t *make_five(const char *dir, char *seg_path, size_t *size, size_t *last_off)
{
	struct wal *w = open_wal(dir, WAL_SYNC_NONE, 0, NULL);
	if (!w || append_n(w, 0, 4, 100) != 0 || append_n(w, 4, 1, 40) != 0)
		return NULL;
	wal_close(w);
	snprintf(seg_path, 700, "%s/wal-0000000000000001.log", dir);
	*last_off = 16 + 4 * 109;
	return read_file(seg_path, size);
}

TEST(wal_torn_tail_at_every_offset)
{
	const char *dir = test_tmpdir();
	char seg[700];
	size_t size, last_off;
	uint8_t *orig = make_five(dir, seg, &size, &last_off);
	CHECK(orig);
	CHECK_INT(size, ==, last_off + 49);
	for (size_t cut = last_off; cut < size; cut++) {
		remove_segments(dir);
		CHECK_INT(write_file(seg, orig, cut), ==, 0);
		struct recs rs = {0};
		struct wal_replay_result res;
		struct wal *w = open_wal(dir, WAL_SYNC_GROUP, 0, NULL);
		CHECK_INT(wal_replay(w, collect, &rs, &res), ==, 0);
		CHECK_INT(rs.n, ==, 4);
		CHECK_INT(res.truncated_bytes, ==, cut - last_off);
		if (cut > last_off)
			CHECK(strstr(res.truncated_file, "wal-0000000000000001.log") != NULL);
		CHECK_INT(path_size(seg), ==, last_off);
		uint64_t lsn = 0;
		CHECK_INT(wal_append(w, 2, SLICE_LIT("next"), &lsn), ==, 0);
		CHECK_INT(lsn, ==, 5);
		CHECK_INT(wal_close(w), ==, 0);
		recs_free(&rs);

		w = open_wal(dir, WAL_SYNC_GROUP, 0, NULL);
		CHECK_INT(wal_replay(w, collect, &rs, &res), ==, 0);
		CHECK_INT(res.truncated_bytes, ==, 0);
		CHECK_INT(rs.n, ==, 5);
		for (uint64_t i = 0; i < 4; i++) {
			CHECK_INT(rs.v[i].lsn, ==, i + 1);
			CHECK(payload_ok(&rs.v[i], 100, i));
		}
		CHECK_INT(rs.v[4].lsn, ==, 5);
		CHECK_INT(rs.v[4].type, ==, 2);
		CHECK_SLICE(slice_make(rs.v[4].p, rs.v[4].len), "next");
		wal_close(w);
		recs_free(&rs);
	}
	free(orig);
}

/* Replays dir expecting n_good records and a cut of `cut` bytes. */
static void expect_replay(const char *dir, size_t n_good, uint64_t cut)
{
	struct recs rs = {0};
	struct wal_replay_result res;
	struct wal *w = open_wal(dir, WAL_SYNC_GROUP, 0, NULL);
	CHECK(w);
	CHECK_INT(wal_replay(w, collect, &rs, &res), ==, 0);
	CHECK_INT(rs.n, ==, n_good);
	CHECK_INT(res.truncated_bytes, ==, cut);
	for (size_t i = 0; i < rs.n && i < 4; i++)
		CHECK(payload_ok(&rs.v[i], 100, i));
	uint64_t lsn;
	CHECK_INT(wal_append(w, 1, SLICE_LIT("z"), &lsn), ==, 0);
	CHECK_INT(lsn, ==, n_good + 1);
	CHECK_INT(wal_close(w), ==, 0);
	recs_free(&rs);
	w = open_wal(dir, WAL_SYNC_GROUP, 0, NULL);
	CHECK_INT(wal_replay(w, collect, &rs, &res), ==, 0);
	CHECK_INT(rs.n, ==, n_good + 1);
	CHECK_INT(res.truncated_bytes, ==, 0);
	wal_close(w);
	recs_free(&rs);
}

TEST(wal_bad_crc_bad_length_and_garbage_tail)
{
	const char *dir = test_tmpdir();
	char seg[700];
	size_t size, last_off;
	uint8_t *orig = make_five(dir, seg, &size, &last_off);
	CHECK(orig);
	uint8_t *p = malloc(size + 100);
	uint64_t n, bad;

	/* a flipped payload byte in the last record */
	memcpy(p, orig, size);
	p[size - 3] ^= 0x10;
	CHECK_INT(write_file(seg, p, size), ==, 0);
	CHECK_INT(wal_check_file(seg, &n, &bad), ==, CLEW_ECORRUPT);
	CHECK_INT(n, ==, 4);
	CHECK_INT(bad, ==, last_off);
	expect_replay(dir, 4, 49);

	/* a flipped type byte, and a length off by one */
	remove_segments(dir);
	memcpy(p, orig, size);
	p[last_off + 8] ^= 1;
	CHECK_INT(write_file(seg, p, size), ==, 0);
	expect_replay(dir, 4, 49);
	remove_segments(dir);
	memcpy(p, orig, size);
	p[last_off] -= 1;
	CHECK_INT(write_file(seg, p, size), ==, 0);
	expect_replay(dir, 4, 49);

	/* a huge length */
	remove_segments(dir);
	memcpy(p, orig, size);
	p[last_off + 3] = 0xff;
	CHECK_INT(write_file(seg, p, size), ==, 0);
	expect_replay(dir, 4, 49);

	/* garbage after the last record: random bytes, then zeros */
	remove_segments(dir);
	memcpy(p, orig, size);
	uint32_t seed = 99;
	for (size_t i = 0; i < 100; i++)
		p[size + i] = (uint8_t)rng_next(&seed);
	CHECK_INT(write_file(seg, p, size + 100), ==, 0);
	CHECK_INT(wal_check_file(seg, &n, &bad), ==, CLEW_ECORRUPT);
	CHECK_INT(n, ==, 5);
	CHECK_INT(bad, ==, size);
	expect_replay(dir, 5, 100);
	remove_segments(dir);
	memset(p + size, 0, 100);
	CHECK_INT(write_file(seg, p, size + 100), ==, 0);
	expect_replay(dir, 5, 100);

	CHECK_INT(wal_check_file("/nonexistent/wal-x.log", &n, &bad), ==, -ENOENT);
	free(p);
	free(orig);
}

TEST(wal_empty_header_only_and_bad_header)
{
	const char *dir = test_tmpdir();
	char seg[700];
	size_t size, last_off;
	uint8_t *orig = make_five(dir, seg, &size, &last_off);
	CHECK(orig);
	uint64_t n, bad;

	/* an empty last segment: rewritten, lsn continues from its name */
	remove_segments(dir);
	char seg9[700];
	snprintf(seg9, sizeof seg9, "%s/wal-0000000000000009.log", dir);
	CHECK_INT(write_file(seg9, "", 0), ==, 0);
	CHECK_INT(wal_check_file(seg9, &n, &bad), ==, CLEW_ECORRUPT);
	CHECK_INT(bad, ==, 0);
	struct recs rs = {0};
	struct wal_replay_result res;
	struct wal *w = open_wal(dir, WAL_SYNC_GROUP, 0, NULL);
	CHECK_INT(wal_replay(w, collect, &rs, &res), ==, 0);
	CHECK_INT(rs.n, ==, 0);
	CHECK_INT(path_size(seg9), ==, 16);
	uint64_t lsn;
	CHECK_INT(wal_append(w, 1, SLICE_LIT("a"), &lsn), ==, 0);
	CHECK_INT(lsn, ==, 9);
	wal_close(w);
	CHECK_INT(wal_check_file(seg9, &n, &bad), ==, 0);
	CHECK_INT(n, ==, 1);

	/* header only: a clean segment with no records */
	remove_segments(dir);
	CHECK_INT(write_file(seg, orig, 16), ==, 0);
	CHECK_INT(wal_check_file(seg, &n, &bad), ==, 0);
	CHECK_INT(n, ==, 0);
	expect_replay(dir, 0, 0);

	/* a torn header, and a header with a flipped bit */
	for (size_t cut = 1; cut < 16; cut += 7) {
		remove_segments(dir);
		CHECK_INT(write_file(seg, orig, cut), ==, 0);
		expect_replay(dir, 0, cut);
	}
	remove_segments(dir);
	uint8_t *p = malloc(size);
	memcpy(p, orig, size);
	p[9] ^= 4; /* the version */
	CHECK_INT(write_file(seg, p, size), ==, 0);
	expect_replay(dir, 0, size);
	free(p);
	free(orig);
}

TEST(wal_corrupt_older_segment_is_skipped)
{
	const char *dir = test_tmpdir();
	struct wal *w = open_wal(dir, WAL_SYNC_NONE, 1024, NULL);
	CHECK(w);
	/* 9 records of 100 bytes per 1 KiB segment */
	CHECK_INT(append_n(w, 0, 40, 100), ==, 0);
	wal_close(w);
	char names[256][32], first[700];
	int nseg = list_segments(dir, names, 256);
	CHECK_INT(nseg, ==, 5);
	snprintf(first, sizeof first, "%s/%s", dir, names[0]);
	size_t size;
	uint8_t *p = read_file(first, &size);
	CHECK(p);
	p[16 + 3 * 109 + 20] ^= 0xff; /* inside the 4th record */
	CHECK_INT(write_file(first, p, size), ==, 0);
	free(p);

	struct recs rs = {0};
	struct wal_replay_result res;
	w = open_wal(dir, WAL_SYNC_NONE, 1024, NULL);
	CHECK_INT(wal_replay(w, collect, &rs, &res), ==, 0);
	CHECK_INT(res.truncated_bytes, ==, 0);
	CHECK_INT(rs.n, ==, 40 - 6);
	for (uint64_t i = 0; i < 3; i++)
		CHECK_INT(rs.v[i].lsn, ==, i + 1);
	for (uint64_t k = 3; k < rs.n; k++) {
		uint64_t i = k + 6; /* records 4..9 of the first segment are gone */
		CHECK_INT(rs.v[k].lsn, ==, i + 1);
		CHECK(payload_ok(&rs.v[k], 100, i));
	}
	/* the older segment is left as it was */
	CHECK_INT(path_size(first), ==, size);
	uint64_t lsn;
	CHECK_INT(wal_append(w, 1, SLICE_LIT("more"), &lsn), ==, 0);
	CHECK_INT(lsn, ==, 41);
	wal_close(w);
	recs_free(&rs);
}

TEST(wal_remove_segments_before_lsn)
{
	const char *dir = test_tmpdir();
	struct wal *w = open_wal(dir, WAL_SYNC_NONE, 1024, NULL);
	CHECK_INT(append_n(w, 0, 40, 100), ==, 0); /* segments at 1, 10, 19, 28, 37 */
	CHECK_INT(wal_remove_segments_before(w, 9), ==, 0);
	CHECK_INT(wal_remove_segments_before(w, 10), ==, 1);
	CHECK_INT(wal_remove_segments_before(w, 27), ==, 1);
	char names[256][32];
	CHECK_INT(list_segments(dir, names, 256), ==, 3);
	CHECK_STR(names[0], "wal-0000000000000013.log"); /* 19 */
	CHECK_INT(wal_remove_segments_before(w, UINT64_MAX), ==, 2);
	CHECK_INT(list_segments(dir, names, 256), ==, 1);
	CHECK_INT(append_n(w, 40, 1, 100), ==, 0);
	wal_close(w);
	struct recs rs = {0};
	w = open_wal(dir, WAL_SYNC_NONE, 1024, NULL);
	CHECK_INT(wal_replay(w, collect, &rs, NULL), ==, 0);
	CHECK_INT(rs.n, ==, 5);
	CHECK_INT(rs.v[0].lsn, ==, 37);
	CHECK_INT(rs.v[4].lsn, ==, 41);
	wal_close(w);
	recs_free(&rs);
}

/* ---- failures ---- */

TEST(wal_fsync_failure_is_reported_and_recovers)
{
	const char *dir = test_tmpdir();
	/* sync 1 makes the segment; records 1, 2 are syncs 2, 3; record 3 fails */
	struct fileops_faults plan = {.fail_sync_at = 4, .fail_errno = EIO};
	struct fileops *ops = fileops_faulty(fileops_posix(), &plan);
	struct wal *w = open_wal(dir, WAL_SYNC_GROUP, 0, ops);
	CHECK(w);
	uint8_t buf[100];
	uint64_t lsn;
	int rcs[6];
	for (uint64_t i = 0; i < 6; i++) {
		fill_payload(buf, 100, i);
		rcs[i] = wal_append(w, 1, slice_make(buf, 100), &lsn);
		CHECK_INT(lsn, ==, i + 1);
	}
	CHECK_INT(rcs[0], ==, 0);
	CHECK_INT(rcs[1], ==, 0);
	CHECK_INT(rcs[2], ==, -EIO);
	CHECK_INT(rcs[3], ==, 0);
	CHECK_INT(rcs[5], ==, 0);
	struct wal_stats st;
	wal_get_stats(w, &st);
	CHECK_INT(st.sticky_err, ==, -EIO);
	CHECK_INT(st.records, ==, 5);
	CHECK_INT(wal_close(w), ==, 0);
	fileops_faulty_free(ops);
	char names[256][32];
	CHECK_INT(list_segments(dir, names, 256), ==, 2);
	CHECK_STR(names[1], "wal-0000000000000004.log");

	struct recs rs = {0};
	w = open_wal(dir, WAL_SYNC_GROUP, 0, NULL);
	CHECK_INT(wal_replay(w, collect, &rs, NULL), ==, 0);
	CHECK_INT(rs.n, ==, 5);
	uint64_t want[5] = {1, 2, 4, 5, 6};
	for (size_t k = 0; k < 5; k++) {
		CHECK_INT(rs.v[k].lsn, ==, want[k]);
		CHECK(payload_ok(&rs.v[k], 100, want[k] - 1));
	}
	wal_close(w);
	recs_free(&rs);
}

TEST(wal_fsync_failure_in_always_mode)
{
	const char *dir = test_tmpdir();
	struct fileops_faults plan = {.fail_sync_at = 3, .fail_errno = EIO};
	struct fileops *ops = fileops_faulty(fileops_posix(), &plan);
	struct wal *w = open_wal(dir, WAL_SYNC_ALWAYS, 0, ops);
	CHECK_INT(append_n(w, 0, 1, 10), ==, 0);
	CHECK_INT(append_n(w, 1, 1, 10), ==, -EIO);
	CHECK_INT(append_n(w, 2, 3, 10), ==, 0);
	wal_close(w);
	fileops_faulty_free(ops);
	struct recs rs = {0};
	w = open_wal(dir, WAL_SYNC_GROUP, 0, NULL);
	CHECK_INT(wal_replay(w, collect, &rs, NULL), ==, 0);
	CHECK_INT(rs.n, ==, 4);
	CHECK_INT(rs.v[0].lsn, ==, 1);
	CHECK_INT(rs.v[1].lsn, ==, 3);
	wal_close(w);
	recs_free(&rs);
}

TEST(wal_enospc_on_write_then_disk_frees_up)
{
	const char *dir = test_tmpdir();
	/* write 1 is the header; records 1, 2 are writes 2, 3 */
	struct fileops_faults plan = {.fail_write_at = 3, .fail_errno = ENOSPC};
	struct fileops *ops = fileops_faulty(fileops_posix(), &plan);
	struct wal *w = open_wal(dir, WAL_SYNC_GROUP, 0, ops);
	CHECK_INT(append_n(w, 0, 1, 100), ==, 0);
	CHECK_INT(append_n(w, 1, 1, 100), ==, -ENOSPC);
	/* the disk stays full for a while: even new segments cannot be made */
	for (uint64_t i = 2; i < 6; i++) {
		plan.fail_write_at = plan.writes + 1;
		CHECK_INT(append_n(w, i, 1, 100), ==, -ENOSPC);
	}
	plan.fail_write_at = 0;
	/* a short write is not an error */
	plan.short_write_at = plan.writes + 3;
	CHECK_INT(append_n(w, 6, 3, 100), ==, 0);
	wal_close(w);
	fileops_faulty_free(ops);

	struct recs rs = {0};
	w = open_wal(dir, WAL_SYNC_GROUP, 0, NULL);
	CHECK_INT(wal_replay(w, collect, &rs, NULL), ==, 0);
	CHECK_INT(rs.n, ==, 4);
	CHECK_INT(rs.v[0].lsn, ==, 1);
	for (size_t k = 1; k < 4; k++) {
		CHECK_INT(rs.v[k].lsn, ==, 6 + k);
		CHECK(payload_ok(&rs.v[k], 100, 5 + k));
	}
	wal_close(w);
	recs_free(&rs);
	/* failed segment creations left no files behind */
	char names[256][32];
	CHECK_INT(list_segments(dir, names, 256), ==, 2);
}

/* ---- threads: crash and group commit ---- */

#define T_PER_THREAD 200

struct appender {
	struct wal *w;
	int id;
	int ok[T_PER_THREAD];
	uint64_t lsn[T_PER_THREAD];
};

static void *appender_main(void *arg)
{
	struct appender *a = arg;
	uint8_t buf[64];
	for (int k = 0; k < T_PER_THREAD; k++) {
		size_t len = 8 + (size_t)((a->id * 7 + k) % 50);
		memset(buf, 0, sizeof buf);
		buf[0] = (uint8_t)a->id;
		buf[1] = (uint8_t)k;
		buf[2] = (uint8_t)(k >> 8);
		for (size_t j = 3; j < len; j++)
			buf[j] = (uint8_t)(a->id + k + j);
		a->ok[k] = wal_append(a->w, 1, slice_make(buf, len), &a->lsn[k]) == 0;
	}
	return NULL;
}

static void run_appenders(struct wal *w, struct appender *as, int n)
{
	pthread_t t[16];
	for (int i = 0; i < n; i++) {
		as[i].w = w;
		as[i].id = i;
		pthread_create(&t[i], NULL, appender_main, &as[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

/* Every acknowledged append of as[] is in rs, at its lsn, intact. */
static int acked_all_present(const struct appender *as, int n, const struct recs *rs, int *acked)
{
	*acked = 0;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < T_PER_THREAD; k++) {
			if (!as[i].ok[k])
				continue;
			++*acked;
			int found = 0;
			for (size_t r = 0; r < rs->n && !found; r++) {
				const struct rec *x = &rs->v[r];
				if (x->lsn != as[i].lsn[k])
					continue;
				size_t len = 8 + (size_t)((i * 7 + k) % 50);
				found = x->len == len && x->p[0] == i && x->p[1] == (uint8_t)k &&
					x->p[len - 1] == (uint8_t)(i + k + len - 1);
			}
			if (!found) {
				fprintf(stderr, "    acked record %d/%d (lsn %llu) lost\n", i, k,
					(unsigned long long)as[i].lsn[k]);
				return 0;
			}
		}
	return 1;
}

TEST(wal_crash_at_nth_sync_loses_no_acked_record)
{
	static struct appender as[4];
	uint64_t crash_points[] = {2, 7, 30, 90};
	char dir[700];
	for (size_t c = 0; c < sizeof crash_points / sizeof *crash_points; c++) {
		snprintf(dir, sizeof dir, "%s/crash%zu", test_tmpdir(), c);
		struct fileops_faults plan = {.crash_at_sync = crash_points[c]};
		struct fileops *ops = fileops_faulty(fileops_posix(), &plan);
		struct wal *w = open_wal(dir, WAL_SYNC_GROUP, 2048, ops);
		CHECK(w);
		memset(as, 0, sizeof as);
		run_appenders(w, as, 4);
		wal_close(w);
		fileops_faulty_free(ops);

		struct recs rs = {0};
		struct wal_replay_result res;
		w = open_wal(dir, WAL_SYNC_GROUP, 2048, NULL);
		CHECK(w);
		CHECK_INT(wal_replay(w, collect, &rs, &res), ==, 0);
		int acked = 0;
		CHECK(acked_all_present(as, 4, &rs, &acked));
		CHECK(acked < 4 * T_PER_THREAD); /* the crash did happen */
		/* lsns replay in increasing order */
		for (size_t r = 1; r < rs.n; r++)
			CHECK(rs.v[r].lsn > rs.v[r - 1].lsn);
		/* and the WAL goes on */
		uint64_t lsn;
		CHECK_INT(wal_append(w, 1, SLICE_LIT("after crash"), &lsn), ==, 0);
		CHECK(rs.n == 0 || lsn > rs.v[rs.n - 1].lsn);
		wal_close(w);
		recs_free(&rs);
	}
}

TEST(wal_group_commit_shares_fsyncs)
{
	static struct appender as[8];
	memset(as, 0, sizeof as);
	const char *dir = test_tmpdir();
	struct wal *w = open_wal(dir, WAL_SYNC_GROUP, 64 * 1024, NULL);
	CHECK(w);
	run_appenders(w, as, 8);
	struct wal_stats st;
	wal_get_stats(w, &st);
	CHECK_INT(st.records, ==, 8 * T_PER_THREAD);
	CHECK_INT(st.syncs, <, st.records);
	CHECK_INT(st.syncs, >, 0);
	CHECK(st.sync_ns_total > 0);
	CHECK_INT(st.sticky_err, ==, 0);
	CHECK_INT(wal_close(w), ==, 0);

	struct recs rs = {0};
	w = open_wal(dir, WAL_SYNC_GROUP, 64 * 1024, NULL);
	CHECK_INT(wal_replay(w, collect, &rs, NULL), ==, 0);
	CHECK_INT(rs.n, ==, 8 * T_PER_THREAD);
	int acked = 0;
	CHECK(acked_all_present(as, 8, &rs, &acked));
	CHECK_INT(acked, ==, 8 * T_PER_THREAD);
	for (size_t r = 0; r < rs.n; r++)
		CHECK_INT(rs.v[r].lsn, ==, r + 1);
	wal_close(w);
	recs_free(&rs);
}
