/* Routing of the native analysis endpoints to their modules. */
#include "api/analysis_api.h"

#include "base/slice.h"

bool analysis_api_handle(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	if (slice_eq_cstr(req->path, "/api/v1/correlations"))
		correlations_api_get(q, req, resp);
	else if (slice_eq_cstr(req->path, "/api/v1/compare"))
		compare_api_get(q, req, resp);
	else if (slice_eq_cstr(req->path, "/api/v1/critical-path"))
		critical_path_api_get(q, req, resp);
	else if (slice_eq_cstr(req->path, "/api/v1/service-graph"))
		service_graph_api_get(q, req, resp);
	else if (slice_eq_cstr(req->path, "/api/v1/errors"))
		errors_api_get(q, req, resp);
	else
		return false;
	return true;
}
