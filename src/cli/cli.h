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

#endif
