/* Immutable columnar block files: the on-disk form of spans once they leave
 * the head. A block holds whole traces sorted by trace id, cut into pages of
 * whole traces; each page keeps every field as its own zstd-compressed
 * column with page-local sorted dictionaries, so a trace lookup reads the
 * filter, one page's trace ids and that page's columns. Compaction reads
 * pages back as span batches and writes a new block. Layout: docs/storage.md. */
#ifndef CLEW_STORE_BLOCK_H
#define CLEW_STORE_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "ingest/span.h"
#include "store/fileops.h"

/* Dedicated span attribute columns per page (format version 2): for up to
 * this many keys that most of a page's spans carry with string values. */
#define BLOCK_DED_MAX 4

/* The columns of a page, in the order they are stored (docs/storage.md). */
enum block_col {
	BCOL_TRACE_ID = 0, /* 16 raw bytes per trace, sorted */
	BCOL_TRACE_NSPANS, /* varint spans per trace */
	BCOL_TRACE_START,  /* zigzag varint: trace's first start - block min start */
	BCOL_SPAN_ID,	   /* 8 raw bytes per span */
	BCOL_PARENT,	   /* varint: 0 none, 1 outside the trace, k+2 = row k of the trace */
	BCOL_PARENT_EXT,   /* 8 raw bytes per parent outside the trace */
	BCOL_FLAGS,	   /* varint */
	BCOL_TRACE_STATE,  /* varint id in the value dictionary */
	BCOL_SCOPE,	   /* varint index into the block's scope table */
	BCOL_NAME,	   /* varint id in the name dictionary */
	BCOL_KIND_STATUS,  /* 2 bytes: kind, status code */
	BCOL_STATUS_MSG,   /* varint id in the value dictionary */
	BCOL_START,	   /* zigzag varint: start - trace start */
	BCOL_DURATION,	   /* zigzag varint: end - start */
	BCOL_DROPPED,	   /* 3 varints: dropped attributes, events, links */
	BCOL_EV_COUNT,	   /* varint events per span */
	BCOL_EV_TIME,	   /* zigzag varint: event time - span start */
	BCOL_EV_NAME,	   /* varint id in the name dictionary */
	BCOL_EV_DROPPED,   /* varint */
	BCOL_LN_COUNT,	   /* varint links per span */
	BCOL_LN_TRACE_ID,  /* 16 raw bytes */
	BCOL_LN_SPAN_ID,   /* 8 raw bytes */
	BCOL_LN_STATE,	   /* varint id in the value dictionary */
	BCOL_LN_FLAGS,	   /* varint */
	BCOL_LN_DROPPED,   /* varint */
	/* three attribute groups (span, event, link) of BCOL_ATTR_COLS each */
	BCOL_SPAN_ATTR,
	BCOL_EV_ATTR = BCOL_SPAN_ATTR + 8,
	BCOL_LN_ATTR = BCOL_EV_ATTR + 8,
	BCOL_DICT_NAMES = BCOL_LN_ATTR + 8, /* sorted span and event names */
	BCOL_DICT_KEYS,			    /* sorted attribute keys */
	BCOL_DICT_VALUES,		    /* sorted string values, status messages, trace states */
	/* version 2: BLOCK_DED_MAX dedicated span attribute columns, varint
	 * per span: its first attribute with the key's id in dict_values + 1,
	 * 0 none (block_page_info.ded_key names the keys) */
	BCOL_SPAN_DED,
	BCOL_COUNT = BCOL_SPAN_DED + BLOCK_DED_MAX,
};

/* Offsets within an attribute group. */
enum block_attr_col {
	BATTR_COUNT = 0, /* varint attributes per owner */
	BATTR_KEY,	 /* varint id in the key dictionary */
	BATTR_TYPE,	 /* 1 byte enum any_type */
	BATTR_STR,	 /* varint id in the value dictionary */
	BATTR_INT,	 /* zigzag varint */
	BATTR_DOUBLE,	 /* 8 bytes little-endian IEEE 754 */
	BATTR_BOOL,	 /* 1 byte 0/1 */
	BATTR_OTHER,	 /* bytes, arrays, kvlists: varint length + generic encoding */
	BATTR_COLS,
};

/* The column's name ("span_id", "span_attr_str" ...), for figures and
 * messages; "?" for an unknown column. */
const char *block_col_name(unsigned col);

struct block_writer_options {
	int zstd_level;		    /* 0 = 1 */
	uint32_t page_spans;	    /* a page closes at a trace boundary past this; 0 = 8192 */
	uint32_t filter_bits_per_trace; /* trace-id Bloom filter size; 0 = 16 */
	size_t max_mem_bytes;	    /* block_writer_add refuses past this (CLEW_ELIMIT); 0 = none */
};

/* What a block holds; filled by block_writer_finish and block_get_info. */
struct block_info {
	uint64_t spans, traces;
	uint32_t pages, resources, scopes;
	int64_t min_start_ns, max_start_ns; /* over span start times */
	int64_t max_end_ns;
	int64_t min_dur_ns, max_dur_ns;
	uint8_t min_trace_id[16], max_trace_id[16];
	uint64_t distinct_names, distinct_keys, distinct_values; /* block-wide */
	uint64_t file_bytes;
	uint64_t column_bytes[BCOL_COUNT];     /* stored (compressed) bytes, all pages */
	uint64_t column_raw_bytes[BCOL_COUNT]; /* decompressed bytes, all pages */
};

/* Per-page statistics, kept in memory while a block is open. */
struct block_page_info {
	uint8_t first_trace_id[16], last_trace_id[16];
	uint64_t first_row; /* row of the page's first span within the block */
	uint32_t spans, traces;
	int64_t min_start_ns, max_start_ns;
	int64_t min_dur_ns, max_dur_ns;
	/* the key of dedicated column BCOL_SPAN_DED + i: its id in the page's
	 * key dictionary + 1, 0 for none */
	uint32_t ded_key[BLOCK_DED_MAX];
};

struct block_writer;
struct block;

/* A writer that buffers spans (copied: the batches may be freed after add)
 * until finish. opts may be NULL for defaults. Owned by the caller
 * (block_writer_free). Not thread-safe. */
struct block_writer *block_writer_new(const struct block_writer_options *opts);

/* Copy every valid span of b (and the resources and scopes they use) into
 * the writer; spans with invalid_reason are skipped. Spans may come in any
 * order and any number of batches. 0, CLEW_ELIMIT (over max_mem_bytes),
 * CLEW_ENOMEM, CLEW_EINVAL (an AnyValue of unknown type or nesting deeper
 * than 64). The error is sticky: later adds and finish return it. */
int block_writer_add(struct block_writer *w, const struct span_batch *b);

/* Spans buffered so far, and the memory the writer holds, so the caller can
 * decide when to cut a block. */
uint64_t block_writer_spans(const struct block_writer *w);
size_t block_writer_mem_bytes(const struct block_writer *w);

/* Write the block durably as dir/name: written to dir/name.tmp, fsynced,
 * renamed, the directory fsynced. On failure nothing is left under the final
 * name (the temporary file is removed, best effort). out (may be NULL) gets
 * the block's figures. 0, -errno from the file ops, CLEW_ENOMEM,
 * CLEW_ELIMIT (a column over 4 GiB), or the sticky error of add. A writer
 * with no spans writes a valid empty block. Finish may be called once. */
int block_writer_finish(struct block_writer *w, struct fileops *ops, const char *dir, const char *name,
			struct block_info *out);

void block_writer_free(struct block_writer *w);

/* Open a block: reads and verifies header, footer, section directory, meta,
 * filter, resource and scope tables (about 2 bytes per trace of memory plus
 * the tables). Returns a block with one reference, or NULL with *rc set
 * (-errno, CLEW_ECORRUPT, CLEW_ENOMEM) and a message naming the file and
 * byte offset in err. ops must outlive the block. Reads are pread calls;
 * every section read is checked against its CRC32C. */
struct block *block_open(struct fileops *ops, const char *path, int *rc, char *err, size_t errlen);

/* Reference counting: the block is closed when the last reference goes, and
 * its file unlinked then if block_mark_deleted was called. Thread-safe. */
void block_ref(struct block *b);
void block_unref(struct block *b);
void block_mark_deleted(struct block *b);

/* The block's path (owned by the block) and figures. */
const char *block_path(const struct block *b);
void block_get_info(const struct block *b, struct block_info *out);

/* True if the block may hold the trace: the Bloom filter and the trace id
 * range (false positives possible, never false negatives). No I/O. */
int block_may_contain(const struct block *b, const uint8_t trace_id[16]);

/* Append every span of the trace to out, resources and scopes included
 * (each once), spans ordered by start time, everything in out's arena.
 * 0, CLEW_ENOTFOUND, CLEW_ECORRUPT (logged with file and offset),
 * CLEW_ENOMEM, -errno. Thread-safe. */
int block_get_trace(struct block *b, const uint8_t trace_id[16], struct span_batch *out);
/* The page whose trace id range holds trace_id (the one its spans would
 * be in), or UINT32_MAX. */
uint32_t block_page_of_trace(const struct block *b, const uint8_t trace_id[16]);

/* Pages, for scans and compaction. */
uint32_t block_pages(const struct block *b);
/* Statistics of page p (< block_pages), owned by the block. */
const struct block_page_info *block_page(const struct block *b, uint32_t p);

/* Append every span of page p to out (as block_get_trace does for one
 * trace). Compaction reads every page this way into block_writer_add. */
int block_read_page(struct block *b, uint32_t p, struct span_batch *out);

/* One decompressed column of a page, for the query engine: data is owned by
 * the caller (free() it), raw_len bytes encoded as docs/storage.md says for
 * col. 0, CLEW_EINVAL, CLEW_ECORRUPT, CLEW_ENOMEM, -errno. */
int block_read_column(struct block *b, uint32_t p, enum block_col col, uint8_t **data, size_t *len);

/* Test whether the page's dictionary (BCOL_DICT_NAMES/KEYS/VALUES) holds s,
 * the pre-filter for equality predicates: 1 yes, 0 no, or an error. */
int block_page_dict_has(struct block *b, uint32_t p, enum block_col dict, struct slice s);

/* What block_cols_load decodes (bits, or-ed). */
enum block_cols_want {
	BLOCK_COLS_TRACE_IDS = 1u << 0,	  /* trace_ids: 16 bytes per trace */
	BLOCK_COLS_TRACES = 1u << 1,	  /* trace_nspans (and trace_first) */
	BLOCK_COLS_START = 1u << 2,	  /* start: absolute, per span (implies TRACES) */
	BLOCK_COLS_DURATION = 1u << 3,	  /* duration per span */
	BLOCK_COLS_SCOPE = 1u << 4,	  /* scope per span: index into the block's scope table */
	BLOCK_COLS_NAME = 1u << 5,	  /* name per span: id in dict[0] */
	BLOCK_COLS_KIND_STATUS = 1u << 6, /* kind_status: 2 bytes per span */
	BLOCK_COLS_STATUS_MSG = 1u << 7,  /* status_msg per span: id in dict[2] */
	BLOCK_COLS_SPAN_ATTRS = 1u << 8,  /* the span attribute group, dict[1] and dict[2] */
	BLOCK_COLS_DICT_NAMES = 1u << 9,  /* dict[0] without the name column */
	BLOCK_COLS_DICT_VALUES = 1u << 10, /* dict[2] without a column using it */
	BLOCK_COLS_DICT_KEYS = 1u << 11,   /* dict[1] without the attribute group */
};

/* Columns of one page decoded into arrays for the query engine, without
 * building spans (block_cols_load). Arrays not asked for are NULL. Strings
 * are dictionary ids; dict[0] names, dict[1] keys, dict[2] values, sorted
 * bytewise (shorter first on a common prefix), slices into the column cache's
 * buffers, valid until the next load or block_cols_free. Span attributes:
 * span i's are attribute indexes [attr_first[i], attr_first[i + 1]); each
 * has a key id, an enum any_type and attr_val, its index in the array of
 * its type (attr_str for strings, attr_int, attr_dbl, attr_bool; other types
 * have no value here). Reused from page to page; not thread-safe. */
struct block_cols {
	uint32_t spans, traces;
	struct slice *dict[3];
	uint32_t dict_n[3];
	const uint8_t *trace_ids;
	uint32_t *trace_nspans, *trace_first; /* trace_first: traces + 1 rows */
	int64_t *start, *duration;
	uint32_t *scope, *name, *status_msg;
	const uint8_t *kind_status;
	uint32_t *attr_first; /* spans + 1 */
	uint32_t *attr_key, *attr_val;
	uint8_t *attr_type;
	uint32_t n_attrs;
	uint32_t *attr_str;
	int64_t *attr_int;
	double *attr_dbl;
	uint8_t *attr_bool;
	void *priv; /* buffers and column references */
};

void block_cols_init(struct block_cols *c);
void block_cols_free(struct block_cols *c);

/* Decode the columns of page p that want (enum block_cols_want) names into
 * c (a second call for the same block and page decodes only what the first
 * did not, so a caller may look at the dictionaries first), reading them through the column cache (each CRC-checked when read) and
 * checking every id against its dictionary or table, every count against
 * the bytes left, and every column consumed to its last byte. Columns not
 * asked for are not read (their corruption goes unnoticed here).
 * 0, CLEW_EINVAL, CLEW_ECORRUPT (logged with file and offset), CLEW_ENOMEM,
 * -errno. */
int block_cols_load(struct block *b, uint32_t p, unsigned want, struct block_cols *c);

#define BLOCK_KEY_NONE 0xff /* block_key_col.type: the span has no attribute with the key */
#define BLOCK_KEY_SKIP 0xfe /* internal to block_cols_key_sel: never in its result */

/* One span attribute key of a page, decoded by block_cols_key: per span
 * the type (enum any_type, or BLOCK_KEY_NONE) of its first attribute with
 * the key and its value: the dict[2] id of a string, the bits of an int64
 * or of a double, 0 or 1 for a bool, 0 for other types. */
struct block_key_col {
	uint32_t spans;
	uint8_t *type;
	uint64_t *val;
	size_t cap;
};

/* Free the arrays of k (it may be reused afterwards, zeroed). */
void block_key_col_free(struct block_key_col *k);

/* Decode into out, for every span of page p, its first attribute with key
 * id kid of dict[1] (UINT32_MAX: a key absent from the page), reading the
 * span attribute group without decoding other keys' values: the count,
 * key and type columns are checked in full, the string stream's framing
 * too, and every value decoded is checked (an id against dict[2]); values
 * of other keys in the int, double and bool streams are not looked at.
 * c is loaded for p first (dict[1] and dict[2] are). 0, or
 * block_cols_load's errors. */
int block_cols_key(struct block *b, uint32_t p, struct block_cols *c, uint32_t kid, struct block_key_col *out);

/* block_cols_key for the spans i with sel[i] != 0 only (sel: one byte per
 * span; NULL means every span): the other spans read BLOCK_KEY_NONE and
 * their values are skipped unchecked; the count, key and type columns and
 * the string stream's framing are checked in full as before. A key with a
 * dedicated column on the page (block_page_info.ded_key) is read from that
 * column alone, each id checked against dict[2]; the generic columns are
 * then not read (block_check compares the two). */
int block_cols_key_sel(struct block *b, uint32_t p, struct block_cols *c, uint32_t kid, const uint8_t *sel,
		       struct block_key_col *out);

/* The durations of the spans i with sel[i] != 0 into c->duration (the
 * others 0), for page p already loaded into c by block_cols_load: the
 * column's varint framing is checked in full, the skipped values are not
 * decoded. Nothing to do when the whole column is loaded. 0, CLEW_EINVAL
 * (c holds another page), or block_cols_load's errors. */
int block_cols_duration_sel(struct block *b, uint32_t p, struct block_cols *c, const uint8_t *sel);

/* block_cols_duration_sel for an id column: what (BLOCK_COLS_SCOPE,
 * BLOCK_COLS_NAME or BLOCK_COLS_STATUS_MSG) of the spans with sel[i] != 0
 * into c->scope, c->name or c->status_msg (the others 0), each decoded id
 * checked against its table or dictionary; the dictionary must be loaded.
 * 0, CLEW_EINVAL, or block_cols_load's errors. */
int block_cols_ids_sel(struct block *b, uint32_t p, struct block_cols *c, unsigned what, const uint8_t *sel);

/* Several span attribute keys of a page, decoded by block_cols_keys: span
 * i's attributes with a wanted key are [first[i], first[i + 1]) in the
 * arrays, in their stored order; each has its key id (dict[1]), type (enum
 * any_type) and value as block_key_col.val has it. */
struct block_keys_col {
	uint32_t spans, n;
	uint32_t *first; /* spans + 1 */
	uint32_t *kid;
	uint8_t *type;
	uint64_t *val;
	size_t cap_spans, cap;
};

/* Free the arrays of k (it may be reused afterwards, zeroed). */
void block_keys_col_free(struct block_keys_col *k);

/* Decode into out every span attribute of page p whose key id kid has
 * want[kid] != 0 (want: c->dict_n[1] bytes), of the spans i with sel[i] !=
 * 0 (sel NULL: every span), in one walk of the span attribute group: the
 * count, key and type columns are checked in full, the string and int
 * streams' framing and the double and bool streams' lengths too, and every
 * value decoded (an id against dict[2]); the other keys' values are
 * skipped undecoded. c holds page p, loaded with BLOCK_COLS_DICT_KEYS and
 * BLOCK_COLS_DICT_VALUES at least. 0, CLEW_EINVAL, CLEW_ECORRUPT (logged
 * with file and offset), CLEW_ENOMEM, -errno. */
int block_cols_keys(struct block *b, uint32_t p, const struct block_cols *c, const uint8_t *want, const uint8_t *sel,
		    struct block_keys_col *out);

/* The resource of scope si of the block's scope table (si < scopes). */
uint32_t block_scope_resource(const struct block *b, uint32_t si);

/* The attributes of resource ri of the block's resource table, decoded
 * into a. 0, CLEW_EINVAL, CLEW_ECORRUPT, CLEW_ENOMEM. */
int block_resource_attrs(const struct block *b, uint32_t ri, struct arena *a, struct attr_list *out);

/* The attributes, name and version of scope si, decoded into a. 0,
 * CLEW_EINVAL, CLEW_ECORRUPT, CLEW_ENOMEM. */
int block_scope_get(const struct block *b, uint32_t si, struct arena *a, struct scope *out);

/* Check a block file completely: header, footer, directory, every
 * section's CRC, every page decoded to its end with every id in range,
 * trace ids sorted, counts and statistics matching, every trace id in the
 * filter. 0 if sound; CLEW_ECORRUPT with a message and *bad_offset (may be
 * NULL) the file offset of the first bad section or structure; -errno for
 * I/O errors; CLEW_ENOMEM. */
int block_check(struct fileops *ops, const char *path, char *err, size_t errlen, uint64_t *bad_offset);

/* The process-wide cache of decompressed page columns shared by all
 * blocks: set its byte budget (default 256 MiB; 0 disables it). */
void block_cache_set_budget(size_t bytes);

#define BLOCK_CACHE_SHARE 4		   /* the default budget: this part of the memory limit */
#define BLOCK_CACHE_MIN_BYTES (64ull << 20) /* and never less */

/* The cache budget clew serve takes when --column-cache is not given: a
 * quarter (BLOCK_CACHE_SHARE) of its memory limit, at least 64 MiB. */
size_t block_cache_default_budget(uint64_t memory_limit_bytes);
/* Bytes held, hits and misses of that cache. */
void block_cache_stats(size_t *bytes, uint64_t *hits, uint64_t *misses);

#endif
