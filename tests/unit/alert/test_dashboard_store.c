/* Dashboards: validation of the document and its panel queries (with the
 * field and the position named), variable substitution, versioned updates,
 * persistence across reopen, and what open does with torn or corrupt
 * files. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../testlib.h"
#include "alert/dashboard_store.h"
#include "base/buf.h"
#include "base/err.h"

#define OVERVIEW                                                                                           \
	"{\"title\":\"Service overview\",\"variables\":[{\"name\":\"service\",\"query\":{\"tag\":"          \
	"\"resource.service.name\"},\"default\":\"checkout\"}],\"panels\":[{\"title\":\"Rate\",\"query\":" \
	"\"{resource.service.name = \\\"$service\\\"} | rate() by (name)\"},{\"id\":\"p99\",\"title\":"    \
	"\"p99\",\"type\":\"line\",\"unit\":\"s\",\"query\":\"{resource.service.name = \\\"${service}\\\"}" \
	" | quantile_over_time(duration, .99)\",\"grid\":{\"x\":12,\"y\":0,\"w\":12,\"h\":6}}]}"

static int validate(const char *doc, struct dashboard_error *e)
{
	return dashboard_validate(doc, strlen(doc), e);
}

static json_t *parse(struct buf *b)
{
	return json_loadb((const char *)b->p, b->len, 0, NULL);
}

TEST(dashboard_valid_document)
{
	struct dashboard_error e;
	int rc_open;
	char err_open[256];
	CHECK_INT(validate(OVERVIEW, &e), ==, 0);
	CHECK_INT(validate("{\"title\":\"empty\"}", &e), ==, 0);
	/* a variable outside quotes stands for a string, a number or a duration */
	CHECK_INT(validate("{\"title\":\"t\",\"variables\":[{\"name\":\"min\"}],\"panels\":[{\"query\":"
			   "\"{duration > $min} | rate()\"}]}",
			   &e),
		  ==, 0);
	CHECK_INT(validate("{\"title\":\"t\",\"variables\":[{\"name\":\"acct\",\"query\":{\"values\":[\"a\",\"b\"]}},"
			   "{\"name\":\"team\",\"query\":{\"catalog\":\"team\"}}],\"panels\":[{\"query\":"
			   "\"{span.customer.id = $acct && resource.team =~ \\\"$team.*\\\"} | count_over_time()\"}]}",
			   &e),
		  ==, 0);
	/* a variable standing for a quantile: the string placeholder is refused
	 * where the number is accepted */
	CHECK_INT(validate("{\"title\":\"t\",\"variables\":[{\"name\":\"q\"}],\"panels\":[{\"query\":"
			   "\"{} | quantile_over_time(duration, $q)\"}]}",
			   &e),
		  ==, 0);
	/* several values and All: flags kept when true, dropped when false */
	struct dashboard_store *st = dashboard_store_open(NULL, &rc_open, err_open, sizeof err_open);
	CHECK(st != NULL);
	const char *multi = "{\"title\":\"m\",\"variables\":[{\"name\":\"acct\",\"query\":{\"tag\":"
			    "\"span.customer.id\"},\"multi\":true,\"includeAll\":false}],\"panels\":[{\"query\":"
			    "\"{span.customer.id = $acct} | rate()\"}]}";
	struct buf out;
	buf_init(&out, 1 << 20);
	CHECK_INT(dashboard_store_create(st, multi, strlen(multi), &out, &e), ==, 0);
	json_t *d = parse(&out);
	json_t *v0 = json_array_get(json_object_get(d, "variables"), 0);
	CHECK(json_is_true(json_object_get(v0, "multi")));
	CHECK(json_object_get(v0, "includeAll") == NULL);
	json_decref(d);
	buf_free(&out);
	dashboard_store_close(st);
}

static void expect_bad(const char *doc, int rc, const char *field, const char *msg_part)
{
	struct dashboard_error e;
	int got = validate(doc, &e);
	if (got != rc) {
		test_fail(__FILE__, __LINE__, "%s: rc %d, want %d (%s)", doc, got, rc, e.msg);
		return;
	}
	if (strcmp(e.field, field) != 0)
		test_fail(__FILE__, __LINE__, "%s: field \"%s\", want \"%s\" (%s)", doc, e.field, field, e.msg);
	if (!strstr(e.msg, msg_part))
		test_fail(__FILE__, __LINE__, "%s: message \"%s\" lacks \"%s\"", doc, e.msg, msg_part);
}

TEST(dashboard_bad_documents)
{
	expect_bad("", CLEW_EPARSE, "", "not JSON");
	expect_bad("{\"title\":", CLEW_EPARSE, "", "not JSON");
	expect_bad("[]", CLEW_EINVAL, "", "JSON object");
	expect_bad("{\"title\":\"a\",\"title\":\"b\"}", CLEW_EPARSE, "", "duplicate");
	expect_bad("{}", CLEW_EINVAL, "title", "required");
	expect_bad("{\"title\":\"\"}", CLEW_EINVAL, "title", "empty");
	expect_bad("{\"title\":7}", CLEW_EINVAL, "title", "string");
	expect_bad("{\"title\":\"t\",\"colour\":1}", CLEW_EINVAL, "colour", "unknown field");
	expect_bad("{\"title\":\"t\",\"tags\":[1]}", CLEW_EINVAL, "tags[0]", "string");
	expect_bad("{\"title\":\"t\",\"variables\":{}}", CLEW_EINVAL, "variables", "array");
	expect_bad("{\"title\":\"t\",\"variables\":[{\"name\":\"1x\"}]}", CLEW_EINVAL, "variables[0].name",
		   "not a variable name");
	expect_bad("{\"title\":\"t\",\"variables\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", CLEW_EINVAL,
		   "variables[1].name", "twice");
	expect_bad("{\"title\":\"t\",\"variables\":[{\"name\":\"a\",\"multi\":\"yes\"}]}", CLEW_EINVAL,
		   "variables[0].multi", "true or false");
	expect_bad("{\"title\":\"t\",\"variables\":[{\"name\":\"a\",\"includeAll\":1}]}", CLEW_EINVAL,
		   "variables[0].includeAll", "true or false");
	expect_bad("{\"title\":\"t\",\"variables\":[{\"name\":\"a\",\"query\":{}}]}", CLEW_EINVAL,
		   "variables[0].query", "exactly one");
	expect_bad("{\"title\":\"t\",\"variables\":[{\"name\":\"a\",\"query\":{\"catalog\":\"region\"}}]}", CLEW_EINVAL,
		   "variables[0].query.catalog", "team");
	expect_bad("{\"title\":\"t\",\"variables\":[{\"name\":\"a\",\"query\":{\"values\":[\"x\",2]}}]}", CLEW_EINVAL,
		   "variables[0].query.values[1]", "string");
	expect_bad("{\"title\":\"t\",\"variables\":[{\"name\":\"a\",\"query\":{\"tag\":\"\"}}]}", CLEW_EINVAL,
		   "variables[0].query.tag", "attribute");
	expect_bad("{\"title\":\"t\",\"panels\":[{\"title\":\"x\"}]}", CLEW_EINVAL, "panels[0].query", "required");
	expect_bad("{\"title\":\"t\",\"panels\":[{\"query\":\"{} | rate()\",\"type\":\"pie\"}]}", CLEW_EINVAL,
		   "panels[0].type", "pie");
	expect_bad("{\"title\":\"t\",\"panels\":[{\"query\":\"{} | rate()\",\"grid\":{\"x\":20,\"w\":12}}]}",
		   CLEW_EINVAL, "panels[0].grid", "x + w");
	expect_bad("{\"title\":\"t\",\"panels\":[{\"query\":\"{} | rate()\",\"grid\":{\"h\":0}}]}", CLEW_EINVAL,
		   "panels[0].grid.h", "integer");
	expect_bad("{\"title\":\"t\",\"panels\":[{\"query\":\"{} | rate()\",\"grid\":{\"z\":1}}]}", CLEW_EINVAL,
		   "panels[0].grid.z", "unknown");
	expect_bad("{\"title\":\"t\",\"panels\":[{\"id\":\"a\",\"query\":\"{} | rate()\"},{\"id\":\"a\",\"query\":"
		   "\"{} | rate()\"}]}",
		   CLEW_EINVAL, "panels[1].id", "two panels");
	expect_bad("{\"title\":\"t\",\"panels\":[{\"id\":\"a b\",\"query\":\"{} | rate()\"}]}", CLEW_EINVAL,
		   "panels[0].id", "letters");
	/* queries: not metrics, syntax errors, unknown variables */
	expect_bad("{\"title\":\"t\",\"panels\":[{\"query\":\"{status = error}\"}]}", CLEW_EINVAL, "panels[0].query",
		   "metrics query");
	expect_bad("{\"title\":\"t\",\"panels\":[{\"query\":\"{} | rate() by (name\"}]}", CLEW_EINVAL,
		   "panels[0].query", "1:");
	expect_bad("{\"title\":\"t\",\"panels\":[{\"query\":\"{span.x = $nope} | rate()\"}]}", CLEW_EINVAL,
		   "panels[0].query", "unknown variable $nope");
}

TEST(dashboard_query_error_position)
{
	/* the position is in the query as sent, not in the substituted text */
	struct dashboard_error e;
	int rc = validate("{\"title\":\"t\",\"variables\":[{\"name\":\"service\"}],\"panels\":[{\"id\":\"lat\","
			  "\"query\":\"{resource.service.name = $service &&} | rate()\"}]}",
			  &e);
	CHECK_INT(rc, ==, CLEW_EINVAL);
	CHECK_STR(e.field, "panels[0].query");
	CHECK_STR(e.panel, "lat");
	CHECK_INT(e.line, ==, 1);
	/* "{resource.service.name = $service &&}": the '}' after && is byte 36 */
	CHECK_INT(e.off, ==, 36);
	CHECK_INT(e.col, ==, 37);
	CHECK(strstr(e.msg, "1:37:") != NULL);
	rc = validate("{\"title\":\"t\",\"variables\":[{\"name\":\"s\"}],\"panels\":[{\"query\":\"{} | rate()\"},"
		      "{\"query\":\"{.a = 1} | rate() by (${zz})\"}]}",
		      &e);
	CHECK_INT(rc, ==, CLEW_EINVAL);
	CHECK_STR(e.field, "panels[1].query");
	CHECK_STR(e.panel, "p2");
	CHECK_INT(e.off, ==, 22);
}

TEST(dashboard_limits)
{
	struct buf b;
	buf_init(&b, 1 << 22);
	buf_append_cstr(&b, "{\"title\":\"t\",\"panels\":[");
	for (int i = 0; i <= DASHBOARD_MAX_PANELS; i++)
		buf_printf(&b, "%s{\"query\":\"{} | rate()\"}", i ? "," : "");
	buf_append_cstr(&b, "]}");
	struct dashboard_error e;
	CHECK_INT(dashboard_validate((const char *)b.p, b.len, &e), ==, CLEW_EINVAL);
	CHECK_STR(e.field, "panels");
	buf_clear(&b);
	buf_append_cstr(&b, "{\"title\":\"t\",\"description\":\"");
	for (int i = 0; i < DASHBOARD_MAX_BYTES; i++)
		buf_append_byte(&b, 'x');
	buf_append_cstr(&b, "\"}");
	CHECK_INT(dashboard_validate((const char *)b.p, b.len, &e), ==, CLEW_EINVAL);
	CHECK(strstr(e.msg, "at most") != NULL);
	buf_free(&b);
	expect_bad("{\"title\":\"t\",\"variables\":[{\"name\":\"a\",\"query\":{\"values\":[]}},{\"name\":\"b\"},{\"name\":"
		   "\"c\"},{\"name\":\"d\"},{\"name\":\"e\"},{\"name\":\"f\"},{\"name\":\"g\"},{\"name\":\"h\"},{\"name\":"
		   "\"i\"},{\"name\":\"j\"},{\"name\":\"k\"},{\"name\":\"l\"},{\"name\":\"m\"},{\"name\":\"n\"},{"
		   "\"name\":\"o\"},{\"name\":\"p\"},{\"name\":\"q\"}]}",
		   CLEW_EINVAL, "variables", "at most");
}

static void check_subst(const char *q, const char *value, const char *want)
{
	const char *names[] = {"service", "s"};
	const char *values[] = {value, "short"};
	struct buf b;
	buf_init(&b, 1 << 16);
	uint32_t bad = 0;
	int rc = dashboard_substitute(q, strlen(q), names, values, 2, &b, &bad);
	if (rc != 0)
		test_fail(__FILE__, __LINE__, "%s: rc %d", q, rc);
	else if (b.len != strlen(want) || memcmp(b.p, want, b.len) != 0)
		test_fail(__FILE__, __LINE__, "%s with %s: got %.*s, want %s", q, value, (int)b.len, (const char *)b.p,
			  want);
	buf_free(&b);
}

TEST(dashboard_substitution)
{
	check_subst("{resource.service.name = \"$service\"}", "api", "{resource.service.name = \"api\"}");
	check_subst("{resource.service.name = $service}", "api", "{resource.service.name = \"api\"}");
	check_subst("{resource.service.name = ${service}}", "a\"b", "{resource.service.name = \"a\\\"b\"}");
	check_subst("{.x = \"pre-${service}-post\"}", "a\\b", "{.x = \"pre-a\\\\b-post\"}");
	check_subst("{duration > $service}", "250ms", "{duration > 250ms}");
	check_subst("{.n = $service}", "-3", "{.n = -3}");
	check_subst("{.n = $service}", "1 || true", "{.n = \"1 || true\"}");
	check_subst("{.x =~ `$service`}", "a`b", "{.x =~ `ab`}");
	/* $s is its own name; a lone $ (a regex anchor) stays */
	check_subst("{.x =~ \"^a$\" && .y = $s && .z = \"$$\"}", "v", "{.x =~ \"^a$\" && .y = \"short\" && .z = \"$$\"}");
	check_subst("{.x = \"\\\"$s\"}", "v", "{.x = \"\\\"short\"}");
	struct buf b;
	buf_init(&b, 1 << 16);
	uint32_t bad = 0;
	const char *names[] = {"a"}, *values[] = {"1"};
	CHECK_INT(dashboard_substitute("{.x = $b}", 9, names, values, 1, &b, &bad), ==, CLEW_ENOTFOUND);
	CHECK_INT(bad, ==, 6);
	buf_free(&b);
}

TEST(dashboard_crud_and_versions)
{
	int rc;
	char err[512];
	struct dashboard_store *s = dashboard_store_open(test_tmpdir(), &rc, err, sizeof err);
	CHECK(s != NULL);
	struct buf out;
	buf_init(&out, 1 << 20);
	struct dashboard_error e;
	CHECK_INT(dashboard_store_create(s, OVERVIEW, strlen(OVERVIEW), &out, &e), ==, 0);
	json_t *d = parse(&out);
	CHECK(d != NULL);
	char id[80];
	snprintf(id, sizeof id, "%s", json_string_value(json_object_get(d, "id")));
	CHECK_INT(strlen(id), ==, 16);
	CHECK_INT(json_integer_value(json_object_get(d, "version")), ==, 1);
	CHECK(json_is_string(json_object_get(d, "updatedAt")));
	json_t *p0 = json_array_get(json_object_get(d, "panels"), 0);
	CHECK_STR(json_string_value(json_object_get(p0, "id")), "p1");
	CHECK_STR(json_string_value(json_object_get(p0, "type")), "line");
	CHECK_INT(json_integer_value(json_object_get(json_object_get(p0, "grid"), "w")), ==, 12);
	json_decref(d);

	/* a chosen id, taken twice -> ESTATE */
	const char *named = "{\"id\":\"team-payments\",\"title\":\"Payments\"}";
	buf_clear(&out);
	CHECK_INT(dashboard_store_create(s, named, strlen(named), &out, &e), ==, 0);
	CHECK_INT(dashboard_store_create(s, named, strlen(named), &out, &e), ==, CLEW_ESTATE);
	CHECK_STR(e.field, "id");
	const char *bad_id = "{\"id\":\"../x\",\"title\":\"P\"}";
	CHECK_INT(dashboard_store_create(s, bad_id, strlen(bad_id), &out, &e), ==, CLEW_EINVAL);

	/* update with the current version, then with the stale one */
	const char *v1 = "{\"title\":\"Payments team\",\"version\":1}";
	buf_clear(&out);
	CHECK_INT(dashboard_store_put(s, "team-payments", v1, strlen(v1), &out, &e), ==, 0);
	d = parse(&out);
	CHECK_INT(json_integer_value(json_object_get(d, "version")), ==, 2);
	CHECK_STR(json_string_value(json_object_get(d, "title")), "Payments team");
	json_decref(d);
	buf_clear(&out);
	CHECK_INT(dashboard_store_put(s, "team-payments", v1, strlen(v1), &out, &e), ==, CLEW_ESTATE);
	CHECK_STR(e.field, "version");
	CHECK(strstr(e.msg, "at version 2, not 1") != NULL);
	CHECK_INT(out.len, ==, 0);
	const char *nov = "{\"title\":\"x\"}";
	CHECK_INT(dashboard_store_put(s, "team-payments", nov, strlen(nov), &out, &e), ==, CLEW_EINVAL);
	CHECK_STR(e.field, "version");
	const char *other = "{\"id\":\"other\",\"title\":\"x\",\"version\":2}";
	CHECK_INT(dashboard_store_put(s, "team-payments", other, strlen(other), &out, &e), ==, CLEW_EINVAL);
	CHECK_STR(e.field, "id");
	CHECK_INT(dashboard_store_put(s, "nope", v1, strlen(v1), &out, &e), ==, CLEW_ENOTFOUND);
	const char *badq = "{\"title\":\"x\",\"version\":2,\"panels\":[{\"query\":\"{\"}]}";
	CHECK_INT(dashboard_store_put(s, "team-payments", badq, strlen(badq), &out, &e), ==, CLEW_EINVAL);

	/* list: ordered by title, summaries */
	buf_clear(&out);
	dashboard_store_list(s, &out);
	d = parse(&out);
	json_t *list = json_object_get(d, "dashboards");
	CHECK_INT(json_array_size(list), ==, 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "title")), "Payments team");
	CHECK_INT(json_integer_value(json_object_get(json_array_get(list, 1), "panels")), ==, 2);
	CHECK_STR(json_string_value(json_array_get(json_object_get(json_array_get(list, 1), "variables"), 0)),
		  "service");
	json_decref(d);

	CHECK_INT(dashboard_store_delete(s, "team-payments"), ==, 0);
	CHECK_INT(dashboard_store_delete(s, "team-payments"), ==, CLEW_ENOTFOUND);
	buf_clear(&out);
	CHECK_INT(dashboard_store_get(s, "team-payments", &out), ==, CLEW_ENOTFOUND);
	CHECK_INT(dashboard_store_get(s, id, &out), ==, 0);
	CHECK_INT(dashboard_store_count(s), ==, 1);
	buf_free(&out);
	dashboard_store_close(s);
}

TEST(dashboard_persistence)
{
	int rc;
	char err[512];
	const char *dir = test_tmpdir();
	struct dashboard_store *s = dashboard_store_open(dir, &rc, err, sizeof err);
	CHECK(s != NULL);
	struct buf out, again;
	buf_init(&out, 1 << 20);
	buf_init(&again, 1 << 20);
	struct dashboard_error e;
	const char *a = "{\"id\":\"a\",\"title\":\"A\",\"tags\":[\"team\"]}";
	CHECK_INT(dashboard_store_create(s, OVERVIEW, strlen(OVERVIEW), &out, &e), ==, 0);
	CHECK_INT(dashboard_store_create(s, a, strlen(a), &out, &e), ==, 0);
	const char *a2 = "{\"title\":\"A2\",\"version\":1}";
	CHECK_INT(dashboard_store_put(s, "a", a2, strlen(a2), &out, &e), ==, 0);
	buf_clear(&out);
	dashboard_store_list(s, &out);
	dashboard_store_close(s);

	s = dashboard_store_open(dir, &rc, err, sizeof err);
	CHECK(s != NULL);
	dashboard_store_list(s, &again);
	CHECK_INT(out.len, ==, again.len);
	CHECK(memcmp(out.p, again.p, out.len) == 0);
	buf_clear(&out);
	CHECK_INT(dashboard_store_get(s, "a", &out), ==, 0);
	json_t *d = parse(&out);
	CHECK_INT(json_integer_value(json_object_get(d, "version")), ==, 2);
	CHECK_STR(json_string_value(json_object_get(d, "title")), "A2");
	json_decref(d);
	/* a deleted dashboard stays deleted */
	CHECK_INT(dashboard_store_delete(s, "a"), ==, 0);
	dashboard_store_close(s);
	s = dashboard_store_open(dir, &rc, err, sizeof err);
	CHECK(s != NULL);
	CHECK_INT(dashboard_store_count(s), ==, 1);
	dashboard_store_close(s);

	/* memory only */
	s = dashboard_store_open(NULL, &rc, err, sizeof err);
	CHECK(s != NULL);
	CHECK_INT(dashboard_store_create(s, a, strlen(a), &out, &e), ==, 0);
	CHECK_INT(dashboard_store_count(s), ==, 1);
	dashboard_store_close(s);
	buf_free(&out);
	buf_free(&again);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

TEST(dashboard_torn_and_corrupt_files)
{
	int rc;
	char err[512], path[1024], dir[900];
	snprintf(dir, sizeof dir, "%s", test_tmpdir());
	struct dashboard_store *s = dashboard_store_open(dir, &rc, err, sizeof err);
	CHECK(s != NULL);
	struct buf out;
	buf_init(&out, 1 << 20);
	struct dashboard_error e;
	const char *a = "{\"id\":\"a\",\"title\":\"A\"}";
	CHECK_INT(dashboard_store_create(s, a, strlen(a), &out, &e), ==, 0);
	dashboard_store_close(s);

	/* a save cut short by kill -9: the temporary file is half written */
	snprintf(path, sizeof path, "%s/state/dashboards/a.json.tmp", dir);
	write_file(path, "{\"id\":\"a\",\"title\":\"A new ti");
	s = dashboard_store_open(dir, &rc, err, sizeof err);
	CHECK(s != NULL);
	buf_clear(&out);
	CHECK_INT(dashboard_store_get(s, "a", &out), ==, 0);
	CHECK(strstr((const char *)out.p, "\"title\":\"A\"") != NULL);
	CHECK(access(path, F_OK) != 0);
	dashboard_store_close(s);

	/* a torn dashboard file is refused by name, with its position */
	snprintf(path, sizeof path, "%s/state/dashboards/b.json", dir);
	write_file(path, "{\"id\":\"b\",\"title\":\"B\",\"pan");
	s = dashboard_store_open(dir, &rc, err, sizeof err);
	CHECK(s == NULL);
	CHECK_INT(rc, ==, CLEW_ECORRUPT);
	CHECK(strstr(err, "b.json") != NULL);
	CHECK(strstr(err, "line 1") != NULL);
	/* valid JSON that is not a dashboard */
	write_file(path, "{\"id\":\"b\",\"title\":\"B\",\"version\":0}");
	s = dashboard_store_open(dir, &rc, err, sizeof err);
	CHECK(s == NULL);
	CHECK(strstr(err, "version") != NULL);
	write_file(path, "{\"id\":\"c\",\"title\":\"B\",\"version\":1}");
	s = dashboard_store_open(dir, &rc, err, sizeof err);
	CHECK(s == NULL);
	CHECK(strstr(err, "file's name") != NULL);
	write_file(path, "{\"id\":\"b\",\"title\":\"B\",\"version\":1,\"panels\":[{\"type\":\"pie\",\"query\":\"x\"}]}");
	s = dashboard_store_open(dir, &rc, err, sizeof err);
	CHECK(s == NULL);
	CHECK(strstr(err, "panels[0].type") != NULL);
	/* a query the parser refuses does not stop clew from starting */
	write_file(path, "{\"id\":\"b\",\"title\":\"B\",\"version\":3,\"panels\":[{\"query\":\"{ oops\"}]}");
	s = dashboard_store_open(dir, &rc, err, sizeof err);
	CHECK(s != NULL);
	CHECK_INT(dashboard_store_count(s), ==, 2);
	dashboard_store_close(s);

	/* a data directory that cannot be created */
	snprintf(path, sizeof path, "%s/file", dir);
	write_file(path, "x");
	s = dashboard_store_open(path, &rc, err, sizeof err);
	CHECK(s == NULL);
	CHECK(rc < 0);
	buf_free(&out);
}
