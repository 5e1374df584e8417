/* clew check DIR: verifies every WAL segment and every block of a data
 * directory and names the first bad offset of each bad file. With --repair
 * it truncates WAL segments at their first bad record and sets corrupt
 * blocks aside (renamed *.corrupt), saying how much each repair dropped.
 * Exit status: 0 all sound (or repaired), 1 damage found and not repaired,
 * 2 usage or I/O error. A torn tail in the newest WAL segment (what a crash
 * during a write leaves, never acknowledged) is reported but is not damage.
 * Run it with clew stopped. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "cli/cli.h"
#include "store/block.h"
#include "store/fileops.h"
#include "store/wal.h"

struct check_totals {
	int files, bad, repaired, errors;
	uint64_t wal_records, blocks, spans, dropped_bytes;
};

static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);
	return n >= m && strcmp(name + n - m, suffix) == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir ending with suffix, sorted; *n gets the count. NULL and
 * *n = 0 when the directory does not exist. Free with free_names. */
static char **list_dir(const char *dir, const char *suffix, int *n)
{
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char **names = NULL;
	int cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!has_suffix(e->d_name, suffix))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, (size_t)cap * sizeof *names);
			if (!nn)
				break;
			names = nn;
		}
		names[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	if (names)
		qsort(names, (size_t)*n, sizeof *names, cmp_names);
	return names;
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Cut a WAL segment at bad_offset and sync it. */
static int truncate_segment(const char *path, uint64_t bad_offset, uint64_t *dropped)
{
	struct fileops *ops = fileops_posix();
	int fd = ops->open(ops, path, O_RDWR, 0);
	if (fd < 0)
		return fd;
	off_t size = 0;
	int rc = ops->file_size(ops, fd, &size);
	if (rc == 0 && (uint64_t)size > bad_offset) {
		*dropped = (uint64_t)size - bad_offset;
		rc = ops->ftruncate(ops, fd, (off_t)bad_offset);
		if (rc == 0)
			rc = ops->fsync(ops, fd);
	}
	ops->close(ops, fd);
	return rc;
}

static void check_wal(const char *data_dir, bool repair, struct check_totals *t)
{
	char dir[4096], path[4352];
	snprintf(dir, sizeof dir, "%s/wal", data_dir);
	int n;
	char **names = list_dir(dir, ".log", &n);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		uint64_t records = 0, bad = 0;
		int rc = wal_check_file(path, &records, &bad);
		t->files++;
		t->wal_records += records;
		if (rc == 0) {
			printf("ok       %s: %llu records\n", path, (unsigned long long)records);
			continue;
		}
		if (rc != CLEW_ECORRUPT) {
			printf("error    %s: %s\n", path, err_str(rc));
			t->errors++;
			continue;
		}
		/* A crash during a write leaves a short header or a torn last record
		 * in the newest segment; that was never acknowledged, and clew cuts it
		 * on start. Damage with intact records after it is corruption. */
		bool torn = i == n - 1 && wal_damage_is_tail(path, bad);
		if (torn) {
			struct stat st;
			uint64_t size = stat(path, &st) == 0 ? (uint64_t)st.st_size : bad;
			printf("ok       %s: %llu records, then a torn tail from a crash at offset %llu (%llu bytes, "
			       "never acknowledged; cut when clew starts)\n",
			       path, (unsigned long long)records, (unsigned long long)bad,
			       (unsigned long long)(size - bad));
			if (!repair)
				continue;
		} else {
			t->bad++;
			printf("corrupt  %s: first bad record at offset %llu (%llu good records before it)\n", path,
			       (unsigned long long)bad, (unsigned long long)records);
			if (!repair)
				continue;
		}
		uint64_t dropped = 0;
		rc = truncate_segment(path, bad, &dropped);
		if (rc < 0) {
			printf("error    %s: cannot truncate: %s\n", path, err_str(rc));
			t->errors++;
		} else {
			printf("repaired %s: truncated at offset %llu, %llu bytes dropped\n", path,
			       (unsigned long long)bad, (unsigned long long)dropped);
			if (!torn)
				t->repaired++;
			t->dropped_bytes += dropped;
		}
	}
	free_names(names, n);
}

static void check_blocks(const char *data_dir, bool repair, struct check_totals *t)
{
	char dir[4096], path[4352], aside[4400], err[512];
	snprintf(dir, sizeof dir, "%s/blocks", data_dir);
	int n;
	char **names = list_dir(dir, ".blk", &n);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		uint64_t bad = 0;
		err[0] = 0;
		int rc = block_check(fileops_posix(), path, err, sizeof err, &bad);
		t->files++;
		if (rc == 0) {
			int orc;
			struct block *b = block_open(fileops_posix(), path, &orc, err, sizeof err);
			struct block_info info = {0};
			if (b) {
				block_get_info(b, &info);
				block_unref(b);
			}
			t->blocks++;
			t->spans += info.spans;
			printf("ok       %s: %llu spans in %llu traces\n", path, (unsigned long long)info.spans,
			       (unsigned long long)info.traces);
			continue;
		}
		if (rc != CLEW_ECORRUPT) {
			printf("error    %s: %s\n", path, err_str(rc));
			t->errors++;
			continue;
		}
		t->bad++;
		printf("corrupt  %s: first bad offset %llu: %s\n", path, (unsigned long long)bad, err);
		if (!repair)
			continue;
		struct stat st;
		uint64_t size = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
		snprintf(aside, sizeof aside, "%s.corrupt", path);
		if (rename(path, aside) < 0) {
			printf("error    %s: cannot set aside: %s\n", path, strerror(errno));
			t->errors++;
		} else {
			printf("repaired %s: set aside as %s (%llu bytes no longer read)\n", path, aside,
			       (unsigned long long)size);
			t->repaired++;
			t->dropped_bytes += size;
		}
	}
	free_names(names, n);
	if (t->repaired)
		fileops_posix()->fsync_dir(fileops_posix(), dir);
}

static void check_usage(FILE *f)
{
	fputs("usage: clew check [--repair] DIR\n"
	      "\n"
	      "Verifies every WAL record and every block of the data directory DIR\n"
	      "(checksums, structure, index consistency) and names the first bad offset\n"
	      "in each bad file. Run it while clew is stopped.\n"
	      "\n"
	      "  --repair    truncate WAL segments at their first bad record and set\n"
	      "              corrupt blocks aside (renamed *.corrupt), losing only what\n"
	      "              is corrupt, and say how much each repair dropped\n"
	      "  -h, --help  show this text\n"
	      "\n"
	      "Exit status: 0 sound (or repaired), 1 damage found, 2 usage or I/O error.\n",
	      f);
}

int cli_check(int argc, char **argv)
{
	bool repair = false;
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--repair") == 0) {
			repair = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			check_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || dir) {
			fprintf(stderr, "clew check: unexpected argument '%s' (see clew check --help)\n", argv[i]);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (!dir) {
		check_usage(stderr);
		return 2;
	}
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "clew check: %s is not a directory\n", dir);
		return 2;
	}
	struct check_totals t = {0};
	check_wal(dir, repair, &t);
	check_blocks(dir, repair, &t);
	printf("%d files: %llu WAL records, %llu blocks holding %llu spans; %d corrupt", t.files,
	       (unsigned long long)t.wal_records, (unsigned long long)t.blocks, (unsigned long long)t.spans, t.bad);
	if (repair)
		printf(", %d repaired (%llu bytes dropped)", t.repaired, (unsigned long long)t.dropped_bytes);
	printf("\n");
	if (t.errors)
		return 2;
	if (t.bad > t.repaired)
		return 1;
	return 0;
}
