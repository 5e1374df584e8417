/* ingest_receive: decompress under the limit, decode, validate, and produce
 * the OTLP protobuf payload that the WAL stores. Protobuf bodies are kept as
 * they came (one copy, so the store can own them); JSON and Zipkin bodies are
 * decoded and re-encoded once, since the WAL stores one format. */
#include "ingest/receive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/err.h"
#include "ingest/decompress.h"
#include "ingest/otlp_encode.h"
#include "ingest/otlp_json.h"
#include "ingest/otlp_proto.h"
#include "ingest/zipkin.h"

static int fail(struct ingest_result *res, enum ingest_outcome o, int rc, const char *msg)
{
	res->outcome = o;
	snprintf(res->message, sizeof res->message, "%s", msg);
	return rc;
}

static bool charge(struct ingest_result *res, const struct ingest_limits *limits, uint64_t n)
{
	if (!limits->memory)
		return true;
	if (!budget_try_charge(limits->memory, n))
		return false;
	res->charged_bytes += n;
	return true;
}

/* Validate every span; count accepted and rejected, remember a reason. */
static const char *validate(struct span_batch *b, struct ingest_result *res)
{
	const char *first = NULL;
	for (uint32_t i = 0; i < b->n_spans; i++) {
		struct span *s = &b->spans[i];
		if (!s->invalid_reason)
			s->invalid_reason = span_invalid_reason(s);
		if (s->invalid_reason) {
			res->rejected_spans++;
			if (!first)
				first = s->invalid_reason;
		} else {
			res->accepted_spans++;
		}
	}
	return first;
}

static int take_body(const struct ingest_request *req, const struct ingest_limits *limits,
		     struct ingest_result *res, uint8_t **out, size_t *out_len)
{
	if (!req->gzip) {
		if (req->body.len > limits->max_body_bytes)
			return fail(res, INGEST_TOO_LARGE, CLEW_ELIMIT, "request body is larger than the limit");
		if (!charge(res, limits, req->body.len))
			return fail(res, INGEST_BUSY, CLEW_EBUSY, "clew is over its memory budget; retry later");
		uint8_t *p = try_malloc(req->body.len);
		if (!p)
			return fail(res, INGEST_BUSY, CLEW_ENOMEM, "out of memory; retry later");
		if (req->body.len)
			memcpy(p, req->body.p, req->body.len);
		*out = p;
		*out_len = req->body.len;
		return 0;
	}
	int rc = gzip_inflate(req->body, limits->max_body_bytes, out, out_len);
	if (rc == CLEW_ELIMIT)
		return fail(res, INGEST_TOO_LARGE, rc, "request body is larger than the limit after decompression");
	if (rc == CLEW_ENOMEM)
		return fail(res, INGEST_BUSY, rc, "out of memory; retry later");
	if (rc < 0)
		return fail(res, INGEST_BAD_REQUEST, rc, "gzip body is corrupt or truncated");
	if (!charge(res, limits, *out_len)) {
		free(*out);
		*out = NULL;
		return fail(res, INGEST_BUSY, CLEW_EBUSY, "clew is over its memory budget; retry later");
	}
	return 0;
}

static int decode_text(const struct ingest_request *req, struct slice text, struct arena *arena,
		       struct ingest_result *res, const char **first_reason)
{
	struct span_batch tb;
	struct decode_error err = {{0}, 0};
	span_batch_init(&tb, arena);
	int rc = req->format == INGEST_ZIPKIN_JSON ? zipkin_decode_spans(text, &tb, &err)
						   : otlp_json_decode_request(text, &tb, &err);
	if (rc == CLEW_ENOMEM)
		return fail(res, INGEST_BUSY, rc, "out of memory decoding the request; retry later");
	if (rc < 0)
		return fail(res, INGEST_BAD_REQUEST, rc, err.msg[0] ? err.msg : "malformed JSON body");
	*first_reason = validate(&tb, res);
	if (res->accepted_spans == 0)
		return 0;
	struct buf enc;
	buf_init(&enc, (size_t)1 << 31);
	otlp_encode_request(&tb, &enc);
	if (enc.err) {
		buf_free(&enc);
		return fail(res, INGEST_BUSY, CLEW_ENOMEM, "out of memory encoding the request; retry later");
	}
	res->payload = enc.p;
	res->payload_len = enc.len;
	return 0;
}

int ingest_receive(const struct ingest_request *req, const struct ingest_limits *limits, struct arena *arena,
		   struct ingest_result *res)
{
	memset(res, 0, sizeof *res);
	span_batch_init(&res->batch, arena);
	uint8_t *body = NULL;
	size_t body_len = 0;
	const char *first_reason = NULL;
	int rc = take_body(req, limits, res, &body, &body_len);
	if (rc < 0)
		return rc;
	struct decode_error err = {{0}, 0};
	if (req->format == INGEST_OTLP_PROTO) {
		res->payload = body;
		res->payload_len = body_len;
		body = NULL;
		rc = otlp_proto_decode_request(slice_make(res->payload, res->payload_len), &res->batch, &err);
		if (rc == CLEW_ENOMEM) {
			rc = fail(res, INGEST_BUSY, rc, "out of memory decoding the request; retry later");
			goto out;
		}
		if (rc < 0) {
			rc = fail(res, INGEST_BAD_REQUEST, rc, err.msg[0] ? err.msg : "malformed protobuf body");
			goto out;
		}
		first_reason = validate(&res->batch, res);
	} else {
		rc = decode_text(req, slice_make(body, body_len), arena, res, &first_reason);
		if (rc < 0)
			goto out;
		if (!res->payload) /* nothing valid: answer with the reasons, store nothing */
			goto done;
		/* the payload is ours: decode it again for the raw slices the head keeps */
		rc = otlp_proto_decode_request(slice_make(res->payload, res->payload_len), &res->batch, &err);
		if (rc < 0) {
			rc = fail(res, INGEST_BUSY, rc, "could not decode the re-encoded request; retry later");
			goto out;
		}
		for (uint32_t i = 0; i < res->batch.n_spans; i++)
			if (!res->batch.spans[i].invalid_reason)
				res->batch.spans[i].invalid_reason = span_invalid_reason(&res->batch.spans[i]);
	}
done:
	if (res->rejected_spans)
		snprintf(res->message, sizeof res->message, "%u of %u spans rejected: %s", res->rejected_spans,
			 res->rejected_spans + res->accepted_spans, first_reason);
	if (res->accepted_spans == 0) {
		free(res->payload);
		res->payload = NULL;
		res->payload_len = 0;
	}
	res->outcome = INGEST_OK;
	rc = 0;
out:
	free(body);
	if (rc < 0) {
		free(res->payload);
		res->payload = NULL;
		res->payload_len = 0;
	}
	return rc;
}

void ingest_result_release(struct ingest_result *res, const struct ingest_limits *limits)
{
	if (limits->memory && res->charged_bytes)
		budget_release(limits->memory, res->charged_bytes);
	res->charged_bytes = 0;
	free(res->payload);
	res->payload = NULL;
}
