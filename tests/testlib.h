/* A small unit-test harness: TEST(name) registers a test, CHECK* fail it
 * with file and line. The runner prints "N passed, N failed". */
#ifndef CLEW_TESTLIB_H
#define CLEW_TESTLIB_H

#include <stdint.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, const char *file, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A fresh empty directory under $TMPDIR for this test (removed afterwards
 * unless the test failed). Returns a static buffer valid during the test. */
const char *test_tmpdir(void);

#define TEST(name)                                                                                         \
	static void name(void);                                                                            \
	__attribute__((constructor)) static void reg_##name(void)                                         \
	{                                                                                                  \
		test_register(#name, __FILE__, name);                                                      \
	}                                                                                                  \
	static void name(void)

#define CHECK(cond)                                                                                        \
	do {                                                                                               \
		if (!(cond)) {                                                                             \
			test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                 \
			return;                                                                            \
		}                                                                                          \
	} while (0)

#define CHECK_INT(a, op, b)                                                                                \
	do {                                                                                               \
		long long va_ = (long long)(a), vb_ = (long long)(b);                                      \
		if (!(va_ op vb_)) {                                                                       \
			test_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld", #a, #op, #b, va_, vb_);    \
			return;                                                                            \
		}                                                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                                                    \
	do {                                                                                               \
		const char *sa_ = (a), *sb_ = (b);                                                         \
		if (strcmp(sa_, sb_) != 0) {                                                               \
			test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b, sa_, sb_);      \
			return;                                                                            \
		}                                                                                          \
	} while (0)

/* A slice equals a C string. */
#define CHECK_SLICE(s, cstr)                                                                               \
	do {                                                                                               \
		struct slice ss_ = (s);                                                                    \
		const char *cs_ = (cstr);                                                                  \
		if (ss_.len != strlen(cs_) || memcmp(ss_.p, cs_, ss_.len) != 0) {                          \
			test_fail(__FILE__, __LINE__, "%s == \"%s\": got \"%.*s\"", #s, cs_, (int)ss_.len, \
				  (const char *)ss_.p);                                                    \
			return;                                                                            \
		}                                                                                          \
	} while (0)

#endif
