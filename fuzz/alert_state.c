/* Fuzz target for the alert engine's state files as alert_engine_open reads
 * them back from DATA_DIR/state after a crash: a valid state (a rule, a
 * silence, an SLO with its counters, a firing instance, its notification
 * in the outbox, delivery log entries) is made once by the engine itself;
 * each input replaces one of its files (the first byte picks which: rules,
 * silences, alerts, slos, deliveries.log, catalog, the SLO's counters) and
 * the engine is opened on it, listed, ticked and closed. A refusal is
 * fine; a crash or a leak is not. Notifications that the state asks to
 * send go through a proxy that nothing listens on (127.0.0.1:9). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert/alert_engine.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/json.h"
#include "base/log.h"

#define S      1000000000LL
#define NOW_NS (1796601600LL * S) /* 2026-12-07 */
#define N_FILES 7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base_dir[64];
static char names[N_FILES][64] = {"rules.json", "silences.json", "alerts.json", "slos.json",
				  "deliveries.log", "catalog.json", ""};

/* Memory-backed when there is one: every state change is fsynced. */
static const char *tmp_root(void)
{
	return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

static void options(struct alert_engine_options *o, const char *dir)
{
	memset(o, 0, sizeof *o);
	o->data_dir = dir;
	o->manual = true;
	o->public_url = "http://clew.example:3200";
	o->notify.timeout_ns = 100000000;
	o->notify.backoff_ns = 3600 * S; /* one attempt per run */
	o->notify.max_attempts = 1000;
}

static void slow_batch(struct span_batch *b, struct arena *a, int64_t t0)
{
	span_batch_init(b, a);
	struct resource *res = span_batch_add_resource(b);
	res->attrs.items = arena_array(a, 1, sizeof(struct attr));
	res->attrs.items[0].key = SLICE_LIT("service.name");
	res->attrs.items[0].value.type = ANY_STRING;
	res->attrs.items[0].value.u.str = SLICE_LIT("billing");
	res->attrs.n = 1;
	span_batch_add_scope(b, 0);
	for (uint32_t i = 0; i < 60; i++) {
		struct span *s = span_batch_add_span(b, 0);
		memset(s->trace_id, 0, 16);
		s->trace_id[0] = (uint8_t)(i + 1);
		s->span_id[0] = (uint8_t)(i + 1);
		s->kind = SPAN_KIND_SERVER;
		s->status_code = i % 3 == 0 ? STATUS_ERROR : STATUS_OK;
		s->start_unix_ns = t0 + (int64_t)i * 10000000;
		s->end_unix_ns = s->start_unix_ns + (i % 2 ? 900000000LL : 1000000LL);
		s->attrs.items = arena_array(a, 1, sizeof(struct attr));
		s->attrs.items[0].key = SLICE_LIT("customer.id");
		s->attrs.items[0].value.type = ANY_STRING;
		s->attrs.items[0].value.u.str = i % 4 ? SLICE_LIT("acme") : SLICE_LIT("globex");
		s->attrs.n = 1;
	}
}

/* The base state, made by the engine: base_dir/state/... */
static void make_base(void)
{
	snprintf(base_dir, sizeof base_dir, "%s/clew-fuzz-alert-state-XXXXXX", tmp_root());
	if (!mkdtemp(base_dir))
		abort();
	struct alert_engine_options o;
	options(&o, base_dir);
	int rc;
	char err[512];
	struct alert_engine *e = alert_engine_open(&o, &rc, err, sizeof err);
	if (!e)
		abort();
	static const char rule[] =
	    "{\"name\":\"slow\",\"query\":\"{kind=server} | avg_over_time(duration) by (span.customer.id)\","
	    "\"condition\":{\"op\":\">\",\"threshold\":0.3},\"interval\":\"10s\",\"labels\":{\"team\":\"billing\"},"
	    "\"groupBy\":[\"span.customer.id\"],\"notify\":[{\"type\":\"webhook\",\"url\":\"http://127.0.0.1:9/a\"},"
	    "{\"type\":\"pagerduty\",\"url\":\"http://127.0.0.1:9/b\",\"routingKey\":\"K\"}]}";
	static const char silence[] = "{\"matchers\":{\"span.customer.id\":\"globex\"},\"expiresIn\":\"2h\"}";
	static const char slo[] = "{\"name\":\"availability\",\"query\":\"{kind=server}\",\"objective\":0.99,"
				  "\"window\":\"7d\",\"good\":{\"errors\":false},\"by\":\"span.customer.id\","
				  "\"notify\":[{\"type\":\"slack\",\"url\":\"http://127.0.0.1:9/c\"}]}";
	static const char catalog[] = "{\"services\":[{\"name\":\"billing\",\"team\":\"payments\"}],"
				      "\"accounts\":[{\"id\":\"acme\",\"name\":\"Acme\",\"owner\":\"alice\"}]}";
	struct buf b;
	buf_init(&b, 1 << 20);
	struct json j;
	json_init(&j, &b);
	if (alert_engine_put_rule(e, NULL, rule, sizeof rule - 1, NULL, err, sizeof err) != 0 ||
	    alert_engine_put_silence(e, silence, sizeof silence - 1, NULL, err, sizeof err) != 0 ||
	    alert_engine_put_slo(e, NULL, slo, sizeof slo - 1, &j, err, sizeof err) != 0)
		abort();
	json_t *cat = json_loads(catalog, 0, NULL);
	if (catalog_put(alert_engine_catalog(e), cat, false, err, sizeof err) != 0)
		abort();
	json_decref(cat);
	struct arena a;
	arena_init(&a, 0);
	struct span_batch batch;
	slow_batch(&batch, &a, NOW_NS - 5 * S);
	alert_engine_add_batch(e, &batch, NOW_NS);
	alert_engine_tick(e, NOW_NS);
	usleep(300000); /* the first attempts are refused and logged */
	alert_engine_close(e);
	arena_reset(&a);
	buf_free(&b);
	/* the SLO's counters file */
	char dir[128];
	snprintf(dir, sizeof dir, "%s/state", base_dir);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "slo-", 4) == 0 && strlen(de->d_name) < sizeof names[6])
			memcpy(names[6], de->d_name, strlen(de->d_name) + 1);
	if (d)
		closedir(d);
}

static int copy_file(const char *from, const char *to, const uint8_t *p, size_t n)
{
	FILE *out = fopen(to, "wb");
	if (!out)
		return -1;
	if (p) {
		fwrite(p, 1, n, out);
	} else {
		FILE *in = fopen(from, "rb");
		char chunk[65536];
		size_t got;
		while (in && (got = fread(chunk, 1, sizeof chunk, in)) > 0)
			fwrite(chunk, 1, got, out);
		if (in)
			fclose(in);
	}
	return fclose(out);
}

static void remove_tree(const char *dir)
{
	char state[128], path[512];
	snprintf(state, sizeof state, "%s/state", dir);
	DIR *d = opendir(state);
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%s", state, de->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	rmdir(state);
	rmdir(dir);
}

static void remove_base(void)
{
	remove_tree(base_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		log_set_level(LOG_ERROR);
		setenv("http_proxy", "http://127.0.0.1:9", 1);
		setenv("https_proxy", "http://127.0.0.1:9", 1);
		setenv("no_proxy", "", 1);
		make_base();
		atexit(remove_base);
		init = 1;
	}
	if (size < 1)
		return 0;
	uint32_t which = data[0] % N_FILES;
	if (!names[which][0])
		return 0;
	char dir[64], state[128];
	snprintf(dir, sizeof dir, "%s/clew-fuzz-alert-state-XXXXXX", tmp_root());
	if (!mkdtemp(dir))
		return 0;
	snprintf(state, sizeof state, "%s/state", dir);
	mkdir(state, 0755);
	for (uint32_t i = 0; i < N_FILES; i++) {
		if (!names[i][0])
			continue;
		char from[1024], to[1024];
		snprintf(from, sizeof from, "%s/state/%s", base_dir, names[i]);
		snprintf(to, sizeof to, "%s/%s", state, names[i]);
		if (i == which)
			copy_file(NULL, to, data + 1, size - 1);
		else if (access(from, R_OK) == 0)
			copy_file(from, to, NULL, 0);
	}
	struct alert_engine_options o;
	options(&o, dir);
	int rc;
	char err[512];
	struct alert_engine *e = alert_engine_open(&o, &rc, err, sizeof err);
	if (e) {
		struct buf b;
		buf_init(&b, 1 << 24);
		struct json j;
		json_init(&j, &b);
		alert_engine_list_rules(e, &j);
		json_init(&j, &b);
		alert_engine_list_alerts(e, NULL, NULL, &j);
		json_init(&j, &b);
		alert_engine_list_silences(e, &j);
		json_init(&j, &b);
		alert_engine_list_slos(e, &j);
		json_init(&j, &b);
		alert_engine_deliveries(e, 100, &j);
		alert_engine_tick(e, NOW_NS + 20 * S);
		buf_free(&b);
		alert_engine_close(e);
	}
	remove_tree(dir);
	return 0;
}
