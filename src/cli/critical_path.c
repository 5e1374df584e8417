/* clew critical-path: which services and operations made traces slow, from
 * the terminal. Calls the server's /api/v1/critical-path over HTTP
 * (libcurl) and prints the segments (service, operation, share, self time
 * p50/p99, and the change against --baseline-since) or, with --trace ID,
 * the path of one trace; --json prints the server's answer as it is. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/units.h"
#include "cli/cli.h"
#include "cli/cli_client.h"

static void cp_usage(FILE *f)
{
	fputs("usage: clew critical-path [options] ['TRACEQL']\n"
	      "       clew critical-path [--server URL] [--json] --trace ID\n"
	      "\n"
	      "Shows which services and operations are on the critical path of the traces\n"
	      "a TraceQL filter matches (default {}): the share of end-to-end latency each\n"
	      "one accounts for, and its self time on the path (p50, p99).\n"
	      "\n"
	      "  --server URL        the server's query port [http://127.0.0.1:3200]\n"
	      "  --since DUR         traces of the last DUR, e.g. 15m, 1h [1h]\n"
	      "  --start T, --end T  a time range instead: Unix seconds or RFC 3339 UTC\n"
	      "  --baseline-start T, --baseline-end T\n"
	      "                      compare with this window: adds the baseline share and\n"
	      "                      the change, largest change first\n"
	      "  --trace ID          the critical path of one trace\n"
	      "  --limit N           segments shown at most [25]\n"
	      "  --json              print the server's JSON answer as it is\n"
	      "  -h, --help          show this text\n",
	      f);
}

static int cmp_change(const void *x, const void *y)
{
	double a = fabs(cli_client_num(*(json_t *const *)x, "change")),
	       b = fabs(cli_client_num(*(json_t *const *)y, "change"));
	return (a < b) - (a > b);
}

static void print_segments(json_t *root, bool baseline, size_t limit)
{
	json_t *segs = json_object_get(root, "segments");
	size_t n = json_array_size(segs);
	json_t **v = calloc(n + 1, sizeof *v);
	if (!v)
		return;
	for (size_t k = 0; k < n; k++)
		v[k] = json_array_get(segs, k);
	if (baseline)
		qsort(v, n, sizeof *v, cmp_change);
	printf("%-24s  %-40s  %7s  %10s  %10s", "SERVICE", "OPERATION", "SHARE", "SELF P50", "SELF P99");
	if (baseline)
		printf("  %9s  %8s", "BASELINE", "CHANGE");
	putchar('\n');
	for (size_t k = 0; k < n && k < limit; k++) {
		json_t *s = v[k], *self = json_object_get(s, "selfMs");
		printf("%-24.24s  %-40.40s  %6.1f%%  %8.2fms  %8.2fms", cli_client_str(s, "service"),
		       cli_client_str(s, "name"), 100 * cli_client_num(s, "share"), cli_client_num(self, "p50"),
		       cli_client_num(self, "p99"));
		if (baseline)
			printf("  %8.1f%%  %+7.1f%%", 100 * cli_client_num(s, "baselineShare"),
			       100 * cli_client_num(s, "change"));
		putchar('\n');
	}
	printf("%lld trace%s, %zu segment%s\n", (long long)json_integer_value(json_object_get(root, "traces")),
	       json_integer_value(json_object_get(root, "traces")) == 1 ? "" : "s", n, n == 1 ? "" : "s");
	free(v);
}

static void print_trace(json_t *root)
{
	json_t *spans = json_object_get(root, "spans"), *s;
	size_t k;
	printf("trace %s: %.2f ms, %lld span%s adjusted for clock skew\n", cli_client_str(root, "traceId"),
	       cli_client_num(root, "durationMs"),
	       (long long)json_integer_value(json_object_get(root, "adjustedSpans")),
	       json_integer_value(json_object_get(root, "adjustedSpans")) == 1 ? "" : "s");
	printf("%-16s  %-24s  %-40s  %10s  %10s  %7s\n", "SPAN ID", "SERVICE", "OPERATION", "DURATION", "SELF",
	       "SHARE");
	json_array_foreach(spans, k, s) {
		printf("%-16s  %-24.24s  %-40.40s  %8.2fms  %8.2fms  %6.1f%%%s\n", cli_client_str(s, "spanId"),
		       cli_client_str(s, "service"), cli_client_str(s, "name"), cli_client_num(s, "durationMs"),
		       cli_client_num(s, "selfMs"), 100 * cli_client_num(s, "share"),
		       json_is_true(json_object_get(s, "adjusted")) ? "  (skew adjusted)" : "");
	}
}

struct cp_args {
	const char *query, *trace;
	uint64_t limit;
};

static int cp_arg(void *ctx, const char *a, const char *v)
{
	struct cp_args *c = ctx;
	if (strcmp(a, "--trace") == 0 || strcmp(a, "--limit") == 0) {
		if (!v)
			return CLI_CLIENT_OWN_NEEDS;
		if (a[2] == 't') {
			c->trace = v;
		} else if (units_parse_u64(v, &c->limit) < 0 || c->limit == 0) {
			fprintf(stderr, "clew critical-path: invalid --limit '%s'\n", v);
			return CLI_CLIENT_OWN_BAD;
		}
		return CLI_CLIENT_OWN_VALUE;
	}
	if (a[0] == '-' && a[1] != 0)
		return CLI_CLIENT_OWN_NONE;
	if (c->query) {
		fprintf(stderr, "clew critical-path: one query only (quote it)\n");
		return CLI_CLIENT_OWN_BAD;
	}
	c->query = a;
	return CLI_CLIENT_OWN_FLAG;
}

int cli_critical_path(int argc, char **argv)
{
	struct cli_client cl;
	struct cp_args cp = {.limit = 25};
	cli_client_init(&cl, "critical-path", cp_usage,
	                CLI_CLIENT_RANGE | CLI_CLIENT_BASELINE | CLI_CLIENT_SINCE_HINT | CLI_CLIENT_ANY_VALUE);
	cl.down_hint = " (is clew serve running? use --server URL)";
	int rc = cli_client_parse(&cl, argc, argv, cp_arg, &cp);
	if (rc != CLI_CLIENT_RUN)
		return rc;
	cli_client_default_range(&cl);
	bool baseline = cl.baseline_start_s >= 0;
	if (baseline != (cl.baseline_end_s >= 0)) {
		fprintf(stderr, "clew critical-path: give both --baseline-start and --baseline-end\n");
		return 2;
	}
	rc = cli_client_open(&cl);
	if (rc < 0)
		goto out;
	if (cp.trace) {
		cli_client_url(&cl, "%s/api/v1/critical-path?traceId=", cl.server);
		cli_client_url_escaped(&cl, cp.trace);
	} else {
		cli_client_url(&cl, "%s/api/v1/critical-path?q=", cl.server);
		cli_client_url_escaped(&cl, cp.query ? cp.query : "{}");
		cli_client_range_params(&cl);
		if (baseline)
			cli_client_url(&cl, "&baselineStart=%lld&baselineEnd=%lld", (long long)cl.baseline_start_s,
			               (long long)cl.baseline_end_s);
	}
	rc = cli_client_fetch(&cl);
	if (rc == 0 && cp.trace)
		print_trace(cl.root);
	else if (rc == 0)
		print_segments(cl.root, baseline, (size_t)cp.limit);
out:
	return cli_client_close(&cl, rc);
}
