/* Dashboards: documents of panels (each a TraceQL metrics query, which may
 * name the dashboard's variables as $name or ${name}) and variables (team,
 * service, account, ...), validated, versioned and kept one file per
 * dashboard under DATA_DIR/state/dashboards/<id>.json, each written with the
 * durable replace pattern so a kill -9 leaves the old or the new version.
 * The API layer (api/dashboard_api.c) serves them; the UI renders them.
 * Thread-safe. */
#ifndef CLEW_ALERT_DASHBOARD_STORE_H
#define CLEW_ALERT_DASHBOARD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define DASHBOARD_MAX_BYTES (256 * 1024) /* one dashboard document as sent */
#define DASHBOARD_MAX_COUNT 1000	 /* dashboards in one store */
#define DASHBOARD_MAX_PANELS 48
#define DASHBOARD_MAX_VARIABLES 16
#define DASHBOARD_MAX_VALUES 500 /* fixed values of one variable */
#define DASHBOARD_MAX_QUERY 4096 /* bytes of one panel query */
#define DASHBOARD_MAX_ID 64

struct dashboard_store;

/* Why a document was refused: msg for people ("panels[1] (\"p2\"): query:
 * 1:14: ..."), field the JSON path of the bad field ("panels[1].query"),
 * panel the panel's id when the field is in a panel, and for a query that
 * does not parse, the position in the query as sent (line and col 1-based,
 * off in bytes; all 0 when there is none). */
struct dashboard_error {
	char msg[600];
	char field[96];
	char panel[DASHBOARD_MAX_ID + 1];
	uint32_t line, col, off;
};

/* Open the dashboards kept under data_dir/state/dashboards (created if
 * missing; data_dir NULL keeps them in memory only), loading every <id>.json
 * there and removing leftover temporary files. Owned by the caller
 * (dashboard_store_close). NULL with *rc and a message naming the file when
 * a dashboard file is unreadable or invalid. */
struct dashboard_store *dashboard_store_open(const char *data_dir, int *rc /* out */, char *err, size_t errlen);
void dashboard_store_close(struct dashboard_store *s);

/* Create a dashboard from the JSON text body (an "id" is optional: one is
 * made when absent). The stored document (version 1, createdAt, updatedAt)
 * is appended to out. 0; CLEW_EPARSE or CLEW_EINVAL with e; CLEW_ESTATE if
 * the id is taken; CLEW_ELIMIT when the store is full; or an I/O error. */
int dashboard_store_create(struct dashboard_store *s, const char *body, size_t len, struct buf *out,
			   struct dashboard_error *e /* out */);

/* Replace dashboard id with body, whose "version" must be the stored one
 * (CLEW_ESTATE with e naming both when it is stale). The new version is the
 * old plus one; the stored document is appended to out. 0, CLEW_ENOTFOUND,
 * CLEW_EPARSE or CLEW_EINVAL with e, CLEW_ESTATE, or an I/O error (the old
 * version then stays). */
int dashboard_store_put(struct dashboard_store *s, const char *id, const char *body, size_t len, struct buf *out,
			struct dashboard_error *e /* out */);

/* Delete dashboard id (its file is unlinked and the directory synced).
 * 0, CLEW_ENOTFOUND, or an I/O error. */
int dashboard_store_delete(struct dashboard_store *s, const char *id);

/* Append dashboard id as JSON to out. 0 or CLEW_ENOTFOUND. */
int dashboard_store_get(struct dashboard_store *s, const char *id, struct buf *out);

/* Append {"dashboards": [{"id", "title", "description", "tags", "panels":
 * count, "variables": [names], "version", "updatedAt"}, ...]} to out,
 * ordered by title. */
void dashboard_store_list(struct dashboard_store *s, struct buf *out);

/* The number of dashboards. */
uint32_t dashboard_store_count(struct dashboard_store *s);

/* Validate a dashboard document (JSON text) without storing it. 0, or
 * CLEW_EPARSE / CLEW_EINVAL with e. */
int dashboard_validate(const char *body, size_t len, struct dashboard_error *e /* out */);

/* Substitute the variables of a panel query: every $name and ${name} is
 * replaced by values[i] for names[i]. Inside a string literal the value is
 * escaped for that literal; elsewhere it is written as a quoted string
 * unless it is a number, a duration, true or false. Appends the result to
 * out. 0, or CLEW_ENOTFOUND with the unknown name's byte offset in
 * *bad_off. */
int dashboard_substitute(const char *query, size_t len, const char *const *names, const char *const *values,
			 uint32_t n, struct buf *out, uint32_t *bad_off /* out */);

#endif
