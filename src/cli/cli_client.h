/* What clew's command-line clients of the query API share (query, trace,
 * why, compare, critical-path, service-graph): the options every one of
 * them takes (--server, --since, --start/--end, --all, --json, -h), the URL
 * of the request with escaped parameters, the GET through libcurl with the
 * messages for a server that is down, an HTTP error or an answer that is
 * not JSON, and small readers of the JSON answer for the tables. A command
 * keeps only its own options, its request and its table:
 *
 *   cli_client_init -> cli_client_parse -> cli_client_open -> cli_client_url*
 *   -> cli_client_fetch -> print -> cli_client_close (the exit status) */
#ifndef CLEW_CLI_CLI_CLIENT_H
#define CLEW_CLI_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"

#define CLI_CLIENT_DEFAULT_SERVER "http://127.0.0.1:3200"

/* The common options a command takes and how it words their errors. */
enum {
	CLI_CLIENT_RANGE = 1 << 0,        /* --since DUR, --start T, --end T */
	CLI_CLIENT_ALL = 1 << 1,          /* --all: no time range */
	CLI_CLIENT_BASELINE = 1 << 2,     /* --baseline-start T, --baseline-end T */
	CLI_CLIENT_SINCE_HINT = 1 << 3,   /* "invalid --since: a duration such as 1h" */
	CLI_CLIENT_ANY_VALUE = 1 << 4,    /* any --option last on the line "needs a value" */
	CLI_CLIENT_NO_ARGS = 1 << 5,      /* no positional argument: "unknown argument" */
	CLI_CLIENT_SEE_HELP = 1 << 6,     /* unknown option: point at --help, no usage */
	CLI_CLIENT_REACH_ADVICE = 1 << 7, /* connection failures: how to start or find a server */
	CLI_CLIENT_404_HINT = 1 << 8,     /* an HTTP 404 asks whether --server is a query port */
};

/* What a command's own argument callback did with argument a (and v, the
 * next argument or NULL). */
enum {
	CLI_CLIENT_OWN_NONE = 0,  /* not the command's: the common rules apply */
	CLI_CLIENT_OWN_FLAG = 1,  /* took a alone (a flag or a positional argument) */
	CLI_CLIENT_OWN_VALUE = 2, /* took a and its value v */
	CLI_CLIENT_OWN_NEEDS = 3, /* the command's option, but v is missing */
	CLI_CLIENT_OWN_BAD = 4,   /* wrong: the callback printed why; exit status 2 */
};

/* cli_client_parse's answer when the command should go on. */
#define CLI_CLIENT_RUN (-1)

typedef int (*cli_client_own_fn)(void *ctx, const char *a, const char *v);

struct cli_client {
	/* set by cli_client_init; a command may change them before parsing */
	const char *name;       /* "query": messages start "clew query: " */
	void (*usage)(FILE *f); /* prints the command's help */
	unsigned opts;          /* CLI_CLIENT_* */
	int64_t since_ns;       /* the default --since [1h] */
	int64_t since_min_ns;   /* the least --since accepted [1ns] */
	size_t max_body_bytes;  /* the cap of the answer [256 MiB] */
	long timeout_s;         /* the whole request [300] */
	long connect_timeout_s; /* 0: libcurl's default */
	const char *down_hint;  /* appended to transport errors [""] */
	/* the parsed options; times in Unix seconds, -1 when not given */
	const char *server;      /* [CLI_CLIENT_DEFAULT_SERVER] */
	const char *since;       /* --since as given, or NULL */
	const char *start, *end; /* --start / --end as given, or NULL */
	int64_t start_s, end_s, baseline_start_s, baseline_end_s;
	bool json, all;
	/* the request and its answer */
	void *curl;
	bool opened; /* libcurl started by cli_client_open */
	struct buf url, body;
	long status;
	json_t *root; /* the answer parsed, or NULL */
	json_error_t json_err;
};

/* Sets the defaults for command `name` (without "clew "), which prints its
 * help with usage and takes the common options opts (CLI_CLIENT_*). */
void cli_client_init(struct cli_client *cl, const char *name, void (*usage)(FILE *f), unsigned opts);

/* Reads argv (argv[0] is the command name). Each argument goes first
 * through -h/--help, --json and --all, then to own(ctx, a, v) (which may be
 * NULL), then through the common options; what nobody takes is an unknown
 * option (or argument). Returns CLI_CLIENT_RUN to go on, or the exit
 * status to end with at once (0 after --help, 2 for bad usage, the message
 * printed). */
int cli_client_parse(struct cli_client *cl, int argc, char **argv, cli_client_own_fn own, void *ctx);

/* Unix seconds (digits) or an RFC 3339 time into *out_s. 0, or -1 when s is
 * neither. */
int cli_client_parse_time(const char *s, int64_t *out_s);

/* With no --start, --end or --all: the range of the last --since, whole
 * seconds, one second of slack on either side. */
void cli_client_default_range(struct cli_client *cl);

/* Starts libcurl and the buffers. 0, or -1 with the message printed; call
 * cli_client_close in both cases. */
int cli_client_open(struct cli_client *cl);

/* Appends printf-formatted text to the request URL. */
void cli_client_url(struct cli_client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s percent-encoded to the request URL. */
void cli_client_url_escaped(struct cli_client *cl, const char *s);

/* Appends "&name=value" (value percent-encoded); nothing when value is
 * NULL. */
void cli_client_param(struct cli_client *cl, const char *name, const char *value);

/* Appends "&start=S" and "&end=S" for the bounds that are set. */
void cli_client_range_params(struct cli_client *cl);

/* GETs the URL built so far. 0 with cl->status and cl->root (NULL when the
 * body is not JSON, cl->json_err saying why), or -1 when there is no answer
 * (the message printed, with advice where to look). */
int cli_client_get(struct cli_client *cl);

/* Judges the answer of cli_client_get: -1 for an HTTP status other than
 * 200 or a body that is not JSON (the message printed); 1 after printing the
 * body as it is for --json; 0 when cl->root is the answer to print. */
int cli_client_answer(struct cli_client *cl);

/* cli_client_get then cli_client_answer: -1, 0 or 1 as the latter. */
int cli_client_fetch(struct cli_client *cl);

/* Frees the request and the answer; returns the exit status for rc (that of
 * the calls above): 1 when rc < 0, else 0. */
int cli_client_close(struct cli_client *cl, int rc);

/* o[key] as a number, 0 when missing. */
double cli_client_num(json_t *o, const char *key);

/* o[key] as a string, "-" when missing. */
const char *cli_client_str(json_t *o, const char *key);

/* "" for one, "s" for any other count: printf("%zu span%s", n, plural(n)). */
const char *cli_client_plural(long long n);

#endif
