/* Tempo-compatible JSON for TraceQL metrics results: the range and instant
 * answers (of a series set or of compare()), typed label values, and Go's duration notation for duration
 * labels (Tempo prints them with time.Duration.String). */
#include "query/metrics_out.h"

#include <math.h>
#include <string.h>

#include "query/metrics_compare.h"

static const char *const status_names[] = {"unset", "ok", "error"};
static const char *const kind_names[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};

/* Append v / 10^digits as a decimal with the trailing zeros of its fraction
 * removed (Go's fmtFrac + fmtInt). */
static void frac(struct buf *out, uint64_t v, int digits)
{
	uint64_t p = 1;
	for (int i = 0; i < digits; i++)
		p *= 10;
	buf_printf(out, "%llu", (unsigned long long)(v / p));
	uint64_t f = v % p;
	if (!f)
		return;
	char tmp[24];
	int n = digits;
	while (f % 10 == 0) {
		f /= 10;
		n--;
	}
	int len = 0;
	tmp[len++] = '.';
	for (int i = n - 1; i >= 0; i--) {
		tmp[len + i] = (char)('0' + f % 10);
		f /= 10;
	}
	len += n;
	buf_append(out, tmp, (size_t)len);
}

void metrics_out_go_duration(struct buf *out, int64_t d_ns)
{
	uint64_t u = d_ns < 0 ? (uint64_t)0 - (uint64_t)d_ns : (uint64_t)d_ns;
	if (d_ns < 0)
		buf_append_byte(out, '-');
	if (u == 0) {
		buf_append_cstr(out, "0s");
		return;
	}
	if (u < 1000000000ull) {
		if (u < 1000) {
			buf_printf(out, "%lluns", (unsigned long long)u);
		} else if (u < 1000000) {
			frac(out, u, 3);
			buf_append_cstr(out, "\xc2\xb5s"); /* µs, as Go writes it */
		} else {
			frac(out, u, 6);
			buf_append_cstr(out, "ms");
		}
		return;
	}
	uint64_t sec_ns = u % 60000000000ull, mins = u / 60000000000ull;
	if (mins >= 60)
		buf_printf(out, "%lluh", (unsigned long long)(mins / 60));
	if (mins)
		buf_printf(out, "%llum", (unsigned long long)(mins % 60));
	frac(out, sec_ns, 9);
	buf_append_byte(out, 's');
}

void metrics_out_any_value(struct json *j, const struct tql_value *v)
{
	json_obj_begin(j);
	switch (v->type) {
	case TQL_T_STRING:
		json_key(j, "stringValue");
		json_str(j, v->u.s);
		break;
	case TQL_T_INT:
		json_key(j, "intValue");
		json_int_str(j, v->u.i);
		break;
	case TQL_T_FLOAT:
		json_key(j, "doubleValue");
		json_double(j, v->u.f);
		break;
	case TQL_T_BOOL:
		json_key(j, "boolValue");
		json_bool(j, v->u.b);
		break;
	case TQL_T_DURATION: {
		struct buf tmp;
		buf_init(&tmp, 64);
		metrics_out_go_duration(&tmp, v->u.i);
		json_key(j, "stringValue");
		json_str(j, tmp.err ? SLICE_LIT("") : buf_slice(&tmp));
		buf_free(&tmp);
		break;
	}
	case TQL_T_STATUS:
		json_key(j, "stringValue");
		json_cstr(j, v->u.i >= 0 && v->u.i <= 2 ? status_names[v->u.i] : "unset");
		break;
	case TQL_T_KIND:
		json_key(j, "stringValue");
		json_cstr(j, v->u.i >= 0 && v->u.i <= 5 ? kind_names[v->u.i] : "unspecified");
		break;
	default:
		json_key(j, "stringValue");
		json_cstr(j, "nil");
		break;
	}
	json_obj_end(j);
}

static void labels(struct json *j, const struct series_out *o)
{
	json_key(j, "labels");
	json_arr_begin(j);
	for (uint32_t i = 0; i < o->n_labels; i++) {
		json_obj_begin(j);
		json_key(j, "key");
		json_str(j, o->labels[i].name);
		json_key(j, "value");
		metrics_out_any_value(j, &o->labels[i].value);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void stats(struct json *j, const struct metrics_out_stats *st)
{
	static const struct metrics_out_stats none;
	if (!st)
		st = &none;
	json_key(j, "metrics");
	json_obj_begin(j);
	json_key(j, "inspectedTraces");
	json_uint(j, st->inspected_traces);
	json_key(j, "inspectedBytes");
	json_uint_str(j, st->inspected_bytes);
	json_key(j, "inspectedSpans");
	json_uint_str(j, st->inspected_spans);
	json_key(j, "totalBlocks");
	json_uint(j, st->total_blocks);
	json_key(j, "completedJobs");
	json_uint(j, st->completed_jobs);
	json_key(j, "totalJobs");
	json_uint(j, st->total_jobs);
	json_obj_end(j);
}

/* One {"timestampMs", "value"} sample of a range series. */
static void sample(struct json *j, int64_t ts_ms, double v)
{
	json_obj_begin(j);
	json_key(j, "timestampMs");
	json_int_str(j, ts_ms);
	json_key(j, "value");
	json_double(j, v);
	json_obj_end(j);
}

/* Close a range series' samples, add its (empty) exemplars, close it. */
static void end_samples(struct json *j)
{
	json_arr_end(j);
	json_key(j, "exemplars");
	json_arr_begin(j);
	json_arr_end(j);
	json_obj_end(j);
}

void metrics_out_range(struct buf *out, const struct series_set *s, const struct metrics_out_stats *st)
{
	struct json j;
	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "series");
	json_arr_begin(&j);
	for (uint32_t i = 0; i < series_count(s); i++) {
		const struct series_out *o = series_at(s, i);
		json_obj_begin(&j);
		labels(&j, o);
		json_key(&j, "samples");
		json_arr_begin(&j);
		uint32_t step = 0;
		int64_t ts_ms;
		double v;
		while (series_next_sample(s, o, &step, &ts_ms, &v)) {
			sample(&j, ts_ms, v);
		}
		end_samples(&j);
	}
	json_arr_end(&j);
	stats(&j, st);
	json_obj_end(&j);
}

void metrics_out_instant(struct buf *out, const struct series_set *s, const struct metrics_out_stats *st)
{
	struct json j;
	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "series");
	json_arr_begin(&j);
	for (uint32_t i = 0; i < series_count(s); i++) {
		const struct series_out *o = series_at(s, i);
		uint32_t step = 0;
		int64_t ts_ms;
		double v;
		if (!series_next_sample(s, o, &step, &ts_ms, &v))
			continue;
		json_obj_begin(&j);
		labels(&j, o);
		json_key(&j, "value");
		json_double(&j, v);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	stats(&j, st);
	json_obj_end(&j);
}

static void label(struct json *j, struct slice key, const struct tql_value *v)
{
	json_obj_begin(j);
	json_key(j, "key");
	json_str(j, key);
	json_key(j, "value");
	metrics_out_any_value(j, v);
	json_obj_end(j);
}

/* __meta_type (or __meta_error) first, then the attribute, as Tempo orders them. */
static void compare_labels(struct json *j, const struct mcmp_series *s)
{
	bool error = s->counts == NULL;
	struct tql_value type = {.type = TQL_T_STRING, .u.s = slice_cstr(s->type)};
	json_key(j, "labels");
	json_arr_begin(j);
	label(j, slice_cstr(error ? "__meta_error" : "__meta_type"), &type);
	label(j, s->attr, &s->value);
	json_arr_end(j);
}

void metrics_out_compare_range(struct buf *out, const struct mcmp_result *r, const struct metrics_out_stats *st)
{
	struct json j;
	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "series");
	json_arr_begin(&j);
	for (uint32_t i = 0; i < r->n_series; i++) {
		const struct mcmp_series *s = &r->series[i];
		json_obj_begin(&j);
		compare_labels(&j, s);
		json_key(&j, "samples");
		json_arr_begin(&j);
		for (uint32_t t = 0; s->counts && t < r->steps; t++) {
			int64_t ns = r->start_ns + (int64_t)t * r->step_ns;
			sample(&j, ns / 1000000 - (ns % 1000000 < 0), s->counts[t]);
		}
		end_samples(&j);
	}
	json_arr_end(&j);
	stats(&j, st);
	json_obj_end(&j);
}

void metrics_out_compare_instant(struct buf *out, const struct mcmp_result *r, const struct metrics_out_stats *st)
{
	struct json j;
	json_init(&j, out);
	json_obj_begin(&j);
	json_key(&j, "series");
	json_arr_begin(&j);
	for (uint32_t i = 0; i < r->n_series; i++) {
		const struct mcmp_series *s = &r->series[i];
		if (!s->counts || r->steps == 0)
			continue;
		double v = 0;
		for (uint32_t t = 0; t < r->steps; t++)
			v += s->counts[t];
		json_obj_begin(&j);
		compare_labels(&j, s);
		json_key(&j, "value");
		json_double(&j, v);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	stats(&j, st);
	json_obj_end(&j);
}
