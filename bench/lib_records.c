/* Record files, /proc readings and quantiles for the benchmarks. */
#include "lib_records.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"

int rec_open(struct rec_file *f, const char *path)
{
	memset(f, 0, sizeof *f);
	f->fd = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		f->fd = fd;
		return 0;
	}
	f->len = (size_t)st.st_size;
	if (f->len) {
		void *m = mmap(NULL, f->len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			rc = -errno;
			goto out;
		}
		madvise(m, f->len, MADV_SEQUENTIAL);
		f->p = m;
	}
out:
	close(fd);
	return rc;
}

/* Read exactly n bytes from a pipe: 1, 0 at a clean end, or CLEW_EPARSE. */
static int read_full(int fd, uint8_t *p, size_t n, int at_start)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return got == 0 && at_start ? 0 : CLEW_EPARSE;
		got += (size_t)r;
	}
	return 1;
}

static int rec_next_stream(struct rec_file *f, struct slice *out)
{
	uint8_t h[4];
	int r = read_full(f->fd, h, 4, 1);
	if (r <= 0)
		return r;
	size_t n = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
	if (n > f->cap) {
		uint8_t *b = realloc(f->buf, n);
		if (!b)
			return CLEW_ENOMEM;
		f->buf = b;
		f->cap = n;
	}
	if (n && (r = read_full(f->fd, f->buf, n, 0)) <= 0)
		return CLEW_EPARSE;
	f->off += 4 + n;
	*out = slice_make(f->buf, n);
	return 1;
}

int rec_next(struct rec_file *f, struct slice *out)
{
	if (f->fd >= 0)
		return rec_next_stream(f, out);
	if (f->off == f->len)
		return 0;
	if (f->len - f->off < 4)
		return CLEW_EPARSE;
	const uint8_t *h = f->p + f->off;
	size_t n = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
	if (n > f->len - f->off - 4)
		return CLEW_EPARSE;
	*out = slice_make(h + 4, n);
	f->off += 4 + n;
	return 1;
}

void rec_close(struct rec_file *f)
{
	if (f->p)
		munmap((void *)f->p, f->len);
	if (f->fd >= 0)
		close(f->fd);
	free(f->buf);
	memset(f, 0, sizeof *f);
	f->fd = -1;
}

int rec_write(FILE *f, const uint8_t *p, size_t n)
{
	uint8_t h[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
	return fwrite(h, 1, 4, f) == 4 && fwrite(p, 1, n, f) == n ? 0 : -1;
}

double proc_cpu_seconds(pid_t pid)
{
	char path[64], line[2048];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(line, 1, sizeof line - 1, f);
	fclose(f);
	line[n] = 0;
	char *p = strrchr(line, ')');
	if (!p)
		return -1;
	/* fields after ')': state(3) ... utime(14) stime(15) */
	int field = 2;
	unsigned long long ut = 0, st = 0;
	for (char *tok = p + 1; *tok; tok++) {
		if (*tok != ' ')
			continue;
		field++;
		if (field == 14)
			ut = strtoull(tok + 1, NULL, 10);
		if (field == 15) {
			st = strtoull(tok + 1, NULL, 10);
			break;
		}
	}
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double proc_status_bytes(pid_t pid, const char *field)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = strlen(field);
	double v = -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			v = strtod(line + n + 1, NULL) * 1024;
	fclose(f);
	return v;
}

double self_cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

double bench_now_s(void)
{
	return (double)clock_mono_ns() / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

double bench_quantile(double *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof v[0], cmp_double);
	size_t i = (size_t)(q * (double)n);
	if (i >= n)
		i = n - 1;
	return v[i];
}
