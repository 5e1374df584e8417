/* Tests of TraceQL's regular expressions (query/regex.h): RE2 syntax and
 * meaning (classes, \d \w \s, flags, lazy quantifiers, alternation, whole
 * value anchoring, UTF-8, octal and \v as RE2 reads them), the constructs
 * RE2 rejects (with a message saying so), bad patterns, matching from
 * several threads, and a pathological pattern that stays bounded. */
#include "../../testlib.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "query/regex.h"

/* 1 match, 0 no match, -1 the pattern did not compile, else the error. */
static int rx(const char *pattern, const char *value)
{
	char err[256];
	struct tql_regex *re = tql_regex_compile(pattern, strlen(pattern), 0, err, sizeof err);
	if (!re)
		return -1;
	int m = tql_regex_match(re, (const uint8_t *)value, strlen(value));
	tql_regex_free(re);
	return m;
}

/* The compile error of pattern ("" when it compiles). */
static const char *rx_err(const char *pattern)
{
	static char err[256];
	struct tql_regex *re = tql_regex_compile(pattern, strlen(pattern), 0, err, sizeof err);
	if (re) {
		tql_regex_free(re);
		return "";
	}
	return err;
}

TEST(regex_anchored_whole_value)
{
	CHECK_INT(rx("foo", "foo"), ==, 1);
	CHECK_INT(rx("foo", "foobar"), ==, 0); /* Tempo anchors: no partial match */
	CHECK_INT(rx("foo", "xfoo"), ==, 0);
	CHECK_INT(rx("foo.*", "foobar"), ==, 1);
	CHECK_INT(rx(".*bar", "foobar"), ==, 1);
	CHECK_INT(rx("a|ab", "ab"), ==, 1); /* the whole value, not the first alternative */
	CHECK_INT(rx("ab|a", "a"), ==, 1);
	CHECK_INT(rx("GET|POST", "POST"), ==, 1);
	CHECK_INT(rx("GET|POST", "GETPOST"), ==, 0);
	CHECK_INT(rx("^foo$", "foo"), ==, 1);
	CHECK_INT(rx("foo$", "foo\n"), ==, 0); /* $ is the very end, as in RE2 */
	CHECK_INT(rx("", ""), ==, 1);
	CHECK_INT(rx("", "x"), ==, 0);
	CHECK_INT(rx(".*", ""), ==, 1);
	CHECK_INT(rx(".", "\n"), ==, 0);
	CHECK_INT(rx("(?s).", "\n"), ==, 1);
	CHECK_INT(rx("(?m)a$\nb", "a\nb"), ==, 1);
	/* partial matching on request */
	char err[128];
	struct tql_regex *re = tql_regex_compile("o+b", 3, TQL_REGEX_PARTIAL, err, sizeof err);
	CHECK(re != NULL);
	CHECK_INT(tql_regex_match(re, (const uint8_t *)"foobar", 6), ==, 1);
	CHECK_INT(tql_regex_match(re, (const uint8_t *)"fobar", 5), ==, 1);
	CHECK_INT(tql_regex_match(re, (const uint8_t *)"fbar", 4), ==, 0);
	tql_regex_free(re);
	/* not NUL-terminated input: only len bytes count */
	re = tql_regex_compile("ab", 2, 0, err, sizeof err);
	CHECK(re != NULL);
	CHECK_INT(tql_regex_match(re, (const uint8_t *)"abc", 2), ==, 1);
	CHECK_INT(tql_regex_match(re, (const uint8_t *)"abc", 3), ==, 0);
	CHECK_INT(tql_regex_match(re, NULL, 0), ==, 0);
	tql_regex_free(re);
	/* the pattern is not NUL-terminated either */
	re = tql_regex_compile("a+XYZ", 2, 0, err, sizeof err);
	CHECK(re != NULL);
	CHECK_INT(tql_regex_match(re, (const uint8_t *)"aaa", 3), ==, 1);
	tql_regex_free(re);
}

TEST(regex_classes_and_escapes)
{
	CHECK_INT(rx("\\d+", "12345"), ==, 1);
	CHECK_INT(rx("\\d+", "12a45"), ==, 0);
	CHECK_INT(rx("\\d", "\xd9\xa3"), ==, 0); /* Arabic-Indic three: \d is ASCII in RE2 */
	CHECK_INT(rx("\\w+", "user_id9"), ==, 1);
	CHECK_INT(rx("\\w+", "user-id"), ==, 0);
	CHECK_INT(rx("\\W", "-"), ==, 1);
	CHECK_INT(rx("a\\sb", "a b"), ==, 1);
	CHECK_INT(rx("a\\sb", "a\tb"), ==, 1);
	CHECK_INT(rx("a\\sb", "a\x0b" "b"), ==, 0); /* RE2's \s has no vertical tab */
	CHECK_INT(rx("a[\\s]b", "a\nb"), ==, 1);
	CHECK_INT(rx("a\\Sb", "a-b"), ==, 1);
	CHECK_INT(rx("\\v", "\x0b"), ==, 1); /* RE2's \v is the vertical tab only */
	CHECK_INT(rx("\\v", "\n"), ==, 0);
	CHECK_INT(rx("[a-c]+", "abcab"), ==, 1);
	CHECK_INT(rx("[^a-c]+", "xyz"), ==, 1);
	CHECK_INT(rx("[^a-c]+", "xaz"), ==, 0);
	CHECK_INT(rx("[]a]+", "]a]"), ==, 1);
	CHECK_INT(rx("[^]a]", "b"), ==, 1);
	CHECK_INT(rx("[[:alpha:]]+", "abcXYZ"), ==, 1);
	CHECK_INT(rx("[[:digit:][:upper:]]+", "A1B2"), ==, 1);
	CHECK_INT(rx("[[:digit:]]+", "a1"), ==, 0);
	CHECK_INT(rx("[a[]+", "[a["), ==, 1);
	CHECK_INT(rx("\\x41\\x{42}", "AB"), ==, 1);
	CHECK_INT(rx("\\x{263a}", "\xe2\x98\xba"), ==, 1);
	CHECK_INT(rx("\\101", "A"), ==, 1); /* octal, as in RE2 */
	CHECK_INT(rx("\\0", "\0"), ==, 0);  /* the value is cut at NUL by strlen: empty */
	CHECK_INT(rx("\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\", ".*+?()[]{}|^$\\"), ==, 1);
	CHECK_INT(rx("\\Qa.b*\\E", "a.b*"), ==, 1);
	CHECK_INT(rx("\\Qa.b*\\E", "axbb"), ==, 0);
	CHECK_INT(rx("\\pL+", "h\xc3\xa9llo"), ==, 1);
	CHECK_INT(rx("\\p{Greek}+", "\xce\xb1\xce\xb2"), ==, 1);
	CHECK_INT(rx("\\PL", "1"), ==, 1);
	CHECK_INT(rx(".*\\bfoo\\b.*", "a foo b"), ==, 1);
	CHECK_INT(rx(".*\\bfoo\\b.*", "afoob"), ==, 0);
	CHECK_INT(rx("\\Afoo\\z", "foo"), ==, 1);
	CHECK_INT(rx("a{2}", "aa"), ==, 1);
	CHECK_INT(rx("a{2,}", "aaaa"), ==, 1);
	CHECK_INT(rx("a{2,3}", "aaaa"), ==, 0);
	CHECK_INT(rx("a{,3}", "a{,3}"), ==, 1); /* not a repetition in RE2: literal */
	CHECK_INT(rx("a{x}", "a{x}"), ==, 1);
	CHECK_INT(rx("x}", "x}"), ==, 1);
}

TEST(regex_flags_groups_quantifiers)
{
	CHECK_INT(rx("(?i)hello", "HeLLo"), ==, 1);
	CHECK_INT(rx("(?i)hello", "HeLLo!"), ==, 0);
	CHECK_INT(rx("(?i:ab)c", "ABc"), ==, 1);
	CHECK_INT(rx("(?i:ab)c", "ABC"), ==, 0);
	CHECK_INT(rx("(?i)a(?-i)b", "Ab"), ==, 1);
	CHECK_INT(rx("(?i)a(?-i)b", "AB"), ==, 0);
	CHECK_INT(rx("(?i)\xc3\xa9", "\xc3\x89"), ==, 1); /* case folding beyond ASCII */
	CHECK_INT(rx("a.*?b", "axxbyyb"), ==, 1);	  /* lazy, still the whole value */
	CHECK_INT(rx("a+?", "aaa"), ==, 1);
	CHECK_INT(rx("a??b", "b"), ==, 1);
	CHECK_INT(rx("(?U)a+", "aaa"), ==, 1);
	CHECK_INT(rx("(ab)+", "ababab"), ==, 1);
	CHECK_INT(rx("(?:ab)+", "ababa"), ==, 0);
	CHECK_INT(rx("(?P<svc>api|web)-\\d+", "api-12"), ==, 1);
	CHECK_INT(rx("(?<svc>api|web)-\\d+", "web-3"), ==, 1);
	CHECK_INT(rx("((a|b)(c|d))*", "acbdad"), ==, 1);
	CHECK_INT(rx("frontend|cart|check.*", "checkout"), ==, 1);
	CHECK_INT(rx("HTTP (GET|POST) /api/v[0-9]+/.*", "HTTP GET /api/v2/items"), ==, 1);
}

TEST(regex_utf8)
{
	CHECK_INT(rx("caf.", "caf\xc3\xa9"), ==, 1); /* . is one code point */
	CHECK_INT(rx("caf..", "caf\xc3\xa9"), ==, 0);
	CHECK_INT(rx("[\xc3\xa0-\xc3\xbf]+", "\xc3\xa9\xc3\xa8"), ==, 1);
	CHECK_INT(rx("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac"), ==, 1);
	/* invalid UTF-8 in a value is matched as it comes, never an error */
	CHECK_INT(rx("a.*", "a\xff\xfe"), >=, 0);
	CHECK_INT(rx("b.*", "a\xff\xfe"), ==, 0);
	CHECK_INT(rx("a\\d", "a\xc3"), ==, 0);
	/* an invalid UTF-8 pattern is a compile error */
	CHECK_INT(rx("a\xff", "a"), ==, -1);
}

TEST(regex_rejects_what_re2_rejects)
{
	static const struct {
		const char *pattern, *says;
	} bad[] = {
		{"(a)\\1", "backreferences"},
		{"(a)\\9", "backreferences"},
		{"(?P<x>a)(?P=x)", "backreferences"},
		{"(?<x>a)\\k<x>", "backreferences"},
		{"(a)\\g1", "backreferences"},
		{"a(?=b)", "lookaround"},
		{"a(?!b)", "lookaround"},
		{"(?<=a)b", "lookaround"},
		{"(?<!a)b", "lookaround"},
		{"(?>a+)b", "atomic"},
		{"a*+", "repetition"},
		{"a++b", "repetition"},
		{"a{2}+", "repetition"},
		{"a**", "repetition"},
		{"(a|(?R))", "recursion"},
		{"(a)(?1)", "recursion"},
		{"(?(1)a|b)", "conditionals"},
		{"a(?#comment)", "comments"},
		{"(*LIMIT_MATCH=10)a", "verbs"},
		{"a\\Kb", "not supported by RE2"},
		{"a\\Z", "not supported by RE2"},
		{"\\Ga", "not supported by RE2"},
		{"\\h", "not supported by RE2"},
		{"\\C", "not supported"},
		{"(?x)a b", "not supported by RE2"},
		{"a{1001}", "1000"},
		{"a{3,2}", "repetition"},
		{"*a", "missing argument"},
		{"a|*", "missing argument"},
		{"(abc", "missing closing )"},
		{"abc)", "unexpected )"},
		{"[abc", "missing closing ]"},
		{"a\\", "trailing backslash"},
		{"\\x4", "\\x"},
		{"\\x{zz}", "\\x"},
		{"(?P<1a>x)", "named"},
		{"(?i-)a", "flags"},
		{"[[:alpha:]", "]"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *e = rx_err(bad[i].pattern);
		if (!*e || !strstr(e, bad[i].says)) {
			test_fail(__FILE__, __LINE__, "pattern %s: error \"%s\", wanted one saying \"%s\"", bad[i].pattern,
				  e, bad[i].says);
			return;
		}
	}
	/* the message says where */
	CHECK(strstr(rx_err("ab(?=c)"), "offset 2") != NULL);
	/* and fine neighbours of rejected constructs still compile */
	CHECK_STR(rx_err("a{1000}"), "");
	CHECK_STR(rx_err("(?i:a)"), "");
	CHECK_STR(rx_err("\\12"), ""); /* octal, not a backreference */
	CHECK_STR(rx_err("a*?"), "");
	CHECK_STR(rx_err("[\\d\\w-]"), "");
}

TEST(regex_pathological_pattern_is_bounded)
{
	/* (a+)+b backtracks exponentially in a backtracking engine; RE2 is
	 * linear. The match limit keeps it bounded: an answer or CLEW_ELIMIT,
	 * quickly. */
	char subject[4096];
	memset(subject, 'a', sizeof subject - 1);
	subject[sizeof subject - 1] = 0;
	static const char *const patterns[] = {"(a+)+b", "(a|aa)+b", "(a*)*b", "(.*a){20}b", "(?:a|a)*b"};
	for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
		char err[128];
		struct tql_regex *re = tql_regex_compile(patterns[i], strlen(patterns[i]), 0, err, sizeof err);
		CHECK(re != NULL);
		int64_t t0 = clock_mono_ns();
		int m = tql_regex_match(re, (const uint8_t *)subject, strlen(subject));
		int64_t ms = (clock_mono_ns() - t0) / 1000000;
		tql_regex_free(re);
		if (m == 1 || (m != 0 && m != CLEW_ELIMIT) || ms > 2000) {
			test_fail(__FILE__, __LINE__, "%s: match %d in %lld ms", patterns[i], m, (long long)ms);
			return;
		}
	}
	/* a long value and an ordinary pattern still match */
	CHECK_INT(rx("a+", subject), ==, 1);
	CHECK_INT(rx(".*a", subject), ==, 1);
}

struct rx_thread_arg {
	const struct tql_regex *re;
	int bad;
};

static void *rx_thread_main(void *p)
{
	struct rx_thread_arg *a = p;
	char v[64];
	for (int i = 0; i < 20000; i++) {
		int n = snprintf(v, sizeof v, "svc-%d", i);
		int want = i % 2 == 0;
		if (i % 2)
			v[0] = 'x';
		if (tql_regex_match(a->re, (const uint8_t *)v, (size_t)n) != want)
			a->bad++;
	}
	return NULL;
}

TEST(regex_shared_between_threads)
{
	char err[128];
	struct tql_regex *re = tql_regex_compile("svc-\\d+", 7, 0, err, sizeof err);
	CHECK(re != NULL);
	pthread_t th[4];
	struct rx_thread_arg args[4];
	for (int k = 0; k < 4; k++) {
		args[k] = (struct rx_thread_arg){re, 0};
		CHECK_INT(pthread_create(&th[k], NULL, rx_thread_main, &args[k]), ==, 0);
	}
	int bad = 0;
	for (int k = 0; k < 4; k++) {
		pthread_join(th[k], NULL);
		bad += args[k].bad;
	}
	tql_regex_free(re);
	CHECK_INT(bad, ==, 0);
}
