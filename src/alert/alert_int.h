/* The alert layer's private header: the alert engine's structures and the
 * functions its two files share. alert_engine.c holds the rules, the
 * instances, the outbox and the threads; slo_engine.c holds the SLOs, whose
 * burn alerts are rule_ents with instances like any rule's. Nothing outside
 * src/alert includes this. */
#ifndef CLEW_ALERT_ALERT_INT_H
#define CLEW_ALERT_ALERT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "alert/alert_engine.h"
#include "alert/alert_state.h"
#include "alert/alert_stream.h"
#include "alert/slo.h"
#include "base/buf.h"

struct inst {
	struct alert_instance st;
	char *key;
	uint64_t hash; /* of key */
	char **names, **values;
	uint32_t n;
	uint8_t examples[ALERT_STREAM_EXAMPLES][16];
	uint32_t n_examples;
	char service[64], team[48];
	uint64_t count;
	bool seen;
	enum alert_action act;
	double slo_long, slo_short, slo_budget; /* an SLO burn alert's rates */
};

struct slo_ent;

struct rule_ent {
	struct alert_rule r;
	struct alert_stream *s;
	int64_t next_eval_ns;
	/* Loaded at open: its stream starts empty, so until one range after
	 * its first evaluation a group without data is not taken as healthy
	 * (a firing instance would resolve and fire again after a restart). */
	bool restored;
	int64_t warm_until_ns;
	struct inst **insts;
	uint32_t n_insts, cap_insts;
	/* insts by key (open addressing on inst->hash); NULL or stale after a
	 * removal: rebuilt by the next lookup */
	struct inst **idx;
	uint32_t idx_mask;
	bool idx_stale;
	struct slo_ent *slo; /* a burn alert of this SLO; NULL for a rule */
	uint32_t slo_alert;  /* which of its alerts */
};

struct slo_ent {
	struct slo_def d;
	struct slo_counter *c;
	struct rule_ent *alerts[SLO_MAX_ALERTS]; /* d.n_alerts of them */
	int64_t next_eval_ns;
	uint64_t saved_seq; /* counter seq of the last snapshot */
};

struct outbox_ent {
	uint64_t seq;
	enum alert_target_type type;
	char *url, *routing_key, *payload;
};

struct alert_engine {
	struct alert_engine_options o;
	char *dir; /* data_dir/state */
	char *public_url;
	pthread_rwlock_t lock;
	struct rule_ent **rules;
	uint32_t n_rules;
	struct alert_silence *silences;
	uint32_t n_silences;
	struct slo_ent **slos;
	uint32_t n_slos;
	int64_t slo_saved_ns;
	struct outbox_ent *outbox;
	uint32_t n_outbox, cap_outbox;
	uint64_t next_seq;
	bool dirty;
	struct catalog *catalog;
	struct alert_notifier *notifier;
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stop;
};

/* DATA_DIR/state/name (malloc'd), or NULL without a data directory. */
char *alert_eng_path(struct alert_engine *e, const char *name);
/* Replace state file name with b durably. 0 or the error (logged). */
int alert_eng_save_json(struct alert_engine *e, const char *name, struct buf *b);
/* The parsed state file name (NULL if missing, with *rc 0), or NULL with
 * *rc and err when unreadable. */
json_t *alert_eng_load_file(struct alert_engine *e, const char *name, int *rc /* out */, char *err, size_t errlen);

/* The instance of key in re, or NULL; a new instance with the labels. */
struct inst *alert_eng_inst_find(struct rule_ent *re, const char *key);
struct inst *alert_eng_inst_add(struct rule_ent *re, const char *key, const char *const *names,
                                const char *const *values, uint32_t n);
void alert_eng_rule_free(struct rule_ent *re);
struct rule_ent *alert_eng_rule_find(struct alert_engine *e, const char *id, uint32_t *idx /* out */);
/* True if an active silence matches the instance. */
bool alert_eng_silenced(struct alert_engine *e, const struct rule_ent *re, const struct inst *in, int64_t now);

/* Around an evaluation of re: mark every instance unseen; then step the
 * unseen as healthy, drop the spent and queue the notifications. */
void alert_eng_eval_begin(struct rule_ent *re);
void alert_eng_eval_end(struct alert_engine *e, struct rule_ent *re, int64_t now);

/* SLOs (slo_engine.c), under the engine's lock except save_counters. */
void alert_slo_eval(struct alert_engine *e, struct slo_ent *se, int64_t now);
void alert_slo_save_counters(struct alert_engine *e, bool force);
void alert_slo_free(struct slo_ent *se);
struct slo_ent *alert_slo_find(struct alert_engine *e, const char *id, uint32_t *idx /* out */);
int alert_slo_load(struct alert_engine *e, char *err, size_t errlen);

#endif
