/* clew service-graph: the service graph from the terminal. Calls the
 * server's /api/v1/service-graph over HTTP (libcurl) and prints a table of
 * nodes (kind, team, rate, error rate, p50/p99) and one of edges, or with
 * --json the server's answer as it is. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_client.h"

static void sg_usage(FILE *f)
{
	fputs("usage: clew service-graph [options]\n"
	      "\n"
	      "Shows the service graph: services, the databases, messaging destinations and\n"
	      "external hosts they call, and the calls between them, with request rate,\n"
	      "error rate and latency (p50, p99).\n"
	      "\n"
	      "  --server URL        the server's query port [http://127.0.0.1:3200]\n"
	      "  --since DUR         the last DUR, e.g. 15m, 1h [1h]\n"
	      "  --start T, --end T  a time range instead: Unix seconds or RFC 3339 UTC\n"
	      "  --json              print the server's JSON answer as it is\n"
	      "  -h, --help          show this text\n",
	      f);
}

static void print_tables(json_t *root)
{
	json_t *nodes = json_object_get(root, "nodes"), *edges = json_object_get(root, "edges"), *x;
	size_t k;
	printf("%-36s  %-9s  %-18s  %9s  %7s  %10s  %10s\n", "NODE", "KIND", "TEAM", "RATE/S", "ERRORS", "P50", "P99");
	json_array_foreach(nodes, k, x) {
		printf("%-36.36s  %-9s  %-18.18s  %9.2f  %6.2f%%  %8.2fms  %8.2fms\n", cli_client_str(x, "name"),
		       cli_client_str(x, "kind"), cli_client_str(x, "team"), cli_client_num(x, "rate"),
		       100 * cli_client_num(x, "errorRate"), cli_client_num(x, "p50"), cli_client_num(x, "p99"));
	}
	putchar('\n');
	printf("%-30s  %-36s  %9s  %7s  %10s  %10s\n", "SOURCE", "TARGET", "RATE/S", "ERRORS", "P50", "P99");
	json_array_foreach(edges, k, x) {
		printf("%-30.30s  %-36.36s  %9.2f  %6.2f%%  %8.2fms  %8.2fms\n", cli_client_str(x, "source"),
		       cli_client_str(x, "target"), cli_client_num(x, "rate"), 100 * cli_client_num(x, "errorRate"),
		       cli_client_num(x, "p50"), cli_client_num(x, "p99"));
	}
	printf("%zu node%s, %zu edge%s (%s)\n", json_array_size(nodes), json_array_size(nodes) == 1 ? "" : "s",
	       json_array_size(edges), json_array_size(edges) == 1 ? "" : "s", cli_client_str(root, "source"));
}

int cli_service_graph(int argc, char **argv)
{
	struct cli_client cl;
	cli_client_init(&cl, "service-graph", sg_usage,
	                CLI_CLIENT_RANGE | CLI_CLIENT_SINCE_HINT | CLI_CLIENT_ANY_VALUE | CLI_CLIENT_NO_ARGS);
	cl.down_hint = " (is clew serve running? use --server URL)";
	int rc = cli_client_parse(&cl, argc, argv, NULL, NULL);
	if (rc != CLI_CLIENT_RUN)
		return rc;
	rc = cli_client_open(&cl);
	if (rc < 0)
		goto out;
	/* the times go as given: the server reads both forms and owns --since */
	cli_client_url(&cl, "%s/api/v1/service-graph?", cl.server);
	if (cl.start) {
		cli_client_url(&cl, "start=");
		cli_client_url_escaped(&cl, cl.start);
		cli_client_url(&cl, "&");
	} else {
		cli_client_url(&cl, "since=%s&", cl.since ? cl.since : "1h");
	}
	if (cl.end) {
		cli_client_url(&cl, "end=");
		cli_client_url_escaped(&cl, cl.end);
	}
	rc = cli_client_fetch(&cl);
	if (rc == 0)
		print_tables(cl.root);
out:
	return cli_client_close(&cl, rc);
}
