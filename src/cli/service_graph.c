/* clew service-graph: the service graph from the terminal. Calls the
 * server's /api/v1/service-graph over HTTP (libcurl) and prints a table of
 * nodes (kind, team, rate, error rate, p50/p99) and one of edges, or with
 * --json the server's answer as it is. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/units.h"
#include "cli/cli.h"

static void sg_usage(FILE *f)
{
	fputs("usage: clew service-graph [options]\n"
	      "\n"
	      "Shows the service graph: services, the databases, messaging destinations and\n"
	      "external hosts they call, and the calls between them, with request rate,\n"
	      "error rate and latency (p50, p99).\n"
	      "\n"
	      "  --server URL        the server's query port [http://127.0.0.1:3200]\n"
	      "  --since DUR         the last DUR, e.g. 15m, 1h [1h]\n"
	      "  --start T, --end T  a time range instead: Unix seconds or RFC 3339 UTC\n"
	      "  --json              print the server's JSON answer as it is\n"
	      "  -h, --help          show this text\n",
	      f);
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	buf_append(b, p, size * n);
	return b->err ? 0 : size * n;
}

static double num(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static void print_tables(json_t *root)
{
	json_t *nodes = json_object_get(root, "nodes"), *edges = json_object_get(root, "edges"), *x;
	size_t k;
	printf("%-36s  %-9s  %-18s  %9s  %7s  %10s  %10s\n", "NODE", "KIND", "TEAM", "RATE/S", "ERRORS", "P50", "P99");
	json_array_foreach(nodes, k, x) {
		printf("%-36.36s  %-9s  %-18.18s  %9.2f  %6.2f%%  %8.2fms  %8.2fms\n", str(x, "name"), str(x, "kind"),
		       str(x, "team"), num(x, "rate"), 100 * num(x, "errorRate"), num(x, "p50"), num(x, "p99"));
	}
	putchar('\n');
	printf("%-30s  %-36s  %9s  %7s  %10s  %10s\n", "SOURCE", "TARGET", "RATE/S", "ERRORS", "P50", "P99");
	json_array_foreach(edges, k, x) {
		printf("%-30.30s  %-36.36s  %9.2f  %6.2f%%  %8.2fms  %8.2fms\n", str(x, "source"), str(x, "target"),
		       num(x, "rate"), 100 * num(x, "errorRate"), num(x, "p50"), num(x, "p99"));
	}
	printf("%zu node%s, %zu edge%s (%s)\n", json_array_size(nodes), json_array_size(nodes) == 1 ? "" : "s",
	       json_array_size(edges), json_array_size(edges) == 1 ? "" : "s", str(root, "source"));
}

int cli_service_graph(int argc, char **argv)
{
	const char *server = "http://127.0.0.1:3200", *since = "1h", *start = NULL, *end = NULL;
	bool json_out = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int64_t ns;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			sg_usage(stdout);
			return 0;
		} else if (strcmp(a, "--json") == 0) {
			json_out = true;
		} else if (a[0] == '-' && a[1] == '-' && !v) {
			fprintf(stderr, "clew service-graph: %s needs a value\n", a);
			return 2;
		} else if (strcmp(a, "--server") == 0) {
			server = v, i++;
		} else if (strcmp(a, "--since") == 0) {
			if (units_parse_duration_ns(v, &ns) < 0 || ns <= 0) {
				fprintf(stderr, "clew service-graph: invalid --since '%s': a duration such as 1h\n", v);
				return 2;
			}
			since = v, i++;
		} else if (strcmp(a, "--start") == 0 || strcmp(a, "--end") == 0) {
			uint64_t u;
			if (units_parse_u64(v, &u) < 0 && !units_parse_rfc3339_ns(slice_cstr(v), &ns)) {
				fprintf(stderr, "clew service-graph: invalid %s '%s': Unix seconds or RFC 3339\n", a, v);
				return 2;
			}
			*(a[2] == 's' ? &start : &end) = v;
			i++;
		} else {
			fprintf(stderr, "clew service-graph: unknown argument %s\n", a);
			sg_usage(stderr);
			return 2;
		}
	}
	int rc = 1;
	struct buf url, body;
	buf_init(&url, 1 << 16);
	buf_init(&body, 256u << 20);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURL *c = curl_easy_init();
	json_t *root = NULL;
	if (!c) {
		fprintf(stderr, "clew service-graph: could not start libcurl\n");
		goto out;
	}
	buf_printf(&url, "%s/api/v1/service-graph?", server);
	if (start) {
		char *e = curl_easy_escape(c, start, 0);
		buf_printf(&url, "start=%s&", e ? e : "");
		curl_free(e);
	} else {
		buf_printf(&url, "since=%s&", since);
	}
	if (end) {
		char *e = curl_easy_escape(c, end, 0);
		buf_printf(&url, "end=%s", e ? e : "");
		curl_free(e);
	}
	buf_append_byte(&url, 0);
	curl_easy_setopt(c, CURLOPT_URL, (const char *)url.p);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
	CURLcode cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		fprintf(stderr, "clew service-graph: %s: %s (is clew serve running? use --server URL)\n", server,
			curl_easy_strerror(cr));
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	json_error_t je;
	root = json_loadb((const char *)body.p, body.len, 0, &je);
	if (status != 200) {
		const char *msg = json_string_value(json_object_get(json_object_get(root, "error"), "message"));
		fprintf(stderr, "clew service-graph: the server answered %ld: %s\n", status,
			msg ? msg : "(no error message)");
		goto out;
	}
	if (json_out) {
		fwrite(body.p, 1, body.len, stdout);
		fputc('\n', stdout);
	} else if (!root) {
		fprintf(stderr, "clew service-graph: the answer is not JSON: %s\n", je.text);
		goto out;
	} else {
		print_tables(root);
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
