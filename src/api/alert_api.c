/* The alerting endpoints on the query port. Each handler parses the path
 * and the JSON body (the query port caps bodies at 1 MiB) and calls the
 * alert engine (alert rules, instances, silences, the catalog, SLOs),
 * which validates, applies and saves; validation messages
 * come back as 400s naming the field. The payload enrichment (root cause
 * and critical path of a firing alert) lives in alert_enrich.c. */
#include "api/alert_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_engine.h"
#include "alert/catalog.h"
#include "api/api_util.h"
#include "base/codec.h"
#include "base/err.h"
#include "base/json.h"
#include "base/units.h"

#define ALERT_API_MAX_ID 256

/* An id or name from the path, percent-decoded, into out (NUL-terminated).
 * false if empty, too long, or holding a '/' or NUL. */
static bool path_id(struct slice rest, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < rest.len; i++) {
		unsigned ch = rest.p[i];
		if (ch == '%' && i + 2 < rest.len) {
			int hi = hex_digit_value(rest.p[i + 1]), lo = hex_digit_value(rest.p[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			ch = (unsigned)(hi << 4 | lo);
			i += 2;
		}
		if (ch == 0 || ch == '/' || o + 1 >= cap)
			return false;
		out[o++] = (char)ch;
	}
	out[o] = 0;
	return o > 0;
}

/* The body must be identity-encoded JSON text. false after answering. */
static bool body_ok(struct http_request *req, struct http_response *resp)
{
	return api_body_present(req, resp, "the request needs a JSON body");
}

/* Answer a failed engine call: 400 with the validator's message, 404, or
 * 500 with the reason. */
static void answer_error(struct http_response *resp, struct http_request *req, int rc, const char *err,
			 const char *what)
{
	char msg[600];
	int status = 500;
	if (rc == CLEW_EINVAL || rc == CLEW_EPARSE)
		status = 400;
	else if (rc == CLEW_ENOTFOUND)
		status = 404;
	else if (rc == CLEW_ELIMIT)
		status = 409;
	if (err && err[0])
		snprintf(msg, sizeof msg, "%s", err);
	else if (status == 404)
		snprintf(msg, sizeof msg, "%s not found", what);
	else
		snprintf(msg, sizeof msg, "%s failed: %s", what, err_str(rc));
	api_error(resp, req, status, msg);
}

static void no_content(struct http_response *resp, struct http_request *req)
{
	http_response_text(resp, req, 204, "application/json", SLICE_LIT(""));
}

/* A resource the engine keeps by id (alert rules, silences, SLOs): its
 * collection answers GET (list) and POST (create), each item GET, PUT and
 * DELETE where the engine has them. The texts name it in the answers. */
struct alert_resource {
	const char *noun;      /* "no <noun> <id>" when the id is unknown */
	const char *the;       /* "saving the <the>", "deleting the <the>" */
	const char *bad_path;  /* the 404 message for a malformed item path */
	void (*list)(struct alert_engine *e, struct json *out);
	int (*put)(struct alert_engine *e, const char *id, const char *body, size_t len, struct json *out, char *err,
		   size_t errlen);
	int (*get)(struct alert_engine *e, const char *id, struct json *out); /* NULL: DELETE only */
	int (*del)(struct alert_engine *e, const char *id);
};

/* Silences are only created, never replaced: the id is always NULL here. */
static int put_silence(struct alert_engine *e, const char *id, const char *body, size_t len, struct json *out,
		       char *err, size_t errlen)
{
	(void)id;
	return alert_engine_put_silence(e, body, len, out, err, errlen);
}

static const struct alert_resource r_rules = {
	"alert rule", "rule", "not found: the path is /api/v1/alert-rules/{id}",
	alert_engine_list_rules, alert_engine_put_rule, alert_engine_get_rule, alert_engine_delete_rule,
};
static const struct alert_resource r_silences = {
	"silence", "silence", "not found: the path is /api/v1/silences/{id}",
	alert_engine_list_silences, put_silence, NULL, alert_engine_delete_silence,
};
static const struct alert_resource r_slos = {
	"SLO", "SLO", "not found: the path is /api/v1/slos/{id} or /api/v1/slos/{id}/status",
	alert_engine_list_slos, alert_engine_put_slo, alert_engine_get_slo, alert_engine_delete_slo,
};

/* Create (id NULL, 201) or replace (200) from the body. */
static void resource_put(const struct alert_resource *r, struct alert_engine *e, const char *id, struct http_request *req,
			 struct http_response *resp)
{
	char err[512] = "", what[64];
	struct json j;
	if (!body_ok(req, resp))
		return;
	json_init(&j, &resp->body);
	int rc = r->put(e, id, (const char *)req->body.p, req->body.len, &j, err, sizeof err);
	if (rc < 0) {
		buf_clear(&resp->body);
		snprintf(what, sizeof what, "saving the %s", r->the);
		answer_error(resp, req, rc, err, what);
		return;
	}
	api_send_json(resp, req, id ? 200 : 201);
}

/* The collection: GET lists, POST creates. */
static void resource_collection(const struct alert_resource *r, struct alert_engine *e, struct http_request *req,
				struct http_response *resp)
{
	if (api_is_get(req)) {
		struct json j;
		json_init(&j, &resp->body);
		r->list(e, &j);
		api_send_json(resp, req, 200);
	} else if (api_method_is(req, "POST")) {
		resource_put(r, e, NULL, req, resp);
	} else {
		api_error(resp, req, 405, "method not allowed: use GET or POST");
	}
}

/* One item by id: GET, PUT, DELETE (DELETE only when r->get is NULL). */
static void resource_item(const struct alert_resource *r, struct alert_engine *e, const char *id, struct http_request *req,
			  struct http_response *resp)
{
	char err[512] = "", what[64];
	int rc;
	if (!r->get && !api_method_is(req, "DELETE")) {
		api_error(resp, req, 405, "method not allowed: use DELETE");
	} else if (api_is_get(req)) {
		struct json j;
		json_init(&j, &resp->body);
		if ((rc = r->get(e, id, &j)) < 0) {
			buf_clear(&resp->body);
			snprintf(err, sizeof err, "no %s %s", r->noun, id);
			snprintf(what, sizeof what, "the %s", r->the);
			answer_error(resp, req, rc, err, what);
			return;
		}
		api_send_json(resp, req, 200);
	} else if (api_method_is(req, "PUT")) {
		resource_put(r, e, id, req, resp);
	} else if (api_method_is(req, "DELETE")) {
		if ((rc = r->del(e, id)) < 0) {
			if (rc == CLEW_ENOTFOUND)
				snprintf(err, sizeof err, "no %s %s", r->noun, id);
			snprintf(what, sizeof what, "deleting the %s", r->the);
			answer_error(resp, req, rc, err, what);
			return;
		}
		no_content(resp, req);
	} else {
		api_error(resp, req, 405, "method not allowed: use GET, PUT or DELETE");
	}
}

/* /api/v1/<resource>[/{id}] */
static void resource(const struct alert_resource *r, struct alert_engine *e, struct slice rest, struct http_request *req,
		     struct http_response *resp)
{
	char id[ALERT_API_MAX_ID];
	if (rest.len == 0 || slice_eq_cstr(rest, "/")) {
		resource_collection(r, e, req, resp);
		return;
	}
	if (rest.p[0] != '/' || !path_id(slice_make(rest.p + 1, rest.len - 1), id, sizeof id)) {
		api_error(resp, req, 404, r->bad_path);
		return;
	}
	resource_item(r, e, id, req, resp);
}

/* A query parameter as a NUL-terminated string in the request arena. */
static const char *param_cstr(struct http_request *req, const char *name)
{
	struct slice v;
	if (!api_query_param(req, name, &v) || v.len == 0)
		return NULL;
	char *s = arena_alloc(req->arena, v.len + 1);
	memcpy(s, v.p, v.len);
	s[v.len] = 0;
	return s;
}

static void alerts(struct alert_engine *e, struct http_request *req, struct http_response *resp)
{
	if (!api_is_get(req)) {
		api_error(resp, req, 405, "method not allowed: use GET");
		return;
	}
	const char *state = param_cstr(req, "state");
	if (state && strcmp(state, "inactive") != 0 && strcmp(state, "pending") != 0 &&
	    strcmp(state, "firing") != 0 && strcmp(state, "resolved") != 0) {
		api_error(resp, req, 400, "state: expected inactive, pending, firing or resolved");
		return;
	}
	struct json j;
	json_init(&j, &resp->body);
	alert_engine_list_alerts(e, param_cstr(req, "rule"), state, &j);
	api_send_json(resp, req, 200);
}

static void deliveries(struct alert_engine *e, struct http_request *req, struct http_response *resp)
{
	if (!api_is_get(req)) {
		api_error(resp, req, 405, "method not allowed: use GET");
		return;
	}
	uint32_t limit = 100;
	const char *l = param_cstr(req, "limit");
	if (l) {
		char *end;
		long v = strtol(l, &end, 10);
		if (*end || v < 1 || v > 10000) {
			api_error(resp, req, 400, "limit: expected a number from 1 to 10000");
			return;
		}
		limit = (uint32_t)v;
	}
	struct json j;
	json_init(&j, &resp->body);
	alert_engine_deliveries(e, limit, &j);
	api_send_json(resp, req, 200);
}

/* Parse the body as a JSON object; NULL after answering 400. */
static json_t *body_object(struct http_request *req, struct http_response *resp)
{
	if (!body_ok(req, resp))
		return NULL;
	json_error_t je;
	json_t *o = json_loadb((const char *)req->body.p, req->body.len, 0, &je);
	char msg[300];
	if (!o) {
		snprintf(msg, sizeof msg, "the body is not valid JSON: line %d: %s", je.line, je.text);
		api_error(resp, req, 400, msg);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		api_error(resp, req, 400, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

static void catalog_entry(struct catalog *c, const char *kind, const char *key, struct http_request *req,
			  struct http_response *resp)
{
	char err[512] = "";
	int rc;
	if (api_is_get(req)) {
		if ((rc = catalog_write(c, kind, key, &resp->body)) < 0) {
			buf_clear(&resp->body);
			snprintf(err, sizeof err, "no %s %s in the catalog",
				 strcmp(kind, "services") == 0 ? "service" : "account", key);
			answer_error(resp, req, rc, err, "the catalog entry");
			return;
		}
		api_send_json(resp, req, 200);
	} else if (api_method_is(req, "PUT")) {
		json_t *o = body_object(req, resp);
		if (!o)
			return;
		rc = catalog_put_entry(c, kind, key, o, err, sizeof err);
		json_decref(o);
		if (rc < 0) {
			answer_error(resp, req, rc, err, "saving the catalog entry");
			return;
		}
		if (catalog_write(c, kind, key, &resp->body) < 0)
			buf_clear(&resp->body);
		api_send_json(resp, req, 200);
	} else if (api_method_is(req, "DELETE")) {
		if ((rc = catalog_put_entry(c, kind, key, NULL, err, sizeof err)) < 0) {
			if (rc == CLEW_ENOTFOUND)
				snprintf(err, sizeof err, "no %s %s in the catalog",
					 strcmp(kind, "services") == 0 ? "service" : "account", key);
			answer_error(resp, req, rc, err, "deleting the catalog entry");
			return;
		}
		no_content(resp, req);
	} else {
		api_error(resp, req, 405, "method not allowed: use GET, PUT or DELETE");
	}
}

static void catalog(struct alert_engine *e, struct slice rest, struct http_request *req,
		    struct http_response *resp)
{
	struct catalog *c = alert_engine_catalog(e);
	char key[ALERT_API_MAX_ID], err[512] = "";
	struct slice k;
	if (api_path_rest(rest, "/services/", &k) || api_path_rest(rest, "/accounts/", &k)) {
		const char *kind = rest.p[1] == 's' ? "services" : "accounts";
		if (!path_id(k, key, sizeof key)) {
			api_error(resp, req, 404, "not found: the path is /api/v1/catalog/services/{name} or "
						  "/api/v1/catalog/accounts/{id}");
			return;
		}
		catalog_entry(c, kind, key, req, resp);
		return;
	}
	if (rest.len != 0 && !slice_eq_cstr(rest, "/")) {
		api_error(resp, req, 404, "not found: the path is /api/v1/catalog/services/{name} or "
					  "/api/v1/catalog/accounts/{id}");
		return;
	}
	if (api_is_get(req)) {
		if (catalog_write(c, NULL, NULL, &resp->body) < 0) {
			buf_clear(&resp->body);
			api_error(resp, req, 500, "the catalog could not be written");
			return;
		}
		api_send_json(resp, req, 200);
	} else if (api_method_is(req, "PUT") || api_method_is(req, "POST")) {
		/* PUT replaces the catalog; POST (or PUT ?merge=1) merges into it */
		struct slice m;
		bool merge = api_method_is(req, "POST") ||
			     (api_query_param(req, "merge", &m) && (slice_eq_cstr(m, "1") || slice_eq_cstr(m, "true")));
		json_t *o = body_object(req, resp);
		if (!o)
			return;
		int rc = catalog_put(c, o, merge, err, sizeof err);
		json_decref(o);
		if (rc < 0) {
			answer_error(resp, req, rc, err, "saving the catalog");
			return;
		}
		if (catalog_write(c, NULL, NULL, &resp->body) < 0)
			buf_clear(&resp->body);
		api_send_json(resp, req, 200);
	} else {
		api_error(resp, req, 405, "method not allowed: use GET, PUT or POST");
	}
}

/* /api/v1/slos[/{id}[/status]]: the resource, plus each SLO's status. */
static void slos(struct alert_engine *e, struct slice rest, struct http_request *req, struct http_response *resp)
{
	static const char suffix[] = "/status";
	size_t sl = sizeof suffix - 1;
	if (rest.len <= 1 + sl || memcmp(rest.p + rest.len - sl, suffix, sl) != 0) {
		resource(&r_slos, e, rest, req, resp);
		return;
	}
	char id[ALERT_API_MAX_ID], err[512] = "";
	struct slice tail = slice_make(rest.p + 1, rest.len - 1 - sl);
	if (rest.p[0] != '/' || !path_id(tail, id, sizeof id)) {
		api_error(resp, req, 404, r_slos.bad_path);
		return;
	}
	if (!api_is_get(req)) {
		api_error(resp, req, 405, "method not allowed: use GET");
		return;
	}
	uint32_t limit = 100;
	struct slice lv;
	if (api_query_param(req, "limit", &lv) && lv.len) {
		char tmp[24];
		uint64_t n = 0;
		if (lv.len >= sizeof tmp) {
			api_error(resp, req, 400, "limit: expected a number of groups from 1 to 100000");
			return;
		}
		memcpy(tmp, lv.p, lv.len);
		tmp[lv.len] = 0;
		if (units_parse_u64(tmp, &n) < 0 || n < 1 || n > 100000) {
			api_error(resp, req, 400, "limit: expected a number of groups from 1 to 100000");
			return;
		}
		limit = (uint32_t)n;
	}
	struct json j;
	json_init(&j, &resp->body);
	int rc = alert_engine_slo_status(e, id, limit, 0, &j);
	if (rc < 0) {
		buf_clear(&resp->body);
		snprintf(err, sizeof err, "no SLO %s", id);
		answer_error(resp, req, rc, err, "the SLO");
		return;
	}
	api_send_json(resp, req, 200);
}

bool alert_api_handle(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct slice rest;
	enum { P_RULES, P_ALERTS, P_SILENCES, P_DELIVERIES, P_CATALOG, P_SLOS } which;
	if (api_path_rest(req->path, "/api/v1/alert-rules", &rest))
		which = P_RULES;
	else if (slice_eq_cstr(req->path, "/api/v1/alerts") || slice_eq_cstr(req->path, "/api/v1/alerts/"))
		which = P_ALERTS;
	else if (api_path_rest(req->path, "/api/v1/silences", &rest))
		which = P_SILENCES;
	else if (slice_eq_cstr(req->path, "/api/v1/alert-deliveries"))
		which = P_DELIVERIES;
	else if (api_path_rest(req->path, "/api/v1/catalog", &rest))
		which = P_CATALOG;
	else if (api_path_rest(req->path, "/api/v1/slos", &rest))
		which = P_SLOS;
	else
		return false;
	/* "/api/v1/alert-rulesX" and the like are other paths */
	if (which != P_ALERTS && which != P_DELIVERIES && rest.len && rest.p[0] != '/')
		return false;
	if (!q->alerts) {
		api_error(resp, req, 503, "alerting is not running on this server");
		return true;
	}
	switch (which) {
	case P_RULES:
		resource(&r_rules, q->alerts, rest, req, resp);
		break;
	case P_ALERTS:
		alerts(q->alerts, req, resp);
		break;
	case P_SILENCES:
		resource(&r_silences, q->alerts, rest, req, resp);
		break;
	case P_DELIVERIES:
		deliveries(q->alerts, req, resp);
		break;
	case P_CATALOG:
		catalog(q->alerts, rest, req, resp);
		break;
	case P_SLOS:
		slos(q->alerts, rest, req, resp);
		break;
	}
	return true;
}
