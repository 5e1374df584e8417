/* Column-at-a-time evaluation of TraceQL spanset filters over block pages
 * (query/exec_columnar.c): a query whose spans part is one filter (or a
 * pipeline of filters) of comparisons on name, status, kind, duration,
 * statusMessage and span or resource attributes against literals, joined by
 * &&, || and !, is compiled into a plan; a page is then evaluated into a
 * selection vector from the columns the plan names only, string literals
 * turned into dictionary id ranges once per page, resource attributes into
 * one truth value per scope once per block. Anything else is left to the
 * span-by-span evaluator, whose results the plan reproduces exactly. */
#ifndef CLEW_QUERY_EXEC_COLUMNAR_H
#define CLEW_QUERY_EXEC_COLUMNAR_H

#include <stdbool.h>
#include <stdint.h>

#include "query/exec_int.h"
#include "store/block.h"

#define EXCOL_MAX_FIELDS 16 /* fields per excol_fields_prepare */

struct excol_plan;
struct excol_worker;

/* False when the environment variable CLEW_COLUMNAR is "0" (read once):
 * every query then takes the span-by-span path, for comparisons. */
bool excol_enabled(void);
/* Override the environment, for tests and benchmarks: queries compiled
 * afterwards follow it. */
void excol_set_enabled(bool on);

/* The plan of xq's spans query (TQL_Q_SPANS whose root pipeline holds only
 * filters), in arena a; NULL when the query is not eligible or the columnar
 * path is disabled. xq must outlive the plan (its regexes are used). */
struct excol_plan *excol_compile(const struct exec_query *xq, struct arena *a);

/* A field the columnar path can give per span (by() labels and the
 * *_over_time argument of metrics queries): name, status, kind, duration,
 * statusMessage, span, resource and unscoped attributes. NULL otherwise. */
struct excol_field;
struct excol_field *excol_field_compile(const struct tql_node *nd, struct arena *a);

/* The block columns (enum block_cols_want) the fields need. */
unsigned excol_fields_want(struct excol_field *const *f, uint32_t n);

/* Per-thread state: decoded columns, the selection and scratch vectors,
 * per-block scope tables. */
struct excol_worker *excol_worker_new(void);
void excol_worker_free(struct excol_worker *w);

/* Evaluate the plan over page p of blk: 0 with *sel pointing at one byte per
 * span of the page (1 = the span matches; valid until the next call) and
 * *n_sel the count of matches, with the columns of extra_want (enum
 * block_cols_want) decoded as well when n_sel > 0 (excol_cols). *n_sel = 0
 * may be answered from the dictionaries alone. CLEW_ECORRUPT, CLEW_ENOMEM,
 * -errno from the block. */
int excol_eval_page(const struct excol_plan *pl, struct excol_worker *w, struct block *blk, uint32_t p,
		    unsigned extra_want, const uint8_t **sel, uint32_t *n_sel);

/* The columns decoded by the last excol_eval_page. */
const struct block_cols *excol_cols(const struct excol_worker *w);

/* The value of field f for span i of the last evaluated page, as
 * exec_eval gives it (strings point into the page's columns or the
 * worker's arena: valid until the next page). Fields need their
 * excol_fields_want columns and excol_fields_prepare after each page. */
int excol_fields_prepare(struct excol_worker *w, struct excol_field *const *f, uint32_t n);
/* excol_fields_prepare for the spans i with sel[i] != 0 only (the *sel of
 * excol_eval_page): other spans' field values are not decoded and must not
 * be asked for. A duration field then needs no BLOCK_COLS_DURATION in the
 * page's extra_want (only the selected spans' durations are decoded). */
int excol_fields_prepare_sel(struct excol_worker *w, struct excol_field *const *f, uint32_t n, const uint8_t *sel);
/* f is the j-th field given to excol_fields_prepare. */
void excol_field_value(struct excol_worker *w, const struct excol_field *f, uint32_t j, uint32_t i,
		       struct exec_value *out);

/* The durations of the last prepared page when f is the duration
 * intrinsic (the same values excol_field_value gives, one per span, valid
 * for the prepared spans), NULL for any other field. */
const int64_t *excol_field_durations(const struct excol_worker *w, const struct excol_field *f);

/* Codes standing for field j's values on the last prepared page, one per
 * span into codes[cols.spans]: spans with equal codes have equal
 * excol_field_value, so a caller may resolve each code once per page.
 * UINT32_MAX for a value without a code (numbers other than status and
 * kind: take excol_field_value). Returns the bound of the other codes. */
uint32_t excol_field_codes(const struct excol_worker *w, const struct excol_field *f, uint32_t j,
			   uint32_t *codes /* out */);

#endif
