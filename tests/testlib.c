/* The unit-test runner: runs every registered test (or those whose name
 * contains argv[1]) and ends with "N passed, N failed". */
#include "testlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_TESTS 4096

struct test_case {
	const char *name, *file;
	test_fn fn;
};

static struct test_case tests[MAX_TESTS];
static int n_tests;
static int current_failed;
static char tmpdir[512];

void test_register(const char *name, const char *file, test_fn fn)
{
	if (n_tests < MAX_TESTS)
		tests[n_tests++] = (struct test_case){name, file, fn};
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "    %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	current_failed = 1;
}

const char *test_tmpdir(void)
{
	if (!tmpdir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(tmpdir, sizeof tmpdir, "%s/clew-unit-XXXXXX", base && base[0] ? base : "/tmp");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(2);
		}
	}
	return tmpdir;
}

static void remove_tmpdir(void)
{
	if (!tmpdir[0])
		return;
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	tmpdir[0] = 0;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;
	for (int i = 0; i < n_tests; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		current_failed = 0;
		tests[i].fn();
		if (current_failed) {
			failed++;
			fprintf(stderr, "FAIL %s (%s), files kept in %s\n", tests[i].name, tests[i].file,
				tmpdir[0] ? tmpdir : "-");
			tmpdir[0] = 0;
		} else {
			passed++;
			remove_tmpdir();
		}
	}
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
