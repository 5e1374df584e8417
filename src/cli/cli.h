/* The subcommands of the clew binary; each takes its own argv (argv[0] is
 * the subcommand name) and returns the process exit status. */
#ifndef CLEW_CLI_CLI_H
#define CLEW_CLI_CLI_H

int cli_serve(int argc, char **argv);
int cli_check(int argc, char **argv);
/* clew gen: synthetic traffic (src/cli/gen.c). */
int cli_gen(int argc, char **argv);
/* clew query: TraceQL search against a server (src/cli/query.c). */
int cli_query(int argc, char **argv);
/* clew trace ID: one trace as a tree (src/cli/trace.c). */
int cli_trace(int argc, char **argv);
/* clew why: correlations of slow or failing spans (src/cli/why.c). */
int cli_why(int argc, char **argv);
/* clew compare: two populations side by side (src/cli/compare.c). */
int cli_compare(int argc, char **argv);
/* clew critical-path: critical-path shares (src/cli/critical_path.c). */
int cli_critical_path(int argc, char **argv);
/* clew service-graph: the service graph (src/cli/service_graph.c). */
int cli_service_graph(int argc, char **argv);

#endif
