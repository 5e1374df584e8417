/* The catalog: services (owning team, tier, on-call notification channel,
 * runbook, repository) and customer accounts (name, tier, the account
 * owner's notification channel), as one JSON document. Loaded from the data
 * directory's state/catalog.json (and a --catalog file at start), edited
 * through /api/v1/catalog, saved with the durable replace pattern. Alert
 * routing and notifications read it; the service graph's team comes from
 * resource attributes where the catalog has none. Thread-safe. */
#ifndef CLEW_ALERT_CATALOG_H
#define CLEW_ALERT_CATALOG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

struct catalog;

/* A catalog saved at path (NULL: in memory only), loaded from it when the
 * file exists. Owned by the caller (catalog_free). NULL with *rc and a
 * message in err when the file exists but is unreadable or invalid. */
struct catalog *catalog_open(const char *path, int *rc /* out */, char *err, size_t errlen);
void catalog_free(struct catalog *c);

/* Replace the whole catalog (doc: {"services": [...], "accounts": [...]}),
 * or with merge, add and replace the entries doc names. Validated first;
 * saved durably. 0, CLEW_EINVAL with err, or an I/O error. */
int catalog_put(struct catalog *c, json_t *doc, bool merge, char *err, size_t errlen);

/* Set or delete one service (kind "services", key its name) or account
 * (kind "accounts", key its id). entry NULL deletes. 0, CLEW_ENOTFOUND,
 * CLEW_EINVAL with err, or an I/O error. */
int catalog_put_entry(struct catalog *c, const char *kind, const char *key, json_t *entry, char *err, size_t errlen);

/* Write the catalog (or the one entry, with kind and key) as JSON to out.
 * CLEW_ENOTFOUND for an unknown entry. */
int catalog_write(struct catalog *c, const char *kind, const char *key, struct buf *out);

/* Lookups for routing, copied into out (cap bytes; "" when unknown):
 * a field ("team", "channel", "runbook", "tier", "repository") of a service,
 * a field ("name", "owner", "channel", "tier") of an account. true if the
 * entry and field exist. */
bool catalog_service_field(struct catalog *c, const char *service, const char *field, char *out, size_t cap);
bool catalog_account_field(struct catalog *c, const char *account, const char *field, char *out, size_t cap);

#endif
