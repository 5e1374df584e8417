/* clew's own metrics, rendered for /metrics in Prometheus text format.
 * Metrics are registered once (at start-up, or lazily) and updated with
 * atomics from any thread. A family is a name; each registration adds one
 * series with a fixed label set such as `protocol="grpc",reason="decode"`. */
#ifndef CLEW_BASE_METRICS_H
#define CLEW_BASE_METRICS_H

#include <stdint.h>

#include "base/buf.h"

struct metric;

/* Register (or find, if the same name and labels exist) a counter series.
 * labels may be NULL or "" for none. Never freed. */
struct metric *metric_counter(const char *name, const char *help, const char *labels);
/* A gauge series whose value is set by metric_set. */
struct metric *metric_gauge(const char *name, const char *help, const char *labels);
/* A gauge series read from fn(arg) at render time. */
struct metric *metric_gauge_fn(const char *name, const char *help, const char *labels, double (*fn)(void *),
			       void *arg);
/* A histogram series with the given upper bounds (ascending, seconds). */
struct metric *metric_histogram(const char *name, const char *help, const char *labels, const double *bounds,
				int n_bounds);

void metric_add(struct metric *m, uint64_t n);
void metric_set(struct metric *m, double v);
void metric_observe(struct metric *m, double v);

/* Current value of a counter or gauge (for tests and logs). */
double metric_value(struct metric *m);

/* Append every series in Prometheus text exposition format. */
void metrics_render(struct buf *out);

/* Default latency bounds in seconds, 100 us to 10 s. */
extern const double METRIC_LATENCY_BOUNDS[];
extern const int METRIC_LATENCY_N_BOUNDS;

#endif
