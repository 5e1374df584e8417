/* Service level objectives: the SLO model (a TraceQL span filter choosing
 * the requests, what a good one is, an objective over a window, optional
 * per-account grouping, multi-window multi-burn-rate alerts), its JSON form
 * and validation, and the counters behind it: per group, good and total
 * requests in 1-minute buckets over the last 6 hours and 1-hour buckets over
 * the SLO window, fed from every accepted batch and snapshotted to disk.
 * Burn rates, the error budget and the burn-down come from the buckets,
 * never from a rescan. The alert engine holds SLOs next to its rules. */
#ifndef CLEW_ALERT_SLO_H
#define CLEW_ALERT_SLO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/alert_rules.h"
#include "base/buf.h"
#include "base/json.h"
#include "ingest/span.h"

#define SLO_MAX_ALERTS         8
#define SLO_MINUTE_NS          (60LL * 1000000000LL)
#define SLO_HOUR_NS            (3600LL * 1000000000LL)
#define SLO_MINUTES            360 /* 1-minute buckets kept: 6 hours */
#define SLO_MIN_WINDOW_NS      SLO_HOUR_NS
#define SLO_MAX_WINDOW_NS      (90LL * 24 * SLO_HOUR_NS)
#define SLO_DEFAULT_MAX_GROUPS 10000
#define SLO_MAX_VALUE          256 /* longer by values are cut */
#define SLO_EXAMPLES           3

/* One burn-rate alert: fires when the burn rate over both windows exceeds
 * factor. */
struct slo_alert {
	int64_t long_ns, short_ns;
	double factor;
	enum alert_severity severity;
};

/* An SLO. Every string is owned by it (slo_def_free). */
struct slo_def {
	char id[17];
	char *name, *service, *query, *by; /* service and by may be NULL */
	double objective;                  /* 0 < objective < 1 */
	int64_t window_ns;
	int64_t latency_ns; /* good only if not slower; 0 = any duration */
	bool errors_bad;    /* good only if status is not error */
	struct slo_alert alerts[SLO_MAX_ALERTS];
	uint32_t n_alerts;
	bool default_alerts; /* alerts were not given: the documented set */
	/* name, interval, renotify, severity, labels, notify: parsed and
	 * validated by the alert rule parser; rule.query is the SLO's filter
	 * as a rate() metrics query */
	struct alert_rule rule;
	int64_t created_ns, updated_ns;
};

/* Parse and validate an SLO from JSON object o into *d (zeroed first; free
 * with slo_def_free even on failure). 0, or CLEW_EINVAL with a message in
 * err naming the field. The id is taken from o if present and valid. */
int slo_def_from_json(json_t *o, struct slo_def *d, char *err, size_t errlen);

/* As slo_def_from_json from JSON text; CLEW_EPARSE for bad JSON. */
int slo_def_parse(const char *text, size_t len, struct slo_def *d, char *err, size_t errlen);

/* Write d as the API's JSON object (durations as "30d" strings). */
void slo_def_write_json(struct json *j, const struct slo_def *d);

/* Its fields only, into an object the caller opened. */
void slo_def_write_fields(struct json *j, const struct slo_def *d);

void slo_def_free(struct slo_def *d);

/* True if a and b count the same thing (query, by, good, window): their
 * counters can be kept when one replaces the other. */
bool slo_def_same_counts(const struct slo_def *a, const struct slo_def *b);

/* The "1h/5m" name of alert i into out. */
void slo_alert_window_name(const struct slo_alert *a, char *out, size_t cap);

struct slo_counts {
	uint64_t bad, total;
};

/* (bad/total) / (1 - objective); 0 without requests. */
double slo_burn_rate(struct slo_counts c, double objective);

/* 1 - bad / (total * (1 - objective)); 1 without requests; negative once
 * the budget is overspent. */
double slo_budget_remaining(struct slo_counts c, double objective);

struct slo_counter;

/* Counters for d (its query compiled once; at most max_groups by values,
 * 0 = SLO_DEFAULT_MAX_GROUPS). Owned by the caller (slo_counter_free); NULL
 * with *rc and err when the query does not compile. */
struct slo_counter *slo_counter_new(const struct slo_def *d, uint32_t max_groups, int *rc /* out */, char *err,
                                    size_t errlen);
void slo_counter_free(struct slo_counter *c);

/* Count the spans of a batch that alert_stream_group_traces grouped by
 * trace: each span the filter matches is good or bad in the minute and
 * hour of its start (spans from the future count as now; spans older than
 * the window are ignored). Thread-safe. 0 or CLEW_ENOMEM (partly counted). */
int slo_counter_add_grouped(struct slo_counter *c, const struct span_batch *grouped, int64_t now_ns);

/* Count one request of group value (NULL: no by value) at t_ns. */
void slo_counter_add(struct slo_counter *c, const char *value, int64_t t_ns, bool good, int64_t now_ns);

/* Counts of a group (NULL = the whole SLO) over the window_ns ending at
 * now_ns: windows up to 6 hours to the minute, longer ones in whole hours
 * before the minute buckets. 0 or CLEW_ENOTFOUND. */
int slo_counter_window(struct slo_counter *c, const char *value, int64_t window_ns, int64_t now_ns,
                       struct slo_counts *out /* out */);

/* One group at an evaluation. Strings live until the callback returns. */
struct slo_group_eval {
	const char *value;        /* the by value; NULL for the whole SLO */
	struct slo_counts budget; /* over the SLO window */
	struct slo_counts lng[SLO_MAX_ALERTS], shrt[SLO_MAX_ALERTS];
	uint8_t examples[SLO_EXAMPLES][16]; /* traces of recent bad requests */
	uint32_t n_examples;
	const char *service, *team; /* of the newest bad request ("" if none) */
};

typedef int (*slo_group_fn)(void *ctx, const struct slo_group_eval *g);

/* Hand the whole SLO (value NULL) and then every group to fn, with the
 * counts of d's windows at now_ns; groups without requests over the SLO
 * window are forgotten. 0 or fn's non-zero return. */
int slo_counter_eval(struct slo_counter *c, const struct slo_def *d, int64_t now_ns, slo_group_fn fn, void *ctx);

/* Asked by slo_write_status whether alert i of group value (NULL = the
 * whole SLO) fires. */
typedef bool (*slo_firing_fn)(void *ctx, uint32_t alert, const char *value);

/* The status of d: objective, window, total, bad, sli, budgetRemaining,
 * burnRates (with firing from fn, which may be NULL), groups (when by is
 * set: at most limit, least budget left first) and burndown ([t_ms,
 * budgetRemaining] at the end of each hour of the window so far, counted
 * from the window's start). compact leaves out groups and burndown. */
void slo_write_status(struct json *j, const struct slo_def *d, struct slo_counter *c, int64_t now_ns, uint32_t limit,
                      bool compact, slo_firing_fn fn, void *ctx);

/* A change counter: it moves with every counted request. */
uint64_t slo_counter_seq(struct slo_counter *c);

/* Snapshot of the counters into out (checksummed binary). 0 or out's
 * error. */
int slo_counter_encode(struct slo_counter *c, struct buf *out);

/* Load a snapshot into c (emptied first). 0, or CLEW_ECORRUPT with the
 * offset in err (c is then empty), or CLEW_EINVAL when the snapshot was
 * taken for a different definition (other query, by, good or window). */
int slo_counter_decode(struct slo_counter *c, const uint8_t *p, size_t len, char *err, size_t errlen);

#endif
