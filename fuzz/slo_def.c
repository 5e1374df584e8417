/* Fuzz target for SLO definitions as the API receives them: the input is
 * JSON text parsed and validated by slo_def_parse (which also compiles the
 * SLO's filter and its burn-alert rule); an accepted SLO is written back as
 * JSON, must be accepted again and count the same thing, and must get
 * counters built from it. Nothing may crash or leak. */
#include <stdlib.h>

#include "alert/slo.h"
#include "base/json.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet_log();
	char err[512];
	struct slo_def d;
	if (slo_def_parse((const char *)data, size, &d, err, sizeof err) == 0) {
		struct buf out;
		buf_init(&out, 1 << 20);
		struct json j;
		json_init(&j, &out);
		slo_def_write_json(&j, &d);
		if (!out.err) {
			struct slo_def again;
			if (slo_def_parse((const char *)out.p, out.len, &again, err, sizeof err) != 0)
				abort(); /* what clew writes it must read back */
			if (!slo_def_same_counts(&d, &again))
				abort(); /* and it must count the same requests */
			slo_def_free(&again);
		}
		buf_free(&out);
		int rc;
		struct slo_counter *c = slo_counter_new(&d, 16, &rc, err, sizeof err);
		if (!c)
			abort(); /* a valid SLO's filter compiles */
		slo_counter_free(c);
	}
	slo_def_free(&d);
	return 0;
}
