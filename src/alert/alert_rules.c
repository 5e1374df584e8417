/* Alert rules: parsing and validation of the rule JSON (the API's and
 * rules.json's shape), defaults, the canonical JSON writer and small helpers
 * (ids, operators, durations). The query itself is checked by alert_stream,
 * which is what will run it. */
#include "alert/alert_rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "alert/alert_stream.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/units.h"

static const char *const op_names[] = {">", ">=", "<", "<=", "==", "!="};
static const char *const sev_names[] = {"info", "warning", "critical"};
static const char *const type_names[] = {"webhook", "slack", "pagerduty"};
static const char *const route_names[] = {"url", "team", "account"};

const char *alert_op_name(enum alert_op op)
{
	return (unsigned)op < 6 ? op_names[op] : "?";
}

const char *alert_severity_name(enum alert_severity s)
{
	return (unsigned)s < 3 ? sev_names[s] : "?";
}

const char *alert_target_type_name(enum alert_target_type t)
{
	return (unsigned)t < 3 ? type_names[t] : "?";
}

const char *alert_route_name(enum alert_route r)
{
	return (unsigned)r < 3 ? route_names[r] : "?";
}

static int find_name(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

bool alert_breaches(enum alert_op op, double v, double t)
{
	if (isnan(v))
		return false;
	switch (op) {
	case ALERT_OP_GT: return v > t;
	case ALERT_OP_GTE: return v >= t;
	case ALERT_OP_LT: return v < t;
	case ALERT_OP_LTE: return v <= t;
	case ALERT_OP_EQ: return v == t;
	case ALERT_OP_NEQ: return v != t;
	}
	return false;
}

void alert_new_id(char out[17])
{
	uint8_t r[8];
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		int64_t t = clock_now_unix_ns() ^ clock_mono_ns();
		uint64_t h = hash64(&t, sizeof t);
		memcpy(r, &h, sizeof r);
	}
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 8; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[16] = 0;
}

static bool valid_id(const char *s)
{
	if (strlen(s) != 16)
		return false;
	for (int i = 0; i < 16; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

void alert_format_duration(int64_t ns, char *out, size_t cap)
{
	if (ns <= 0) {
		snprintf(out, cap, "0s");
		return;
	}
	if (ns % 1000000000LL) {
		/* the finest unit that keeps it exact: what is written is read back */
		if (ns % 1000000LL == 0)
			snprintf(out, cap, "%lldms", (long long)(ns / 1000000));
		else if (ns % 1000LL == 0)
			snprintf(out, cap, "%lldus", (long long)(ns / 1000));
		else
			snprintf(out, cap, "%lldns", (long long)ns);
		return;
	}
	long long s = ns / 1000000000LL;
	size_t n = 0;
	out[0] = 0;
	static const struct {
		long long secs;
		char unit;
	} parts[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
	for (size_t i = 0; i < 4 && n < cap; i++) {
		if (s >= parts[i].secs) {
			int w = snprintf(out + n, cap - n, "%lld%c", s / parts[i].secs, parts[i].unit);
			if (w < 0)
				return;
			n += (size_t)w;
			s %= parts[i].secs;
		}
	}
}

static char *dup_str(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void alert_rule_free(struct alert_rule *r)
{
	free(r->name);
	free(r->query);
	for (uint32_t i = 0; i < r->n_labels; i++) {
		free(r->labels[i].key);
		free(r->labels[i].value);
	}
	free(r->labels);
	for (uint32_t i = 0; i < r->n_targets; i++) {
		free(r->targets[i].url);
		free(r->targets[i].routing_key);
	}
	free(r->targets);
	for (uint32_t i = 0; i < r->n_group_by; i++)
		free(r->group_by[i]);
	free(r->group_by);
	memset(r, 0, sizeof *r);
}

int alert_rule_copy(struct alert_rule *dst, const struct alert_rule *src)
{
	*dst = *src;
	dst->name = dup_str(src->name);
	dst->query = dup_str(src->query);
	dst->labels = src->n_labels ? xcalloc(src->n_labels, sizeof *dst->labels) : NULL;
	for (uint32_t i = 0; i < src->n_labels; i++) {
		dst->labels[i].key = dup_str(src->labels[i].key);
		dst->labels[i].value = dup_str(src->labels[i].value);
	}
	dst->targets = src->n_targets ? xcalloc(src->n_targets, sizeof *dst->targets) : NULL;
	for (uint32_t i = 0; i < src->n_targets; i++) {
		dst->targets[i] = src->targets[i];
		dst->targets[i].url = dup_str(src->targets[i].url);
		dst->targets[i].routing_key = dup_str(src->targets[i].routing_key);
	}
	dst->group_by = src->n_group_by ? xcalloc(src->n_group_by, sizeof *dst->group_by) : NULL;
	for (uint32_t i = 0; i < src->n_group_by; i++)
		dst->group_by[i] = dup_str(src->group_by[i]);
	return 0;
}

const char *alert_rule_label(const struct alert_rule *r, const char *key)
{
	for (uint32_t i = 0; i < r->n_labels; i++)
		if (strcmp(r->labels[i].key, key) == 0)
			return r->labels[i].value;
	return NULL;
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return CLEW_EINVAL;
}

/* A duration field: a string ("30s") or a number of seconds; def if absent. */
static int get_duration(json_t *o, const char *key, int64_t def, int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	*out = def;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_number(v)) {
		double s = json_number_value(v);
		if (!(s >= 0 && s <= 365.0 * 86400))
			return fail(err, errlen, "\"%s\" must be a duration such as \"30s\" or \"5m\"", key);
		*out = (int64_t)(s * 1e9);
		return 0;
	}
	if (!json_is_string(v) || units_parse_duration_ns(json_string_value(v), out) < 0 || *out < 0)
		return fail(err, errlen, "\"%s\" must be a duration such as \"30s\" or \"5m\"", key);
	return 0;
}

static int get_string(json_t *o, const char *key, bool required, size_t max, const char **out, char *err,
		      size_t errlen)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return fail(err, errlen, "\"%s\" is required", key);
		return 0;
	}
	if (!json_is_string(v))
		return fail(err, errlen, "\"%s\" must be a string", key);
	if (json_string_length(v) > max || (required && json_string_length(v) == 0))
		return fail(err, errlen, required ? "\"%s\" must be a non-empty string of reasonable length"
						  : "\"%s\" is too long",
			    key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fail(err, errlen, "\"%s\" must not contain NUL characters", key);
	*out = json_string_value(v);
	return 0;
}

static int parse_target(json_t *t, uint32_t idx, struct alert_target *out, char *err, size_t errlen)
{
	char where[48];
	snprintf(where, sizeof where, "notify[%u]", idx);
	if (!json_is_object(t))
		return fail(err, errlen, "%s must be an object with \"type\" and \"url\"", where);
	const char *type, *url, *to, *minsev, *key;
	int rc;
	if ((rc = get_string(t, "type", false, 32, &type, err, errlen)) < 0 ||
	    (rc = get_string(t, "url", false, ALERT_MAX_URL, &url, err, errlen)) < 0 ||
	    (rc = get_string(t, "to", false, 32, &to, err, errlen)) < 0 ||
	    (rc = get_string(t, "minSeverity", false, 32, &minsev, err, errlen)) < 0 ||
	    (rc = get_string(t, "routingKey", false, 256, &key, err, errlen)) < 0)
		return rc;
	int ty = type ? find_name(type_names, 3, type) : 0;
	if (ty < 0)
		return fail(err, errlen, "%s.type must be \"webhook\", \"slack\" or \"pagerduty\"", where);
	out->type = (enum alert_target_type)ty;
	int route = to ? find_name(route_names, 3, to) : ALERT_ROUTE_URL;
	if (route < 0)
		return fail(err, errlen, "%s.to must be \"url\", \"team\" (the owning team's channel) or "
					 "\"account\" (the account owner's channel)",
			    where);
	out->route = (enum alert_route)route;
	if (out->route == ALERT_ROUTE_URL) {
		if (!url || !*url)
			return fail(err, errlen, "%s needs a \"url\" (or \"to\": \"team\" / \"account\")", where);
		if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
			return fail(err, errlen, "%s.url must start with http:// or https://", where);
		out->url = xstrdup(url);
	} else if (url) {
		return fail(err, errlen, "%s: give either \"url\" or \"to\", not both", where);
	}
	int sev = minsev ? find_name(sev_names, 3, minsev) : ALERT_SEV_INFO;
	if (sev < 0)
		return fail(err, errlen, "%s.minSeverity must be \"info\", \"warning\" or \"critical\"", where);
	out->min_severity = (enum alert_severity)sev;
	out->routing_key = dup_str(key);
	return 0;
}

int alert_rule_from_json(json_t *o, struct alert_rule *r, char *err, size_t errlen)
{
	int rc;
	memset(r, 0, sizeof *r);
	if (errlen)
		err[0] = 0;
	if (!json_is_object(o))
		return fail(err, errlen, "%s", "a rule must be a JSON object");
	const char *id, *name, *query, *sev;
	if ((rc = get_string(o, "id", false, 64, &id, err, errlen)) < 0 ||
	    (rc = get_string(o, "name", true, ALERT_MAX_NAME, &name, err, errlen)) < 0 ||
	    (rc = get_string(o, "query", true, 64 * 1024, &query, err, errlen)) < 0 ||
	    (rc = get_string(o, "severity", false, 32, &sev, err, errlen)) < 0)
		goto out;
	if (id && valid_id(id))
		memcpy(r->id, id, 17);
	r->name = xstrdup(name);
	r->query = xstrdup(query);
	char qerr[300];
	if (alert_stream_check(query, qerr, sizeof qerr) < 0) {
		snprintf(err, errlen, "\"query\": %s", qerr);
		rc = CLEW_EINVAL;
		goto out;
	}
	json_t *cond = json_object_get(o, "condition");
	if (!json_is_object(cond)) {
		rc = fail(err, errlen, "%s", "\"condition\" is required: {\"op\": \">\", \"threshold\": number}");
		goto out;
	}
	const char *op;
	if ((rc = get_string(cond, "op", true, 4, &op, err, errlen)) < 0)
		goto out;
	int opi = find_name(op_names, 6, op);
	if (opi < 0) {
		rc = fail(err, errlen, "%s", "condition.op must be one of > >= < <= == !=");
		goto out;
	}
	r->op = (enum alert_op)opi;
	json_t *th = json_object_get(cond, "threshold");
	if (!json_is_number(th) || !isfinite(json_number_value(th))) {
		rc = fail(err, errlen, "%s",
			  "condition.threshold must be a number in the query's unit (seconds for durations)");
		goto out;
	}
	r->threshold = json_number_value(th);
	json_t *cl = json_object_get(cond, "clear");
	r->clear = r->threshold;
	if (cl && !json_is_null(cl)) {
		if (!json_is_number(cl) || !isfinite(json_number_value(cl))) {
			rc = fail(err, errlen, "%s", "condition.clear must be a number");
			goto out;
		}
		r->clear = json_number_value(cl);
		/* the clear threshold must lie on the healthy side, or an
		 * instance would resolve while it still breaches */
		bool ok = true;
		if (r->op == ALERT_OP_GT || r->op == ALERT_OP_GTE)
			ok = r->clear <= r->threshold;
		else if (r->op == ALERT_OP_LT || r->op == ALERT_OP_LTE)
			ok = r->clear >= r->threshold;
		if (!ok) {
			rc = fail(err, errlen, "%s",
				  "condition.clear must be on the healthy side of the threshold (for \">\": at "
				  "most the threshold)");
			goto out;
		}
	}
	if ((rc = get_duration(o, "interval", ALERT_DEFAULT_INTERVAL_NS, &r->interval_ns, err, errlen)) < 0 ||
	    (rc = get_duration(o, "for", 0, &r->for_ns, err, errlen)) < 0 ||
	    (rc = get_duration(o, "renotify", ALERT_DEFAULT_RENOTIFY_NS, &r->renotify_ns, err, errlen)) < 0)
		goto out;
	if (r->interval_ns < ALERT_MIN_INTERVAL_NS) {
		rc = fail(err, errlen, "%s", "\"interval\" must be at least 1s");
		goto out;
	}
	int64_t def_range = r->interval_ns > 60000000000LL ? r->interval_ns : 60000000000LL;
	if ((rc = get_duration(o, "range", def_range, &r->range_ns, err, errlen)) < 0)
		goto out;
	if (r->range_ns < ALERT_MIN_INTERVAL_NS || r->range_ns > ALERT_MAX_RANGE_NS) {
		rc = fail(err, errlen, "%s", "\"range\" must be between 1s and 24h");
		goto out;
	}
	int s = sev ? find_name(sev_names, 3, sev) : ALERT_SEV_WARNING;
	if (s < 0) {
		rc = fail(err, errlen, "%s", "\"severity\" must be \"info\", \"warning\" or \"critical\"");
		goto out;
	}
	r->severity = (enum alert_severity)s;
	json_t *labels = json_object_get(o, "labels");
	if (labels && !json_is_null(labels)) {
		if (!json_is_object(labels) || json_object_size(labels) > ALERT_MAX_LABELS) {
			rc = fail(err, errlen, "%s", "\"labels\" must be an object of at most 32 string values");
			goto out;
		}
		r->labels = xcalloc(json_object_size(labels) + 1, sizeof *r->labels);
		const char *k;
		json_t *v;
		json_object_foreach (labels, k, v) {
			if (!json_is_string(v) || json_string_length(v) > 1024 || strlen(k) > 256) {
				rc = fail(err, errlen, "labels.%s must be a short string", k);
				goto out;
			}
			r->labels[r->n_labels].key = xstrdup(k);
			r->labels[r->n_labels++].value = xstrdup(json_string_value(v));
		}
	}
	json_t *notify = json_object_get(o, "notify");
	if (notify && !json_is_null(notify)) {
		if (!json_is_array(notify) || json_array_size(notify) > ALERT_MAX_TARGETS) {
			rc = fail(err, errlen, "%s", "\"notify\" must be an array of at most 16 targets");
			goto out;
		}
		r->targets = xcalloc(json_array_size(notify) + 1, sizeof *r->targets);
		for (size_t i = 0; i < json_array_size(notify); i++) {
			if ((rc = parse_target(json_array_get(notify, i), (uint32_t)i, &r->targets[i], err, errlen)) <
			    0) {
				r->n_targets = (uint32_t)i + 1;
				goto out;
			}
			r->n_targets = (uint32_t)i + 1;
		}
	}
	json_t *gb = json_object_get(o, "groupBy");
	r->group_all = true;
	if (gb && !json_is_null(gb)) {
		if (!json_is_array(gb) || json_array_size(gb) > ALERT_MAX_LABELS) {
			rc = fail(err, errlen, "%s", "\"groupBy\" must be an array of by() label names");
			goto out;
		}
		r->group_all = false;
		r->group_by = xcalloc(json_array_size(gb) + 1, sizeof *r->group_by);
		for (size_t i = 0; i < json_array_size(gb); i++) {
			json_t *g = json_array_get(gb, i);
			if (!json_is_string(g)) {
				rc = fail(err, errlen, "%s", "\"groupBy\" must be an array of by() label names");
				goto out;
			}
			r->group_by[r->n_group_by++] = xstrdup(json_string_value(g));
		}
	}
	json_t *en = json_object_get(o, "enabled");
	r->enabled = !en || json_is_null(en) || json_is_true(en);
	if (en && !json_is_null(en) && !json_is_boolean(en)) {
		rc = fail(err, errlen, "%s", "\"enabled\" must be true or false");
		goto out;
	}
	json_t *c = json_object_get(o, "createdNs"), *u = json_object_get(o, "updatedNs");
	r->created_ns = json_is_integer(c) ? (int64_t)json_integer_value(c) : 0;
	r->updated_ns = json_is_integer(u) ? (int64_t)json_integer_value(u) : 0;
	rc = 0;
out:
	return rc;
}

json_t *alert_json_load(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		snprintf(err, errlen, "the body is not valid JSON: %s (line %d, column %d)", je.text, je.line,
			 je.column);
	return root;
}

int alert_rule_parse(const char *text, size_t len, struct alert_rule *r, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	json_t *root = alert_json_load(text, len, err, errlen);
	if (!root)
		return CLEW_EPARSE;
	int rc = alert_rule_from_json(root, r, err, errlen);
	json_decref(root);
	return rc;
}

static void write_dur(struct json *j, const char *key, int64_t ns)
{
	char d[48];
	alert_format_duration(ns, d, sizeof d);
	json_key(j, key);
	json_cstr(j, d);
}

void alert_rule_write_json(struct json *j, const struct alert_rule *r)
{
	json_obj_begin(j);
	json_key(j, "id");
	json_cstr(j, r->id);
	json_key(j, "name");
	json_cstr(j, r->name);
	json_key(j, "query");
	json_cstr(j, r->query);
	json_key(j, "condition");
	json_obj_begin(j);
	json_key(j, "op");
	json_cstr(j, alert_op_name(r->op));
	json_key(j, "threshold");
	json_double(j, r->threshold);
	json_key(j, "clear");
	json_double(j, r->clear);
	json_obj_end(j);
	write_dur(j, "interval", r->interval_ns);
	write_dur(j, "for", r->for_ns);
	write_dur(j, "range", r->range_ns);
	write_dur(j, "renotify", r->renotify_ns);
	json_key(j, "severity");
	json_cstr(j, alert_severity_name(r->severity));
	json_key(j, "labels");
	json_obj_begin(j);
	for (uint32_t i = 0; i < r->n_labels; i++) {
		json_key(j, r->labels[i].key);
		json_cstr(j, r->labels[i].value);
	}
	json_obj_end(j);
	json_key(j, "notify");
	json_arr_begin(j);
	for (uint32_t i = 0; i < r->n_targets; i++) {
		const struct alert_target *t = &r->targets[i];
		json_obj_begin(j);
		json_key(j, "type");
		json_cstr(j, alert_target_type_name(t->type));
		if (t->route == ALERT_ROUTE_URL) {
			json_key(j, "url");
			json_cstr(j, t->url);
		} else {
			json_key(j, "to");
			json_cstr(j, alert_route_name(t->route));
		}
		json_key(j, "minSeverity");
		json_cstr(j, alert_severity_name(t->min_severity));
		if (t->routing_key) {
			json_key(j, "routingKey");
			json_cstr(j, t->routing_key);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
	if (!r->group_all) {
		json_key(j, "groupBy");
		json_arr_begin(j);
		for (uint32_t i = 0; i < r->n_group_by; i++)
			json_cstr(j, r->group_by[i]);
		json_arr_end(j);
	}
	json_key(j, "enabled");
	json_bool(j, r->enabled);
	json_key(j, "createdNs");
	json_int(j, r->created_ns);
	json_key(j, "updatedNs");
	json_int(j, r->updated_ns);
	json_obj_end(j);
}
