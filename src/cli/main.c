/* clew's command line: dispatches to the subcommands (serve, gen, query,
 * trace, check, bench). */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
	fputs("usage: clew <command> [options]\n"
	      "\n"
	      "commands:\n"
	      "  serve    run the server: OTLP/Zipkin receivers, store, query APIs and UI\n"
	      "  gen      simulate a microservice system: send its traces or write them to a file\n"
	      "  query    search traces with TraceQL on a running server\n"
	      "  trace    print one trace as a tree\n"
	      "  why      rank the attributes that set slow or failing spans apart\n"
	      "  critical-path  the services and operations that made traces slow\n"
	      "  service-graph  services, dependencies and the calls between them\n"
	      "  compare  two populations: latency, errors and what changed most\n"
	      "  check    verify (and --repair) the WAL and blocks of a data directory\n"
	      "  help     show this text\n"
	      "\n"
	      "Run 'clew <command> --help' for a command's options.\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return cli_serve(argc - 1, argv + 1);
	if (strcmp(cmd, "gen") == 0)
		return cli_gen(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cli_check(argc - 1, argv + 1);
	if (strcmp(cmd, "query") == 0)
		return cli_query(argc - 1, argv + 1);
	if (strcmp(cmd, "trace") == 0)
		return cli_trace(argc - 1, argv + 1);
	if (strcmp(cmd, "why") == 0)
		return cli_why(argc - 1, argv + 1);
	if (strcmp(cmd, "critical-path") == 0)
		return cli_critical_path(argc - 1, argv + 1);
	if (strcmp(cmd, "service-graph") == 0)
		return cli_service_graph(argc - 1, argv + 1);
	if (strcmp(cmd, "compare") == 0)
		return cli_compare(argc - 1, argv + 1);
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "clew: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
