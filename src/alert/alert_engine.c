/* The alert engine (see alert_engine.h).
 *
 * Design notes. One rwlock guards rules, instances, silences and the
 * outbox: ingest takes it shared (each stream has its own lock), the API,
 * the evaluator and the notifier's completions take it exclusive. At-least-
 * once delivery: a notification is put in the outbox and alerts.json (with
 * the instance state that caused it) is written durably before it is handed
 * to the notifier; the notifier appends "sent" to deliveries.log (fsync)
 * after a 2xx, and the engine drops it from the outbox. After a crash, the
 * outbox minus the seqs deliveries.log says were sent is sent again: at
 * most the notifications in flight at the crash are duplicated, none lost.
 * SLOs live beside the rules: each burn alert of an SLO is a rule_ent (not
 * in rules[], so the rule API does not see it) whose instances are the
 * SLO's groups: state, silences, the outbox and delivery are shared. Their
 * counters are snapshotted to slo-<id>.counters at most a minute apart. */
#include "alert/alert_engine.h"
#include "alert/alert_int.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert/alert_state.h"
#include "alert/alert_stream.h"
#include "alert/slo.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/codec.h"
#include "base/err.h"
#include "base/hash.h"
#include "base/log.h"

#define MAX_RULES 10000
#define MAX_SILENCES 10000
#define RESOLVED_KEEP_NS (15LL * 60 * 1000000000LL)
#define MAX_GROUP_ALERTS 100
#define SLO_SNAPSHOT_NS (60LL * 1000000000LL)


char *alert_eng_path(struct alert_engine *e, const char *name)
{
	if (!e->dir)
		return NULL;
	size_t n = strlen(e->dir) + strlen(name) + 2;
	char *p = xmalloc(n);
	snprintf(p, n, "%s/%s", e->dir, name);
	return p;
}

/* ---- persistence ---- */

int alert_eng_save_json(struct alert_engine *e, const char *name, struct buf *b)
{
	if (!e->dir)
		return 0;
	if (b->err)
		return b->err;
	char *p = alert_eng_path(e, name);
	int rc = alert_write_durable(p, b->p, b->len);
	if (rc < 0)
		log_error("alerts: could not save %s: %s", p, err_str(rc));
	free(p);
	return rc;
}

static int save_rules(struct alert_engine *e)
{
	struct buf b;
	buf_init(&b, (size_t)1 << 30);
	struct json j;
	json_init(&j, &b);
	json_arr_begin(&j);
	for (uint32_t i = 0; i < e->n_rules; i++)
		alert_rule_write_json(&j, &e->rules[i]->r);
	json_arr_end(&j);
	int rc = alert_eng_save_json(e, "rules.json", &b);
	buf_free(&b);
	return rc;
}

static int save_silences(struct alert_engine *e)
{
	struct buf b;
	buf_init(&b, (size_t)1 << 30);
	struct json j;
	json_init(&j, &b);
	json_arr_begin(&j);
	for (uint32_t i = 0; i < e->n_silences; i++)
		alert_silence_write_json(&j, &e->silences[i], clock_now_unix_ns());
	json_arr_end(&j);
	int rc = alert_eng_save_json(e, "silences.json", &b);
	buf_free(&b);
	return rc;
}

static void write_instance(struct json *j, const struct rule_ent *re, const struct inst *in, bool full)
{
	json_obj_begin(j);
	json_key(j, "ruleId");
	json_cstr(j, re->r.id);
	json_key(j, "rule");
	json_cstr(j, re->r.name);
	json_key(j, "key");
	json_cstr(j, in->key);
	json_key(j, "labels");
	json_obj_begin(j);
	for (uint32_t k = 0; k < in->n; k++) {
		json_key(j, in->names[k]);
		json_cstr(j, in->values[k]);
	}
	json_obj_end(j);
	json_key(j, "state");
	json_cstr(j, alert_istate_name(in->st.state));
	json_key(j, "value");
	json_double(j, in->st.value);
	json_key(j, "pendingSinceNs");
	json_int(j, in->st.pending_since_ns);
	json_key(j, "firedNs");
	json_int(j, in->st.fired_ns);
	json_key(j, "resolvedNs");
	json_int(j, in->st.resolved_ns);
	json_key(j, "lastNotifyNs");
	json_int(j, in->st.last_notify_ns);
	json_key(j, "notified");
	json_bool(j, in->st.notified);
	json_key(j, "service");
	json_cstr(j, in->service);
	json_key(j, "team");
	json_cstr(j, in->team);
	if (re->slo) {
		json_key(j, "sloAlert");
		json_uint(j, re->slo_alert);
		json_key(j, "slo");
		json_obj_begin(j);
		json_key(j, "id");
		json_cstr(j, re->slo->d.id);
		json_key(j, "factor");
		json_double(j, re->r.threshold);
		json_key(j, "longRate");
		json_double(j, in->slo_long);
		json_key(j, "shortRate");
		json_double(j, in->slo_short);
		json_key(j, "budgetRemaining");
		json_double(j, in->slo_budget);
		json_obj_end(j);
	}
	if (full) {
		json_key(j, "severity");
		json_cstr(j, alert_severity_name(re->r.severity));
		json_key(j, "threshold");
		json_double(j, re->r.threshold);
		json_key(j, "exampleTraceIds");
		json_arr_begin(j);
		for (uint32_t k = 0; k < in->n_examples; k++)
			json_hex(j, in->examples[k], 16);
		json_arr_end(j);
	}
	json_obj_end(j);
}

static int save_alerts(struct alert_engine *e)
{
	struct buf b;
	buf_init(&b, (size_t)1 << 31);
	struct json j;
	json_init(&j, &b);
	json_obj_begin(&j);
	json_key(&j, "nextSeq");
	json_uint(&j, e->next_seq);
	json_key(&j, "instances");
	json_arr_begin(&j);
	for (uint32_t i = 0; i < e->n_rules; i++)
		for (uint32_t k = 0; k < e->rules[i]->n_insts; k++)
			write_instance(&j, e->rules[i], e->rules[i]->insts[k], false);
	for (uint32_t i = 0; i < e->n_slos; i++)
		for (uint32_t a = 0; a < e->slos[i]->d.n_alerts; a++)
			for (uint32_t k = 0; k < e->slos[i]->alerts[a]->n_insts; k++)
				write_instance(&j, e->slos[i]->alerts[a], e->slos[i]->alerts[a]->insts[k], false);
	json_arr_end(&j);
	json_key(&j, "outbox");
	json_arr_begin(&j);
	for (uint32_t i = 0; i < e->n_outbox; i++) {
		const struct outbox_ent *ob = &e->outbox[i];
		json_obj_begin(&j);
		json_key(&j, "seq");
		json_uint(&j, ob->seq);
		json_key(&j, "type");
		json_cstr(&j, alert_target_type_name(ob->type));
		json_key(&j, "url");
		json_cstr(&j, ob->url);
		if (ob->routing_key) {
			json_key(&j, "routingKey");
			json_cstr(&j, ob->routing_key);
		}
		json_key(&j, "payload");
		json_cstr(&j, ob->payload);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	int rc = alert_eng_save_json(e, "alerts.json", &b);
	buf_free(&b);
	if (rc == 0)
		e->dirty = false;
	return rc;
}

json_t *alert_eng_load_file(struct alert_engine *e, const char *name, int *rc, char *err, size_t errlen)
{
	*rc = 0;
	char *p = alert_eng_path(e, name);
	if (!p)
		return NULL;
	json_error_t je;
	json_t *d = NULL;
	FILE *f = fopen(p, "rb");
	if (f) {
		d = json_loadf(f, 0, &je);
		fclose(f);
		if (!d) {
			snprintf(err, errlen, "%s: line %d: %s", p, je.line, je.text);
			*rc = CLEW_ECORRUPT;
		}
	} else if (errno != ENOENT) {
		*rc = -errno;
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
	}
	free(p);
	return d;
}

/* ---- instances ---- */

static void idx_put(struct rule_ent *re, struct inst *in)
{
	uint32_t h = (uint32_t)in->hash & re->idx_mask;
	while (re->idx[h])
		h = (h + 1) & re->idx_mask;
	re->idx[h] = in;
}

/* Rebuild the index with room for twice the instances. */
static void idx_rebuild(struct rule_ent *re)
{
	uint32_t cap = 64;
	while (cap < 2 * (uint64_t)re->n_insts + 2)
		cap *= 2;
	free(re->idx);
	re->idx = xcalloc(cap, sizeof *re->idx);
	re->idx_mask = cap - 1;
	re->idx_stale = false;
	for (uint32_t i = 0; i < re->n_insts; i++)
		idx_put(re, re->insts[i]);
}

struct inst *alert_eng_inst_find(struct rule_ent *re, const char *key)
{
	if (!re->idx || re->idx_stale)
		idx_rebuild(re);
	uint64_t hv = hash64(key, strlen(key));
	for (uint32_t h = (uint32_t)hv & re->idx_mask; re->idx[h]; h = (h + 1) & re->idx_mask)
		if (re->idx[h]->hash == hv && strcmp(re->idx[h]->key, key) == 0)
			return re->idx[h];
	return NULL;
}

struct inst *alert_eng_inst_add(struct rule_ent *re, const char *key, const char *const *names,
			     const char *const *values, uint32_t n)
{
	struct inst *in = xcalloc(1, sizeof *in);
	in->key = xstrdup(key);
	in->hash = hash64(key, strlen(key));
	in->n = n;
	in->names = xcalloc(n + 1, sizeof *in->names);
	in->values = xcalloc(n + 1, sizeof *in->values);
	for (uint32_t k = 0; k < n; k++) {
		in->names[k] = xstrdup(names[k]);
		in->values[k] = xstrdup(values[k]);
	}
	if (re->n_insts == re->cap_insts) {
		re->cap_insts = re->cap_insts ? re->cap_insts * 2 : 16;
		re->insts = xrealloc(re->insts, re->cap_insts * sizeof *re->insts);
	}
	re->insts[re->n_insts++] = in;
	if (re->idx && !re->idx_stale) {
		if (2 * (uint64_t)re->n_insts + 2 > (uint64_t)re->idx_mask + 1)
			idx_rebuild(re);
		else
			idx_put(re, in);
	}
	return in;
}

static void inst_free(struct inst *in)
{
	for (uint32_t k = 0; k < in->n; k++) {
		free(in->names[k]);
		free(in->values[k]);
	}
	free(in->names);
	free(in->values);
	free(in->key);
	free(in);
}

void alert_eng_rule_free(struct rule_ent *re)
{
	for (uint32_t i = 0; i < re->n_insts; i++)
		inst_free(re->insts[i]);
	free(re->insts);
	free(re->idx);
	alert_stream_free(re->s);
	alert_rule_free(&re->r);
	free(re);
}

struct rule_ent *alert_eng_rule_find(struct alert_engine *e, const char *id, uint32_t *idx)
{
	for (uint32_t i = 0; i < e->n_rules; i++)
		if (strcmp(e->rules[i]->r.id, id) == 0) {
			if (idx)
				*idx = i;
			return e->rules[i];
		}
	return NULL;
}

/* ---- evaluation ---- */

bool alert_eng_silenced(struct alert_engine *e, const struct rule_ent *re, const struct inst *in, int64_t now)
{
	for (uint32_t i = 0; i < e->n_silences; i++)
		if (alert_silence_matches(&e->silences[i], &re->r, (const char *const *)in->names,
					  (const char *const *)in->values, in->n, now))
			return true;
	return false;
}

struct eval_ctx {
	struct alert_engine *e;
	struct rule_ent *re;
	int64_t now;
};

static int on_group(void *ctx, const struct alert_group_value *g)
{
	struct eval_ctx *c = ctx;
	struct inst *in = alert_eng_inst_find(c->re, g->key);
	bool breach = alert_breaches(c->re->r.op, g->value, c->re->r.threshold);
	if (!in && !breach)
		return 0; /* healthy groups cost no instance */
	if (!in)
		in = alert_eng_inst_add(c->re, g->key, g->names, g->values, g->n_labels);
	in->seen = true;
	memcpy(in->examples, g->examples, sizeof in->examples);
	in->n_examples = g->n_examples;
	snprintf(in->service, sizeof in->service, "%s", g->service);
	snprintf(in->team, sizeof in->team, "%s", g->team);
	in->count = g->count;
	enum alert_istate before = in->st.state;
	in->act = alert_instance_step(&in->st, &c->re->r, true, g->value, alert_eng_silenced(c->e, c->re, in, c->now), c->now);
	if (in->act != ALERT_ACT_NONE || in->st.state != before)
		c->e->dirty = true;
	return 0;
}

static void url_escape(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		    ch == '_' || ch == '.' || ch == '~') {
			buf_append_byte(out, ch);
		} else {
			buf_append_byte(out, '%');
			buf_append_byte(out, (uint8_t)hex[ch >> 4]);
			buf_append_byte(out, (uint8_t)hex[ch & 15]);
		}
	}
}

/* The explore link: the rule's filter narrowed to the group. */
static void deep_link(struct alert_engine *e, const struct rule_ent *re, const struct inst *in, int64_t now,
		      struct buf *out)
{
	struct buf q;
	buf_init(&q, 64 * 1024);
	const char *f = re->slo ? re->slo->d.query : alert_stream_filter(re->s);
	size_t fl = strlen(f);
	uint32_t k0 = re->slo ? 2 : 0; /* an SLO's "slo" and "window" labels are not attributes */
	/* "{ cond }" -> "{ cond && label = "value" ... }" */
	if (fl >= 2 && f[0] == '{' && f[fl - 1] == '}') {
		buf_append(&q, f, fl - 1);
		bool empty = true;
		for (size_t i = 1; i + 1 < fl; i++)
			empty &= f[i] == ' ';
		for (uint32_t k = k0; k < in->n; k++) {
			buf_printf(&q, "%s%s = \"", empty && k == k0 ? " " : " && ", in->names[k]);
			json_escape(&q, slice_cstr(in->values[k]));
			buf_append_cstr(&q, "\"");
		}
		buf_append_cstr(&q, " }");
	} else {
		buf_append(&q, f, fl);
	}
	buf_append_byte(&q, 0);
	int64_t range = re->slo ? re->slo->d.alerts[re->slo_alert].long_ns : re->r.range_ns;
	int64_t from_ms = (now - range) / 1000000 - 60000, to_ms = now / 1000000 + 60000;
	buf_printf(out, "%s/explore?q=", e->public_url);
	url_escape(out, q.err ? "{}" : (const char *)q.p);
	buf_printf(out, "&from=%lld&to=%lld", (long long)from_ms, (long long)to_ms);
	buf_free(&q);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The account of an instance: a by() value the catalog has as an account,
 * else the value of a customer.id or account.id label (an account the
 * catalog does not know yet); NULL if neither. */
static const char *account_of(struct alert_engine *e, const struct inst *in, char *name, size_t cap)
{
	for (uint32_t k = 0; k < in->n; k++)
		if (catalog_account_field(e->catalog, in->values[k], "name", name, cap) ||
		    catalog_account_field(e->catalog, in->values[k], "owner", name, cap) ||
		    catalog_account_field(e->catalog, in->values[k], "channel", name, cap))
			return in->values[k];
	for (uint32_t k = 0; k < in->n; k++)
		if (*in->values[k] && (ends_with(in->names[k], "customer.id") || ends_with(in->names[k], "account.id")))
			return in->values[k];
	return NULL;
}

/* The generic payload for a group of instances acting alike (worst first). */
static char *build_payload(struct alert_engine *e, const struct rule_ent *re, struct inst **group, uint32_t n,
			   bool firing, uint64_t seq, int64_t now)
{
	const struct inst *w = group[0];
	struct buf b;
	buf_init(&b, (size_t)16 << 20);
	struct json j;
	json_init(&j, &b);
	char team[128] = "", tmp[2048];
	if (!catalog_service_field(e->catalog, w->service, "team", team, sizeof team))
		snprintf(team, sizeof team, "%s", w->team);
	json_obj_begin(&j);
	json_key(&j, "status");
	json_cstr(&j, firing ? "firing" : "resolved");
	json_key(&j, "rule");
	json_cstr(&j, re->r.name);
	json_key(&j, "ruleId");
	json_cstr(&j, re->r.id);
	json_key(&j, "severity");
	json_cstr(&j, alert_severity_name(re->r.severity));
	json_key(&j, "labels");
	json_obj_begin(&j);
	for (uint32_t k = 0; k < w->n; k++) {
		json_key(&j, w->names[k]);
		json_cstr(&j, w->values[k]);
	}
	json_obj_end(&j);
	json_key(&j, "ruleLabels");
	json_obj_begin(&j);
	for (uint32_t k = 0; k < re->r.n_labels; k++) {
		json_key(&j, re->r.labels[k].key);
		json_cstr(&j, re->r.labels[k].value);
	}
	json_obj_end(&j);
	json_key(&j, "value");
	json_double(&j, w->st.value);
	json_key(&j, "threshold");
	json_double(&j, re->r.threshold);
	json_key(&j, "condition");
	json_obj_begin(&j);
	json_key(&j, "op");
	json_cstr(&j, alert_op_name(re->r.op));
	json_key(&j, "threshold");
	json_double(&j, re->r.threshold);
	json_key(&j, "clear");
	json_double(&j, re->r.clear);
	json_obj_end(&j);
	json_key(&j, "breachBy");
	json_double(&j, w->st.value - re->r.threshold);
	if (re->slo) {
		const struct slo_def *d = &re->slo->d;
		char win[96];
		slo_alert_window_name(&d->alerts[re->slo_alert], win, sizeof win);
		json_key(&j, "slo");
		json_obj_begin(&j);
		json_key(&j, "id");
		json_cstr(&j, d->id);
		json_key(&j, "name");
		json_cstr(&j, d->name);
		json_key(&j, "objective");
		json_double(&j, d->objective);
		json_key(&j, "window");
		alert_format_duration(d->window_ns, tmp, sizeof tmp);
		json_cstr(&j, tmp);
		json_key(&j, "alertWindows");
		json_cstr(&j, win);
		json_key(&j, "factor");
		json_double(&j, re->r.threshold);
		json_key(&j, "longRate");
		json_double(&j, w->slo_long);
		json_key(&j, "shortRate");
		json_double(&j, w->slo_short);
		json_key(&j, "budgetRemaining");
		json_double(&j, w->slo_budget);
		json_key(&j, "latencyThresholdMs");
		json_double(&j, (double)d->latency_ns / 1e6);
		json_key(&j, "errorsBad");
		json_bool(&j, d->errors_bad);
		json_obj_end(&j);
	}
	json_key(&j, "query");
	json_cstr(&j, re->r.query);
	json_key(&j, "owner");
	json_cstr(&j, team);
	json_key(&j, "service");
	json_cstr(&j, w->service);
	if (catalog_service_field(e->catalog, w->service, "runbook", tmp, sizeof tmp)) {
		json_key(&j, "runbook");
		json_cstr(&j, tmp);
	}
	const char *acct = account_of(e, w, tmp, sizeof tmp);
	json_key(&j, "account");
	if (acct) {
		json_obj_begin(&j);
		json_key(&j, "id");
		json_cstr(&j, acct);
		static const char *const fields[] = {"name", "tier", "owner"};
		for (int f = 0; f < 3; f++)
			if (catalog_account_field(e->catalog, acct, fields[f], tmp, sizeof tmp)) {
				json_key(&j, fields[f]);
				json_cstr(&j, tmp);
			}
		json_obj_end(&j);
	} else {
		json_null_value(&j);
	}
	json_key(&j, "startsAt");
	json_double(&j, (double)w->st.fired_ns / 1e9);
	if (!firing) {
		json_key(&j, "endsAt");
		json_double(&j, (double)w->st.resolved_ns / 1e9);
	}
	json_key(&j, "exampleTraceIds");
	json_arr_begin(&j);
	for (uint32_t k = 0; k < w->n_examples; k++)
		json_hex(&j, w->examples[k], 16);
	json_arr_end(&j);
	json_key(&j, "rootCause");
	json_null_value(&j); /* filled by the notifier's enrichment when it can */
	json_key(&j, "criticalPath");
	json_null_value(&j);
	json_key(&j, "url");
	struct buf link;
	buf_init(&link, 128 * 1024);
	deep_link(e, re, w, now, &link);
	json_str(&j, buf_slice(&link));
	buf_free(&link);
	json_key(&j, "renotify");
	json_bool(&j, firing && w->act == ALERT_ACT_RENOTIFY);
	json_key(&j, "seq");
	json_uint(&j, seq);
	json_key(&j, "groupSize");
	json_uint(&j, n);
	json_key(&j, "alerts");
	json_arr_begin(&j);
	for (uint32_t i = 0; i < n && i < MAX_GROUP_ALERTS; i++) {
		json_obj_begin(&j);
		json_key(&j, "labels");
		json_obj_begin(&j);
		for (uint32_t k = 0; k < group[i]->n; k++) {
			json_key(&j, group[i]->names[k]);
			json_cstr(&j, group[i]->values[k]);
		}
		json_obj_end(&j);
		json_key(&j, "value");
		json_double(&j, group[i]->st.value);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	buf_append_byte(&b, 0);
	char *s = b.err ? NULL : xstrdup((const char *)b.p);
	buf_free(&b);
	return s;
}

static void outbox_add(struct alert_engine *e, uint64_t seq, enum alert_target_type type, const char *url,
		       const char *routing_key, const char *payload)
{
	if (e->n_outbox == e->cap_outbox) {
		e->cap_outbox = e->cap_outbox ? e->cap_outbox * 2 : 16;
		e->outbox = xrealloc(e->outbox, e->cap_outbox * sizeof *e->outbox);
	}
	struct outbox_ent *ob = &e->outbox[e->n_outbox++];
	ob->seq = seq;
	ob->type = type;
	ob->url = xstrdup(url);
	ob->routing_key = routing_key ? xstrdup(routing_key) : NULL;
	ob->payload = xstrdup(payload);
	e->dirty = true;
}

static bool worse(const struct rule_ent *re, const struct inst *a, const struct inst *b)
{
	bool low = re->r.op == ALERT_OP_LT || re->r.op == ALERT_OP_LTE;
	return low ? a->st.value < b->st.value : a->st.value > b->st.value;
}

static bool same_group(const struct rule_ent *re, const struct inst *a, const struct inst *b)
{
	if (re->r.group_all)
		return a == b;
	for (uint32_t g = 0; g < re->r.n_group_by; g++) {
		const char *va = "", *vb = "";
		for (uint32_t k = 0; k < a->n; k++)
			if (strcmp(a->names[k], re->r.group_by[g]) == 0)
				va = a->values[k];
		for (uint32_t k = 0; k < b->n; k++)
			if (strcmp(b->names[k], re->r.group_by[g]) == 0)
				vb = b->values[k];
		if (strcmp(va, vb) != 0)
			return false;
	}
	return true;
}

/* Turn the rule's instance actions into outbox entries (one per group and
 * target). */
static void queue_notifications(struct alert_engine *e, struct rule_ent *re, int64_t now)
{
	struct inst **acts = xcalloc(re->n_insts + 1, sizeof *acts);
	uint32_t n = 0;
	for (uint32_t i = 0; i < re->n_insts; i++)
		if (re->insts[i]->act != ALERT_ACT_NONE)
			acts[n++] = re->insts[i];
	bool *done = xcalloc(n + 1, sizeof *done);
	struct inst **group = xcalloc(n + 1, sizeof *group);
	for (uint32_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		bool firing = acts[i]->act != ALERT_ACT_RESOLVE;
		uint32_t g = 0;
		for (uint32_t k = i; k < n; k++) {
			if (done[k] || (acts[k]->act != ALERT_ACT_RESOLVE) != firing || !same_group(re, acts[i], acts[k]))
				continue;
			done[k] = true;
			group[g++] = acts[k];
		}
		for (uint32_t a = 1; a < g; a++)
			for (uint32_t c = a; c > 0 && worse(re, group[c], group[c - 1]); c--) {
				struct inst *t = group[c];
				group[c] = group[c - 1];
				group[c - 1] = t;
			}
		for (uint32_t t = 0; t < re->r.n_targets; t++) {
			const struct alert_target *tg = &re->r.targets[t];
			if (re->r.severity < tg->min_severity)
				continue;
			char url[ALERT_MAX_URL + 1] = "";
			if (tg->route == ALERT_ROUTE_URL) {
				snprintf(url, sizeof url, "%s", tg->url);
			} else if (tg->route == ALERT_ROUTE_TEAM) {
				catalog_service_field(e->catalog, group[0]->service, "channel", url, sizeof url);
			} else {
				for (uint32_t k = 0; k < group[0]->n && !*url; k++)
					catalog_account_field(e->catalog, group[0]->values[k], "channel", url, sizeof url);
			}
			if (!*url)
				continue; /* nobody to route to: the catalog has no channel */
			uint64_t seq = e->next_seq++;
			char *payload = build_payload(e, re, group, g, firing, seq, now);
			if (!payload)
				continue;
			outbox_add(e, seq, tg->type, url, tg->routing_key, payload);
			free(payload);
		}
	}
	for (uint32_t i = 0; i < n; i++)
		acts[i]->act = ALERT_ACT_NONE;
	free(acts);
	free(done);
	free(group);
}

void alert_eng_eval_begin(struct rule_ent *re)
{
	for (uint32_t i = 0; i < re->n_insts; i++) {
		re->insts[i]->seen = false;
		re->insts[i]->act = ALERT_ACT_NONE;
	}
}

/* After an evaluation: instances without data step as healthy, spent ones
 * go, and the actions become notifications. */
void alert_eng_eval_end(struct alert_engine *e, struct rule_ent *re, int64_t now)
{
	for (uint32_t i = 0; i < re->n_insts;) {
		struct inst *in = re->insts[i];
		if (!in->seen && now >= re->warm_until_ns) {
			enum alert_istate before = in->st.state;
			in->act = alert_instance_step(&in->st, &re->r, false, NAN, alert_eng_silenced(e, re, in, now), now);
			if (in->act != ALERT_ACT_NONE || before != in->st.state)
				e->dirty = true;
		}
		bool drop = in->act == ALERT_ACT_NONE &&
			    (in->st.state == ALERT_INACTIVE ||
			     (in->st.state == ALERT_RESOLVED && now - in->st.resolved_ns > RESOLVED_KEEP_NS));
		if (drop) {
			inst_free(in);
			re->insts[i] = re->insts[--re->n_insts];
			re->idx_stale = true;
			e->dirty = true;
			continue;
		}
		i++;
	}
	queue_notifications(e, re, now);
}

static void eval_rule(struct alert_engine *e, struct rule_ent *re, int64_t now)
{
	alert_eng_eval_begin(re);
	struct eval_ctx c = {.e = e, .re = re, .now = now};
	if (re->restored) {
		re->restored = false;
		re->warm_until_ns = now + re->r.range_ns;
	}
	alert_stream_eval(re->s, now, on_group, &c);
	alert_eng_eval_end(e, re, now);
}


void alert_engine_tick(struct alert_engine *e, int64_t now)
{
	pthread_rwlock_wrlock(&e->lock);
	uint32_t first_new = e->n_outbox;
	for (uint32_t i = 0; i < e->n_rules; i++) {
		struct rule_ent *re = e->rules[i];
		if (!re->r.enabled || now < re->next_eval_ns)
			continue;
		eval_rule(e, re, now);
		re->next_eval_ns = now + re->r.interval_ns;
	}
	for (uint32_t i = 0; i < e->n_slos; i++) {
		struct slo_ent *se = e->slos[i];
		if (!se->d.rule.enabled || now < se->next_eval_ns)
			continue;
		alert_slo_eval(e, se, now);
		se->next_eval_ns = now + se->d.rule.interval_ns;
	}
	/* expired silences go */
	for (uint32_t i = 0; i < e->n_silences;) {
		if (e->silences[i].ends_ns <= now) {
			alert_silence_free(&e->silences[i]);
			e->silences[i] = e->silences[--e->n_silences];
			save_silences(e);
			continue;
		}
		i++;
	}
	int rc = e->dirty ? save_alerts(e) : 0;
	/* hand over only what is durable in the outbox */
	if (rc == 0 && e->notifier)
		for (uint32_t i = first_new; i < e->n_outbox; i++)
			alert_notifier_enqueue(e->notifier, e->outbox[i].seq, e->outbox[i].type, e->outbox[i].url,
					       e->outbox[i].routing_key, e->outbox[i].payload);
	pthread_rwlock_unlock(&e->lock);
	if (now - e->slo_saved_ns >= SLO_SNAPSHOT_NS) {
		e->slo_saved_ns = now;
		alert_slo_save_counters(e, false);
	}
}

static void on_done(void *ctx, uint64_t seq, bool ok)
{
	struct alert_engine *e = ctx;
	(void)ok; /* given up or sent: either way it leaves the outbox (the log says which) */
	pthread_rwlock_wrlock(&e->lock);
	for (uint32_t i = 0; i < e->n_outbox; i++)
		if (e->outbox[i].seq == seq) {
			free(e->outbox[i].url);
			free(e->outbox[i].routing_key);
			free(e->outbox[i].payload);
			e->outbox[i] = e->outbox[--e->n_outbox];
			e->dirty = true;
			break;
		}
	pthread_rwlock_unlock(&e->lock);
}

/* The notifier's enrichment, called with the engine: pass it on with the
 * caller's context. */
static void enrich_payload(void *ctx, json_t *payload)
{
	struct alert_engine *e = ctx;
	if (e->o.notify.enrich)
		e->o.notify.enrich(e->o.enrich_ctx, payload);
}

static void *evaluator(void *arg)
{
	struct alert_engine *e = arg;
	pthread_mutex_lock(&e->stop_lock);
	while (!e->stop) {
		pthread_mutex_unlock(&e->stop_lock);
		alert_engine_tick(e, clock_now_unix_ns());
		pthread_mutex_lock(&e->stop_lock);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (!e->stop)
			pthread_cond_timedwait(&e->stop_cond, &e->stop_lock, &ts);
	}
	pthread_mutex_unlock(&e->stop_lock);
	return NULL;
}

/* ---- open / close ---- */

static int add_rule(struct alert_engine *e, struct alert_rule *r, char *err, size_t errlen)
{
	int rc;
	struct alert_stream *s = alert_stream_new(r->query, r->range_ns, e->o.max_groups, &rc, err, errlen);
	if (!s)
		return rc;
	struct rule_ent *re = xcalloc(1, sizeof *re);
	re->r = *r;
	re->s = s;
	e->rules = xrealloc(e->rules, (e->n_rules + 1) * sizeof *e->rules);
	e->rules[e->n_rules++] = re;
	memset(r, 0, sizeof *r);
	return 0;
}


static int load_state(struct alert_engine *e, char *err, size_t errlen)
{
	int rc;
	json_t *d = alert_eng_load_file(e, "rules.json", &rc, err, errlen);
	if (rc < 0)
		return rc;
	size_t i;
	json_t *v;
	json_array_foreach (d, i, v) {
		struct alert_rule r;
		char e2[300];
		if (alert_rule_from_json(v, &r, e2, sizeof e2) < 0 || !r.id[0] || add_rule(e, &r, e2, sizeof e2) < 0) {
			log_warn("alerts: rules.json[%zu] skipped: %s", i, e2);
			alert_rule_free(&r);
		} else {
			e->rules[e->n_rules - 1]->restored = true;
		}
	}
	json_decref(d);
	d = alert_eng_load_file(e, "silences.json", &rc, err, errlen);
	if (rc < 0)
		return rc;
	json_array_foreach (d, i, v) {
		struct alert_silence s;
		char e2[300];
		int src = alert_silence_from_json(v, clock_now_unix_ns(), &s, e2, sizeof e2);
		if (src == 0 && s.id[0]) {
			e->silences = xrealloc(e->silences, (e->n_silences + 1) * sizeof *e->silences);
			e->silences[e->n_silences++] = s;
		} else {
			/* clew writes only valid silences: this one was damaged */
			log_warn("alerts: silences.json: silence %zu skipped: %s", i, src == 0 ? "no valid id" : e2);
			alert_silence_free(&s);
		}
	}
	json_decref(d);
	if ((rc = alert_slo_load(e, err, errlen)) < 0)
		return rc;
	d = alert_eng_load_file(e, "alerts.json", &rc, err, errlen);
	if (rc < 0)
		return rc;
	e->next_seq = 1;
	if (d) {
		json_t *ns = json_object_get(d, "nextSeq");
		if (json_is_integer(ns) && json_integer_value(ns) > 0)
			e->next_seq = (uint64_t)json_integer_value(ns);
		json_array_foreach (json_object_get(d, "instances"), i, v) {
			const char *rid = json_string_value(json_object_get(v, "ruleId")) ?: "";
			struct rule_ent *re = alert_eng_rule_find(e, rid, NULL);
			struct slo_ent *se = re ? NULL : alert_slo_find(e, rid, NULL);
			json_int_t sa = json_integer_value(json_object_get(v, "sloAlert"));
			if (se && sa >= 0 && sa < se->d.n_alerts)
				re = se->alerts[sa];
			json_t *labels = json_object_get(v, "labels"), *key = json_object_get(v, "key");
			if (!re || !json_is_object(labels) || !json_is_string(key) || json_object_size(labels) > 16)
				continue;
			const char *names[16], *values[16];
			uint32_t n = 0;
			const char *k;
			json_t *lv;
			json_object_foreach (labels, k, lv) {
				names[n] = k;
				values[n++] = json_is_string(lv) ? json_string_value(lv) : "";
			}
			struct inst *in = alert_eng_inst_add(re, json_string_value(key), names, values, n);
			const char *st = json_string_value(json_object_get(v, "state")) ?: "";
			in->st.state = strcmp(st, "pending") == 0   ? ALERT_PENDING
				       : strcmp(st, "firing") == 0  ? ALERT_FIRING
				       : strcmp(st, "resolved") == 0 ? ALERT_RESOLVED
								     : ALERT_INACTIVE;
			in->st.value = json_number_value(json_object_get(v, "value"));
			in->st.pending_since_ns = json_integer_value(json_object_get(v, "pendingSinceNs"));
			in->st.fired_ns = json_integer_value(json_object_get(v, "firedNs"));
			in->st.resolved_ns = json_integer_value(json_object_get(v, "resolvedNs"));
			in->st.last_notify_ns = json_integer_value(json_object_get(v, "lastNotifyNs"));
			in->st.notified = json_is_true(json_object_get(v, "notified"));
			snprintf(in->service, sizeof in->service, "%s", json_string_value(json_object_get(v, "service")) ?: "");
			snprintf(in->team, sizeof in->team, "%s", json_string_value(json_object_get(v, "team")) ?: "");
			json_t *so = json_object_get(v, "slo");
			in->slo_long = json_number_value(json_object_get(so, "longRate"));
			in->slo_short = json_number_value(json_object_get(so, "shortRate"));
			in->slo_budget = json_number_value(json_object_get(so, "budgetRemaining"));
		}
		uint64_t *sent = NULL;
		size_t n_sent = 0;
		char *lp = alert_eng_path(e, "deliveries.log");
		alert_notify_read_sent(lp, &sent, &n_sent);
		free(lp);
		json_array_foreach (json_object_get(d, "outbox"), i, v) {
			json_t *seq = json_object_get(v, "seq");
			const char *url = json_string_value(json_object_get(v, "url")),
				   *payload = json_string_value(json_object_get(v, "payload")),
				   *type = json_string_value(json_object_get(v, "type")) ?: "webhook";
			if (!json_is_integer(seq) || !url || !payload)
				continue;
			uint64_t s = (uint64_t)json_integer_value(seq);
			bool was_sent = false;
			for (size_t k = 0; k < n_sent && !was_sent; k++)
				was_sent = sent[k] == s;
			if (was_sent)
				continue;
			enum alert_target_type t = strcmp(type, "slack") == 0	    ? ALERT_TARGET_SLACK
						   : strcmp(type, "pagerduty") == 0 ? ALERT_TARGET_PAGERDUTY
										    : ALERT_TARGET_WEBHOOK;
			outbox_add(e, s, t, url, json_string_value(json_object_get(v, "routingKey")), payload);
			if (s >= e->next_seq)
				e->next_seq = s + 1;
		}
		free(sent);
		json_decref(d);
	}
	return 0;
}

struct alert_engine *alert_engine_open(const struct alert_engine_options *o, int *rc, char *err, size_t errlen)
{
	struct alert_engine *e = xcalloc(1, sizeof *e);
	e->o = *o;
	pthread_rwlock_init(&e->lock, NULL);
	pthread_mutex_init(&e->stop_lock, NULL);
	pthread_cond_init(&e->stop_cond, NULL);
	e->public_url = xstrdup(o->public_url ? o->public_url : "http://localhost:3200");
	size_t pl = strlen(e->public_url);
	while (pl > 0 && e->public_url[pl - 1] == '/')
		e->public_url[--pl] = 0;
	e->next_seq = 1;
	*rc = 0;
	if (o->data_dir) {
		size_t n = strlen(o->data_dir) + 8;
		e->dir = xmalloc(n);
		snprintf(e->dir, n, "%s/state", o->data_dir);
		if (mkdir(o->data_dir, 0755) < 0 && errno != EEXIST) {
			*rc = -errno;
		} else if (mkdir(e->dir, 0755) < 0 && errno != EEXIST) {
			*rc = -errno;
		}
		if (*rc < 0) {
			snprintf(err, errlen, "cannot create %s: %s", e->dir, strerror(-*rc));
			goto fail;
		}
	}
	char *cp = alert_eng_path(e, "catalog.json");
	e->catalog = catalog_open(cp, rc, err, errlen);
	free(cp);
	if (!e->catalog)
		goto fail;
	if (o->catalog_file) {
		json_error_t je;
		json_t *d = json_load_file(o->catalog_file, 0, &je);
		if (!d) {
			snprintf(err, errlen, "%s: line %d: %s", o->catalog_file, je.line, je.text);
			*rc = CLEW_EINVAL;
			goto fail;
		}
		char e2[300];
		*rc = catalog_put(e->catalog, d, true, e2, sizeof e2);
		json_decref(d);
		if (*rc < 0) {
			snprintf(err, errlen, "%s: %s", o->catalog_file, e2);
			goto fail;
		}
	}
	if ((*rc = load_state(e, err, errlen)) < 0)
		goto fail;
	struct alert_notifier_options no = o->notify;
	char *lp = alert_eng_path(e, "deliveries.log");
	no.log_path = lp;
	no.done = on_done;
	no.enrich = o->notify.enrich ? enrich_payload : NULL;
	no.ctx = e;
	e->notifier = alert_notifier_new(&no);
	free(lp);
	if (!e->notifier) {
		*rc = CLEW_ENOMEM;
		snprintf(err, errlen, "could not start the notifier (libcurl)");
		goto fail;
	}
	/* what was pending at the last stop goes out again (at-least-once) */
	for (uint32_t i = 0; i < e->n_outbox; i++)
		alert_notifier_enqueue(e->notifier, e->outbox[i].seq, e->outbox[i].type, e->outbox[i].url,
				       e->outbox[i].routing_key, e->outbox[i].payload);
	if (!o->manual) {
		if (pthread_create(&e->thread, NULL, evaluator, e) != 0) {
			*rc = CLEW_ENOMEM;
			snprintf(err, errlen, "could not start the alert evaluator");
			goto fail;
		}
		e->thread_started = true;
	}
	return e;
fail:
	alert_engine_close(e);
	return NULL;
}

void alert_engine_close(struct alert_engine *e)
{
	if (!e)
		return;
	if (e->thread_started) {
		pthread_mutex_lock(&e->stop_lock);
		e->stop = true;
		pthread_cond_signal(&e->stop_cond);
		pthread_mutex_unlock(&e->stop_lock);
		pthread_join(e->thread, NULL);
	}
	alert_notifier_free(e->notifier); /* no completion can come after this */
	if (e->dirty)
		save_alerts(e);
	alert_slo_save_counters(e, false);
	for (uint32_t i = 0; i < e->n_rules; i++)
		alert_eng_rule_free(e->rules[i]);
	free(e->rules);
	for (uint32_t i = 0; i < e->n_slos; i++)
		alert_slo_free(e->slos[i]);
	free(e->slos);
	for (uint32_t i = 0; i < e->n_silences; i++)
		alert_silence_free(&e->silences[i]);
	free(e->silences);
	for (uint32_t i = 0; i < e->n_outbox; i++) {
		free(e->outbox[i].url);
		free(e->outbox[i].routing_key);
		free(e->outbox[i].payload);
	}
	free(e->outbox);
	catalog_free(e->catalog);
	free(e->dir);
	free(e->public_url);
	pthread_cond_destroy(&e->stop_cond);
	pthread_mutex_destroy(&e->stop_lock);
	pthread_rwlock_destroy(&e->lock);
	free(e);
}

void alert_engine_add_batch(struct alert_engine *e, const struct span_batch *b, int64_t now_ns)
{
	struct arena a;
	struct span_batch grouped;
	bool done = false;
	arena_init(&a, 0);
	pthread_rwlock_rdlock(&e->lock);
	for (uint32_t i = 0; i < e->n_rules + e->n_slos; i++) {
		bool slo = i >= e->n_rules;
		if (slo ? !e->slos[i - e->n_rules]->d.rule.enabled : !e->rules[i]->r.enabled)
			continue;
		if (!done && alert_stream_group_traces(b, &a, &grouped) < 0)
			break; /* out of memory: this batch goes uncounted */
		done = true;
		if (slo)
			slo_counter_add_grouped(e->slos[i - e->n_rules]->c, &grouped, now_ns);
		else
			alert_stream_add_grouped(e->rules[i]->s, &grouped, now_ns);
	}
	pthread_rwlock_unlock(&e->lock);
	arena_reset(&a);
}

/* ---- API ---- */

int alert_engine_put_rule(struct alert_engine *e, const char *id, const char *body, size_t len, struct json *out,
			  char *err, size_t errlen)
{
	struct alert_rule r;
	int rc = alert_rule_parse(body, len, &r, err, errlen);
	if (rc < 0) {
		alert_rule_free(&r);
		return rc;
	}
	pthread_rwlock_wrlock(&e->lock);
	uint32_t idx;
	struct rule_ent *old = id ? alert_eng_rule_find(e, id, &idx) : NULL;
	int64_t now = clock_now_unix_ns();
	if (id && !old) {
		rc = CLEW_ENOTFOUND;
		snprintf(err, errlen, "no alert rule %s", id);
		goto out;
	}
	if (!id && e->n_rules >= MAX_RULES) {
		rc = CLEW_ELIMIT;
		snprintf(err, errlen, "at most %d alert rules", MAX_RULES);
		goto out;
	}
	if (old) {
		memcpy(r.id, old->r.id, 17);
		r.created_ns = old->r.created_ns;
	} else {
		do
			alert_new_id(r.id);
		while (alert_eng_rule_find(e, r.id, NULL));
		r.created_ns = now;
	}
	r.updated_ns = now;
	if ((rc = add_rule(e, &r, err, errlen)) < 0)
		goto out;
	struct rule_ent *re = e->rules[e->n_rules - 1];
	if (old) {
		/* same query and range: keep the aggregates and the instances */
		if (strcmp(old->r.query, re->r.query) == 0 && old->r.range_ns == re->r.range_ns) {
			struct alert_stream *t = re->s;
			re->s = old->s;
			old->s = t;
			re->restored = old->restored;
			re->warm_until_ns = old->warm_until_ns;
			re->insts = old->insts;
			re->n_insts = old->n_insts;
			re->cap_insts = old->cap_insts;
			old->insts = NULL;
			old->n_insts = old->cap_insts = 0;
		}
		e->rules[idx] = re;
		e->n_rules--;
		alert_eng_rule_free(old);
	}
	if ((rc = save_rules(e)) < 0)
		snprintf(err, errlen, "the rule was applied but could not be saved: %s", err_str(rc));
	if (out)
		alert_rule_write_json(out, &re->r);
	e->dirty = true;
out:
	pthread_rwlock_unlock(&e->lock);
	alert_rule_free(&r);
	return rc;
}

int alert_engine_delete_rule(struct alert_engine *e, const char *id)
{
	pthread_rwlock_wrlock(&e->lock);
	uint32_t idx;
	struct rule_ent *re = alert_eng_rule_find(e, id, &idx);
	int rc = CLEW_ENOTFOUND;
	if (re) {
		e->rules[idx] = e->rules[--e->n_rules];
		alert_eng_rule_free(re);
		rc = save_rules(e);
		e->dirty = true;
	}
	pthread_rwlock_unlock(&e->lock);
	return rc;
}

int alert_engine_get_rule(struct alert_engine *e, const char *id, struct json *out)
{
	pthread_rwlock_rdlock(&e->lock);
	struct rule_ent *re = alert_eng_rule_find(e, id, NULL);
	if (re)
		alert_rule_write_json(out, &re->r);
	pthread_rwlock_unlock(&e->lock);
	return re ? 0 : CLEW_ENOTFOUND;
}

void alert_engine_list_rules(struct alert_engine *e, struct json *out)
{
	pthread_rwlock_rdlock(&e->lock);
	json_obj_begin(out);
	json_key(out, "rules");
	json_arr_begin(out);
	for (uint32_t i = 0; i < e->n_rules; i++)
		alert_rule_write_json(out, &e->rules[i]->r);
	json_arr_end(out);
	json_obj_end(out);
	pthread_rwlock_unlock(&e->lock);
}

static void write_instances(struct json *out, const struct rule_ent *re, const char *rule_id, const char *state)
{
	if (rule_id && strcmp(rule_id, re->r.id) != 0)
		return;
	for (uint32_t k = 0; k < re->n_insts; k++)
		if (!state || strcmp(state, alert_istate_name(re->insts[k]->st.state)) == 0)
			write_instance(out, re, re->insts[k], true);
}

void alert_engine_list_alerts(struct alert_engine *e, const char *rule_id, const char *state, struct json *out)
{
	pthread_rwlock_rdlock(&e->lock);
	json_obj_begin(out);
	json_key(out, "alerts");
	json_arr_begin(out);
	for (uint32_t i = 0; i < e->n_rules; i++)
		write_instances(out, e->rules[i], rule_id, state);
	for (uint32_t i = 0; i < e->n_slos; i++)
		for (uint32_t a = 0; a < e->slos[i]->d.n_alerts; a++)
			write_instances(out, e->slos[i]->alerts[a], rule_id, state);
	json_arr_end(out);
	json_obj_end(out);
	pthread_rwlock_unlock(&e->lock);
}

int alert_engine_put_silence(struct alert_engine *e, const char *body, size_t len, struct json *out, char *err,
			     size_t errlen)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	if (!o) {
		snprintf(err, errlen, "the body is not valid JSON: %s", je.text);
		return CLEW_EPARSE;
	}
	struct alert_silence s;
	int64_t now = clock_now_unix_ns();
	int rc = alert_silence_from_json(o, now, &s, err, errlen);
	json_decref(o);
	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&e->lock);
	if (e->n_silences >= MAX_SILENCES) {
		alert_silence_free(&s);
		pthread_rwlock_unlock(&e->lock);
		snprintf(err, errlen, "at most %d silences", MAX_SILENCES);
		return CLEW_ELIMIT;
	}
	alert_new_id(s.id);
	e->silences = xrealloc(e->silences, (e->n_silences + 1) * sizeof *e->silences);
	e->silences[e->n_silences++] = s;
	if (out)
		alert_silence_write_json(out, &e->silences[e->n_silences - 1], now);
	rc = save_silences(e);
	pthread_rwlock_unlock(&e->lock);
	return rc;
}

int alert_engine_delete_silence(struct alert_engine *e, const char *id)
{
	int rc = CLEW_ENOTFOUND;
	pthread_rwlock_wrlock(&e->lock);
	for (uint32_t i = 0; i < e->n_silences; i++)
		if (strcmp(e->silences[i].id, id) == 0) {
			alert_silence_free(&e->silences[i]);
			e->silences[i] = e->silences[--e->n_silences];
			rc = save_silences(e);
			break;
		}
	pthread_rwlock_unlock(&e->lock);
	return rc;
}

void alert_engine_list_silences(struct alert_engine *e, struct json *out)
{
	int64_t now = clock_now_unix_ns();
	pthread_rwlock_rdlock(&e->lock);
	json_obj_begin(out);
	json_key(out, "silences");
	json_arr_begin(out);
	for (uint32_t i = 0; i < e->n_silences; i++)
		alert_silence_write_json(out, &e->silences[i], now);
	json_arr_end(out);
	json_obj_end(out);
	pthread_rwlock_unlock(&e->lock);
}

void alert_engine_deliveries(struct alert_engine *e, uint32_t limit, struct json *out)
{
	json_obj_begin(out);
	json_key(out, "deliveries");
	alert_notifier_write_log(e->notifier, out, limit);
	json_obj_end(out);
}


struct catalog *alert_engine_catalog(struct alert_engine *e)
{
	return e->catalog;
}

uint32_t alert_engine_outbox(struct alert_engine *e)
{
	pthread_rwlock_rdlock(&e->lock);
	uint32_t n = e->n_outbox;
	pthread_rwlock_unlock(&e->lock);
	return n;
}
