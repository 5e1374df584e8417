/* The alert engine: owns the rules (each with its streaming aggregate), the
 * instances, the silences, the catalog and the notifier; feeds accepted
 * batches to every rule's stream; an evaluator thread evaluates each rule
 * every interval and hands notifications to the notifier; and everything
 * is persisted under DATA_DIR/state (rules.json, silences.json,
 * catalog.json, alerts.json with instances, the notification sequence and
 * the outbox, deliveries.log). The API handlers call the functions below. */
#ifndef CLEW_ALERT_ALERT_ENGINE_H
#define CLEW_ALERT_ALERT_ENGINE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert/alert_notify.h"
#include "alert/catalog.h"
#include "base/json.h"
#include "ingest/span.h"

struct alert_engine;

struct alert_engine_options {
	const char *data_dir;	  /* state lives in data_dir/state; NULL = memory only */
	const char *public_url;	  /* links in notifications: "http://host:3200" */
	const char *catalog_file; /* merged into the catalog at open; may be NULL */
	uint32_t max_groups;	  /* per rule; 0 = ALERT_STREAM_DEFAULT_MAX_GROUPS */
	bool manual;		  /* no evaluator thread: the caller calls alert_engine_tick */
	struct alert_notifier_options notify; /* log_path, done and ctx are set by the engine */
	void *enrich_ctx; /* notify.enrich is called with this (not notify.ctx) */
};

/* Open the engine, loading the saved state. Owned by the caller
 * (alert_engine_close). NULL with *rc and err when the state is unreadable. */
struct alert_engine *alert_engine_open(const struct alert_engine_options *o, int *rc /* out */, char *err,
				       size_t errlen);

/* Stop the threads, save, free. */
void alert_engine_close(struct alert_engine *e);

/* Feed an accepted batch to every rule (any thread). */
void alert_engine_add_batch(struct alert_engine *e, const struct span_batch *b, int64_t now_ns);

/* Evaluate the rules due at now_ns (the evaluator thread calls this; tests
 * call it with a fake clock) and save what changed. */
void alert_engine_tick(struct alert_engine *e, int64_t now_ns);

/* Rules. put: id NULL creates (a new id), else replaces (CLEW_ENOTFOUND if
 * absent). The stored rule is written to out. 0, CLEW_EINVAL/EPARSE with
 * err, CLEW_ENOTFOUND, or an I/O error saving it. */
int alert_engine_put_rule(struct alert_engine *e, const char *id, const char *body, size_t len, struct json *out,
			  char *err, size_t errlen);
int alert_engine_delete_rule(struct alert_engine *e, const char *id);
int alert_engine_get_rule(struct alert_engine *e, const char *id, struct json *out);
void alert_engine_list_rules(struct alert_engine *e, struct json *out);

/* Instances: {"alerts": [...]}, filtered by rule id and state when given. */
void alert_engine_list_alerts(struct alert_engine *e, const char *rule_id, const char *state, struct json *out);

/* Silences. */
int alert_engine_put_silence(struct alert_engine *e, const char *body, size_t len, struct json *out, char *err,
			     size_t errlen);
int alert_engine_delete_silence(struct alert_engine *e, const char *id);
void alert_engine_list_silences(struct alert_engine *e, struct json *out);

/* The delivery log, newest first. */
void alert_engine_deliveries(struct alert_engine *e, uint32_t limit, struct json *out);

/* SLOs (src/alert/slo.h), kept in state/slos.json with their counters in
 * state/slo-<id>.counters. put: id NULL creates, else replaces (counters
 * kept when the query, by, good and window are unchanged); the stored SLO
 * is written to out. 0, CLEW_EINVAL/EPARSE with err naming the field,
 * CLEW_ENOTFOUND, CLEW_ELIMIT, or an I/O error saving it. */
int alert_engine_put_slo(struct alert_engine *e, const char *id, const char *body, size_t len, struct json *out,
			 char *err, size_t errlen);
int alert_engine_delete_slo(struct alert_engine *e, const char *id);
int alert_engine_get_slo(struct alert_engine *e, const char *id, struct json *out);

/* {"slos": [...]}: each SLO with "status" (its figures and burn rates). */
void alert_engine_list_slos(struct alert_engine *e, struct json *out);

/* The status of one SLO at now_ns (0 = the clock) with at most limit
 * groups (slo_write_status). 0 or CLEW_ENOTFOUND. */
int alert_engine_slo_status(struct alert_engine *e, const char *id, uint32_t limit, int64_t now_ns, struct json *out);

/* The catalog (owned by the engine). */
struct catalog *alert_engine_catalog(struct alert_engine *e);

/* Notifications queued or in flight; the next sequence number. */
uint32_t alert_engine_outbox(struct alert_engine *e);

#endif
