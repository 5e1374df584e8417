/* Time: int64 nanoseconds since the Unix epoch inside clew; a monotonic
 * clock for intervals. */
#ifndef CLEW_BASE_CLOCK_H
#define CLEW_BASE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t clock_now_unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
