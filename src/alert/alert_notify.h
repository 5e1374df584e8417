/* Alert notifications: a libcurl worker thread that sends each queued
 * notification to its webhook in one of three formats (clew's generic JSON,
 * Slack-compatible, PagerDuty Events v2-compatible), many transfers at once
 * so a slow or dead receiver delays nobody else, retrying failures with
 * exponential backoff, and keeping a delivery log (in memory for the API,
 * appended to deliveries.log for the record). Evaluation only enqueues. */
#ifndef CLEW_ALERT_ALERT_NOTIFY_H
#define CLEW_ALERT_ALERT_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert/alert_rules.h"
#include "base/buf.h"
#include "base/json.h"

struct alert_notifier;

struct alert_notifier_options {
	const char *log_path;	 /* deliveries.log; NULL = none */
	uint64_t log_max_bytes;	 /* past this the log keeps its newest quarter; 0 = 8 MiB */
	int64_t timeout_ns;	 /* per attempt; 0 = 10 s */
	int64_t backoff_ns;	 /* first retry after this; doubles; 0 = 1 s */
	int64_t backoff_max_ns;	 /* 0 = 5 min */
	uint32_t max_attempts;	 /* then it is given up and logged failed; 0 = 12 */
	/* Called from the worker before a firing notification's first attempt
	 * to fill in what takes a store scan (root cause, critical path); may
	 * be NULL. It edits the generic payload in place. */
	void (*enrich)(void *ctx, json_t *payload);
	/* Called from the worker when a notification is done: sent (ok) or
	 * given up. */
	void (*done)(void *ctx, uint64_t seq, bool ok);
	void *ctx;
};

/* A notifier (owned by the caller: alert_notifier_free). Starts its
 * thread at once. NULL when curl cannot be set up. */
struct alert_notifier *alert_notifier_new(const struct alert_notifier_options *o);

/* Stop the thread (transfers in flight are abandoned: they stay pending in
 * the caller's outbox and are sent again after a restart) and free. */
void alert_notifier_free(struct alert_notifier *n);

/* Queue notification seq for url, payload being the generic JSON text
 * (copied). Never blocks on the network. */
void alert_notifier_enqueue(struct alert_notifier *n, uint64_t seq, enum alert_target_type type, const char *url,
			    const char *routing_key /* PagerDuty; may be NULL */, const char *payload);

/* Queued or in-flight notifications. */
uint32_t alert_notifier_pending(struct alert_notifier *n);

/* The newest deliveries (at most limit) as a JSON array: seq, time, url,
 * type, status (sent|retrying|failed), attempt, httpStatus, error. The
 * newest 1,000 of the delivery log's are loaded when the notifier starts,
 * so a restart keeps them. */
void alert_notifier_write_log(struct alert_notifier *n, struct json *j, uint32_t limit);

/* The body sent to a target of type t for the generic payload p, into out.
 * Slack: {"text": ..., "attachments": [...]}; PagerDuty: an Events v2
 * trigger or resolve with dedup_key = rule and group. 0 or CLEW_EINVAL. */
int alert_format_body(enum alert_target_type t, json_t *p, const char *routing_key, struct buf *out);

/* Cut the delivery log at log_path to its newest keep_bytes at the most,
 * from a line's start, replacing the file durably (alert_write_durable: a
 * crash leaves the old log or the new one whole). 0 (a missing file is 0)
 * or -errno. */
int alert_notify_log_trim(const char *log_path, size_t keep_bytes);

/* The seqs of deliveries.log that were sent (for a restart), into a
 * malloc'd sorted array (caller frees). 0 or -errno (a missing file is 0
 * with none). */
int alert_notify_read_sent(const char *log_path, uint64_t **seqs /* out */, size_t *n /* out */);

#endif
