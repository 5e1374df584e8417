/* clew compare: two populations of a TraceQL filter side by side from the
 * terminal: a window against a baseline window (by default the window of
 * the same length just before it), or the spans where an attribute is a
 * against those where it is b. Calls /api/v1/compare (libcurl) and prints
 * the figures, the attributes and critical-path segments that changed most,
 * or the raw JSON. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/cli_client.h"

static void compare_usage(FILE *f)
{
	fputs("usage: clew compare [options] ['TRACEQL']\n"
	      "\n"
	      "Compares two populations of a TraceQL filter (the server's /api/v1/compare):\n"
	      "a window (B) against a baseline window (A), by default the window of the same\n"
	      "length just before it; or, with --by, the spans where an attribute is --a\n"
	      "against those where it is --b.\n"
	      "\n"
	      "  --server URL              the server's query port [http://127.0.0.1:3200]\n"
	      "  --since DUR               window B: the last DUR [15m]\n"
	      "  --start T, --end T        window B instead: Unix seconds or RFC 3339 UTC\n"
	      "  --baseline-start T, --baseline-end T   window A\n"
	      "  --by ATTR --a V --b V     compare by attribute value within window B\n"
	      "  --limit N                 attributes and segments at most [20]\n"
	      "  --json                    print the server's JSON answer as it is\n"
	      "  -h, --help                show this text\n",
	      f);
}

static void cell(char *out, size_t cap, json_t *v, const char *unit)
{
	if (json_is_number(v))
		snprintf(out, cap, "%.3f%s", json_number_value(v), unit);
	else
		snprintf(out, cap, "-");
}

static void print_row(json_t *root, const char *label, const char *obj, const char *field, const char *unit)
{
	char v[4][40];
	json_t *a = json_object_get(root, "a"), *b = json_object_get(root, "b");
	json_t *src[2] = {a, b};
	for (int k = 0; k < 2; k++) {
		json_t *o = obj ? json_object_get(src[k], obj) : src[k];
		cell(v[k], sizeof v[k], json_object_get(o, field), unit);
	}
	const char *dk = strcmp(field, "rate") == 0 ? "errorRate" : field;
	cell(v[2], sizeof v[2], json_object_get(json_object_get(root, "difference"), dk), unit);
	cell(v[3], sizeof v[3], json_object_get(json_object_get(root, "ratio"), dk), "x");
	printf("%-12s  %14s  %14s  %14s  %10s\n", label, v[0], v[1], v[2], v[3]);
}

static void print_report(json_t *root)
{
	printf("%-12s  %14s  %14s  %14s  %10s\n", "", "A", "B", "B - A", "B / A");
	print_row(root, "spans", NULL, "count", "");
	print_row(root, "error rate", "errors", "rate", "");
	print_row(root, "p50", "latency", "p50", "ms");
	print_row(root, "p95", "latency", "p95", "ms");
	print_row(root, "p99", "latency", "p99", "ms");
	print_row(root, "mean", "latency", "mean", "ms");
	json_t *c;
	size_t k;
	printf("\nattributes more common in B\n%-32s  %-32s  %6s  %8s  %8s\n", "KEY", "VALUE", "SCORE", "SHARE A",
	       "SHARE B");
	json_array_foreach(json_object_get(root, "attributes"), k, c) {
		printf("%-32.32s  %-32.32s  %6.3f  %8.4f  %8.4f\n", json_string_value(json_object_get(c, "key")),
		       json_string_value(json_object_get(c, "value")), json_number_value(json_object_get(c, "score")),
		       json_number_value(json_object_get(json_object_get(c, "rest"), "share")),
		       json_number_value(json_object_get(json_object_get(c, "bad"), "share")));
	}
	printf("\ncritical path\n%-24s  %-40s  %8s  %8s  %8s\n", "SERVICE", "NAME", "SHARE A", "SHARE B", "CHANGE");
	json_array_foreach(json_object_get(root, "criticalPath"), k, c) {
		printf("%-24.24s  %-40.40s  %8.4f  %8.4f  %+8.4f\n", json_string_value(json_object_get(c, "service")),
		       json_string_value(json_object_get(c, "name")), json_number_value(json_object_get(c, "shareA")),
		       json_number_value(json_object_get(c, "shareB")),
		       json_number_value(json_object_get(c, "change")));
	}
}

struct compare_args {
	const char *query, *by, *a, *b, *limit;
	bool have_query;
};

static int compare_arg(void *ctx, const char *a, const char *v)
{
	struct compare_args *c = ctx;
	const char **opt = strcmp(a, "--by") == 0      ? &c->by
	                   : strcmp(a, "--a") == 0     ? &c->a
	                   : strcmp(a, "--b") == 0     ? &c->b
	                   : strcmp(a, "--limit") == 0 ? &c->limit
	                                               : NULL;
	if (opt) {
		if (!v)
			return CLI_CLIENT_OWN_NEEDS;
		*opt = v;
		return CLI_CLIENT_OWN_VALUE;
	}
	if (a[0] == '-' && a[1] != 0)
		return CLI_CLIENT_OWN_NONE;
	if (c->have_query) {
		fprintf(stderr, "clew compare: one query only (quote it)\n");
		return CLI_CLIENT_OWN_BAD;
	}
	c->query = a;
	c->have_query = true;
	return CLI_CLIENT_OWN_FLAG;
}

int cli_compare(int argc, char **argv)
{
	struct cli_client cl;
	struct compare_args ca = {.query = "{}"};
	cli_client_init(&cl, "compare", compare_usage, CLI_CLIENT_RANGE | CLI_CLIENT_BASELINE | CLI_CLIENT_ANY_VALUE);
	cl.since_ns = 900LL * 1000000000LL;
	cl.since_min_ns = 1000000000LL;
	cl.max_body_bytes = 64u << 20;
	cl.down_hint = " (is clew serve running there? --server URL)";
	int rc = cli_client_parse(&cl, argc, argv, compare_arg, &ca);
	if (rc != CLI_CLIENT_RUN)
		return rc;
	if (ca.by && (!ca.a || !ca.b)) {
		fprintf(stderr, "clew compare: --by needs --a VALUE and --b VALUE\n");
		return 2;
	}
	int64_t since_s = cl.since_ns / 1000000000LL;
	if (cl.end_s < 0)
		cl.end_s = cl.start_s >= 0 ? cl.start_s + since_s : clock_now_unix_ns() / 1000000000LL + 1;
	if (cl.start_s < 0)
		cl.start_s = cl.end_s - since_s;
	if (cl.start_s > cl.end_s) {
		fprintf(stderr, "clew compare: --start is after --end\n");
		return 2;
	}
	int64_t *bstart = &cl.baseline_start_s, *bend = &cl.baseline_end_s;
	if (!ca.by && *bstart < 0 && *bend < 0) { /* the window of the same length just before */
		*bend = cl.start_s - 1;
		*bstart = cl.start_s - (cl.end_s - cl.start_s) - 1;
	} else if (!ca.by && (*bstart < 0 || *bend < 0)) {
		fprintf(stderr, "clew compare: give both --baseline-start and --baseline-end\n");
		return 2;
	}
	rc = cli_client_open(&cl);
	if (rc < 0)
		goto out;
	cli_client_url(&cl, "%s/api/v1/compare?q=", cl.server);
	cli_client_url_escaped(&cl, ca.query);
	cli_client_url(&cl, "&start=%lld&end=%lld", (long long)cl.start_s, (long long)cl.end_s);
	if (ca.by) {
		cli_client_param(&cl, "by", ca.by);
		cli_client_param(&cl, "a", ca.a);
		cli_client_param(&cl, "b", ca.b);
	} else {
		cli_client_url(&cl, "&baselineStart=%lld&baselineEnd=%lld", (long long)*bstart, (long long)*bend);
	}
	cli_client_param(&cl, "limit", ca.limit);
	rc = cli_client_fetch(&cl);
	if (rc == 0)
		print_report(cl.root);
out:
	return cli_client_close(&cl, rc);
}
