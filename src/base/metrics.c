/* A process-wide registry of counters, gauges and histograms. Registration
 * takes a mutex; updates are atomic; rendering groups series by family. */
#include "base/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

enum metric_type { M_COUNTER, M_GAUGE, M_GAUGE_FN, M_HISTOGRAM };

#define METRIC_MAX_BOUNDS 24

struct metric {
	struct metric *next;
	enum metric_type type;
	char *name, *help, *labels;
	_Atomic uint64_t count; /* counter value; histogram count */
	_Atomic uint64_t bits;	/* gauge value as double bits; histogram sum bits */
	double (*fn)(void *);
	void *arg;
	int n_bounds;
	double bounds[METRIC_MAX_BOUNDS];
	_Atomic uint64_t buckets[METRIC_MAX_BOUNDS];
};

const double METRIC_LATENCY_BOUNDS[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
					0.025,	0.05,	 0.1,	 0.25,	0.5,	1,     2.5, 5, 10};
const int METRIC_LATENCY_N_BOUNDS = sizeof METRIC_LATENCY_BOUNDS / sizeof METRIC_LATENCY_BOUNDS[0];

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric *reg_head, *reg_tail;

static struct metric *reg(enum metric_type t, const char *name, const char *help, const char *labels)
{
	if (!labels)
		labels = "";
	pthread_mutex_lock(&reg_lock);
	for (struct metric *m = reg_head; m; m = m->next) {
		if (m->type == t && strcmp(m->name, name) == 0 && strcmp(m->labels, labels) == 0) {
			pthread_mutex_unlock(&reg_lock);
			return m;
		}
	}
	struct metric *m = xcalloc(1, sizeof *m);
	m->type = t;
	m->name = xstrdup(name);
	m->help = xstrdup(help);
	m->labels = xstrdup(labels);
	/* keep a family's series next to each other for rendering */
	struct metric *after = NULL;
	for (struct metric *x = reg_head; x; x = x->next)
		if (strcmp(x->name, name) == 0)
			after = x;
	if (after) {
		m->next = after->next;
		after->next = m;
		if (reg_tail == after)
			reg_tail = m;
	} else if (reg_tail) {
		reg_tail->next = m;
		reg_tail = m;
	} else {
		reg_head = reg_tail = m;
	}
	pthread_mutex_unlock(&reg_lock);
	return m;
}

struct metric *metric_counter(const char *name, const char *help, const char *labels)
{
	return reg(M_COUNTER, name, help, labels);
}

struct metric *metric_gauge(const char *name, const char *help, const char *labels)
{
	return reg(M_GAUGE, name, help, labels);
}

struct metric *metric_gauge_fn(const char *name, const char *help, const char *labels, double (*fn)(void *),
			       void *arg)
{
	struct metric *m = reg(M_GAUGE_FN, name, help, labels);
	m->fn = fn;
	m->arg = arg;
	return m;
}

struct metric *metric_histogram(const char *name, const char *help, const char *labels, const double *bounds,
				int n_bounds)
{
	struct metric *m = reg(M_HISTOGRAM, name, help, labels);
	if (n_bounds > METRIC_MAX_BOUNDS)
		n_bounds = METRIC_MAX_BOUNDS;
	if (!m->n_bounds) {
		memcpy(m->bounds, bounds, (size_t)n_bounds * sizeof(double));
		m->n_bounds = n_bounds;
	}
	return m;
}

static double bits_to_double(uint64_t b)
{
	double d;
	memcpy(&d, &b, sizeof d);
	return d;
}

static uint64_t double_to_bits(double d)
{
	uint64_t b;
	memcpy(&b, &d, sizeof b);
	return b;
}

void metric_add(struct metric *m, uint64_t n)
{
	atomic_fetch_add_explicit(&m->count, n, memory_order_relaxed);
}

void metric_set(struct metric *m, double v)
{
	atomic_store_explicit(&m->bits, double_to_bits(v), memory_order_relaxed);
}

void metric_observe(struct metric *m, double v)
{
	for (int i = 0; i < m->n_bounds; i++) {
		if (v <= m->bounds[i]) {
			atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
			break;
		}
	}
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
	uint64_t old = atomic_load(&m->bits);
	while (!atomic_compare_exchange_weak(&m->bits, &old, double_to_bits(bits_to_double(old) + v)))
		;
}

double metric_value(struct metric *m)
{
	switch (m->type) {
	case M_COUNTER:
	case M_HISTOGRAM:
		return (double)atomic_load(&m->count);
	case M_GAUGE:
		return bits_to_double(atomic_load(&m->bits));
	case M_GAUGE_FN:
		return m->fn ? m->fn(m->arg) : 0;
	}
	return 0;
}

static void render_labels(struct buf *out, const char *labels, const char *extra)
{
	bool has = labels[0] != 0, hasx = extra && extra[0];
	if (!has && !hasx)
		return;
	buf_append_byte(out, '{');
	buf_append_cstr(out, labels);
	if (has && hasx)
		buf_append_byte(out, ',');
	if (hasx)
		buf_append_cstr(out, extra);
	buf_append_byte(out, '}');
}

void metrics_render(struct buf *out)
{
	static const char *type_names[] = {"counter", "gauge", "gauge", "histogram"};
	pthread_mutex_lock(&reg_lock);
	const char *family = NULL;
	for (struct metric *m = reg_head; m; m = m->next) {
		if (!family || strcmp(family, m->name) != 0) {
			family = m->name;
			buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, type_names[m->type]);
		}
		if (m->type != M_HISTOGRAM) {
			buf_append_cstr(out, m->name);
			render_labels(out, m->labels, NULL);
			buf_printf(out, " %.17g\n", metric_value(m));
			continue;
		}
		uint64_t cum = 0;
		char le[64];
		for (int i = 0; i < m->n_bounds; i++) {
			cum += atomic_load(&m->buckets[i]);
			snprintf(le, sizeof le, "le=\"%g\"", m->bounds[i]);
			buf_printf(out, "%s_bucket", m->name);
			render_labels(out, m->labels, le);
			buf_printf(out, " %llu\n", (unsigned long long)cum);
		}
		uint64_t count = atomic_load(&m->count);
		buf_printf(out, "%s_bucket", m->name);
		render_labels(out, m->labels, "le=\"+Inf\"");
		buf_printf(out, " %llu\n%s_sum", (unsigned long long)count, m->name);
		render_labels(out, m->labels, NULL);
		buf_printf(out, " %.17g\n%s_count", bits_to_double(atomic_load(&m->bits)), m->name);
		render_labels(out, m->labels, NULL);
		buf_printf(out, " %llu\n", (unsigned long long)count);
	}
	pthread_mutex_unlock(&reg_lock);
}
