/* clew service-graph: not yet available. */
#include <stdio.h>

#include "cli/cli.h"

int cli_service_graph(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("clew service-graph: not available yet\n", stderr);
	return 2;
}
