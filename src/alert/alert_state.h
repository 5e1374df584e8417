/* Alert instances and silences: the per-group state machine (inactive ->
 * pending -> firing -> resolved, with `for`, a clear threshold for
 * hysteresis, re-notification and silences), silence matching and expiry,
 * and the durable file replacement every piece of alert state is saved
 * with. Pure functions of their inputs and a clock value, so tests drive
 * them with a fake clock; alert_engine holds the instances. */
#ifndef CLEW_ALERT_ALERT_STATE_H
#define CLEW_ALERT_ALERT_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/alert_rules.h"

enum alert_istate { ALERT_INACTIVE = 0, ALERT_PENDING, ALERT_FIRING, ALERT_RESOLVED };

/* What a step asks to send. */
enum alert_action { ALERT_ACT_NONE = 0, ALERT_ACT_FIRE, ALERT_ACT_RENOTIFY, ALERT_ACT_RESOLVE };

struct alert_instance {
	enum alert_istate state;
	int64_t pending_since_ns, fired_ns, resolved_ns, last_notify_ns, last_eval_ns;
	double value;
	bool notified; /* the firing notification of this episode was sent */
};

/* Advance in by one evaluation at now_ns: has_value says the group had
 * data in the window (no data counts as healthy). Transitions:
 *   inactive/resolved --breach--> pending --breach for `for`--> firing
 *   pending --no breach--> inactive
 *   firing --value no longer breaches `clear`--> resolved
 * A firing instance notifies once (FIRE), again every renotify interval
 * (RENOTIFY), and once when it resolves (RESOLVE) if its firing was sent.
 * A silenced instance changes state but sends nothing; when the silence
 * ends while it fires, the next step sends FIRE. */
enum alert_action alert_instance_step(struct alert_instance *in, const struct alert_rule *r, bool has_value,
				      double value, bool silenced, int64_t now_ns);

const char *alert_istate_name(enum alert_istate s);

#define ALERT_MAX_MATCHERS 16

/* A silence: every matcher must equal the instance's label (a by() label,
 * a rule label, or "rule" = the rule's name, "ruleId", "severity"). */
struct alert_silence {
	char id[17];
	struct alert_label matchers[ALERT_MAX_MATCHERS];
	uint32_t n_matchers;
	int64_t starts_ns, ends_ns;
	char *comment, *created_by;
};

/* Parse a silence ({"matchers": {"span.customer.id": "acme", ...},
 * "endsAt": unix seconds | "expiresIn": "2h", "startsAt": ..., "comment":
 * ..., "createdBy": ...}) at now_ns. 0 or CLEW_EINVAL with err. Free with
 * alert_silence_free. */
int alert_silence_from_json(json_t *o, int64_t now_ns, struct alert_silence *s, char *err, size_t errlen);
void alert_silence_write_json(struct json *j, const struct alert_silence *s, int64_t now_ns);
void alert_silence_free(struct alert_silence *s);

/* True if s is active at now_ns and matches the instance of rule r with
 * by() labels names[i] = values[i]. */
bool alert_silence_matches(const struct alert_silence *s, const struct alert_rule *r, const char *const *names,
			   const char *const *values, uint32_t n, int64_t now_ns);

/* Replace the file at path with len bytes of p durably: write a temporary
 * file beside it, fsync, rename over path, fsync the directory. 0 or
 * -errno; on failure the old file is intact. */
int alert_write_durable(const char *path, const void *p, size_t len);

#endif
