/* Fuzz target for dashboards as the API receives them: the input is JSON
 * text created in an in-memory dashboard store (validation parses every
 * panel query with its variables substituted); an accepted dashboard is
 * read back, must validate again, and must be accepted again as a PUT of
 * its own version. The input is also run through variable substitution.
 * Nothing may crash or leak. */
#include <stdlib.h>
#include <string.h>

#include "alert/dashboard_store.h"
#include "base/buf.h"
#include "base/err.h"

#include "fuzz_util.h"

/* The "id" and "version" of a stored document, found by plain search (the
 * store writes them as "id":"..." and "version":N). */
static int stored_id(const struct buf *doc, char *id, size_t idlen)
{
	const char *p = memmem(doc->p, doc->len, "\"id\":\"", 6);
	if (!p)
		return -1;
	p += 6;
	const char *end = memchr(p, '"', doc->len - (size_t)(p - (const char *)doc->p));
	if (!end || (size_t)(end - p) >= idlen)
		return -1;
	memcpy(id, p, (size_t)(end - p));
	id[end - p] = 0;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet_log();
	int rc;
	char err[256];
	struct dashboard_store *s = dashboard_store_open(NULL, &rc, err, sizeof err);
	if (!s)
		abort();
	struct dashboard_error e;
	struct buf out, again;
	buf_init(&out, 1 << 20);
	buf_init(&again, 1 << 20);
	if (dashboard_store_create(s, (const char *)data, size, &out, &e) == 0 && !out.err) {
		char id[DASHBOARD_MAX_ID + 1];
		if (dashboard_validate((const char *)out.p, out.len, &e) != 0)
			abort(); /* what clew stores it must accept again */
		if (stored_id(&out, id, sizeof id) != 0)
			abort();
		if (dashboard_store_put(s, id, (const char *)out.p, out.len, &again, &e) != 0)
			abort(); /* the stored document carries its own current version */
	}
	static const char *const names[] = {"service", "account"};
	static const char *const values[] = {"billing", "acct-\"1\\"};
	struct buf sub;
	buf_init(&sub, 1 << 20);
	uint32_t bad_off;
	(void)dashboard_substitute((const char *)data, size, names, values, 2, &sub, &bad_off);
	buf_free(&sub);
	buf_free(&again);
	buf_free(&out);
	dashboard_store_close(s);
	return 0;
}
