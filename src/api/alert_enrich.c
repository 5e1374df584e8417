/* Enrichment of firing alert notifications: before a firing notification's
 * first attempt the notifier calls alert_api_enrich, which takes the
 * population from the payload's explore link (the rule's span filter
 * narrowed to the group's labels, over the rule's last range), runs the
 * correlations (signal latency for duration rules, error otherwise) and
 * the critical-path aggregation over it, each within ENRICH_TIME_NS, and
 * puts the top correlations (rootCause) and the top critical-path segment
 * (criticalPath) into the payload. A part that fails stays null and its
 * reason goes into rootCauseError / criticalPathError. The same alert sent
 * to several targets is analysed once: the last result is reused for
 * ENRICH_REUSE_NS. An SLO's burn alert is analysed with signal latency
 * (bad = slower than its threshold) when only latency makes a request bad,
 * error otherwise. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/correlations.h"
#include "analysis/critical_path.h"
#include "api/alert_api.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/codec.h"
#include "base/err.h"
#include "base/json.h"
#include "query/exec.h"
#include "query/traceql.h"

#define ENRICH_TIME_NS (2LL * 1000000000LL)
#define ENRICH_MEM_BYTES ((size_t)256 << 20)
#define ENRICH_ROOT_CAUSES 3
#define ENRICH_MAX_QUERY 16384
#define ENRICH_REUSE_NS (60LL * 1000000000LL)
#define ENRICH_FIELDS 4

static const char *const enrich_fields[ENRICH_FIELDS] = {"rootCause", "rootCauseError", "criticalPath",
							  "criticalPathError"};

/* The last analysis: which alert (ctx, rule, labels, start) and its fields. */
static struct {
	pthread_mutex_t lock;
	void *ctx;
	char *key;
	int64_t at_ns;
	json_t *fields[ENRICH_FIELDS];
} last = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* "ruleId labels startsAt" of payload (malloc'd), or NULL. */
static char *alert_key(json_t *payload)
{
	char *labels = json_dumps(json_object_get(payload, "labels"), JSON_SORT_KEYS | JSON_COMPACT);
	const char *rule = json_string_value(json_object_get(payload, "ruleId"));
	char *key = NULL;
	if (labels && rule) {
		size_t n = strlen(rule) + strlen(labels) + 48;
		key = malloc(n);
		if (key)
			snprintf(key, n, "%s %s %.6f", rule, labels,
				 json_number_value(json_object_get(payload, "startsAt")));
	}
	free(labels);
	return key;
}

/* Copy the last result into payload if it is for the same alert. */
static bool reuse(void *ctx, const char *key, int64_t now_ns, json_t *payload)
{
	bool hit = false;
	pthread_mutex_lock(&last.lock);
	if (key && last.key && last.ctx == ctx && strcmp(last.key, key) == 0 && now_ns - last.at_ns < ENRICH_REUSE_NS) {
		for (int i = 0; i < ENRICH_FIELDS; i++)
			if (last.fields[i])
				json_object_set_new(payload, enrich_fields[i], json_deep_copy(last.fields[i]));
		hit = true;
	}
	pthread_mutex_unlock(&last.lock);
	return hit;
}

static void remember(void *ctx, char *key, int64_t now_ns, json_t *payload)
{
	pthread_mutex_lock(&last.lock);
	free(last.key);
	last.key = key;
	last.ctx = ctx;
	last.at_ns = now_ns;
	for (int i = 0; i < ENRICH_FIELDS; i++) {
		json_decref(last.fields[i]);
		json_t *v = json_object_get(payload, enrich_fields[i]);
		last.fields[i] = v ? json_deep_copy(v) : NULL;
	}
	pthread_mutex_unlock(&last.lock);
}

/* Percent-decode s[0, n) into out (cap bytes, NUL-terminated). false if it
 * does not fit or is malformed. */
static bool url_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int ch = (unsigned char)s[i];
		if (ch == '%') {
			if (i + 2 >= n)
				return false;
			int hi = hex_digit_value((uint8_t)s[i + 1]), lo = hex_digit_value((uint8_t)s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			ch = hi << 4 | lo;
			i += 2;
		} else if (ch == '+') {
			ch = ' ';
		}
		if (o + 1 >= cap)
			return false;
		out[o++] = (char)ch;
	}
	out[o] = 0;
	return true;
}

/* The population of the payload's link ".../explore?q=Q&from=MS&to=MS":
 * the filter into q and the rule's window (the link pads it by a minute on
 * each side) into *start_ns and *end_ns. */
static bool population(json_t *payload, char *q, size_t cap, int64_t *start_ns, int64_t *end_ns)
{
	const char *url = json_string_value(json_object_get(payload, "url"));
	const char *qs = url ? strstr(url, "?q=") : NULL;
	const char *from = qs ? strstr(qs, "&from=") : NULL;
	const char *to = from ? strstr(from, "&to=") : NULL;
	if (!to || !url_decode(qs + 3, (size_t)(from - qs - 3), q, cap))
		return false;
	char *end;
	long long f = strtoll(from + 6, &end, 10);
	if (end == from + 6)
		return false;
	long long t = strtoll(to + 4, &end, 10);
	if (end == to + 4 || t < f)
		return false;
	*start_ns = (f + 60000) * 1000000LL;
	*end_ns = (t - 60000) * 1000000LL;
	return true;
}

static void set_error(json_t *payload, const char *field, const char *what, int rc, const struct exec_options *o)
{
	char msg[300];
	if (rc == CLEW_EBUSY)
		snprintf(msg, sizeof msg, "%s took longer than %lld s: sent without it", what,
			 (long long)(o->time_ns / 1000000000LL));
	else
		snprintf(msg, sizeof msg, "%s failed: %s", what, err_str(rc));
	json_object_set_new(payload, field, json_string(msg));
}

static void root_cause(struct query_api *q, struct exec_query *xq, const struct exec_options *o, bool latency,
		       double threshold_s, json_t *payload)
{
	struct corr_options co;
	struct corr_report rep;
	memset(&co, 0, sizeof co);
	memset(&rep, 0, sizeof rep);
	co.signal = latency ? CORR_SIGNAL_LATENCY : CORR_SIGNAL_ERROR;
	co.limit = ENRICH_ROOT_CAUSES;
	/* bad = slower than the rule's threshold when it is a duration bound, else the p99 */
	if (latency && threshold_s > 0)
		co.threshold_ns = (int64_t)(threshold_s * 1e9);
	else
		co.quantile = 0.99;
	int rc = corr_run(&store_embedded_query_ops, q->store, xq, o, &co, &rep);
	if (rc < 0) {
		set_error(payload, "rootCauseError", "the correlations", rc, o);
		corr_report_free(&rep);
		return;
	}
	struct buf b;
	buf_init(&b, 1 << 20);
	struct json j;
	json_init(&j, &b);
	corr_write_results(&j, rep.results, rep.n_results, latency);
	json_t *arr = b.err ? NULL : json_loadb((const char *)b.p, b.len, 0, NULL);
	buf_free(&b);
	if (arr)
		json_object_set_new(payload, "rootCause", arr);
	else
		set_error(payload, "rootCauseError", "the correlations", CLEW_ENOMEM, o);
	corr_report_free(&rep);
}

static void critical_path(struct query_api *q, struct exec_query *xq, const struct exec_options *o, json_t *payload)
{
	struct cp_agg *g = NULL;
	int rc = cp_agg_scan(&store_embedded_query_ops, q->store, xq, o, &g);
	if (rc < 0) {
		set_error(payload, "criticalPathError", "the critical path", rc, o);
		return;
	}
	struct arena a;
	arena_init(&a, 0);
	struct cp_segment *seg;
	uint32_t n;
	if ((rc = cp_agg_segments(g, &a, &seg, &n)) < 0) {
		set_error(payload, "criticalPathError", "the critical path", rc, o);
	} else if (n > 0) {
		json_t *c = json_object();
		json_object_set_new(c, "service", json_stringn((const char *)seg[0].service.p, seg[0].service.len));
		json_object_set_new(c, "name", json_stringn((const char *)seg[0].name.p, seg[0].name.len));
		json_object_set_new(c, "share", json_real(seg[0].share));
		json_object_set_new(c, "selfP50Ms", json_real(seg[0].self_p50_ms));
		json_object_set_new(c, "selfP99Ms", json_real(seg[0].self_p99_ms));
		json_object_set_new(c, "traces", json_integer((json_int_t)seg[0].traces));
		json_object_set_new(c, "ofTraces", json_integer((json_int_t)cp_agg_traces(g)));
		json_object_set_new(payload, "criticalPath", c);
	}
	arena_reset(&a);
	cp_agg_free(g);
}

void alert_api_enrich(void *ctx, json_t *payload)
{
	struct query_api *q = ctx;
	if (!q || !q->store)
		return;
	int64_t now_ns = clock_now_unix_ns();
	char *key = alert_key(payload);
	if (reuse(ctx, key, now_ns, payload)) {
		free(key);
		return;
	}
	char *text = malloc(ENRICH_MAX_QUERY);
	struct arena a;
	arena_init(&a, 64 << 20);
	struct exec_options o;
	memset(&o, 0, sizeof o);
	o.time_ns = ENRICH_TIME_NS;
	o.mem_bytes = ENRICH_MEM_BYTES;
	o.threads = 2;
	const char *why = NULL;
	char err[300];
	struct exec_query *xq = NULL;
	if (!text || !population(payload, text, ENRICH_MAX_QUERY, &o.start_ns, &o.end_ns)) {
		why = "the alert has no population to analyse";
		goto out;
	}
	struct tql_error te;
	struct tql_query *tq = tql_parse(text, strlen(text), &a, &te);
	if (!tq || tq->kind != TQL_Q_SPANS) {
		snprintf(err, sizeof err, "the population %s is not a span filter%s%s", text, tq ? "" : ": ",
			 tq ? "" : te.msg);
		why = err;
		goto out;
	}
	int rc;
	xq = exec_compile(tq, &a, &rc, err, sizeof err);
	if (!xq) {
		why = err;
		goto out;
	}
	const char *query = json_string_value(json_object_get(payload, "query"));
	const char *op = json_string_value(json_object_get(json_object_get(payload, "condition"), "op"));
	bool latency = query && strstr(query, "_over_time(duration") != NULL;
	double threshold = json_number_value(json_object_get(payload, "threshold"));
	bool above = op && op[0] == '>';
	json_t *slo = json_object_get(payload, "slo");
	if (slo) {
		/* an SLO's bad requests: slower than its threshold, or failed */
		double lt_ms = json_number_value(json_object_get(slo, "latencyThresholdMs"));
		latency = lt_ms > 0 && !json_is_true(json_object_get(slo, "errorsBad"));
		threshold = lt_ms / 1000;
		above = true;
	}
	root_cause(q, xq, &o, latency, above ? threshold : 0, payload);
	critical_path(q, xq, &o, payload);
out:
	if (why) {
		json_object_set_new(payload, "rootCauseError", json_string(why));
		json_object_set_new(payload, "criticalPathError", json_string(why));
	}
	if (xq)
		exec_query_free(xq);
	arena_reset(&a);
	free(text);
	if (key)
		remember(ctx, key, now_ns, payload); /* takes key */
}
