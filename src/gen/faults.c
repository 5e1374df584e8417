/* Fault scenarios: parsing of --fault specs into where x who x effect x
 * window, named presets, binding to a topology, the on/off edges of
 * simulated time with their ground truth lines, and the per-span decision
 * of what the active faults do. */
#include "gen/faults.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "base/units.h"
#include "gen/model.h"

const char *const fault_scenarios[] = {"slow-shard",	  "huge-account", "bad-deploy",
				       "slow-dependency", "noisy-host",	  "retry-storm", NULL};

/* Defaults that need the topology, resolved by fault_set_bind. */
enum {
	NEED_DB_FROM_SHARD = 1,
	NEED_TOP_ACCOUNT = 2,
	NEED_NEW_VERSION = 4,
	NEED_BUSY_HOST = 8,
};

void fault_set_init(struct fault_set *s)
{
	memset(s, 0, sizeof *s);
}

void fault_set_free(struct fault_set *s)
{
	for (uint32_t i = 0; i < s->n; i++)
		for (uint32_t k = 0; k < s->items[i].n_owned; k++)
			free(s->items[i].owned[k]);
	free(s->items);
	memset(s, 0, sizeof *s);
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && err_len)
		vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return CLEW_EINVAL;
}

static const char *own(struct fault *f, const char *s, size_t n)
{
	if (f->n_owned == sizeof f->owned / sizeof f->owned[0])
		return NULL;
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	f->owned[f->n_owned++] = p;
	return p;
}

/* The preset of a named scenario; needs gets what bind must fill in. */
static int preset(struct fault *f, const char *name, unsigned *needs)
{
	f->effect.latency_factor = 1;
	f->effect.size_factor = 1;
	f->effect.http_status = 500;
	f->effect.retry_timeout_ms = 30;
	f->who.shard = -1;
	f->start_ns = 60LL * 1000000000;
	f->duration_ns = 120LL * 1000000000;
	*needs = 0;
	if (strcmp(name, "slow-shard") == 0) {
		f->who.shard = 3;
		f->effect.latency_factor = 8;
		*needs = NEED_DB_FROM_SHARD;
	} else if (strcmp(name, "huge-account") == 0) {
		f->effect.size_factor = 250;
		f->effect.latency_factor = 2.5;
		*needs = NEED_TOP_ACCOUNT;
	} else if (strcmp(name, "bad-deploy") == 0) {
		f->where.service = "accounts";
		f->where.operation = "accounts.v1.Accounts/GetAccount";
		f->effect.version_fraction = 0.34;
		f->effect.error_rate = 0.3;
		f->effect.exc_type = "java.lang.NullPointerException";
		f->effect.exc_message = "Cannot invoke \"Account.getPlan()\" because \"account\" is null";
		*needs = NEED_NEW_VERSION;
	} else if (strcmp(name, "slow-dependency") == 0) {
		f->where.peer_service = "payments-provider";
		f->effect.added_ms = 1500;
	} else if (strcmp(name, "noisy-host") == 0) {
		f->effect.latency_factor = 3;
		*needs = NEED_BUSY_HOST;
	} else if (strcmp(name, "retry-storm") == 0) {
		f->where.peer_service = "accounts";
		f->effect.retries = 3;
		f->effect.retry_timeout_ms = 40;
		f->effect.http_status = 503;
	} else if (strcmp(name, "custom") != 0) {
		return CLEW_EINVAL;
	}
	return 0;
}

static int parse_double(const char *v, double lo, double hi, double *out)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || !(d >= lo && d <= hi))
		return CLEW_EINVAL;
	*out = d;
	return 0;
}

/* Apply one key=value to f. */
static int set_key(struct fault *f, const char *key, const char *val, unsigned *needs, char *err, size_t err_len)
{
	double d;
	int64_t ns;
	uint64_t u;
	const char *v = own(f, val, strlen(val));
	if (!v)
		return fail(err, err_len, "fault %s: too many keys", f->name);
	if (!strcmp(key, "start") || !strcmp(key, "duration") || !strcmp(key, "period")) {
		if (units_parse_duration_ns(v, &ns) < 0 || ns < 0)
			return fail(err, err_len, "fault %s: %s '%s' is not a duration (e.g. 90s, 2m)", f->name, key, v);
		*(key[0] == 's' ? &f->start_ns : key[0] == 'd' ? &f->duration_ns : &f->period_ns) = ns;
	} else if (!strcmp(key, "service"))
		f->where.service = v;
	else if (!strcmp(key, "operation"))
		f->where.operation = v;
	else if (!strcmp(key, "host")) {
		f->where.host = v;
		*needs &= ~(unsigned)NEED_BUSY_HOST;
	} else if (!strcmp(key, "db")) {
		f->where.db_name = v;
		*needs &= ~(unsigned)NEED_DB_FROM_SHARD;
	} else if (!strcmp(key, "peer"))
		f->where.peer_service = v;
	else if (!strcmp(key, "version"))
		f->where.version = v;
	else if (!strcmp(key, "account")) {
		if (model_account_parse(v, &f->who.account) < 0)
			return fail(err, err_len, "fault %s: account '%s' is not acct-NNNNNN", f->name, v);
		f->who.has_account = true;
		*needs &= ~(unsigned)NEED_TOP_ACCOUNT;
	} else if (!strcmp(key, "shard")) {
		if (units_parse_u64(v, &u) < 0 || u > 100000)
			return fail(err, err_len, "fault %s: shard '%s' is not a number", f->name, v);
		f->who.shard = (int32_t)u;
	} else if (!strcmp(key, "tier"))
		f->who.tier = v;
	else if (!strcmp(key, "factor")) {
		if (parse_double(v, 0, 1e6, &d) < 0)
			return fail(err, err_len, "fault %s: factor '%s' must be a number >= 0", f->name, v);
		f->effect.latency_factor = d;
	} else if (!strcmp(key, "add")) {
		if (units_parse_duration_ns(v, &ns) < 0 || ns < 0)
			return fail(err, err_len, "fault %s: add '%s' is not a duration (e.g. 800ms)", f->name, v);
		f->effect.added_ms = (double)ns / 1e6;
	} else if (!strcmp(key, "error_rate")) {
		if (parse_double(v, 0, 1, &d) < 0)
			return fail(err, err_len, "fault %s: error_rate '%s' must be 0..1", f->name, v);
		f->effect.error_rate = d;
	} else if (!strcmp(key, "exception"))
		f->effect.exc_type = v;
	else if (!strcmp(key, "message"))
		f->effect.exc_message = v;
	else if (!strcmp(key, "status")) {
		if (units_parse_u64(v, &u) < 0 || u < 400 || u > 599)
			return fail(err, err_len, "fault %s: status '%s' must be 400..599", f->name, v);
		f->effect.http_status = (int)u;
	} else if (!strcmp(key, "size_factor")) {
		if (parse_double(v, 0, 1e6, &d) < 0)
			return fail(err, err_len, "fault %s: size_factor '%s' must be a number >= 0", f->name, v);
		f->effect.size_factor = d;
	} else if (!strcmp(key, "retries")) {
		if (units_parse_u64(v, &u) < 0 || u > 20)
			return fail(err, err_len, "fault %s: retries '%s' must be 0..20", f->name, v);
		f->effect.retries = (uint32_t)u;
	} else if (!strcmp(key, "retry_timeout")) {
		if (units_parse_duration_ns(v, &ns) < 0 || ns < 0)
			return fail(err, err_len, "fault %s: retry_timeout '%s' is not a duration", f->name, v);
		f->effect.retry_timeout_ms = (double)ns / 1e6;
	} else if (!strcmp(key, "new_version")) {
		f->effect.version = v;
		*needs &= ~(unsigned)NEED_NEW_VERSION;
	} else if (!strcmp(key, "fraction")) {
		if (parse_double(v, 0, 1, &d) < 0)
			return fail(err, err_len, "fault %s: fraction '%s' must be 0..1", f->name, v);
		f->effect.version_fraction = d;
	} else
		return fail(err, err_len, "fault %s: unknown key '%s' (see clew gen --help)", f->name, key);
	return 0;
}

int fault_set_add(struct fault_set *s, const char *spec, char *err, size_t err_len)
{
	const char *colon = strchr(spec, ':');
	size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 8;
		s->items = xrealloc(s->items, s->cap * sizeof *s->items);
	}
	struct fault *f = &s->items[s->n];
	memset(f, 0, sizeof *f);
	unsigned needs;
	if (nlen == 0 || nlen >= sizeof f->name)
		return fail(err, err_len, "fault '%s': no scenario name", spec);
	memcpy(f->name, spec, nlen);
	f->name[nlen] = 0;
	if (preset(f, f->name, &needs) < 0)
		return fail(err, err_len,
			    "unknown fault '%s' (known: slow-shard, huge-account, bad-deploy, slow-dependency, "
			    "noisy-host, retry-storm, custom)",
			    f->name);
	int rc = 0;
	const char *p = colon ? colon + 1 : NULL;
	while (p && *p) {
		const char *comma = strchr(p, ','), *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		char key[32], val[256];
		if (!eq || eq == p || (size_t)(eq - p) >= sizeof key || (size_t)(end - eq - 1) >= sizeof val) {
			rc = fail(err, err_len, "fault %s: '%.*s' is not key=value", f->name, (int)(end - p), p);
			goto out;
		}
		memcpy(key, p, (size_t)(eq - p));
		key[eq - p] = 0;
		memcpy(val, eq + 1, (size_t)(end - eq - 1));
		val[end - eq - 1] = 0;
		if ((rc = set_key(f, key, val, &needs, err, err_len)) < 0)
			goto out;
		p = comma ? comma + 1 : NULL;
	}
	if (f->duration_ns <= 0) {
		rc = fail(err, err_len, "fault %s: duration must be > 0", f->name);
		goto out;
	}
	if (f->period_ns && f->period_ns <= f->duration_ns) {
		rc = fail(err, err_len, "fault %s: period must be longer than duration", f->name);
		goto out;
	}
	/* remember what bind must fill in, in the spare bits of the host */
	f->host = (int32_t)needs;
	s->n++;
out:
	if (rc < 0)
		for (uint32_t k = 0; k < f->n_owned; k++)
			free(f->owned[k]);
	return rc;
}

int fault_set_add_cycle(struct fault_set *s, int64_t period_ns, int64_t on_ns)
{
	uint32_t n = 0;
	while (fault_scenarios[n])
		n++;
	if (on_ns <= 0 || period_ns <= on_ns)
		return CLEW_EINVAL;
	for (uint32_t k = 0; k < n; k++) {
		char spec[160], err[160];
		snprintf(spec, sizeof spec, "%s:start=%lldns,duration=%lldns,period=%lldns", fault_scenarios[k],
			 (long long)(60LL * 1000000000 + (int64_t)k * period_ns), (long long)on_ns,
			 (long long)((int64_t)n * period_ns));
		int rc = fault_set_add(s, spec, err, sizeof err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* "1.4.2" -> "1.5.0"; anything else gets "-next". */
static const char *bump_version(struct fault *f, const char *v)
{
	char tmp[64];
	unsigned long a, b;
	char *e1, *e2;
	a = strtoul(v, &e1, 10);
	if (*e1 == '.' && (b = strtoul(e1 + 1, &e2, 10), e2 != e1 + 1))
		snprintf(tmp, sizeof tmp, "%lu.%lu.0", a, b + 1);
	else
		snprintf(tmp, sizeof tmp, "%.50s-next", v);
	return own(f, tmp, strlen(tmp));
}

static bool peer_exists(const struct topo *t, const char *p)
{
	if (topo_find_service(t, p) >= 0 || topo_find_db(t, p) >= 0)
		return true;
	for (uint32_t i = 0; i < t->n_externals; i++)
		if (!strcmp(t->externals[i].name, p))
			return true;
	return false;
}

static bool db_name_exists(const struct topo *t, const char *name)
{
	for (uint32_t d = 0; d < t->n_dbs; d++)
		for (uint32_t k = 0; k < t->dbs[d].shards; k++)
			if (!strcmp(t->dbs[d].db_names[k], name))
				return true;
	return false;
}

static int bind_one(struct fault_set *s, struct fault *f, const struct topo *t, char *err, size_t err_len)
{
	unsigned needs = (unsigned)f->host;
	const struct topo_db *sharded = NULL;
	for (uint32_t d = 0; d < t->n_dbs && !sharded; d++)
		if (t->dbs[d].shards > 1)
			sharded = &t->dbs[d];
	f->service = f->host = -1;
	if (f->who.shard >= 0 && (uint32_t)f->who.shard >= s->shards)
		return fail(err, err_len, "fault %s: shard %d, but accounts live on %u shards", f->name, f->who.shard,
			    s->shards);
	if (needs & NEED_DB_FROM_SHARD) {
		if (!sharded)
			return fail(err, err_len, "fault %s: the topology has no sharded database", f->name);
		f->where.db_name = sharded->db_names[f->who.shard >= 0 ? (uint32_t)f->who.shard : 0];
	}
	if (needs & NEED_TOP_ACCOUNT) {
		f->who.has_account = true;
		f->who.account = model_account_of_rank(s->accounts > 1 ? 2 : 1, s->accounts);
	}
	if (f->who.has_account && f->who.account >= s->accounts)
		return fail(err, err_len, "fault %s: account %u is beyond --accounts %u", f->name, f->who.account,
			    s->accounts);
	if (f->who.tier && strcmp(f->who.tier, "enterprise") && strcmp(f->who.tier, "business") &&
	    strcmp(f->who.tier, "pro") && strcmp(f->who.tier, "free"))
		return fail(err, err_len, "fault %s: tier must be enterprise, business, pro or free", f->name);
	if (f->where.service) {
		f->service = topo_find_service(t, f->where.service);
		if (f->service < 0)
			return fail(err, err_len, "fault %s: unknown service '%s'", f->name, f->where.service);
		if (f->where.operation && topo_find_op(t, (uint32_t)f->service, f->where.operation) < 0)
			return fail(err, err_len, "fault %s: service '%s' has no operation '%s'", f->name,
				    f->where.service, f->where.operation);
	}
	if (needs & NEED_BUSY_HOST) {
		uint32_t best = 0, best_n = 0;
		for (uint32_t h = 0; h < t->n_hosts; h++) {
			uint32_t n = 0;
			for (uint32_t i = 0; i < t->n_instances; i++)
				n += t->instances[i].host == h;
			if (n > best_n)
				best = h, best_n = n;
		}
		f->where.host = t->hosts[best];
	}
	if (f->where.host) {
		f->host = topo_find_host(t, f->where.host);
		uint64_t u;
		if (f->host < 0 && units_parse_u64(f->where.host, &u) == 0 && u < t->n_hosts) {
			f->host = (int32_t)u;
			f->where.host = t->hosts[u];
		}
		if (f->host < 0)
			return fail(err, err_len, "fault %s: unknown host '%s'", f->name, f->where.host);
	}
	if (f->where.db_name && !db_name_exists(t, f->where.db_name))
		return fail(err, err_len, "fault %s: no database is named '%s'", f->name, f->where.db_name);
	if (f->where.peer_service && !peer_exists(t, f->where.peer_service))
		return fail(err, err_len, "fault %s: unknown peer service '%s'", f->name, f->where.peer_service);
	if ((needs & NEED_NEW_VERSION) && f->service >= 0)
		f->effect.version = bump_version(f, t->services[f->service].version);
	if (f->effect.version) {
		if (f->service < 0)
			return fail(err, err_len, "fault %s: a new version needs a service", f->name);
		if (!(f->effect.version_fraction > 0))
			f->effect.version_fraction = 0.34;
		if (!f->where.version)
			f->where.version = f->effect.version;
	}
	if (f->effect.error_rate > 0) {
		if (!f->effect.exc_type)
			f->effect.exc_type = "java.lang.RuntimeException";
		if (!f->effect.exc_message)
			f->effect.exc_message = "internal error";
	}
	f->on = false;
	f->next_edge_ns = s->origin_ns + f->start_ns;
	return 0;
}

int fault_set_bind(struct fault_set *s, const struct topo *t, int64_t origin_ns, uint32_t accounts, char *err,
		   size_t err_len)
{
	s->origin_ns = origin_ns;
	s->accounts = accounts ? accounts : 1;
	s->shards = 1;
	for (uint32_t d = 0; d < t->n_dbs; d++)
		if (t->dbs[d].shards > 1) {
			s->shards = t->dbs[d].shards;
			break;
		}
	for (uint32_t i = 0; i < s->n; i++) {
		int rc = bind_one(s, &s->items[i], t, err, err_len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

bool fault_active(const struct fault_set *s, const struct fault *f, int64_t t_ns)
{
	int64_t d = t_ns - s->origin_ns - f->start_ns;
	if (d < 0)
		return false;
	if (f->period_ns > 0)
		d %= f->period_ns;
	return d < f->duration_ns;
}

static void write_time(struct json *j, int64_t t_ns)
{
	char tmp[64];
	time_t sec = (time_t)(t_ns >= 0 ? t_ns / 1000000000 : (t_ns - 999999999) / 1000000000);
	int64_t frac = t_ns - (int64_t)sec * 1000000000;
	struct tm tm;
	gmtime_r(&sec, &tm);
	size_t n = strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac)
		snprintf(tmp + n, sizeof tmp - n, ".%09lldZ", (long long)frac);
	else
		snprintf(tmp + n, sizeof tmp - n, "Z");
	json_cstr(j, tmp);
}

static void kv_str(struct json *j, const char *k, const char *v)
{
	if (v) {
		json_key(j, k);
		json_cstr(j, v);
	}
}

void fault_write_truth(const struct fault_set *s, const struct fault *f, bool on, int64_t at_ns, FILE *out)
{
	struct buf b;
	struct json j;
	buf_init(&b, 1 << 16);
	json_init(&j, &b);
	json_obj_begin(&j);
	kv_str(&j, "fault", f->name);
	kv_str(&j, "state", on ? "on" : "off");
	json_key(&j, "at");
	write_time(&j, at_ns);
	json_key(&j, "where");
	json_obj_begin(&j);
	kv_str(&j, "service", f->where.service);
	kv_str(&j, "operation", f->where.operation);
	kv_str(&j, "host", f->where.host);
	kv_str(&j, "db.name", f->where.db_name);
	kv_str(&j, "peer.service", f->where.peer_service);
	kv_str(&j, "service.version", f->where.version);
	json_obj_end(&j);
	json_key(&j, "who");
	json_obj_begin(&j);
	if (f->who.has_account) {
		char id[24];
		model_account_id(f->who.account, id);
		kv_str(&j, "customer.id", id);
	}
	if (f->who.shard >= 0) {
		json_key(&j, "shard");
		json_int(&j, f->who.shard);
	}
	kv_str(&j, "customer.tier", f->who.tier);
	if (!f->who.has_account && f->who.shard < 0 && !f->who.tier) {
		json_key(&j, "all");
		json_bool(&j, true);
	}
	json_obj_end(&j);
	json_key(&j, "effect");
	json_obj_begin(&j);
	const struct fault_effect *e = &f->effect;
	if (e->latency_factor != 1) {
		json_key(&j, "latency_factor");
		json_double(&j, e->latency_factor);
	}
	if (e->added_ms) {
		json_key(&j, "added_ms");
		json_double(&j, e->added_ms);
	}
	if (e->error_rate > 0) {
		json_key(&j, "error_rate");
		json_double(&j, e->error_rate);
		kv_str(&j, "exception.type", e->exc_type);
		kv_str(&j, "exception.message", e->exc_message);
		json_key(&j, "http_status");
		json_int(&j, e->http_status);
	}
	if (e->size_factor != 1) {
		json_key(&j, "size_factor");
		json_double(&j, e->size_factor);
	}
	if (e->retries) {
		json_key(&j, "retries");
		json_uint(&j, e->retries);
		json_key(&j, "retry_timeout_ms");
		json_double(&j, e->retry_timeout_ms);
	}
	if (e->version) {
		kv_str(&j, "service.version", e->version);
		json_key(&j, "fraction");
		json_double(&j, e->version_fraction);
	}
	json_obj_end(&j);
	json_key(&j, "window");
	json_obj_begin(&j);
	json_key(&j, "start");
	write_time(&j, s->origin_ns + f->start_ns);
	json_key(&j, "duration_s");
	json_double(&j, (double)f->duration_ns / 1e9);
	if (f->period_ns) {
		json_key(&j, "period_s");
		json_double(&j, (double)f->period_ns / 1e9);
	}
	json_obj_end(&j);
	json_obj_end(&j);
	buf_append_byte(&b, '\n');
	if (!b.err) {
		fwrite(b.p, 1, b.len, out);
		fflush(out);
	}
	buf_free(&b);
}

void fault_set_advance(struct fault_set *s, int64_t now_ns)
{
	for (uint32_t i = 0; i < s->n; i++) {
		struct fault *f = &s->items[i];
		while (f->next_edge_ns <= now_ns) {
			int64_t edge = f->next_edge_ns;
			f->on = !f->on;
			if (s->truth)
				fault_write_truth(s, f, f->on, edge, s->truth);
			if (f->on)
				f->next_edge_ns = edge + f->duration_ns;
			else if (f->period_ns)
				f->next_edge_ns = edge - f->duration_ns + f->period_ns;
			else
				f->next_edge_ns = INT64_MAX;
		}
	}
}

const char *fault_instance_version(const struct fault_set *s, uint32_t service, uint32_t local_index,
				   uint32_t n_instances, int64_t t_ns)
{
	for (uint32_t i = 0; i < s->n; i++) {
		const struct fault *f = &s->items[i];
		if (!f->effect.version || f->service != (int32_t)service || !fault_active(s, f, t_ns))
			continue;
		double k = floor(f->effect.version_fraction * n_instances + 0.5);
		if (local_index < (k < 1 ? 1 : (uint32_t)k))
			return f->effect.version;
	}
	return NULL;
}

static bool who_matches(const struct fault_set *s, const struct fault *f, const struct fault_span *sp)
{
	if (f->who.has_account && sp->account != f->who.account)
		return false;
	if (f->who.shard >= 0 && model_account_shard(sp->account, s->shards) != (uint32_t)f->who.shard)
		return false;
	if (f->who.tier && (!sp->tier || strcmp(f->who.tier, sp->tier) != 0))
		return false;
	return true;
}

static bool where_matches(const struct fault *f, const struct fault_span *sp)
{
	const struct fault_where *w = &f->where;
	bool targets_dep = w->db_name || w->peer_service;
	if (targets_dep != sp->client)
		return false;
	if (w->db_name && (!sp->db_name || strcmp(w->db_name, sp->db_name) != 0))
		return false;
	if (w->peer_service && (!sp->peer || strcmp(w->peer_service, sp->peer) != 0))
		return false;
	if (f->service >= 0 && (uint32_t)f->service != sp->service)
		return false;
	if (w->operation && (!sp->operation || strcmp(w->operation, sp->operation) != 0))
		return false;
	if (f->host >= 0 && (uint32_t)f->host != sp->host)
		return false;
	if (w->version && (!sp->version || strcmp(w->version, sp->version) != 0))
		return false;
	return true;
}

bool fault_apply(const struct fault_set *s, const struct fault_span *sp, struct fault_hit *hit)
{
	bool any = false;
	memset(hit, 0, sizeof *hit);
	hit->latency_factor = 1;
	hit->size_factor = 1;
	for (uint32_t i = 0; i < s->n; i++) {
		const struct fault *f = &s->items[i];
		if (!fault_active(s, f, sp->t_ns) || !where_matches(f, sp) || !who_matches(s, f, sp))
			continue;
		const struct fault_effect *e = &f->effect;
		any = true;
		hit->latency_factor *= e->latency_factor;
		hit->added_ms += e->added_ms;
		hit->size_factor *= e->size_factor;
		if (e->error_rate > hit->error_rate) {
			hit->error_rate = e->error_rate;
			hit->exc_type = e->exc_type;
			hit->exc_message = e->exc_message;
			hit->http_status = e->http_status;
		}
		if (e->retries > hit->retries) {
			hit->retries = e->retries;
			hit->retry_timeout_ms = e->retry_timeout_ms;
			if (!hit->http_status)
				hit->http_status = e->http_status;
		}
	}
	return any;
}
