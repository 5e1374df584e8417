/* The file-ops layer under every store write: fileops_posix() wraps the
 * syscalls (retrying EINTR), fileops_faulty() wraps another fileops and
 * injects failed writes and syncs, short writes and a simulated power loss
 * at the Nth fsync, so the WAL and block writers can be crash-tested. */
#include "store/fileops.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"

/* ---- POSIX ---- */

static int posix_open(struct fileops *ops, const char *path, int flags, int mode)
{
	int fd;
	do
		fd = open(path, flags | O_CLOEXEC, (mode_t)mode);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

static ssize_t posix_pwrite(struct fileops *ops, int fd, const void *p, size_t n, off_t off)
{
	ssize_t r;
	do
		r = pwrite(fd, p, n, off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static ssize_t posix_pread(struct fileops *ops, int fd, void *p, size_t n, off_t off)
{
	ssize_t r;
	do
		r = pread(fd, p, n, off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int posix_fsync(struct fileops *ops, int fd)
{
	int r;
	do
		r = fsync(fd);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static int posix_ftruncate(struct fileops *ops, int fd, off_t len)
{
	int r;
	do
		r = ftruncate(fd, len);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static int posix_close(struct fileops *ops, int fd)
{
	/* Linux releases the descriptor even when close reports EINTR, so a
	 * retry could close someone else's file: never retry. */
	if (close(fd) < 0 && errno != EINTR)
		return -errno;
	return 0;
}

static int posix_rename(struct fileops *ops, const char *from, const char *to)
{
	return rename(from, to) < 0 ? -errno : 0;
}

static int posix_unlink(struct fileops *ops, const char *path)
{
	return unlink(path) < 0 ? -errno : 0;
}

static int posix_fsync_dir(struct fileops *ops, const char *dir)
{
	int fd = posix_open(ops, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	int rc = posix_fsync(ops, fd);
	posix_close(ops, fd);
	return rc;
}

static int posix_file_size(struct fileops *ops, int fd, off_t *out)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	*out = st.st_size;
	return 0;
}

static struct fileops posix_ops = {
	.open = posix_open,
	.pwrite = posix_pwrite,
	.pread = posix_pread,
	.fsync = posix_fsync,
	.ftruncate = posix_ftruncate,
	.close = posix_close,
	.rename = posix_rename,
	.unlink = posix_unlink,
	.fsync_dir = posix_fsync_dir,
	.file_size = posix_file_size,
};

struct fileops *fileops_posix(void)
{
	return &posix_ops;
}

int fileops_write_all(struct fileops *ops, int fd, const void *p, size_t n, off_t off)
{
	const uint8_t *cur = p;
	while (n > 0) {
		ssize_t r = ops->pwrite(ops, fd, cur, n, off);
		if (r < 0)
			return (int)r;
		if (r == 0)
			return -EIO; /* no progress: never spin */
		cur += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

/* ---- Fault injection ----
 * Every file the faulty ops open is tracked by path with the length it had
 * at its last successful fsync; a "crash" cuts each written file back to that
 * length through the inner ops. One mutex serialises all calls, so a crash
 * is atomic with respect to concurrent writers. */

struct faulty_file {
	char *path;
	off_t synced_len;
	int written;
};

struct faulty {
	struct fileops ops; /* first: the public pointer is cast back */
	struct fileops *inner;
	struct fileops_faults *plan;
	pthread_mutex_t mu;
	int crashed;
	struct faulty_file *files;
	size_t n_files, cap_files;
	int *fd_file; /* fd -> index in files, -1 if untracked */
	size_t n_fd;
};

static struct faulty *faulty_of(struct fileops *ops)
{
	return (struct faulty *)ops;
}

static int fault_errno(const struct faulty *f)
{
	return f->plan->fail_errno ? f->plan->fail_errno : EIO;
}

static struct faulty_file *faulty_file_by_fd(struct faulty *f, int fd)
{
	if (fd < 0 || (size_t)fd >= f->n_fd || f->fd_file[fd] < 0)
		return NULL;
	return &f->files[f->fd_file[fd]];
}

static int faulty_find_path(struct faulty *f, const char *path)
{
	for (size_t i = 0; i < f->n_files; i++)
		if (f->files[i].path && strcmp(f->files[i].path, path) == 0)
			return (int)i;
	return -1;
}

static void faulty_track(struct faulty *f, int fd, const char *path, off_t size)
{
	int idx = faulty_find_path(f, path);
	if (idx < 0) {
		if (f->n_files == f->cap_files) {
			f->cap_files = f->cap_files ? f->cap_files * 2 : 16;
			f->files = xrealloc(f->files, f->cap_files * sizeof *f->files);
		}
		idx = (int)f->n_files++;
		f->files[idx] = (struct faulty_file){.path = xstrdup(path)};
	}
	f->files[idx].synced_len = size;
	if ((size_t)fd >= f->n_fd) {
		size_t n = (size_t)fd + 16;
		f->fd_file = xrealloc(f->fd_file, n * sizeof *f->fd_file);
		for (size_t i = f->n_fd; i < n; i++)
			f->fd_file[i] = -1;
		f->n_fd = n;
	}
	f->fd_file[fd] = idx;
}

/* Power loss: every file written through us goes back to its synced length. */
static void faulty_crash(struct faulty *f)
{
	f->crashed = 1;
	for (size_t i = 0; i < f->n_files; i++) {
		struct faulty_file *ff = &f->files[i];
		if (!ff->path || !ff->written)
			continue;
		int fd = f->inner->open(f->inner, ff->path, O_WRONLY, 0);
		if (fd < 0)
			continue;
		f->inner->ftruncate(f->inner, fd, ff->synced_len);
		f->inner->close(f->inner, fd);
	}
}

static int faulty_open(struct fileops *ops, const char *path, int flags, int mode)
{
	struct faulty *f = faulty_of(ops);
	pthread_mutex_lock(&f->mu);
	int fd = -EIO;
	if (f->crashed)
		goto out;
	fd = f->inner->open(f->inner, path, flags, mode);
	if (fd >= 0 && !(flags & O_DIRECTORY)) {
		off_t size = 0;
		f->inner->file_size(f->inner, fd, &size);
		faulty_track(f, fd, path, size);
	}
out:
	pthread_mutex_unlock(&f->mu);
	return fd;
}

static ssize_t faulty_pwrite(struct fileops *ops, int fd, const void *p, size_t n, off_t off)
{
	struct faulty *f = faulty_of(ops);
	pthread_mutex_lock(&f->mu);
	ssize_t r = -EIO;
	if (f->crashed)
		goto out;
	uint64_t nth = ++f->plan->writes;
	if (nth == f->plan->fail_write_at) {
		r = -fault_errno(f);
		goto out;
	}
	if (nth == f->plan->short_write_at && n > 1)
		n /= 2;
	r = f->inner->pwrite(f->inner, fd, p, n, off);
	struct faulty_file *ff = faulty_file_by_fd(f, fd);
	if (r > 0 && ff)
		ff->written = 1;
out:
	pthread_mutex_unlock(&f->mu);
	return r;
}

static ssize_t faulty_pread(struct fileops *ops, int fd, void *p, size_t n, off_t off)
{
	struct faulty *f = faulty_of(ops);
	pthread_mutex_lock(&f->mu);
	ssize_t r = f->crashed ? -EIO : f->inner->pread(f->inner, fd, p, n, off);
	pthread_mutex_unlock(&f->mu);
	return r;
}

static int faulty_fsync(struct fileops *ops, int fd)
{
	struct faulty *f = faulty_of(ops);
	pthread_mutex_lock(&f->mu);
	int rc = -EIO;
	if (f->crashed)
		goto out;
	uint64_t nth = ++f->plan->syncs;
	if (nth == f->plan->crash_at_sync) {
		faulty_crash(f);
		goto out;
	}
	if (nth == f->plan->fail_sync_at) {
		/* the unsynced bytes stay unsynced: a later crash drops them */
		rc = -fault_errno(f);
		goto out;
	}
	rc = f->inner->fsync(f->inner, fd);
	struct faulty_file *ff = faulty_file_by_fd(f, fd);
	off_t size;
	if (rc == 0 && ff && f->inner->file_size(f->inner, fd, &size) == 0)
		ff->synced_len = size;
out:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int faulty_ftruncate(struct fileops *ops, int fd, off_t len)
{
	struct faulty *f = faulty_of(ops);
	pthread_mutex_lock(&f->mu);
	int rc = -EIO;
	if (f->crashed)
		goto out;
	rc = f->inner->ftruncate(f->inner, fd, len);
	struct faulty_file *ff = faulty_file_by_fd(f, fd);
	if (rc == 0 && ff) {
		ff->written = 1;
		if (ff->synced_len > len)
			ff->synced_len = len;
	}
out:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int faulty_close(struct fileops *ops, int fd)
{
	struct faulty *f = faulty_of(ops);
	pthread_mutex_lock(&f->mu);
	/* after a crash the descriptor is still released, so nothing leaks */
	int rc = f->inner->close(f->inner, fd);
	if (fd >= 0 && (size_t)fd < f->n_fd)
		f->fd_file[fd] = -1;
	if (f->crashed)
		rc = -EIO;
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int faulty_rename(struct fileops *ops, const char *from, const char *to)
{
	struct faulty *f = faulty_of(ops);
	pthread_mutex_lock(&f->mu);
	int rc = f->crashed ? -EIO : f->inner->rename(f->inner, from, to);
	if (rc == 0) {
		int old = faulty_find_path(f, to);
		if (old >= 0) {
			free(f->files[old].path);
			f->files[old].path = NULL;
		}
		int idx = faulty_find_path(f, from);
		if (idx >= 0) {
			free(f->files[idx].path);
			f->files[idx].path = xstrdup(to);
		}
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int faulty_unlink(struct fileops *ops, const char *path)
{
	struct faulty *f = faulty_of(ops);
	pthread_mutex_lock(&f->mu);
	int rc = f->crashed ? -EIO : f->inner->unlink(f->inner, path);
	int idx = rc == 0 ? faulty_find_path(f, path) : -1;
	if (idx >= 0) {
		free(f->files[idx].path);
		f->files[idx].path = NULL;
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int faulty_fsync_dir(struct fileops *ops, const char *dir)
{
	struct faulty *f = faulty_of(ops);
	pthread_mutex_lock(&f->mu);
	int rc = f->crashed ? -EIO : f->inner->fsync_dir(f->inner, dir);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int faulty_file_size(struct fileops *ops, int fd, off_t *out)
{
	struct faulty *f = faulty_of(ops);
	pthread_mutex_lock(&f->mu);
	int rc = f->crashed ? -EIO : f->inner->file_size(f->inner, fd, out);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

struct fileops *fileops_faulty(struct fileops *inner, struct fileops_faults *plan)
{
	struct faulty *f = xcalloc(1, sizeof *f);
	f->ops = (struct fileops){
		.open = faulty_open,
		.pwrite = faulty_pwrite,
		.pread = faulty_pread,
		.fsync = faulty_fsync,
		.ftruncate = faulty_ftruncate,
		.close = faulty_close,
		.rename = faulty_rename,
		.unlink = faulty_unlink,
		.fsync_dir = faulty_fsync_dir,
		.file_size = faulty_file_size,
	};
	f->inner = inner;
	f->plan = plan;
	pthread_mutex_init(&f->mu, NULL);
	return &f->ops;
}

void fileops_faulty_free(struct fileops *ops)
{
	if (!ops)
		return;
	struct faulty *f = faulty_of(ops);
	for (size_t i = 0; i < f->n_files; i++)
		free(f->files[i].path);
	free(f->files);
	free(f->fd_file);
	pthread_mutex_destroy(&f->mu);
	free(f);
}
