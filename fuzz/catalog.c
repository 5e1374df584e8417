/* Fuzz target for the catalog as the API receives it and as catalog.json
 * (or a --catalog file) holds it: the input is JSON text put into an
 * in-memory catalog whole and merged, and loaded from a file by
 * catalog_open. An accepted catalog is written back, and what is written
 * must be accepted again and written back the same. Nothing may crash or
 * leak. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/catalog.h"
#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_file(const uint8_t *data, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/clew-fuzz-catalog-%d.json", (int)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	size_t n = fwrite(data, 1, size, f);
	fclose(f);
	if (n == size) {
		int rc;
		char err[512];
		struct catalog *c = catalog_open(path, &rc, err, sizeof err);
		catalog_free(c);
	}
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		log_set_level(LOG_ERROR);
		init = 1;
	}
	load_file(data, size);
	json_error_t je;
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return 0;
	int rc;
	char err[512], v[64];
	struct catalog *c = catalog_open(NULL, &rc, err, sizeof err);
	if (!c)
		abort();
	(void)catalog_put(c, doc, true, err, sizeof err);
	if (catalog_put(c, doc, false, err, sizeof err) == 0) {
		struct buf a, b;
		buf_init(&a, 1 << 22);
		buf_init(&b, 1 << 22);
		(void)catalog_write(c, NULL, NULL, &a);
		json_t *back = a.err ? NULL : json_loadb((const char *)a.p, a.len, JSON_REJECT_DUPLICATES, &je);
		if (back) {
			if (catalog_put(c, back, false, err, sizeof err) != 0)
				abort(); /* what clew writes it must read back */
			(void)catalog_write(c, NULL, NULL, &b);
			if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
				abort(); /* unchanged */
			json_decref(back);
		} else if (!a.err) {
			abort(); /* what clew writes is JSON */
		}
		(void)catalog_service_field(c, "billing", "team", v, sizeof v);
		(void)catalog_account_field(c, "acme", "owner", v, sizeof v);
		buf_free(&b);
		buf_free(&a);
	}
	json_t *svcs = json_object_get(doc, "services");
	const char *k;
	json_t *e;
	if (json_is_object(svcs))
		json_object_foreach (svcs, k, e)
			(void)catalog_put_entry(c, "services", k, e, err, sizeof err);
	catalog_free(c);
	json_decref(doc);
	return 0;
}
