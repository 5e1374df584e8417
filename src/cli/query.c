/* clew query: a TraceQL search from the terminal. Calls the server's
 * /api/search over HTTP (libcurl) and prints the matching traces as a table
 * (trace id, root service, root name, start, duration, matched spans) or the
 * raw JSON answer. Errors go to stderr with a non-zero exit status. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/units.h"
#include "cli/cli.h"
#include "cli/cli_client.h"

static void query_usage(FILE *f)
{
	fputs("usage: clew query [options] 'TRACEQL'\n"
	      "\n"
	      "Searches traces with a TraceQL query on a clew server (its /api/search).\n"
	      "\n"
	      "  --server URL        the server's query port [http://127.0.0.1:3200]\n"
	      "  --since DUR         traces of the last DUR, e.g. 15m, 1h [1h]\n"
	      "  --start T, --end T  a time range instead: Unix seconds or RFC 3339 UTC\n"
	      "                      (2026-01-01T00:00:00Z)\n"
	      "  --all               no time range\n"
	      "  --limit N           traces at most [20]\n"
	      "  --json              print the server's JSON answer as it is\n"
	      "  -h, --help          show this text\n",
	      f);
}

static void print_table(json_t *root)
{
	json_t *traces = json_object_get(root, "traces");
	size_t k;
	json_t *t;
	printf("%-32s  %-20s  %-36s  %-20s  %10s  %7s\n", "TRACE ID", "ROOT SERVICE", "ROOT NAME", "START (UTC)",
	       "DURATION", "MATCHED");
	json_array_foreach(traces, k, t) {
		const char *id = json_string_value(json_object_get(t, "traceID"));
		const char *svc = json_string_value(json_object_get(t, "rootServiceName"));
		const char *name = json_string_value(json_object_get(t, "rootTraceName"));
		const char *start = json_string_value(json_object_get(t, "startTimeUnixNano"));
		json_int_t ms = json_integer_value(json_object_get(t, "durationMs"));
		long long matched = 0;
		size_t j;
		json_t *ss;
		json_array_foreach(json_object_get(t, "spanSets"), j, ss) matched +=
		    json_integer_value(json_object_get(ss, "matched"));
		char when[32] = "-";
		if (start) {
			time_t sec = (time_t)(strtoll(start, NULL, 10) / 1000000000LL);
			struct tm tm;
			if (gmtime_r(&sec, &tm))
				strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		}
		printf("%-32s  %-20.20s  %-36.36s  %-20s  %8lldms  %7lld\n", id ? id : "-", svc ? svc : "-",
		       name ? name : "-", when, (long long)ms, matched);
	}
	printf("%zu trace%s\n", json_array_size(traces), json_array_size(traces) == 1 ? "" : "s");
}

struct query_args {
	const char *query, *limit;
};

static int query_arg(void *ctx, const char *a, const char *v)
{
	struct query_args *q = ctx;
	if (strcmp(a, "--limit") == 0) {
		uint64_t n;
		if (!v)
			return CLI_CLIENT_OWN_NEEDS;
		if (units_parse_u64(v, &n) < 0 || n == 0 || n > 100000) {
			fprintf(stderr, "clew query: invalid --limit '%s'\n", v);
			return CLI_CLIENT_OWN_BAD;
		}
		q->limit = v;
		return CLI_CLIENT_OWN_VALUE;
	}
	if (a[0] == '-' && a[1] != 0)
		return CLI_CLIENT_OWN_NONE;
	if (q->query) {
		fprintf(stderr, "clew query: one query only (quote it)\n");
		return CLI_CLIENT_OWN_BAD;
	}
	q->query = a;
	return CLI_CLIENT_OWN_FLAG;
}

int cli_query(int argc, char **argv)
{
	struct cli_client cl;
	struct query_args q = {0};
	cli_client_init(&cl, "query", query_usage, CLI_CLIENT_RANGE | CLI_CLIENT_ALL | CLI_CLIENT_ANY_VALUE);
	cl.timeout_s = 120;
	int rc = cli_client_parse(&cl, argc, argv, query_arg, &q);
	if (rc != CLI_CLIENT_RUN)
		return rc;
	if (!q.query) {
		query_usage(stderr);
		return 2;
	}
	cli_client_default_range(&cl);
	rc = cli_client_open(&cl);
	if (rc < 0)
		goto out;
	cli_client_url(&cl, "%s/api/search?q=", cl.server);
	cli_client_url_escaped(&cl, q.query);
	cli_client_range_params(&cl);
	cli_client_param(&cl, "limit", q.limit);
	rc = cli_client_fetch(&cl);
	if (rc == 0)
		print_table(cl.root);
out:
	return cli_client_close(&cl, rc);
}
