/* cli_client: the common options of clew's command-line clients (times,
 * --since, values that are missing or wrong, unknown options, the command's
 * own options through the callback), the URL parameters and the JSON
 * readers. No server: the requests themselves are covered by the e2e tests. */
#include "../../testlib.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli_client.h"

static int g_usage_calls;

static void usage(FILE *f)
{
	(void)f;
	g_usage_calls++;
}

struct own {
	const char *pos, *limit;
	bool flag;
};

static int own_arg(void *ctx, const char *a, const char *v)
{
	struct own *o = ctx;
	if (strcmp(a, "--flag") == 0) {
		o->flag = true;
		return CLI_CLIENT_OWN_FLAG;
	}
	if (strcmp(a, "--limit") == 0) {
		if (!v)
			return CLI_CLIENT_OWN_NEEDS;
		if (strcmp(v, "0") == 0)
			return CLI_CLIENT_OWN_BAD;
		o->limit = v;
		return CLI_CLIENT_OWN_VALUE;
	}
	if (a[0] == '-' && a[1] != 0)
		return CLI_CLIENT_OWN_NONE;
	if (o->pos)
		return CLI_CLIENT_OWN_BAD;
	o->pos = a;
	return CLI_CLIENT_OWN_FLAG;
}

/* Parse a NULL-terminated argument list with opts; the exit status or
 * CLI_CLIENT_RUN. */
static int parse(struct cli_client *cl, struct own *o, unsigned opts, const char **args)
{
	char *argv[32] = {(char *)"cmd"};
	int argc = 1;
	while (args[argc - 1] && argc < 31) {
		argv[argc] = (char *)args[argc - 1];
		argc++;
	}
	memset(o, 0, sizeof *o);
	cli_client_init(cl, "test", usage, opts);
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w"); /* the messages are for people */
	int rc = cli_client_parse(cl, argc, argv, own_arg, o);
	fclose(stderr);
	stderr = saved;
	return rc;
}

TEST(cli_client_time)
{
	int64_t s = 7;
	CHECK_INT(cli_client_parse_time("1767225600", &s), ==, 0);
	CHECK_INT(s, ==, 1767225600);
	CHECK_INT(cli_client_parse_time("2026-01-01T00:00:01Z", &s), ==, 0);
	CHECK_INT(s, ==, 1767225601);
	s = 7;
	CHECK_INT(cli_client_parse_time("", &s), <, 0);
	CHECK_INT(cli_client_parse_time("-5", &s), <, 0);
	CHECK_INT(cli_client_parse_time("12x", &s), <, 0);
	CHECK_INT(cli_client_parse_time("2026-13-01T00:00:00Z", &s), <, 0);
	CHECK_INT(cli_client_parse_time("99999999999999999999999", &s), <, 0);
	CHECK_INT(s, ==, 7);
}

TEST(cli_client_common_options)
{
	struct cli_client cl;
	struct own o;
	unsigned all = CLI_CLIENT_RANGE | CLI_CLIENT_ALL | CLI_CLIENT_BASELINE | CLI_CLIENT_ANY_VALUE;
	const char *ok[] = {"--server",
	                    "http://h:1",
	                    "--json",
	                    "--since",
	                    "15m",
	                    "--start",
	                    "100",
	                    "--end",
	                    "2026-01-01T00:00:00Z",
	                    "--baseline-start",
	                    "5",
	                    "--baseline-end",
	                    "6",
	                    "--all",
	                    "--flag",
	                    "--limit",
	                    "3",
	                    "{}",
	                    NULL};
	CHECK_INT(parse(&cl, &o, all, ok), ==, CLI_CLIENT_RUN);
	CHECK_STR(cl.server, "http://h:1");
	CHECK(cl.json && cl.all && o.flag);
	CHECK_INT(cl.since_ns, ==, 900LL * 1000000000LL);
	CHECK_STR(cl.since, "15m");
	CHECK_INT(cl.start_s, ==, 100);
	CHECK_STR(cl.start, "100");
	CHECK_INT(cl.end_s, ==, 1767225600);
	CHECK_INT(cl.baseline_start_s, ==, 5);
	CHECK_INT(cl.baseline_end_s, ==, 6);
	CHECK_STR(o.limit, "3");
	CHECK_STR(o.pos, "{}");

	const char *none[] = {NULL};
	CHECK_INT(parse(&cl, &o, all, none), ==, CLI_CLIENT_RUN);
	CHECK_STR(cl.server, CLI_CLIENT_DEFAULT_SERVER);
	CHECK(!cl.json && !cl.all && !cl.since && !o.pos);
	CHECK_INT(cl.start_s, ==, -1);
	CHECK_INT(cl.end_s, ==, -1);
	cli_client_default_range(&cl);
	CHECK_INT(cl.end_s - cl.start_s, ==, 3600 + 1);

	g_usage_calls = 0;
	const char *help[] = {"--start", "x", "-h", NULL};
	CHECK_INT(parse(&cl, &o, all, help), ==, 2); /* the bad --start comes first */
	const char *help2[] = {"--json", "--help", "--start", "x", NULL};
	CHECK_INT(parse(&cl, &o, all, help2), ==, 0);
	CHECK_INT(g_usage_calls, ==, 1);
}

TEST(cli_client_bad_options)
{
	struct cli_client cl;
	struct own o;
	unsigned opts = CLI_CLIENT_RANGE | CLI_CLIENT_ANY_VALUE;
	static const char *bad[][4] = {
	    {"--since", "0", NULL},          /* not positive */
	    {"--since", "fast", NULL},       /* not a duration */
	    {"--start", "yesterday", NULL},  /* not a time */
	    {"--end", "2026-01-01", NULL},   /* a date without time */
	    {"--server", NULL},              /* no value */
	    {"--limit", NULL},               /* the command's, no value */
	    {"--limit", "0", NULL},          /* the command says no */
	    {"--bogus", "1", NULL},          /* unknown */
	    {"--bogus", NULL},               /* unknown, and last: needs a value */
	    {"-x", NULL},                    /* unknown short option */
	    {"a", "b", NULL},                /* a second positional argument */
	    {"--all", "x", NULL},            /* --all is not taken here */
	    {"--baseline-start", "1", NULL}, /* nor the baseline */
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
		CHECK_INT(parse(&cl, &o, opts, bad[k]), ==, 2);
	const char *since_min[] = {"--since", "500ms", NULL};
	CHECK_INT(parse(&cl, &o, opts, since_min), ==, CLI_CLIENT_RUN);
	cl.since_min_ns = 1000000000LL;
	char *argv[] = {(char *)"cmd", (char *)"--since", (char *)"500ms"};
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");
	int rc = cli_client_parse(&cl, 3, argv, NULL, NULL);
	fclose(stderr);
	stderr = saved;
	CHECK_INT(rc, ==, 2);

	/* without ANY_VALUE an unknown option last is unknown, still 2; a
	 * positional argument nobody takes is refused */
	const char *last[] = {"--bogus", NULL};
	CHECK_INT(parse(&cl, &o, CLI_CLIENT_SEE_HELP, last), ==, 2);
	char *pos[] = {(char *)"cmd", (char *)"x"};
	cli_client_init(&cl, "test", usage, CLI_CLIENT_NO_ARGS);
	g_usage_calls = 0;
	saved = stderr;
	stderr = fopen("/dev/null", "w");
	rc = cli_client_parse(&cl, 2, pos, NULL, NULL);
	fclose(stderr);
	stderr = saved;
	CHECK_INT(rc, ==, 2);
	CHECK_INT(g_usage_calls, ==, 1);
}

TEST(cli_client_url_json)
{
	struct cli_client cl;
	cli_client_init(&cl, "test", usage, CLI_CLIENT_RANGE);
	cl.start_s = 10;
	CHECK_INT(cli_client_open(&cl), ==, 0);
	cli_client_url(&cl, "%s/api/search?q=", "http://h");
	cli_client_url_escaped(&cl, "{ name = \"a b&c\" }");
	cli_client_range_params(&cl);
	cli_client_param(&cl, "limit", NULL);
	cli_client_param(&cl, "by", "x=y");
	buf_append_byte(&cl.url, 0);
	CHECK_STR((const char *)cl.url.p,
	          "http://h/api/search?q=%7B%20name%20%3D%20%22a%20b%26c%22%20%7D&start=10&by=x%3Dy");
	CHECK_INT(cli_client_close(&cl, 0), ==, 0);
	CHECK_INT(cli_client_close(&cl, -1), ==, 1); /* twice is harmless */

	json_t *o = json_pack("{s:f, s:s, s:i}", "n", 1.5, "s", "v", "i", 3);
	CHECK(cli_client_num(o, "n") == 1.5);
	CHECK(cli_client_num(o, "missing") == 0);
	CHECK(cli_client_num(o, "s") == 0);
	CHECK_STR(cli_client_str(o, "s"), "v");
	CHECK_STR(cli_client_str(o, "n"), "-");
	CHECK_STR(cli_client_str(NULL, "s"), "-");
	CHECK_STR(cli_client_plural(1), "");
	CHECK_STR(cli_client_plural(0), "s");
	CHECK_STR(cli_client_plural(2), "s");
	json_decref(o);
}
