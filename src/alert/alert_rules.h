/* Alert rules: the rule model (a TraceQL metrics query, a condition with a
 * clear threshold for hysteresis, interval, for, range, re-notify interval,
 * severity, labels, grouping and notification targets), its JSON form as
 * the API and rules.json hold it, and validation with messages that say
 * what to fix. The streaming evaluator (alert_stream) and the engine
 * (alert_engine) sit on it; SLOs and dashboards may reuse the parser. */
#ifndef CLEW_ALERT_ALERT_RULES_H
#define CLEW_ALERT_ALERT_RULES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/json.h"

#define ALERT_MAX_NAME 200
#define ALERT_MAX_LABELS 32
#define ALERT_MAX_TARGETS 16
#define ALERT_MAX_URL 2048
#define ALERT_MIN_INTERVAL_NS (1LL * 1000000000LL)
/* 10 s: with `for` 0 a breach is notified within an interval plus the
 * root-cause enrichment (2 s per part), well under 30 s */
#define ALERT_DEFAULT_INTERVAL_NS (10LL * 1000000000LL)
#define ALERT_DEFAULT_RENOTIFY_NS (4LL * 3600 * 1000000000LL)
#define ALERT_MAX_RANGE_NS (24LL * 3600 * 1000000000LL)

enum alert_op { ALERT_OP_GT = 0, ALERT_OP_GTE, ALERT_OP_LT, ALERT_OP_LTE, ALERT_OP_EQ, ALERT_OP_NEQ };

enum alert_severity { ALERT_SEV_INFO = 0, ALERT_SEV_WARNING, ALERT_SEV_CRITICAL };

enum alert_target_type { ALERT_TARGET_WEBHOOK = 0, ALERT_TARGET_SLACK, ALERT_TARGET_PAGERDUTY };

/* Where a target's URL comes from: the rule itself, the owning team's
 * on-call channel or the account owner's channel (from the catalog). */
enum alert_route { ALERT_ROUTE_URL = 0, ALERT_ROUTE_TEAM, ALERT_ROUTE_ACCOUNT };

struct alert_label {
	char *key, *value;
};

struct alert_target {
	enum alert_target_type type;
	enum alert_route route;
	char *url;			   /* ALERT_ROUTE_URL; NULL otherwise */
	enum alert_severity min_severity; /* sent only for rules at least this severe */
	char *routing_key;		   /* PagerDuty integration key; may be NULL */
};

/* A rule. Every string is owned by the rule (alert_rule_free). */
struct alert_rule {
	char id[17]; /* 16 lowercase hex digits */
	char *name, *query;
	enum alert_op op;
	double threshold;
	double clear; /* hysteresis: a firing instance resolves only when the
			 value no longer breaches clear (== threshold if not given) */
	int64_t interval_ns, for_ns, range_ns, renotify_ns;
	enum alert_severity severity;
	struct alert_label *labels;
	uint32_t n_labels;
	struct alert_target *targets;
	uint32_t n_targets;
	/* group labels that make one notification; NULL with group_all set:
	 * every by() label (one notification per instance) */
	char **group_by;
	uint32_t n_group_by;
	bool group_all;
	bool enabled;
	int64_t created_ns, updated_ns;
};

/* Parse and validate a rule from JSON object o into *r (zeroed first; free
 * with alert_rule_free even on failure). The query must parse as a TraceQL
 * metrics query the streaming evaluator can run. Missing optional fields get
 * defaults (interval 30s, for 0, range = max(interval, 1m), renotify 4h,
 * severity warning). 0, or CLEW_EINVAL with a message in err naming the
 * field. The id is taken from o if present and valid, else left empty. */
int alert_rule_from_json(json_t *o, struct alert_rule *r, char *err, size_t errlen);

/* text as one JSON value, duplicate keys refused (the caller owns it:
 * json_decref), or NULL with "the body is not valid JSON: ..." and the line
 * and column in err. For the parsers of the alert layer's documents. */
json_t *alert_json_load(const char *text, size_t len, char *err, size_t errlen);

/* As alert_rule_from_json, from JSON text. CLEW_EPARSE for bad JSON. */
int alert_rule_parse(const char *text, size_t len, struct alert_rule *r, char *err, size_t errlen);

/* Write r as the API's JSON object (durations as "30s" strings). */
void alert_rule_write_json(struct json *j, const struct alert_rule *r);

/* A deep copy of src into dst. 0 or CLEW_ENOMEM. */
int alert_rule_copy(struct alert_rule *dst, const struct alert_rule *src);

void alert_rule_free(struct alert_rule *r);

/* A fresh random id (16 hex digits, NUL-terminated) into out. */
void alert_new_id(char out[17]);

/* True if value breaches `value op threshold`; NaN never breaches. */
bool alert_breaches(enum alert_op op, double value, double threshold);

/* Names: ">", "critical", "webhook", "team" ... Never NULL. */
const char *alert_op_name(enum alert_op op);
const char *alert_severity_name(enum alert_severity s);
const char *alert_target_type_name(enum alert_target_type t);
const char *alert_route_name(enum alert_route r);

/* A duration as the shortest exact "1h30m" / "30s" / "250ms" / "1500us" text
 * into out (units_parse_duration_ns reads it back). */
void alert_format_duration(int64_t ns, char *out, size_t cap);

/* The value of label key in r's labels, or NULL. */
const char *alert_rule_label(const struct alert_rule *r, const char *key);

#endif
