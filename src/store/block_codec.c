/* Shared encodings of the block files: little-endian integers, the generic
 * AnyValue encoding (nested values, resource and scope tables), the
 * split-block Bloom filter on trace ids and the column names. Every decoder
 * here checks each length against the end of its input. */
#include <string.h>

#include "base/err.h"
#include "base/hash.h"
#include "store/block_int.h"

uint32_t blk_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t blk_le64(const uint8_t *p)
{
	return (uint64_t)blk_le32(p) | (uint64_t)blk_le32(p + 4) << 32;
}

void blk_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void blk_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void enc_bytes(struct buf *o, struct slice s)
{
	buf_append_varint(o, s.len);
	buf_append(o, s.p, s.len);
}

int blk_any_ok(const struct any_value *v, int depth)
{
	if (depth > BLK_MAX_DEPTH || v->type > ANY_BYTES)
		return CLEW_EINVAL;
	if (v->type == ANY_ARRAY)
		for (uint32_t i = 0; i < v->u.array.n; i++)
			if (blk_any_ok(&v->u.array.items[i], depth + 1) < 0)
				return CLEW_EINVAL;
	if (v->type == ANY_KVLIST)
		for (uint32_t i = 0; i < v->u.kvlist.n; i++)
			if (blk_any_ok(&v->u.kvlist.items[i].value, depth + 1) < 0)
				return CLEW_EINVAL;
	return 0;
}

void blk_enc_any(struct buf *o, const struct any_value *v)
{
	buf_append_byte(o, v->type);
	switch (v->type) {
	case ANY_STRING:
	case ANY_BYTES:
		enc_bytes(o, v->u.str);
		break;
	case ANY_BOOL:
		buf_append_byte(o, v->u.b ? 1 : 0);
		break;
	case ANY_INT:
		buf_append_varint(o, blk_zigzag(v->u.i));
		break;
	case ANY_DOUBLE: {
		uint64_t bits;
		uint8_t le[8];
		memcpy(&bits, &v->u.d, 8);
		blk_put64(le, bits);
		buf_append(o, le, 8);
		break;
	}
	case ANY_ARRAY:
		buf_append_varint(o, v->u.array.n);
		for (uint32_t i = 0; i < v->u.array.n; i++)
			blk_enc_any(o, &v->u.array.items[i]);
		break;
	case ANY_KVLIST:
		buf_append_varint(o, v->u.kvlist.n);
		for (uint32_t i = 0; i < v->u.kvlist.n; i++) {
			enc_bytes(o, v->u.kvlist.items[i].key);
			blk_enc_any(o, &v->u.kvlist.items[i].value);
		}
		break;
	default:
		break;
	}
}

void blk_enc_attrs(struct buf *o, const struct attr_list *l)
{
	buf_append_varint(o, l->n);
	for (uint32_t i = 0; i < l->n; i++) {
		enc_bytes(o, l->items[i].key);
		blk_enc_any(o, &l->items[i].value);
	}
}

/* A length-prefixed byte string, copied into a when a is not NULL. */
static int dec_bytes(struct blk_cur *c, struct arena *a, struct slice *out)
{
	uint64_t n = blk_rd_varint(c);
	if (c->err || n > blk_left(c))
		return CLEW_ECORRUPT;
	const uint8_t *p = blk_rd_bytes(c, (size_t)n);
	*out = (struct slice){0};
	if (a && n) {
		void *cp = arena_memdup(a, p, (size_t)n);
		if (!cp)
			return CLEW_ENOMEM;
		*out = slice_make(cp, (size_t)n);
	}
	return 0;
}

/* A count of items each at least one byte long. */
static int dec_count(struct blk_cur *c, uint32_t *n)
{
	uint64_t v = blk_rd_varint(c);
	if (c->err || v > blk_left(c) || v > UINT32_MAX)
		return CLEW_ECORRUPT;
	*n = (uint32_t)v;
	return 0;
}

int blk_dec_any(struct blk_cur *c, struct arena *a, struct any_value *out, int depth)
{
	struct any_value scratch;
	if (!out)
		out = &scratch;
	memset(out, 0, sizeof *out);
	if (depth > BLK_MAX_DEPTH)
		return CLEW_ECORRUPT;
	uint8_t t = blk_rd_u8(c);
	if (c->err || t > ANY_BYTES)
		return CLEW_ECORRUPT;
	out->type = t;
	int rc = 0;
	switch (t) {
	case ANY_STRING:
	case ANY_BYTES:
		return dec_bytes(c, a, &out->u.str);
	case ANY_BOOL: {
		uint8_t b = blk_rd_u8(c);
		if (c->err || b > 1)
			return CLEW_ECORRUPT;
		out->u.b = b;
		return 0;
	}
	case ANY_INT:
		out->u.i = blk_unzigzag(blk_rd_varint(c));
		return c->err ? CLEW_ECORRUPT : 0;
	case ANY_DOUBLE: {
		const uint8_t *p = blk_rd_bytes(c, 8);
		if (!p)
			return CLEW_ECORRUPT;
		uint64_t bits = blk_le64(p);
		memcpy(&out->u.d, &bits, 8);
		return 0;
	}
	case ANY_ARRAY: {
		uint32_t n;
		if ((rc = dec_count(c, &n)) < 0)
			return rc;
		struct any_value *items = NULL;
		if (a && n && !(items = arena_array(a, n, sizeof *items)))
			return CLEW_ENOMEM;
		for (uint32_t i = 0; i < n; i++)
			if ((rc = blk_dec_any(c, a, items ? &items[i] : NULL, depth + 1)) < 0)
				return rc;
		out->u.array.items = items;
		out->u.array.n = n;
		return 0;
	}
	case ANY_KVLIST: {
		uint32_t n;
		if ((rc = dec_count(c, &n)) < 0)
			return rc;
		struct attr *items = NULL;
		if (a && n && !(items = arena_array(a, n, sizeof *items)))
			return CLEW_ENOMEM;
		for (uint32_t i = 0; i < n; i++) {
			struct slice k;
			if ((rc = dec_bytes(c, a, items ? &items[i].key : &k)) < 0 ||
			    (rc = blk_dec_any(c, a, items ? &items[i].value : NULL, depth + 1)) < 0)
				return rc;
		}
		out->u.kvlist.items = items;
		out->u.kvlist.n = n;
		return 0;
	}
	default:
		return 0;
	}
}

int blk_dec_attrs(struct blk_cur *c, struct arena *a, struct attr_list *out)
{
	uint32_t n;
	int rc;
	*out = (struct attr_list){0};
	if ((rc = dec_count(c, &n)) < 0)
		return rc;
	if (a && n && !(out->items = arena_array(a, n, sizeof *out->items)))
		return CLEW_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct slice k;
		struct attr *at = out->items ? &out->items[i] : NULL;
		if ((rc = dec_bytes(c, a, at ? &at->key : &k)) < 0 ||
		    (rc = blk_dec_any(c, a, at ? &at->value : NULL, 1)) < 0)
			return rc;
	}
	out->n = n;
	return 0;
}

void blk_enc_resource(struct buf *o, const struct resource *r)
{
	blk_enc_attrs(o, &r->attrs);
	buf_append_varint(o, r->dropped_attrs);
	enc_bytes(o, r->schema_url);
}

void blk_enc_scope(struct buf *o, const struct scope *s, uint32_t resource)
{
	buf_append_varint(o, resource);
	enc_bytes(o, s->name);
	enc_bytes(o, s->version);
	blk_enc_attrs(o, &s->attrs);
	buf_append_varint(o, s->dropped_attrs);
	enc_bytes(o, s->schema_url);
}

static int dec_u32(struct blk_cur *c, uint32_t *out)
{
	uint64_t v = blk_rd_varint(c);
	if (c->err || v > UINT32_MAX)
		return CLEW_ECORRUPT;
	*out = (uint32_t)v;
	return 0;
}

int blk_dec_resource(struct blk_cur *c, struct arena *a, struct resource *out)
{
	int rc;
	memset(out, 0, sizeof *out);
	if ((rc = blk_dec_attrs(c, a, &out->attrs)) < 0 || (rc = dec_u32(c, &out->dropped_attrs)) < 0 ||
	    (rc = dec_bytes(c, a, &out->schema_url)) < 0)
		return rc;
	return 0;
}

int blk_dec_scope(struct blk_cur *c, struct arena *a, struct scope *out)
{
	int rc;
	memset(out, 0, sizeof *out);
	if ((rc = dec_u32(c, &out->resource)) < 0 || (rc = dec_bytes(c, a, &out->name)) < 0 ||
	    (rc = dec_bytes(c, a, &out->version)) < 0 || (rc = blk_dec_attrs(c, a, &out->attrs)) < 0 ||
	    (rc = dec_u32(c, &out->dropped_attrs)) < 0 || (rc = dec_bytes(c, a, &out->schema_url)) < 0)
		return rc;
	return 0;
}

/* ---- split-block Bloom filter (Parquet's SBBF): a key sets one bit in each
 * of the eight 32-bit words of one 256-bit block ---- */

static const uint32_t sbbf_salt[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
				      0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};

size_t blk_filter_blocks(uint64_t n_keys, uint32_t bits_per_key)
{
	uint64_t bits = n_keys * bits_per_key;
	uint64_t n = (bits + 255) / 256;
	return n ? (size_t)n : 1;
}

static uint8_t *sbbf_block(uint8_t *f, size_t n_blocks, uint64_t h)
{
	uint64_t idx = ((h >> 32) * (uint64_t)n_blocks) >> 32;
	return f + idx * 32;
}

void blk_filter_add(uint8_t *f, size_t n_blocks, const uint8_t id[16])
{
	uint64_t h = hash64(id, 16);
	uint8_t *blk = sbbf_block(f, n_blocks, h);
	for (int i = 0; i < 8; i++) {
		uint32_t bit = ((uint32_t)h * sbbf_salt[i]) >> 27;
		uint32_t w = blk_le32(blk + 4 * i) | (1u << bit);
		blk_put32(blk + 4 * i, w);
	}
}

int blk_filter_has(const uint8_t *f, size_t n_blocks, const uint8_t id[16])
{
	uint64_t h = hash64(id, 16);
	const uint8_t *blk = sbbf_block((uint8_t *)f, n_blocks, h);
	for (int i = 0; i < 8; i++) {
		uint32_t bit = ((uint32_t)h * sbbf_salt[i]) >> 27;
		if (!(blk_le32(blk + 4 * i) & (1u << bit)))
			return 0;
	}
	return 1;
}

static const char *const col_names[BCOL_COUNT] = {
	[BCOL_TRACE_ID] = "trace_id",
	[BCOL_TRACE_NSPANS] = "trace_nspans",
	[BCOL_TRACE_START] = "trace_start",
	[BCOL_SPAN_ID] = "span_id",
	[BCOL_PARENT] = "parent",
	[BCOL_PARENT_EXT] = "parent_ext",
	[BCOL_FLAGS] = "flags",
	[BCOL_TRACE_STATE] = "trace_state",
	[BCOL_SCOPE] = "scope",
	[BCOL_NAME] = "name",
	[BCOL_KIND_STATUS] = "kind_status",
	[BCOL_STATUS_MSG] = "status_message",
	[BCOL_START] = "start",
	[BCOL_DURATION] = "duration",
	[BCOL_DROPPED] = "dropped",
	[BCOL_EV_COUNT] = "event_count",
	[BCOL_EV_TIME] = "event_time",
	[BCOL_EV_NAME] = "event_name",
	[BCOL_EV_DROPPED] = "event_dropped",
	[BCOL_LN_COUNT] = "link_count",
	[BCOL_LN_TRACE_ID] = "link_trace_id",
	[BCOL_LN_SPAN_ID] = "link_span_id",
	[BCOL_LN_STATE] = "link_trace_state",
	[BCOL_LN_FLAGS] = "link_flags",
	[BCOL_LN_DROPPED] = "link_dropped",
	[BCOL_SPAN_ATTR + BATTR_COUNT] = "span_attr_count",
	[BCOL_SPAN_ATTR + BATTR_KEY] = "span_attr_key",
	[BCOL_SPAN_ATTR + BATTR_TYPE] = "span_attr_type",
	[BCOL_SPAN_ATTR + BATTR_STR] = "span_attr_str",
	[BCOL_SPAN_ATTR + BATTR_INT] = "span_attr_int",
	[BCOL_SPAN_ATTR + BATTR_DOUBLE] = "span_attr_double",
	[BCOL_SPAN_ATTR + BATTR_BOOL] = "span_attr_bool",
	[BCOL_SPAN_ATTR + BATTR_OTHER] = "span_attr_other",
	[BCOL_EV_ATTR + BATTR_COUNT] = "event_attr_count",
	[BCOL_EV_ATTR + BATTR_KEY] = "event_attr_key",
	[BCOL_EV_ATTR + BATTR_TYPE] = "event_attr_type",
	[BCOL_EV_ATTR + BATTR_STR] = "event_attr_str",
	[BCOL_EV_ATTR + BATTR_INT] = "event_attr_int",
	[BCOL_EV_ATTR + BATTR_DOUBLE] = "event_attr_double",
	[BCOL_EV_ATTR + BATTR_BOOL] = "event_attr_bool",
	[BCOL_EV_ATTR + BATTR_OTHER] = "event_attr_other",
	[BCOL_LN_ATTR + BATTR_COUNT] = "link_attr_count",
	[BCOL_LN_ATTR + BATTR_KEY] = "link_attr_key",
	[BCOL_LN_ATTR + BATTR_TYPE] = "link_attr_type",
	[BCOL_LN_ATTR + BATTR_STR] = "link_attr_str",
	[BCOL_LN_ATTR + BATTR_INT] = "link_attr_int",
	[BCOL_LN_ATTR + BATTR_DOUBLE] = "link_attr_double",
	[BCOL_LN_ATTR + BATTR_BOOL] = "link_attr_bool",
	[BCOL_LN_ATTR + BATTR_OTHER] = "link_attr_other",
	[BCOL_DICT_NAMES] = "dict_names",
	[BCOL_DICT_KEYS] = "dict_keys",
	[BCOL_DICT_VALUES] = "dict_values",
	[BCOL_SPAN_DED + 0] = "span_dedicated_0",
	[BCOL_SPAN_DED + 1] = "span_dedicated_1",
	[BCOL_SPAN_DED + 2] = "span_dedicated_2",
	[BCOL_SPAN_DED + 3] = "span_dedicated_3",
};
_Static_assert(BLOCK_DED_MAX == 4, "name every dedicated column");

const char *blk_col_name(unsigned col)
{
	return col < BCOL_COUNT && col_names[col] ? col_names[col] : "?";
}

const char *block_col_name(unsigned col)
{
	return blk_col_name(col);
}
