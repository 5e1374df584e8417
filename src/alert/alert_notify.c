/* The notification worker (see alert_notify.h): one thread drives a curl
 * multi handle. Items wait in a list ordered by nothing in particular; each
 * loop starts the due ones, collects finished transfers, and schedules
 * failed ones again after backoff * 2^(attempt-1) (capped). A 2xx answer is
 * success; anything else, or no answer within the timeout, is retried. */
#include "alert/alert_notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert/alert_state.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

#define LOG_RING 1000
#define MAX_CONCURRENT 256

struct item {
	struct item *next;
	uint64_t seq;
	enum alert_target_type type;
	char *url, *routing_key, *payload;
	char *body; /* formatted at the first attempt */
	uint32_t attempts;
	int64_t due_ns;
	CURL *easy; /* while in flight */
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
};

struct log_ent {
	uint64_t seq;
	int64_t time_ns;
	char url[256];
	enum alert_target_type type;
	const char *status;
	uint32_t attempt;
	long http_status;
	char error[160];
};

struct alert_notifier {
	struct alert_notifier_options o;
	pthread_mutex_t lock;
	pthread_t thread;
	bool stop;
	CURLM *multi;
	struct item *queue; /* waiting (for the first attempt or a retry) */
	struct item *flying;
	uint32_t n_pending;
	struct log_ent ring[LOG_RING];
	uint64_t n_log;
	int log_fd;
	uint64_t log_bytes; /* the log's size, to know when to trim it */
};

static void item_free(struct item *it)
{
	if (it->easy)
		curl_easy_cleanup(it->easy);
	curl_slist_free_all(it->headers);
	free(it->url);
	free(it->routing_key);
	free(it->payload);
	free(it->body);
	free(it);
}

/* ---- formats ---- */

static const char *str_of(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : "";
}

static void labels_text(json_t *labels, struct buf *out)
{
	const char *k;
	json_t *v;
	int n = 0;
	json_object_foreach (labels, k, v) {
		buf_printf(out, "%s%s=%s", n++ ? ", " : "", k, json_is_string(v) ? json_string_value(v) : "?");
	}
}

static void summary(json_t *p, struct buf *out)
{
	bool firing = strcmp(str_of(p, "status"), "firing") == 0;
	buf_printf(out, "[%s] %s", firing ? "FIRING" : "RESOLVED", str_of(p, "rule"));
	json_t *labels = json_object_get(p, "labels");
	if (json_object_size(labels)) {
		buf_append_cstr(out, " (");
		labels_text(labels, out);
		buf_append_cstr(out, ")");
	}
	json_t *v = json_object_get(p, "value"), *t = json_object_get(p, "threshold");
	if (json_is_number(v) && json_is_number(t))
		buf_printf(out, ": value %.4g %s threshold %.4g", json_number_value(v),
			   firing ? str_of(json_object_get(p, "condition"), "op") : "vs", json_number_value(t));
	if (*str_of(p, "owner"))
		buf_printf(out, ", owner %s", str_of(p, "owner"));
}

int alert_format_body(enum alert_target_type t, json_t *p, const char *routing_key, struct buf *out)
{
	if (!json_is_object(p))
		return CLEW_EINVAL;
	char *text = NULL;
	json_t *doc = NULL;
	struct buf s;
	buf_init(&s, 64 * 1024);
	summary(p, &s);
	buf_append_byte(&s, 0);
	const char *sum = s.err ? str_of(p, "rule") : (const char *)s.p;
	switch (t) {
	case ALERT_TARGET_WEBHOOK: text = json_dumps(p, JSON_COMPACT); break;
	case ALERT_TARGET_SLACK: {
		struct buf d;
		buf_init(&d, 64 * 1024);
		json_t *rc = json_object_get(p, "rootCause");
		size_t i;
		json_t *c;
		if (json_is_array(rc) && json_array_size(rc)) {
			buf_append_cstr(&d, "Top correlations: ");
			json_array_foreach (rc, i, c) {
				if (i >= 3)
					break;
				buf_printf(&d, "%s%s=%s", i ? ", " : "", str_of(c, "key"), str_of(c, "value"));
			}
			buf_append_cstr(&d, "\n");
		}
		json_t *cp = json_object_get(p, "criticalPath");
		if (json_is_object(cp) && *str_of(cp, "service"))
			buf_printf(&d, "Critical path: %s %s\n", str_of(cp, "service"), str_of(cp, "name"));
		json_t *ex = json_object_get(p, "exampleTraceIds");
		if (json_array_size(ex)) {
			buf_append_cstr(&d, "Example traces: ");
			json_array_foreach (ex, i, c)
				buf_printf(&d, "%s%s", i ? ", " : "", json_is_string(c) ? json_string_value(c) : "");
			buf_append_cstr(&d, "\n");
		}
		buf_append_byte(&d, 0);
		bool firing = strcmp(str_of(p, "status"), "firing") == 0;
		doc = json_pack("{s:s, s:[{s:s, s:s, s:s, s:s, s:s}]}", "text", sum, "attachments", "color",
				firing ? "danger" : "good", "title", str_of(p, "rule"), "title_link", str_of(p, "url"),
				"text", d.err ? "" : (const char *)d.p, "footer", "clew");
		buf_free(&d);
		if (doc)
			text = json_dumps(doc, JSON_COMPACT);
		break;
	}
	case ALERT_TARGET_PAGERDUTY: {
		bool firing = strcmp(str_of(p, "status"), "firing") == 0;
		const char *sev = str_of(p, "severity");
		char dedup[512];
		struct buf lb;
		buf_init(&lb, 4096);
		labels_text(json_object_get(p, "labels"), &lb);
		buf_append_byte(&lb, 0);
		snprintf(dedup, sizeof dedup, "clew/%s/%s", str_of(p, "ruleId"), lb.err ? "" : (const char *)lb.p);
		buf_free(&lb);
		doc = json_pack("{s:s, s:s, s:s, s:[{s:s, s:s}]}", "routing_key", routing_key ? routing_key : "",
				"event_action", firing ? "trigger" : "resolve", "dedup_key", dedup, "links", "href",
				str_of(p, "url"), "text", "Open in clew");
		if (doc && firing) {
			json_t *pl = json_pack("{s:s, s:s, s:s}", "summary", sum, "source",
					       *str_of(p, "service") ? str_of(p, "service") : "clew", "severity",
					       strcmp(sev, "critical") == 0 ? "critical"
					       : strcmp(sev, "info") == 0  ? "info"
									   : "warning");
			json_object_set(pl, "custom_details", p);
			if (*str_of(p, "owner"))
				json_object_set_new(pl, "group", json_string(str_of(p, "owner")));
			json_object_set_new(doc, "payload", pl);
		}
		if (doc)
			text = json_dumps(doc, JSON_COMPACT);
		break;
	}
	}
	buf_free(&s);
	json_decref(doc);
	if (!text)
		return CLEW_EINVAL;
	buf_append_cstr(out, text);
	free(text);
	return out->err;
}

/* ---- log ---- */

/* The last max_bytes (at most) of the file at path from the start of a
 * line, NUL-terminated, into *text (malloc'd; NULL when empty); the file's
 * size into *size. 0, or -errno (-ENOENT when there is no file). */
static int read_tail_lines(const char *path, size_t max_bytes, char **text, size_t *len, uint64_t *size)
{
	*text = NULL;
	*len = 0;
	*size = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = 0;
	off_t end = lseek(fd, 0, SEEK_END);
	if (end <= 0) {
		rc = end < 0 ? -errno : 0;
		goto out;
	}
	*size = (uint64_t)end;
	off_t from = (uint64_t)end > max_bytes ? end - (off_t)max_bytes : 0;
	char *buf = try_malloc((size_t)(end - from) + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	ssize_t got = pread(fd, buf, (size_t)(end - from), from);
	if (got < 0) {
		rc = -errno;
		free(buf);
		goto out;
	}
	buf[got] = 0;
	/* the first line is cut unless the byte before it ends a line */
	char before = '\n';
	if (from > 0 && pread(fd, &before, 1, from - 1) != 1)
		before = 0;
	size_t skip = 0;
	if (before != '\n') {
		char *nl = memchr(buf, '\n', (size_t)got);
		skip = nl ? (size_t)(nl + 1 - buf) : (size_t)got;
	}
	memmove(buf, buf + skip, (size_t)got - skip + 1);
	*text = buf;
	*len = (size_t)got - skip;
out:
	close(fd);
	return rc;
}

int alert_notify_log_trim(const char *path, size_t keep_bytes)
{
	char *text;
	size_t len;
	uint64_t size;
	int rc = read_tail_lines(path, keep_bytes, &text, &len, &size);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && size > keep_bytes)
		rc = alert_write_durable(path, text, len);
	free(text);
	return rc;
}

/* The log passed its limit: keep its newest quarter and append to that.
 * Only the worker writes the log, so nothing is appended meanwhile. The
 * sent records a restart needs are those of the outbox alerts.json still
 * holds, saved at the next evaluation: far newer than a quarter of the log. */
static void rotate_log(struct alert_notifier *n)
{
	int rc = alert_notify_log_trim(n->o.log_path, (size_t)(n->o.log_max_bytes / 4));
	if (rc < 0) {
		log_warn("alerts: could not trim the delivery log %s: %s", n->o.log_path, strerror(-rc));
		n->log_bytes = 0; /* try again after another limit's worth */
		return;
	}
	int fd = open(n->o.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_warn("alerts: cannot reopen %s: %s; deliveries are not recorded on disk", n->o.log_path,
			 strerror(errno));
		close(n->log_fd);
		n->log_fd = -1;
		return;
	}
	close(n->log_fd);
	n->log_fd = fd;
	struct stat st;
	n->log_bytes = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void log_delivery(struct alert_notifier *n, const struct item *it, const char *status, long http,
			 const char *error)
{
	struct log_ent *e = &n->ring[n->n_log++ % LOG_RING];
	memset(e, 0, sizeof *e);
	e->seq = it->seq;
	e->time_ns = clock_now_unix_ns();
	snprintf(e->url, sizeof e->url, "%s", it->url);
	e->type = it->type;
	e->status = status;
	e->attempt = it->attempts;
	e->http_status = http;
	snprintf(e->error, sizeof e->error, "%s", error ? error : "");
	if (n->log_fd >= 0) {
		struct buf b;
		buf_init(&b, 8192);
		struct json j;
		json_init(&j, &b);
		json_obj_begin(&j);
		json_key(&j, "seq");
		json_uint(&j, e->seq);
		json_key(&j, "timeNs");
		json_int(&j, e->time_ns);
		json_key(&j, "status");
		json_cstr(&j, status);
		json_key(&j, "type");
		json_cstr(&j, alert_target_type_name(e->type));
		json_key(&j, "url");
		json_cstr(&j, e->url);
		json_key(&j, "attempt");
		json_uint(&j, e->attempt);
		json_key(&j, "httpStatus");
		json_int(&j, http);
		json_key(&j, "error");
		json_cstr(&j, e->error);
		json_obj_end(&j);
		buf_append_byte(&b, '\n');
		if (!b.err) {
			ssize_t w = write(n->log_fd, b.p, b.len);
			/* a sent record is what a restart trusts: make it durable */
			if (w == (ssize_t)b.len && strcmp(status, "sent") == 0)
				fdatasync(n->log_fd);
			else if (w != (ssize_t)b.len)
				log_warn("alerts: could not append to the delivery log: %s", strerror(errno));
			if (w > 0)
				n->log_bytes += (uint64_t)w;
		}
		buf_free(&b);
		if (n->log_bytes > n->o.log_max_bytes)
			rotate_log(n);
	}
}

/* The newest LOG_RING entries of the delivery log at path into the ring,
 * so that the API's history carries on across a restart. The file's tail
 * only is read; a line that does not parse (torn by a crash) is skipped. */
static void load_log_tail(struct alert_notifier *n, const char *path)
{
	char *text;
	size_t len;
	uint64_t size;
	if (read_tail_lines(path, (size_t)LOG_RING * 2048, &text, &len, &size) < 0 || !text)
		return;
	char *line = text;
	while (*line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		json_t *o = json_loads(line, 0, NULL);
		const char *st = o ? str_of(o, "status") : "";
		const char *status = strcmp(st, "sent") == 0	   ? "sent"
				     : strcmp(st, "retrying") == 0 ? "retrying"
				     : strcmp(st, "failed") == 0   ? "failed"
								   : NULL;
		if (status && json_is_integer(json_object_get(o, "seq"))) {
			struct log_ent *e = &n->ring[n->n_log++ % LOG_RING];
			memset(e, 0, sizeof *e);
			e->seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
			e->time_ns = (int64_t)json_integer_value(json_object_get(o, "timeNs"));
			snprintf(e->url, sizeof e->url, "%s", str_of(o, "url"));
			const char *t = str_of(o, "type");
			e->type = strcmp(t, "slack") == 0 ? ALERT_TARGET_SLACK
				  : strcmp(t, "pagerduty") == 0 ? ALERT_TARGET_PAGERDUTY
								: ALERT_TARGET_WEBHOOK;
			e->status = status;
			e->attempt = (uint32_t)json_integer_value(json_object_get(o, "attempt"));
			e->http_status = (long)json_integer_value(json_object_get(o, "httpStatus"));
			snprintf(e->error, sizeof e->error, "%s", str_of(o, "error"));
		}
		json_decref(o);
		if (!nl)
			break;
		line = nl + 1;
	}
	free(text);
}

void alert_notifier_write_log(struct alert_notifier *n, struct json *j, uint32_t limit)
{
	pthread_mutex_lock(&n->lock);
	json_arr_begin(j);
	uint64_t have = n->n_log < LOG_RING ? n->n_log : LOG_RING;
	for (uint64_t k = 0; k < have && k < limit; k++) {
		const struct log_ent *e = &n->ring[(n->n_log - 1 - k) % LOG_RING];
		json_obj_begin(j);
		json_key(j, "seq");
		json_uint(j, e->seq);
		json_key(j, "time");
		json_double(j, (double)e->time_ns / 1e9);
		json_key(j, "status");
		json_cstr(j, e->status);
		json_key(j, "type");
		json_cstr(j, alert_target_type_name(e->type));
		json_key(j, "url");
		json_cstr(j, e->url);
		json_key(j, "attempt");
		json_uint(j, e->attempt);
		json_key(j, "httpStatus");
		json_int(j, e->http_status);
		json_key(j, "error");
		json_cstr(j, e->error);
		json_obj_end(j);
	}
	json_arr_end(j);
	pthread_mutex_unlock(&n->lock);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int alert_notify_read_sent(const char *path, uint64_t **seqs, size_t *n)
{
	*seqs = NULL;
	*n = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	char line[8192];
	while (fgets(line, sizeof line, f)) {
		json_t *o = json_loads(line, 0, NULL); /* a torn last line is skipped */
		if (o && strcmp(str_of(o, "status"), "sent") == 0 && json_is_integer(json_object_get(o, "seq"))) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				*seqs = xrealloc(*seqs, cap * sizeof **seqs);
			}
			(*seqs)[(*n)++] = (uint64_t)json_integer_value(json_object_get(o, "seq"));
		}
		json_decref(o);
	}
	fclose(f);
	if (*n)
		qsort(*seqs, *n, sizeof **seqs, cmp_u64);
	return 0;
}

/* ---- worker ---- */

static size_t discard(char *p, size_t size, size_t nmemb, void *ctx)
{
	(void)p;
	(void)ctx;
	return size * nmemb;
}

static void start(struct alert_notifier *n, struct item *it)
{
	if (!it->body) {
		json_t *p = json_loads(it->payload, 0, NULL);
		struct buf b;
		buf_init(&b, 4u << 20);
		if (p && n->o.enrich && strcmp(str_of(p, "status"), "firing") == 0)
			n->o.enrich(n->o.ctx, p);
		if (!p || alert_format_body(it->type, p, it->routing_key, &b) < 0)
			buf_append_cstr(&b, it->payload);
		buf_append_byte(&b, 0);
		it->body = xstrdup(b.err ? it->payload : (const char *)b.p);
		buf_free(&b);
		json_decref(p);
	}
	it->attempts++;
	it->easy = curl_easy_init();
	it->headers = curl_slist_append(NULL, "Content-Type: application/json");
	it->headers = curl_slist_append(it->headers, "User-Agent: clew-alerts");
	it->errbuf[0] = 0;
	curl_easy_setopt(it->easy, CURLOPT_URL, it->url);
	curl_easy_setopt(it->easy, CURLOPT_POSTFIELDS, it->body);
	curl_easy_setopt(it->easy, CURLOPT_HTTPHEADER, it->headers);
	curl_easy_setopt(it->easy, CURLOPT_TIMEOUT_MS, (long)(n->o.timeout_ns / 1000000));
	curl_easy_setopt(it->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(n->o.timeout_ns / 1000000));
	curl_easy_setopt(it->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(it->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(it->easy, CURLOPT_ERRORBUFFER, it->errbuf);
	curl_easy_setopt(it->easy, CURLOPT_PRIVATE, it);
	curl_easy_setopt(it->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_multi_add_handle(n->multi, it->easy);
}

static void finish(struct alert_notifier *n, struct item *it, CURLcode res)
{
	long http = 0;
	curl_easy_getinfo(it->easy, CURLINFO_RESPONSE_CODE, &http);
	curl_multi_remove_handle(n->multi, it->easy);
	curl_easy_cleanup(it->easy);
	it->easy = NULL;
	curl_slist_free_all(it->headers);
	it->headers = NULL;
	/* unlink from flying */
	for (struct item **pp = &n->flying; *pp; pp = &(*pp)->next)
		if (*pp == it) {
			*pp = it->next;
			break;
		}
	char err[CURL_ERROR_SIZE + 32];
	if (res != CURLE_OK)
		snprintf(err, sizeof err, "%s", it->errbuf[0] ? it->errbuf : curl_easy_strerror(res));
	else if (http >= 200 && http < 300)
		err[0] = 0;
	else
		snprintf(err, sizeof err, "HTTP %ld", http);
	bool ok = res == CURLE_OK && http >= 200 && http < 300;
	if (ok || it->attempts >= n->o.max_attempts) {
		log_delivery(n, it, ok ? "sent" : "failed", http, err);
		if (!ok)
			log_warn("alerts: gave up notification %llu to %s after %u attempts: %s",
				 (unsigned long long)it->seq, it->url, it->attempts, err);
		n->n_pending--;
		uint64_t seq = it->seq;
		item_free(it);
		pthread_mutex_unlock(&n->lock);
		if (n->o.done)
			n->o.done(n->o.ctx, seq, ok);
		pthread_mutex_lock(&n->lock);
		return;
	}
	log_delivery(n, it, "retrying", http, err);
	int64_t d = n->o.backoff_ns;
	for (uint32_t k = 1; k < it->attempts && d < n->o.backoff_max_ns; k++)
		d *= 2;
	if (d > n->o.backoff_max_ns)
		d = n->o.backoff_max_ns;
	it->due_ns = clock_mono_ns() + d;
	it->next = n->queue;
	n->queue = it;
}

static void *worker(void *arg)
{
	struct alert_notifier *n = arg;
	pthread_mutex_lock(&n->lock);
	while (!n->stop) {
		int64_t now = clock_mono_ns(), next_due = now + 1000000000LL;
		uint32_t flying = 0;
		for (struct item *f = n->flying; f; f = f->next)
			flying++;
		for (struct item **pp = &n->queue; *pp;) {
			struct item *it = *pp;
			if (it->due_ns <= now && flying < MAX_CONCURRENT) {
				*pp = it->next;
				it->next = n->flying;
				n->flying = it;
				flying++;
				pthread_mutex_unlock(&n->lock);
				start(n, it); /* may run the enrich callback: not under the lock */
				pthread_mutex_lock(&n->lock);
				continue;
			}
			if (it->due_ns < next_due)
				next_due = it->due_ns;
			pp = &it->next;
		}
		pthread_mutex_unlock(&n->lock);
		int running = 0, msgs;
		curl_multi_perform(n->multi, &running);
		CURLMsg *m;
		pthread_mutex_lock(&n->lock);
		while ((m = curl_multi_info_read(n->multi, &msgs))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct item *it = NULL;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&it);
			finish(n, it, m->data.result);
		}
		pthread_mutex_unlock(&n->lock);
		int64_t wait_ms = (next_due - clock_mono_ns()) / 1000000;
		if (wait_ms < 1)
			wait_ms = 1;
		if (wait_ms > 1000)
			wait_ms = 1000;
		curl_multi_poll(n->multi, NULL, 0, (int)wait_ms, NULL);
		pthread_mutex_lock(&n->lock);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct alert_notifier *alert_notifier_new(const struct alert_notifier_options *o)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, curl_init_once);
	struct alert_notifier *n = xcalloc(1, sizeof *n);
	n->o = *o;
	if (!n->o.timeout_ns)
		n->o.timeout_ns = 10000000000LL;
	if (!n->o.backoff_ns)
		n->o.backoff_ns = 1000000000LL;
	if (!n->o.backoff_max_ns)
		n->o.backoff_max_ns = 300000000000LL;
	if (!n->o.max_attempts)
		n->o.max_attempts = 12;
	if (!n->o.log_max_bytes)
		n->o.log_max_bytes = 8u << 20;
	n->log_fd = -1;
	if (o->log_path) {
		load_log_tail(n, o->log_path);
		n->log_fd = open(o->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (n->log_fd < 0)
			log_warn("alerts: cannot open %s: %s; deliveries are not recorded on disk", o->log_path,
				 strerror(errno));
		struct stat st;
		if (n->log_fd >= 0 && fstat(n->log_fd, &st) == 0)
			n->log_bytes = (uint64_t)st.st_size;
	}
	pthread_mutex_init(&n->lock, NULL);
	if (!(n->multi = curl_multi_init()) || pthread_create(&n->thread, NULL, worker, n) != 0) {
		if (n->multi)
			curl_multi_cleanup(n->multi);
		if (n->log_fd >= 0)
			close(n->log_fd);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return NULL;
	}
	return n;
}

void alert_notifier_free(struct alert_notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_mutex_unlock(&n->lock);
	curl_multi_wakeup(n->multi);
	pthread_join(n->thread, NULL);
	for (struct item *it = n->flying, *nx; it; it = nx) {
		nx = it->next;
		curl_multi_remove_handle(n->multi, it->easy);
		item_free(it);
	}
	for (struct item *it = n->queue, *nx; it; it = nx) {
		nx = it->next;
		item_free(it);
	}
	curl_multi_cleanup(n->multi);
	if (n->log_fd >= 0)
		close(n->log_fd);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

void alert_notifier_enqueue(struct alert_notifier *n, uint64_t seq, enum alert_target_type type, const char *url,
			    const char *routing_key, const char *payload)
{
	struct item *it = xcalloc(1, sizeof *it);
	it->seq = seq;
	it->type = type;
	it->url = xstrdup(url);
	it->routing_key = routing_key ? xstrdup(routing_key) : NULL;
	it->payload = xstrdup(payload);
	it->due_ns = 0;
	pthread_mutex_lock(&n->lock);
	it->next = n->queue;
	n->queue = it;
	n->n_pending++;
	pthread_mutex_unlock(&n->lock);
	curl_multi_wakeup(n->multi);
}

uint32_t alert_notifier_pending(struct alert_notifier *n)
{
	pthread_mutex_lock(&n->lock);
	uint32_t p = n->n_pending;
	pthread_mutex_unlock(&n->lock);
	return p;
}
