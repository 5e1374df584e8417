/* Lock-free memory budget accounting. */
#include "base/budget.h"

#include <stdatomic.h>

void budget_init(struct budget *b, uint64_t limit_bytes)
{
	atomic_store(&b->used_bytes, 0);
	atomic_store(&b->refusals, 0);
	b->limit_bytes = limit_bytes;
}

bool budget_try_charge(struct budget *b, uint64_t n)
{
	if (!b->limit_bytes) {
		atomic_fetch_add(&b->used_bytes, n);
		return true;
	}
	uint64_t cur = atomic_load(&b->used_bytes);
	do {
		if (cur + n > b->limit_bytes || cur + n < cur) {
			atomic_fetch_add(&b->refusals, 1);
			return false;
		}
	} while (!atomic_compare_exchange_weak(&b->used_bytes, &cur, cur + n));
	return true;
}

void budget_force_charge(struct budget *b, uint64_t n)
{
	atomic_fetch_add(&b->used_bytes, n);
}

void budget_release(struct budget *b, uint64_t n)
{
	atomic_fetch_sub(&b->used_bytes, n);
}

bool budget_exhausted(const struct budget *b)
{
	return b->limit_bytes && atomic_load(&b->used_bytes) >= b->limit_bytes;
}
