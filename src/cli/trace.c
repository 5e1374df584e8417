/* clew trace ID: one trace from a clew server as a tree in the terminal.
 * Fetches /api/v1/traces/{id} (libcurl), rebuilds the parent/child tree from
 * the spans (children in start order; spans whose parent is missing become
 * roots) and prints, per span, its offset from the trace start, duration, a
 * text waterfall bar of where it sits in the trace, and service, name, kind
 * and status (errors marked), with --attrs its attributes, or with --json the
 * server's answer as it is. Errors go to stderr and say what to do. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/units.h"
#include "cli/cli.h"
#include "cli/cli_client.h"

#define TRACE_DEFAULT_WIDTH 30
#define TRACE_MAX_BODY (512u << 20)

static void trace_usage(FILE *f)
{
	fputs("usage: clew trace [options] TRACE_ID\n"
	      "\n"
	      "Prints one trace as a tree: for each span its offset from the start of the\n"
	      "trace, its duration, a bar showing where it sits in the trace, its service,\n"
	      "name, kind and status (errors marked ERROR). Children follow their parent in\n"
	      "start order.\n"
	      "\n"
	      "  TRACE_ID            1 to 32 hexadecimal digits, as shown by clew query or\n"
	      "                      the UI (e.g. 4bf92f3577b34da6a3ce929d0e0e4736)\n"
	      "  --server URL        the server's query port [" CLI_CLIENT_DEFAULT_SERVER "]\n"
	      "  --attrs             also print each span's attributes\n"
	      "  --width N           width of the waterfall bar, 0 for none [30]\n"
	      "  --json              print the server's JSON answer (/api/v1/traces/ID) as it is\n"
	      "  -h, --help          show this text\n",
	      f);
}

/* ---- the tree ---- */

struct tspan {
	json_t *j;
	const char *id, *parent;
	long long start_ns, end_ns;
	size_t first_child, next_sibling; /* indexes; SIZE_MAX: none */
	bool has_parent, printed;
};

struct tree {
	struct tspan *s;
	size_t n;
	long long t0, t1;
	int width;
	bool attrs;
};

#define NONE ((size_t)-1)

static long long ns_of(json_t *v)
{
	const char *s = json_string_value(v);
	if (s)
		return strtoll(s, NULL, 10);
	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static const char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static int cmp_start(const void *a, const void *b, void *ctx)
{
	const struct tspan *s = ctx;
	const struct tspan *x = &s[*(const size_t *)a], *y = &s[*(const size_t *)b];
	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	int c = strcmp(str_of(x->j, "name"), str_of(y->j, "name"));
	return c ? c : (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

/* A duration as a person reads it: 850us, 12.34ms, 1.503s. */
static void fmt_dur(char *out, size_t len, long long ns)
{
	if (ns < 0)
		ns = 0;
	if (ns < 1000000)
		snprintf(out, len, "%lldus", ns / 1000);
	else if (ns < 1000000000)
		snprintf(out, len, "%.2fms", (double)ns / 1e6);
	else
		snprintf(out, len, "%.3fs", (double)ns / 1e9);
}

static void print_bar(const struct tree *t, const struct tspan *s)
{
	if (t->width <= 0)
		return;
	long long total = t->t1 - t->t0;
	int from = 0, to = t->width;
	if (total > 0) {
		from = (int)((double)(s->start_ns - t->t0) * t->width / (double)total);
		to = (int)(((double)(s->end_ns - t->t0) * t->width + (double)total - 1) / (double)total);
	}
	if (from < 0)
		from = 0;
	if (from >= t->width)
		from = t->width - 1;
	if (to > t->width)
		to = t->width;
	if (to <= from)
		to = from + 1;
	putchar('|');
	for (int k = 0; k < t->width; k++)
		putchar(k >= from && k < to ? '#' : ' ');
	fputs("|  ", stdout);
}

/* An OTLP/JSON AnyValue as text. */
static void print_value(json_t *v)
{
	json_t *x;
	if ((x = json_object_get(v, "stringValue"))) {
		printf("\"%s\"", json_string_value(x) ? json_string_value(x) : "");
	} else if ((x = json_object_get(v, "intValue"))) {
		if (json_is_string(x))
			fputs(json_string_value(x), stdout);
		else
			printf("%lld", (long long)json_integer_value(x));
	} else if ((x = json_object_get(v, "doubleValue"))) {
		if (json_is_number(x))
			printf("%g", json_number_value(x));
		else
			fputs(json_string_value(x) ? json_string_value(x) : "?", stdout);
	} else if ((x = json_object_get(v, "boolValue"))) {
		fputs(json_is_true(x) ? "true" : "false", stdout);
	} else if ((x = json_object_get(v, "bytesValue"))) {
		printf("bytes(%s)", json_string_value(x) ? json_string_value(x) : "");
	} else if ((x = json_object_get(v, "arrayValue"))) {
		size_t k;
		json_t *e;
		putchar('[');
		json_array_foreach(json_object_get(x, "values"), k, e) {
			if (k)
				fputs(", ", stdout);
			print_value(e);
		}
		putchar(']');
	} else if ((x = json_object_get(v, "kvlistValue"))) {
		size_t k;
		json_t *e;
		putchar('{');
		json_array_foreach(json_object_get(x, "values"), k, e) {
			if (k)
				fputs(", ", stdout);
			printf("%s: ", str_of(e, "key"));
			print_value(json_object_get(e, "value"));
		}
		putchar('}');
	} else {
		fputs("(empty)", stdout);
	}
}

/* prefix: the tree drawing of the ancestors ("|  " or "   " per level). */
static void print_span(struct tree *t, size_t i, struct buf *prefix, bool last, bool root)
{
	struct tspan *s = &t->s[i];
	char off[32], dur[32];
	s->printed = true;
	fmt_dur(off, sizeof off, s->start_ns - t->t0);
	fmt_dur(dur, sizeof dur, s->end_ns - s->start_ns);
	printf("%10s  %10s  ", off, dur);
	print_bar(t, s);
	if (prefix->len)
		fwrite(prefix->p, 1, prefix->len, stdout);
	if (!root)
		fputs(last ? "`- " : "+- ", stdout);
	json_t *status = json_object_get(s->j, "status");
	bool error = strcmp(str_of(status, "code"), "error") == 0;
	printf("%s: %s [%s]", str_of(s->j, "service"), str_of(s->j, "name"), str_of(s->j, "kind"));
	if (error) {
		const char *msg = str_of(status, "message");
		printf("  ERROR%s%s", *msg ? ": " : "", msg);
	}
	if (root && s->has_parent)
		printf("  (parent %s not in the trace)", s->parent);
	putchar('\n');
	size_t mark = prefix->len;
	if (!root)
		buf_append_cstr(prefix, last ? "   " : "|  ");
	if (t->attrs) {
		size_t k;
		json_t *a;
		json_array_foreach(json_object_get(s->j, "attributes"), k, a) {
			printf("%10s  %10s  ", "", "");
			if (t->width > 0)
				printf("%*s", t->width + 4, "");
			if (prefix->len)
				fwrite(prefix->p, 1, prefix->len, stdout);
			fputs(s->first_child != NONE ? "|    " : "     ", stdout);
			printf("%s = ", str_of(a, "key"));
			print_value(json_object_get(a, "value"));
			putchar('\n');
		}
	}
	for (size_t c = s->first_child; c != NONE; c = t->s[c].next_sibling)
		if (!t->s[c].printed)
			print_span(t, c, prefix, t->s[c].next_sibling == NONE, false);
	prefix->len = mark;
}

/* Print the tree of doc (the native trace answer). 0, or -1 when doc is not
 * a trace. */
static int print_tree(json_t *doc, int width, bool attrs)
{
	json_t *spans = json_object_get(doc, "spans");
	if (!json_is_array(spans))
		return -1;
	struct tree t = {.n = json_array_size(spans), .width = width, .attrs = attrs};
	t.s = calloc(t.n ? t.n : 1, sizeof *t.s);
	size_t *order = calloc(t.n ? t.n : 1, sizeof *order);
	struct buf prefix;
	buf_init(&prefix, 1 << 20);
	if (!t.s || !order) {
		free(t.s);
		free(order);
		return -1;
	}
	for (size_t i = 0; i < t.n; i++) {
		struct tspan *s = &t.s[i];
		s->j = json_array_get(spans, i);
		s->id = str_of(s->j, "spanId");
		s->parent = str_of(s->j, "parentSpanId");
		s->has_parent = *s->parent != 0;
		s->start_ns = ns_of(json_object_get(s->j, "startTimeUnixNano"));
		s->end_ns = ns_of(json_object_get(s->j, "endTimeUnixNano"));
		s->first_child = s->next_sibling = NONE;
		if (i == 0 || s->start_ns < t.t0)
			t.t0 = s->start_ns;
		if (i == 0 || s->end_ns > t.t1)
			t.t1 = s->end_ns;
		order[i] = i;
	}
	qsort_r(order, t.n, sizeof *order, cmp_start, t.s);
	/* link children in reverse start order so each list ends up in order;
	 * a parent lookup is a scan: traces hold thousands of spans, not
	 * millions, and this runs once */
	bool *is_child = calloc(t.n ? t.n : 1, sizeof *is_child);
	for (size_t k = t.n; is_child && k-- > 0;) {
		struct tspan *s = &t.s[order[k]];
		if (!s->has_parent)
			continue;
		for (size_t p = 0; p < t.n; p++) {
			if (p != order[k] && strcmp(t.s[p].id, s->parent) == 0) {
				s->next_sibling = t.s[p].first_child;
				t.s[p].first_child = order[k];
				is_child[order[k]] = true;
				break;
			}
		}
	}
	const char *id = str_of(doc, "traceId");
	char total[32], when[40] = "";
	fmt_dur(total, sizeof total, t.t1 - t.t0);
	time_t sec = (time_t)(t.t0 / 1000000000LL);
	struct tm tm;
	if (t.n && gmtime_r(&sec, &tm)) {
		size_t w = strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(when + w, sizeof when - w, ".%03lld UTC", (t.t0 % 1000000000LL) / 1000000);
	}
	json_int_t n_err = json_integer_value(json_object_get(doc, "errorCount"));
	printf("trace %s: %zu span%s, %zu service%s, %lld error%s, %s, started %s\n\n", id, t.n, t.n == 1 ? "" : "s",
	       json_array_size(json_object_get(doc, "services")),
	       json_array_size(json_object_get(doc, "services")) == 1 ? "" : "s", (long long)n_err,
	       n_err == 1 ? "" : "s", total, when);
	printf("%10s  %10s  ", "OFFSET", "DURATION");
	if (width > 0)
		printf("%-*s", width + 4, "WATERFALL");
	printf("SERVICE: SPAN [KIND]\n");
	/* roots (no parent, or a parent not in the trace), then whatever a
	 * parent cycle left unprinted */
	for (size_t k = 0; k < t.n; k++)
		if (is_child && !is_child[order[k]])
			print_span(&t, order[k], &prefix, true, true);
	for (size_t k = 0; k < t.n; k++)
		if (!t.s[order[k]].printed)
			print_span(&t, order[k], &prefix, true, true);
	free(is_child);
	free(order);
	free(t.s);
	buf_free(&prefix);
	return 0;
}

/* ---- the command ---- */

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

struct trace_args {
	const char *id;
	int width;
	bool attrs;
};

static int trace_arg(void *ctx, const char *a, const char *v)
{
	struct trace_args *t = ctx;
	if (strcmp(a, "--attrs") == 0) {
		t->attrs = true;
		return CLI_CLIENT_OWN_FLAG;
	}
	if (strcmp(a, "--width") == 0) {
		uint64_t w;
		if (!v)
			return CLI_CLIENT_OWN_NEEDS;
		if (units_parse_u64(v, &w) < 0 || w > 400) {
			fprintf(stderr, "clew trace: invalid --width '%s': expected 0 to 400\n", v);
			return CLI_CLIENT_OWN_BAD;
		}
		t->width = (int)w;
		return CLI_CLIENT_OWN_VALUE;
	}
	if (a[0] == '-' && a[1] != 0)
		return CLI_CLIENT_OWN_NONE;
	if (t->id) {
		fprintf(stderr, "clew trace: one trace id only\n");
		return CLI_CLIENT_OWN_BAD;
	}
	t->id = a;
	return CLI_CLIENT_OWN_FLAG;
}

int cli_trace(int argc, char **argv)
{
	struct cli_client cl;
	struct trace_args t = {.width = TRACE_DEFAULT_WIDTH};
	cli_client_init(&cl, "trace", trace_usage, CLI_CLIENT_SEE_HELP | CLI_CLIENT_REACH_ADVICE | CLI_CLIENT_404_HINT);
	cl.max_body_bytes = TRACE_MAX_BODY;
	cl.timeout_s = 120;
	cl.connect_timeout_s = 10;
	int rc = cli_client_parse(&cl, argc, argv, trace_arg, &t);
	if (rc != CLI_CLIENT_RUN)
		return rc;
	if (!t.id) {
		fprintf(stderr, "clew trace: which trace? give its trace id (1 to 32 hexadecimal digits)\n");
		trace_usage(stderr);
		return 2;
	}
	if (!valid_id(t.id)) {
		fprintf(stderr,
		        "clew trace: invalid trace id '%s': a trace id is 1 to 32 hexadecimal digits, e.g. "
		        "4bf92f3577b34da6a3ce929d0e0e4736\n",
		        t.id);
		return 2;
	}
	rc = cli_client_open(&cl);
	if (rc < 0)
		goto out;
	size_t sl = strlen(cl.server);
	while (sl && cl.server[sl - 1] == '/')
		sl--;
	cli_client_url(&cl, "%.*s/api/v1/traces/%s", (int)sl, cl.server, t.id);
	rc = cli_client_get(&cl);
	if (rc < 0)
		goto out;
	if (cl.status == 404 && json_object_get(cl.root, "error")) {
		fprintf(stderr,
		        "clew trace: trace %s not found on %s (not received yet, or older than the server's "
		        "--retention)\n",
		        t.id, cl.server);
		rc = -1;
	} else if (cl.status == 200 && !cl.json && (!cl.root || print_tree(cl.root, t.width, t.attrs) < 0)) {
		fprintf(stderr, "clew trace: the answer of %s is not a clew trace (is --server a clew query port?)\n",
		        cl.server);
		rc = -1;
	} else if (cl.status != 200 || cl.json) {
		rc = cli_client_answer(&cl);
	}
out:
	return cli_client_close(&cl, rc);
}
