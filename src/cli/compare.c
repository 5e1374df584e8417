/* clew compare: not yet available. */
#include <stdio.h>

#include "cli/cli.h"

int cli_compare(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("clew compare: not available yet\n", stderr);
	return 2;
}
