/* Dashboards (see dashboard_store.h): jansson documents under a mutex, one
 * file per dashboard. Design notes:
 * - Every document is validated into a clean copy in a fixed key order
 *   (defaults filled in: panel ids, type, grid), so what is stored is what
 *   the UI and the API read back.
 * - A change is written (temp file, fsync, rename, fsync dir) before it is
 *   visible; when the write fails the old version stays in memory and on
 *   disk. A kill -9 at any point leaves the old or the new file, and at
 *   worst a <id>.json.tmp that open removes.
 * - version counts the saves of one dashboard; a PUT must name the version
 *   it edited, so two editors never overwrite each other silently. */
#include "alert/dashboard_store.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert_rules.h"
#include "alert/alert_state.h"
#include "base/alloc.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "query/traceql.h"
#include "store/fileops.h"

#define DASHBOARD_MAX_TEXT 4096 /* description */
#define DASHBOARD_MAX_NAME 200	/* title, label, unit ... */
#define DASHBOARD_GRID_COLS 24
#define DASHBOARD_MAX_SUBST 256 /* variable references mapped back for error positions */

struct dashboard_store {
	pthread_mutex_t lock;
	char *dir; /* data_dir/state/dashboards; NULL = memory only */
	json_t *docs; /* id -> document */
};

__attribute__((format(printf, 3, 4))) static int fail(struct dashboard_error *e, const char *field, const char *fmt, ...)
{
	snprintf(e->field, sizeof e->field, "%s", field);
	int n = 0;
	if (*field)
		n = snprintf(e->msg, sizeof e->msg, "%s: ", field);
	if (n < 0 || (size_t)n >= sizeof e->msg)
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg + n, sizeof e->msg - (size_t)n, fmt, ap);
	va_end(ap);
	return CLEW_EINVAL;
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > DASHBOARD_MAX_ID)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

static bool name_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(int c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

static bool valid_var_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !name_start((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!name_char((unsigned char)s[i]))
			return false;
	return true;
}

/* ---- variable substitution ---- */

struct subst_map {
	uint32_t n;
	struct {
		uint32_t in_off, in_len, out_off, out_len;
	} at[DASHBOARD_MAX_SUBST];
};

/* A value written outside string literals as it is: a number, a duration
 * ("250ms", "1.5s") or a boolean. */
static bool bare_value(const char *v)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
		return true;
	const char *p = v;
	if (*p == '-')
		p++;
	if (!(*p >= '0' && *p <= '9'))
		return false;
	for (; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.' || (*p >= 'a' && *p <= 'z')))
			return false;
	return true;
}

static void put_value(struct buf *out, const char *v, char quote)
{
	if (quote == '`') {
		for (const char *p = v; *p; p++)
			if (*p != '`')
				buf_append_byte(out, (uint8_t)*p);
		return;
	}
	bool wrap = quote == 0 && !bare_value(v);
	if (quote == 0 && !wrap) {
		buf_append_cstr(out, v);
		return;
	}
	if (wrap)
		buf_append_byte(out, '"');
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_append_byte(out, '\\');
		if (*p == '\n')
			buf_append_cstr(out, "\\n");
		else
			buf_append_byte(out, (uint8_t)*p);
	}
	if (wrap)
		buf_append_byte(out, '"');
}

static int subst(const char *q, size_t len, const char *const *names, const char *const *values, uint32_t n,
		 struct buf *out, uint32_t *bad_off, struct subst_map *map)
{
	char quote = 0;
	size_t base = out->len;
	for (size_t i = 0; i < len; i++) {
		char c = q[i];
		if (quote) {
			if (quote == '"' && c == '\\' && i + 1 < len) {
				buf_append(out, q + i, 2);
				i++;
				continue;
			}
			if (c == quote)
				quote = 0;
		} else if (c == '"' || c == '`') {
			quote = c;
		}
		if (c != '$' || i + 1 >= len) {
			buf_append_byte(out, (uint8_t)c);
			continue;
		}
		size_t s = i + 1, e;
		bool braced = q[s] == '{';
		if (braced)
			s++;
		for (e = s; e < len && name_char((unsigned char)q[e]); e++)
			;
		if (e == s || !name_start((unsigned char)q[s]) || (braced && (e >= len || q[e] != '}'))) {
			buf_append_byte(out, (uint8_t)c); /* a lone '$', e.g. a regex anchor */
			continue;
		}
		uint32_t k;
		for (k = 0; k < n; k++)
			if (strlen(names[k]) == e - s && memcmp(names[k], q + s, e - s) == 0)
				break;
		if (k == n) {
			if (bad_off)
				*bad_off = (uint32_t)i;
			return CLEW_ENOTFOUND;
		}
		size_t end = braced ? e + 1 : e;
		size_t at = out->len;
		put_value(out, values[k], quote);
		if (map && map->n < DASHBOARD_MAX_SUBST) {
			map->at[map->n].in_off = (uint32_t)i;
			map->at[map->n].in_len = (uint32_t)(end - i);
			map->at[map->n].out_off = (uint32_t)(at - base);
			map->at[map->n].out_len = (uint32_t)(out->len - at);
			map->n++;
		}
		i = end - 1;
	}
	return out->err ? out->err : 0;
}

int dashboard_substitute(const char *query, size_t len, const char *const *names, const char *const *values,
			 uint32_t n, struct buf *out, uint32_t *bad_off)
{
	return subst(query, len, names, values, n, out, bad_off, NULL);
}

/* The offset in the query as sent of offset off in the substituted text. */
static uint32_t map_back(const struct subst_map *m, uint32_t off)
{
	int64_t delta = 0;
	for (uint32_t i = 0; i < m->n; i++) {
		if (off < m->at[i].out_off)
			break;
		if (off < m->at[i].out_off + m->at[i].out_len)
			return m->at[i].in_off;
		delta += (int64_t)m->at[i].out_len - (int64_t)m->at[i].in_len;
	}
	return (uint32_t)((int64_t)off - delta);
}

/* True if offset off of the substituted text is inside a substituted
 * value. */
static bool at_subst(const struct subst_map *m, uint32_t off)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (off >= m->at[i].out_off && off < m->at[i].out_off + m->at[i].out_len)
			return true;
	return false;
}

/* The message of a tql_error without its "LINE:COL: " prefix. */
static const char *tql_msg_text(const char *msg)
{
	const char *p = msg;
	while ((*p >= '0' && *p <= '9') || *p == ':')
		p++;
	return p > msg && *p == ' ' ? p + 1 : msg;
}

/* Check that query parses as a TraceQL metrics query once the variables
 * are replaced by a placeholder. A placeholder outside a string literal
 * may stand for a string, a number or a duration, so a type error is
 * retried with the next kind before it is reported. */
static int check_query(const char *field, const char *query, const char *const *names, uint32_t n_vars,
		       struct dashboard_error *e)
{
	static const char *const placeholders[] = {"x", "1", "1ms"};
	const char *vals[DASHBOARD_MAX_VARIABLES];
	struct tql_error first = {0};
	struct subst_map first_map = {0};
	struct subst_map map;
	size_t len = strlen(query);
	int rc = CLEW_EINVAL;
	bool not_metrics = false;
	for (size_t p = 0; p < sizeof placeholders / sizeof placeholders[0]; p++) {
		for (uint32_t i = 0; i < n_vars; i++)
			vals[i] = placeholders[p];
		struct buf b;
		buf_init(&b, (size_t)DASHBOARD_MAX_QUERY * 8);
		uint32_t bad = 0;
		map.n = 0;
		int src = subst(query, len, names, vals, n_vars, &b, &bad, &map);
		if (src == CLEW_ENOTFOUND) {
			buf_free(&b);
			struct slice t = {(const uint8_t *)query, len};
			tql_linecol(t, bad, &e->line, &e->col);
			e->off = bad;
			size_t nl = 0;
			while (bad + 1 + nl < len && (name_char((unsigned char)query[bad + 1 + nl]) || query[bad + 1 + nl] == '{'))
				nl++;
			return fail(e, field, "%u:%u: unknown variable %.*s (define it in \"variables\")", e->line, e->col,
				    (int)(nl + 1), query + bad);
		}
		if (src < 0) {
			buf_free(&b);
			return fail(e, field, "the query is too long with its variables substituted");
		}
		struct arena a;
		arena_init(&a, (size_t)16 << 20);
		struct tql_error te;
		struct tql_query *tq = tql_parse((const char *)b.p, b.len, &a, &te);
		bool ok = tq != NULL;
		if (tq && !tql_is_metrics(tq)) {
			ok = false;
			not_metrics = true;
		}
		arena_reset(&a);
		buf_free(&b);
		if (ok)
			return 0;
		if (not_metrics)
			break;
		if (p == 0) {
			first = te;
			first_map = map;
		}
		/* a type error, or an error at a placeholder (a quantile's
		 * "x"), may be the placeholder's kind: try the next one */
		if ((te.kind != TQL_ERR_TYPE && !at_subst(&map, te.off)) || n_vars == 0)
			break;
	}
	if (not_metrics)
		return fail(e, field,
			    "needs a TraceQL metrics query, e.g. {resource.service.name = \"$service\"} | rate() by "
			    "(name)");
	e->off = map_back(&first_map, first.off);
	if (e->off > len)
		e->off = (uint32_t)len;
	struct slice t = {(const uint8_t *)query, len};
	tql_linecol(t, e->off, &e->line, &e->col);
	rc = fail(e, field, "%u:%u: %s", e->line, e->col, tql_msg_text(first.msg));
	return rc;
}

/* ---- validation ---- */

/* A string field of o, at most max bytes; absent gives def (NULL: keep it
 * absent). Copied into dst under key. */
static int str_field(json_t *o, const char *key, const char *path, size_t max, bool required, const char *def,
		     json_t *dst, struct dashboard_error *e)
{
	char field[192];
	snprintf(field, sizeof field, "%s%s%s", path, *path ? "." : "", key);
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required)
			return fail(e, field, "required");
		if (def)
			json_object_set_new(dst, key, json_string(def));
		return 0;
	}
	if (!json_is_string(v))
		return fail(e, field, "must be a string");
	if (json_string_length(v) > max)
		return fail(e, field, "at most %zu bytes", max);
	if (required && json_string_length(v) == 0)
		return fail(e, field, "must not be empty");
	json_object_set(dst, key, v);
	return 0;
}

/* An optional boolean field, kept only when true. */
static int flag_field(json_t *o, const char *key, const char *path, json_t *dst, struct dashboard_error *e)
{
	char field[192];
	snprintf(field, sizeof field, "%s.%s", path, key);
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return fail(e, field, "must be true or false");
	if (json_is_true(v))
		json_object_set_new(dst, key, json_true());
	return 0;
}

static int known_keys(json_t *o, const char *path, const char *const *keys, size_t n, struct dashboard_error *e)
{
	const char *k;
	json_t *v;
	json_object_foreach (o, k, v) {
		size_t i;
		for (i = 0; i < n; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (i == n) {
			char field[192];
			snprintf(field, sizeof field, "%s%s%s", path, *path ? "." : "", k);
			return fail(e, field, "unknown field");
		}
	}
	return 0;
}

static int clean_var_query(json_t *q, const char *path, json_t *dst, struct dashboard_error *e)
{
	static const char *const keys[] = {"tag", "values", "catalog"};
	char field[192];
	snprintf(field, sizeof field, "%s.query", path);
	if (!json_is_object(q))
		return fail(e, field, "must be an object: {\"tag\": ...}, {\"values\": [...]} or {\"catalog\": ...}");
	int rc = known_keys(q, field, keys, 3, e);
	if (rc < 0)
		return rc;
	if (json_object_size(q) != 1)
		return fail(e, field, "needs exactly one of \"tag\", \"values\", \"catalog\"");
	json_t *c = json_object();
	json_object_set_new(dst, "query", c);
	json_t *v;
	if ((v = json_object_get(q, "tag"))) {
		snprintf(field, sizeof field, "%s.query.tag", path);
		if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 256)
			return fail(e, field, "must be an attribute name such as \"resource.service.name\"");
		json_object_set(c, "tag", v);
	} else if ((v = json_object_get(q, "values"))) {
		snprintf(field, sizeof field, "%s.query.values", path);
		if (!json_is_array(v))
			return fail(e, field, "must be an array of strings");
		if (json_array_size(v) > DASHBOARD_MAX_VALUES)
			return fail(e, field, "at most %d values", DASHBOARD_MAX_VALUES);
		size_t i;
		json_t *x;
		json_array_foreach (v, i, x) {
			if (!json_is_string(x) || json_string_length(x) > 256) {
				snprintf(field, sizeof field, "%s.query.values[%zu]", path, i);
				return fail(e, field, "must be a string of at most 256 bytes");
			}
		}
		json_object_set(c, "values", v);
	} else {
		v = json_object_get(q, "catalog");
		snprintf(field, sizeof field, "%s.query.catalog", path);
		if (!json_is_string(v) || (strcmp(json_string_value(v), "team") != 0 &&
					   strcmp(json_string_value(v), "service") != 0 &&
					   strcmp(json_string_value(v), "account") != 0))
			return fail(e, field, "must be \"team\", \"service\" or \"account\"");
		json_object_set(c, "catalog", v);
	}
	return 0;
}

/* The cleaned list dst[key], made empty; src[key] must be absent, null or
 * an array of at most max (too_many names what). *arr gets the list and
 * *n how many items to clean. 0 or a refusal naming key. */
static int list_begin(json_t *src, json_t *dst, const char *key, size_t max, const char *too_many, json_t **arr,
		      size_t *n, struct dashboard_error *e)
{
	*arr = json_array();
	json_object_set_new(dst, key, *arr);
	*n = 0;
	if (!src || json_is_null(src))
		return 0;
	if (!json_is_array(src))
		return fail(e, key, "must be an array");
	if (json_array_size(src) > max)
		return fail(e, key, "at most %zu %s", max, too_many);
	*n = json_array_size(src);
	return 0;
}

/* Item i of the list key: path gets "key[i]"; it must be an object with
 * none but the n_keys keys; *c gets its cleaned copy, appended to arr. */
static int list_item(json_t *v, const char *key, size_t i, const char *const *keys, size_t n_keys, json_t *arr,
		     char *path, size_t path_cap, json_t **c, struct dashboard_error *e)
{
	snprintf(path, path_cap, "%s[%zu]", key, i);
	if (!json_is_object(v))
		return fail(e, path, "must be an object");
	int rc = known_keys(v, path, keys, n_keys, e);
	if (rc < 0)
		return rc;
	*c = json_object();
	json_array_append_new(arr, *c);
	return 0;
}

static int clean_variables(json_t *vars, json_t *dst, const char **names, uint32_t *n_names,
			   struct dashboard_error *e)
{
	/* multi: several values may be picked, includeAll: an "All" choice (the
	 * UI turns a comparison with several values or All into a valid query) */
	static const char *const keys[] = {"name", "label", "query", "default", "multi", "includeAll"};
	json_t *arr;
	size_t n;
	*n_names = 0;
	int rc = list_begin(vars, dst, "variables", DASHBOARD_MAX_VARIABLES, "variables", &arr, &n, e);
	if (rc < 0 || n == 0)
		return rc;
	size_t i;
	json_t *v;
	json_array_foreach (vars, i, v) {
		char path[64], field[192];
		json_t *c;
		if ((rc = list_item(v, "variables", i, keys, 6, arr, path, sizeof path, &c, e)) < 0)
			return rc;
		if ((rc = str_field(v, "name", path, 64, true, NULL, c, e)) < 0)
			return rc;
		const char *name = json_string_value(json_object_get(v, "name"));
		snprintf(field, sizeof field, "%s.name", path);
		if (!valid_var_name(name))
			return fail(e, field, "\"%s\" is not a variable name (letters, digits, _; not a digit first)", name);
		for (uint32_t k = 0; k < *n_names; k++)
			if (strcmp(names[k], name) == 0)
				return fail(e, field, "the variable \"%s\" is defined twice", name);
		names[(*n_names)++] = name;
		if ((rc = str_field(v, "label", path, DASHBOARD_MAX_NAME, false, name, c, e)) < 0)
			return rc;
		json_t *q = json_object_get(v, "query");
		if (q && !json_is_null(q) && (rc = clean_var_query(q, path, c, e)) < 0)
			return rc;
		if ((rc = str_field(v, "default", path, 256, false, NULL, c, e)) < 0 ||
		    (rc = flag_field(v, "multi", path, c, e)) < 0 || (rc = flag_field(v, "includeAll", path, c, e)) < 0)
			return rc;
	}
	return 0;
}

static int grid_int(json_t *g, const char *key, const char *path, int64_t lo, int64_t hi, int64_t def,
		    int64_t *out, struct dashboard_error *e)
{
	json_t *v = json_object_get(g, key);
	char field[192];
	snprintf(field, sizeof field, "%s.grid.%s", path, key);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(e, field, "must be an integer from %lld to %lld", (long long)lo, (long long)hi);
	*out = json_integer_value(v);
	return 0;
}

static int clean_panels(json_t *panels, json_t *dst, const char *const *names, uint32_t n_names, bool parse,
			struct dashboard_error *e)
{
	static const char *const keys[] = {"id", "title", "description", "query", "type", "unit", "grid"};
	static const char *const types[] = {"line", "bar", "stat", "heatmap"};
	json_t *arr;
	size_t n;
	int rc = list_begin(panels, dst, "panels", DASHBOARD_MAX_PANELS, "panels in one dashboard", &arr, &n, e);
	if (rc < 0 || n == 0)
		return rc;
	size_t i;
	json_t *p;
	int64_t next_y = 0;
	json_array_foreach (panels, i, p) {
		char path[64], field[192];
		json_t *c;
		if ((rc = list_item(p, "panels", i, keys, 7, arr, path, sizeof path, &c, e)) < 0)
			return rc;
		json_t *id = json_object_get(p, "id");
		char gen[16];
		snprintf(field, sizeof field, "%s.id", path);
		if (id && !json_is_null(id)) {
			if (!json_is_string(id) || !valid_id(json_string_value(id)))
				return fail(e, field, "must be 1 to %d letters, digits, '-' or '_'", DASHBOARD_MAX_ID);
			json_object_set(c, "id", id);
		} else {
			/* the first "pN" no earlier panel uses */
			for (size_t k = i + 1;; k++) {
				snprintf(gen, sizeof gen, "p%zu", k);
				bool used = false;
				size_t j;
				json_t *o;
				json_array_foreach (panels, j, o)
					if (json_is_string(json_object_get(o, "id")) &&
					    strcmp(json_string_value(json_object_get(o, "id")), gen) == 0)
						used = true;
				if (!used)
					break;
			}
			json_object_set_new(c, "id", json_string(gen));
		}
		const char *pid = json_string_value(json_object_get(c, "id"));
		size_t j;
		json_t *o;
		json_array_foreach (arr, j, o)
			if (j < i && strcmp(json_string_value(json_object_get(o, "id")), pid) == 0)
				return fail(e, field, "two panels have the id \"%s\"", pid);
		snprintf(e->panel, sizeof e->panel, "%s", pid);
		if ((rc = str_field(p, "title", path, DASHBOARD_MAX_NAME, false, "", c, e)) < 0 ||
		    (rc = str_field(p, "description", path, DASHBOARD_MAX_TEXT, false, NULL, c, e)) < 0 ||
		    (rc = str_field(p, "query", path, DASHBOARD_MAX_QUERY, true, NULL, c, e)) < 0 ||
		    (rc = str_field(p, "type", path, 16, false, "line", c, e)) < 0 ||
		    (rc = str_field(p, "unit", path, 32, false, NULL, c, e)) < 0)
			return rc;
		const char *type = json_string_value(json_object_get(c, "type"));
		bool known = false;
		for (size_t k = 0; k < sizeof types / sizeof types[0]; k++)
			known |= strcmp(type, types[k]) == 0;
		if (!known) {
			snprintf(field, sizeof field, "%s.type", path);
			return fail(e, field, "\"%s\" is not a panel type (line, bar, stat, heatmap)", type);
		}
		if (parse) {
			snprintf(field, sizeof field, "%s.query", path);
			if ((rc = check_query(field, json_string_value(json_object_get(c, "query")), names, n_names, e)) <
			    0)
				return rc;
		}
		json_t *g = json_object_get(p, "grid");
		snprintf(field, sizeof field, "%s.grid", path);
		if (g && !json_is_null(g) && !json_is_object(g))
			return fail(e, field, "must be an object {\"x\", \"y\", \"w\", \"h\"}");
		static const char *const gkeys[] = {"x", "y", "w", "h"};
		if (g && json_is_object(g) && (rc = known_keys(g, field, gkeys, 4, e)) < 0)
			return rc;
		/* without a grid, panels flow two to a row */
		int64_t x, y, w, h;
		if ((rc = grid_int(g, "w", path, 1, DASHBOARD_GRID_COLS, 12, &w, e)) < 0 ||
		    (rc = grid_int(g, "h", path, 1, 64, 8, &h, e)) < 0 ||
		    (rc = grid_int(g, "x", path, 0, DASHBOARD_GRID_COLS - 1, (int64_t)(i % 2) * 12, &x, e)) < 0 ||
		    (rc = grid_int(g, "y", path, 0, 10000, next_y, &y, e)) < 0)
			return rc;
		if (x + w > DASHBOARD_GRID_COLS)
			return fail(e, field, "x + w must be at most %d (the grid's columns)", DASHBOARD_GRID_COLS);
		if (!g && i % 2 == 1)
			next_y = y + h;
		else if (g)
			next_y = y + h > next_y ? y + h : next_y;
		json_t *gc = json_object();
		json_object_set_new(gc, "x", json_integer(x));
		json_object_set_new(gc, "y", json_integer(y));
		json_object_set_new(gc, "w", json_integer(w));
		json_object_set_new(gc, "h", json_integer(h));
		json_object_set_new(c, "grid", gc);
		e->panel[0] = 0;
	}
	return 0;
}

/* A clean copy of doc with the fields a client sends (not id, version or
 * the times, which the caller sets), or NULL with e. parse: check the
 * panel queries with the TraceQL parser (not when loading saved files, so
 * a stricter parser never stops clew from starting). */
static json_t *clean_doc(json_t *doc, bool parse, struct dashboard_error *e, int *rc)
{
	static const char *const keys[] = {"id",	"title",     "description", "tags",	 "timeRange",
					   "variables", "panels",    "version",	    "createdAt", "updatedAt"};
	*rc = CLEW_EINVAL;
	if (!json_is_object(doc)) {
		fail(e, "", "a dashboard must be a JSON object {\"title\", \"variables\", \"panels\", ...}");
		return NULL;
	}
	if ((*rc = known_keys(doc, "", keys, sizeof keys / sizeof keys[0], e)) < 0)
		return NULL;
	json_t *c = json_object();
	const char *names[DASHBOARD_MAX_VARIABLES];
	uint32_t n_names = 0;
	json_t *tags = json_object_get(doc, "tags");
	if ((*rc = str_field(doc, "title", "", DASHBOARD_MAX_NAME, true, NULL, c, e)) < 0 ||
	    (*rc = str_field(doc, "description", "", DASHBOARD_MAX_TEXT, false, "", c, e)) < 0)
		goto bad;
	json_t *tc = json_array();
	json_object_set_new(c, "tags", tc);
	if (tags && !json_is_null(tags)) {
		size_t i;
		json_t *t;
		if (!json_is_array(tags) || json_array_size(tags) > 32) {
			*rc = fail(e, "tags", "must be an array of at most 32 strings");
			goto bad;
		}
		json_array_foreach (tags, i, t) {
			if (!json_is_string(t) || json_string_length(t) == 0 || json_string_length(t) > 64) {
				char field[32];
				snprintf(field, sizeof field, "tags[%zu]", i);
				*rc = fail(e, field, "must be a non-empty string of at most 64 bytes");
				goto bad;
			}
			json_array_append(tc, t);
		}
	}
	if ((*rc = str_field(doc, "timeRange", "", 32, false, NULL, c, e)) < 0)
		goto bad;
	if ((*rc = clean_variables(json_object_get(doc, "variables"), c, names, &n_names, e)) < 0 ||
	    (*rc = clean_panels(json_object_get(doc, "panels"), c, names, n_names, parse, e)) < 0)
		goto bad;
	return c;
bad:
	json_decref(c);
	return NULL;
}

static json_t *parse_body(const char *body, size_t len, struct dashboard_error *e, int *rc)
{
	memset(e, 0, sizeof *e);
	if (len > DASHBOARD_MAX_BYTES) {
		*rc = fail(e, "", "the dashboard is %zu bytes; at most %d are kept", len, DASHBOARD_MAX_BYTES);
		return NULL;
	}
	json_error_t je;
	json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc) {
		fail(e, "", "the body is not JSON: line %d, column %d: %s", je.line, je.column, je.text);
		*rc = CLEW_EPARSE;
	}
	return doc;
}

int dashboard_validate(const char *body, size_t len, struct dashboard_error *e)
{
	int rc;
	json_t *doc = parse_body(body, len, e, &rc);
	if (!doc)
		return rc;
	json_t *c = clean_doc(doc, true, e, &rc);
	json_decref(doc);
	json_decref(c);
	return c ? 0 : rc;
}

/* ---- persistence ---- */

static void format_time(int64_t ns, char out[40])
{
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;
	char day[24];
	gmtime_r(&sec, &tm);
	strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%03dZ", day, (int)(ns / 1000000 % 1000));
}

static char *file_of(const struct dashboard_store *s, const char *id)
{
	size_t n = strlen(s->dir) + strlen(id) + 7;
	char *p = xmalloc(n);
	snprintf(p, n, "%s/%s.json", s->dir, id);
	return p;
}

static int save(struct dashboard_store *s, const char *id, json_t *doc)
{
	if (!s->dir)
		return 0;
	char *text = json_dumps(doc, JSON_INDENT(1));
	if (!text)
		return CLEW_ENOMEM;
	char *p = file_of(s, id);
	int rc = alert_write_durable(p, text, strlen(text));
	free(p);
	free(text);
	return rc;
}

static int remove_file(struct dashboard_store *s, const char *id)
{
	if (!s->dir)
		return 0;
	struct fileops *ops = fileops_posix();
	char *p = file_of(s, id);
	int rc = ops->unlink(ops, p);
	free(p);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	return ops->fsync_dir(ops, s->dir);
}

static int mkdir_p(const char *p)
{
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* A saved document: clean it again and take its id, version and times. */
static int load_one(struct dashboard_store *s, const char *path, const char *id, char *err, size_t errlen)
{
	json_error_t je;
	json_t *d = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!d) {
		snprintf(err, errlen, "%s: line %d, column %d (byte %d): %s; fix or remove the file", path, je.line,
			 je.column, je.position, je.text);
		return CLEW_ECORRUPT;
	}
	struct dashboard_error e = {0};
	int rc;
	json_t *c = clean_doc(d, false, &e, &rc);
	json_t *ver = json_object_get(d, "version");
	json_t *did = json_object_get(d, "id");
	if (!c) {
		snprintf(err, errlen, "%s: %s; fix or remove the file", path, e.msg);
	} else if (!json_is_string(did) || strcmp(json_string_value(did), id) != 0) {
		snprintf(err, errlen, "%s: \"id\" is not the file's name; fix or remove the file", path);
	} else if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
		snprintf(err, errlen, "%s: \"version\" must be a positive integer; fix or remove the file", path);
	} else {
		json_t *out = json_object();
		json_object_set_new(out, "id", json_string(id));
		json_object_update(out, c);
		json_object_set(out, "version", ver);
		json_t *t = json_object_get(d, "createdAt");
		json_object_set_new(out, "createdAt", json_is_string(t) ? json_copy(t) : json_string(""));
		t = json_object_get(d, "updatedAt");
		json_object_set_new(out, "updatedAt", json_is_string(t) ? json_copy(t) : json_string(""));
		json_object_set_new(s->docs, id, out);
		json_decref(c);
		json_decref(d);
		return 0;
	}
	json_decref(c);
	json_decref(d);
	return CLEW_ECORRUPT;
}

static int load_all(struct dashboard_store *s, char *err, size_t errlen)
{
	DIR *dir = opendir(s->dir);
	if (!dir) {
		snprintf(err, errlen, "cannot read %s: %s", s->dir, strerror(errno));
		return -errno;
	}
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(dir))) {
		const char *name = de->d_name;
		size_t n = strlen(name);
		char path[4096];
		if ((size_t)snprintf(path, sizeof path, "%s/%s", s->dir, name) >= sizeof path)
			continue;
		if (n > 4 && strcmp(name + n - 4, ".tmp") == 0) {
			/* a save cut short by a crash: the old file is intact */
			unlink(path);
			continue;
		}
		if (n <= 5 || strcmp(name + n - 5, ".json") != 0)
			continue;
		char id[DASHBOARD_MAX_ID + 1];
		if (n - 5 > DASHBOARD_MAX_ID)
			continue;
		memcpy(id, name, n - 5);
		id[n - 5] = 0;
		if (!valid_id(id))
			continue;
		rc = load_one(s, path, id, err, errlen);
	}
	closedir(dir);
	return rc;
}

struct dashboard_store *dashboard_store_open(const char *data_dir, int *rc, char *err, size_t errlen)
{
	struct dashboard_store *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	s->docs = json_object();
	*rc = 0;
	if (data_dir) {
		size_t n = strlen(data_dir) + 24;
		char *state = xmalloc(n);
		snprintf(state, n, "%s/state", data_dir);
		s->dir = xmalloc(n);
		snprintf(s->dir, n, "%s/state/dashboards", data_dir);
		if ((*rc = mkdir_p(data_dir)) < 0 || (*rc = mkdir_p(state)) < 0 || (*rc = mkdir_p(s->dir)) < 0)
			snprintf(err, errlen, "cannot create %s: %s", s->dir, err_str(*rc));
		free(state);
		if (*rc == 0)
			*rc = load_all(s, err, errlen);
	}
	if (*rc < 0) {
		dashboard_store_close(s);
		return NULL;
	}
	return s;
}

void dashboard_store_close(struct dashboard_store *s)
{
	if (!s)
		return;
	json_decref(s->docs);
	free(s->dir);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void dump(json_t *doc, struct buf *out)
{
	char *t = json_dumps(doc, JSON_COMPACT);
	if (t)
		buf_append_cstr(out, t);
	else
		out->err = out->err ? out->err : CLEW_ENOMEM;
	free(t);
}

int dashboard_store_create(struct dashboard_store *s, const char *body, size_t len, struct buf *out,
			   struct dashboard_error *e)
{
	int rc;
	json_t *doc = parse_body(body, len, e, &rc);
	if (!doc)
		return rc;
	json_t *c = clean_doc(doc, true, e, &rc);
	json_t *idv = json_object_get(doc, "id");
	char id[DASHBOARD_MAX_ID + 1];
	if (!c)
		goto out;
	if (idv && !json_is_null(idv)) {
		if (!json_is_string(idv) || !valid_id(json_string_value(idv))) {
			rc = fail(e, "id", "must be 1 to %d letters, digits, '-' or '_'", DASHBOARD_MAX_ID);
			goto out;
		}
		snprintf(id, sizeof id, "%s", json_string_value(idv));
	} else {
		alert_new_id(id);
	}
	json_t *d = json_object();
	char now[40];
	format_time(clock_now_unix_ns(), now);
	json_object_set_new(d, "id", json_string(id));
	json_object_update(d, c);
	json_object_set_new(d, "version", json_integer(1));
	json_object_set_new(d, "createdAt", json_string(now));
	json_object_set_new(d, "updatedAt", json_string(now));
	pthread_mutex_lock(&s->lock);
	if (json_object_get(s->docs, id)) {
		rc = CLEW_ESTATE;
		fail(e, "id", "a dashboard with the id \"%s\" exists; PUT /api/v1/dashboards/%s to change it", id, id);
	} else if (json_object_size(s->docs) >= DASHBOARD_MAX_COUNT) {
		rc = CLEW_ELIMIT;
		fail(e, "", "clew keeps at most %d dashboards: delete one first", DASHBOARD_MAX_COUNT);
	} else if ((rc = save(s, id, d)) < 0) {
		fail(e, "", "could not save the dashboard: %s", err_str(rc));
	} else {
		json_object_set(s->docs, id, d);
		dump(d, out);
	}
	pthread_mutex_unlock(&s->lock);
	json_decref(d);
out:
	json_decref(c);
	json_decref(doc);
	return rc;
}

int dashboard_store_put(struct dashboard_store *s, const char *id, const char *body, size_t len, struct buf *out,
			struct dashboard_error *e)
{
	int rc;
	json_t *doc = parse_body(body, len, e, &rc);
	if (!doc)
		return rc;
	json_t *c = clean_doc(doc, true, e, &rc);
	json_t *idv = json_object_get(doc, "id");
	json_t *ver = json_object_get(doc, "version");
	if (!c)
		goto out;
	if (idv && !json_is_null(idv) && (!json_is_string(idv) || strcmp(json_string_value(idv), id) != 0)) {
		rc = fail(e, "id", "does not match the id in the path (%s)", id);
		goto out;
	}
	if (!json_is_integer(ver) || json_integer_value(ver) < 1) {
		rc = fail(e, "version", "required: the version of the dashboard this edit started from");
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	json_t *old = json_object_get(s->docs, id);
	if (!old) {
		rc = CLEW_ENOTFOUND;
		snprintf(e->msg, sizeof e->msg, "no dashboard %s", id);
	} else if (json_integer_value(json_object_get(old, "version")) != json_integer_value(ver)) {
		rc = CLEW_ESTATE;
		fail(e, "version",
		     "the dashboard is at version %lld, not %lld: it was saved since this edit began; reload it and "
		     "apply the edit again",
		     (long long)json_integer_value(json_object_get(old, "version")), (long long)json_integer_value(ver));
	} else {
		json_t *d = json_object();
		char now[40];
		format_time(clock_now_unix_ns(), now);
		json_object_set_new(d, "id", json_string(id));
		json_object_update(d, c);
		json_object_set_new(d, "version", json_integer(json_integer_value(ver) + 1));
		json_object_set(d, "createdAt", json_object_get(old, "createdAt"));
		json_object_set_new(d, "updatedAt", json_string(now));
		if ((rc = save(s, id, d)) < 0) {
			fail(e, "", "could not save the dashboard: %s", err_str(rc));
		} else {
			json_object_set(s->docs, id, d);
			dump(d, out);
		}
		json_decref(d);
	}
	pthread_mutex_unlock(&s->lock);
out:
	json_decref(c);
	json_decref(doc);
	return rc;
}

int dashboard_store_delete(struct dashboard_store *s, const char *id)
{
	int rc;
	pthread_mutex_lock(&s->lock);
	if (!json_object_get(s->docs, id))
		rc = CLEW_ENOTFOUND;
	else if ((rc = remove_file(s, id)) == 0)
		json_object_del(s->docs, id);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int dashboard_store_get(struct dashboard_store *s, const char *id, struct buf *out)
{
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	json_t *d = json_object_get(s->docs, id);
	if (d)
		dump(d, out);
	else
		rc = CLEW_ENOTFOUND;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int by_title(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcasecmp(json_string_value(json_object_get(x, "title")), json_string_value(json_object_get(y, "title")));
	return c ? c : strcmp(json_string_value(json_object_get(x, "id")), json_string_value(json_object_get(y, "id")));
}

void dashboard_store_list(struct dashboard_store *s, struct buf *out)
{
	pthread_mutex_lock(&s->lock);
	size_t n = json_object_size(s->docs), k = 0;
	json_t **all = xcalloc(n ? n : 1, sizeof *all);
	const char *id;
	json_t *d;
	json_object_foreach (s->docs, id, d)
		all[k++] = d;
	qsort(all, n, sizeof *all, by_title);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *sum = json_object();
		static const char *const keys[] = {"id", "title", "description", "tags", "version", "updatedAt"};
		for (size_t f = 0; f < sizeof keys / sizeof keys[0]; f++)
			json_object_set(sum, keys[f], json_object_get(all[i], keys[f]));
		json_object_set_new(sum, "panels", json_integer((json_int_t)json_array_size(json_object_get(all[i], "panels"))));
		json_t *names = json_array();
		size_t j;
		json_t *v;
		json_array_foreach (json_object_get(all[i], "variables"), j, v)
			json_array_append(names, json_object_get(v, "name"));
		json_object_set_new(sum, "variables", names);
		json_array_append_new(list, sum);
	}
	pthread_mutex_unlock(&s->lock);
	json_t *wrap = json_object();
	json_object_set_new(wrap, "dashboards", list);
	dump(wrap, out);
	json_decref(wrap);
	free(all);
}

uint32_t dashboard_store_count(struct dashboard_store *s)
{
	pthread_mutex_lock(&s->lock);
	uint32_t n = (uint32_t)json_object_size(s->docs);
	pthread_mutex_unlock(&s->lock);
	return n;
}
