/* clew why: not yet available. */
#include <stdio.h>

#include "cli/cli.h"

int cli_why(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("clew why: not available yet\n", stderr);
	return 2;
}
