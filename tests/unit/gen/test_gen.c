/* Unit tests of clew gen: determinism, valid OTLP that clew decodes back,
 * nesting of parent and child times, the Zipf accounts, the topology file
 * and fault specs, and that each fault changes what it says in its window
 * and nothing else. */
#include "../../testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "gen/faults.h"
#include "gen/model.h"
#include "gen/sender.h"
#include "gen/topology.h"
#include "gen/tracegen.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_proto.h"

#define T0 1767225600000000000LL /* 2026-01-01T00:00:00Z */

/* Encode n_batches batches of a run with seed and faults into out. */
static int run(uint64_t seed, const char *const *faults, int n_batches, struct buf *out)
{
	struct topo t;
	struct fault_set fs;
	struct gen g;
	struct arena a;
	struct span_batch b;
	char err[256];
	topo_init(&t);
	fault_set_init(&fs);
	arena_init(&a, 0);
	int rc = topo_default(&t);
	for (int i = 0; rc == 0 && faults && faults[i]; i++)
		rc = fault_set_add(&fs, faults[i], err, sizeof err);
	if (rc == 0)
		rc = fault_set_bind(&fs, &t, T0, 100000, err, sizeof err);
	struct gen_config c = {.seed = seed, .start_unix_ns = T0, .clock_rate = 2000, .accounts = 100000,
			       .zipf_s = 1.0, .batch_spans = 500, .topo = &t, .faults = &fs};
	if (rc == 0)
		rc = gen_init(&g, &c);
	for (int i = 0; rc == 0 && i < n_batches; i++) {
		if ((rc = gen_next_batch(&g, &a, &b)) < 0)
			break;
		size_t at = out->len;
		buf_append_u32le(out, 0);
		otlp_encode_request(&b, out);
		uint32_t n = (uint32_t)(out->len - at - 4);
		if (!out->err)
			memcpy(out->p + at, &n, 4);
	}
	if (c.topo && rc == 0)
		gen_free(&g);
	arena_reset(&a);
	fault_set_free(&fs);
	topo_free(&t);
	return rc ? rc : out->err;
}

TEST(gen_default_topology_is_rich)
{
	struct topo t;
	topo_init(&t);
	CHECK_INT(topo_default(&t), ==, 0);
	CHECK_INT(t.n_services, >=, 38);
	CHECK_INT(t.n_dbs, >=, 5);
	CHECK_INT(t.n_topics, >=, 4);
	int db = topo_find_db(&t, "accounts-db");
	CHECK(db >= 0);
	CHECK_INT(t.dbs[db].shards, ==, 8);
	CHECK_STR(t.dbs[db].db_names[3], "accounts_shard_3");
	topo_free(&t);
}

TEST(gen_same_seed_same_bytes)
{
	struct buf a, b, c;
	buf_init(&a, 1 << 28);
	buf_init(&b, 1 << 28);
	buf_init(&c, 1 << 28);
	CHECK_INT(run(7, NULL, 20, &a), ==, 0);
	CHECK_INT(run(7, NULL, 20, &b), ==, 0);
	CHECK_INT(run(8, NULL, 20, &c), ==, 0);
	CHECK(a.len > 100000);
	CHECK(a.len == b.len && memcmp(a.p, b.p, a.len) == 0);
	CHECK(a.len != c.len || memcmp(a.p, c.p, a.len) != 0);
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
}

/* Walk the records of out, decoding each; calls fn for each batch. */
typedef void (*batch_fn)(const struct span_batch *b, void *ud);
static int each_batch(const struct buf *out, batch_fn fn, void *ud)
{
	size_t off = 0;
	while (off + 4 <= out->len) {
		uint32_t n;
		memcpy(&n, out->p + off, 4);
		if (off + 4 + n > out->len)
			return CLEW_EPARSE;
		struct arena a;
		struct span_batch b;
		struct decode_error de;
		arena_init(&a, 0);
		span_batch_init(&b, &a);
		int rc = otlp_proto_decode_request(slice_make(out->p + off + 4, n), &b, &de);
		if (rc == 0)
			fn(&b, ud);
		arena_reset(&a);
		if (rc < 0)
			return rc;
		off += 4 + n;
	}
	return off == out->len ? 0 : CLEW_EPARSE;
}

struct validity {
	long spans, invalid, orphans, outside, kinds[6], errors, exceptions, links, bad_links;
};

static const struct span *find_span(const struct span_batch *b, const uint8_t *trace, const uint8_t *id)
{
	for (uint32_t i = 0; i < b->n_spans; i++)
		if (!memcmp(b->spans[i].span_id, id, 8) && !memcmp(b->spans[i].trace_id, trace, 16))
			return &b->spans[i];
	return NULL;
}

static void check_batch(const struct span_batch *b, void *ud)
{
	struct validity *v = ud;
	for (uint32_t i = 0; i < b->n_spans; i++) {
		const struct span *s = &b->spans[i];
		v->spans++;
		v->invalid += span_invalid_reason(s) != NULL;
		v->kinds[s->kind < 6 ? s->kind : 0]++;
		v->errors += s->status_code == STATUS_ERROR;
		if (s->n_events && s->events[0].attrs.n >= 3 && attr_find(&s->events[0].attrs, "exception.stacktrace"))
			v->exceptions++;
		if (s->has_parent) {
			const struct span *p = find_span(b, s->trace_id, s->parent_span_id);
			if (!p)
				v->orphans++;
			else if (s->kind != SPAN_KIND_CONSUMER &&
				 (s->start_unix_ns < p->start_unix_ns || s->end_unix_ns > p->end_unix_ns))
				v->outside++;
			else if (s->kind == SPAN_KIND_CONSUMER && s->start_unix_ns < p->end_unix_ns)
				v->outside++;
		}
		for (uint32_t k = 0; k < s->n_links; k++) {
			v->links++;
			if (!find_span(b, s->links[k].trace_id, s->links[k].span_id))
				v->bad_links++;
		}
	}
}

TEST(gen_batches_are_valid_otlp_with_nested_times)
{
	struct buf out;
	struct validity v = {0};
	buf_init(&out, 1 << 28);
	CHECK_INT(run(3, NULL, 30, &out), ==, 0);
	CHECK_INT(each_batch(&out, check_batch, &v), ==, 0);
	CHECK_INT(v.spans, >=, 15000);
	CHECK_INT(v.invalid, ==, 0);
	CHECK_INT(v.orphans, ==, 0);
	CHECK_INT(v.outside, ==, 0);
	CHECK_INT(v.kinds[SPAN_KIND_SERVER], >, 0);
	CHECK_INT(v.kinds[SPAN_KIND_CLIENT], >, 0);
	CHECK_INT(v.kinds[SPAN_KIND_PRODUCER], >, 0);
	CHECK_INT(v.kinds[SPAN_KIND_CONSUMER], >, 0);
	CHECK_INT(v.kinds[SPAN_KIND_INTERNAL], >, 0);
	CHECK_INT(v.links, ==, v.kinds[SPAN_KIND_CONSUMER]);
	CHECK_INT(v.bad_links, ==, 0);
	CHECK_INT(v.errors, >, 0);
	CHECK_INT(v.exceptions, >, 0);
	buf_free(&out);
}

TEST(gen_json_encoding_is_otlp_json)
{
	struct topo t;
	struct gen g;
	struct arena a;
	struct span_batch b;
	struct buf out;
	topo_init(&t);
	arena_init(&a, 0);
	buf_init(&out, 1 << 26);
	CHECK_INT(topo_default(&t), ==, 0);
	struct gen_config c = {.seed = 1, .start_unix_ns = T0, .clock_rate = 1000, .accounts = 1000, .batch_spans = 50,
			       .topo = &t};
	CHECK_INT(gen_init(&g, &c), ==, 0);
	CHECK_INT(gen_next_batch(&g, &a, &b), ==, 0);
	sender_encode(&b, GEN_PROTO_JSON, &out);
	CHECK_INT(out.err, ==, 0);
	CHECK(out.len > 20 && memcmp(out.p, "{\"resourceSpans\":[", 18) == 0);
	buf_clear(&out);
	sender_encode(&b, GEN_PROTO_GRPC, &out);
	CHECK_INT(out.p[0], ==, 0);
	CHECK_INT(((uint32_t)out.p[1] << 24 | (uint32_t)out.p[2] << 16 | (uint32_t)out.p[3] << 8 | out.p[4]), ==,
		  out.len - 5);
	gen_free(&g);
	buf_free(&out);
	arena_reset(&a);
	topo_free(&t);
}

TEST(gen_urls)
{
	char u[256];
	sender_url(NULL, GEN_PROTO_HTTP, u, sizeof u);
	CHECK_STR(u, "http://127.0.0.1:4318/v1/traces");
	sender_url("http://h:1", GEN_PROTO_JSON, u, sizeof u);
	CHECK_STR(u, "http://h:1/v1/traces");
	sender_url("https://h/otlp/v1/traces", GEN_PROTO_HTTP, u, sizeof u);
	CHECK_STR(u, "https://h/otlp/v1/traces");
	sender_url("127.0.0.1:4317", GEN_PROTO_GRPC, u, sizeof u);
	CHECK_STR(u, "http://127.0.0.1:4317/opentelemetry.proto.collector.trace.v1.TraceService/Export");
}

TEST(gen_zipf_top_account_share)
{
	struct zipf z;
	struct rng r = {42};
	CHECK_INT(zipf_init(&z, 0, 1.0), ==, CLEW_EINVAL);
	CHECK_INT(zipf_init(&z, 100000, 1.0), ==, 0);
	int top = 0, n = 200000;
	for (int i = 0; i < n; i++)
		top += zipf_sample(&z, &r) == 1;
	/* 1 / H(100000) = 8.3% */
	CHECK_INT(top, >, n * 0.07);
	CHECK_INT(top, <, n * 0.095);
	zipf_free(&z);
	char id[24];
	uint32_t acc;
	model_account_id(model_account_of_rank(1, 100000), id);
	CHECK_INT(model_account_parse(id, &acc), ==, 0);
	CHECK_INT(acc, ==, model_account_of_rank(1, 100000));
	CHECK_INT(model_account_parse("acct-x1", &acc), ==, CLEW_EINVAL);
	CHECK_INT(model_account_parse("", &acc), ==, CLEW_EINVAL);
	CHECK_INT(model_account_parse("99999999999", &acc), ==, CLEW_EINVAL);
}

TEST(gen_lognormal_percentiles)
{
	struct rng r = {9};
	int below50 = 0, below99 = 0, n = 100000;
	for (int i = 0; i < n; i++) {
		double v = model_lognormal_ms(&r, 10, 100);
		below50 += v < 10;
		below99 += v < 100;
	}
	CHECK_INT(below50, >, n * 0.48);
	CHECK_INT(below50, <, n * 0.52);
	CHECK_INT(below99, >, n * 0.985);
	CHECK_INT(below99, <, n * 0.995);
}

TEST(gen_fault_specs_rejected)
{
	struct fault_set fs;
	struct topo t;
	char err[256];
	fault_set_init(&fs);
	topo_init(&t);
	CHECK_INT(topo_default(&t), ==, 0);
	CHECK_INT(fault_set_add(&fs, "nope", err, sizeof err), ==, CLEW_EINVAL);
	CHECK_INT(fault_set_add(&fs, "", err, sizeof err), ==, CLEW_EINVAL);
	CHECK_INT(fault_set_add(&fs, "slow-shard:factor", err, sizeof err), ==, CLEW_EINVAL);
	CHECK_INT(fault_set_add(&fs, "slow-shard:wat=1", err, sizeof err), ==, CLEW_EINVAL);
	CHECK_INT(fault_set_add(&fs, "slow-shard:duration=0s", err, sizeof err), ==, CLEW_EINVAL);
	CHECK_INT(fault_set_add(&fs, "slow-shard:duration=5m,period=1m", err, sizeof err), ==, CLEW_EINVAL);
	CHECK_INT(fault_set_add(&fs, "bad-deploy:error_rate=2", err, sizeof err), ==, CLEW_EINVAL);
	CHECK_INT(fault_set_add(&fs, "huge-account:account=acct-zz", err, sizeof err), ==, CLEW_EINVAL);
	CHECK_INT(fs.n, ==, 0);
	CHECK_INT(fault_set_add(&fs, "custom:service=nosuch", err, sizeof err), ==, 0);
	CHECK_INT(fault_set_bind(&fs, &t, T0, 1000, err, sizeof err), ==, CLEW_EINVAL);
	CHECK(strstr(err, "nosuch") != NULL);
	fault_set_free(&fs);
	fault_set_init(&fs);
	CHECK_INT(fault_set_add(&fs, "slow-shard:shard=9", err, sizeof err), ==, 0);
	CHECK_INT(fault_set_bind(&fs, &t, T0, 1000, err, sizeof err), ==, CLEW_EINVAL);
	fault_set_free(&fs);
	fault_set_init(&fs);
	CHECK_INT(fault_set_add_cycle(&fs, 300000000000LL, 120000000000LL), ==, 0);
	CHECK_INT(fs.n, ==, 6);
	CHECK_INT(fault_set_bind(&fs, &t, T0, 100000, err, sizeof err), ==, 0);
	fault_set_free(&fs);
	topo_free(&t);
}

TEST(gen_fault_truth_lines)
{
	struct fault_set fs;
	struct topo t;
	char err[256], *text = NULL;
	size_t len = 0;
	fault_set_init(&fs);
	topo_init(&t);
	CHECK_INT(topo_default(&t), ==, 0);
	CHECK_INT(fault_set_add(&fs, "slow-shard:start=1m,duration=2m,period=10m", err, sizeof err), ==, 0);
	CHECK_INT(fault_set_bind(&fs, &t, T0, 100000, err, sizeof err), ==, 0);
	fs.truth = open_memstream(&text, &len);
	fault_set_advance(&fs, T0 + 30000000000LL);
	fault_set_advance(&fs, T0 + 11 * 60000000000LL + 1);
	fclose(fs.truth);
	CHECK(text != NULL);
	CHECK(strstr(text, "{\"fault\":\"slow-shard\",\"state\":\"on\",\"at\":\"2026-01-01T00:01:00Z\",\"where\":"
			   "{\"db.name\":\"accounts_shard_3\"},\"who\":{\"shard\":3},\"effect\":{\"latency_factor\":8}") ==
	      text);
	CHECK(strstr(text, "\"state\":\"off\",\"at\":\"2026-01-01T00:03:00Z\"") != NULL);
	CHECK(strstr(text, "\"state\":\"on\",\"at\":\"2026-01-01T00:11:00Z\"") != NULL);
	free(text);
	fault_set_free(&fs);
	topo_free(&t);
}

TEST(gen_topology_file)
{
	const char *dir = test_tmpdir();
	char path[512], err[256];
	snprintf(path, sizeof path, "%s/topo.json", dir);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("{\"hosts\": 4, \"databases\": [{\"name\": \"db\", \"system\": \"postgresql\", \"shards\": 2}],"
	      " \"topics\": [{\"name\": \"ev\"}],"
	      " \"services\": [{\"name\": \"front\", \"instances\": 2, \"operations\": [{\"name\": \"GET /x\","
	      " \"weight\": 1, \"calls\": [{\"service\": \"back\", \"operation\": \"b.B/Get\", \"parallel\": true,"
	      " \"repeat\": [2, 3]}, {\"produce\": \"ev\"}]}]},"
	      " {\"name\": \"back\", \"protocol\": \"grpc\", \"operations\": [{\"name\": \"b.B/Get\","
	      " \"calls\": [{\"db\": \"db\", \"statement\": \"SELECT 1\"}]}, {\"consumes\": \"ev\"}]}]}",
	      f);
	fclose(f);
	struct topo t;
	topo_init(&t);
	CHECK_INT(topo_load_file(&t, path, err, sizeof err), ==, 0);
	CHECK_INT(t.n_services, ==, 2);
	CHECK_INT(t.n_hosts, ==, 4);
	CHECK_INT(t.topics[0].n_consumers, ==, 1);
	topo_free(&t);
	static const char *bad[] = {
		"{",
		"[]",
		"{\"services\": []}",
		"{\"services\": [{\"name\": \"a\", \"operations\": [{\"name\": \"GET /\", \"weight\": 1, \"calls\":"
		" [{\"service\": \"zz\", \"operation\": \"x\"}]}]}]}",
		"{\"services\": [{\"name\": \"a\", \"operations\": [{\"name\": \"nospace\", \"weight\": 1}]}]}",
		"{\"services\": [{\"name\": \"a\", \"protocol\": \"smtp\"}]}",
		"{\"services\": [{\"name\": \"a\", \"operations\": [{\"name\": \"GET /\", \"weight\": 1, \"calls\":"
		" [{\"db\": \"none\"}]}]}]}",
		"{\"services\": [{\"name\": \"a\", \"operations\": [{\"name\": \"GET /\", \"weight\": 1, \"calls\":"
		" [{\"internal\": \"x\", \"repeat\": 0}]}]}]}",
		"{\"services\": [{\"name\": \"a\", \"operations\": [{\"name\": \"GET /\"}]}]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		f = fopen(path, "w");
		fputs(bad[i], f);
		fclose(f);
		topo_init(&t);
		err[0] = 0;
		int rc = topo_load_file(&t, path, err, sizeof err);
		if (rc == 0)
			test_fail(__FILE__, __LINE__, "bad topology %zu accepted", i);
		CHECK(err[0] != 0);
		topo_free(&t);
	}
	topo_init(&t);
	CHECK(topo_load_file(&t, "/nonexistent/topo.json", err, sizeof err) < 0);
	topo_free(&t);
}
