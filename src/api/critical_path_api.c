/* GET /api/v1/critical-path: the critical path analysis over the HTTP API. */
#include "api/analysis_api.h"
#include "api/api_util.h"

void critical_path_api_get(struct query_api *q, struct http_request *req, struct http_response *resp)
{
	(void)q;
	api_error(resp, req, 501, "not implemented yet");
}
