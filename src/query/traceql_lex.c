/* TraceQL lexer: query text -> token array, following Tempo's lexer. After a
 * `.`, `span.`, `resource.`, `event.`, `link.`, `instrumentation.` or
 * `parent.` prefix, everything up to whitespace or one of {}()=~!<>&|^, is the
 * attribute name (so `.http.url` and `.foo-bar` are one name; `"..."` parts
 * are quoted); a number glued to duration units is a duration (`1h30m`). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "query/traceql_int.h"

struct kw {
	const char *s;
	enum tql_tok t;
};

static const struct kw keywords[] = {
	{"true", TK_TRUE},
	{"false", TK_FALSE},
	{"nil", TK_NIL},
	{"ok", TK_STATUS_OK},
	{"error", TK_STATUS_ERROR},
	{"unset", TK_STATUS_UNSET},
	{"unspecified", TK_KIND_UNSPECIFIED},
	{"internal", TK_KIND_INTERNAL},
	{"server", TK_KIND_SERVER},
	{"client", TK_KIND_CLIENT},
	{"producer", TK_KIND_PRODUCER},
	{"consumer", TK_KIND_CONSUMER},
	{"duration", TK_KW_DURATION},
	{"childCount", TK_CHILDCOUNT},
	{"name", TK_NAME},
	{"status", TK_STATUS},
	{"statusMessage", TK_STATUS_MESSAGE},
	{"kind", TK_KIND},
	{"rootName", TK_ROOTNAME},
	{"rootServiceName", TK_ROOTSERVICENAME},
	{"rootService", TK_ROOTSERVICE},
	{"traceDuration", TK_TRACEDURATION},
	{"nestedSetLeft", TK_NESTEDSETLEFT},
	{"nestedSetRight", TK_NESTEDSETRIGHT},
	{"nestedSetParent", TK_NESTEDSETPARENT},
	{"id", TK_ID},
	{"traceID", TK_TRACE_ID},
	{"spanID", TK_SPAN_ID},
	{"parentID", TK_PARENT_ID},
	{"timeSinceStart", TK_TIMESINCESTART},
	{"version", TK_VERSION},
	{"parent", TK_PARENT},
	{"count", TK_COUNT},
	{"avg", TK_AVG},
	{"max", TK_MAX},
	{"min", TK_MIN},
	{"sum", TK_SUM},
	{"by", TK_BY},
	{"coalesce", TK_COALESCE},
	{"select", TK_SELECT},
	{"rate", TK_RATE},
	{"count_over_time", TK_COUNT_OVER_TIME},
	{"min_over_time", TK_MIN_OVER_TIME},
	{"max_over_time", TK_MAX_OVER_TIME},
	{"avg_over_time", TK_AVG_OVER_TIME},
	{"sum_over_time", TK_SUM_OVER_TIME},
	{"quantile_over_time", TK_QUANTILE_OVER_TIME},
	{"histogram_over_time", TK_HISTOGRAM_OVER_TIME},
	{"compare", TK_COMPARE},
	{"topk", TK_TOPK},
	{"bottomk", TK_BOTTOMK},
	{"with", TK_WITH},
};

/* Operators, longest first so the first match is the longest. */
static const struct kw operators[] = {
	{"!>>", TK_NOT_DESC}, {"!<<", TK_NOT_ANCE}, {"&>>", TK_UNION_DESC}, {"&<<", TK_UNION_ANCE},
	{"!=", TK_NEQ},	      {"!~", TK_NRE},	    {"!>", TK_NOT_CHILD},   {"!<", TK_NOT_PARENT},
	{"&&", TK_AND},	      {"&>", TK_UNION_CHILD}, {"&<", TK_UNION_PARENT}, {"&~", TK_UNION_SIBL},
	{"||", TK_OR},	      {"=~", TK_RE},	    {">=", TK_GTE},	    {">>", TK_DESC},
	{"<=", TK_LTE},	      {"<<", TK_ANCE},	    {",", TK_COMMA},	    {"{", TK_LBRACE},
	{"}", TK_RBRACE},     {"(", TK_LPAREN},	    {")", TK_RPAREN},	    {"=", TK_EQ},
	{">", TK_GT},	      {"<", TK_LT},	    {"+", TK_ADD},	    {"-", TK_SUB},
	{"*", TK_MUL},	      {"/", TK_DIV},	    {"%", TK_MOD},	    {"^", TK_POW},
	{"!", TK_NOT},	      {"|", TK_PIPE},	    {"~", TK_SIBL},
};

struct lexer {
	const uint8_t *p, *end, *start;
	struct arena *a;
	struct tql_token *v;
	uint32_t n, cap;
};

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_start(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(uint8_t c)
{
	return is_ident_start(c) || is_digit(c);
}

/* Tempo's isAttributeRune: what may follow a scope prefix in a name. */
static bool is_attr_char(uint8_t c)
{
	if (is_space(c))
		return false;
	switch (c) {
	case '{': case '}': case '(': case ')': case '=': case '~': case '!':
	case '<': case '>': case '&': case '|': case '^': case ',':
		return false;
	default:
		return true;
	}
}

static struct tql_token *push(struct lexer *l, enum tql_tok t, const uint8_t *from)
{
	if (l->n == l->cap) {
		uint32_t nc = l->cap ? l->cap * 2 : 32;
		struct tql_token *nv = arena_grow(l->a, l->v, l->n, nc, sizeof(*nv));
		if (!nv)
			return NULL;
		l->v = nv;
		l->cap = nc;
	}
	struct tql_token *t0 = &l->v[l->n++];
	memset(t0, 0, sizeof(*t0));
	t0->t = t;
	t0->off = (uint32_t)(from - l->start);
	t0->len = (uint32_t)(l->p - from);
	return t0;
}

/* A lexical error: a TK_ERROR token at from carrying msg (static text). */
static int lex_error(struct lexer *l, const uint8_t *from, const char *msg)
{
	struct tql_token *t = push(l, TK_ERROR, from);
	if (!t)
		return CLEW_ENOMEM;
	t->u.s = slice_cstr(msg);
	return 1;
}

/* Scale factors of duration units, in nanoseconds. */
static int64_t unit_ns(const uint8_t *s, size_t len, size_t *used)
{
	static const struct {
		const char *u;
		int64_t ns;
	} units[] = {
		{"ns", 1},
		{"us", 1000},
		{"\xc2\xb5s", 1000}, /* µs */
		{"\xce\xbcs", 1000}, /* μs (Greek mu) */
		{"ms", 1000000},
		{"s", 1000000000LL},
		{"m", 60LL * 1000000000LL},
		{"h", 3600LL * 1000000000LL},
		{"d", 86400LL * 1000000000LL},
		{"w", 7LL * 86400LL * 1000000000LL},
		{"y", 365LL * 86400LL * 1000000000LL},
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t ul = strlen(units[i].u);
		if (ul <= len && memcmp(s, units[i].u, ul) == 0) {
			*used = ul;
			return units[i].ns;
		}
	}
	return 0;
}

bool tql_parse_duration(const uint8_t *s, size_t len, int64_t *ns)
{
	const uint8_t *p = s, *end = s + len;
	int64_t total = 0;
	if (p == end)
		return false;
	while (p < end) {
		uint64_t whole = 0, frac = 0, scale = 1;
		bool any = false;
		while (p < end && is_digit(*p)) {
			if (whole > (UINT64_MAX - 9) / 10)
				return false;
			whole = whole * 10 + (uint64_t)(*p++ - '0');
			any = true;
		}
		if (p < end && *p == '.') {
			p++;
			while (p < end && is_digit(*p)) {
				if (scale < 1000000000000000000ULL) { /* digits past 1e-18 do not matter */
					frac = frac * 10 + (uint64_t)(*p - '0');
					scale *= 10;
				}
				p++;
				any = true;
			}
		}
		if (!any)
			return false;
		size_t used = 0;
		int64_t u = unit_ns(p, (size_t)(end - p), &used);
		if (!u)
			return false;
		p += used;
		if (whole > (uint64_t)INT64_MAX / (uint64_t)u)
			return false;
		/* frac/scale * u without overflow: scale <= 1e18 and u <= 3.2e16 */
		double fpart = (double)frac / (double)scale * (double)u;
		uint64_t part = whole * (uint64_t)u + (uint64_t)(fpart + 0.5);
		if (part > (uint64_t)INT64_MAX || (uint64_t)total > (uint64_t)INT64_MAX - part)
			return false;
		total += (int64_t)part;
	}
	*ns = total;
	return true;
}

/* Decode a "..." or `...` string; Go escapes in double quotes. 0, 1 (error
 * token pushed) or CLEW_ENOMEM. */
static int lex_string(struct lexer *l)
{
	const uint8_t *from = l->p;
	uint8_t q = *l->p++;
	const uint8_t *body = l->p;
	bool escapes = false;
	while (l->p < l->end && *l->p != q) {
		if (q == '"' && *l->p == '\n')
			return lex_error(l, from, "newline in string");
		if (q == '"' && *l->p == '\\') {
			escapes = true;
			if (l->p + 1 < l->end)
				l->p++;
		}
		l->p++;
	}
	if (l->p >= l->end)
		return lex_error(l, from, "unterminated string");
	size_t blen = (size_t)(l->p - body);
	l->p++; /* closing quote */
	struct slice val = slice_make(body, blen);
	if (escapes) {
		uint8_t *o = arena_alloc(l->a, blen + 1);
		if (!o)
			return CLEW_ENOMEM;
		size_t n = 0;
		for (const uint8_t *s = body; s < body + blen; s++) {
			if (*s != '\\') {
				o[n++] = *s;
				continue;
			}
			s++;
			switch (*s) {
			case 'n': o[n++] = '\n'; break;
			case 't': o[n++] = '\t'; break;
			case 'r': o[n++] = '\r'; break;
			case 'a': o[n++] = '\a'; break;
			case 'b': o[n++] = '\b'; break;
			case 'f': o[n++] = '\f'; break;
			case 'v': o[n++] = '\v'; break;
			case '\\': o[n++] = '\\'; break;
			case '"': o[n++] = '"'; break;
			case 'x': {
				unsigned v = 0;
				for (int i = 0; i < 2; i++) {
					s++;
					uint8_t c = s < body + blen ? *s : 0;
					int d = is_digit(c) ? c - '0'
						: (c >= 'a' && c <= 'f') ? c - 'a' + 10
						: (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
					if (d < 0)
						return lex_error(l, from, "invalid \\x escape in string");
					v = v * 16 + (unsigned)d;
				}
				o[n++] = (uint8_t)v;
				break;
			}
			default:
				return lex_error(l, from, "invalid escape sequence in string");
			}
		}
		val = slice_make(o, n);
	}
	struct tql_token *t = push(l, TK_STRING, from);
	if (!t)
		return CLEW_ENOMEM;
	t->u.s = val;
	return 0;
}

/* A number, possibly glued to duration units. */
static int lex_number(struct lexer *l)
{
	const uint8_t *from = l->p;
	bool is_float = false;
	while (l->p < l->end && is_digit(*l->p))
		l->p++;
	if (l->p < l->end && *l->p == '.') {
		is_float = true;
		l->p++;
		while (l->p < l->end && is_digit(*l->p))
			l->p++;
	}
	if (l->p < l->end && (*l->p == 'e' || *l->p == 'E')) {
		const uint8_t *e = l->p + 1;
		if (e < l->end && (*e == '+' || *e == '-'))
			e++;
		if (e < l->end && is_digit(*e)) {
			is_float = true;
			while (e < l->end && is_digit(*e))
				e++;
			l->p = e;
		}
	}
	/* Tempo: the digits and unit letters glued to the number form a duration
	 * if the whole run parses as one; otherwise the number stands alone. */
	const uint8_t *run = l->p;
	while (run < l->end && (is_digit(*run) || *run == '.' || strchr("nsumhdwy", *run) ||
				*run == 0xc2 || *run == 0xb5 || *run == 0xce || *run == 0xbc) && *run)
		run++;
	int64_t ns;
	if (run > l->p && tql_parse_duration(from, (size_t)(run - from), &ns)) {
		l->p = run;
		struct tql_token *t = push(l, TK_DURATION, from);
		if (!t)
			return CLEW_ENOMEM;
		t->u.i = ns;
		return 0;
	}
	/* letters glued to a number are never a separate token: a bad unit */
	if (run > l->p || (l->p < l->end && is_ident_start(*l->p)))
		return lex_error(l, from, "invalid duration: expected a number glued to units such as 100ms or 1h30m");
	char tmp[64];
	size_t n = (size_t)(l->p - from);
	if (n >= sizeof(tmp))
		return lex_error(l, from, "number too long");
	memcpy(tmp, from, n);
	tmp[n] = 0;
	errno = 0;
	char *endp;
	struct tql_token *t;
	if (is_float) {
		double f = strtod(tmp, &endp);
		if (errno == ERANGE && isinf(f))
			return lex_error(l, from, "number out of range");
		if (!(t = push(l, TK_FLOAT, from)))
			return CLEW_ENOMEM;
		t->u.f = f;
	} else {
		long long v = strtoll(tmp, &endp, 10);
		if (errno == ERANGE)
			return lex_error(l, from, "integer out of range");
		if (!(t = push(l, TK_INT, from)))
			return CLEW_ENOMEM;
		t->u.i = v;
	}
	return 0;
}

/* The name after a scope prefix: bare runs and "quoted" parts concatenated. */
static int lex_attr(struct lexer *l, const uint8_t *from, enum tql_scope scope, bool parent)
{
	if (parent) {
		size_t left = (size_t)(l->end - l->p);
		if (left >= 5 && memcmp(l->p, "span.", 5) == 0) {
			scope = TQL_SCOPE_SPAN;
			l->p += 5;
		} else if (left >= 9 && memcmp(l->p, "resource.", 9) == 0) {
			scope = TQL_SCOPE_RESOURCE;
			l->p += 9;
		}
	}
	const uint8_t *name = l->p;
	bool quoted = false;
	while (l->p < l->end && is_attr_char(*l->p)) {
		if (*l->p == '"') {
			quoted = true;
			l->p++;
			while (l->p < l->end && *l->p != '"') {
				if (*l->p == '\\') {
					if (l->p + 1 >= l->end || (l->p[1] != '"' && l->p[1] != '\\'))
						return lex_error(l, l->p, "invalid escape sequence in attribute name");
					l->p++;
				}
				l->p++;
			}
			if (l->p >= l->end)
				return lex_error(l, from, "unterminated quoted attribute name");
		}
		l->p++;
	}
	size_t raw = (size_t)(l->p - name);
	struct slice s = slice_make(name, raw);
	if (quoted) {
		uint8_t *o = arena_alloc(l->a, raw + 1);
		if (!o)
			return CLEW_ENOMEM;
		size_t n = 0;
		bool in_q = false;
		for (const uint8_t *c = name; c < name + raw; c++) {
			if (*c == '"') {
				in_q = !in_q;
				continue;
			}
			if (in_q && *c == '\\')
				c++;
			o[n++] = *c;
		}
		s = slice_make(o, n);
	}
	if (s.len == 0)
		return lex_error(l, from, "expected an attribute name after the scope");
	struct tql_token *t = push(l, TK_ATTR, from);
	if (!t)
		return CLEW_ENOMEM;
	t->u.attr.scope = scope;
	t->u.attr.parent = parent;
	t->u.attr.name = s;
	return 0;
}

static int lex_word(struct lexer *l)
{
	const uint8_t *from = l->p;
	while (l->p < l->end && is_ident(*l->p))
		l->p++;
	size_t n = (size_t)(l->p - from);
	uint8_t next = l->p < l->end ? *l->p : 0;
	if (next == '.') {
		static const struct {
			const char *w;
			enum tql_scope scope;
			bool parent;
		} scopes[] = {
			{"resource", TQL_SCOPE_RESOURCE, false}, {"span", TQL_SCOPE_SPAN, false},
			{"event", TQL_SCOPE_EVENT, false},	 {"link", TQL_SCOPE_LINK, false},
			{"instrumentation", TQL_SCOPE_INSTRUMENTATION, false},
			{"parent", TQL_SCOPE_NONE, true},
		};
		for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
			if (strlen(scopes[i].w) == n && memcmp(from, scopes[i].w, n) == 0) {
				l->p++;
				return lex_attr(l, from, scopes[i].scope, scopes[i].parent);
			}
		}
	}
	if (next == ':') {
		static const struct kw colons[] = {
			{"trace", TK_TRACE_COLON}, {"span", TK_SPAN_COLON}, {"event", TK_EVENT_COLON},
			{"link", TK_LINK_COLON}, {"instrumentation", TK_INSTRUMENTATION_COLON},
		};
		for (size_t i = 0; i < sizeof(colons) / sizeof(colons[0]); i++) {
			if (strlen(colons[i].s) == n && memcmp(from, colons[i].s, n) == 0) {
				l->p++;
				return push(l, colons[i].t, from) ? 0 : CLEW_ENOMEM;
			}
		}
	}
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strlen(keywords[i].s) == n && memcmp(from, keywords[i].s, n) == 0)
			return push(l, keywords[i].t, from) ? 0 : CLEW_ENOMEM;
	}
	struct tql_token *t = push(l, TK_IDENT, from);
	if (!t)
		return CLEW_ENOMEM;
	t->u.s = slice_make(from, n);
	return 0;
}

int tql_lex(struct slice text, struct arena *a, struct tql_tokens *out)
{
	struct lexer l = {.p = text.p, .end = text.p + text.len, .start = text.p, .a = a};
	int rc = 0;
	while (rc == 0) {
		while (l.p < l.end && is_space(*l.p))
			l.p++;
		if (l.p >= l.end)
			break;
		uint8_t c = *l.p;
		const uint8_t *from = l.p;
		if (c == '"' || c == '`') {
			rc = lex_string(&l);
		} else if (is_digit(c) || (c == '.' && l.p + 1 < l.end && is_digit(l.p[1]))) {
			rc = lex_number(&l);
		} else if (c == '.') {
			l.p++;
			if (l.p >= l.end || !is_attr_char(*l.p))
				rc = lex_error(&l, from, "expected an attribute name after '.'");
			else
				rc = lex_attr(&l, from, TQL_SCOPE_NONE, false);
		} else if (is_ident_start(c)) {
			rc = lex_word(&l);
		} else {
			size_t left = (size_t)(l.end - l.p);
			size_t i;
			for (i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
				size_t ol = strlen(operators[i].s);
				if (ol <= left && memcmp(l.p, operators[i].s, ol) == 0)
					break;
			}
			if (i == sizeof(operators) / sizeof(operators[0])) {
				l.p++;
				rc = lex_error(&l, from, "unexpected character");
			} else {
				l.p += strlen(operators[i].s);
				rc = push(&l, operators[i].t, from) ? 0 : CLEW_ENOMEM;
			}
		}
	}
	if (rc < 0)
		return rc;
	if (!push(&l, TK_EOF, l.p))
		return CLEW_ENOMEM;
	out->v = l.v;
	out->n = l.n;
	return 0;
}

const char *tql_tok_describe(const struct tql_token *t, struct slice text, char *buf, size_t size)
{
	int w = (int)(t->len > 40 ? 40 : t->len);
	const char *p = (const char *)text.p + t->off;
	switch (t->t) {
	case TK_EOF:
		snprintf(buf, size, "the end of the query");
		break;
	case TK_STRING:
		snprintf(buf, size, "the string %.*s%s", w, p, t->len > 40 ? "..." : "");
		break;
	case TK_INT:
	case TK_FLOAT:
		snprintf(buf, size, "the number %.*s", w, p);
		break;
	case TK_DURATION:
		snprintf(buf, size, "the duration %.*s", w, p);
		break;
	case TK_ATTR:
		snprintf(buf, size, "the attribute %.*s%s", w, p, t->len > 40 ? "..." : "");
		break;
	case TK_IDENT:
		snprintf(buf, size, "the identifier '%.*s'", w, p);
		break;
	default:
		snprintf(buf, size, "'%.*s'", w, p);
		break;
	}
	return buf;
}

void tql_linecol(struct slice text, uint32_t off, uint32_t *line, uint32_t *col)
{
	uint32_t ln = 1, c = 1;
	for (size_t i = 0; i < off && i < text.len; i++) {
		uint8_t b = text.p[i];
		if (b == '\n') {
			ln++;
			c = 1;
		} else if ((b & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = ln;
	*col = c;
}

int tql_errorf(struct tql_error *err, enum tql_error_kind kind, struct slice text, uint32_t off, const char *fmt, ...)
{
	if (!err)
		return CLEW_EPARSE;
	err->kind = kind;
	err->off = off;
	tql_linecol(text, off, &err->line, &err->col);
	int n = snprintf(err->msg, sizeof(err->msg), "%u:%u: ", err->line, err->col);
	if (n < 0)
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return CLEW_EPARSE;
}
