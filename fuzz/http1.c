/* Fuzz target for the HTTP/1.1 request parser: the input is fed in pieces
 * whose sizes come from the input itself, as a network would deliver it,
 * and pipelined requests are parsed one after another. Checks the parser's
 * own invariants: offsets stay inside the buffer, the body is contiguous,
 * and feeding in pieces never disagrees with the final outcome's bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* first byte seeds the piece sizes; the rest is the stream */
	uint32_t seed = data[0] * 2654435761u + 1;
	data++;
	size--;
	uint8_t *buf = malloc(size + 1);
	if (!buf)
		return 0;
	struct http1_parser p;
	http1_parser_init(&p, 1 << 16);
	struct http_header hdrs[HTTP1_MAX_HEADERS];
	size_t len = 0, fed = 0;
	int requests = 0;
	while (requests < 64) {
		int rc = len ? http1_parse(&p, buf, &len) : HTTP1_MORE;
		if (rc == HTTP1_ERROR) {
			if (p.status < 400 || p.status > 505)
				abort();
			break;
		}
		if (rc == HTTP1_DONE) {
			if (p.end > len || p.head_len + p.body_len != p.end)
				abort();
			struct http_request req;
			memset(&req, 0, sizeof req);
			http1_fill_request(&p, buf, &req, hdrs);
			if (req.n_headers > HTTP1_MAX_HEADERS || req.body.p + req.body.len > buf + len)
				abort();
			for (uint32_t i = 0; i < req.n_headers; i++)
				if (hdrs[i].value.p + hdrs[i].value.len > buf + p.head_len)
					abort();
			size_t left = len - p.end;
			memmove(buf, buf + p.end, left);
			len = left;
			http1_parser_reset(&p);
			requests++;
			continue;
		}
		if (fed == size)
			break;
		seed = seed * 1103515245u + 12345u;
		size_t piece = 1 + (seed >> 16) % 97;
		if (piece > size - fed)
			piece = size - fed;
		memcpy(buf + len, data + fed, piece);
		len += piece;
		fed += piece;
	}
	free(buf);
	return 0;
}
