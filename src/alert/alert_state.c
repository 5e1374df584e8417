/* Alert instance state machine and silences (see alert_state.h).
 *
 * Design notes. An instance's state changes only in alert_instance_step:
 * INACTIVE -> PENDING when the value breaches the threshold; PENDING ->
 * FIRING once it has breached for `for`; PENDING -> INACTIVE when it stops;
 * FIRING -> RESOLVED when the value no longer breaches the clear threshold
 * (hysteresis: a value between clear and threshold keeps it firing);
 * RESOLVED -> PENDING on a new breach. Invariant: `notified` is true only
 * while FIRING, and RESOLVE is asked for only when it was true. */
#include "alert/alert_state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/units.h"
#include "store/fileops.h"

const char *alert_istate_name(enum alert_istate s)
{
	static const char *const names[] = {"inactive", "pending", "firing", "resolved"};
	return (unsigned)s < 4 ? names[s] : "?";
}

enum alert_action alert_instance_step(struct alert_instance *in, const struct alert_rule *r, bool has_value,
				      double value, bool silenced, int64_t now_ns)
{
	bool breach = has_value && alert_breaches(r->op, value, r->threshold);
	bool still = has_value && alert_breaches(r->op, value, r->clear);
	in->last_eval_ns = now_ns;
	if (has_value)
		in->value = value;
	switch (in->state) {
	case ALERT_INACTIVE:
	case ALERT_RESOLVED:
		if (!breach)
			return ALERT_ACT_NONE;
		in->state = ALERT_PENDING;
		in->pending_since_ns = now_ns;
		__attribute__((fallthrough)); /* `for` may be 0 */
	case ALERT_PENDING:
		if (!breach) {
			in->state = ALERT_INACTIVE;
			return ALERT_ACT_NONE;
		}
		if (now_ns - in->pending_since_ns < r->for_ns)
			return ALERT_ACT_NONE;
		in->state = ALERT_FIRING;
		in->fired_ns = now_ns;
		in->notified = false;
		__attribute__((fallthrough)); /* notify unless silenced */
	case ALERT_FIRING:
		if (!still && in->fired_ns != now_ns) {
			bool was = in->notified;
			in->state = ALERT_RESOLVED;
			in->resolved_ns = now_ns;
			in->notified = false;
			return was && !silenced ? ALERT_ACT_RESOLVE : ALERT_ACT_NONE;
		}
		if (silenced)
			return ALERT_ACT_NONE;
		if (!in->notified) {
			in->notified = true;
			in->last_notify_ns = now_ns;
			return ALERT_ACT_FIRE;
		}
		if (r->renotify_ns > 0 && now_ns - in->last_notify_ns >= r->renotify_ns) {
			in->last_notify_ns = now_ns;
			return ALERT_ACT_RENOTIFY;
		}
		return ALERT_ACT_NONE;
	}
	return ALERT_ACT_NONE;
}

/* Unix seconds from 0 to this fit an int64_t in nanoseconds (year 2262). */
#define MAX_UNIX_S 9200000000LL

static int64_t time_field(json_t *v, bool *ok)
{
	*ok = true;
	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < MAX_UNIX_S)
		return (int64_t)json_integer_value(v) * 1000000000LL;
	/* to the microsecond: what alert_silence_write_json writes (whole
	 * milliseconds) reads back exactly */
	if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < (double)MAX_UNIX_S)
		return (int64_t)llround(json_real_value(v) * 1e6) * 1000;
	if (json_is_string(v)) {
		int64_t ns;
		if (units_parse_rfc3339_ns(slice_cstr(json_string_value(v)), &ns) && ns >= 0)
			return ns;
	}
	*ok = false;
	return 0;
}

void alert_silence_free(struct alert_silence *s)
{
	for (uint32_t i = 0; i < s->n_matchers; i++) {
		free(s->matchers[i].key);
		free(s->matchers[i].value);
	}
	free(s->comment);
	free(s->created_by);
	memset(s, 0, sizeof *s);
}

int alert_silence_from_json(json_t *o, int64_t now_ns, struct alert_silence *s, char *err, size_t errlen)
{
	memset(s, 0, sizeof *s);
	if (!json_is_object(o)) {
		snprintf(err, errlen, "a silence must be a JSON object");
		return CLEW_EINVAL;
	}
	json_t *m = json_object_get(o, "matchers");
	if (!json_is_object(m) || json_object_size(m) == 0 || json_object_size(m) > ALERT_MAX_MATCHERS) {
		snprintf(err, errlen, "\"matchers\" must be an object of 1 to %d label: value pairs, e.g. "
				      "{\"span.customer.id\": \"acme\"}",
			 ALERT_MAX_MATCHERS);
		return CLEW_EINVAL;
	}
	const char *k;
	json_t *v;
	json_object_foreach (m, k, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "matchers.%.100s must be a string", k);
			alert_silence_free(s);
			return CLEW_EINVAL;
		}
		s->matchers[s->n_matchers].key = xstrdup(k);
		s->matchers[s->n_matchers++].value = xstrdup(json_string_value(v));
	}
	bool ok = true;
	json_t *st = json_object_get(o, "startsAt"), *en = json_object_get(o, "endsAt"),
	       *ex = json_object_get(o, "expiresIn");
	s->starts_ns = st ? time_field(st, &ok) : now_ns;
	if (!ok) {
		snprintf(err, errlen, "\"startsAt\" must be Unix seconds or an RFC 3339 time");
		goto bad;
	}
	if (en) {
		s->ends_ns = time_field(en, &ok);
		if (!ok) {
			snprintf(err, errlen, "\"endsAt\" must be Unix seconds or an RFC 3339 time");
			goto bad;
		}
	} else if (json_is_string(ex)) {
		int64_t d;
		if (units_parse_duration_ns(json_string_value(ex), &d) < 0 || d <= 0 || d > INT64_MAX - s->starts_ns) {
			snprintf(err, errlen, "\"expiresIn\" must be a duration such as \"2h\"");
			goto bad;
		}
		s->ends_ns = s->starts_ns + d;
	} else {
		snprintf(err, errlen, "a silence needs an expiry: \"endsAt\" (Unix seconds) or \"expiresIn\" (\"2h\")");
		goto bad;
	}
	if (s->ends_ns <= s->starts_ns) {
		snprintf(err, errlen, "the silence ends before it starts");
		goto bad;
	}
	/* shorter would not survive its own save (times kept to the millisecond) */
	if (s->ends_ns - s->starts_ns < 1000000000LL) {
		snprintf(err, errlen, "a silence lasts at least 1s");
		goto bad;
	}
	json_t *c = json_object_get(o, "comment"), *by = json_object_get(o, "createdBy"), *id = json_object_get(o, "id");
	s->comment = xstrdup(json_is_string(c) ? json_string_value(c) : "");
	s->created_by = xstrdup(json_is_string(by) ? json_string_value(by) : "");
	if (json_is_string(id) && strlen(json_string_value(id)) == 16)
		memcpy(s->id, json_string_value(id), 17);
	return 0;
bad:
	alert_silence_free(s);
	return CLEW_EINVAL;
}

void alert_silence_write_json(struct json *j, const struct alert_silence *s, int64_t now_ns)
{
	json_obj_begin(j);
	json_key(j, "id");
	json_cstr(j, s->id);
	json_key(j, "matchers");
	json_obj_begin(j);
	for (uint32_t i = 0; i < s->n_matchers; i++) {
		json_key(j, s->matchers[i].key);
		json_cstr(j, s->matchers[i].value);
	}
	json_obj_end(j);
	/* whole milliseconds, so that a save and a load give the same times */
	json_key(j, "startsAt");
	json_double(j, (double)(s->starts_ns / 1000000) / 1e3);
	json_key(j, "endsAt");
	json_double(j, (double)(s->ends_ns / 1000000) / 1e3);
	json_key(j, "active");
	json_bool(j, now_ns >= s->starts_ns && now_ns < s->ends_ns);
	json_key(j, "comment");
	json_cstr(j, s->comment ? s->comment : "");
	json_key(j, "createdBy");
	json_cstr(j, s->created_by ? s->created_by : "");
	json_obj_end(j);
}

bool alert_silence_matches(const struct alert_silence *s, const struct alert_rule *r, const char *const *names,
			   const char *const *values, uint32_t n, int64_t now_ns)
{
	if (now_ns < s->starts_ns || now_ns >= s->ends_ns)
		return false;
	for (uint32_t i = 0; i < s->n_matchers; i++) {
		const char *k = s->matchers[i].key, *want = s->matchers[i].value, *have = NULL;
		if (strcmp(k, "rule") == 0)
			have = r->name;
		else if (strcmp(k, "ruleId") == 0)
			have = r->id;
		else if (strcmp(k, "severity") == 0)
			have = alert_severity_name(r->severity);
		for (uint32_t l = 0; !have && l < n; l++)
			if (strcmp(names[l], k) == 0)
				have = values[l];
		if (!have)
			have = alert_rule_label(r, k);
		if (!have || strcmp(have, want) != 0)
			return false;
	}
	return true;
}

int alert_write_durable(const char *path, const void *p, size_t len)
{
	struct fileops *ops = fileops_posix();
	char tmp[4096], dir[4096];
	int rc;
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp ||
	    (size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir)
		return -ENAMETOOLONG;
	int fd = ops->open(ops, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fd;
	if ((rc = fileops_write_all(ops, fd, p, len, 0)) < 0 || (rc = ops->fsync(ops, fd)) < 0) {
		ops->close(ops, fd);
		ops->unlink(ops, tmp);
		return rc;
	}
	if ((rc = ops->close(ops, fd)) < 0 || (rc = ops->rename(ops, tmp, path)) < 0) {
		ops->unlink(ops, tmp);
		return rc;
	}
	return ops->fsync_dir(ops, dirname(dir));
}
