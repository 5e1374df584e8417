/* The service and account catalog (see catalog.h): a jansson document under
 * a mutex; every change is validated, then written to catalog.json with the
 * durable replace pattern before it is visible. */
#include "alert/catalog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_state.h"
#include "base/alloc.h"
#include "base/err.h"

struct catalog {
	pthread_mutex_t lock;
	char *path;
	json_t *doc; /* {"services": {name: {...}}, "accounts": {id: {...}}} */
};

static const char *const service_fields[] = {"team", "tier", "channel", "runbook", "repository", "description"};
static const char *const account_fields[] = {"name", "tier", "owner", "channel"};

static bool known_field(const char *kind, const char *f)
{
	bool svc = strcmp(kind, "services") == 0;
	const char *const *names = svc ? service_fields : account_fields;
	size_t n = svc ? 6 : 4;
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], f) == 0)
			return true;
	return false;
}

/* A validated copy of one entry (string fields only), or NULL with err. */
static json_t *clean_entry(const char *kind, const char *key, json_t *e, char *err, size_t errlen)
{
	if (!json_is_object(e)) {
		snprintf(err, errlen, "%s entry \"%s\" must be an object", kind, key);
		return NULL;
	}
	if (!*key || strlen(key) > 256) {
		snprintf(err, errlen, "%s: every entry needs a non-empty %s of at most 256 bytes", kind,
			 strcmp(kind, "services") == 0 ? "name" : "id");
		return NULL;
	}
	json_t *out = json_object();
	const char *f;
	json_t *v;
	json_object_foreach (e, f, v) {
		if (strcmp(f, "name") == 0 && strcmp(kind, "services") == 0)
			continue;
		if (strcmp(f, "id") == 0)
			continue;
		if (!known_field(kind, f)) {
			snprintf(err, errlen, "%s \"%s\": unknown field \"%s\"", kind, key, f);
			json_decref(out);
			return NULL;
		}
		if (!json_is_string(v) || json_string_length(v) > 2048) {
			snprintf(err, errlen, "%s \"%s\": \"%s\" must be a string", kind, key, f);
			json_decref(out);
			return NULL;
		}
		if (strcmp(f, "channel") == 0 && json_string_length(v) &&
		    strncmp(json_string_value(v), "http://", 7) != 0 && strncmp(json_string_value(v), "https://", 8) != 0) {
			snprintf(err, errlen, "%s \"%s\": \"channel\" must be an http:// or https:// webhook URL", kind,
				 key);
			json_decref(out);
			return NULL;
		}
		json_object_set(out, f, v);
	}
	return out;
}

/* Entries of one kind from doc (an array of objects with name/id, or an
 * object keyed by them) into dst. 0 or CLEW_EINVAL. */
static int merge_kind(json_t *dst, json_t *doc, const char *kind, char *err, size_t errlen)
{
	json_t *src = json_object_get(doc, kind);
	const char *idf = strcmp(kind, "services") == 0 ? "name" : "id";
	if (!src || json_is_null(src))
		return 0;
	if (json_is_array(src)) {
		size_t i;
		json_t *e;
		json_array_foreach (src, i, e) {
			json_t *k = json_object_get(e, idf);
			if (!json_is_string(k)) {
				snprintf(err, errlen, "%s[%zu] needs a string \"%s\"", kind, i, idf);
				return CLEW_EINVAL;
			}
			json_t *c = clean_entry(kind, json_string_value(k), e, err, errlen);
			if (!c)
				return CLEW_EINVAL;
			json_object_set_new(dst, json_string_value(k), c);
		}
		return 0;
	}
	if (json_is_object(src)) {
		const char *k;
		json_t *e;
		json_object_foreach (src, k, e) {
			json_t *c = clean_entry(kind, k, e, err, errlen);
			if (!c)
				return CLEW_EINVAL;
			json_object_set_new(dst, k, c);
		}
		return 0;
	}
	snprintf(err, errlen, "\"%s\" must be an array of objects", kind);
	return CLEW_EINVAL;
}

static json_t *empty_doc(void)
{
	json_t *d = json_object();
	json_object_set_new(d, "services", json_object());
	json_object_set_new(d, "accounts", json_object());
	return d;
}

static int save(struct catalog *c)
{
	if (!c->path)
		return 0;
	char *text = json_dumps(c->doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (!text)
		return CLEW_ENOMEM;
	int rc = alert_write_durable(c->path, text, strlen(text));
	free(text);
	return rc;
}

struct catalog *catalog_open(const char *path, int *rc, char *err, size_t errlen)
{
	struct catalog *c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->lock, NULL);
	c->path = path ? xstrdup(path) : NULL;
	c->doc = empty_doc();
	*rc = 0;
	if (path) {
		FILE *f = fopen(path, "rb");
		if (f) {
			json_error_t je;
			json_t *d = json_loadf(f, 0, &je);
			fclose(f);
			if (!d) {
				snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
				*rc = CLEW_ECORRUPT;
			} else {
				char e2[200];
				if (merge_kind(json_object_get(c->doc, "services"), d, "services", e2, sizeof e2) < 0 ||
				    merge_kind(json_object_get(c->doc, "accounts"), d, "accounts", e2, sizeof e2) < 0) {
					snprintf(err, errlen, "%s: %s", path, e2);
					*rc = CLEW_ECORRUPT;
				}
				json_decref(d);
			}
		}
	}
	if (*rc < 0) {
		catalog_free(c);
		return NULL;
	}
	return c;
}

void catalog_free(struct catalog *c)
{
	if (!c)
		return;
	json_decref(c->doc);
	free(c->path);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int catalog_put(struct catalog *c, json_t *doc, bool merge, char *err, size_t errlen)
{
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "the catalog must be an object {\"services\": [...], \"accounts\": [...]}");
		return CLEW_EINVAL;
	}
	const char *k;
	json_t *v;
	json_object_foreach (doc, k, v) {
		if (strcmp(k, "services") != 0 && strcmp(k, "accounts") != 0) {
			snprintf(err, errlen, "unknown catalog section \"%s\" (services, accounts)", k);
			return CLEW_EINVAL;
		}
	}
	pthread_mutex_lock(&c->lock);
	json_t *next = merge ? json_deep_copy(c->doc) : empty_doc();
	int rc;
	if ((rc = merge_kind(json_object_get(next, "services"), doc, "services", err, errlen)) < 0 ||
	    (rc = merge_kind(json_object_get(next, "accounts"), doc, "accounts", err, errlen)) < 0) {
		json_decref(next);
		goto out;
	}
	json_t *old = c->doc;
	c->doc = next;
	if ((rc = save(c)) < 0) {
		c->doc = old;
		json_decref(next);
		snprintf(err, errlen, "could not save the catalog: %s", err_str(rc));
		goto out;
	}
	json_decref(old);
out:
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static bool valid_kind(const char *kind)
{
	return kind && (strcmp(kind, "services") == 0 || strcmp(kind, "accounts") == 0);
}

int catalog_put_entry(struct catalog *c, const char *kind, const char *key, json_t *entry, char *err, size_t errlen)
{
	if (!valid_kind(kind)) {
		snprintf(err, errlen, "unknown catalog section");
		return CLEW_ENOTFOUND;
	}
	json_t *clean = NULL;
	if (entry && !(clean = clean_entry(kind, key, entry, err, errlen)))
		return CLEW_EINVAL;
	pthread_mutex_lock(&c->lock);
	int rc = 0;
	json_t *sect = json_object_get(c->doc, kind);
	json_t *old = json_object_get(sect, key);
	if (old)
		json_incref(old);
	if (clean) {
		json_object_set_new(sect, key, clean);
	} else if (!old) {
		snprintf(err, errlen, "no such entry");
		rc = CLEW_ENOTFOUND;
		goto out;
	} else {
		json_object_del(sect, key);
	}
	if ((rc = save(c)) < 0) {
		if (old)
			json_object_set(sect, key, old);
		else
			json_object_del(sect, key);
		snprintf(err, errlen, "could not save the catalog: %s", err_str(rc));
	}
out:
	if (old)
		json_decref(old);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static void dump_entry(const char *kind, const char *key, json_t *e, struct buf *out)
{
	json_t *c = json_deep_copy(e);
	json_object_set_new(c, strcmp(kind, "services") == 0 ? "name" : "id", json_string(key));
	char *t = json_dumps(c, JSON_SORT_KEYS | JSON_COMPACT);
	if (t)
		buf_append_cstr(out, t);
	free(t);
	json_decref(c);
}

int catalog_write(struct catalog *c, const char *kind, const char *key, struct buf *out)
{
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	if (kind && !valid_kind(kind)) {
		rc = CLEW_ENOTFOUND;
	} else if (kind && key) {
		json_t *e = json_object_get(json_object_get(c->doc, kind), key);
		if (!e)
			rc = CLEW_ENOTFOUND;
		else
			dump_entry(kind, key, e, out);
	} else {
		/* as arrays, the shape a catalog file is written in */
		static const char *const kinds[] = {"services", "accounts"};
		bool whole = !kind;
		if (whole)
			buf_append_byte(out, '{');
		for (int k = 0, n = 0; k < 2; k++) {
			if (kind && strcmp(kind, kinds[k]) != 0)
				continue;
			if (whole)
				buf_printf(out, "%s\"%s\":", n++ ? "," : "", kinds[k]);
			buf_append_byte(out, '[');
			const char *name;
			json_t *e;
			int m = 0;
			json_object_foreach (json_object_get(c->doc, kinds[k]), name, e) {
				if (m++)
					buf_append_byte(out, ',');
				dump_entry(kinds[k], name, e, out);
			}
			buf_append_byte(out, ']');
		}
		if (whole)
			buf_append_byte(out, '}');
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static bool field(struct catalog *c, const char *kind, const char *key, const char *f, char *out, size_t cap)
{
	if (cap)
		out[0] = 0;
	if (!key || !*key)
		return false;
	pthread_mutex_lock(&c->lock);
	json_t *v = json_object_get(json_object_get(json_object_get(c->doc, kind), key), f);
	bool ok = json_is_string(v);
	if (ok)
		snprintf(out, cap, "%s", json_string_value(v));
	pthread_mutex_unlock(&c->lock);
	return ok;
}

bool catalog_service_field(struct catalog *c, const char *service, const char *f, char *out, size_t cap)
{
	return field(c, "services", service, f, out, cap);
}

bool catalog_account_field(struct catalog *c, const char *account, const char *f, char *out, size_t cap)
{
	return field(c, "accounts", account, f, out, cap);
}
