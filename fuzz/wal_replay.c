/* Fuzz target for WAL replay: the input is written as the only segment of
 * a WAL in a temporary directory, which is opened and replayed. Replay must
 * never crash, and must leave a file that replays again cleanly with the
 * same records and accepts a further append. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/log.h"
#include "store/wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	uint64_t lsn;
	uint8_t type;
	size_t len;
	uint32_t crc;
};

struct seen_list {
	struct seen *v;
	size_t n, cap;
};

static int note(void *ctx, uint8_t type, struct slice payload, uint64_t lsn)
{
	struct seen_list *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (!l->v)
			abort();
	}
	l->v[l->n++] = (struct seen){lsn, type, payload.len, crc32c(0, payload.p, payload.len)};
	return 0;
}

/* The first n records of x and y agree. */
static int same_prefix(const struct seen_list *x, const struct seen_list *y, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct seen *p = &x->v[i], *q = &y->v[i];
		if (p->lsn != q->lsn || p->type != q->type || p->len != q->len || p->crc != q->crc)
			return 0;
	}
	return 1;
}

static char dir[512];
static char seg[600];

static void clear_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
}

static struct wal *open_replay(struct seen_list *l, struct wal_replay_result *res)
{
	struct wal_options o = {.dir = dir, .sync = WAL_SYNC_NONE, .max_record_bytes = 1 << 20};
	int rc;
	struct wal *w = wal_open(&o, &rc);
	if (!w)
		abort();
	if (wal_replay(w, note, l, res) != 0)
		abort();
	return w;
}

static void rm_dir(void)
{
	clear_dir();
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/clew-fuzz-wal-XXXXXX", base && base[0] ? base : "/tmp");
		if (!mkdtemp(dir))
			abort();
		snprintf(seg, sizeof seg, "%s/wal-0000000000000001.log", dir);
		log_set_level(LOG_ERROR);
		atexit(rm_dir);
	}
	clear_dir();
	FILE *f = fopen(seg, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();

	struct seen_list a = {0}, b = {0}, c = {0};
	struct wal_replay_result res;
	struct wal *w = open_replay(&a, &res);
	if (res.records != a.n)
		abort();
	wal_close(w);

	/* the second replay finds exactly the same records and nothing to cut */
	w = open_replay(&b, &res);
	if (res.truncated_bytes != 0 || b.n != a.n || !same_prefix(&a, &b, a.n))
		abort();
	uint64_t lsn;
	if (wal_append(w, 7, SLICE_LIT("after replay"), &lsn) != 0)
		abort();
	if (a.n && lsn <= a.v[a.n - 1].lsn)
		abort();
	if (wal_close(w) != 0)
		abort();

	/* and the append lands after them */
	w = open_replay(&c, &res);
	if (res.truncated_bytes != 0 || c.n != a.n + 1 || !same_prefix(&a, &c, a.n) ||
	    c.v[a.n].lsn != lsn || c.v[a.n].type != 7)
		abort();
	wal_close(w);
	uint64_t n, bad;
	if (wal_check_file(seg, &n, &bad) != 0 || n != c.n)
		abort();
	free(a.v);
	free(b.v);
	free(c.v);
	return 0;
}
