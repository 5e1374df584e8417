/* clew why: the correlations of slow or failing spans from the terminal.
 * Calls the server's /api/v1/correlations over HTTP (libcurl) and prints the
 * ranked attribute values as a table (key, value, score, bad and rest
 * counts, p99 with and without, an example trace id) or the raw JSON. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_client.h"

static void why_usage(FILE *f)
{
	fputs("usage: clew why [options] ['TRACEQL']\n"
	      "\n"
	      "Ranks the attribute values that set the slow (or failing) spans of a\n"
	      "TraceQL population apart from the rest (the server's /api/v1/correlations).\n"
	      "The population defaults to every span: '{}'.\n"
	      "\n"
	      "  --server URL         the server's query port [http://127.0.0.1:3200]\n"
	      "  --since DUR          spans of the last DUR, e.g. 15m, 1h [1h]\n"
	      "  --start T, --end T   a time range instead: Unix seconds or RFC 3339 UTC\n"
	      "  --all                no time range\n"
	      "  --signal S           latency or error [latency]\n"
	      "  --threshold T        latency: a duration (500ms) or a percentile (p99) [p99]\n"
	      "  --relative operation latency percentile per operation (service and name)\n"
	      "  --level L            span or trace [span]\n"
	      "  --limit N            results at most [20]\n"
	      "  --json               print the server's JSON answer as it is\n"
	      "  -h, --help           show this text\n",
	      f);
}

static void ms(char *out, size_t cap, json_t *v)
{
	if (json_is_number(v))
		snprintf(out, cap, "%.1fms", json_number_value(v));
	else
		snprintf(out, cap, "-");
}

static void print_table(json_t *root)
{
	json_t *c;
	size_t k;
	const char *signal = json_string_value(json_object_get(root, "signal"));
	bool latency = signal && strcmp(signal, "latency") == 0;
	printf("bad: %lld  rest: %lld",
	       (long long)json_integer_value(json_object_get(json_object_get(root, "bad"), "count")),
	       (long long)json_integer_value(json_object_get(json_object_get(root, "rest"), "count")));
	if (latency)
		printf("  threshold: %.1fms", json_number_value(json_object_get(root, "thresholdMs")));
	printf("\n%-32s  %-32s  %6s  %8s  %8s  %10s  %10s  %-32s\n", "KEY", "VALUE", "SCORE", "BAD", "REST", "P99 WITH",
	       "WITHOUT", "EXAMPLE TRACE");
	json_array_foreach(json_object_get(root, "correlations"), k, c) {
		char w[32], wo[32];
		ms(w, sizeof w, json_object_get(json_object_get(c, "with"), "p99"));
		ms(wo, sizeof wo, json_object_get(json_object_get(c, "without"), "p99"));
		const char *ex = json_string_value(json_array_get(json_object_get(c, "exampleTraceIds"), 0));
		printf("%-32.32s  %-32.32s  %6.3f  %8lld  %8lld  %10s  %10s  %-32s\n",
		       json_string_value(json_object_get(c, "key")), json_string_value(json_object_get(c, "value")),
		       json_number_value(json_object_get(c, "score")),
		       (long long)json_integer_value(json_object_get(json_object_get(c, "bad"), "count")),
		       (long long)json_integer_value(json_object_get(json_object_get(c, "rest"), "count")), w, wo,
		       ex ? ex : "-");
	}
}

/* The options passed on to the server as they are. */
static const char *const why_params[5] = {"signal", "threshold", "level", "limit", "relative"};

struct why_args {
	const char *query, *param[5];
	bool have_query;
};

static int why_arg(void *ctx, const char *a, const char *v)
{
	struct why_args *w = ctx;
	for (int k = 0; k < 5; k++) {
		if (a[0] == '-' && a[1] == '-' && strcmp(a + 2, why_params[k]) == 0) {
			if (!v)
				return CLI_CLIENT_OWN_NEEDS;
			w->param[k] = v;
			return CLI_CLIENT_OWN_VALUE;
		}
	}
	if (a[0] == '-' && a[1] != 0)
		return CLI_CLIENT_OWN_NONE;
	if (w->have_query) {
		fprintf(stderr, "clew why: one query only (quote it)\n");
		return CLI_CLIENT_OWN_BAD;
	}
	w->query = a;
	w->have_query = true;
	return CLI_CLIENT_OWN_FLAG;
}

int cli_why(int argc, char **argv)
{
	struct cli_client cl;
	struct why_args w = {.query = "{}"};
	cli_client_init(&cl, "why", why_usage, CLI_CLIENT_RANGE | CLI_CLIENT_ALL | CLI_CLIENT_ANY_VALUE);
	cl.max_body_bytes = 64u << 20;
	cl.down_hint = " (is clew serve running there? --server URL)";
	int rc = cli_client_parse(&cl, argc, argv, why_arg, &w);
	if (rc != CLI_CLIENT_RUN)
		return rc;
	cli_client_default_range(&cl);
	rc = cli_client_open(&cl);
	if (rc < 0)
		goto out;
	cli_client_url(&cl, "%s/api/v1/correlations?q=", cl.server);
	cli_client_url_escaped(&cl, w.query);
	cli_client_range_params(&cl);
	for (int k = 0; k < 5; k++)
		cli_client_param(&cl, why_params[k], w.param[k]);
	rc = cli_client_fetch(&cl);
	if (rc == 0)
		print_table(cl.root);
out:
	return cli_client_close(&cl, rc);
}
