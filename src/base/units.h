/* Parsing of the units users type on the command line and in query
 * parameters: sizes ("64MiB", "512k", "1073741824") and durations ("30s",
 * "1m30s", "7d", "250ms"). */
#ifndef CLEW_BASE_UNITS_H
#define CLEW_BASE_UNITS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/slice.h"

/* A byte size: digits with an optional suffix k/K/KB/KiB, m/M/MB/MiB,
 * g/G/GB/GiB, t/T/TB/TiB (all powers of 1024). 0 or CLEW_EINVAL. */
int units_parse_size(const char *s, uint64_t *out);

/* A duration: one or more number+unit groups (ns, us, µs, ms, s, m, h, d,
 * w), e.g. "1h30m", "1.5s"; a bare number is seconds. 0 or CLEW_EINVAL. */
int units_parse_duration_ns(const char *s, int64_t *out);

/* An RFC 3339 time, 2026-01-02T03:04:05[.fraction](Z|+hh:mm|-hh:mm), as
 * nanoseconds since the Unix epoch; false if s is not one (or before 1970). */
bool units_parse_rfc3339_ns(struct slice s, int64_t *ns);

/* A decimal unsigned integer with overflow check. 0 or CLEW_EINVAL. */
int units_parse_u64(const char *s, uint64_t *out);

#endif
