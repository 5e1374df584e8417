/* TraceQL regular expressions: RE2 syntax on PCRE2. The pattern is first
 * read as RE2 reads it (escapes, classes, groups, repetitions): what RE2
 * rejects is rejected here with RE2's reason, and the few escapes whose
 * meaning differs between the two (\v, \s, octal \123) are rewritten to
 * what RE2 means. The result is compiled by PCRE2 in UTF mode, anchored at
 * both ends unless TQL_REGEX_PARTIAL, $ only at the very end (RE2 without
 * (?m)), and JIT-compiled when the platform can. Matching runs under a match
 * limit with per-thread match data, so one compiled regex serves every
 * worker thread of a query at once. */
#include "query/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"

#define REGEX_MAX_REPEAT 1000	     /* RE2's largest {n,m} */
#define REGEX_MAX_NEST 1000	     /* RE2's nesting depth */
#define REGEX_MAX_PATTERN (1u << 20) /* translated pattern bytes */
#define REGEX_JIT_STACK_MIN (32u << 10)
#define REGEX_JIT_STACK_MAX (1u << 20)
#define REGEX_HEAP_LIMIT_KIB 65536u

struct tql_regex {
	pcre2_code *code;
	bool jit;
};

/* ---- reading the pattern as RE2 does ---- */

struct rx {
	const char *p;
	size_t len, i;
	struct buf out;
	char *err;
	size_t errlen;
	bool failed;
};

static bool rx_fail(struct rx *r, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Record the first error, "at offset N: " and the message; false. */
static bool rx_fail(struct rx *r, size_t at, const char *fmt, ...)
{
	if (!r->failed && r->errlen) {
		int n = snprintf(r->err, r->errlen, "at offset %zu: ", at);
		if (n >= 0 && (size_t)n < r->errlen) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	r->failed = true;
	return false;
}

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_word(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* Copy \Q...\E (or to the end) verbatim: PCRE2 reads it as RE2 does. */
static void rx_quoted(struct rx *r)
{
	size_t start = r->i; /* at the backslash of \Q */
	size_t k = start + 2;
	while (k < r->len && !(r->p[k] == '\\' && k + 1 < r->len && r->p[k + 1] == 'E'))
		k++;
	if (k < r->len)
		k += 2;
	buf_append(&r->out, r->p + start, k - start);
	r->i = k;
}

/* One escape at r->i (the backslash); in_class: inside [...]. */
static bool rx_escape(struct rx *r, bool in_class)
{
	size_t at = r->i;
	if (at + 1 >= r->len)
		return rx_fail(r, at, "trailing backslash");
	char c = r->p[at + 1];
	if (c >= '1' && c <= '9') {
		/* RE2: a single non-zero digit is a backreference; one followed by
		 * octal digits is an octal character code */
		if (c > '7' || at + 2 >= r->len || !is_octal(r->p[at + 2]))
			return rx_fail(r, at, "backreferences (%s) are not supported by RE2 syntax",
				       c > '7' ? "\\8, \\9" : "\\1 ... \\7");
	}
	if (c >= '0' && c <= '7') {
		size_t k = at + 1, n = 0;
		unsigned v = 0;
		while (k < r->len && n < 3 && is_octal(r->p[k])) {
			v = v * 8 + (unsigned)(r->p[k] - '0');
			k++;
			n++;
		}
		buf_printf(&r->out, "\\x{%x}", v);
		r->i = k;
		return true;
	}
	switch (c) {
	case 'a': case 'f': case 't': case 'n': case 'r':
	case 'd': case 'D': case 'w': case 'W': case 'S':
		break;
	case 'v': /* RE2: the vertical tab; PCRE2: vertical space */
		buf_append_cstr(&r->out, "\\x0b");
		r->i = at + 2;
		return true;
	case 's': /* RE2: [\t\n\f\r ]; PCRE2 also counts \v */
		buf_append_cstr(&r->out, in_class ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]");
		r->i = at + 2;
		return true;
	case 'b': case 'B': case 'A': case 'z':
		if (in_class)
			return rx_fail(r, at, "%s is not allowed inside a character class",
				       c == 'b' ? "\\b" : c == 'B' ? "\\B" : c == 'A' ? "\\A" : "\\z");
		break;
	case 'x': {
		size_t k = at + 2;
		if (k < r->len && r->p[k] == '{') {
			size_t h = k + 1;
			while (h < r->len && is_hex(r->p[h]))
				h++;
			if (h == k + 1 || h >= r->len || r->p[h] != '}' || h - k - 1 > 8)
				return rx_fail(r, at, "invalid escape %s: expected \\x{hex}", "\\x");
			buf_append(&r->out, r->p + at, h + 1 - at);
			r->i = h + 1;
			return true;
		}
		if (k + 1 >= r->len || !is_hex(r->p[k]) || !is_hex(r->p[k + 1]))
			return rx_fail(r, at, "invalid escape %s: expected two hex digits", "\\x");
		buf_append(&r->out, r->p + at, 4);
		r->i = at + 4;
		return true;
	}
	case 'p': case 'P': {
		size_t k = at + 2;
		if (k >= r->len)
			return rx_fail(r, at, "invalid character class range %s", "\\p");
		if (r->p[k] == '{') {
			size_t h = k + 1;
			while (h < r->len && r->p[h] != '}')
				h++;
			if (h >= r->len)
				return rx_fail(r, at, "missing } in %s{...}", "\\p");
			buf_append(&r->out, r->p + at, h + 1 - at);
			r->i = h + 1;
		} else {
			buf_append(&r->out, r->p + at, 3);
			r->i = at + 3;
		}
		return true;
	}
	case 'Q':
		if (in_class)
			return rx_fail(r, at, "%s inside a character class is not supported", "\\Q");
		rx_quoted(r);
		return true;
	case 'g': case 'k':
		return rx_fail(r, at, "backreferences (%s) are not supported by RE2 syntax",
			       c == 'g' ? "\\g" : "\\k");
	case 'C':
		return rx_fail(r, at, "%s (any byte) is not supported", "\\C");
	default:
		if ((unsigned char)c >= 0x80)
			return rx_fail(r, at, "%s is not a valid escape", "a backslash before a non-ASCII character");
		if (is_word(c)) {
			char what[3] = {'\\', c, 0};
			return rx_fail(r, at, "the escape %s is not supported by RE2 syntax", what);
		}
		break; /* escaped punctuation: a literal in both */
	}
	buf_append(&r->out, r->p + at, 2);
	r->i = at + 2;
	return true;
}

/* A character class at r->i ('['). */
static bool rx_class(struct rx *r)
{
	size_t at = r->i;
	size_t k = at + 1;
	buf_append_byte(&r->out, '[');
	if (k < r->len && r->p[k] == '^')
		buf_append_byte(&r->out, r->p[k++]);
	if (k < r->len && r->p[k] == ']') { /* a leading ] is a literal */
		buf_append_cstr(&r->out, "\\]");
		k++;
	}
	r->i = k;
	while (r->i < r->len) {
		char c = r->p[r->i];
		if (c == ']') {
			buf_append_byte(&r->out, ']');
			r->i++;
			return true;
		}
		if (c == '\\') {
			if (!rx_escape(r, true))
				return false;
			continue;
		}
		if (c == '[' && r->i + 1 < r->len && r->p[r->i + 1] == ':') { /* [:alpha:] */
			size_t e = r->i + 2;
			while (e + 1 < r->len && !(r->p[e] == ':' && r->p[e + 1] == ']'))
				e++;
			if (e + 1 >= r->len)
				return rx_fail(r, r->i, "unterminated POSIX class");
			buf_append(&r->out, r->p + r->i, e + 2 - r->i);
			r->i = e + 2;
			continue;
		}
		if (c == '[') /* a literal [ inside a class: PCRE2 needs it escaped */
			buf_append_cstr(&r->out, "\\[");
		else
			buf_append_byte(&r->out, (uint8_t)c);
		r->i++;
	}
	return rx_fail(r, at, "missing closing ]");
}

/* A {n}, {n,} or {n,m} at r->i: its end in *end and true, or false when
 * the brace is a literal (RE2 reads it so). Counts over the limit fail. */
static bool rx_repeat(struct rx *r, size_t *end, bool *bad)
{
	size_t k = r->i + 1;
	long lo = 0, hi = -1;
	*bad = false;
	size_t d0 = k;
	while (k < r->len && r->p[k] >= '0' && r->p[k] <= '9' && k - d0 < 8)
		lo = lo * 10 + (r->p[k++] - '0');
	if (k == d0)
		return false;
	if (k < r->len && r->p[k] == ',') {
		k++;
		size_t d1 = k;
		hi = 0;
		while (k < r->len && r->p[k] >= '0' && r->p[k] <= '9' && k - d1 < 8)
			hi = hi * 10 + (r->p[k++] - '0');
		if (k == d1)
			hi = -2; /* {n,} */
	} else {
		hi = lo;
	}
	if (k >= r->len || r->p[k] != '}')
		return false;
	*end = k + 1;
	if (lo > REGEX_MAX_REPEAT || hi > REGEX_MAX_REPEAT || (hi >= 0 && hi < lo)) {
		*bad = true;
		rx_fail(r, r->i, "bad repetition operator %s: counts go up to 1000 and min <= max",
			"{n,m}");
	}
	return true;
}

/* A group opening at r->i ('('). */
static bool rx_group(struct rx *r, int *depth)
{
	size_t at = r->i;
	if (++*depth > REGEX_MAX_NEST)
		return rx_fail(r, at, "expression nests too deeply");
	if (at + 1 < r->len && r->p[at + 1] == '*')
		return rx_fail(r, at, "%s verbs are not supported by RE2 syntax", "(*...)");
	if (at + 1 >= r->len || r->p[at + 1] != '?') {
		buf_append_byte(&r->out, '(');
		r->i = at + 1;
		return true;
	}
	size_t k = at + 2;
	char c = k < r->len ? r->p[k] : 0;
	char c2 = k + 1 < r->len ? r->p[k + 1] : 0;
	if (c == '=' || c == '!' || (c == '<' && (c2 == '=' || c2 == '!')))
		return rx_fail(r, at, "lookaround (%s) is not supported by RE2 syntax",
			       c == '=' ? "(?=" : c == '!' ? "(?!" : c2 == '=' ? "(?<=" : "(?<!");
	if (c == 'P' && c2 == '=')
		return rx_fail(r, at, "backreferences (%s) are not supported by RE2 syntax", "(?P=name)");
	if (c == 'P' && c2 == '>')
		return rx_fail(r, at, "recursion (%s) is not supported by RE2 syntax", "(?P>name)");
	if (c == '>')
		return rx_fail(r, at, "atomic groups (%s) are not supported by RE2 syntax", "(?>");
	if (c == '(')
		return rx_fail(r, at, "conditionals (%s) are not supported by RE2 syntax", "(?(");
	if (c == '#')
		return rx_fail(r, at, "comments (%s) are not supported by RE2 syntax", "(?#");
	if (c == 'R' || c == '&' || c == '+' || (c >= '0' && c <= '9'))
		return rx_fail(r, at, "recursion (%s) is not supported by RE2 syntax", "(?R)");
	if (c == ':') {
		buf_append_cstr(&r->out, "(?:");
		r->i = k + 1;
		return true;
	}
	if ((c == 'P' && c2 == '<') || (c == '<' && c2 != '=' && c2 != '!')) { /* named group */
		size_t n = k + (c == 'P' ? 2 : 1), n0 = n;
		while (n < r->len && is_word(r->p[n]))
			n++;
		if (n == n0 || n >= r->len || r->p[n] != '>' || (r->p[n0] >= '0' && r->p[n0] <= '9'))
			return rx_fail(r, at, "invalid named capture group");
		buf_append_cstr(&r->out, "(?<");
		buf_append(&r->out, r->p + n0, n - n0);
		buf_append_byte(&r->out, '>');
		r->i = n + 1;
		return true;
	}
	/* flags: (?imsU-imsU) or (?imsU-imsU:...) */
	size_t f = k;
	bool neg = false, any = false;
	for (; f < r->len && r->p[f] != ')' && r->p[f] != ':'; f++) {
		char x = r->p[f];
		if (x == '-' && !neg) {
			neg = true;
			continue;
		}
		if (x != 'i' && x != 'm' && x != 's' && x != 'U') {
			char what[2] = {x, 0};
			return rx_fail(r, f, "the flag or group (?%s is not supported by RE2 syntax", what);
		}
		any = true;
	}
	if (f >= r->len || !any || r->p[f - 1] == '-')
		return rx_fail(r, at, "invalid or unsupported group or flags");
	if (r->p[f] == ')')
		--*depth; /* (?i) opens nothing */
	buf_append(&r->out, r->p + at, f + 1 - at);
	r->i = f + 1;
	return true;
}

/* Read the whole pattern into r->out (PCRE2 syntax); false with r->err. */
static bool rx_translate(struct rx *r)
{
	int depth = 0;
	bool can_repeat = false, after_repeat = false;
	while (r->i < r->len && !r->failed) {
		char c = r->p[r->i];
		bool quant = c == '*' || c == '+' || c == '?';
		size_t qend = r->i + 1;
		bool bad = false;
		if (c == '{')
			quant = rx_repeat(r, &qend, &bad);
		if (bad)
			return false;
		if (quant) {
			if (after_repeat)
				return rx_fail(r, r->i, "bad repetition operator (a repetition of a repetition, "
							 "or a possessive quantifier, is not supported by RE2 syntax)");
			if (!can_repeat)
				return rx_fail(r, r->i, "missing argument to repetition operator");
			buf_append(&r->out, r->p + r->i, qend - r->i);
			r->i = qend;
			if (r->i < r->len && r->p[r->i] == '?') /* lazy */
				buf_append_byte(&r->out, (uint8_t)r->p[r->i++]);
			after_repeat = true;
			continue;
		}
		after_repeat = false;
		can_repeat = true;
		switch (c) {
		case '\\':
			if (r->i + 1 < r->len && (r->p[r->i + 1] == 'b' || r->p[r->i + 1] == 'B' || r->p[r->i + 1] == 'A' ||
						  r->p[r->i + 1] == 'z'))
				can_repeat = false;
			if (r->i + 1 < r->len && r->p[r->i + 1] == 'Q') {
				rx_quoted(r);
				continue;
			}
			if (!rx_escape(r, false))
				return false;
			break;
		case '[':
			if (!rx_class(r))
				return false;
			break;
		case '(': /* nothing to repeat right after an opening (or a flag group) */
			if (!rx_group(r, &depth))
				return false;
			can_repeat = false;
			break;
		case ')':
			if (depth == 0)
				return rx_fail(r, r->i, "unexpected )");
			depth--;
			buf_append_byte(&r->out, ')');
			r->i++;
			break;
		case '|':
			can_repeat = false;
			buf_append_byte(&r->out, '|');
			r->i++;
			break;
		case '^':
		case '$':
			can_repeat = false;
			buf_append_byte(&r->out, (uint8_t)c);
			r->i++;
			break;
		case '{': /* a brace that is no repetition is a literal in RE2 */
			buf_append_cstr(&r->out, "\\{");
			r->i++;
			break;
		case '}':
			buf_append_cstr(&r->out, "\\}");
			r->i++;
			break;
		default:
			buf_append_byte(&r->out, (uint8_t)c);
			r->i++;
			break;
		}
	}
	if (r->failed)
		return false;
	if (depth > 0)
		return rx_fail(r, r->len, "missing closing )");
	if (r->out.err)
		return rx_fail(r, 0, "the pattern is too long");
	return true;
}

/* ---- compiling and matching ---- */

struct tql_regex *tql_regex_compile(const char *pattern, size_t len, unsigned flags, char *err, size_t errlen)
{
	struct rx r = {.p = pattern, .len = len, .err = err, .errlen = errlen};
	struct tql_regex *re = NULL;
	pcre2_compile_context *cc = NULL;
	if (errlen)
		err[0] = 0;
	buf_init(&r.out, REGEX_MAX_PATTERN);
	if (!rx_translate(&r))
		goto out;
	cc = pcre2_compile_context_create(NULL);
	if (!cc) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	pcre2_set_parens_nest_limit(cc, REGEX_MAX_NEST + 2);
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C;
	if (!(flags & TQL_REGEX_PARTIAL))
		opts |= PCRE2_ANCHORED | PCRE2_ENDANCHORED;
	int ec;
	PCRE2_SIZE eoff;
	static const uint8_t empty[1] = {0};
	pcre2_code *code = pcre2_compile(r.out.len ? (PCRE2_SPTR)r.out.p : empty, r.out.len, opts, &ec, &eoff, cc);
	if (!code) {
		PCRE2_UCHAR why[160];
		if (pcre2_get_error_message(ec, why, sizeof why) < 0)
			snprintf((char *)why, sizeof why, "error %d", ec);
		snprintf(err, errlen, "%s", (const char *)why);
		goto out;
	}
	re = calloc(1, sizeof *re);
	if (!re) {
		pcre2_code_free(code);
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	re->code = code;
	re->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
out:
	pcre2_compile_context_free(cc);
	buf_free(&r.out);
	return re;
}

void tql_regex_free(struct tql_regex *re)
{
	if (!re)
		return;
	pcre2_code_free(re->code);
	free(re);
}

/* Per-thread match state: match data (one pair: nothing is captured), a
 * match context with the limits and a JIT stack. Freed at thread exit. */
struct rx_thread {
	pcre2_match_data *md;
	pcre2_match_context *mc;
	pcre2_jit_stack *js;
};

static pthread_key_t rx_key;
static pthread_once_t rx_once = PTHREAD_ONCE_INIT;
static bool rx_key_ok;

static void rx_thread_free(void *p)
{
	struct rx_thread *t = p;
	if (!t)
		return;
	pcre2_match_data_free(t->md);
	pcre2_match_context_free(t->mc);
	pcre2_jit_stack_free(t->js);
	free(t);
}

static void rx_key_init(void)
{
	rx_key_ok = pthread_key_create(&rx_key, rx_thread_free) == 0;
}

static struct rx_thread *rx_thread_get(void)
{
	pthread_once(&rx_once, rx_key_init);
	if (!rx_key_ok)
		return NULL;
	struct rx_thread *t = pthread_getspecific(rx_key);
	if (t)
		return t;
	t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->md = pcre2_match_data_create(1, NULL);
	t->mc = pcre2_match_context_create(NULL);
	t->js = pcre2_jit_stack_create(REGEX_JIT_STACK_MIN, REGEX_JIT_STACK_MAX, NULL);
	if (!t->md || !t->mc || pthread_setspecific(rx_key, t) != 0) {
		rx_thread_free(t);
		return NULL;
	}
	pcre2_set_match_limit(t->mc, TQL_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(t->mc, TQL_REGEX_MATCH_LIMIT);
	pcre2_set_heap_limit(t->mc, REGEX_HEAP_LIMIT_KIB);
	if (t->js)
		pcre2_jit_stack_assign(t->mc, NULL, t->js);
	return t;
}

int tql_regex_match(const struct tql_regex *re, const uint8_t *s, size_t len)
{
	struct rx_thread *t = rx_thread_get();
	if (!t)
		return CLEW_ENOMEM;
	static const uint8_t empty[1] = {0};
	int rc = pcre2_match(re->code, len ? (PCRE2_SPTR)s : empty, len, 0, 0, t->md, t->mc);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_NOMEMORY)
		return CLEW_ENOMEM;
	return CLEW_ELIMIT; /* match, depth or heap limit, JIT stack */
}
