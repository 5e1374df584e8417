/* Fuzz target for silences as the API receives them and as silences.json
 * holds them: the input is JSON text given to alert_silence_from_json; an
 * accepted silence is written back as JSON, must be accepted again with the
 * same matchers and times, and is matched against an instance. Nothing may
 * crash or leak. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert_state.h"
#include "base/json.h"

#include "fuzz_util.h"

#define NOW_NS (1796601600LL * 1000000000LL) /* 2026-12-07 */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet_log();
	json_error_t je;
	json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return 0;
	char err[512];
	struct alert_silence s;
	if (alert_silence_from_json(o, NOW_NS, &s, err, sizeof err) == 0) {
		struct buf out;
		buf_init(&out, 1 << 20);
		struct json j;
		json_init(&j, &out);
		alert_silence_write_json(&j, &s, NOW_NS);
		if (!out.err) {
			json_t *back = json_loadb((const char *)out.p, out.len, JSON_REJECT_DUPLICATES, &je);
			struct alert_silence again;
			if (!back || alert_silence_from_json(back, NOW_NS, &again, err, sizeof err) != 0)
				abort(); /* what clew writes it must read back */
			if (again.n_matchers != s.n_matchers || again.starts_ns / 1000000 != s.starts_ns / 1000000 ||
			    again.ends_ns / 1000000 != s.ends_ns / 1000000)
				abort(); /* as the same silence, to the millisecond */
			alert_silence_free(&again);
			json_decref(back);
		}
		buf_free(&out);
		struct alert_rule r;
		memset(&r, 0, sizeof r);
		char name[] = "rule";
		r.name = name;
		const char *names[] = {"span.customer.id"}, *values[] = {"acme"};
		(void)alert_silence_matches(&s, &r, names, values, 1, NOW_NS);
		alert_silence_free(&s);
	}
	json_decref(o);
	return 0;
}
