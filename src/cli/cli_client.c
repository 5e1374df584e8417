/* The part of clew's command-line clients that they all share: common
 * options, the request URL, the GET through libcurl and its error messages,
 * and readers of the JSON answer. Each command (src/cli/query.c, trace.c,
 * why.c, compare.c, critical_path.c, service_graph.c) keeps its own options,
 * request and table. See cli_client.h for the order of the calls. */
#include "cli/cli_client.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <string.h>

#include "base/clock.h"
#include "base/units.h"

#define NS_PER_S 1000000000LL

void cli_client_init(struct cli_client *cl, const char *name, void (*usage)(FILE *f), unsigned opts)
{
	memset(cl, 0, sizeof *cl);
	cl->name = name;
	cl->usage = usage;
	cl->opts = opts;
	cl->since_ns = 3600LL * NS_PER_S;
	cl->since_min_ns = 1;
	cl->max_body_bytes = 256u << 20;
	cl->timeout_s = 300;
	cl->down_hint = "";
	cl->server = CLI_CLIENT_DEFAULT_SERVER;
	cl->start_s = cl->end_s = cl->baseline_start_s = cl->baseline_end_s = -1;
}

int cli_client_parse_time(const char *s, int64_t *out_s)
{
	uint64_t v;
	if (units_parse_u64(s, &v) == 0) {
		if (v > (uint64_t)INT64_MAX)
			return -1;
		*out_s = (int64_t)v;
		return 0;
	}
	int64_t ns;
	if (!units_parse_rfc3339_ns(slice_cstr(s), &ns))
		return -1;
	*out_s = ns / NS_PER_S;
	return 0;
}

/* The time option a names (--start, --end, --baseline-*) if the command
 * takes it, else NULL. */
static int64_t *time_option(struct cli_client *cl, const char *a)
{
	if (cl->opts & CLI_CLIENT_RANGE) {
		if (strcmp(a, "--start") == 0)
			return &cl->start_s;
		if (strcmp(a, "--end") == 0)
			return &cl->end_s;
	}
	if (cl->opts & CLI_CLIENT_BASELINE) {
		if (strcmp(a, "--baseline-start") == 0)
			return &cl->baseline_start_s;
		if (strcmp(a, "--baseline-end") == 0)
			return &cl->baseline_end_s;
	}
	return NULL;
}

static bool takes_value(struct cli_client *cl, const char *a)
{
	if (cl->opts & CLI_CLIENT_ANY_VALUE)
		return a[0] == '-' && a[1] == '-';
	return strcmp(a, "--server") == 0 || time_option(cl, a) ||
	       ((cl->opts & CLI_CLIENT_RANGE) && strcmp(a, "--since") == 0);
}

/* One common option with its value v (not NULL). 1 when taken, 0 when not
 * a common option, -1 when v is wrong (the message printed). */
static int common_option(struct cli_client *cl, const char *a, const char *v)
{
	int64_t *t = time_option(cl, a);
	if (t) {
		if (cli_client_parse_time(v, t) < 0) {
			fprintf(stderr, "clew %s: invalid %s '%s': Unix seconds or RFC 3339\n", cl->name, a, v);
			return -1;
		}
		if (t == &cl->start_s)
			cl->start = v;
		else if (t == &cl->end_s)
			cl->end = v;
		return 1;
	}
	if (strcmp(a, "--server") == 0) {
		cl->server = v;
		return 1;
	}
	if ((cl->opts & CLI_CLIENT_RANGE) && strcmp(a, "--since") == 0) {
		if (units_parse_duration_ns(v, &cl->since_ns) < 0 || cl->since_ns < cl->since_min_ns) {
			fprintf(stderr, "clew %s: invalid --since '%s'%s\n", cl->name, v,
			        cl->opts & CLI_CLIENT_SINCE_HINT ? ": a duration such as 1h" : "");
			return -1;
		}
		cl->since = v;
		return 1;
	}
	return 0;
}

int cli_client_parse(struct cli_client *cl, int argc, char **argv, cli_client_own_fn own, void *ctx)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			cl->usage(stdout);
			return 0;
		}
		if (strcmp(a, "--json") == 0) {
			cl->json = true;
			continue;
		}
		if ((cl->opts & CLI_CLIENT_ALL) && strcmp(a, "--all") == 0) {
			cl->all = true;
			continue;
		}
		switch (own ? own(ctx, a, v) : CLI_CLIENT_OWN_NONE) {
		case CLI_CLIENT_OWN_FLAG:
			continue;
		case CLI_CLIENT_OWN_VALUE:
			i++;
			continue;
		case CLI_CLIENT_OWN_NEEDS:
			fprintf(stderr, "clew %s: %s needs a value\n", cl->name, a);
			return 2;
		case CLI_CLIENT_OWN_BAD:
			return 2;
		default:
			break;
		}
		if (!v && takes_value(cl, a)) {
			fprintf(stderr, "clew %s: %s needs a value\n", cl->name, a);
			return 2;
		}
		int r = v ? common_option(cl, a, v) : 0;
		if (r < 0)
			return 2;
		if (r > 0) {
			i++;
			continue;
		}
		if (cl->opts & CLI_CLIENT_NO_ARGS) {
			fprintf(stderr, "clew %s: unknown argument %s\n", cl->name, a);
			cl->usage(stderr);
		} else if (cl->opts & CLI_CLIENT_SEE_HELP) {
			fprintf(stderr, "clew %s: unknown option %s (see clew %s --help)\n", cl->name, a, cl->name);
		} else {
			fprintf(stderr, "clew %s: unknown option %s\n", cl->name, a);
			cl->usage(stderr);
		}
		return 2;
	}
	return CLI_CLIENT_RUN;
}

void cli_client_default_range(struct cli_client *cl)
{
	if (cl->all || cl->start_s >= 0 || cl->end_s >= 0)
		return;
	cl->end_s = clock_now_unix_ns() / NS_PER_S + 1;
	cl->start_s = cl->end_s - cl->since_ns / NS_PER_S - 1;
}

int cli_client_open(struct cli_client *cl)
{
	buf_init(&cl->url, 1 << 20);
	buf_init(&cl->body, cl->max_body_bytes);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	cl->opened = true;
	cl->curl = curl_easy_init();
	if (!cl->curl) {
		fprintf(stderr, "clew %s: could not start libcurl\n", cl->name);
		return -1;
	}
	return 0;
}

void cli_client_url(struct cli_client *cl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&cl->url, fmt, ap);
	va_end(ap);
}

void cli_client_url_escaped(struct cli_client *cl, const char *s)
{
	char *e = curl_easy_escape(cl->curl, s, 0);
	if (e)
		buf_append_cstr(&cl->url, e);
	curl_free(e);
}

void cli_client_param(struct cli_client *cl, const char *name, const char *value)
{
	if (!value)
		return;
	buf_printf(&cl->url, "&%s=", name);
	cli_client_url_escaped(cl, value);
}

void cli_client_range_params(struct cli_client *cl)
{
	if (cl->start_s >= 0)
		buf_printf(&cl->url, "&start=%lld", (long long)cl->start_s);
	if (cl->end_s >= 0)
		buf_printf(&cl->url, "&end=%lld", (long long)cl->end_s);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	buf_append(b, p, size * n);
	return b->err ? 0 : size * n;
}

/* Failures that mean no clew server listens at --server. */
static bool unreachable(CURLcode cr)
{
	return cr == CURLE_COULDNT_CONNECT || cr == CURLE_COULDNT_RESOLVE_HOST || cr == CURLE_OPERATION_TIMEDOUT ||
	       cr == CURLE_URL_MALFORMAT || cr == CURLE_UNSUPPORTED_PROTOCOL;
}

int cli_client_get(struct cli_client *cl)
{
	CURL *c = cl->curl;
	buf_append_byte(&cl->url, 0);
	if (cl->url.err) {
		fprintf(stderr, "clew %s: the --server URL is too long\n", cl->name);
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, (const char *)cl->url.p);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &cl->body);
	if (cl->connect_timeout_s > 0)
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cl->connect_timeout_s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cl->timeout_s);
	CURLcode cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		if ((cl->opts & CLI_CLIENT_REACH_ADVICE) && unreachable(cr))
			fprintf(stderr,
			        "clew %s: cannot reach a clew server at %s (%s); start one with clew serve, or "
			        "point --server at its query port, e.g. --server http://HOST:3200\n",
			        cl->name, cl->server, curl_easy_strerror(cr));
		else
			fprintf(stderr, "clew %s: %s: %s%s\n", cl->name, cl->server, curl_easy_strerror(cr),
			        cl->down_hint);
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &cl->status);
	cl->root = json_loadb((const char *)cl->body.p, cl->body.len, 0, &cl->json_err);
	return 0;
}

int cli_client_answer(struct cli_client *cl)
{
	if (cl->status != 200) {
		const char *msg = json_string_value(json_object_get(json_object_get(cl->root, "error"), "message"));
		fprintf(stderr, "clew %s: the server answered %ld: %s%s\n", cl->name, cl->status,
		        msg ? msg : "(no error message)",
		        (cl->opts & CLI_CLIENT_404_HINT) && cl->status == 404 ? " (is --server a clew query port?)"
		                                                              : "");
		return -1;
	}
	if (cl->json) {
		fwrite(cl->body.p, 1, cl->body.len, stdout);
		fputc('\n', stdout);
		return 1;
	}
	if (!cl->root) {
		fprintf(stderr, "clew %s: the answer is not JSON: %s\n", cl->name, cl->json_err.text);
		return -1;
	}
	return 0;
}

int cli_client_fetch(struct cli_client *cl)
{
	int rc = cli_client_get(cl);
	return rc < 0 ? rc : cli_client_answer(cl);
}

int cli_client_close(struct cli_client *cl, int rc)
{
	json_decref(cl->root);
	cl->root = NULL;
	if (cl->curl)
		curl_easy_cleanup(cl->curl);
	cl->curl = NULL;
	if (cl->opened)
		curl_global_cleanup();
	cl->opened = false;
	buf_free(&cl->url);
	buf_free(&cl->body);
	return rc < 0 ? 1 : 0;
}

double cli_client_num(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

const char *cli_client_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

const char *cli_client_plural(long long n)
{
	return n == 1 ? "" : "s";
}
