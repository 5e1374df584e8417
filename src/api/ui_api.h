/* The web UI on the query port: the files `make ui` builds into build/ui,
 * served at / with index.html for every other non-API path, so that deep
 * links (/trace/<id>, /explore?q=..., /service/<name>) open the same view.
 * Called by the query router after every API route has declined. */
#ifndef CLEW_API_UI_API_H
#define CLEW_API_UI_API_H

#include <stdbool.h>

#include "api/query_api.h"
#include "net/http.h"

/* The directory of the built UI (clew serve --ui-dir). NULL selects the
 * default: ../ui beside the running binary (build/ui for build/release/clew).
 * Copied; call once at start-up, before the server runs. 0, or CLEW_EINVAL
 * when dir is too long. */
int ui_api_set_dir(const char *dir);

/* The directory ui_api_set_dir chose (a static string). */
const char *ui_api_dir(void);

/* Answer a GET or HEAD for a UI path: a built file with its content type,
 * ETag and Cache-Control (gzip when the client accepts it), index.html for
 * an application route, 404 for a missing asset or a path that leaves the
 * directory, and a page saying how to build the UI when it is not built.
 * Returns false, leaving resp alone, for API paths (/api/, /jaeger/,
 * /zipkin/ ...), so that the router answers its own 404. */
bool ui_api_handle(struct query_api *q, struct http_request *req, struct http_response *resp);

#endif
