/* Fuzz target for SLO counter snapshots as they are read back from the data
 * directory (slo_counter_decode), for a fixed per-account SLO with a short
 * window and few groups. The input is decoded as it is, and again with its
 * definition signature and checksum set right, so that the body's decoder
 * is reached. A loaded snapshot is evaluated, its status written, and it
 * must encode to a snapshot that loads and encodes to the same bytes.
 * Nothing may crash or leak. */
#include <stdlib.h>
#include <string.h>

#include "alert/slo.h"
#include "base/crc32c.h"
#include "base/json.h"
#include "base/log.h"

#define NOW_NS (1796601600LL * 1000000000LL) /* 2026-12-07 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char def_json[] =
    "{\"name\":\"fuzz\",\"query\":\"{ resource.service.name = \\\"billing\\\" }\","
    "\"by\":\"span.customer.id\",\"objective\":0.99,\"window\":\"3h\","
    "\"good\":{\"latencyThreshold\":\"300ms\",\"errors\":false}}";

static struct slo_def def;
static struct slo_counter *counter;
static uint8_t sig[8];

static int count_group(void *ctx, const struct slo_group_eval *g)
{
	(*(uint64_t *)ctx) += g->budget.total + g->n_examples;
	return 0;
}

static void setup(void)
{
	char err[512];
	int rc;
	log_set_level(LOG_ERROR);
	if (slo_def_parse(def_json, sizeof def_json - 1, &def, err, sizeof err) != 0)
		abort();
	counter = slo_counter_new(&def, 8, &rc, err, sizeof err);
	if (!counter)
		abort();
	struct buf b;
	buf_init(&b, 1 << 20);
	if (slo_counter_encode(counter, &b) != 0 || b.len < 16)
		abort();
	memcpy(sig, b.p + 8, 8);
	buf_free(&b);
}

static void decode_and_check(const uint8_t *p, size_t len)
{
	char err[256];
	if (slo_counter_decode(counter, p, len, err, sizeof err) != 0)
		return;
	uint64_t sum = 0;
	(void)slo_counter_eval(counter, &def, NOW_NS, count_group, &sum);
	struct slo_counts all;
	(void)slo_counter_window(counter, NULL, SLO_HOUR_NS, NOW_NS, &all);
	struct buf st, a, b;
	buf_init(&st, 1 << 22);
	buf_init(&a, 1 << 22);
	buf_init(&b, 1 << 22);
	struct json j;
	json_init(&j, &st);
	slo_write_status(&j, &def, counter, NOW_NS, 10, false, NULL, NULL);
	if (slo_counter_encode(counter, &a) != 0)
		abort();
	if (slo_counter_decode(counter, a.p, a.len, err, sizeof err) != 0)
		abort(); /* what clew writes it must read back */
	if (slo_counter_encode(counter, &b) != 0 || a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
		abort(); /* and write again unchanged */
	buf_free(&b);
	buf_free(&a);
	buf_free(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		setup();
		init = 1;
	}
	decode_and_check(data, size);
	if (size >= 8 + 8 + 4 && memcmp(data, "CLEWSLO1", 8) == 0) {
		uint8_t *p = malloc(size);
		if (!p)
			return 0;
		memcpy(p, data, size);
		memcpy(p + 8, sig, 8);
		uint32_t crc = crc32c(0, p, size - 4);
		for (int i = 0; i < 4; i++)
			p[size - 4 + i] = (uint8_t)(crc >> (8 * i));
		decode_and_check(p, size);
		free(p);
	}
	return 0;
}
