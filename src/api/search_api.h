/* The Tempo search APIs on the query port: /api/search (TraceQL `q` or the
 * legacy `tags` + minDuration/maxDuration form), /api/search/tags,
 * /api/v2/search/tags, /api/search/tag/{tag}/values and its v2 form. They
 * run the TraceQL executor (query/exec.h) over the store. */
#ifndef CLEW_API_SEARCH_API_H
#define CLEW_API_SEARCH_API_H

#include <stdbool.h>

#include "api/query_api.h"
#include "net/http.h"
#include "query/exec.h"
#include "store/store.h"

/* GET /api/search: matching traces newest first, Tempo's SearchResponse
 * JSON. Parse errors 400, metrics queries 400, budgets 413 / 504. */
void search_api_search(const struct query_api *q, struct http_request *req, struct http_response *resp);

/* GET /api/search/tags (v2 false: {"tagNames": [...]}) and
 * /api/v2/search/tags (v2 true: {"scopes": [...]}). */
void search_api_tags(const struct query_api *q, bool v2, struct http_request *req, struct http_response *resp);

/* GET /api/search/tag/{tag}/values and the v2 form; tag is the path rest
 * before "/values" (percent-encoded, possibly twice as Grafana sends it). */
void search_api_tag_values(const struct query_api *q, bool v2, struct slice tag, struct http_request *req,
			   struct http_response *resp);

/* The distinct values, as text, of the TraceQL field (an intrinsic or an
 * attribute reference such as "resource.service.name" or "name") over the
 * spans that match filter (a TraceQL spanset filter; empty for all), read
 * from the heads and the newest block pages within o's time range, bounded
 * as the tag values endpoints are. At most max values, in scan order, in
 * the request arena (*values). 0, CLEW_EINVAL for a field or filter that
 * does not parse, CLEW_ENOMEM, or a scan error. */
int search_api_field_values(struct store *store, struct http_request *req, const char *field, struct slice filter,
			    const struct exec_options *o, uint32_t max, struct slice **values, uint32_t *n);

/* If path is /api[/v2]/search/tag/{tag}/values, the tag part and true. */
bool search_api_tag_path(struct slice path, bool *v2, struct slice *tag);

#endif
