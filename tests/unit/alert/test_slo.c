/* Unit tests of SLOs: validation, burn-rate and budget arithmetic, the
 * minute and hour buckets at their edges, the counters fed from a batch,
 * snapshots, and burn alerts through the alert engine across a restart. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../testlib.h"
#include "billing_batch.h"
#include "alert/alert_engine.h"
#include "alert/alert_stream.h"
#include "alert/slo.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"

#define S    1000000000LL
#define MIN  (60 * S)
#define HOUR (3600 * S)
#define NOW  (1795000000LL * S) /* on a whole hour: 1795000000 = 498611 h + 400 s; shifted below */

static const char *good_slo = "{\"name\": \"billing availability\", \"query\": \"{ resource.service.name = "
                              "\\\"billing\\\" && kind = server }\", \"objective\": 0.999, \"window\": \"30d\", "
                              "\"good\": {\"errors\": false, \"latencyThreshold\": \"300ms\"}, \"by\": "
                              "\"span.customer.id\", \"labels\": {\"team\": \"billing\"}, \"notify\": [{\"type\": "
                              "\"webhook\", \"url\": \"http://127.0.0.1:1/hook\"}]}";

TEST(slo_parses_with_default_alerts)
{
	struct slo_def d;
	char err[300];
	CHECK_INT(slo_def_parse(good_slo, strlen(good_slo), &d, err, sizeof err), ==, 0);
	CHECK_STR(d.name, "billing availability");
	CHECK(fabs(d.objective - 0.999) < 1e-12);
	CHECK_INT(d.window_ns, ==, 30 * 24 * HOUR);
	CHECK_INT(d.latency_ns, ==, 300000000LL);
	CHECK(d.errors_bad);
	CHECK_STR(d.by, "span.customer.id");
	CHECK(d.default_alerts);
	CHECK_INT(d.n_alerts, ==, 4);
	CHECK_INT(d.alerts[0].long_ns, ==, HOUR);
	CHECK_INT(d.alerts[0].short_ns, ==, 5 * MIN);
	CHECK(fabs(d.alerts[0].factor - 14.4) < 1e-12);
	CHECK_INT(d.alerts[0].severity, ==, ALERT_SEV_CRITICAL);
	CHECK_INT(d.alerts[1].long_ns, ==, 6 * HOUR);
	CHECK(fabs(d.alerts[1].factor - 6) < 1e-12);
	CHECK_INT(d.alerts[2].severity, ==, ALERT_SEV_WARNING);
	CHECK_INT(d.alerts[3].long_ns, ==, 72 * HOUR);
	CHECK_INT(d.rule.n_targets, ==, 1);
	CHECK_STR(alert_rule_label(&d.rule, "team"), "billing");
	char w[64];
	slo_alert_window_name(&d.alerts[1], w, sizeof w);
	CHECK_STR(w, "6h/30m");
	/* the JSON form reads back the same */
	struct buf b;
	buf_init(&b, 1 << 20);
	struct json j;
	json_init(&j, &b);
	slo_def_write_json(&j, &d);
	CHECK_INT(b.err, ==, 0);
	struct slo_def d2;
	CHECK_INT(slo_def_parse((const char *)b.p, b.len, &d2, err, sizeof err), ==, 0);
	CHECK(slo_def_same_counts(&d, &d2));
	CHECK_INT(d2.n_alerts, ==, 4);
	CHECK_INT(d2.rule.n_targets, ==, 1);
	buf_free(&b);
	slo_def_free(&d2);
	slo_def_free(&d);
	/* a 1-day window keeps only the default alerts that fit in it */
	const char *day = "{\"name\": \"x\", \"service\": \"billing\", \"objective\": 0.99, \"window\": \"1d\", "
	                  "\"good\": {\"latencyThreshold\": \"1s\"}}";
	CHECK_INT(slo_def_parse(day, strlen(day), &d, err, sizeof err), ==, 0);
	CHECK_INT(d.n_alerts, ==, 3);
	CHECK(strstr(d.query, "billing") != NULL);
	CHECK(!d.errors_bad);
	slo_def_free(&d);
}

/* A latency threshold below a millisecond is stored as it was given:
 * slos.json must load back the same SLO after a restart. */
TEST(slo_sub_millisecond_threshold_round_trips)
{
	static const char *const given[] = {"250us", "1.5ms", "1ns", "2s500us"};
	static const int64_t want[] = {250000, 1500000, 1, 2000500000};
	for (size_t i = 0; i < 4; i++) {
		char text[512], err[300];
		snprintf(text, sizeof text,
		         "{\"name\": \"x\", \"query\": \"{}\", \"objective\": 0.9, \"good\": "
		         "{\"latencyThreshold\": \"%s\"}}",
		         given[i]);
		struct slo_def d, d2;
		CHECK_INT(slo_def_parse(text, strlen(text), &d, err, sizeof err), ==, 0);
		CHECK_INT(d.latency_ns, ==, want[i]);
		struct buf b;
		buf_init(&b, 1 << 20);
		struct json j;
		json_init(&j, &b);
		slo_def_write_json(&j, &d);
		CHECK_INT(slo_def_parse((const char *)b.p, b.len, &d2, err, sizeof err), ==, 0);
		CHECK_INT(d2.latency_ns, ==, want[i]);
		CHECK(slo_def_same_counts(&d, &d2));
		buf_free(&b);
		slo_def_free(&d2);
		slo_def_free(&d);
	}
}

static void bad(const char *json, const char *want)
{
	struct slo_def d;
	char err[300] = "";
	int rc = slo_def_parse(json, strlen(json), &d, err, sizeof err);
	slo_def_free(&d);
	if (rc != CLEW_EINVAL && rc != CLEW_EPARSE)
		test_fail(__FILE__, __LINE__, "accepted %s (rc %d)", json, rc);
	else if (!strstr(err, want))
		test_fail(__FILE__, __LINE__, "%s: message \"%s\" lacks \"%s\"", json, err, want);
}

#define Q "\"query\": \"{ kind = server }\", "
#define G "\"good\": {\"errors\": false}"

TEST(slo_rejects_bad_input_naming_the_field)
{
	bad("[1]", "JSON object");
	bad("{", "not valid JSON");
	bad("{\"query\": \"{}\", \"objective\": 0.9, " G "}", "\"name\"");
	bad("{\"name\": \"a\", \"objective\": 0.9, " G "}", "\"query\"");
	bad("{\"name\": \"a\", \"query\": \"{ kind = }\", \"objective\": 0.9, " G "}", "\"query\"");
	bad("{\"name\": \"a\", \"query\": \"{} | rate()\", \"objective\": 0.9, " G "}", "spanset filter");
	bad("{\"name\": \"a\", " Q G "}", "\"objective\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 1, " G "}", "\"objective\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0, " G "}", "\"objective\"");
	bad("{\"name\": \"a\", " Q "\"objective\": \"0.9\", " G "}", "\"objective\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9}", "\"good\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, \"good\": {}}", "\"good\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, \"good\": {\"errors\": true}}", "\"good\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, \"good\": {\"errors\": 0}}", "good.errors");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, \"good\": {\"latencyThreshold\": \"fast\"}}",
	    "good.latencyThreshold");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, \"window\": \"10m\", " G "}", "\"window\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, \"window\": \"100d\", " G "}", "\"window\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, \"window\": \"soon\", " G "}", "\"window\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, \"by\": \"span.a, span.b\", " G "}", "\"by\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, \"by\": 3, " G "}", "\"by\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G ", \"alerts\": {}}", "\"alerts\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G ", \"alerts\": [1]}", "alerts[0]");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G
	    ", \"alerts\": [{\"long\": \"1h\", \"short\": \"5m\", \"factor\": 2}, {\"long\": \"1h\", \"short\": "
	    "\"2h\", \"factor\": 2}]}",
	    "alerts[1].short");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G ", \"alerts\": [{\"long\": \"1h\", \"short\": \"5m\"}]}",
	    "alerts[0].factor");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G
	    ", \"alerts\": [{\"long\": \"1h\", \"short\": \"5m\", \"factor\": -1}]}",
	    "alerts[0].factor");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, \"window\": \"1d\", " G
	    ", \"alerts\": [{\"long\": \"2d\", \"short\": \"5m\", \"factor\": 2}]}",
	    "alerts[0].long");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G ", \"alerts\": [{\"short\": \"5m\", \"factor\": 2}]}",
	    "alerts[0]");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G
	    ", \"alerts\": [{\"long\": \"1h\", \"short\": \"5m\", \"factor\": 2, \"severity\": \"loud\"}]}",
	    "alerts[0].severity");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G ", \"severity\": \"loud\"}", "\"severity\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G ", \"notify\": [{\"type\": \"webhook\", \"url\": "
	    "\"ftp://x\"}]}",
	    "notify[0].url");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G ", \"labels\": [1]}", "\"labels\"");
	bad("{\"name\": \"a\", " Q "\"objective\": 0.9, " G ", \"interval\": \"10ms\"}", "\"interval\"");
}

TEST(slo_burn_rate_and_budget_arithmetic)
{
	struct slo_counts c = {.bad = 10, .total = 1000};
	/* 1% bad against a 0.1% budget: burning 10x, 9 budgets overspent */
	CHECK(fabs(slo_burn_rate(c, 0.999) - 10) < 1e-9);
	CHECK(fabs(slo_budget_remaining(c, 0.999) - -9) < 1e-9);
	CHECK(fabs(slo_burn_rate(c, 0.99) - 1) < 1e-9);
	CHECK(fabs(slo_budget_remaining(c, 0.99) - 0) < 1e-9);
	CHECK(fabs(slo_burn_rate(c, 0.9) - 0.1) < 1e-9);
	CHECK(fabs(slo_budget_remaining(c, 0.9) - 0.9) < 1e-9);
	struct slo_counts none = {0, 0};
	CHECK(slo_burn_rate(none, 0.999) == 0);
	CHECK(slo_budget_remaining(none, 0.999) == 1);
}

static struct slo_counter *counter_for(const char *json, struct slo_def *d)
{
	char err[300];
	int rc;
	if (slo_def_parse(json, strlen(json), d, err, sizeof err) < 0)
		return NULL;
	return slo_counter_new(d, 0, &rc, err, sizeof err);
}

TEST(slo_window_edges)
{
	struct slo_def d;
	struct slo_counter *c = counter_for(good_slo, &d);
	CHECK(c);
	int64_t now = (NOW / HOUR) * HOUR + 30 * MIN + 10 * S; /* 30m10s into an hour */
	/* one bad request in each of the last 10 hours' minutes, at their start */
	for (int64_t m = 0; m < 10 * 60; m++)
		slo_counter_add(c, "acme", now - m * MIN, m % 10 != 0, now);
	struct slo_counts w;
	/* 5m: the current minute (partial) and the 4 before it */
	CHECK_INT(slo_counter_window(c, NULL, 5 * MIN, now, &w), ==, 0);
	CHECK_INT(w.total, ==, 5);
	CHECK_INT(w.bad, ==, 1);
	CHECK_INT(slo_counter_window(c, "acme", 5 * MIN, now, &w), ==, 0);
	CHECK_INT(w.total, ==, 5);
	CHECK_INT(slo_counter_window(c, "other", 5 * MIN, now, &w), ==, CLEW_ENOTFOUND);
	CHECK_INT(slo_counter_window(c, NULL, HOUR, now, &w), ==, 0);
	CHECK_INT(w.total, ==, 60);
	CHECK_INT(w.bad, ==, 6);
	CHECK_INT(slo_counter_window(c, NULL, 6 * HOUR, now, &w), ==, 0);
	CHECK_INT(w.total, ==, 360);
	/* 8h: minute ring from the first whole hour it holds, hours before */
	CHECK_INT(slo_counter_window(c, NULL, 8 * HOUR, now, &w), ==, 0);
	CHECK(w.total >= 8 * 60 - 60 && w.total <= 8 * 60);
	/* the whole window holds all 600 */
	CHECK_INT(slo_counter_window(c, NULL, 30 * 24 * HOUR, now, &w), ==, 0);
	CHECK_INT(w.total, ==, 600);
	CHECK_INT(w.bad, ==, 60);
	/* a minute later the oldest minute of the 5m window falls out */
	CHECK_INT(slo_counter_window(c, NULL, 5 * MIN, now + MIN, &w), ==, 0);
	CHECK_INT(w.total, ==, 4);
	/* far in the future, nothing is left */
	CHECK_INT(slo_counter_window(c, NULL, 30 * 24 * HOUR, now + 40 * 24 * HOUR, &w), ==, 0);
	CHECK_INT(w.total, ==, 0);
	/* too old to count, and from the future (counts as now) */
	slo_counter_add(c, NULL, now - 31 * 24 * HOUR - 2 * HOUR, false, now);
	slo_counter_add(c, NULL, now + HOUR, false, now);
	CHECK_INT(slo_counter_window(c, NULL, 30 * 24 * HOUR, now, &w), ==, 0);
	CHECK_INT(w.total, ==, 601);
	CHECK_INT(w.bad, ==, 61);
	/* a head that moves more than a ring forward clears it */
	slo_counter_add(c, NULL, now + 10 * HOUR, false, now + 10 * HOUR);
	CHECK_INT(slo_counter_window(c, NULL, HOUR, now + 10 * HOUR, &w), ==, 0);
	CHECK_INT(w.total, ==, 1);
	CHECK_INT(w.bad, ==, 1);
	slo_counter_free(c);
	slo_def_free(&d);
}

/* A batch of server spans of service billing: account i % 3, every 5th
 * span of acme an error, globex's slow. */
static void make_batch(struct span_batch *b, struct arena *a, uint32_t n, int64_t t0)
{
	billing_batch_init(b, a);
	static const char *accts[] = {"acme", "globex", "initech"};
	for (uint32_t i = 0; i < n; i++) {
		struct span *s = span_batch_add_span(b, 0);
		memset(s->trace_id, 0, 16);
		s->trace_id[0] = (uint8_t)(i / 3 + 1);
		s->trace_id[15] = (uint8_t)(i >> 8);
		s->span_id[0] = (uint8_t)(i + 1);
		s->span_id[1] = (uint8_t)(i >> 8);
		s->kind = i % 7 == 6 ? SPAN_KIND_CLIENT : SPAN_KIND_SERVER;
		s->start_unix_ns = t0 + (int64_t)i * 1000000;
		const char *acct = accts[i % 3];
		s->end_unix_ns = s->start_unix_ns + (i % 3 == 1 ? 500000000LL : 1000000LL);
		s->status_code = i % 3 == 0 && i % 5 == 0 ? STATUS_ERROR : STATUS_OK;
		s->attrs.items = arena_array(a, 1, sizeof(struct attr));
		s->attrs.items[0].key = SLICE_LIT("customer.id");
		s->attrs.items[0].value.type = ANY_STRING;
		s->attrs.items[0].value.u.str = slice_cstr(acct);
		s->attrs.n = 1;
	}
}

/* The counts make_batch's spans should give, computed independently. */
static void expected(uint32_t n, const char *acct, bool latency, struct slo_counts *out)
{
	static const char *accts[] = {"acme", "globex", "initech"};
	memset(out, 0, sizeof *out);
	for (uint32_t i = 0; i < n; i++) {
		if (i % 7 == 6 || (acct && strcmp(acct, accts[i % 3]) != 0))
			continue;
		out->total++;
		out->bad += (latency && i % 3 == 1) || (i % 3 == 0 && i % 5 == 0);
	}
}

TEST(slo_counts_a_batch_by_account)
{
	struct slo_def d;
	struct slo_counter *c = counter_for(good_slo, &d);
	CHECK(c);
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b, grouped;
	int64_t now = NOW;
	make_batch(&b, &a, 600, now - 30 * S);
	CHECK_INT(alert_stream_group_traces(&b, &a, &grouped), ==, 0);
	CHECK_INT(slo_counter_add_grouped(c, &grouped, now), ==, 0);
	struct slo_counts w, want;
	CHECK_INT(slo_counter_window(c, NULL, HOUR, now, &w), ==, 0);
	expected(600, NULL, true, &want);
	CHECK_INT(w.total, ==, want.total);
	CHECK_INT(w.bad, ==, want.bad);
	static const char *accts[] = {"acme", "globex", "initech"};
	for (int k = 0; k < 3; k++) {
		CHECK_INT(slo_counter_window(c, accts[k], 5 * MIN, now, &w), ==, 0);
		expected(600, accts[k], true, &want);
		CHECK_INT(w.total, ==, want.total);
		CHECK_INT(w.bad, ==, want.bad);
	}
	CHECK(slo_counter_seq(c) > 0);
	/* the status: groups worst first (globex, all slow), burndown */
	struct buf out;
	buf_init(&out, 1 << 22);
	struct json j;
	json_init(&j, &out);
	slo_write_status(&j, &d, c, now, 2, false, NULL, NULL);
	CHECK_INT(out.err, ==, 0);
	json_t *st = json_loadb((const char *)out.p, out.len, 0, NULL);
	CHECK(st);
	expected(600, NULL, true, &want);
	CHECK_INT(json_integer_value(json_object_get(st, "total")), ==, want.total);
	CHECK_INT(json_integer_value(json_object_get(st, "bad")), ==, want.bad);
	double sli = json_number_value(json_object_get(st, "sli"));
	CHECK(fabs(sli - (double)(want.total - want.bad) / (double)want.total) < 1e-9);
	CHECK_INT(json_array_size(json_object_get(st, "burnRates")), ==, 4);
	double lr = json_number_value(json_object_get(json_array_get(json_object_get(st, "burnRates"), 0), "longRate"));
	CHECK(fabs(lr - ((double)want.bad / (double)want.total) / 0.001) < 1e-6);
	json_t *groups = json_object_get(st, "groups");
	CHECK_INT(json_array_size(groups), ==, 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(groups, 0), "value")), "globex");
	CHECK_INT(json_integer_value(json_object_get(st, "groupCount")), ==, 3);
	json_t *bd = json_object_get(st, "burndown");
	CHECK_INT(json_array_size(bd), >=, 720);
	json_t *last = json_array_get(bd, json_array_size(bd) - 1);
	CHECK_INT(json_integer_value(json_array_get(last, 0)), ==, now / 1000000);
	CHECK(fabs(json_number_value(json_array_get(last, 1)) -
	           json_number_value(json_object_get(st, "budgetRemaining"))) < 1e-9);
	json_decref(st);
	buf_free(&out);
	arena_reset(&a);
	slo_counter_free(c);
	slo_def_free(&d);
}

/* An SLO grouped by an intrinsic names its groups as alert rules do
 * (status: "error", "ok"), rather than dropping those spans from them. */
TEST(slo_groups_by_an_intrinsic)
{
	static const char *by_status = "{\"name\": \"by status\", \"query\": \"{ kind = server }\", "
	                               "\"objective\": 0.99, \"window\": \"1d\", \"good\": {\"errors\": false}, "
	                               "\"by\": \"status\"}";
	struct slo_def d;
	struct slo_counter *c = counter_for(by_status, &d);
	CHECK(c);
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b, grouped;
	int64_t now = NOW;
	make_batch(&b, &a, 600, now - 30 * S);
	CHECK_INT(alert_stream_group_traces(&b, &a, &grouped), ==, 0);
	CHECK_INT(slo_counter_add_grouped(c, &grouped, now), ==, 0);
	struct slo_counts all, err, ok;
	CHECK_INT(slo_counter_window(c, NULL, HOUR, now, &all), ==, 0);
	CHECK_INT(slo_counter_window(c, "error", HOUR, now, &err), ==, 0);
	CHECK_INT(slo_counter_window(c, "ok", HOUR, now, &ok), ==, 0);
	struct slo_counts want;
	expected(600, NULL, false, &want);
	CHECK_INT(all.total, ==, want.total);
	CHECK_INT(err.total, ==, want.bad);
	CHECK_INT(err.bad, ==, want.bad);
	CHECK_INT(ok.total, ==, want.total - want.bad);
	CHECK_INT(ok.bad, ==, 0);
	arena_reset(&a);
	slo_counter_free(c);
	slo_def_free(&d);
}

TEST(slo_snapshot_round_trip_and_corruption)
{
	struct slo_def d;
	struct slo_counter *c = counter_for(good_slo, &d);
	CHECK(c);
	int64_t now = NOW;
	for (int i = 0; i < 5000; i++)
		slo_counter_add(c, i % 2 ? "acme" : "globex", now - (int64_t)(i % 2000) * MIN, i % 7 != 0, now);
	struct buf b;
	buf_init(&b, 1 << 24);
	CHECK_INT(slo_counter_encode(c, &b), ==, 0);
	int rc;
	char err[300];
	struct slo_counter *c2 = slo_counter_new(&d, 0, &rc, err, sizeof err);
	CHECK(c2);
	CHECK_INT(slo_counter_decode(c2, b.p, b.len, err, sizeof err), ==, 0);
	static const int64_t wins[] = {5 * MIN, HOUR, 6 * HOUR, 24 * HOUR, 30 * 24 * HOUR};
	static const char *vals[] = {NULL, "acme", "globex"};
	for (int w = 0; w < 5; w++)
		for (int v = 0; v < 3; v++) {
			struct slo_counts x, y;
			CHECK_INT(slo_counter_window(c, vals[v], wins[w], now, &x), ==, 0);
			CHECK_INT(slo_counter_window(c2, vals[v], wins[w], now, &y), ==, 0);
			CHECK_INT(x.total, ==, y.total);
			CHECK_INT(x.bad, ==, y.bad);
			CHECK(x.total > 0);
		}
	/* every flipped byte and every truncation is refused, leaving it empty */
	uint8_t *copy = malloc(b.len);
	for (size_t i = 0; i < b.len; i += 7) {
		memcpy(copy, b.p, b.len);
		copy[i] ^= 0x41;
		CHECK(slo_counter_decode(c2, copy, b.len, err, sizeof err) < 0);
		CHECK(slo_counter_decode(c2, b.p, i, err, sizeof err) < 0);
	}
	free(copy);
	struct slo_counts z;
	CHECK_INT(slo_counter_window(c2, NULL, 30 * 24 * HOUR, now, &z), ==, 0);
	CHECK_INT(z.total, ==, 0);
	/* a snapshot of another definition is not loaded */
	struct slo_def d3;
	char *other = strdup(good_slo);
	memcpy(strstr(other, "300ms"), "200ms", 5);
	struct slo_counter *c3 = counter_for(other, &d3);
	CHECK(c3);
	CHECK_INT(slo_counter_decode(c3, b.p, b.len, err, sizeof err), ==, CLEW_EINVAL);
	CHECK(!slo_def_same_counts(&d, &d3));
	free(other);
	slo_counter_free(c3);
	slo_def_free(&d3);
	buf_free(&b);
	slo_counter_free(c2);
	slo_counter_free(c);
	slo_def_free(&d);
}

static void engine_opts(struct alert_engine_options *o, const char *dir)
{
	memset(o, 0, sizeof *o);
	o->data_dir = dir;
	o->manual = true;
	o->public_url = "http://clew.example:3200";
	o->notify.backoff_ns = 10000000;
	o->notify.timeout_ns = 200000000;
	o->notify.max_attempts = 1000; /* the receiver is down: everything stays in the outbox */
}

static json_t *to_json(struct buf *b)
{
	json_t *v = b->err ? NULL : json_loadb((const char *)b->p, b->len, 0, NULL);
	buf_clear(b);
	return v;
}

TEST(slo_burn_alert_fires_through_the_engine_and_survives_restart)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/slo", test_tmpdir());
	struct alert_engine_options o;
	engine_opts(&o, dir);
	int rc;
	char err[300] = "";
	struct alert_engine *e = alert_engine_open(&o, &rc, err, sizeof err);
	CHECK(e);
	const char *slo =
	    "{\"name\": \"billing errors\", \"query\": \"{ kind = server }\", \"objective\": 0.99, "
	    "\"window\": \"7d\", \"good\": {\"errors\": false}, \"by\": \"span.customer.id\", "
	    "\"interval\": \"1s\", \"alerts\": [{\"long\": \"1h\", \"short\": \"5m\", \"factor\": 10}, "
	    "{\"long\": \"6h\", \"short\": \"30m\", \"factor\": 25}], \"notify\": [{\"type\": \"webhook\", "
	    "\"url\": \"http://127.0.0.1:9/hook\"}]}";
	struct buf b;
	buf_init(&b, 1 << 24);
	struct json j;
	json_init(&j, &b);
	CHECK_INT(alert_engine_put_slo(e, NULL, slo, strlen(slo), &j, err, sizeof err), ==, 0);
	json_t *def = to_json(&b);
	CHECK(def);
	char id[17];
	snprintf(id, sizeof id, "%s", json_string_value(json_object_get(def, "id")));
	json_decref(def);
	CHECK_INT(strlen(id), ==, 16);
	json_init(&j, &b);
	CHECK_INT(alert_engine_put_slo(e, NULL, "{\"name\": 1}", 11, &j, err, sizeof err), ==, CLEW_EINVAL);
	CHECK(strstr(err, "\"name\""));
	buf_clear(&b);
	CHECK_INT(alert_engine_put_slo(e, "0123456789abcdef", slo, strlen(slo), NULL, err, sizeof err), ==,
	          CLEW_ENOTFOUND);
	/* acme: a fifth of its requests fail, a burn rate of 20 against a 1% budget */
	int64_t now = NOW;
	struct arena a;
	arena_init(&a, 0);
	struct span_batch batch;
	make_batch(&batch, &a, 600, now - 30 * S);
	alert_engine_add_batch(e, &batch, now);
	alert_engine_tick(e, now);
	json_init(&j, &b);
	alert_engine_list_alerts(e, id, "firing", &j);
	json_t *al = to_json(&b);
	json_t *arr = json_object_get(al, "alerts");
	CHECK_INT(json_array_size(arr), ==, 1); /* acme over 10x; nobody over 25x */
	json_t *in = json_array_get(arr, 0);
	CHECK_STR(json_string_value(json_object_get(json_object_get(in, "labels"), "span.customer.id")), "acme");
	CHECK_STR(json_string_value(json_object_get(json_object_get(in, "labels"), "window")), "1h/5m");
	CHECK_STR(json_string_value(json_object_get(json_object_get(in, "labels"), "slo")), "billing errors");
	struct slo_counts want;
	expected(600, "acme", false, &want);
	double rate = ((double)want.bad / (double)want.total) / 0.01;
	CHECK(fabs(json_number_value(json_object_get(json_object_get(in, "slo"), "longRate")) - rate) < 1e-9);
	CHECK(fabs(json_number_value(json_object_get(in, "value")) - rate) < 1e-9);
	json_decref(al);
	CHECK_INT(alert_engine_outbox(e), ==, 1);
	/* the status says the same, acme first, its 1h/5m alert firing */
	json_init(&j, &b);
	CHECK_INT(alert_engine_slo_status(e, id, 10, now, &j), ==, 0);
	json_t *st = to_json(&b);
	json_t *g0 = json_array_get(json_object_get(st, "groups"), 0);
	CHECK_STR(json_string_value(json_object_get(g0, "value")), "acme");
	CHECK(json_is_true(json_object_get(json_array_get(json_object_get(g0, "burnRates"), 0), "firing")));
	CHECK(json_is_false(json_object_get(json_array_get(json_object_get(g0, "burnRates"), 1), "firing")));
	expected(600, NULL, false, &want);
	CHECK_INT(json_integer_value(json_object_get(st, "total")), ==, want.total);
	CHECK_INT(json_integer_value(json_object_get(st, "bad")), ==, want.bad);
	json_decref(st);
	json_init(&j, &b);
	CHECK_INT(alert_engine_slo_status(e, "0123456789abcdef", 10, now, &j), ==, CLEW_ENOTFOUND);
	buf_clear(&b);
	/* the counters are snapshotted by the tick */
	char path[700];
	snprintf(path, sizeof path, "%s/state/slo-%s.counters", dir, id);
	FILE *f = fopen(path, "rb");
	CHECK(f);
	fclose(f);
	alert_engine_close(e);

	/* restart: the definition, the counts and the firing instance are back */
	e = alert_engine_open(&o, &rc, err, sizeof err);
	CHECK(e);
	json_init(&j, &b);
	alert_engine_list_slos(e, &j);
	json_t *ls = to_json(&b);
	CHECK_INT(json_array_size(json_object_get(ls, "slos")), ==, 1);
	json_t *s0 = json_array_get(json_object_get(ls, "slos"), 0);
	CHECK_STR(json_string_value(json_object_get(s0, "id")), id);
	json_decref(ls);
	json_init(&j, &b);
	CHECK_INT(alert_engine_slo_status(e, id, 10, now, &j), ==, 0);
	st = to_json(&b);
	CHECK_INT(json_integer_value(json_object_get(st, "total")), ==, want.total);
	CHECK_INT(json_integer_value(json_object_get(st, "bad")), ==, want.bad);
	json_decref(st);
	alert_engine_tick(e, now + 2 * S);
	json_init(&j, &b);
	alert_engine_list_alerts(e, id, "firing", &j);
	al = to_json(&b);
	CHECK_INT(json_array_size(json_object_get(al, "alerts")), ==, 1);
	json_decref(al);
	CHECK_INT(alert_engine_outbox(e), ==, 1); /* still the first notification, none new */
	/* ten minutes on, the short window is clean: it resolves */
	alert_engine_tick(e, now + 10 * MIN);
	json_init(&j, &b);
	alert_engine_list_alerts(e, id, "resolved", &j);
	al = to_json(&b);
	CHECK_INT(json_array_size(json_object_get(al, "alerts")), ==, 1);
	json_decref(al);
	CHECK_INT(alert_engine_outbox(e), ==, 2);
	/* a replacement with the same counts keeps them; delete forgets it all */
	json_init(&j, &b);
	CHECK_INT(alert_engine_put_slo(e, id, slo, strlen(slo), &j, err, sizeof err), ==, 0);
	buf_clear(&b);
	json_init(&j, &b);
	CHECK_INT(alert_engine_slo_status(e, id, 10, now, &j), ==, 0);
	st = to_json(&b);
	CHECK_INT(json_integer_value(json_object_get(st, "total")), ==, want.total);
	json_decref(st);
	CHECK_INT(alert_engine_delete_slo(e, id), ==, 0);
	CHECK_INT(alert_engine_delete_slo(e, id), ==, CLEW_ENOTFOUND);
	json_init(&j, &b);
	CHECK_INT(alert_engine_get_slo(e, id, &j), ==, CLEW_ENOTFOUND);
	f = fopen(path, "rb");
	CHECK(!f);
	alert_engine_close(e);
	buf_free(&b);
	arena_reset(&a);
}

/* The evaluation's one-pass sums agree with the window sums, on and off
 * hour boundaries and across the minute ring's edge. */
TEST(slo_eval_sums_match_window_sums)
{
	const char *js = "{\"name\": \"w\", \"query\": \"{}\", \"objective\": 0.9, \"window\": \"30d\", \"good\": "
			 "{\"errors\": false}, \"alerts\": [{\"long\": \"7h\", \"short\": \"1m\", \"factor\": 1}, "
			 "{\"long\": \"2d\", \"short\": \"359m\", \"factor\": 1}, {\"long\": \"30d\", \"short\": \"361m\", "
			 "\"factor\": 1}, {\"long\": \"6h1m\", \"short\": \"6h\", \"factor\": 1}]}";
	struct slo_def d;
	struct slo_counter *c = counter_for(js, &d);
	CHECK(c);
	int64_t base = (NOW / HOUR) * HOUR;
	uint32_t x = 12345;
	for (int i = 0; i < 20000; i++) {
		x = x * 1103515245u + 12345u;
		int64_t t = base - (int64_t)(x % (10 * 24 * 60)) * MIN - (int64_t)(x % 60) * S;
		slo_counter_add(c, NULL, t, (x >> 16) % 4 != 0, base);
	}
	static const int64_t offs[] = {0, 1, MIN - 1, MIN, 17 * MIN + 3 * S, 59 * MIN, HOUR, 5 * HOUR + 31 * MIN};
	uint64_t seen = 0;
	for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
		int64_t now = base - 3 * HOUR + offs[k];
		struct buf b;
		buf_init(&b, 1 << 22);
		struct json j;
		json_init(&j, &b);
		slo_write_status(&j, &d, c, now, 0, true, NULL, NULL);
		json_t *st = json_loadb((const char *)b.p, b.len, 0, NULL);
		buf_free(&b);
		CHECK(st);
		struct slo_counts w;
		CHECK_INT(slo_counter_window(c, NULL, d.window_ns, now, &w), ==, 0);
		CHECK_INT(json_integer_value(json_object_get(st, "total")), ==, w.total);
		CHECK_INT(json_integer_value(json_object_get(st, "bad")), ==, w.bad);
		for (uint32_t i = 0; i < d.n_alerts; i++) {
			json_t *br = json_array_get(json_object_get(st, "burnRates"), i);
			struct slo_counts l, s;
			CHECK_INT(slo_counter_window(c, NULL, d.alerts[i].long_ns, now, &l), ==, 0);
			CHECK_INT(slo_counter_window(c, NULL, d.alerts[i].short_ns, now, &s), ==, 0);
			seen += l.total + s.total;
			CHECK(json_number_value(json_object_get(br, "longRate")) == slo_burn_rate(l, d.objective));
			CHECK(json_number_value(json_object_get(br, "shortRate")) == slo_burn_rate(s, d.objective));
		}
		json_decref(st);
	}
	CHECK(seen > 20000);
	slo_counter_free(c);
	slo_def_free(&d);
}
