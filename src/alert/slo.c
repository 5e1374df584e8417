/* Service level objectives (see slo.h): the definition and its validation,
 * and the good/total counters fed from accepted batches.
 *
 * Design notes. A group (the whole SLO, or one by value) holds two rings of
 * (bad, total) pairs: SLO_MINUTES 1-minute buckets and n_hours 1-hour
 * buckets covering the window plus the current hour. Each ring has a head,
 * the newest epoch counted; a bucket is valid for epochs in (head - size,
 * head], and moving the head forward zeroes the buckets it passes, so no
 * bucket carries an epoch tag. Every request goes into both rings. A window
 * of up to SLO_MINUTES minutes is summed from the minute ring; a longer one
 * takes the minute ring from the first whole hour it covers and the hour
 * ring before it (so it is counted in whole hours at its old end). */
#include "alert/slo.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_stream.h"
#include "alert/group_index.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/units.h"
#include "query/exec.h"
#include "query/traceql.h"

#define SLO_MAGIC           "CLEWSLO1"
#define SCRATCH_RESET_BYTES ((size_t)4 << 20)

/* The documented default alerts: page on fast burns, ticket on slow ones. */
static const struct {
	int64_t long_ns, short_ns;
	double factor;
	bool page;
} default_alerts[] = {
    {SLO_HOUR_NS, 5 * SLO_MINUTE_NS, 14.4, true},
    {6 * SLO_HOUR_NS, 30 * SLO_MINUTE_NS, 6, true},
    {24 * SLO_HOUR_NS, 2 * SLO_HOUR_NS, 3, false},
    {72 * SLO_HOUR_NS, 6 * SLO_HOUR_NS, 1, false},
};

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CLEW_EINVAL;
}

/* ---- the definition ---- */

void slo_def_free(struct slo_def *d)
{
	free(d->name);
	free(d->service);
	free(d->query);
	free(d->by);
	alert_rule_free(&d->rule);
	memset(d, 0, sizeof *d);
}

/* A duration field (a string or seconds) into *out; def when absent. */
static int get_dur(json_t *o, const char *key, const char *field, int64_t def, int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	*out = def;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_number(v) && isfinite(json_number_value(v)) && json_number_value(v) > 0 &&
	    json_number_value(v) < 1e9) {
		*out = (int64_t)(json_number_value(v) * 1e9);
		return 0;
	}
	if (!json_is_string(v) || units_parse_duration_ns(json_string_value(v), out) < 0 || *out <= 0)
		return fail(err, errlen, "\"%s\" must be a duration such as \"30d\", \"1h\" or \"5m\"", field);
	return 0;
}

static int get_str(json_t *o, const char *key, bool required, size_t max, const char **out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(err, errlen, "\"%s\" is required", key);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
		return fail(err, errlen, "\"%s\" must be a non-empty string of at most %zu bytes", key, max);
	*out = json_string_value(v);
	return 0;
}

/* Check that query is a TraceQL spans query the executor runs. */
static int check_query(const char *query, char *err, size_t errlen)
{
	struct arena a;
	arena_init(&a, (size_t)64 << 20);
	struct tql_error te;
	int rc = 0;
	char e2[300];
	struct tql_query *q = tql_parse(query, strlen(query), &a, &te);
	if (!q) {
		rc = fail(err, errlen, "\"query\": %s", te.msg);
	} else if (q->kind != TQL_Q_SPANS) {
		rc = fail(err, errlen,
		          "\"query\" must be a TraceQL spanset filter choosing the SLO's requests, e.g. "
		          "{ resource.service.name = \"billing\" && kind = server }");
	} else {
		struct exec_query *xq = exec_compile(q, &a, &rc, e2, sizeof e2);
		if (xq)
			exec_query_free(xq);
		else
			rc = fail(err, errlen, "\"query\": %s", e2);
	}
	arena_reset(&a);
	return rc;
}

static int parse_alerts(json_t *o, struct slo_def *d, char *err, size_t errlen)
{
	json_t *arr = json_object_get(o, "alerts");
	int rc;
	if (!arr || json_is_null(arr)) {
		d->default_alerts = true;
		for (size_t i = 0; i < sizeof default_alerts / sizeof default_alerts[0]; i++) {
			if (default_alerts[i].long_ns > d->window_ns)
				continue; /* a window longer than the SLO's says nothing */
			struct slo_alert *a = &d->alerts[d->n_alerts++];
			a->long_ns = default_alerts[i].long_ns;
			a->short_ns = default_alerts[i].short_ns;
			a->factor = default_alerts[i].factor;
			a->severity = default_alerts[i].page ? d->rule.severity : ALERT_SEV_WARNING;
		}
		return 0;
	}
	if (!json_is_array(arr) || json_array_size(arr) > SLO_MAX_ALERTS)
		return fail(err, errlen, "\"alerts\" must be an array of at most %d {\"long\", \"short\", \"factor\"}",
		            SLO_MAX_ALERTS);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *v = json_array_get(arr, i);
		struct slo_alert *a = &d->alerts[d->n_alerts++];
		char f[48];
		if (!json_is_object(v))
			return fail(err, errlen, "alerts[%zu] must be an object {\"long\", \"short\", \"factor\"}", i);
		snprintf(f, sizeof f, "alerts[%zu].long", i);
		if ((rc = get_dur(v, "long", f, 0, &a->long_ns, err, errlen)) < 0)
			return rc;
		snprintf(f, sizeof f, "alerts[%zu].short", i);
		if ((rc = get_dur(v, "short", f, 0, &a->short_ns, err, errlen)) < 0)
			return rc;
		if (a->long_ns <= 0 || a->short_ns <= 0)
			return fail(err, errlen,
			            "alerts[%zu] needs \"long\" and \"short\" windows, e.g. \"1h\" and \"5m\"", i);
		if (a->short_ns < SLO_MINUTE_NS || a->short_ns >= a->long_ns)
			return fail(err, errlen, "alerts[%zu].short must be at least 1m and shorter than long", i);
		if (a->long_ns > d->window_ns)
			return fail(err, errlen, "alerts[%zu].long must not be longer than the SLO's window", i);
		json_t *fa = json_object_get(v, "factor");
		if (!json_is_number(fa) || !isfinite(json_number_value(fa)) || json_number_value(fa) <= 0 ||
		    json_number_value(fa) > 1e6)
			return fail(err, errlen, "alerts[%zu].factor must be a burn rate above 0, e.g. 14.4", i);
		a->factor = json_number_value(fa);
		json_t *sv = json_object_get(v, "severity");
		a->severity = d->rule.severity;
		if (sv && !json_is_null(sv)) {
			const char *s = json_string_value(sv);
			int k = -1;
			for (int n = 0; s && n < 3; n++)
				if (strcmp(s, alert_severity_name((enum alert_severity)n)) == 0)
					k = n;
			if (k < 0)
				return fail(err, errlen,
				            "alerts[%zu].severity must be \"info\", \"warning\" or \"critical\"", i);
			a->severity = (enum alert_severity)k;
		}
	}
	return 0;
}

/* The by() field node of attribute text by, parsed into a; NULL unless it
 * is exactly one attribute or intrinsic. */
static const struct tql_node *by_node(struct arena *a, const char *by)
{
	size_t bl = strlen(by) + 32;
	char *bt = arena_alloc(a, bl);
	if (!bt)
		return NULL;
	snprintf(bt, bl, "{} | rate() by (%s)", by);
	struct tql_error te;
	struct tql_query *bq = tql_parse(bt, strlen(bt), a, &te);
	const struct tql_node *fn =
	    bq && bq->kind == TQL_Q_METRICS && bq->root->kind == TQL_N_METRICS_QUERY ? bq->root->b : NULL;
	if (!fn || fn->kind != TQL_N_METRICS || fn->n_items != 1)
		return NULL;
	const struct tql_node *f = fn->items[0];
	return f->kind == TQL_N_ATTR || f->kind == TQL_N_INTRINSIC ? f : NULL;
}

int slo_def_from_json(json_t *o, struct slo_def *d, char *err, size_t errlen)
{
	int rc;
	memset(d, 0, sizeof *d);
	if (errlen)
		err[0] = 0;
	if (!json_is_object(o))
		return fail(err, errlen, "an SLO must be a JSON object");
	const char *id, *name, *service, *query, *by, *sev;
	id = json_string_value(json_object_get(o, "id"));
	if ((rc = get_str(o, "name", true, ALERT_MAX_NAME, &name, err, errlen)) < 0 ||
	    (rc = get_str(o, "service", false, 256, &service, err, errlen)) < 0 ||
	    (rc = get_str(o, "query", false, 64 * 1024, &query, err, errlen)) < 0 ||
	    (rc = get_str(o, "by", false, 256, &by, err, errlen)) < 0 ||
	    (rc = get_str(o, "severity", false, 32, &sev, err, errlen)) < 0)
		return rc;
	if (id && strlen(id) == 16 && strspn(id, "0123456789abcdef") == 16)
		memcpy(d->id, id, 17);
	d->name = xstrdup(name);
	d->service = service ? xstrdup(service) : NULL;
	if (query) {
		d->query = xstrdup(query);
	} else if (service) {
		/* a service's SLO: its server spans */
		struct buf b;
		buf_init(&b, 4096);
		buf_append_cstr(&b, "{ resource.service.name = \"");
		json_escape(&b, slice_cstr(service));
		buf_append_cstr(&b, "\" && kind = server }");
		buf_append_byte(&b, 0);
		d->query = xstrdup(b.err ? "{}" : (const char *)b.p);
		buf_free(&b);
	} else {
		return fail(err, errlen,
		            "\"query\" is required (or \"service\"): a TraceQL spanset filter, e.g. "
		            "{ resource.service.name = \"billing\" && kind = server }");
	}
	if ((rc = check_query(d->query, err, errlen)) < 0)
		return rc;
	if (by) {
		struct arena a;
		arena_init(&a, (size_t)1 << 20);
		bool ok = by_node(&a, by) != NULL;
		arena_reset(&a);
		if (!ok)
			return fail(err, errlen, "\"by\" must be one attribute, e.g. \"span.customer.id\"");
		d->by = xstrdup(by);
	}
	json_t *obj = json_object_get(o, "objective");
	if (!json_is_number(obj) || !(json_number_value(obj) > 0 && json_number_value(obj) < 1))
		return fail(err, errlen, "\"objective\" must be a number between 0 and 1 (exclusive), e.g. 0.999");
	d->objective = json_number_value(obj);
	if ((rc = get_dur(o, "window", "window", 30 * 24 * SLO_HOUR_NS, &d->window_ns, err, errlen)) < 0)
		return rc;
	if (d->window_ns < SLO_MIN_WINDOW_NS || d->window_ns > SLO_MAX_WINDOW_NS)
		return fail(err, errlen, "\"window\" must be between 1h and 90d, e.g. \"30d\"");
	json_t *good = json_object_get(o, "good");
	if (!json_is_object(good))
		return fail(err, errlen,
		            "\"good\" is required: {\"latencyThreshold\": \"300ms\"} and/or "
		            "{\"errors\": false}");
	if ((rc = get_dur(good, "latencyThreshold", "good.latencyThreshold", 0, &d->latency_ns, err, errlen)) < 0)
		return rc;
	json_t *errs = json_object_get(good, "errors");
	if (errs && !json_is_null(errs) && !json_is_boolean(errs))
		return fail(err, errlen, "good.errors must be false (errors are bad requests) or true");
	d->errors_bad = json_is_false(errs);
	if (!d->latency_ns && !d->errors_bad)
		return fail(err, errlen,
		            "\"good\" must say what a good request is: \"latencyThreshold\" and/or "
		            "\"errors\": false");
	/* name, severity, labels, notify, interval, renotify: as an alert rule has them */
	json_t *ro = json_object();
	static const char *const copied[] = {"name", "labels", "notify", "interval", "renotify", "enabled"};
	for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++) {
		json_t *v = json_object_get(o, copied[i]);
		if (v)
			json_object_set(ro, copied[i], v);
	}
	json_object_set_new(ro, "severity", json_string(sev ? sev : "critical"));
	/* burn windows are minutes long: evaluated every 30 s unless told */
	if (!json_object_get(ro, "interval") || json_is_null(json_object_get(ro, "interval")))
		json_object_set_new(ro, "interval", json_string("30s"));
	char *rq = xmalloc(strlen(d->query) + (by ? strlen(by) : 0) + 32);
	snprintf(rq, strlen(d->query) + (by ? strlen(by) : 0) + 32, "%s | rate()%s%s%s", d->query, by ? " by (" : "",
	         by ? by : "", by ? ")" : "");
	json_object_set_new(ro, "query", json_string(rq));
	free(rq);
	json_t *cond = json_pack("{s:s, s:f}", "op", ">", "threshold", 1.0);
	json_object_set_new(ro, "condition", cond);
	rc = alert_rule_from_json(ro, &d->rule, err, errlen);
	json_decref(ro);
	if (rc < 0)
		return rc;
	if ((rc = parse_alerts(o, d, err, errlen)) < 0)
		return rc;
	json_t *c = json_object_get(o, "createdNs"), *u = json_object_get(o, "updatedNs");
	d->created_ns = json_is_integer(c) ? (int64_t)json_integer_value(c) : 0;
	d->updated_ns = json_is_integer(u) ? (int64_t)json_integer_value(u) : 0;
	return 0;
}

int slo_def_parse(const char *text, size_t len, struct slo_def *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	json_t *root = alert_json_load(text, len, err, errlen);
	if (!root)
		return CLEW_EPARSE;
	int rc = slo_def_from_json(root, d, err, errlen);
	json_decref(root);
	return rc;
}

void slo_alert_window_name(const struct slo_alert *a, char *out, size_t cap)
{
	char l[48], s[48];
	alert_format_duration(a->long_ns, l, sizeof l);
	alert_format_duration(a->short_ns, s, sizeof s);
	snprintf(out, cap, "%s/%s", l, s);
}

static void write_dur(struct json *j, const char *key, int64_t ns)
{
	char d[48];
	alert_format_duration(ns, d, sizeof d);
	json_key(j, key);
	json_cstr(j, d);
}

void slo_def_write_json(struct json *j, const struct slo_def *d)
{
	json_obj_begin(j);
	slo_def_write_fields(j, d);
	json_obj_end(j);
}

void slo_def_write_fields(struct json *j, const struct slo_def *d)
{
	json_key(j, "id");
	json_cstr(j, d->id);
	json_key(j, "name");
	json_cstr(j, d->name);
	if (d->service) {
		json_key(j, "service");
		json_cstr(j, d->service);
	}
	json_key(j, "query");
	json_cstr(j, d->query);
	json_key(j, "objective");
	json_double(j, d->objective);
	write_dur(j, "window", d->window_ns);
	json_key(j, "good");
	json_obj_begin(j);
	if (d->latency_ns)
		write_dur(j, "latencyThreshold", d->latency_ns);
	json_key(j, "errors");
	json_bool(j, !d->errors_bad);
	json_obj_end(j);
	if (d->by) {
		json_key(j, "by");
		json_cstr(j, d->by);
	}
	json_key(j, "alerts");
	json_arr_begin(j);
	for (uint32_t i = 0; i < d->n_alerts; i++) {
		json_obj_begin(j);
		write_dur(j, "long", d->alerts[i].long_ns);
		write_dur(j, "short", d->alerts[i].short_ns);
		json_key(j, "factor");
		json_double(j, d->alerts[i].factor);
		json_key(j, "severity");
		json_cstr(j, alert_severity_name(d->alerts[i].severity));
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "defaultAlerts");
	json_bool(j, d->default_alerts);
	json_key(j, "severity");
	json_cstr(j, alert_severity_name(d->rule.severity));
	write_dur(j, "interval", d->rule.interval_ns);
	write_dur(j, "renotify", d->rule.renotify_ns);
	/* labels and notify as the rule writer has them */
	struct buf rb;
	buf_init(&rb, (size_t)16 << 20);
	struct json rj;
	json_init(&rj, &rb);
	alert_rule_write_json(&rj, &d->rule);
	json_t *ro = rb.err ? NULL : json_loadb((const char *)rb.p, rb.len, 0, NULL);
	buf_free(&rb);
	static const char *const keys[] = {"labels", "notify"};
	for (int k = 0; k < 2; k++) {
		char *s = ro ? json_dumps(json_object_get(ro, keys[k]), JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
		json_key(j, keys[k]);
		if (s)
			json_raw(j, slice_cstr(s));
		else
			json_null_value(j);
		free(s);
	}
	json_decref(ro);
	json_key(j, "enabled");
	json_bool(j, d->rule.enabled);
	json_key(j, "createdNs");
	json_int(j, d->created_ns);
	json_key(j, "updatedNs");
	json_int(j, d->updated_ns);
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool slo_def_same_counts(const struct slo_def *a, const struct slo_def *b)
{
	return str_eq(a->query, b->query) && str_eq(a->by, b->by) && a->latency_ns == b->latency_ns &&
	       a->errors_bad == b->errors_bad && a->window_ns == b->window_ns;
}

double slo_burn_rate(struct slo_counts c, double objective)
{
	if (c.total == 0)
		return 0;
	return ((double)c.bad / (double)c.total) / (1 - objective);
}

double slo_budget_remaining(struct slo_counts c, double objective)
{
	if (c.total == 0)
		return 1;
	return 1 - (double)c.bad / ((double)c.total * (1 - objective));
}

/* ---- the counters ---- */

struct grp {
	uint64_t hash;
	char *value; /* NULL: the whole SLO */
	int64_t min_head, hour_head;
	uint32_t (*mins)[2]; /* [bad, total] */
	uint32_t (*hours)[2];
	uint8_t ex[SLO_EXAMPLES][16];
	uint32_t n_ex, ex_next;
	char service[64], team[48];
};

struct slo_counter {
	pthread_mutex_t lock;
	struct arena arena; /* the compiled query */
	struct exec_query *xq;
	const struct tql_node *by_node;
	int64_t window_ns, latency_ns;
	bool errors_bad;
	uint32_t n_hours;
	uint64_t sig; /* of what is counted: a snapshot must match it */
	uint32_t max_groups;
	struct grp all;
	struct grp **groups;
	uint32_t n_groups, cap_groups;
	struct group_index index; /* of groups, by hash */
	uint64_t seq, dropped;
	struct slo_counts *sum_mins, *sum_hours; /* grp_sums' scratch */
};

static uint64_t def_sig(const struct slo_def *d)
{
	char head[96];
	snprintf(head, sizeof head, "%lld %lld %d ", (long long)d->window_ns, (long long)d->latency_ns,
	         (int)d->errors_bad);
	uint64_t h = hash64(head, strlen(head));
	h = hash64_seed(d->query, strlen(d->query), h);
	return d->by ? hash64_seed(d->by, strlen(d->by), h ^ 1) : h;
}

static void grp_init(struct slo_counter *c, struct grp *g)
{
	g->min_head = g->hour_head = INT64_MIN;
	g->mins = xcalloc(SLO_MINUTES, sizeof *g->mins);
	g->hours = xcalloc(c->n_hours, sizeof *g->hours);
}

static void grp_free(struct grp *g)
{
	free(g->value);
	free(g->mins);
	free(g->hours);
}

static void groups_clear(struct slo_counter *c)
{
	for (uint32_t i = 0; i < c->n_groups; i++) {
		grp_free(c->groups[i]);
		free(c->groups[i]);
	}
	c->n_groups = 0;
	group_index_free(&c->index);
	memset(c->all.mins, 0, SLO_MINUTES * sizeof *c->all.mins);
	memset(c->all.hours, 0, c->n_hours * sizeof *c->all.hours);
	c->all.min_head = c->all.hour_head = INT64_MIN;
	c->all.n_ex = c->all.ex_next = 0;
}

struct slo_counter *slo_counter_new(const struct slo_def *d, uint32_t max_groups, int *rc, char *err, size_t errlen)
{
	struct slo_counter *c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->lock, NULL);
	arena_init(&c->arena, (size_t)64 << 20);
	c->window_ns = d->window_ns;
	c->latency_ns = d->latency_ns;
	c->errors_bad = d->errors_bad;
	c->n_hours = (uint32_t)((d->window_ns + SLO_HOUR_NS - 1) / SLO_HOUR_NS) + 2;
	c->sig = def_sig(d);
	c->max_groups = max_groups ? max_groups : SLO_DEFAULT_MAX_GROUPS;
	grp_init(c, &c->all);
	c->sum_mins = xcalloc(SLO_MINUTES + 1, sizeof *c->sum_mins);
	c->sum_hours = xcalloc((size_t)c->n_hours + 1, sizeof *c->sum_hours);
	struct tql_error te;
	size_t ql = strlen(d->query);
	char *text = arena_strndup(&c->arena, d->query, ql);
	struct tql_query *q = text ? tql_parse(text, ql, &c->arena, &te) : NULL;
	if (!q || q->kind != TQL_Q_SPANS) {
		snprintf(err, errlen, "\"query\": %s", q ? "not a spanset filter" : text ? te.msg : "out of memory");
		*rc = CLEW_EINVAL;
		goto fail;
	}
	if (!(c->xq = exec_compile(q, &c->arena, rc, err, errlen)))
		goto fail;
	if (d->by && !(c->by_node = by_node(&c->arena, d->by))) {
		snprintf(err, errlen, "\"by\" must be one attribute, e.g. \"span.customer.id\"");
		*rc = CLEW_EINVAL;
		goto fail;
	}
	*rc = 0;
	return c;
fail:
	slo_counter_free(c);
	return NULL;
}

void slo_counter_free(struct slo_counter *c)
{
	if (!c)
		return;
	groups_clear(c);
	free(c->groups);
	grp_free(&c->all);
	free(c->sum_mins);
	free(c->sum_hours);
	if (c->xq)
		exec_query_free(c->xq);
	arena_reset(&c->arena);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static uint64_t grp_hash_at(const void *ctx, uint32_t i)
{
	return ((const struct slo_counter *)ctx)->groups[i]->hash;
}

static bool grp_match(const void *ctx, uint32_t i, const void *key)
{
	const struct grp *g = ((const struct slo_counter *)ctx)->groups[i];
	const struct grp *want = key;
	return g->hash == want->hash && strcmp(g->value, want->value) == 0;
}

static struct grp *grp_find(struct slo_counter *c, const char *value, uint64_t h)
{
	struct grp want = {.hash = h, .value = (char *)value};
	int64_t at = group_index_find(&c->index, h, grp_match, c, &want);
	return at >= 0 ? c->groups[at] : NULL;
}

/* The group of value, created if there is room; NULL over the cap. */
static struct grp *grp_get(struct slo_counter *c, const char *value)
{
	uint64_t h = hash64(value, strlen(value));
	struct grp *g = grp_find(c, value, h);
	if (g)
		return g;
	if (c->n_groups >= c->max_groups)
		return NULL;
	if (group_index_fit(&c->index, c->n_groups, grp_hash_at, c) < 0)
		return NULL;
	if (c->n_groups == c->cap_groups) {
		uint32_t cap = c->cap_groups ? c->cap_groups * 2 : 16;
		struct grp **ng = try_realloc(c->groups, cap * sizeof *ng);
		if (!ng)
			return NULL;
		c->groups = ng;
		c->cap_groups = cap;
	}
	g = xcalloc(1, sizeof *g);
	grp_init(c, g);
	g->hash = h;
	g->value = xstrdup(value);
	group_index_add(&c->index, h, c->n_groups);
	c->groups[c->n_groups++] = g;
	return g;
}

static uint32_t slot_of(int64_t epoch, uint32_t size)
{
	int64_t s = epoch % (int64_t)size;
	return (uint32_t)(s < 0 ? s + size : s);
}

static void sat_inc(uint32_t *v)
{
	if (*v != UINT32_MAX)
		(*v)++;
}

/* Count one request in the ring at epoch, moving the head forward. */
static void ring_add(uint32_t (*ring)[2], uint32_t size, int64_t *head, int64_t epoch, bool bad)
{
	if (*head == INT64_MIN || epoch - *head >= (int64_t)size) {
		memset(ring, 0, size * sizeof *ring);
		*head = epoch;
	} else if (epoch > *head) {
		for (int64_t e = *head + 1; e <= epoch; e++)
			ring[slot_of(e, size)][0] = ring[slot_of(e, size)][1] = 0;
		*head = epoch;
	} else if (epoch <= *head - (int64_t)size) {
		return; /* older than the ring holds */
	}
	uint32_t *b = ring[slot_of(epoch, size)];
	if (bad)
		sat_inc(&b[0]);
	sat_inc(&b[1]);
}

static void grp_add(struct slo_counter *c, struct grp *g, int64_t t, bool bad)
{
	ring_add(g->mins, SLO_MINUTES, &g->min_head, t / SLO_MINUTE_NS, bad);
	ring_add(g->hours, c->n_hours, &g->hour_head, t / SLO_HOUR_NS, bad);
}

/* Under the lock: t clamped to now; false when too old to count. */
static bool count_time(const struct slo_counter *c, int64_t *t, int64_t now_ns)
{
	if (*t > now_ns)
		*t = now_ns;
	return *t >= 0 && *t >= now_ns - c->window_ns - SLO_HOUR_NS;
}

void slo_counter_add(struct slo_counter *c, const char *value, int64_t t_ns, bool good, int64_t now_ns)
{
	pthread_mutex_lock(&c->lock);
	if (count_time(c, &t_ns, now_ns)) {
		grp_add(c, &c->all, t_ns, !good);
		if (value && c->by_node) {
			struct grp *g = grp_get(c, value);
			if (g)
				grp_add(c, g, t_ns, !good);
			else
				c->dropped++;
		}
		c->seq++;
	}
	pthread_mutex_unlock(&c->lock);
}

static void copy_text(char *dst, size_t cap, struct slice s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	memcpy(dst, s.p, n);
	dst[n] = 0;
}

/* Remember a bad request of g: its trace and its service and team. */
static void note_bad(struct grp *g, const struct span_batch *b, const struct span *sp)
{
	bool dup = false;
	for (uint32_t k = 0; k < g->n_ex; k++)
		dup |= memcmp(g->ex[k], sp->trace_id, 16) == 0;
	if (!dup) {
		memcpy(g->ex[g->ex_next], sp->trace_id, 16);
		g->ex_next = (g->ex_next + 1) % SLO_EXAMPLES;
		if (g->n_ex < SLO_EXAMPLES)
			g->n_ex++;
	}
	const struct resource *r = span_batch_resource_of(b, sp);
	copy_text(g->service, sizeof g->service, resource_service_name(r));
	const struct attr *team = attr_find(&r->attrs, "team");
	if (!team)
		team = attr_find(&r->attrs, "service.team");
	if (team && team->value.type == ANY_STRING)
		copy_text(g->team, sizeof g->team, team->value.u.str);
}

/* A by value as text into out, as alert rules name their groups; false
 * when the span has none. */
static bool value_text(const struct exec_value *v, char *out, size_t cap)
{
	if (v->type == TQL_T_NIL)
		return false;
	alert_stream_value_text(v, out, cap);
	return true;
}

int slo_counter_add_grouped(struct slo_counter *c, const struct span_batch *grouped, int64_t now_ns)
{
	uint32_t n = grouped->n_spans;
	if (n == 0)
		return 0;
	int rc = 0;
	struct arena scratch, outa, keep;
	arena_init(&scratch, (size_t)256 << 20);
	arena_init(&outa, (size_t)256 << 20);
	arena_init(&keep, 0);
	uint32_t *idx = arena_array(&keep, n, sizeof *idx);
	if (!idx) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	char value[SLO_MAX_VALUE];
	for (uint32_t first = 0; first < n;) {
		uint32_t end = first + 1;
		while (end < n && memcmp(grouped->spans[end].trace_id, grouped->spans[first].trace_id, 16) == 0)
			end++;
		uint32_t len = end - first;
		if (scratch.used_bytes > SCRATCH_RESET_BYTES)
			arena_reset(&scratch);
		if (outa.used_bytes > SCRATCH_RESET_BYTES)
			arena_reset(&outa);
		struct exec_trace tr;
		int r = exec_eval_trace(c->xq, grouped, first, len, &scratch, &outa, len, &tr);
		if (r < 0)
			rc = r;
		uint32_t n_idx = 0;
		uint8_t *seen = r > 0 ? arena_zalloc(&scratch, len) : NULL;
		if (r > 0 && !seen)
			rc = r = CLEW_ENOMEM;
		/* the spansets' spans back to their indexes in the batch */
		for (uint32_t k = 0; r > 0 && k < tr.n_spansets; k++)
			for (uint32_t m = 0; m < tr.spansets[k].n_spans; m++) {
				const struct exec_span *es = &tr.spansets[k].spans[m];
				for (uint32_t j = first; j < end; j++) {
					const struct span *sp = &grouped->spans[j];
					if (!seen[j - first] && memcmp(sp->span_id, es->span_id, 8) == 0 &&
					    sp->start_unix_ns == es->start_unix_ns) {
						seen[j - first] = 1;
						idx[n_idx++] = j;
						break;
					}
				}
			}
		struct exec_value *v = NULL;
		if (n_idx && c->by_node) {
			v = arena_array(&scratch, n_idx, sizeof *v);
			if (!v || exec_field_values(&c->by_node, 1, grouped, first, len, idx, n_idx, &scratch, v) < 0) {
				rc = CLEW_ENOMEM;
				n_idx = 0;
			}
		}
		if (n_idx) {
			pthread_mutex_lock(&c->lock);
			for (uint32_t k = 0; k < n_idx; k++) {
				const struct span *sp = &grouped->spans[idx[k]];
				int64_t t = sp->start_unix_ns;
				if (!count_time(c, &t, now_ns))
					continue;
				bool bad = (c->latency_ns && sp->end_unix_ns - sp->start_unix_ns > c->latency_ns) ||
				           (c->errors_bad && sp->status_code == STATUS_ERROR);
				grp_add(c, &c->all, t, bad);
				if (bad)
					note_bad(&c->all, grouped, sp);
				if (v && value_text(&v[k], value, sizeof value)) {
					struct grp *g = grp_get(c, value);
					if (g) {
						grp_add(c, g, t, bad);
						if (bad)
							note_bad(g, grouped, sp);
					} else {
						c->dropped++;
					}
				}
				c->seq++;
			}
			pthread_mutex_unlock(&c->lock);
		}
		first = end;
	}
out:
	arena_reset(&scratch);
	arena_reset(&outa);
	arena_reset(&keep);
	return rc;
}

static void sum_ring(const uint32_t (*ring)[2], uint32_t size, int64_t head, int64_t a, int64_t b,
                     struct slo_counts *out)
{
	if (head == INT64_MIN)
		return;
	if (a < head - (int64_t)size + 1)
		a = head - (int64_t)size + 1;
	if (b > head)
		b = head;
	for (uint32_t s = a <= b ? slot_of(a, size) : 0; a <= b; a++) {
		out->bad += ring[s][0];
		out->total += ring[s][1];
		if (++s == size)
			s = 0;
	}
}

static int64_t ceil_div(int64_t a, int64_t b)
{
	return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

/* The counts of g over the window_ns ending at now_ns (see the notes at the
 * top). */
static struct slo_counts grp_window(const struct slo_counter *c, const struct grp *g, int64_t window_ns, int64_t now_ns)
{
	struct slo_counts out = {0, 0};
	int64_t now_min = now_ns / SLO_MINUTE_NS;
	int64_t n_min = ceil_div(window_ns, SLO_MINUTE_NS);
	int64_t lo = now_min - n_min + 1;
	if (n_min <= SLO_MINUTES) {
		sum_ring((const uint32_t(*)[2])g->mins, SLO_MINUTES, g->min_head, lo, now_min, &out);
		return out;
	}
	int64_t cut = ceil_div(now_min - SLO_MINUTES + 1, 60) * 60; /* first whole hour in the minute ring */
	sum_ring((const uint32_t(*)[2])g->mins, SLO_MINUTES, g->min_head, cut, now_min, &out);
	sum_ring((const uint32_t(*)[2])g->hours, c->n_hours, g->hour_head, ceil_div(lo, 60), cut / 60 - 1, &out);
	return out;
}

int slo_counter_window(struct slo_counter *c, const char *value, int64_t window_ns, int64_t now_ns,
                       struct slo_counts *out)
{
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	const struct grp *g = &c->all;
	if (value)
		g = grp_find(c, value, hash64(value, strlen(value)));
	if (g)
		*out = grp_window(c, g, window_ns, now_ns);
	else
		rc = CLEW_ENOTFOUND;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* Suffix sums of g's rings at now_ns, for many windows in one pass:
 * c->sum_mins[k] holds the last k minutes (the current one included),
 * c->sum_hours[k] the k hours before the first whole hour of the minute
 * ring. Under the lock. */
static void grp_sums(struct slo_counter *c, const struct grp *g, int64_t now_ns)
{
	int64_t now_min = now_ns / SLO_MINUTE_NS;
	struct slo_counts cum = {0, 0};
	c->sum_mins[0] = cum;
	uint32_t s = slot_of(now_min, SLO_MINUTES);
	for (int64_t k = 1; k <= SLO_MINUTES; k++) {
		int64_t m = now_min - k + 1;
		if (g->min_head != INT64_MIN && m <= g->min_head && m > g->min_head - SLO_MINUTES) {
			cum.bad += g->mins[s][0];
			cum.total += g->mins[s][1];
		}
		s = s == 0 ? SLO_MINUTES - 1 : s - 1;
		c->sum_mins[k] = cum;
	}
	int64_t top = ceil_div(now_min - SLO_MINUTES + 1, 60) - 1; /* the newest hour before the cut */
	cum.bad = cum.total = 0;
	c->sum_hours[0] = cum;
	s = slot_of(top, c->n_hours);
	for (int64_t k = 1; k <= c->n_hours; k++) {
		int64_t h = top - k + 1;
		if (g->hour_head != INT64_MIN && h <= g->hour_head && h > g->hour_head - c->n_hours) {
			cum.bad += g->hours[s][0];
			cum.total += g->hours[s][1];
		}
		s = s == 0 ? c->n_hours - 1 : s - 1;
		c->sum_hours[k] = cum;
	}
}

/* grp_window from the sums grp_sums left for now_ns. */
static struct slo_counts sums_window(const struct slo_counter *c, int64_t window_ns, int64_t now_ns)
{
	int64_t now_min = now_ns / SLO_MINUTE_NS;
	int64_t n_min = ceil_div(window_ns, SLO_MINUTE_NS);
	if (n_min <= SLO_MINUTES)
		return c->sum_mins[n_min];
	int64_t cut = ceil_div(now_min - SLO_MINUTES + 1, 60) * 60;
	struct slo_counts out = c->sum_mins[now_min - cut + 1];
	int64_t n_h = cut / 60 - ceil_div(now_min - n_min + 1, 60);
	if (n_h > c->n_hours)
		n_h = c->n_hours;
	if (n_h > 0) {
		out.bad += c->sum_hours[n_h].bad;
		out.total += c->sum_hours[n_h].total;
	}
	return out;
}

static void grp_eval(struct slo_counter *c, const struct slo_def *d, const struct grp *g, int64_t now_ns,
                     struct slo_group_eval *out)
{
	memset(out, 0, sizeof *out);
	out->value = g->value;
	grp_sums(c, g, now_ns);
	out->budget = sums_window(c, d->window_ns, now_ns);
	for (uint32_t i = 0; i < d->n_alerts && i < SLO_MAX_ALERTS; i++) {
		out->lng[i] = sums_window(c, d->alerts[i].long_ns, now_ns);
		out->shrt[i] = sums_window(c, d->alerts[i].short_ns, now_ns);
	}
	out->n_examples = g->n_ex;
	memcpy(out->examples, g->ex, sizeof out->examples);
	out->service = g->service;
	out->team = g->team;
}

int slo_counter_eval(struct slo_counter *c, const struct slo_def *d, int64_t now_ns, slo_group_fn fn, void *ctx)
{
	int rc;
	struct slo_group_eval ge;
	pthread_mutex_lock(&c->lock);
	grp_eval(c, d, &c->all, now_ns, &ge);
	rc = fn(ctx, &ge);
	int64_t oldest_hour = (now_ns - c->window_ns) / SLO_HOUR_NS - 1;
	bool removed = false;
	for (uint32_t i = 0; rc == 0 && i < c->n_groups;) {
		struct grp *g = c->groups[i];
		if (g->hour_head < oldest_hour) {
			grp_free(g);
			free(g);
			c->groups[i] = c->groups[--c->n_groups];
			removed = true;
			continue;
		}
		grp_eval(c, d, g, now_ns, &ge);
		rc = fn(ctx, &ge);
		i++;
	}
	if (removed && group_index_rebuild(&c->index, c->n_groups, grp_hash_at, c) < 0)
		c->max_groups = c->n_groups; /* no table: refuse new groups until memory returns */
	pthread_mutex_unlock(&c->lock);
	return rc;
}

uint64_t slo_counter_seq(struct slo_counter *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t s = c->seq;
	pthread_mutex_unlock(&c->lock);
	return s;
}

/* ---- status ---- */

static void write_ratio(struct json *j, const char *key, struct slo_counts c, double objective)
{
	json_key(j, "total");
	json_uint(j, c.total);
	json_key(j, "bad");
	json_uint(j, c.bad);
	json_key(j, key);
	if (c.total)
		json_double(j, (double)(c.total - c.bad) / (double)c.total);
	else
		json_null_value(j);
	json_key(j, "budgetRemaining");
	json_double(j, slo_budget_remaining(c, objective));
}

static void write_burn_rates(struct json *j, const struct slo_def *d, const struct slo_group_eval *ge, slo_firing_fn fn,
                             void *ctx)
{
	json_key(j, "burnRates");
	json_arr_begin(j);
	for (uint32_t i = 0; i < d->n_alerts; i++) {
		const struct slo_alert *a = &d->alerts[i];
		json_obj_begin(j);
		write_dur(j, "long", a->long_ns);
		write_dur(j, "short", a->short_ns);
		json_key(j, "factor");
		json_double(j, a->factor);
		json_key(j, "severity");
		json_cstr(j, alert_severity_name(a->severity));
		json_key(j, "longRate");
		json_double(j, slo_burn_rate(ge->lng[i], d->objective));
		json_key(j, "shortRate");
		json_double(j, slo_burn_rate(ge->shrt[i], d->objective));
		json_key(j, "firing");
		json_bool(j, fn ? fn(ctx, i, ge->value) : false);
		json_obj_end(j);
	}
	json_arr_end(j);
}

struct ranked {
	double budget;
	uint32_t i;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	return x->budget < y->budget ? -1 : x->budget > y->budget ? 1 : (x->i > y->i) - (x->i < y->i);
}

void slo_write_status(struct json *j, const struct slo_def *d, struct slo_counter *c, int64_t now_ns, uint32_t limit,
                      bool compact, slo_firing_fn fn, void *ctx)
{
	struct slo_group_eval ge;
	pthread_mutex_lock(&c->lock);
	grp_eval(c, d, &c->all, now_ns, &ge);
	json_obj_begin(j);
	json_key(j, "objective");
	json_double(j, d->objective);
	write_dur(j, "window", d->window_ns);
	write_ratio(j, "sli", ge.budget, d->objective);
	write_burn_rates(j, d, &ge, fn, ctx);
	if (!compact && d->by) {
		struct ranked *r = xcalloc(c->n_groups + 1, sizeof *r);
		for (uint32_t i = 0; i < c->n_groups; i++) {
			r[i].budget =
			    slo_budget_remaining(grp_window(c, c->groups[i], d->window_ns, now_ns), d->objective);
			r[i].i = i;
		}
		qsort(r, c->n_groups, sizeof *r, cmp_ranked);
		json_key(j, "groups");
		json_arr_begin(j);
		for (uint32_t k = 0; k < c->n_groups && k < limit; k++) {
			const struct grp *g = c->groups[r[k].i];
			grp_eval(c, d, g, now_ns, &ge);
			json_obj_begin(j);
			json_key(j, "value");
			json_cstr(j, g->value);
			write_ratio(j, "sli", ge.budget, d->objective);
			write_burn_rates(j, d, &ge, fn, ctx);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_key(j, "groupCount");
		json_uint(j, c->n_groups);
		json_key(j, "groupsDropped");
		json_uint(j, c->dropped);
		free(r);
	}
	if (!compact) {
		/* the budget left at the end of each hour, counted from the window's start */
		json_key(j, "burndown");
		json_arr_begin(j);
		int64_t now_min = now_ns / SLO_MINUTE_NS, now_h = now_ns / SLO_HOUR_NS;
		int64_t first_h = ceil_div(now_min - ceil_div(d->window_ns, SLO_MINUTE_NS) + 1, 60);
		struct slo_counts cum = {0, 0};
		for (int64_t h = first_h; h <= now_h; h++) {
			sum_ring((const uint32_t(*)[2])c->all.hours, c->n_hours, c->all.hour_head, h, h, &cum);
			int64_t t = (h + 1) * SLO_HOUR_NS < now_ns ? (h + 1) * SLO_HOUR_NS : now_ns;
			json_arr_begin(j);
			json_int(j, t / 1000000);
			json_double(j, slo_budget_remaining(cum, d->objective));
			json_arr_end(j);
		}
		json_arr_end(j);
	}
	json_obj_end(j);
	pthread_mutex_unlock(&c->lock);
}

/* ---- snapshots ---- */

static void put_ring(struct buf *b, const uint32_t (*ring)[2], uint32_t size, int64_t head)
{
	buf_append_varint(b, head == INT64_MIN ? 0 : (uint64_t)head + 1);
	uint32_t n = 0;
	for (uint32_t i = 0; i < size; i++)
		n += ring[i][1] != 0;
	buf_append_varint(b, n);
	for (uint32_t i = 0; i < size; i++)
		if (ring[i][1]) {
			buf_append_varint(b, i);
			buf_append_varint(b, ring[i][0]);
			buf_append_varint(b, ring[i][1]);
		}
}

static void put_grp(struct buf *b, const struct slo_counter *c, const struct grp *g)
{
	size_t vl = g->value ? strlen(g->value) : 0;
	buf_append_varint(b, g->value ? vl + 1 : 0);
	buf_append(b, g->value, vl);
	put_ring(b, (const uint32_t(*)[2])g->mins, SLO_MINUTES, g->min_head);
	put_ring(b, (const uint32_t(*)[2])g->hours, c->n_hours, g->hour_head);
}

int slo_counter_encode(struct slo_counter *c, struct buf *out)
{
	size_t start = out->len;
	pthread_mutex_lock(&c->lock);
	buf_append(out, SLO_MAGIC, 8);
	buf_append_u64le(out, c->sig);
	buf_append_varint(out, c->n_hours);
	buf_append_varint(out, c->n_groups);
	put_grp(out, c, &c->all);
	for (uint32_t i = 0; i < c->n_groups; i++)
		put_grp(out, c, c->groups[i]);
	pthread_mutex_unlock(&c->lock);
	if (!out->err)
		buf_append_u32le(out, crc32c(0, out->p + start, out->len - start));
	return out->err;
}

struct cursor {
	const uint8_t *p, *start, *end;
	bool bad;
};

static uint64_t get_varint(struct cursor *cu)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (cu->p >= cu->end) {
			cu->bad = true;
			return 0;
		}
		uint8_t byte = *cu->p++;
		v |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
	}
	cu->bad = true;
	return 0;
}

static void get_ring(struct cursor *cu, uint32_t (*ring)[2], uint32_t size, int64_t *head)
{
	uint64_t h = get_varint(cu);
	*head = h == 0 ? INT64_MIN : (int64_t)(h - 1);
	uint64_t n = get_varint(cu);
	if (n > size) {
		cu->bad = true;
		return;
	}
	for (uint64_t k = 0; k < n && !cu->bad; k++) {
		uint64_t i = get_varint(cu), bad = get_varint(cu), total = get_varint(cu);
		if (i >= size || bad > total || total > UINT32_MAX || h == 0) {
			cu->bad = true;
			return;
		}
		ring[i][0] = (uint32_t)bad;
		ring[i][1] = (uint32_t)total;
	}
}

int slo_counter_decode(struct slo_counter *c, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	groups_clear(c);
	struct cursor cu = {p, p, p, false};
	if (len < 8 + 8 + 4 || memcmp(p, SLO_MAGIC, 8) != 0) {
		rc = CLEW_ECORRUPT;
		snprintf(err, errlen, "offset 0: not an SLO counter snapshot");
		goto out;
	}
	cu.p = p + 16;
	cu.end = p + len - 4;
	uint32_t crc =
	    (uint32_t)p[len - 4] | (uint32_t)p[len - 3] << 8 | (uint32_t)p[len - 2] << 16 | (uint32_t)p[len - 1] << 24;
	if (crc32c(0, p, len - 4) != crc) {
		rc = CLEW_ECORRUPT;
		snprintf(err, errlen, "offset %zu: checksum mismatch", len - 4);
		goto out;
	}
	uint64_t sig = 0;
	for (int i = 0; i < 8; i++)
		sig |= (uint64_t)p[8 + i] << (8 * i);
	uint64_t n_hours = get_varint(&cu);
	if (sig != c->sig || n_hours != c->n_hours) {
		rc = CLEW_EINVAL;
		snprintf(err, errlen, "the snapshot counts another definition (query, by, good or window changed)");
		goto out;
	}
	uint64_t n_groups = get_varint(&cu);
	char value[SLO_MAX_VALUE + 1];
	for (uint64_t g = 0; g <= n_groups && !cu.bad; g++) {
		uint64_t vl = get_varint(&cu);
		struct grp *gr = &c->all;
		if (g == 0 && vl != 0)
			cu.bad = true;
		if (g > 0) {
			if (vl == 0 || vl - 1 > SLO_MAX_VALUE || (uint64_t)(cu.end - cu.p) < vl - 1) {
				cu.bad = true;
				break;
			}
			memcpy(value, cu.p, vl - 1);
			value[vl - 1] = 0;
			cu.p += vl - 1;
			gr = grp_get(c, value);
			if (!gr) {
				rc = CLEW_ECORRUPT;
				snprintf(err, errlen, "offset %zu: more groups than the SLO keeps", (size_t)(cu.p - p));
				goto out;
			}
		}
		get_ring(&cu, gr->mins, SLO_MINUTES, &gr->min_head);
		get_ring(&cu, gr->hours, c->n_hours, &gr->hour_head);
	}
	if (cu.bad || cu.p != cu.end) {
		rc = CLEW_ECORRUPT;
		snprintf(err, errlen, "offset %zu: malformed SLO counter snapshot", (size_t)(cu.p - p));
	}
out:
	if (rc < 0)
		groups_clear(c);
	pthread_mutex_unlock(&c->lock);
	return rc;
}
