/* What the fuzz targets share: libFuzzer's entry point, declared for
 * -Wmissing-prototypes, and clew's log turned down to errors once, so that
 * a fuzz run prints its findings and not every refusal of bad input. */
#ifndef CLEW_FUZZ_FUZZ_UTIL_H
#define CLEW_FUZZ_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "base/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Call first in LLVMFuzzerTestOneInput. */
static inline void fuzz_quiet_log(void)
{
	static int done;
	if (!done) {
		log_set_level(LOG_ERROR);
		done = 1;
	}
}

#endif
