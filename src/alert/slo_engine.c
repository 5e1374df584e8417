/* SLOs in the alert engine (see alert_engine.h and alert_int.h): each SLO
 * holds its definition, its counters (fed by alert_engine_add_batch) and a
 * rule_ent per burn alert, whose instances are the SLO's groups and go
 * through the engine's state machine, silences, outbox and delivery. The
 * definitions live in state/slos.json (replaced durably on every change);
 * the counters in state/slo-<id>.counters, snapshotted by the evaluator at
 * most a minute apart and at close, so a kill -9 loses at most the last
 * minute of counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/alert_int.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

#define MAX_SLOS 1000

struct slo_eval_ctx {
	struct alert_engine *e;
	struct slo_ent *se;
	int64_t now;
};

/* Step each burn alert of one group: the value is the lower of the long
 * and short windows' burn rates, so it breaches the factor only when both
 * do, and resolves as soon as the short window recovers. */
static int on_slo_group(void *ctx, const struct slo_group_eval *g)
{
	struct slo_eval_ctx *c = ctx;
	struct slo_ent *se = c->se;
	if ((g->value == NULL) != (se->d.by == NULL))
		return 0; /* with by the groups alert, without it the whole SLO */
	const char *key = g->value ? g->value : "";
	for (uint32_t i = 0; i < se->d.n_alerts; i++) {
		struct rule_ent *re = se->alerts[i];
		double lr = slo_burn_rate(g->lng[i], se->d.objective), sr = slo_burn_rate(g->shrt[i], se->d.objective);
		double v = lr < sr ? lr : sr;
		struct inst *in = alert_eng_inst_find(re, key);
		bool breach = alert_breaches(re->r.op, v, re->r.threshold);
		if (!in && !breach)
			continue;
		if (!in) {
			char win[96];
			slo_alert_window_name(&se->d.alerts[i], win, sizeof win);
			const char *names[3] = {"slo", "window", se->d.by}, *values[3] = {se->d.name, win, key};
			in = alert_eng_inst_add(re, key, names, values, g->value ? 3 : 2);
		}
		in->seen = true;
		memcpy(in->examples, g->examples, sizeof in->examples);
		in->n_examples = g->n_examples;
		snprintf(in->service, sizeof in->service, "%s", g->service);
		snprintf(in->team, sizeof in->team, "%s", g->team);
		in->count = g->lng[i].total;
		in->slo_long = lr;
		in->slo_short = sr;
		in->slo_budget = slo_budget_remaining(g->budget, se->d.objective);
		enum alert_istate before = in->st.state;
		in->act =
		    alert_instance_step(&in->st, &re->r, true, v, alert_eng_silenced(c->e, re, in, c->now), c->now);
		if (in->act != ALERT_ACT_NONE || in->st.state != before)
			c->e->dirty = true;
	}
	return 0;
}

void alert_slo_eval(struct alert_engine *e, struct slo_ent *se, int64_t now)
{
	for (uint32_t i = 0; i < se->d.n_alerts; i++)
		alert_eng_eval_begin(se->alerts[i]);
	struct slo_eval_ctx c = {.e = e, .se = se, .now = now};
	slo_counter_eval(se->c, &se->d, now, on_slo_group, &c);
	for (uint32_t i = 0; i < se->d.n_alerts; i++)
		alert_eng_eval_end(e, se->alerts[i], now);
}

static char *slo_counters_path(struct alert_engine *e, const char *id)
{
	char name[64];
	snprintf(name, sizeof name, "slo-%s.counters", id);
	return alert_eng_path(e, name);
}

/* Snapshot the counters that changed (all of them with force). Under the
 * shared lock: ingest goes on, each counter is copied under its own. */
void alert_slo_save_counters(struct alert_engine *e, bool force)
{
	if (!e->dir)
		return;
	struct buf b;
	buf_init(&b, (size_t)1 << 31);
	pthread_rwlock_rdlock(&e->lock);
	for (uint32_t i = 0; i < e->n_slos; i++) {
		struct slo_ent *se = e->slos[i];
		uint64_t seq = slo_counter_seq(se->c);
		if (seq == se->saved_seq && !force)
			continue;
		buf_clear(&b);
		char *p = slo_counters_path(e, se->d.id);
		int rc = slo_counter_encode(se->c, &b);
		if (rc == 0)
			rc = alert_write_durable(p, b.p, b.len);
		if (rc == 0)
			se->saved_seq = seq;
		else
			log_error("slos: could not save %s: %s", p, err_str(rc));
		free(p);
	}
	pthread_rwlock_unlock(&e->lock);
	buf_free(&b);
}

void alert_slo_free(struct slo_ent *se)
{
	for (uint32_t i = 0; i < se->d.n_alerts; i++)
		if (se->alerts[i])
			alert_eng_rule_free(se->alerts[i]);
	slo_counter_free(se->c);
	slo_def_free(&se->d);
	free(se);
}

/* Append an SLO for d (taken: *d is zeroed) with a rule_ent per burn
 * alert. 0 or the counter's error. */
static int add_slo(struct alert_engine *e, struct slo_def *d, char *err, size_t errlen)
{
	int rc;
	struct slo_counter *c = slo_counter_new(d, 0, &rc, err, errlen);
	if (!c)
		return rc;
	struct slo_ent *se = xcalloc(1, sizeof *se);
	se->d = *d;
	memset(d, 0, sizeof *d);
	se->c = c;
	for (uint32_t i = 0; i < se->d.n_alerts; i++) {
		struct rule_ent *re = xcalloc(1, sizeof *re);
		se->alerts[i] = re;
		if ((rc = alert_rule_copy(&re->r, &se->d.rule)) < 0) {
			alert_slo_free(se);
			snprintf(err, errlen, "out of memory");
			return rc;
		}
		memcpy(re->r.id, se->d.id, 17);
		re->r.op = ALERT_OP_GT;
		re->r.threshold = re->r.clear = se->d.alerts[i].factor;
		re->r.for_ns = 0;
		re->r.range_ns = se->d.alerts[i].long_ns;
		re->r.severity = se->d.alerts[i].severity;
		re->slo = se;
		re->slo_alert = i;
	}
	e->slos = xrealloc(e->slos, (e->n_slos + 1) * sizeof *e->slos);
	e->slos[e->n_slos++] = se;
	return 0;
}

struct slo_ent *alert_slo_find(struct alert_engine *e, const char *id, uint32_t *idx)
{
	for (uint32_t i = 0; i < e->n_slos; i++)
		if (strcmp(e->slos[i]->d.id, id) == 0) {
			if (idx)
				*idx = i;
			return e->slos[i];
		}
	return NULL;
}

static int save_slos(struct alert_engine *e)
{
	struct buf b;
	buf_init(&b, (size_t)1 << 30);
	struct json j;
	json_init(&j, &b);
	json_arr_begin(&j);
	for (uint32_t i = 0; i < e->n_slos; i++)
		slo_def_write_json(&j, &e->slos[i]->d);
	json_arr_end(&j);
	int rc = alert_eng_save_json(e, "slos.json", &b);
	buf_free(&b);
	return rc;
}

/* Load the SLOs and their last counter snapshots (a snapshot that is
 * unreadable or of another definition is dropped: those counts restart). */
int alert_slo_load(struct alert_engine *e, char *err, size_t errlen)
{
	int rc;
	json_t *d = alert_eng_load_file(e, "slos.json", &rc, err, errlen);
	if (rc < 0)
		return rc;
	size_t i;
	json_t *v;
	json_array_foreach(d, i, v)
	{
		struct slo_def def;
		char e2[300];
		if (slo_def_from_json(v, &def, e2, sizeof e2) < 0 || !def.id[0] ||
		    add_slo(e, &def, e2, sizeof e2) < 0) {
			log_warn("slos: slos.json[%zu] skipped: %s", i, e2);
			slo_def_free(&def);
			continue;
		}
		struct slo_ent *se = e->slos[e->n_slos - 1];
		char *p = slo_counters_path(e, se->d.id);
		FILE *f = fopen(p, "rb");
		struct buf b;
		buf_init(&b, (size_t)1 << 31);
		if (f) {
			uint8_t chunk[65536];
			size_t n;
			while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
				buf_append(&b, chunk, n);
			fclose(f);
			if (b.err || slo_counter_decode(se->c, b.p, b.len, e2, sizeof e2) < 0)
				log_warn("slos: %s not loaded, its counts restart: %s", p, b.err ? err_str(b.err) : e2);
			se->saved_seq = slo_counter_seq(se->c);
		}
		buf_free(&b);
		free(p);
	}
	json_decref(d);
	return 0;
}

/* ---- SLOs ---- */

static void swap_insts(struct rule_ent *a, struct rule_ent *b)
{
	struct rule_ent t = *a;
	a->insts = b->insts;
	a->n_insts = b->n_insts;
	a->cap_insts = b->cap_insts;
	a->idx = b->idx;
	a->idx_mask = b->idx_mask;
	a->idx_stale = b->idx_stale;
	b->insts = t.insts;
	b->n_insts = t.n_insts;
	b->cap_insts = t.cap_insts;
	b->idx = t.idx;
	b->idx_mask = t.idx_mask;
	b->idx_stale = t.idx_stale;
}

/* The replacement nu of old keeps what still means the same: the counters
 * if they count the same requests, the instances of an alert whose windows
 * and factor are unchanged (relabelled with the new name). */
static void slo_keep(struct slo_ent *nu, struct slo_ent *old)
{
	if (!slo_def_same_counts(&old->d, &nu->d))
		return;
	struct slo_counter *t = nu->c;
	nu->c = old->c;
	old->c = t;
	nu->saved_seq = old->saved_seq;
	for (uint32_t i = 0; i < nu->d.n_alerts && i < old->d.n_alerts; i++) {
		const struct slo_alert *a = &nu->d.alerts[i], *b = &old->d.alerts[i];
		if (a->long_ns != b->long_ns || a->short_ns != b->short_ns || a->factor != b->factor)
			continue;
		swap_insts(nu->alerts[i], old->alerts[i]);
		for (uint32_t k = 0; k < nu->alerts[i]->n_insts; k++) {
			struct inst *in = nu->alerts[i]->insts[k];
			free(in->values[0]);
			in->values[0] = xstrdup(nu->d.name);
		}
	}
}

int alert_engine_put_slo(struct alert_engine *e, const char *id, const char *body, size_t len, struct json *out,
                         char *err, size_t errlen)
{
	struct slo_def d;
	int rc = slo_def_parse(body, len, &d, err, errlen);
	if (rc < 0) {
		slo_def_free(&d);
		return rc;
	}
	pthread_rwlock_wrlock(&e->lock);
	uint32_t idx;
	struct slo_ent *old = id ? alert_slo_find(e, id, &idx) : NULL;
	int64_t now = clock_now_unix_ns();
	if (id && !old) {
		rc = CLEW_ENOTFOUND;
		snprintf(err, errlen, "no SLO %s", id);
		goto out;
	}
	if (!id && e->n_slos >= MAX_SLOS) {
		rc = CLEW_ELIMIT;
		snprintf(err, errlen, "at most %d SLOs", MAX_SLOS);
		goto out;
	}
	if (old) {
		memcpy(d.id, old->d.id, 17);
		d.created_ns = old->d.created_ns;
	} else {
		do
			alert_new_id(d.id);
		while (alert_slo_find(e, d.id, NULL) || alert_eng_rule_find(e, d.id, NULL));
		d.created_ns = now;
	}
	d.updated_ns = now;
	if ((rc = add_slo(e, &d, err, errlen)) < 0)
		goto out;
	struct slo_ent *se = e->slos[e->n_slos - 1];
	if (old) {
		slo_keep(se, old);
		e->slos[idx] = se;
		e->n_slos--;
		alert_slo_free(old);
	}
	if ((rc = save_slos(e)) < 0)
		snprintf(err, errlen, "the SLO was applied but could not be saved: %s", err_str(rc));
	if (out)
		slo_def_write_json(out, &se->d);
	e->dirty = true;
out:
	pthread_rwlock_unlock(&e->lock);
	slo_def_free(&d);
	return rc;
}

int alert_engine_delete_slo(struct alert_engine *e, const char *id)
{
	pthread_rwlock_wrlock(&e->lock);
	uint32_t idx;
	struct slo_ent *se = alert_slo_find(e, id, &idx);
	int rc = CLEW_ENOTFOUND;
	if (se) {
		e->slos[idx] = e->slos[--e->n_slos];
		char *p = slo_counters_path(e, se->d.id);
		if (p)
			unlink(p);
		free(p);
		alert_slo_free(se);
		rc = save_slos(e);
		e->dirty = true;
	}
	pthread_rwlock_unlock(&e->lock);
	return rc;
}

int alert_engine_get_slo(struct alert_engine *e, const char *id, struct json *out)
{
	pthread_rwlock_rdlock(&e->lock);
	struct slo_ent *se = alert_slo_find(e, id, NULL);
	if (se)
		slo_def_write_json(out, &se->d);
	pthread_rwlock_unlock(&e->lock);
	return se ? 0 : CLEW_ENOTFOUND;
}

/* Whether burn alert i of the SLO fires for group value, or for any group
 * when value is NULL and the SLO has groups (a scan: the
 * instances are the breaching groups only, and the index is not touched
 * under the shared lock). */
static bool slo_firing(void *ctx, uint32_t alert, const char *value)
{
	const struct slo_ent *se = ctx;
	const struct rule_ent *re = se->alerts[alert];
	bool any = !value && se->d.by; /* the whole of a per-group SLO: any group */
	for (uint32_t k = 0; k < re->n_insts; k++)
		if ((any || strcmp(re->insts[k]->key, value ? value : "") == 0) && re->insts[k]->st.state == ALERT_FIRING)
			return true;
	return false;
}

void alert_engine_list_slos(struct alert_engine *e, struct json *out)
{
	int64_t now = clock_now_unix_ns();
	pthread_rwlock_rdlock(&e->lock);
	json_obj_begin(out);
	json_key(out, "slos");
	json_arr_begin(out);
	for (uint32_t i = 0; i < e->n_slos; i++) {
		struct slo_ent *se = e->slos[i];
		json_obj_begin(out);
		slo_def_write_fields(out, &se->d);
		json_key(out, "status");
		slo_write_status(out, &se->d, se->c, now, 0, true, slo_firing, se);
		json_obj_end(out);
	}
	json_arr_end(out);
	json_obj_end(out);
	pthread_rwlock_unlock(&e->lock);
}

int alert_engine_slo_status(struct alert_engine *e, const char *id, uint32_t limit, int64_t now_ns, struct json *out)
{
	pthread_rwlock_rdlock(&e->lock);
	struct slo_ent *se = alert_slo_find(e, id, NULL);
	if (se)
		slo_write_status(out, &se->d, se->c, now_ns ? now_ns : clock_now_unix_ns(), limit, false, slo_firing,
		                 se);
	pthread_rwlock_unlock(&e->lock);
	return se ? 0 : CLEW_ENOTFOUND;
}
