/* Benchmark of alert evaluation at scale: one per-account rule (p99 of
 * server span durations by span.customer.id) over `clew gen` traffic with
 * 10,000 accounts. One minute of traffic (simulated time) goes through
 * alert_engine_add_batch (ingest-side cost per span); then the evaluator's
 * tick runs once per interval over every account's instance (all pending:
 * the threshold is 0 and `for` is an hour, so nothing is sent), timed in
 * CPU and wall time, median of several; the memory is the growth of the
 * resident set (the generator's share included). Prints "name value" lines.
 * With --slos N, N per-account SLOs (99% of server spans faster than 1s
 * and without error over 30 days, default burn alerts) take the
 * rule's place: the feed updates every SLO's minute and hour buckets, and
 * each tick computes every account's budget and eight burn windows.
 * Usage: bench/alerts [accounts] [spans per second] [ticks] [--slos N]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert_engine.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/json.h"
#include "gen/topology.h"
#include "gen/tracegen.h"
#include "lib_records.h"

#define S 1000000000LL

static double rss_mib(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	double pages = 0, rss = 0;
	if (f) {
		if (fscanf(f, "%lf %lf", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (double)sysconf(_SC_PAGESIZE) / (1 << 20);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Instances in state, counted in the API's list. */
static long count_instances(struct alert_engine *e, const char *state)
{
	struct buf b;
	buf_init(&b, (size_t)1 << 30);
	struct json j;
	json_init(&j, &b);
	alert_engine_list_alerts(e, NULL, state, &j);
	buf_append_byte(&b, 0);
	long n = 0;
	for (const char *p = (const char *)b.p; b.err == 0 && (p = strstr(p, "\"ruleId\"")) != NULL; p++)
		n++;
	buf_free(&b);
	return n;
}

int main(int argc, char **argv)
{
	long slos = 0;
	const char *pos[3] = {NULL, NULL, NULL};
	int n_pos = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--slos") == 0 && i + 1 < argc)
			slos = strtol(argv[++i], NULL, 10);
		else if (n_pos < 3)
			pos[n_pos++] = argv[i];
		else
			slos = -1;
	}
	uint32_t accounts = pos[0] ? (uint32_t)strtoul(pos[0], NULL, 10) : 10000;
	double rate = pos[1] ? strtod(pos[1], NULL) : 20000;
	int ticks = pos[2] ? (int)strtol(pos[2], NULL, 10) : 7;
	if (accounts == 0 || rate <= 0 || ticks < 1 || ticks > 100 || slos < 0 || slos > 1000) {
		fprintf(stderr, "usage: bench/alerts [accounts] [spans per second] [ticks] [--slos N (up to 1000)]\n");
		return 2;
	}
	int64_t interval = 10 * S, range = 60 * S;
	int64_t t0 = clock_now_unix_ns() - range;
	struct topo t;
	struct gen g;
	topo_init(&t);
	if (topo_default(&t) < 0)
		return 1;
	struct gen_config c = {.seed = 1,
			       .start_unix_ns = t0,
			       .clock_rate = rate,
			       .accounts = accounts,
			       .zipf_s = 0.3,
			       .batch_spans = 1000,
			       .topo = &t};
	if (gen_init(&g, &c) < 0)
		return 1;
	double rss0 = rss_mib();
	struct alert_engine_options o = {.manual = true};
	int rc;
	char err[300];
	struct alert_engine *e = alert_engine_open(&o, &rc, err, sizeof err);
	if (!e) {
		fprintf(stderr, "alert_engine_open: %s\n", err);
		return 1;
	}
	const char *rule = "{\"name\":\"account p99\",\"query\":\"{ kind = server } | quantile_over_time(duration, "
			   "0.99) by (span.customer.id)\",\"condition\":{\"op\":\">\",\"threshold\":0},"
			   "\"interval\":\"10s\",\"for\":\"1h\",\"range\":\"1m\"}";
	const char *slo = "{\"name\":\"account latency and errors\",\"query\":\"{ kind = server }\","
			  "\"objective\":0.99,\"window\":\"30d\",\"good\":{\"latencyThreshold\":\"1s\","
			  "\"errors\":false},\"by\":\"span.customer.id\",\"interval\":\"10s\"}";
	for (long i = 0; i < slos; i++)
		if (alert_engine_put_slo(e, NULL, slo, strlen(slo), NULL, err, sizeof err) < 0) {
			fprintf(stderr, "slo: %s\n", err);
			return 1;
		}
	if (!slos && alert_engine_put_rule(e, NULL, rule, strlen(rule), NULL, err, sizeof err) < 0) {
		fprintf(stderr, "rule: %s\n", err);
		return 1;
	}
	/* one range of traffic, then an interval more before each tick; the
	 * batch's time is the simulated clock */
	struct arena a;
	arena_init(&a, 0);
	struct span_batch b;
	uint64_t spans = 0;
	double add_cpu = 0;
	double tick_cpu[100], tick_wall[100];
	int64_t end = t0 + range;
	for (int i = 0; i < ticks; i++, end += interval) {
		while (g.clock_ns < end) {
			if (gen_next_batch(&g, &a, &b) < 0)
				return 1;
			double c0 = self_cpu_seconds();
			alert_engine_add_batch(e, &b, g.clock_ns);
			add_cpu += self_cpu_seconds() - c0;
			spans += b.n_spans;
		}
		double c0 = self_cpu_seconds(), w0 = bench_now_s();
		alert_engine_tick(e, end);
		tick_cpu[i] = (self_cpu_seconds() - c0) * 1e3;
		tick_wall[i] = (bench_now_s() - w0) * 1e3;
	}
	long pending = slos ? count_instances(e, NULL) : count_instances(e, "pending");
	double rss1 = rss_mib();
	qsort(tick_cpu, (size_t)ticks, sizeof tick_cpu[0], cmp_double);
	qsort(tick_wall, (size_t)ticks, sizeof tick_wall[0], cmp_double);
	printf("alerts_accounts %u\n", accounts);
	if (slos)
		printf("alerts_slos %ld\n", slos);
	printf("alerts_spans_fed %llu\n", (unsigned long long)spans);
	printf("alerts_add_ns_per_span %.0f\n", add_cpu * 1e9 / (double)spans);
	printf("alerts_add_spans_per_core_second %.0f\n", (double)spans / add_cpu);
	printf("alerts_instances %ld\n", pending);
	printf("alerts_tick_cpu_ms_median %.2f\n", tick_cpu[ticks / 2]);
	printf("alerts_tick_wall_ms_median %.2f\n", tick_wall[ticks / 2]);
	printf("alerts_tick_us_per_instance %.2f\n", pending ? tick_cpu[ticks / 2] * 1e3 / (double)pending : 0);
	printf("alerts_memory_mib %.1f\n", rss1 - rss0);
	printf("alerts_interval_budget_share %.5f\n", tick_wall[ticks / 2] / ((double)interval / 1e6));
	alert_engine_close(e);
	arena_reset(&a);
	gen_free(&g);
	topo_free(&t);
	return 0;
}
