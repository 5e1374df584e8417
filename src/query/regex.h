/* Regular expressions for TraceQL's =~ and !~ with RE2 syntax, as Grafana
 * Tempo defines them: the whole value must match (the pattern is anchored at
 * both ends), UTF-8, \d \w \s and the POSIX classes in ASCII, (?i) (?s) (?m)
 * (?U) flags, lazy quantifiers, named groups. Built on PCRE2 (JIT when the
 * platform has it) with RE2's limits: constructs RE2 rejects (backreferences,
 * lookaround, atomic groups, possessive quantifiers, recursion, conditionals,
 * \K \G \Z \C ...) are rejected with a message that says so, repetition
 * counts stop at 1000, and a match limit bounds every match, so no pattern
 * runs away where RE2 would have taken linear time. */
#ifndef CLEW_QUERY_REGEX_H
#define CLEW_QUERY_REGEX_H

#include <stddef.h>
#include <stdint.h>

/* Flags of tql_regex_compile. */
#define TQL_REGEX_PARTIAL 1u /* match anywhere in the value, not the whole value */

/* Bound of the backtracking work of one match (PCRE2's match limit). */
#define TQL_REGEX_MATCH_LIMIT 1000000u

struct tql_regex;

/* Compile pattern (len bytes, not NUL-terminated; RE2 syntax) into a regex
 * owned by the caller (tql_regex_free). NULL when it is not a valid RE2
 * pattern or uses what RE2 does not support, with a message in err naming
 * what and where ("at offset 3: backreferences (\1) are not supported by
 * RE2 syntax"), or when memory ran out. Safe to share between threads. */
struct tql_regex *tql_regex_compile(const char *pattern, size_t len, unsigned flags, char *err, size_t errlen);

/* Match re against s (len bytes, not NUL-terminated; invalid UTF-8 is
 * matched as it comes, never an error). 1 when it matches, 0 when not,
 * CLEW_ELIMIT when the match limit was reached (RE2 would have answered;
 * callers treat it as no match or fail the query), CLEW_ENOMEM. Safe from
 * any number of threads at once. */
int tql_regex_match(const struct tql_regex *re, const uint8_t *s, size_t len);

/* Free re (NULL is fine). */
void tql_regex_free(struct tql_regex *re);

#endif
