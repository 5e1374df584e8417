/* clew trace: not yet available. */
#include <stdio.h>

#include "cli/cli.h"

int cli_trace(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("clew trace: not available yet\n", stderr);
	return 2;
}
