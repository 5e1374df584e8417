/* clew critical-path: not yet available. */
#include <stdio.h>

#include "cli/cli.h"

int cli_critical_path(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("clew critical-path: not available yet\n", stderr);
	return 2;
}
