/* Fuzz target for alert rules as the API receives them: the input is JSON
 * text parsed and validated by alert_rule_parse (which also compiles the
 * rule's TraceQL metrics query); an accepted rule is written back as JSON,
 * parsed again, and must be accepted again. Nothing may crash or leak. */
#include <stdlib.h>

#include "alert/alert_rules.h"
#include "base/json.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_quiet_log();
	char err[512];
	struct alert_rule r;
	int rc = alert_rule_parse((const char *)data, size, &r, err, sizeof err);
	if (rc == 0) {
		struct buf out;
		buf_init(&out, 1 << 20);
		struct json j;
		json_init(&j, &out);
		alert_rule_write_json(&j, &r);
		if (!out.err) {
			struct alert_rule again;
			if (alert_rule_parse((const char *)out.p, out.len, &again, err, sizeof err) != 0)
				abort(); /* what clew writes it must read back */
			alert_rule_free(&again);
		}
		buf_free(&out);
	}
	alert_rule_free(&r);
	return 0;
}
