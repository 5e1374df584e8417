/* clew gen: realistic synthetic traffic. Parses the options, builds the
 * topology (default or --topology file), the faults and the generator,
 * then sends OTLP to a target or writes records to a file until a limit or
 * SIGINT/SIGTERM, and prints a summary on stderr. */
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/units.h"
#include "cli/cli.h"
#include "gen/faults.h"
#include "gen/sender.h"
#include "gen/topology.h"
#include "gen/tracegen.h"

static volatile sig_atomic_t gen_stop;

static void on_signal(int sig)
{
	(void)sig;
	gen_stop = 1;
}

static void gen_usage(FILE *f)
{
	fputs("usage: clew gen [options]\n"
	      "\n"
	      "Simulates a system of about 40 microservices and sends its traces as OTLP, or\n"
	      "writes them to a file. Deterministic for a given --seed and --start.\n"
	      "\n"
	      "  --target URL            where to send [http://127.0.0.1:4318, gRPC 127.0.0.1:4317]\n"
	      "  --protocol P            http (OTLP/HTTP protobuf), grpc or json [http]\n"
	      "  --out FILE              write records (u32 LE length + ExportTraceServiceRequest)\n"
	      "                          to FILE ('-' = stdout) instead of sending\n"
	      "  --rate N|max            spans per second [1000; max with --out]\n"
	      "  --duration DUR          stop after this much wall time [until stopped]\n"
	      "  --spans N               stop after about N spans (whole traces)\n"
	      "  --seed N                random seed [1]\n"
	      "  --start TIME            simulated start, RFC 3339 UTC (2026-01-01T00:00:00Z) [now]\n"
	      "  --clock-rate N          spans per simulated second when --rate is max [10000]\n"
	      "  --topology FILE         the system to simulate, JSON (docs/gen.md) [built in]\n"
	      "  --accounts N            customer accounts (Zipf-distributed activity) [100000]\n"
	      "  --zipf S                Zipf exponent [1.0]\n"
	      "  --batch-spans N         spans per request, whole traces [1000]\n"
	      "  --concurrency N         requests in flight [4]\n"
	      "  --fault SPEC            switch on a fault for a window of simulated time; repeatable.\n"
	      "                          SPEC is NAME[:key=value,...], NAME one of slow-shard,\n"
	      "                          huge-account, bad-deploy, slow-dependency, noisy-host,\n"
	      "                          retry-storm, custom. Keys: start, duration, period (DUR);\n"
	      "                          where: service, operation, host, db, peer, version;\n"
	      "                          who: account, shard, tier; effect: factor, add (DUR),\n"
	      "                          error_rate, exception, message, status, size_factor,\n"
	      "                          retries, retry_timeout (DUR), new_version, fraction.\n"
	      "                          e.g. --fault slow-shard:start=5m,duration=2m,shard=2,factor=4\n"
	      "  --fault-cycle[=P,ON]    every named fault in turn, each on for ON every P [5m,2m]\n"
	      "  -h, --help              show this text\n"
	      "\n"
	      "Each fault prints its ground truth as one JSON line on stderr when it turns on\n"
	      "and off. At the end a summary goes to stderr.\n",
	      f);
}

static int bad_option(const char *opt, const char *val, const char *what)
{
	fprintf(stderr, "clew gen: invalid %s '%s': %s (see clew gen --help)\n", opt, val, what);
	return 2;
}

/* "2026-01-01T00:00:00Z", with fractional seconds or an offset. */
static int parse_rfc3339(const char *s, int64_t *out)
{
	return units_parse_rfc3339_ns(slice_cstr(s), out) ? 0 : CLEW_EINVAL;
}

struct gen_options {
	struct sender_config send;
	struct gen_config gen;
	const char *topology;
	bool rate_given, fault_cycle;
	int64_t cycle_period, cycle_on;
};

static int parse_u64_opt(const char *opt, const char *val, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (units_parse_u64(val, out) < 0 || *out < lo || *out > hi)
		return bad_option(opt, val, "not a number in range");
	return 0;
}

static int parse_options(int argc, char **argv, struct gen_options *o, struct fault_set *faults)
{
	enum {
		O_TARGET = 1000, O_PROTO, O_OUT, O_RATE, O_DUR, O_SPANS, O_SEED, O_START, O_CLOCK, O_TOPO, O_ACC,
		O_ZIPF, O_BATCH, O_CONC, O_FAULT, O_CYCLE
	};
	static const struct option longopts[] = {
		{"target", required_argument, NULL, O_TARGET}, {"protocol", required_argument, NULL, O_PROTO},
		{"out", required_argument, NULL, O_OUT},       {"rate", required_argument, NULL, O_RATE},
		{"duration", required_argument, NULL, O_DUR},  {"spans", required_argument, NULL, O_SPANS},
		{"seed", required_argument, NULL, O_SEED},     {"start", required_argument, NULL, O_START},
		{"clock-rate", required_argument, NULL, O_CLOCK}, {"topology", required_argument, NULL, O_TOPO},
		{"accounts", required_argument, NULL, O_ACC},  {"zipf", required_argument, NULL, O_ZIPF},
		{"batch-spans", required_argument, NULL, O_BATCH}, {"concurrency", required_argument, NULL, O_CONC},
		{"fault", required_argument, NULL, O_FAULT},   {"fault-cycle", optional_argument, NULL, O_CYCLE},
		{"help", no_argument, NULL, 'h'},	       {NULL, 0, NULL, 0},
	};
	uint64_t u;
	char err[256];
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *v = optarg;
		switch (c) {
		case O_TARGET:
			o->send.target = v;
			break;
		case O_PROTO:
			if (!strcmp(v, "http") || !strcmp(v, "protobuf"))
				o->send.protocol = GEN_PROTO_HTTP;
			else if (!strcmp(v, "grpc"))
				o->send.protocol = GEN_PROTO_GRPC;
			else if (!strcmp(v, "json"))
				o->send.protocol = GEN_PROTO_JSON;
			else
				return bad_option("--protocol", v, "must be http, grpc or json");
			break;
		case O_OUT:
			o->send.out_path = v;
			break;
		case O_RATE: {
			char *end;
			o->rate_given = true;
			if (!strcmp(v, "max")) {
				o->send.rate = 0;
				break;
			}
			o->send.rate = strtod(v, &end);
			if (end == v || *end || !(o->send.rate > 0 && o->send.rate < 1e12))
				return bad_option("--rate", v, "spans per second > 0, or max");
			break;
		}
		case O_DUR:
			if (units_parse_duration_ns(v, &o->send.duration_ns) < 0 || o->send.duration_ns <= 0)
				return bad_option("--duration", v, "a duration such as 60s or 5m");
			break;
		case O_SPANS:
			if (parse_u64_opt("--spans", v, 1, UINT64_MAX / 2, &o->send.max_spans))
				return 2;
			break;
		case O_SEED:
			if (parse_u64_opt("--seed", v, 0, UINT64_MAX, &o->gen.seed))
				return 2;
			break;
		case O_START:
			if (strcmp(v, "now") != 0 && parse_rfc3339(v, &o->gen.start_unix_ns) < 0)
				return bad_option("--start", v, "an RFC 3339 UTC time such as 2026-01-01T00:00:00Z");
			break;
		case O_CLOCK: {
			char *end;
			o->gen.clock_rate = strtod(v, &end);
			if (end == v || *end || !(o->gen.clock_rate > 0))
				return bad_option("--clock-rate", v, "spans per simulated second > 0");
			break;
		}
		case O_TOPO:
			o->topology = v;
			break;
		case O_ACC:
			if (parse_u64_opt("--accounts", v, 1, 100000000, &u))
				return 2;
			o->gen.accounts = (uint32_t)u;
			break;
		case O_ZIPF: {
			char *end;
			o->gen.zipf_s = strtod(v, &end);
			if (end == v || *end || !(o->gen.zipf_s > 0 && o->gen.zipf_s < 10))
				return bad_option("--zipf", v, "an exponent between 0 and 10");
			break;
		}
		case O_BATCH:
			if (parse_u64_opt("--batch-spans", v, 1, 1000000, &u))
				return 2;
			o->gen.batch_spans = (uint32_t)u;
			break;
		case O_CONC:
			if (parse_u64_opt("--concurrency", v, 1, 1024, &u))
				return 2;
			o->send.concurrency = (uint32_t)u;
			break;
		case O_FAULT:
			if (fault_set_add(faults, v, err, sizeof err) < 0) {
				fprintf(stderr, "clew gen: %s\n", err);
				return 2;
			}
			break;
		case O_CYCLE:
			o->fault_cycle = true;
			if (v) {
				const char *comma = strchr(v, ',');
				char a[64];
				if (!comma || (size_t)(comma - v) >= sizeof a)
					return bad_option("--fault-cycle", v, "PERIOD,ON such as 5m,2m");
				memcpy(a, v, (size_t)(comma - v));
				a[comma - v] = 0;
				if (units_parse_duration_ns(a, &o->cycle_period) < 0 ||
				    units_parse_duration_ns(comma + 1, &o->cycle_on) < 0 || o->cycle_on <= 0 ||
				    o->cycle_period <= o->cycle_on)
					return bad_option("--fault-cycle", v, "PERIOD,ON with ON < PERIOD");
			}
			break;
		case 'h':
			gen_usage(stdout);
			return -1;
		default:
			gen_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "clew gen: unexpected argument '%s' (see clew gen --help)\n", argv[optind]);
		return 2;
	}
	return 0;
}

int cli_gen(int argc, char **argv)
{
	struct gen_options o = {
		.gen = {.seed = 1, .start_unix_ns = clock_now_unix_ns(), .accounts = 100000, .zipf_s = 1.0,
			.batch_spans = 1000},
		.cycle_period = 300LL * 1000000000,
		.cycle_on = 120LL * 1000000000,
	};
	struct fault_set faults;
	struct topo topo;
	struct gen g;
	char err[512] = "";
	int status = 2, rc;
	bool have_gen = false;
	fault_set_init(&faults);
	topo_init(&topo);
	if ((rc = parse_options(argc, argv, &o, &faults)) != 0) {
		status = rc < 0 ? 0 : rc;
		goto out;
	}
	if (!o.rate_given)
		o.send.rate = o.send.out_path ? 0 : 1000;
	if (!(o.gen.clock_rate > 0))
		o.gen.clock_rate = o.send.rate > 0 ? o.send.rate : 10000;
	if (o.topology) {
		if ((rc = topo_load_file(&topo, o.topology, err, sizeof err)) < 0) {
			fprintf(stderr, "clew gen: topology %s: %s\n", o.topology, err[0] ? err : err_str(rc));
			goto out;
		}
	} else if (topo_default(&topo) < 0) {
		fprintf(stderr, "clew gen: the built-in topology is inconsistent\n");
		goto out;
	}
	if (o.fault_cycle && fault_set_add_cycle(&faults, o.cycle_period, o.cycle_on) < 0) {
		fprintf(stderr, "clew gen: bad --fault-cycle\n");
		goto out;
	}
	faults.truth = stderr;
	if (fault_set_bind(&faults, &topo, o.gen.start_unix_ns, o.gen.accounts, err, sizeof err) < 0) {
		fprintf(stderr, "clew gen: %s\n", err);
		goto out;
	}
	o.gen.topo = &topo;
	o.gen.faults = &faults;
	if (gen_init(&g, &o.gen) < 0) {
		fprintf(stderr, "clew gen: cannot set up the generator\n");
		goto out;
	}
	have_gen = true;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	o.send.stop = &gen_stop;
	if (!o.send.out_path)
		curl_global_init(CURL_GLOBAL_ALL);
	struct sender_stats st;
	rc = sender_run(&g, &o.send, &st, err, sizeof err);
	if (!o.send.out_path)
		curl_global_cleanup();
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
		     (double)ru.ru_stime.tv_usec / 1e6;
	fprintf(stderr,
		"clew gen: %llu spans in %llu batches (%.1f MB) in %.2f s: %.0f spans/s; cpu %.2f s: %.0f spans "
		"per core-second; %llu batches (%llu spans) failed, %llu retries%s%s\n",
		(unsigned long long)st.spans, (unsigned long long)st.batches, (double)st.bytes / 1e6, st.wall_s,
		st.wall_s > 0 ? (double)st.spans / st.wall_s : 0.0, cpu, cpu > 0 ? (double)st.spans / cpu : 0.0,
		(unsigned long long)st.failed_batches, (unsigned long long)st.failed_spans,
		(unsigned long long)st.retries, st.first_error[0] ? "; first error: " : "", st.first_error);
	if (rc < 0) {
		fprintf(stderr, "clew gen: %s\n", err);
		status = 1;
	} else {
		status = st.failed_batches && !st.batches ? 1 : 0;
	}
out:
	if (have_gen)
		gen_free(&g);
	fault_set_free(&faults);
	topo_free(&topo);
	return status;
}
