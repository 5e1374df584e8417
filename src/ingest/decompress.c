/* gzip through zlib. The output grows geometrically but never past the
 * caller's limit: the limit is checked before each growth, not after. */
#include "ingest/decompress.h"

#include <stdlib.h>
#include <zlib.h>

#include "base/alloc.h"
#include "base/err.h"

int gzip_inflate(struct slice in, uint64_t max_bytes, uint8_t **out, size_t *out_len)
{
	z_stream zs = {0};
	int rc = 0;
	uint8_t *buf = NULL;
	size_t cap = in.len * 4 + 4096, len = 0;
	if (cap > max_bytes)
		cap = (size_t)max_bytes + 1; /* one more byte to detect the overflow */
	*out = NULL;
	*out_len = 0;
	if (inflateInit2(&zs, 15 + 32) != Z_OK) /* 32: gzip or zlib header, auto */
		return CLEW_ENOMEM;
	buf = try_malloc(cap);
	if (!buf) {
		rc = CLEW_ENOMEM;
		goto out;
	}
	zs.next_in = (Bytef *)in.p;
	zs.avail_in = (uInt)(in.len > UINT32_MAX ? UINT32_MAX : in.len);
	for (;;) {
		if (len == cap) {
			if (cap > max_bytes) {
				rc = CLEW_ELIMIT;
				goto out;
			}
			size_t ncap = cap * 2;
			if (ncap > max_bytes)
				ncap = (size_t)max_bytes + 1;
			uint8_t *nb = try_realloc(buf, ncap);
			if (!nb) {
				rc = CLEW_ENOMEM;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		zs.next_out = buf + len;
		zs.avail_out = (uInt)(cap - len > UINT32_MAX ? UINT32_MAX : cap - len);
		int zr = inflate(&zs, Z_NO_FLUSH);
		len = (size_t)(zs.next_out - buf);
		if (zr == Z_STREAM_END) {
			if (len > max_bytes) {
				rc = CLEW_ELIMIT;
				goto out;
			}
			/* concatenated gzip members are legal; a trailing garbage is not */
			if (zs.avail_in > 0) {
				if (inflateReset(&zs) != Z_OK) {
					rc = CLEW_EPARSE;
					goto out;
				}
				continue;
			}
			break;
		}
		if (zr == Z_BUF_ERROR && zs.avail_in == 0) {
			rc = CLEW_EPARSE; /* truncated */
			goto out;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			rc = zr == Z_MEM_ERROR ? CLEW_ENOMEM : CLEW_EPARSE;
			goto out;
		}
		if (len > max_bytes) {
			rc = CLEW_ELIMIT;
			goto out;
		}
	}
	*out = buf;
	*out_len = len;
	buf = NULL;
out:
	inflateEnd(&zs);
	free(buf);
	return rc;
}

int gzip_deflate(struct slice in, uint8_t **out, size_t *out_len)
{
	z_stream zs = {0};
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return CLEW_ENOMEM;
	size_t cap = deflateBound(&zs, (uLong)in.len) + 32;
	uint8_t *buf = try_malloc(cap);
	if (!buf) {
		deflateEnd(&zs);
		return CLEW_ENOMEM;
	}
	zs.next_in = (Bytef *)in.p;
	zs.avail_in = (uInt)in.len;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	int zr = deflate(&zs, Z_FINISH);
	size_t len = (size_t)(zs.next_out - buf);
	deflateEnd(&zs);
	if (zr != Z_STREAM_END) {
		free(buf);
		return CLEW_ENOMEM;
	}
	*out = buf;
	*out_len = len;
	return 0;
}
