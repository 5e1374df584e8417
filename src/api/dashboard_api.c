/* The dashboard endpoints (see dashboard_api.h). The store validates,
 * versions and saves; this file maps paths and methods to it and its
 * errors to statuses: 400 for a refused document (naming the field), 404,
 * 409 for a stale version or a taken id, 413 for a body over the limit. */
#include "api/dashboard_api.h"

#include <stdio.h>
#include <string.h>

#include "alert/dashboard_store.h"
#include "api/api_util.h"
#include "base/err.h"
#include "base/json.h"

/* The id in the path into out; false unless it is 1 to DASHBOARD_MAX_ID
 * letters, digits, '-' or '_' (the only ids the store makes or takes). */
static bool path_id(struct slice s, char *out, size_t cap)
{
	if (s.len == 0 || s.len > DASHBOARD_MAX_ID || s.len >= cap)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		uint8_t c = s.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		out[i] = (char)c;
	}
	out[s.len] = 0;
	return true;
}

/* The body must be identity-encoded JSON text within the size limit.
 * false after answering. */
static bool body_ok(struct http_request *req, struct http_response *resp)
{
	if (!api_body_present(req, resp, "the request needs a JSON body: a dashboard {\"title\", \"variables\", \"panels\"}"))
		return false;
	if (req->body.len > DASHBOARD_MAX_BYTES) {
		char msg[160];
		snprintf(msg, sizeof msg, "the dashboard is %zu bytes; at most %d are kept", req->body.len,
			 DASHBOARD_MAX_BYTES);
		api_error(resp, req, 413, msg);
		return false;
	}
	return true;
}

/* Answer a refused change: the native error shape plus where it was. */
static void answer_error(struct http_response *resp, struct http_request *req, int rc, const struct dashboard_error *e,
			 const char *id)
{
	int status = 500;
	if (rc == CLEW_EINVAL || rc == CLEW_EPARSE)
		status = 400;
	else if (rc == CLEW_ENOTFOUND)
		status = 404;
	else if (rc == CLEW_ESTATE || rc == CLEW_ELIMIT)
		status = 409;
	char msg[700];
	if (status == 404)
		snprintf(msg, sizeof msg, "no dashboard %s", id ? id : "");
	else if (e->msg[0])
		snprintf(msg, sizeof msg, "%s", e->msg);
	else
		snprintf(msg, sizeof msg, "saving the dashboard failed: %s", err_str(rc));
	struct json j;
	api_error_begin(&j, resp, req, status, msg);
	if (status != 404 && e->field[0]) {
		json_key(&j, "field");
		json_cstr(&j, e->field);
	}
	if (status == 400 && e->panel[0]) {
		json_key(&j, "panel");
		json_cstr(&j, e->panel);
	}
	if (status == 400 && e->line) {
		json_key(&j, "position");
		json_obj_begin(&j);
		json_key(&j, "line");
		json_uint(&j, e->line);
		json_key(&j, "col");
		json_uint(&j, e->col);
		json_key(&j, "offset");
		json_uint(&j, e->off);
		json_obj_end(&j);
	}
	api_error_end(&j);
}

static void collection(struct dashboard_store *s, struct http_request *req, struct http_response *resp)
{
	struct dashboard_error e = {0};
	if (api_is_get(req)) {
		dashboard_store_list(s, &resp->body);
		api_send_json(resp, req, 200);
	} else if (api_method_is(req, "POST")) {
		if (!body_ok(req, resp))
			return;
		int rc = dashboard_store_create(s, (const char *)req->body.p, req->body.len, &resp->body, &e);
		if (rc < 0) {
			answer_error(resp, req, rc, &e, NULL);
			return;
		}
		api_send_json(resp, req, 201);
	} else {
		api_error(resp, req, 405, "method not allowed: use GET or POST");
	}
}

static void one(struct dashboard_store *s, const char *id, struct http_request *req, struct http_response *resp)
{
	struct dashboard_error e = {0};
	int rc;
	if (api_is_get(req)) {
		if ((rc = dashboard_store_get(s, id, &resp->body)) < 0) {
			answer_error(resp, req, rc, &e, id);
			return;
		}
		api_send_json(resp, req, 200);
	} else if (api_method_is(req, "PUT")) {
		if (!body_ok(req, resp))
			return;
		if ((rc = dashboard_store_put(s, id, (const char *)req->body.p, req->body.len, &resp->body, &e)) < 0) {
			answer_error(resp, req, rc, &e, id);
			return;
		}
		api_send_json(resp, req, 200);
	} else if (api_method_is(req, "DELETE")) {
		if ((rc = dashboard_store_delete(s, id)) < 0) {
			answer_error(resp, req, rc, &e, id);
			return;
		}
		http_response_text(resp, req, 204, "application/json", SLICE_LIT(""));
	} else {
		api_error(resp, req, 405, "method not allowed: use GET, PUT or DELETE");
	}
}

bool dashboard_api_handle(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	struct slice rest;
	if (!api_path_rest(req->path, "/api/v1/dashboards", &rest))
		return false;
	if (rest.len && rest.p[0] != '/')
		return false; /* /api/v1/dashboardsX is someone else's path */
	if (!q->dashboards) {
		api_error(resp, req, 503, "dashboards are not available on this server");
		return true;
	}
	if (rest.len == 0 || slice_eq_cstr(rest, "/")) {
		collection(q->dashboards, req, resp);
		return true;
	}
	char id[DASHBOARD_MAX_ID + 1];
	if (!path_id(slice_make(rest.p + 1, rest.len - 1), id, sizeof id)) {
		api_error(resp, req, 404, "not found: the path is /api/v1/dashboards/{id}");
		return true;
	}
	one(q->dashboards, id, req, resp);
	return true;
}
