/* Unit tests of alerting as the server wires it: the HTTP handlers of
 * api/alert_api.c over an engine in a temporary directory (routing,
 * methods, status codes, validation messages, catalog entries) and a
 * restart without traffic, which must not resolve what fires. */
#include "../../testlib.h"
#include "billing_batch.h"

#include <stdio.h>
#include <string.h>

#include "alert/alert_engine.h"
#include "api/alert_api.h"
#include "alert/alert_stream.h"
#include "api/query_api.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "ingest/span.h"

#define S 1000000000LL

struct call {
	struct arena arena;
	struct http_request req;
	struct http_response resp;
	bool handled;
	char body[4096];
};

/* Run alert_api_handle on method path?query with body (may be NULL). */
static void call(struct call *c, struct query_api *q, const char *method, const char *path, const char *body)
{
	memset(c, 0, sizeof *c);
	arena_init(&c->arena, 1 << 20);
	buf_init(&c->resp.body, 1 << 20);
	c->req.proto = HTTP_PROTO_1;
	c->req.method = slice_cstr(method);
	const char *qm = strchr(path, '?');
	c->req.path = slice_make(path, qm ? (size_t)(qm - path) : strlen(path));
	c->req.query = qm ? slice_cstr(qm + 1) : SLICE_LIT("");
	c->req.body = body ? slice_cstr(body) : SLICE_LIT("");
	c->req.arena = &c->arena;
	c->handled = alert_api_handle(q, &c->req, &c->resp);
	size_t n = c->resp.body.len < sizeof c->body - 1 ? c->resp.body.len : sizeof c->body - 1;
	if (n)
		memcpy(c->body, c->resp.body.p, n);
	c->body[n] = 0;
	buf_free(&c->resp.body);
	arena_reset(&c->arena);
}

static void expect(struct query_api *q, const char *method, const char *path, const char *body, int status,
		   const char *want)
{
	struct call c;
	call(&c, q, method, path, body);
	CHECK(c.handled);
	if (c.resp.status != status)
		test_fail(__FILE__, __LINE__, "%s %s: status %d, want %d: %s", method, path, c.resp.status, status,
			  c.body);
	if (want && !strstr(c.body, want))
		test_fail(__FILE__, __LINE__, "%s %s: \"%s\" does not contain \"%s\"", method, path, c.body, want);
}

static const char *rule_json =
	"{\"name\":\"slow\",\"query\":\"{kind=server} | avg_over_time(duration) by (span.customer.id)\","
	"\"condition\":{\"op\":\">\",\"threshold\":0.5},\"interval\":\"10s\",\"range\":\"1m\","
	"\"notify\":[{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:9/down\"}]}";

static struct alert_engine *open_engine(const char *dir)
{
	struct alert_engine_options o;
	memset(&o, 0, sizeof o);
	o.data_dir = dir;
	o.manual = true;
	o.notify.backoff_ns = 10000000;
	o.notify.timeout_ns = 200000000;
	o.notify.max_attempts = 1000;
	int rc;
	char err[300];
	struct alert_engine *e = alert_engine_open(&o, &rc, err, sizeof err);
	if (!e)
		test_fail(__FILE__, __LINE__, "alert_engine_open: %s", err);
	return e;
}

TEST(alert_api_routes_and_validates)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/alert-api", test_tmpdir());
	struct query_api q;
	memset(&q, 0, sizeof q);
	struct call c;
	/* not ours, or no engine */
	call(&c, &q, "GET", "/api/v1/alert-rulesx", NULL);
	CHECK(!c.handled);
	call(&c, &q, "GET", "/api/search", NULL);
	CHECK(!c.handled);
	expect(&q, "GET", "/api/v1/alerts", NULL, 503, "not running");

	q.alerts = open_engine(dir);
	CHECK(q.alerts != NULL);
	if (!q.alerts)
		return;
	expect(&q, "GET", "/api/v1/alert-rules", NULL, 200, "{\"rules\":[]}");
	expect(&q, "POST", "/api/v1/alert-rules", NULL, 400, "JSON body");
	expect(&q, "POST", "/api/v1/alert-rules", "{\"name\":", 400, "not valid JSON");
	expect(&q, "POST", "/api/v1/alert-rules", "{\"name\":\"x\",\"condition\":{\"op\":\">\",\"threshold\":1}}", 400,
	       "query");
	expect(&q, "PATCH", "/api/v1/alert-rules", NULL, 405, "GET or POST");
	call(&c, &q, "POST", "/api/v1/alert-rules", rule_json);
	CHECK_INT(c.resp.status, ==, 201);
	const char *idp = strstr(c.body, "\"id\":\"");
	CHECK(idp != NULL);
	if (!idp)
		goto out;
	char id[17], path[128];
	memcpy(id, idp + 6, 16);
	id[16] = 0;
	snprintf(path, sizeof path, "/api/v1/alert-rules/%s", id);
	expect(&q, "GET", path, NULL, 200, "\"name\":\"slow\"");
	expect(&q, "PUT", path, "{\"name\":\"slower\"}", 400, "query");
	char renamed[1024];
	snprintf(renamed, sizeof renamed, "%s", rule_json);
	memcpy(strstr(renamed, "\"slow\""), "\"SLOW\"", 6);
	expect(&q, "PUT", path, renamed, 200, "\"name\":\"SLOW\"");
	expect(&q, "PUT", "/api/v1/alert-rules/0123456789abcdef", rule_json, 404, "no alert rule");
	expect(&q, "GET", "/api/v1/alert-rules/0123456789abcdef", NULL, 404, "no alert rule");
	expect(&q, "GET", "/api/v1/alert-rules/a%2Fb", NULL, 404, NULL);
	expect(&q, "POST", path, rule_json, 405, NULL);
	expect(&q, "GET", "/api/v1/alerts?state=firing", NULL, 200, "{\"alerts\":[]}");
	expect(&q, "GET", "/api/v1/alerts?state=on-fire", NULL, 400, "state");
	expect(&q, "POST", "/api/v1/alerts", "{}", 405, NULL);

	/* silences */
	expect(&q, "POST", "/api/v1/silences", "{\"matchers\":{\"a\":\"b\"}}", 400, "expiry");
	expect(&q, "POST", "/api/v1/silences", "nope", 400, "JSON");
	call(&c, &q, "POST", "/api/v1/silences", "{\"matchers\":{\"span.customer.id\":\"acme\"},\"expiresIn\":\"1h\"}");
	CHECK_INT(c.resp.status, ==, 201);
	idp = strstr(c.body, "\"id\":\"");
	CHECK(idp != NULL);
	if (!idp)
		goto out;
	memcpy(id, idp + 6, 16);
	snprintf(path, sizeof path, "/api/v1/silences/%s", id);
	expect(&q, "GET", "/api/v1/silences", NULL, 200, "acme");
	expect(&q, "GET", path, NULL, 405, "DELETE");
	expect(&q, "DELETE", path, NULL, 204, NULL);
	expect(&q, "DELETE", path, NULL, 404, "no silence");

	/* deliveries and the catalog */
	expect(&q, "GET", "/api/v1/alert-deliveries?limit=5", NULL, 200, "\"deliveries\":[");
	expect(&q, "GET", "/api/v1/alert-deliveries?limit=0", NULL, 400, "limit");
	expect(&q, "PUT", "/api/v1/catalog", "[1]", 400, "object");
	expect(&q, "PUT", "/api/v1/catalog/accounts/acme", "{\"name\":\"Acme\",\"owner\":\"bob\"}", 200, "Acme");
	expect(&q, "GET", "/api/v1/catalog/accounts/acme", NULL, 200, "\"owner\":\"bob\"");
	expect(&q, "GET", "/api/v1/catalog", NULL, 200, "Acme");
	expect(&q, "GET", "/api/v1/catalog/services/nope", NULL, 404, "no service nope");
	expect(&q, "GET", "/api/v1/catalog/things/x", NULL, 404, NULL);
	expect(&q, "DELETE", "/api/v1/catalog/accounts/acme", NULL, 204, NULL);
	expect(&q, "DELETE", "/api/v1/catalog/accounts/acme", NULL, 404, NULL);
	expect(&q, "DELETE", "/api/v1/alert-rules/0123456789abcdef", NULL, 404, "no alert rule");
out:
	alert_engine_close(q.alerts);
}

/* Spans of account "slow" (0.9 s) for the restart test. */
static void slow_batch(struct span_batch *b, struct arena *a, int64_t t0)
{
	billing_batch_init(b, a);
	for (uint32_t i = 0; i < 20; i++) {
		struct span *s = span_batch_add_span(b, 0);
		memset(s->trace_id, 0, 16);
		s->trace_id[0] = (uint8_t)(i + 1);
		memset(s->span_id, 0, 8);
		s->span_id[0] = (uint8_t)(i + 1);
		s->kind = SPAN_KIND_SERVER;
		s->start_unix_ns = t0 + (int64_t)i * 1000000;
		s->end_unix_ns = s->start_unix_ns + 900000000LL;
		s->attrs.items = arena_array(a, 1, sizeof(struct attr));
		s->attrs.items[0].key = SLICE_LIT("customer.id");
		s->attrs.items[0].value.type = ANY_STRING;
		s->attrs.items[0].value.u.str = SLICE_LIT("slow");
		s->attrs.n = 1;
	}
}

TEST(alert_engine_restart_waits_for_a_full_window)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/alert-restart", test_tmpdir());
	struct alert_engine *e = open_engine(dir);
	CHECK(e != NULL);
	if (!e)
		return;
	char err[300];
	CHECK_INT(alert_engine_put_rule(e, NULL, rule_json, strlen(rule_json), NULL, err, sizeof err), ==, 0);
	struct arena a;
	arena_init(&a, 0);
	struct span_batch batch;
	int64_t now = 1700000000LL * S;
	slow_batch(&batch, &a, now - 5 * S);
	alert_engine_add_batch(e, &batch, now);
	alert_engine_tick(e, now);
	CHECK_INT(alert_engine_outbox(e), ==, 1);
	alert_engine_close(e);

	/* restarted, and no span has arrived yet: the instance keeps firing */
	e = open_engine(dir);
	CHECK(e != NULL);
	if (!e)
		goto out;
	CHECK_INT(alert_engine_outbox(e), ==, 1);
	alert_engine_tick(e, now + 11 * S);
	alert_engine_tick(e, now + 40 * S);
	CHECK_INT(alert_engine_outbox(e), ==, 1); /* no resolved notification */
	struct buf b;
	buf_init(&b, 1 << 20);
	struct json j;
	json_init(&j, &b);
	alert_engine_list_alerts(e, NULL, "firing", &j);
	buf_append_byte(&b, 0);
	CHECK(strstr((const char *)b.p, "\"slow\"") != NULL);
	buf_free(&b);
	/* a whole window after the first evaluation without data: resolved */
	alert_engine_tick(e, now + 11 * S + 61 * S);
	CHECK_INT(alert_engine_outbox(e), ==, 2);
	alert_engine_close(e);
out:
	arena_reset(&a);
}

static int count_groups(void *ctx, const struct alert_group_value *g)
{
	(*(uint32_t *)ctx)++;
	return 0;
}

/* Many groups, then the old ones forgotten: the group table is rebuilt for
 * more groups than its first size, and lookups keep working. */
TEST(alert_stream_forgets_many_groups)
{
	int rc;
	char err[200];
	struct alert_stream *s = alert_stream_new("{ kind = server } | count_over_time() by (span.customer.id)", 60 * S,
						  0, &rc, err, sizeof err);
	CHECK(s != NULL);
	if (!s)
		return;
	struct arena a;
	arena_init(&a, 0);
	int64_t now = 1700000000LL * S;
	char names[300][16];
	for (int round = 0; round < 2; round++) {
		int64_t t = now + round * 200 * S;
		struct span_batch b;
		span_batch_init(&b, &a);
		span_batch_add_resource(&b);
		span_batch_add_scope(&b, 0);
		for (uint32_t i = 0; i < 150; i++) {
			uint32_t k = (uint32_t)round * 150 + i;
			snprintf(names[k], sizeof names[k], "acct-%u", k);
			struct span *sp = span_batch_add_span(&b, 0);
			memset(sp->trace_id, 0, 16);
			sp->trace_id[0] = (uint8_t)(k + 1);
			sp->trace_id[1] = (uint8_t)(k >> 8);
			memset(sp->span_id, 0, 8);
			sp->span_id[0] = 1;
			sp->kind = SPAN_KIND_SERVER;
			sp->start_unix_ns = t - S;
			sp->end_unix_ns = t - S / 2;
			sp->attrs.items = arena_array(&a, 1, sizeof(struct attr));
			sp->attrs.items[0].key = SLICE_LIT("customer.id");
			sp->attrs.items[0].value.type = ANY_STRING;
			sp->attrs.items[0].value.u.str = slice_cstr(names[k]);
			sp->attrs.n = 1;
		}
		CHECK_INT(alert_stream_add_batch(s, &b, t), ==, 0);
		uint32_t n = 0;
		CHECK_INT(alert_stream_eval(s, t, count_groups, &n), ==, 0);
		CHECK_INT(n, ==, 150); /* the first round's groups have no data any more */
	}
	struct alert_stream_stats st;
	alert_stream_stats(s, &st);
	CHECK_INT(st.groups, <=, 300);
	alert_stream_free(s);
	arena_reset(&a);
}
