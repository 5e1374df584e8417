/* Unit tests of alerting: rule validation, the instance state machine with a
 * fake clock (for, hysteresis, re-notify, silences), streaming aggregates
 * against a direct computation, payload formats and persistence. */
#include "../../testlib.h"
#include "billing_batch.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alert/alert_engine.h"
#include "alert/alert_notify.h"
#include "alert/alert_rules.h"
#include "alert/alert_state.h"
#include "alert/alert_stream.h"
#include "base/err.h"

#define S 1000000000LL

static const char *good_rule =
	"{\"name\":\"slow accounts\",\"query\":\"{kind=server} | quantile_over_time(duration, .99) by "
	"(span.customer.id)\",\"condition\":{\"op\":\">\",\"threshold\":0.5,\"clear\":0.4},\"interval\":\"10s\","
	"\"for\":\"20s\",\"severity\":\"critical\",\"labels\":{\"team\":\"billing\"},"
	"\"notify\":[{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:1/hook\"}]}";

TEST(alert_rule_parses_and_defaults)
{
	struct alert_rule r;
	char err[300];
	CHECK_INT(alert_rule_parse(good_rule, strlen(good_rule), &r, err, sizeof err), ==, 0);
	CHECK_STR(r.name, "slow accounts");
	CHECK_INT(r.op, ==, ALERT_OP_GT);
	CHECK(r.threshold == 0.5 && r.clear == 0.4);
	CHECK_INT(r.interval_ns, ==, 10 * S);
	CHECK_INT(r.for_ns, ==, 20 * S);
	CHECK_INT(r.range_ns, ==, 60 * S);
	CHECK_INT(r.severity, ==, ALERT_SEV_CRITICAL);
	CHECK_INT(r.n_targets, ==, 1);
	CHECK_STR(alert_rule_label(&r, "team"), "billing");
	alert_rule_free(&r);
}

static void bad(const char *json, const char *want)
{
	struct alert_rule r;
	char err[300] = "";
	int rc = alert_rule_parse(json, strlen(json), &r, err, sizeof err);
	CHECK(rc < 0);
	if (!strstr(err, want))
		test_fail(__FILE__, __LINE__, "error \"%s\" does not mention \"%s\"", err, want);
	alert_rule_free(&r);
}

TEST(alert_rule_rejects_bad_input)
{
	bad("", "not valid JSON");
	bad("[]", "JSON object");
	bad("{\"query\":\"{} | rate()\",\"condition\":{\"op\":\">\",\"threshold\":1}}", "\"name\"");
	bad("{\"name\":\"x\",\"condition\":{\"op\":\">\",\"threshold\":1}}", "\"query\"");
	bad("{\"name\":\"x\",\"query\":\"{}\",\"condition\":{\"op\":\">\",\"threshold\":1}}", "metrics query");
	bad("{\"name\":\"x\",\"query\":\"{ .a = }\",\"condition\":{\"op\":\">\",\"threshold\":1}}", "query");
	bad("{\"name\":\"x\",\"query\":\"{} | rate()\"}", "condition");
	bad("{\"name\":\"x\",\"query\":\"{} | rate()\",\"condition\":{\"op\":\"=>\",\"threshold\":1}}", "condition.op");
	bad("{\"name\":\"x\",\"query\":\"{} | rate()\",\"condition\":{\"op\":\">\",\"threshold\":\"1\"}}", "threshold");
	bad("{\"name\":\"x\",\"query\":\"{} | rate()\",\"condition\":{\"op\":\">\",\"threshold\":1,\"clear\":2}}",
	    "healthy side");
	bad("{\"name\":\"x\",\"query\":\"{} | rate()\",\"condition\":{\"op\":\">\",\"threshold\":1},\"interval\":\"x\"}",
	    "interval");
	bad("{\"name\":\"x\",\"query\":\"{} | rate()\",\"condition\":{\"op\":\">\",\"threshold\":1},\"interval\":\"10ms\"}",
	    "at least 1s");
	bad("{\"name\":\"x\",\"query\":\"{} | rate()\",\"condition\":{\"op\":\">\",\"threshold\":1},\"severity\":\"boom\"}",
	    "severity");
	bad("{\"name\":\"x\",\"query\":\"{} | rate()\",\"condition\":{\"op\":\">\",\"threshold\":1},\"notify\":[{\"type\":"
	    "\"email\",\"url\":\"http://a\"}]}",
	    "notify[0].type");
	bad("{\"name\":\"x\",\"query\":\"{} | rate()\",\"condition\":{\"op\":\">\",\"threshold\":1},\"notify\":[{\"type\":"
	    "\"webhook\",\"url\":\"ftp://a\"}]}",
	    "http://");
	bad("{\"name\":\"x\",\"query\":\"{} | rate()\",\"condition\":{\"op\":\">\",\"threshold\":1},\"notify\":[{\"type\":"
	    "\"webhook\"}]}",
	    "needs a \"url\"");
	bad("{\"name\":\"x\",\"query\":\"{} | histogram_over_time(duration)\",\"condition\":{\"op\":\">\",\"threshold\":1}}",
	    "not supported");
	bad("{\"name\":\"x\",\"query\":\"{} | quantile_over_time(duration, .5, .9)\",\"condition\":{\"op\":\">\","
	    "\"threshold\":1}}",
	    "exactly one quantile");
	bad("{\"name\":\"x\",\"query\":\"{} | rate() by (.a) | topk(3)\",\"condition\":{\"op\":\">\",\"threshold\":1}}",
	    "topk");
}

static struct alert_rule rule_for(int64_t for_ns, int64_t renotify_ns)
{
	struct alert_rule r;
	memset(&r, 0, sizeof r);
	r.op = ALERT_OP_GT;
	r.threshold = 1.0;
	r.clear = 0.8;
	r.for_ns = for_ns;
	r.renotify_ns = renotify_ns;
	r.name = (char *)"r";
	return r;
}

TEST(alert_state_for_hysteresis_renotify)
{
	struct alert_rule r = rule_for(20 * S, 100 * S);
	struct alert_instance in;
	memset(&in, 0, sizeof in);
	CHECK_INT(alert_instance_step(&in, &r, true, 0.5, false, 0), ==, ALERT_ACT_NONE);
	CHECK_INT(in.state, ==, ALERT_INACTIVE);
	CHECK_INT(alert_instance_step(&in, &r, true, 1.5, false, 10 * S), ==, ALERT_ACT_NONE);
	CHECK_INT(in.state, ==, ALERT_PENDING);
	/* a dip during `for` goes back to inactive */
	CHECK_INT(alert_instance_step(&in, &r, true, 0.9, false, 20 * S), ==, ALERT_ACT_NONE);
	CHECK_INT(in.state, ==, ALERT_INACTIVE);
	CHECK_INT(alert_instance_step(&in, &r, true, 1.5, false, 30 * S), ==, ALERT_ACT_NONE);
	CHECK_INT(alert_instance_step(&in, &r, true, 1.5, false, 40 * S), ==, ALERT_ACT_NONE);
	CHECK_INT(alert_instance_step(&in, &r, true, 1.5, false, 50 * S), ==, ALERT_ACT_FIRE);
	CHECK_INT(in.state, ==, ALERT_FIRING);
	/* between clear and threshold: still firing (hysteresis) */
	CHECK_INT(alert_instance_step(&in, &r, true, 0.9, false, 60 * S), ==, ALERT_ACT_NONE);
	CHECK_INT(in.state, ==, ALERT_FIRING);
	CHECK_INT(alert_instance_step(&in, &r, true, 1.2, false, 149 * S), ==, ALERT_ACT_NONE);
	CHECK_INT(alert_instance_step(&in, &r, true, 1.2, false, 150 * S), ==, ALERT_ACT_RENOTIFY);
	CHECK_INT(alert_instance_step(&in, &r, true, 0.7, false, 160 * S), ==, ALERT_ACT_RESOLVE);
	CHECK_INT(in.state, ==, ALERT_RESOLVED);
	CHECK_INT(alert_instance_step(&in, &r, true, 0.7, false, 170 * S), ==, ALERT_ACT_NONE);
	/* no data counts as healthy */
	struct alert_rule r0 = rule_for(0, 0);
	struct alert_instance i2;
	memset(&i2, 0, sizeof i2);
	CHECK_INT(alert_instance_step(&i2, &r0, true, 2, false, 0), ==, ALERT_ACT_FIRE);
	CHECK_INT(alert_instance_step(&i2, &r0, true, 2, false, 1000 * S), ==, ALERT_ACT_NONE);
	CHECK_INT(alert_instance_step(&i2, &r0, false, NAN, false, 1001 * S), ==, ALERT_ACT_RESOLVE);
}

TEST(alert_state_silence_and_expiry)
{
	struct alert_rule r = rule_for(0, 0);
	struct alert_instance in;
	memset(&in, 0, sizeof in);
	CHECK_INT(alert_instance_step(&in, &r, true, 2, true, 0), ==, ALERT_ACT_NONE);
	CHECK_INT(in.state, ==, ALERT_FIRING);
	/* the silence ends while it fires: the firing goes out now */
	CHECK_INT(alert_instance_step(&in, &r, true, 2, false, 10 * S), ==, ALERT_ACT_FIRE);
	/* resolved while silenced: nothing is sent */
	CHECK_INT(alert_instance_step(&in, &r, true, 0, true, 20 * S), ==, ALERT_ACT_NONE);
	CHECK_INT(in.state, ==, ALERT_RESOLVED);

	json_t *o = json_loads("{\"matchers\":{\"span.customer.id\":\"acme\",\"rule\":\"r\"},\"expiresIn\":\"1h\"}", 0,
			       NULL);
	struct alert_silence s;
	char err[200];
	CHECK_INT(alert_silence_from_json(o, 100 * S, &s, err, sizeof err), ==, 0);
	const char *names[] = {"span.customer.id"}, *acme[] = {"acme"}, *other[] = {"other"};
	CHECK(alert_silence_matches(&s, &r, names, acme, 1, 200 * S));
	CHECK(!alert_silence_matches(&s, &r, names, other, 1, 200 * S));
	CHECK(!alert_silence_matches(&s, &r, names, acme, 1, 100 * S + 3600 * S));
	alert_silence_free(&s);
	json_decref(o);
	o = json_loads("{\"matchers\":{\"a\":\"b\"}}", 0, NULL);
	CHECK_INT(alert_silence_from_json(o, 0, &s, err, sizeof err), ==, CLEW_EINVAL);
	CHECK(strstr(err, "expiry") != NULL);
	json_decref(o);
	o = json_loads("{\"matchers\":{},\"expiresIn\":\"1h\"}", 0, NULL);
	CHECK_INT(alert_silence_from_json(o, 0, &s, err, sizeof err), ==, CLEW_EINVAL);
	json_decref(o);
	/* what silences.json holds reads back as the same times */
	o = json_loads("{\"matchers\":{\"a\":\"b\"},\"startsAt\":1796601600.123456,\"endsAt\":7196609897}", 0, NULL);
	CHECK_INT(alert_silence_from_json(o, 0, &s, err, sizeof err), ==, 0);
	CHECK_INT(s.ends_ns, ==, 7196609897000000000LL);
	json_decref(o);
	struct buf w1, w2;
	buf_init(&w1, 1 << 16);
	buf_init(&w2, 1 << 16);
	struct json jw;
	json_init(&jw, &w1);
	alert_silence_write_json(&jw, &s, 0);
	alert_silence_free(&s);
	o = json_loadb((const char *)w1.p, w1.len, 0, NULL);
	CHECK_INT(alert_silence_from_json(o, 0, &s, err, sizeof err), ==, 0);
	CHECK_INT(s.starts_ns, ==, 1796601600123000000LL);
	CHECK_INT(s.ends_ns, ==, 7196609897000000000LL);
	json_init(&jw, &w2);
	alert_silence_write_json(&jw, &s, 0);
	CHECK(w1.len == w2.len && memcmp(w1.p, w2.p, w1.len) == 0);
	alert_silence_free(&s);
	json_decref(o);
	buf_free(&w1);
	buf_free(&w2);
	/* times that do not fit in nanoseconds are refused, not wrapped */
	static const char *const far[] = {
	    "{\"matchers\":{\"a\":\"b\"},\"endsAt\":3593203203200}",
	    "{\"matchers\":{\"a\":\"b\"},\"endsAt\":1.8e24}",
	    "{\"matchers\":{\"a\":\"b\"},\"startsAt\":-5,\"endsAt\":10}",
	    "{\"matchers\":{\"a\":\"b\"},\"startsAt\":9199999999,\"expiresIn\":\"1000w\"}",
	    "{\"matchers\":{\"a\":\"b\"},\"expiresIn\":\"447us\"}",
	};
	for (size_t i = 0; i < 5; i++) {
		o = json_loads(far[i], 0, NULL);
		CHECK(o != NULL);
		CHECK_INT(alert_silence_from_json(o, 0, &s, err, sizeof err), ==, CLEW_EINVAL);
		json_decref(o);
	}
}

/* A batch of spans: account i % n_acct, duration (i % 100 + 1) ms, or slow
 * for account "slow". */
static void make_batch(struct span_batch *b, struct arena *a, uint32_t n, int64_t t0)
{
	billing_batch_init(b, a);
	static const char *accts[] = {"acme", "globex", "slow"};
	for (uint32_t i = 0; i < n; i++) {
		struct span *s = span_batch_add_span(b, 0);
		memset(s->trace_id, 0, 16);
		s->trace_id[0] = (uint8_t)(i / 3 + 1);
		s->trace_id[15] = (uint8_t)(i >> 8);
		s->span_id[0] = (uint8_t)(i + 1);
		s->span_id[1] = (uint8_t)(i >> 8);
		s->kind = SPAN_KIND_SERVER;
		s->start_unix_ns = t0 + (int64_t)i * 1000000;
		const char *acct = accts[i % 3];
		int64_t dur = strcmp(acct, "slow") == 0 ? 900000000LL : (int64_t)(i % 100 + 1) * 1000000;
		s->end_unix_ns = s->start_unix_ns + dur;
		s->attrs.items = arena_array(a, 1, sizeof(struct attr));
		s->attrs.items[0].key = SLICE_LIT("customer.id");
		s->attrs.items[0].value.type = ANY_STRING;
		s->attrs.items[0].value.u.str = slice_cstr(acct);
		s->attrs.n = 1;
	}
}

struct seen {
	double v[3];
	uint64_t c[3];
	uint32_t n;
};

static int collect(void *ctx, const struct alert_group_value *g)
{
	struct seen *s = ctx;
	int k = g->n_labels == 0			 ? 2
		: strcmp(g->values[0], "acme") == 0	 ? 0
		: strcmp(g->values[0], "globex") == 0 ? 1
						      : 2;
	s->v[k] = g->value;
	s->c[k] = g->count;
	s->n++;
	if (g->n_examples < 1 || strcmp(g->service, "billing") != 0)
		return 1;
	return 0;
}

TEST(alert_stream_matches_batch_computation)
{
	int rc;
	char err[300];
	struct alert_stream *s = alert_stream_new("{kind=server} | avg_over_time(duration) by (span.customer.id)",
						  60 * S, 0, &rc, err, sizeof err);
	CHECK(s != NULL);
	struct alert_stream *q = alert_stream_new(
		"{kind=server} | quantile_over_time(duration, .9) by (span.customer.id)", 60 * S, 0, &rc, err, sizeof err);
	CHECK(q != NULL);
	struct alert_stream *r = alert_stream_new("{span.customer.id = \"slow\"} | count_over_time()", 60 * S, 0, &rc,
						  err, sizeof err);
	CHECK(r != NULL);
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	int64_t now = 1700000000LL * S;
	make_batch(&b, &a, 300, now - 10 * S);
	CHECK_INT(alert_stream_add_batch(s, &b, now), ==, 0);
	CHECK_INT(alert_stream_add_batch(q, &b, now), ==, 0);
	CHECK_INT(alert_stream_add_batch(r, &b, now), ==, 0);
	/* the direct computation */
	double sum[3] = {0}, cnt[3] = {0};
	for (uint32_t i = 0; i < 300; i++) {
		sum[i % 3] += (double)(b.spans[i].end_unix_ns - b.spans[i].start_unix_ns) / 1e9;
		cnt[i % 3]++;
	}
	struct seen sn;
	memset(&sn, 0, sizeof sn);
	CHECK_INT(alert_stream_eval(s, now, collect, &sn), ==, 0);
	CHECK_INT(sn.n, ==, 3);
	for (int k = 0; k < 3; k++) {
		CHECK(fabs(sn.v[k] - sum[k] / cnt[k]) < 1e-9);
		CHECK_INT(sn.c[k], ==, 100);
	}
	memset(&sn, 0, sizeof sn);
	alert_stream_eval(q, now, collect, &sn);
	CHECK(fabs(sn.v[2] - 0.9) < 0.9 * 0.02);
	CHECK(sn.v[0] > 0.08 && sn.v[0] < 0.1);
	memset(&sn, 0, sizeof sn);
	alert_stream_eval(r, now, collect, &sn);
	CHECK_INT(sn.n, ==, 1);
	CHECK(sn.v[2] == 100); /* no by(): one group */
	/* two windows later the groups are forgotten */
	memset(&sn, 0, sizeof sn);
	alert_stream_eval(s, now + 200 * S, collect, &sn);
	CHECK_INT(sn.n, ==, 0);
	struct alert_stream_stats st;
	alert_stream_stats(s, &st);
	CHECK_INT(st.groups, ==, 0);
	alert_stream_free(s);
	alert_stream_free(q);
	alert_stream_free(r);
	/* the group cap */
	struct alert_stream *capped = alert_stream_new("{} | rate() by (span.customer.id)", 60 * S, 2, &rc, err,
						       sizeof err);
	alert_stream_add_batch(capped, &b, now);
	alert_stream_stats(capped, &st);
	CHECK_INT(st.groups, ==, 2);
	CHECK_INT(st.spans_dropped, ==, 100);
	alert_stream_free(capped);
	arena_reset(&a);
}

TEST(alert_format_payloads)
{
	json_t *p = json_loads("{\"status\":\"firing\",\"rule\":\"slow\",\"ruleId\":\"00000000000000aa\",\"severity\":"
			       "\"critical\",\"labels\":{\"span.customer.id\":\"acme\"},\"value\":0.9,\"threshold\":0.5,"
			       "\"condition\":{\"op\":\">\"},\"owner\":\"billing-team\",\"url\":\"http://x/explore\","
			       "\"exampleTraceIds\":[\"ab\"],\"rootCause\":null}",
			       0, NULL);
	CHECK(p != NULL);
	struct buf b;
	buf_init(&b, 1 << 20);
	CHECK_INT(alert_format_body(ALERT_TARGET_SLACK, p, NULL, &b), ==, 0);
	buf_append_byte(&b, 0);
	json_t *s = json_loads((const char *)b.p, 0, NULL);
	CHECK(s != NULL);
	CHECK(strstr(json_string_value(json_object_get(s, "text")), "[FIRING] slow") != NULL);
	CHECK(strstr(json_string_value(json_object_get(s, "text")), "span.customer.id=acme") != NULL);
	json_decref(s);
	buf_clear(&b);
	CHECK_INT(alert_format_body(ALERT_TARGET_PAGERDUTY, p, "KEY", &b), ==, 0);
	buf_append_byte(&b, 0);
	s = json_loads((const char *)b.p, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(s, "event_action")), "trigger");
	CHECK_STR(json_string_value(json_object_get(s, "routing_key")), "KEY");
	CHECK_STR(json_string_value(json_object_get(json_object_get(s, "payload"), "severity")), "critical");
	json_decref(s);
	buf_clear(&b);
	CHECK_INT(alert_format_body(ALERT_TARGET_WEBHOOK, p, NULL, &b), ==, 0);
	buf_append_byte(&b, 0);
	s = json_loads((const char *)b.p, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(s, "status")), "firing");
	json_decref(s);
	buf_free(&b);
	json_decref(p);
}

static void engine_opts(struct alert_engine_options *o, const char *dir)
{
	memset(o, 0, sizeof *o);
	o->data_dir = dir;
	o->manual = true;
	o->public_url = "http://clew.example:3200/";
	o->notify.backoff_ns = 10000000;
	o->notify.timeout_ns = 200000000;
	o->notify.max_attempts = 1000; /* the receiver is down: everything stays in the outbox */
}

TEST(alert_engine_fires_persists_and_restarts)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/alerts", test_tmpdir());
	struct alert_engine_options o;
	engine_opts(&o, dir);
	int rc;
	char err[300];
	struct alert_engine *e = alert_engine_open(&o, &rc, err, sizeof err);
	CHECK(e != NULL);
	const char *rule = "{\"name\":\"slow\",\"query\":\"{kind=server} | avg_over_time(duration) by "
			   "(span.customer.id)\",\"condition\":{\"op\":\">\",\"threshold\":0.5},\"interval\":\"10s\","
			   "\"notify\":[{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:9/down\"}]}";
	struct buf b;
	buf_init(&b, 1 << 20);
	struct json j;
	json_init(&j, &b);
	CHECK_INT(alert_engine_put_rule(e, NULL, rule, strlen(rule), &j, err, sizeof err), ==, 0);
	struct arena a;
	arena_init(&a, 0);
	struct span_batch batch;
	int64_t now = 1700000000LL * S;
	make_batch(&batch, &a, 300, now - 5 * S);
	alert_engine_add_batch(e, &batch, now);
	alert_engine_tick(e, now);
	CHECK_INT(alert_engine_outbox(e), ==, 1); /* only "slow" breaches */
	buf_clear(&b);
	json_init(&j, &b);
	alert_engine_list_alerts(e, NULL, "firing", &j);
	buf_append_byte(&b, 0);
	CHECK(strstr((const char *)b.p, "\"span.customer.id\":\"slow\"") != NULL);
	CHECK(strstr((const char *)b.p, "acme") == NULL);
	alert_engine_close(e); /* as a crash would: the notification was never sent */

	e = alert_engine_open(&o, &rc, err, sizeof err);
	CHECK(e != NULL);
	CHECK_INT(alert_engine_outbox(e), ==, 1); /* resent after the restart */
	buf_clear(&b);
	json_init(&j, &b);
	alert_engine_list_rules(e, &j);
	buf_append_byte(&b, 0);
	CHECK(strstr((const char *)b.p, "\"name\":\"slow\"") != NULL);
	buf_clear(&b);
	json_init(&j, &b);
	alert_engine_list_alerts(e, NULL, "firing", &j);
	buf_append_byte(&b, 0);
	CHECK(strstr((const char *)b.p, "\"slow\"") != NULL);
	/* still breaching after the restart: no second firing notification */
	alert_engine_add_batch(e, &batch, now + 11 * S);
	alert_engine_tick(e, now + 11 * S);
	CHECK_INT(alert_engine_outbox(e), ==, 1);
	/* the fault ends: no data in the window -> resolved */
	alert_engine_tick(e, now + 200 * S);
	CHECK_INT(alert_engine_outbox(e), ==, 2);
	alert_engine_close(e);
	buf_free(&b);
	arena_reset(&a);
}

/* n accounts "a0".."a<n-1>" of service billing, every span 900 ms. */
static void storm_batch(struct span_batch *b, struct arena *a, uint32_t n, int64_t t0)
{
	billing_batch_init(b, a);
	for (uint32_t i = 0; i < n; i++) {
		struct span *s = span_batch_add_span(b, 0);
		memset(s->trace_id, 0, 16);
		s->trace_id[0] = (uint8_t)(i + 1);
		s->trace_id[1] = (uint8_t)(i >> 8);
		s->span_id[0] = (uint8_t)(i + 1);
		s->span_id[1] = (uint8_t)(i >> 8);
		s->kind = SPAN_KIND_SERVER;
		s->start_unix_ns = t0 + (int64_t)i * 1000000;
		s->end_unix_ns = s->start_unix_ns + 900000000LL;
		char *acct = arena_alloc(a, 16);
		snprintf(acct, 16, "a%u", i);
		s->attrs.items = arena_array(a, 1, sizeof(struct attr));
		s->attrs.items[0].key = SLICE_LIT("customer.id");
		s->attrs.items[0].value.type = ANY_STRING;
		s->attrs.items[0].value.u.str = slice_cstr(acct);
		s->attrs.n = 1;
	}
}

/* How many times needle occurs in the file at path. */
static int count_in_file(const char *path, const char *needle)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	static char text[1 << 22];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = 0;
	int c = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		c++;
	return c;
}

/* A storm: 300 accounts breach in the same evaluation. With groupBy on the
 * service they are one notification (the group's size and every account in
 * it), re-notified once per renotify interval, and one resolved message;
 * without groupBy they are 300. */
TEST(alert_engine_storm_is_one_notification)
{
	static const char *const rules[] = {
	    "{\"name\":\"storm\",\"query\":\"{kind=server} | avg_over_time(duration) by (span.customer.id, "
	    "resource.service.name)\",\"condition\":{\"op\":\">\",\"threshold\":0.5},\"interval\":\"10s\","
	    "\"renotify\":\"1m\",\"groupBy\":[\"resource.service.name\"],"
	    "\"notify\":[{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:9/down\"}]}",
	    "{\"name\":\"storm\",\"query\":\"{kind=server} | avg_over_time(duration) by (span.customer.id, "
	    "resource.service.name)\",\"condition\":{\"op\":\">\",\"threshold\":0.5},\"interval\":\"10s\","
	    "\"renotify\":\"1m\",\"notify\":[{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:9/down\"}]}",
	};
	for (int grouped = 1; grouped >= 0; grouped--) {
		char dir[512], path[600];
		snprintf(dir, sizeof dir, "%s/storm%d", test_tmpdir(), grouped);
		snprintf(path, sizeof path, "%s/state/alerts.json", dir);
		struct alert_engine_options o;
		engine_opts(&o, dir);
		int rc;
		char err[300];
		struct alert_engine *e = alert_engine_open(&o, &rc, err, sizeof err);
		CHECK(e != NULL);
		const char *rule = rules[grouped ? 0 : 1];
		CHECK_INT(alert_engine_put_rule(e, NULL, rule, strlen(rule), NULL, err, sizeof err), ==, 0);
		struct arena a;
		arena_init(&a, 0);
		struct span_batch batch;
		int64_t now = 1700000000LL * S;
		storm_batch(&batch, &a, 300, now - 5 * S);
		alert_engine_add_batch(e, &batch, now);
		alert_engine_tick(e, now);
		CHECK_INT(alert_engine_outbox(e), ==, grouped ? 1 : 300);
		if (grouped) {
			CHECK_INT(count_in_file(path, "\\\"groupSize\\\":300"), ==, 1);
			CHECK_INT(count_in_file(path, "\\\"span.customer.id\\\":\\\"a299\\\""), >=, 1);
		}
		/* still breaching a minute later: one re-notification per group */
		storm_batch(&batch, &a, 300, now + 56 * S);
		alert_engine_add_batch(e, &batch, now + 61 * S);
		alert_engine_tick(e, now + 61 * S);
		CHECK_INT(alert_engine_outbox(e), ==, grouped ? 2 : 600);
		/* over: one resolved message per group */
		alert_engine_tick(e, now + 400 * S);
		CHECK_INT(alert_engine_outbox(e), ==, grouped ? 3 : 900);
		alert_engine_close(e);
		arena_reset(&a);
	}
}

/* deliveries.log past its limit keeps its newest part, whole lines only,
 * and a restart still finds the newest sent seqs in it. */
TEST(alert_delivery_log_trim_keeps_newest_lines)
{
	char path[512];
	snprintf(path, sizeof path, "%s/deliveries-trim.log", test_tmpdir());
	remove(path);
	CHECK_INT(alert_notify_log_trim(path, 100), ==, 0); /* no log yet */
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	for (int i = 0; i < 300; i++)
		fprintf(f, "{\"seq\":%d,\"timeNs\":1,\"status\":\"%s\",\"url\":\"http://127.0.0.1:1/h\"}\n", i,
			i % 3 ? "sent" : "retrying");
	fclose(f);
	CHECK_INT(alert_notify_log_trim(path, 1 << 20), ==, 0); /* under the limit: unchanged */
	uint64_t *seqs = NULL;
	size_t n = 0;
	CHECK_INT(alert_notify_read_sent(path, &seqs, &n), ==, 0);
	CHECK_INT(n, ==, 200);
	free(seqs);

	CHECK_INT(alert_notify_log_trim(path, 2000), ==, 0);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	char text[4096];
	size_t len = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[len] = 0;
	CHECK(len > 1000 && len <= 2000);
	CHECK(text[0] == '{' && text[len - 1] == '\n');
	CHECK(strstr(text, "{\"seq\":299,") != NULL);
	CHECK(strstr(text, "{\"seq\":1,") == NULL);
	CHECK_INT(alert_notify_read_sent(path, &seqs, &n), ==, 0);
	CHECK(n > 10);
	CHECK_INT(seqs[n - 1], ==, 299);
	for (size_t i = 1; i < n; i++) /* every line whole: no sent seq lost inside the kept part */
		CHECK_INT(seqs[i] - seqs[i - 1], <=, 2);
	free(seqs);
	remove(path);
}
