/* Private to the block files (block_write.c, block_read.c, block_codec.c):
 * the byte layout constants of docs/storage.md, a bounds-checked read
 * cursor, the generic AnyValue encoding and the trace-id Bloom filter. */
#ifndef CLEW_STORE_BLOCK_INT_H
#define CLEW_STORE_BLOCK_INT_H

#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "ingest/span.h"
#include "store/block.h"

#define BLK_MAGIC "CLEWBLK1"
#define BLK_TAIL_MAGIC "CLEWBLKF"
#define BLK_VERSION 2u	   /* written; 1 (no dedicated columns) is read too */
#define BLK_COLS_V1 BCOL_SPAN_DED /* columns per page of version 1 */
#define BLK_HDR_BYTES 16
#define BLK_TAIL_BYTES 40
#define BLK_DIR_ENTRY_BYTES 28
#define BLK_PAGE_NONE 0xffffffffu
#define BLK_MAX_DEPTH 64
#define BLK_MAX_SECTION (1u << 31) /* decompressed bytes of one section */
#define BLK_META_FIXED 152
#define BLK_PAGE_ENTRY 96

/* Section kinds (the directory's kind byte). */
enum blk_kind {
	BLK_KIND_COLUMN = 0,
	BLK_KIND_RESOURCES = 1,
	BLK_KIND_SCOPES = 2,
	BLK_KIND_FILTER = 3,
	BLK_KIND_META = 4,
};
#define BLK_BLOCK_SECTIONS 4 /* resources, scopes, filter, meta: after the pages */

enum blk_codec { BLK_CODEC_RAW = 0, BLK_CODEC_ZSTD = 1 };

struct blk_dirent {
	uint64_t offset;
	uint32_t len, raw_len, crc;
	uint8_t kind, codec;
	uint16_t col;
	uint32_t page;
};

/* A read cursor over decoded bytes; err is sticky. */
struct blk_cur {
	const uint8_t *p, *end;
	int err;
};

static inline uint64_t blk_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t blk_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

static inline uint64_t blk_rd_varint(struct blk_cur *c)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end) {
			c->err = 1;
			return 0;
		}
		uint8_t x = *c->p++;
		v |= (uint64_t)(x & 0x7f) << shift;
		if (!(x & 0x80))
			return v;
	}
	c->err = 1;
	return 0;
}

/* n raw bytes, or NULL (and err) when fewer remain. */
static inline const uint8_t *blk_rd_bytes(struct blk_cur *c, size_t n)
{
	if ((size_t)(c->end - c->p) < n) {
		c->err = 1;
		c->p = c->end;
		return NULL;
	}
	const uint8_t *r = c->p;
	c->p += n;
	return r;
}

static inline uint8_t blk_rd_u8(struct blk_cur *c)
{
	const uint8_t *p = blk_rd_bytes(c, 1);
	return p ? *p : 0;
}

static inline size_t blk_left(const struct blk_cur *c)
{
	return (size_t)(c->end - c->p);
}

uint32_t blk_le32(const uint8_t *p);
uint64_t blk_le64(const uint8_t *p);
void blk_put32(uint8_t *p, uint32_t v);
void blk_put64(uint8_t *p, uint64_t v);

/* Generic encoding (strings inline): an AnyValue, an attribute list. */
void blk_enc_any(struct buf *o, const struct any_value *v);
void blk_enc_attrs(struct buf *o, const struct attr_list *l);
/* Check the nesting and types of v before encoding: 0 or CLEW_EINVAL. */
int blk_any_ok(const struct any_value *v, int depth);
/* Decode into arena a (NULL: validate only). 0, or CLEW_ECORRUPT /
 * CLEW_ENOMEM. */
int blk_dec_any(struct blk_cur *c, struct arena *a, struct any_value *out, int depth);
int blk_dec_attrs(struct blk_cur *c, struct arena *a, struct attr_list *out);

/* Resources and scopes in the block tables. */
void blk_enc_resource(struct buf *o, const struct resource *r);
void blk_enc_scope(struct buf *o, const struct scope *s, uint32_t resource);
int blk_dec_resource(struct blk_cur *c, struct arena *a, struct resource *out);
int blk_dec_scope(struct blk_cur *c, struct arena *a, struct scope *out);

/* Split-block Bloom filter over hash64 of the trace id: n_blocks of 32
 * bytes. */
size_t blk_filter_blocks(uint64_t n_keys, uint32_t bits_per_key);
void blk_filter_add(uint8_t *f, size_t n_blocks, const uint8_t id[16]);
int blk_filter_has(const uint8_t *f, size_t n_blocks, const uint8_t id[16]);

/* Column names for messages and figures. */
const char *blk_col_name(unsigned col);

/* One decompressed column of a page, referenced from the column cache
 * (block_read.c), for block_cols.c. */
struct blk_col {
	const uint8_t *data;
	size_t len;
	void *ref;
};
int blk_col_load(struct block *b, uint32_t p, unsigned col, struct blk_col *out, char *err, size_t errlen);
void blk_col_release(struct blk_col *c);
/* Log and return CLEW_ECORRUPT for column col of page p (message in err). */
int blk_col_corrupt(struct block *b, uint32_t p, unsigned col, char *err, size_t errlen);
/* The file offset of column col of page p. */
uint64_t blk_col_offset(const struct block *b, uint32_t p, unsigned col);
/* Check the dedicated columns of page p (block_check): each names a key of
 * the page and gives, span by span, what the generic span attribute
 * columns give for it. 0, or CLEW_ECORRUPT with the message in err and
 * *bad_off the column's offset, or block_cols_load's errors. */
int blk_ded_check(struct block *b, uint32_t p, char *err, size_t errlen, uint64_t *bad_off);

#endif
