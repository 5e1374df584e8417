/* clew serve: placeholder until the server is assembled. */
#include <stdio.h>

#include "cli/cli.h"

int cli_serve(int argc, char **argv)
{
	fprintf(stderr, "clew serve: not yet assembled\n");
	return 1;
}
