/* Slice helpers that are too long to inline. */
#include "base/slice.h"

bool slice_eq_nocase(struct slice a, const char *s)
{
	size_t n = strlen(s);
	if (a.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t x = a.p[i], y = (uint8_t)s[i];
		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

bool slice_starts_with(struct slice a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && memcmp(a.p, prefix, n) == 0;
}
