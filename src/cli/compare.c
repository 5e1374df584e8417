/* clew compare: two populations of a TraceQL filter side by side from the
 * terminal: a window against a baseline window (by default the window of
 * the same length just before it), or the spans where an attribute is a
 * against those where it is b. Calls /api/v1/compare (libcurl) and prints
 * the figures, the attributes and critical-path segments that changed most,
 * or the raw JSON. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/units.h"
#include "cli/cli.h"

static void compare_usage(FILE *f)
{
	fputs("usage: clew compare [options] ['TRACEQL']\n"
	      "\n"
	      "Compares two populations of a TraceQL filter (the server's /api/v1/compare):\n"
	      "a window (B) against a baseline window (A), by default the window of the same\n"
	      "length just before it; or, with --by, the spans where an attribute is --a\n"
	      "against those where it is --b.\n"
	      "\n"
	      "  --server URL              the server's query port [http://127.0.0.1:3200]\n"
	      "  --since DUR               window B: the last DUR [15m]\n"
	      "  --start T, --end T        window B instead: Unix seconds or RFC 3339 UTC\n"
	      "  --baseline-start T, --baseline-end T   window A\n"
	      "  --by ATTR --a V --b V     compare by attribute value within window B\n"
	      "  --limit N                 attributes and segments at most [20]\n"
	      "  --json                    print the server's JSON answer as it is\n"
	      "  -h, --help                show this text\n",
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

static void cell(char *out, size_t cap, json_t *v, const char *unit)
{
	if (json_is_number(v))
		snprintf(out, cap, "%.3f%s", json_number_value(v), unit);
	else
		snprintf(out, cap, "-");
}

static void print_row(json_t *root, const char *label, const char *obj, const char *field, const char *unit)
{
	char v[4][40];
	json_t *a = json_object_get(root, "a"), *b = json_object_get(root, "b");
	json_t *src[2] = {a, b};
	for (int k = 0; k < 2; k++) {
		json_t *o = obj ? json_object_get(src[k], obj) : src[k];
		cell(v[k], sizeof v[k], json_object_get(o, field), unit);
	}
	const char *dk = strcmp(field, "rate") == 0 ? "errorRate" : field;
	cell(v[2], sizeof v[2], json_object_get(json_object_get(root, "difference"), dk), unit);
	cell(v[3], sizeof v[3], json_object_get(json_object_get(root, "ratio"), dk), "x");
	printf("%-12s  %14s  %14s  %14s  %10s\n", label, v[0], v[1], v[2], v[3]);
}

static void print_report(json_t *root)
{
	printf("%-12s  %14s  %14s  %14s  %10s\n", "", "A", "B", "B - A", "B / A");
	print_row(root, "spans", NULL, "count", "");
	print_row(root, "error rate", "errors", "rate", "");
	print_row(root, "p50", "latency", "p50", "ms");
	print_row(root, "p95", "latency", "p95", "ms");
	print_row(root, "p99", "latency", "p99", "ms");
	print_row(root, "mean", "latency", "mean", "ms");
	json_t *c;
	size_t k;
	printf("\nattributes more common in B\n%-32s  %-32s  %6s  %8s  %8s\n", "KEY", "VALUE", "SCORE", "SHARE A",
	       "SHARE B");
	json_array_foreach(json_object_get(root, "attributes"), k, c) {
		printf("%-32.32s  %-32.32s  %6.3f  %8.4f  %8.4f\n", json_string_value(json_object_get(c, "key")),
		       json_string_value(json_object_get(c, "value")), json_number_value(json_object_get(c, "score")),
		       json_number_value(json_object_get(json_object_get(c, "rest"), "share")),
		       json_number_value(json_object_get(json_object_get(c, "bad"), "share")));
	}
	printf("\ncritical path\n%-24s  %-40s  %8s  %8s  %8s\n", "SERVICE", "NAME", "SHARE A", "SHARE B", "CHANGE");
	json_array_foreach(json_object_get(root, "criticalPath"), k, c) {
		printf("%-24.24s  %-40.40s  %8.4f  %8.4f  %+8.4f\n", json_string_value(json_object_get(c, "service")),
		       json_string_value(json_object_get(c, "name")), json_number_value(json_object_get(c, "shareA")),
		       json_number_value(json_object_get(c, "shareB")), json_number_value(json_object_get(c, "change")));
	}
}

int cli_compare(int argc, char **argv)
{
	const char *server = "http://127.0.0.1:3200", *query = "{}", *by = NULL, *va = NULL, *vb = NULL;
	const char *limit = NULL;
	int64_t since_ns = 900LL * 1000000000LL, start_s = -1, end_s = -1, bstart_s = -1, bend_s = -1;
	bool json_out = false, have_query = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int64_t *t = NULL;
		if (strcmp(a, "--start") == 0)
			t = &start_s;
		else if (strcmp(a, "--end") == 0)
			t = &end_s;
		else if (strcmp(a, "--baseline-start") == 0)
			t = &bstart_s;
		else if (strcmp(a, "--baseline-end") == 0)
			t = &bend_s;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			compare_usage(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json_out = true;
		} else if (a[0] == '-' && a[1] == '-' && !v) {
			fprintf(stderr, "clew compare: %s needs a value\n", a);
			return 2;
		} else if (t) {
			if (parse_time(v, t) < 0) {
				fprintf(stderr, "clew compare: invalid %s '%s': Unix seconds or RFC 3339\n", a, v);
				return 2;
			}
			i++;
		} else if (strcmp(a, "--server") == 0) {
			server = v, i++;
		} else if (strcmp(a, "--by") == 0) {
			by = v, i++;
		} else if (strcmp(a, "--a") == 0) {
			va = v, i++;
		} else if (strcmp(a, "--b") == 0) {
			vb = v, i++;
		} else if (strcmp(a, "--limit") == 0) {
			limit = v, i++;
		} else if (strcmp(a, "--since") == 0) {
			if (units_parse_duration_ns(v, &since_ns) < 0 || since_ns < 1000000000LL) {
				fprintf(stderr, "clew compare: invalid --since '%s'\n", v);
				return 2;
			}
			i++;
		} else if (a[0] == '-' && a[1] != 0) {
			fprintf(stderr, "clew compare: unknown option %s\n", a);
			compare_usage(stderr);
			return 2;
		} else if (!have_query) {
			query = a;
			have_query = true;
		} else {
			fprintf(stderr, "clew compare: one query only (quote it)\n");
			return 2;
		}
	}
	if (by && (!va || !vb)) {
		fprintf(stderr, "clew compare: --by needs --a VALUE and --b VALUE\n");
		return 2;
	}
	if (end_s < 0)
		end_s = start_s >= 0 ? start_s + since_ns / 1000000000LL : clock_now_unix_ns() / 1000000000LL + 1;
	if (start_s < 0)
		start_s = end_s - since_ns / 1000000000LL;
	if (start_s > end_s) {
		fprintf(stderr, "clew compare: --start is after --end\n");
		return 2;
	}
	if (!by && bstart_s < 0 && bend_s < 0) { /* the window of the same length just before */
		bend_s = start_s - 1;
		bstart_s = start_s - (end_s - start_s) - 1;
	} else if (!by && (bstart_s < 0 || bend_s < 0)) {
		fprintf(stderr, "clew compare: give both --baseline-start and --baseline-end\n");
		return 2;
	}
	int rc = 1;
	struct buf url, body;
	buf_init(&url, 1 << 20);
	buf_init(&body, 64u << 20);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	json_t *root = NULL;
	if (!c) {
		fprintf(stderr, "clew compare: could not start libcurl\n");
		goto out;
	}
	char *q = curl_easy_escape(c, query, 0);
	buf_printf(&url, "%s/api/v1/compare?q=%s&start=%lld&end=%lld", server, q ? q : "", (long long)start_s,
		   (long long)end_s);
	curl_free(q);
	if (by) {
		const char *p[3] = {by, va, vb}, *n[3] = {"by", "a", "b"};
		for (int k = 0; k < 3; k++) {
			char *e = curl_easy_escape(c, p[k], 0);
			buf_printf(&url, "&%s=%s", n[k], e ? e : "");
			curl_free(e);
		}
	} else {
		buf_printf(&url, "&baselineStart=%lld&baselineEnd=%lld", (long long)bstart_s, (long long)bend_s);
	}
	if (limit) {
		char *e = curl_easy_escape(c, limit, 0);
		buf_printf(&url, "&limit=%s", e ? e : "");
		curl_free(e);
	}
	buf_append_byte(&url, 0);
	curl_easy_setopt(c, CURLOPT_URL, (const char *)url.p);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	CURLcode cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		fprintf(stderr, "clew compare: %s: %s (is clew serve running there? --server URL)\n", server,
			curl_easy_strerror(cr));
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	json_error_t je;
	root = json_loadb((const char *)body.p, body.len, 0, &je);
	if (status != 200) {
		const char *msg = json_string_value(json_object_get(json_object_get(root, "error"), "message"));
		fprintf(stderr, "clew compare: the server answered %ld: %s\n", status, msg ? msg : "(no error message)");
		goto out;
	}
	if (json_out) {
		fwrite(body.p, 1, body.len, stdout);
		fputc('\n', stdout);
	} else if (!root) {
		fprintf(stderr, "clew compare: the answer is not JSON: %s\n", je.text);
		goto out;
	} else {
		print_report(root);
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
