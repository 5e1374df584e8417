/* Size and duration parsing without atoi/sscanf: every digit and every
 * multiplication is checked. */
#include "base/units.h"

#include <stdbool.h>
#include <string.h>

#include "base/err.h"

int units_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s)
		return CLEW_EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return CLEW_EINVAL;
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return CLEW_EINVAL;
	}
	*out = v;
	return 0;
}

int units_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;
	if (!s || *s < '0' || *s > '9')
		return CLEW_EINVAL;
	for (; *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return CLEW_EINVAL;
	uint64_t mul = 1;
	switch (*p) {
	case 0:
		break;
	case 'k':
	case 'K':
		mul = 1ull << 10;
		break;
	case 'm':
	case 'M':
		mul = 1ull << 20;
		break;
	case 'g':
	case 'G':
		mul = 1ull << 30;
		break;
	case 't':
	case 'T':
		mul = 1ull << 40;
		break;
	default:
		return CLEW_EINVAL;
	}
	if (*p) {
		p++;
		if (strcmp(p, "") != 0 && strcmp(p, "B") != 0 && strcmp(p, "iB") != 0 && strcmp(p, "b") != 0)
			return CLEW_EINVAL;
	}
	if (__builtin_mul_overflow(v, mul, &v))
		return CLEW_EINVAL;
	*out = v;
	return 0;
}

int units_parse_duration_ns(const char *s, int64_t *out)
{
	static const struct {
		const char *name;
		int64_t ns;
	} units[] = {{"ns", 1},		     {"us", 1000},	     {"\xc2\xb5s", 1000},
		     {"ms", 1000000},	     {"s", 1000000000},	     {"m", 60000000000},
		     {"h", 3600000000000},   {"d", 86400000000000}, {"w", 604800000000000}};
	if (!s || !*s)
		return CLEW_EINVAL;
	double total = 0;
	const char *p = s;
	while (*p) {
		if ((*p < '0' || *p > '9') && *p != '.')
			return CLEW_EINVAL;
		double whole = 0, frac = 0, scale = 1;
		bool dot = false, digits = false;
		for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
			if (*p == '.') {
				if (dot)
					return CLEW_EINVAL;
				dot = true;
				continue;
			}
			digits = true;
			if (dot) {
				scale /= 10;
				frac += (*p - '0') * scale;
			} else {
				whole = whole * 10 + (*p - '0');
			}
		}
		if (!digits)
			return CLEW_EINVAL;
		double v = whole + frac;
		if (!*p) {
			if (total == 0 && strspn(s, "0123456789.") == strlen(s)) {
				total = v * 1e9; /* a bare number: seconds */
				break;
			}
			return CLEW_EINVAL;
		}
		int best = -1;
		size_t best_len = 0;
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
			size_t n = strlen(units[i].name);
			if (strncmp(p, units[i].name, n) == 0 && n > best_len) {
				best = (int)i;
				best_len = n;
			}
		}
		if (best < 0)
			return CLEW_EINVAL;
		total += v * (double)units[best].ns;
		p += best_len;
	}
	if (total > 9.2e18)
		return CLEW_EINVAL;
	*out = (int64_t)(total + 0.5);
	return 0;
}

static bool digits(const uint8_t *p, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool units_parse_rfc3339_ns(struct slice s, int64_t *ns)
{
	const uint8_t *p = s.p;
	int y, mo, d, h, mi, se;
	if (s.len < 20 || p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
	    p[13] != ':' || p[16] != ':')
		return false;
	if (!digits(p, 4, &y) || !digits(p + 5, 2, &mo) || !digits(p + 8, 2, &d) || !digits(p + 11, 2, &h) ||
	    !digits(p + 14, 2, &mi) || !digits(p + 17, 2, &se))
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return false;
	size_t i = 19;
	int64_t frac = 0;
	if (i < s.len && p[i] == '.') {
		int64_t scale = 100000000;
		size_t f0 = ++i;
		while (i < s.len && p[i] >= '0' && p[i] <= '9') {
			frac += (p[i] - '0') * scale;
			scale /= 10;
			i++;
		}
		if (i == f0)
			return false;
	}
	int64_t off_s = 0;
	if (i < s.len && (p[i] == 'Z' || p[i] == 'z')) {
		i++;
	} else if (i + 6 == s.len && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':') {
		int oh, om;
		if (!digits(p + i + 1, 2, &oh) || !digits(p + i + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		off_s = (oh * 3600 + om * 60) * (p[i] == '+' ? 1 : -1);
		i += 6;
	} else {
		return false;
	}
	if (i != s.len)
		return false;
	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off_s;
	if (secs < 0 || secs > 9000000000LL)
		return false;
	*ns = secs * 1000000000LL + frac;
	return true;
}
