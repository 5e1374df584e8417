/* A memory budget: an atomic byte counter with a limit. Request buffers and
 * the head charge it; a charge that would pass the limit is refused, and the
 * caller answers with a retryable status (503 / UNAVAILABLE) instead. */
#ifndef CLEW_BASE_BUDGET_H
#define CLEW_BASE_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

struct budget {
	_Atomic uint64_t used_bytes;
	uint64_t limit_bytes; /* 0 = unlimited */
	_Atomic uint64_t refusals;
};

void budget_init(struct budget *b, uint64_t limit_bytes);
/* Charge n bytes if they fit; false (and a refusal counted) if not. */
bool budget_try_charge(struct budget *b, uint64_t n);
/* Charge n bytes whatever the limit (memory already in use). */
void budget_force_charge(struct budget *b, uint64_t n);
void budget_release(struct budget *b, uint64_t n);
/* True when usage is at or past the limit. */
bool budget_exhausted(const struct budget *b);

#endif
