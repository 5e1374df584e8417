/* The file-ops interface all store I/O goes through (SQLite's VFS idea), so
 * tests can inject short writes, EIO, ENOSPC and a crash at the Nth sync.
 * fileops_posix() is the real one; fileops_faulty() wraps another. */
#ifndef CLEW_STORE_FILEOPS_H
#define CLEW_STORE_FILEOPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fileops {
	/* Each returns >= 0 on success or -errno, like the syscalls they wrap. */
	int (*open)(struct fileops *ops, const char *path, int flags, int mode);
	ssize_t (*pwrite)(struct fileops *ops, int fd, const void *p, size_t n, off_t off);
	ssize_t (*pread)(struct fileops *ops, int fd, void *p, size_t n, off_t off);
	int (*fsync)(struct fileops *ops, int fd);
	int (*ftruncate)(struct fileops *ops, int fd, off_t len);
	int (*close)(struct fileops *ops, int fd);
	int (*rename)(struct fileops *ops, const char *from, const char *to);
	int (*unlink)(struct fileops *ops, const char *path);
	int (*fsync_dir)(struct fileops *ops, const char *dir);
	int (*file_size)(struct fileops *ops, int fd, off_t *out);
};

/* The real POSIX implementation; a static object, never freed. */
struct fileops *fileops_posix(void);

/* Fault injection for tests: wraps inner. Counters are 1-based; 0 = never. */
struct fileops_faults {
	uint64_t fail_write_at;	  /* the Nth pwrite fails with fail_errno */
	uint64_t short_write_at;  /* the Nth pwrite writes only half */
	uint64_t fail_sync_at;	  /* the Nth fsync fails with fail_errno */
	uint64_t crash_at_sync;	  /* at the Nth fsync: drop unsynced bytes, then fail every call */
	int fail_errno;		  /* EIO, ENOSPC ... */
	/* statistics, read by tests */
	uint64_t writes, syncs;
};

/* A faulty fileops over inner with the given plan. Owned by the caller
 * (free with fileops_faulty_free). "Crash" truncates each file to the length
 * it had at its last successful fsync, the state after power loss. */
struct fileops *fileops_faulty(struct fileops *inner, struct fileops_faults *plan);
void fileops_faulty_free(struct fileops *ops);

/* Write all n bytes at off through ops (looping over short writes).
 * 0 or -errno. */
int fileops_write_all(struct fileops *ops, int fd, const void *p, size_t n, off_t off);

#endif
