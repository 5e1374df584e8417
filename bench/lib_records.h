/* Helpers shared by the store and ClickHouse benchmarks: the span record
 * file ("u32 little-endian length + OTLP ExportTraceServiceRequest" records,
 * as `clew gen --out` writes them), process CPU and memory from /proc, and
 * the median / percentile arithmetic every figure is reported with. */
#ifndef CLEW_BENCH_LIB_RECORDS_H
#define CLEW_BENCH_LIB_RECORDS_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/slice.h"

/* A record file mapped read-only, or a pipe read record by record. */
struct rec_file {
	const uint8_t *p;
	size_t len;
	size_t off;    /* next record (bytes consumed, for a pipe) */
	int fd;	       /* a pipe: >= 0, records are read into buf */
	uint8_t *buf;  /* a pipe's current record */
	size_t cap;
};

/* Map path, or read it as a stream when it is not a regular file (a FIFO
 * fed by `clew gen --out`); 0, or -errno. */
int rec_open(struct rec_file *f, const char *path);

/* The next record into *out (from a pipe: valid until the next call): 1, 0
 * at the end, CLEW_EPARSE for a record running past the end of the file. */
int rec_next(struct rec_file *f, struct slice *out);

/* Unmap or close. */
void rec_close(struct rec_file *f);

/* Append one record (length prefix + bytes) to f; 0 or -1. */
int rec_write(FILE *f, const uint8_t *p, size_t n);

/* utime+stime of pid in seconds, or -1. */
double proc_cpu_seconds(pid_t pid);

/* A "VmRSS" / "VmHWM" style line of /proc/pid/status in bytes, or -1. */
double proc_status_bytes(pid_t pid, const char *field);

/* CPU seconds this process has used (user + system). */
double self_cpu_seconds(void);

/* Monotonic seconds. */
double bench_now_s(void);

/* Sort v in place and return the q-quantile (0..1, nearest rank). */
double bench_quantile(double *v, size_t n, double q);

#endif
