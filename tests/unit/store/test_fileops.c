/* Unit tests of the file-ops layer: the POSIX ops, fileops_write_all over
 * short writes, and the fault injection the WAL crash tests rely on. */
#include "../../testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/fileops.h"

static off_t path_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_size : -1;
}

TEST(fileops_posix_round_trip)
{
	struct fileops *ops = fileops_posix();
	char path[600], path2[600];
	snprintf(path, sizeof path, "%s/a", test_tmpdir());
	snprintf(path2, sizeof path2, "%s/b", test_tmpdir());
	CHECK_INT(ops->open(ops, path, O_RDONLY, 0), ==, -ENOENT);
	int fd = ops->open(ops, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK_INT(fileops_write_all(ops, fd, "hello world", 11, 0), ==, 0);
	CHECK_INT(fileops_write_all(ops, fd, "HELLO", 5, 6), ==, 0);
	CHECK_INT(ops->fsync(ops, fd), ==, 0);
	off_t size = 0;
	CHECK_INT(ops->file_size(ops, fd, &size), ==, 0);
	CHECK_INT(size, ==, 11);
	char back[16] = {0};
	CHECK_INT(ops->pread(ops, fd, back, sizeof back, 0), ==, 11);
	CHECK(memcmp(back, "hello HELLO", 11) == 0);
	CHECK_INT(ops->ftruncate(ops, fd, 5), ==, 0);
	CHECK_INT(ops->file_size(ops, fd, &size), ==, 0);
	CHECK_INT(size, ==, 5);
	CHECK_INT(ops->close(ops, fd), ==, 0);
	CHECK_INT(ops->pwrite(ops, fd, "x", 1, 0), ==, -EBADF);
	CHECK_INT(ops->fsync(ops, fd), ==, -EBADF);
	CHECK_INT(ops->rename(ops, path, path2), ==, 0);
	CHECK_INT(path_size(path), ==, -1);
	CHECK_INT(path_size(path2), ==, 5);
	CHECK_INT(ops->fsync_dir(ops, test_tmpdir()), ==, 0);
	CHECK_INT(ops->fsync_dir(ops, path2), ==, -ENOTDIR);
	CHECK_INT(ops->unlink(ops, path2), ==, 0);
	CHECK_INT(ops->unlink(ops, path2), ==, -ENOENT);
	CHECK_INT(ops->rename(ops, path, path2), ==, -ENOENT);
}

TEST(fileops_write_all_survives_short_writes)
{
	struct fileops_faults plan = {.short_write_at = 1};
	struct fileops *ops = fileops_faulty(fileops_posix(), &plan);
	char path[600];
	snprintf(path, sizeof path, "%s/short", test_tmpdir());
	int fd = ops->open(ops, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	/* a raw pwrite is cut in half */
	CHECK_INT(ops->pwrite(ops, fd, "abcdefgh", 8, 0), ==, 4);
	plan.short_write_at = plan.writes + 1;
	CHECK_INT(fileops_write_all(ops, fd, "0123456789", 10, 0), ==, 0);
	CHECK_INT(plan.writes, >=, 3);
	char back[10];
	CHECK_INT(ops->pread(ops, fd, back, 10, 0), ==, 10);
	CHECK(memcmp(back, "0123456789", 10) == 0);
	ops->close(ops, fd);
	fileops_faulty_free(ops);
}

TEST(fileops_faulty_fails_nth_write_and_sync)
{
	struct fileops_faults plan = {.fail_write_at = 2, .fail_sync_at = 2, .fail_errno = ENOSPC};
	struct fileops *ops = fileops_faulty(fileops_posix(), &plan);
	char path[600];
	snprintf(path, sizeof path, "%s/f", test_tmpdir());
	int fd = ops->open(ops, path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK_INT(fileops_write_all(ops, fd, "aaaa", 4, 0), ==, 0);
	CHECK_INT(fileops_write_all(ops, fd, "bbbb", 4, 4), ==, -ENOSPC);
	CHECK_INT(path_size(path), ==, 4); /* the failed write wrote nothing */
	CHECK_INT(fileops_write_all(ops, fd, "cccc", 4, 4), ==, 0);
	CHECK_INT(ops->fsync(ops, fd), ==, 0);
	CHECK_INT(ops->fsync(ops, fd), ==, -ENOSPC);
	CHECK_INT(ops->fsync(ops, fd), ==, 0);
	CHECK_INT(plan.writes, ==, 3);
	CHECK_INT(plan.syncs, ==, 3);
	ops->close(ops, fd);
	fileops_faulty_free(ops);

	/* fail_errno 0 means EIO */
	struct fileops_faults plan2 = {.fail_write_at = 1};
	ops = fileops_faulty(fileops_posix(), &plan2);
	fd = ops->open(ops, path, O_RDWR, 0);
	CHECK(fd >= 0);
	CHECK_INT(ops->pwrite(ops, fd, "x", 1, 0), ==, -EIO);
	ops->close(ops, fd);
	fileops_faulty_free(ops);
}

TEST(fileops_faulty_crash_drops_unsynced_bytes)
{
	struct fileops_faults plan = {.crash_at_sync = 3};
	struct fileops *ops = fileops_faulty(fileops_posix(), &plan);
	char a[600], b[600], c[600], d[600];
	snprintf(a, sizeof a, "%s/a", test_tmpdir());
	snprintf(b, sizeof b, "%s/b", test_tmpdir());
	snprintf(c, sizeof c, "%s/c", test_tmpdir());
	snprintf(d, sizeof d, "%s/d", test_tmpdir());
	/* c exists before and is only read: the crash leaves it alone */
	int fc = fileops_posix()->open(fileops_posix(), c, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fc >= 0);
	CHECK_INT(fileops_write_all(fileops_posix(), fc, "keep", 4, 0), ==, 0);
	fileops_posix()->close(fileops_posix(), fc);
	fc = ops->open(ops, c, O_RDONLY, 0);
	CHECK(fc >= 0);

	int fa = ops->open(ops, a, O_RDWR | O_CREAT | O_TRUNC, 0644);
	int fb = ops->open(ops, b, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fa >= 0 && fb >= 0);
	CHECK_INT(fileops_write_all(ops, fa, "synced", 6, 0), ==, 0);
	CHECK_INT(ops->fsync(ops, fa), ==, 0); /* sync 1 */
	CHECK_INT(fileops_write_all(ops, fa, "-lost", 5, 6), ==, 0);
	CHECK_INT(fileops_write_all(ops, fb, "never synced", 12, 0), ==, 0);
	/* b is renamed to d: the crash must follow the new name */
	CHECK_INT(ops->rename(ops, b, d), ==, 0);
	CHECK_INT(ops->close(ops, fb), ==, 0);
	CHECK_INT(ops->fsync_dir(ops, test_tmpdir()), ==, 0); /* not counted */
	CHECK_INT(path_size(a), ==, 11);
	CHECK_INT(ops->fsync(ops, fc), ==, 0); /* sync 2 */
	CHECK_INT(ops->fsync(ops, fa), ==, -EIO); /* sync 3: the crash */
	CHECK_INT(path_size(a), ==, 6);
	CHECK_INT(path_size(d), ==, 0);
	CHECK_INT(path_size(c), ==, 4);
	/* every later call fails */
	char buf[4];
	CHECK_INT(ops->pwrite(ops, fa, "z", 1, 0), ==, -EIO);
	CHECK_INT(ops->pread(ops, fa, buf, 1, 0), ==, -EIO);
	CHECK_INT(ops->fsync(ops, fa), ==, -EIO);
	CHECK_INT(ops->open(ops, a, O_RDONLY, 0), ==, -EIO);
	CHECK_INT(ops->ftruncate(ops, fa, 0), ==, -EIO);
	CHECK_INT(ops->unlink(ops, a), ==, -EIO);
	CHECK_INT(ops->fsync_dir(ops, test_tmpdir()), ==, -EIO);
	off_t size;
	CHECK_INT(ops->file_size(ops, fa, &size), ==, -EIO);
	CHECK_INT(ops->close(ops, fa), ==, -EIO);
	CHECK_INT(ops->close(ops, fc), ==, -EIO);
	CHECK_INT(path_size(a), ==, 6);
	/* the descriptors were released all the same */
	CHECK_INT(fcntl(fa, F_GETFD), ==, -1);
	fileops_faulty_free(ops);
}
