/* clew why: the correlations of slow or failing spans from the terminal.
 * Calls the server's /api/v1/correlations over HTTP (libcurl) and prints the
 * ranked attribute values as a table (key, value, score, bad and rest
 * counts, p99 with and without, an example trace id) or the raw JSON. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/units.h"
#include "cli/cli.h"

static void why_usage(FILE *f)
{
	fputs("usage: clew why [options] ['TRACEQL']\n"
	      "\n"
	      "Ranks the attribute values that set the slow (or failing) spans of a\n"
	      "TraceQL population apart from the rest (the server's /api/v1/correlations).\n"
	      "The population defaults to every span: '{}'.\n"
	      "\n"
	      "  --server URL         the server's query port [http://127.0.0.1:3200]\n"
	      "  --since DUR          spans of the last DUR, e.g. 15m, 1h [1h]\n"
	      "  --start T, --end T   a time range instead: Unix seconds or RFC 3339 UTC\n"
	      "  --all                no time range\n"
	      "  --signal S           latency or error [latency]\n"
	      "  --threshold T        latency: a duration (500ms) or a percentile (p99) [p99]\n"
	      "  --relative operation latency percentile per operation (service and name)\n"
	      "  --level L            span or trace [span]\n"
	      "  --limit N            results at most [20]\n"
	      "  --json               print the server's JSON answer as it is\n"
	      "  -h, --help           show this text\n",
	      f);
}

static int parse_time(const char *s, int64_t *out_s)
{
	uint64_t v;
	if (units_parse_u64(s, &v) == 0) {
		*out_s = (int64_t)v;
		return 0;
	}
	int64_t ns;
	if (!units_parse_rfc3339_ns(slice_cstr(s), &ns))
		return -1;
	*out_s = ns / 1000000000;
	return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	buf_append(b, p, size * n);
	return b->err ? 0 : size * n;
}

static void ms(char *out, size_t cap, json_t *v)
{
	if (json_is_number(v))
		snprintf(out, cap, "%.1fms", json_number_value(v));
	else
		snprintf(out, cap, "-");
}

static void print_table(json_t *root)
{
	json_t *c;
	size_t k;
	const char *signal = json_string_value(json_object_get(root, "signal"));
	bool latency = signal && strcmp(signal, "latency") == 0;
	printf("bad: %lld  rest: %lld", (long long)json_integer_value(json_object_get(json_object_get(root, "bad"), "count")),
	       (long long)json_integer_value(json_object_get(json_object_get(root, "rest"), "count")));
	if (latency)
		printf("  threshold: %.1fms", json_number_value(json_object_get(root, "thresholdMs")));
	printf("\n%-32s  %-32s  %6s  %8s  %8s  %10s  %10s  %-32s\n", "KEY", "VALUE", "SCORE", "BAD", "REST", "P99 WITH",
	       "WITHOUT", "EXAMPLE TRACE");
	json_array_foreach(json_object_get(root, "correlations"), k, c) {
		char w[32], wo[32];
		ms(w, sizeof w, json_object_get(json_object_get(c, "with"), "p99"));
		ms(wo, sizeof wo, json_object_get(json_object_get(c, "without"), "p99"));
		const char *ex = json_string_value(json_array_get(json_object_get(c, "exampleTraceIds"), 0));
		printf("%-32.32s  %-32.32s  %6.3f  %8lld  %8lld  %10s  %10s  %-32s\n",
		       json_string_value(json_object_get(c, "key")), json_string_value(json_object_get(c, "value")),
		       json_number_value(json_object_get(c, "score")),
		       (long long)json_integer_value(json_object_get(json_object_get(c, "bad"), "count")),
		       (long long)json_integer_value(json_object_get(json_object_get(c, "rest"), "count")), w, wo,
		       ex ? ex : "-");
	}
}

int cli_why(int argc, char **argv)
{
	const char *server = "http://127.0.0.1:3200", *query = "{}";
	const char *opt[5] = {NULL}; /* signal threshold level limit relative */
	static const char *names[5] = {"signal", "threshold", "level", "limit", "relative"};
	int64_t since_ns = 3600LL * 1000000000LL, start_s = -1, end_s = -1;
	bool json_out = false, all = false, have_query = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int o = -1;
		for (int k = 0; k < 5; k++)
			if (a[0] == '-' && a[1] == '-' && strcmp(a + 2, names[k]) == 0)
				o = k;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			why_usage(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json_out = true;
		} else if (strcmp(a, "--all") == 0) {
			all = true;
		} else if (a[0] == '-' && a[1] == '-' && !v) {
			fprintf(stderr, "clew why: %s needs a value\n", a);
			return 2;
		} else if (o >= 0) {
			opt[o] = v, i++;
		} else if (strcmp(a, "--server") == 0) {
			server = v, i++;
		} else if (strcmp(a, "--since") == 0) {
			if (units_parse_duration_ns(v, &since_ns) < 0 || since_ns <= 0) {
				fprintf(stderr, "clew why: invalid --since '%s'\n", v);
				return 2;
			}
			i++;
		} else if (strcmp(a, "--start") == 0 || strcmp(a, "--end") == 0) {
			if (parse_time(v, a[2] == 's' ? &start_s : &end_s) < 0) {
				fprintf(stderr, "clew why: invalid %s '%s': Unix seconds or RFC 3339\n", a, v);
				return 2;
			}
			i++;
		} else if (a[0] == '-' && a[1] != 0) {
			fprintf(stderr, "clew why: unknown option %s\n", a);
			why_usage(stderr);
			return 2;
		} else if (!have_query) {
			query = a;
			have_query = true;
		} else {
			fprintf(stderr, "clew why: one query only (quote it)\n");
			return 2;
		}
	}
	if (!all && start_s < 0 && end_s < 0) {
		end_s = clock_now_unix_ns() / 1000000000LL + 1;
		start_s = end_s - since_ns / 1000000000LL - 1;
	}
	int rc = 1;
	struct buf url, body;
	buf_init(&url, 1 << 20);
	buf_init(&body, 64u << 20);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	json_t *root = NULL;
	if (!c) {
		fprintf(stderr, "clew why: could not start libcurl\n");
		goto out;
	}
	char *q = curl_easy_escape(c, query, 0);
	buf_printf(&url, "%s/api/v1/correlations?q=%s", server, q ? q : "");
	curl_free(q);
	if (start_s >= 0)
		buf_printf(&url, "&start=%lld", (long long)start_s);
	if (end_s >= 0)
		buf_printf(&url, "&end=%lld", (long long)end_s);
	for (int k = 0; k < 5; k++) {
		if (!opt[k])
			continue;
		char *e = curl_easy_escape(c, opt[k], 0);
		buf_printf(&url, "&%s=%s", names[k], e ? e : "");
		curl_free(e);
	}
	buf_append_byte(&url, 0);
	curl_easy_setopt(c, CURLOPT_URL, (const char *)url.p);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	CURLcode cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		fprintf(stderr, "clew why: %s: %s (is clew serve running there? --server URL)\n", server,
			curl_easy_strerror(cr));
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	json_error_t je;
	root = json_loadb((const char *)body.p, body.len, 0, &je);
	if (status != 200) {
		const char *msg = json_string_value(json_object_get(json_object_get(root, "error"), "message"));
		fprintf(stderr, "clew why: the server answered %ld: %s\n", status, msg ? msg : "(no error message)");
		goto out;
	}
	if (json_out) {
		fwrite(body.p, 1, body.len, stdout);
		fputc('\n', stdout);
	} else if (!root) {
		fprintf(stderr, "clew why: the answer is not JSON: %s\n", je.text);
		goto out;
	} else {
		print_table(root);
	}
	rc = 0;
out:
	json_decref(root);
	if (c)
		curl_easy_cleanup(c);
	curl_global_cleanup();
	buf_free(&url);
	buf_free(&body);
	return rc;
}
