// Bad input against clew's receivers, over raw HTTP and raw gRPC: undecodable
// bodies, wrong content types, gzip bombs and truncated gzip, bodies over the
// size limit, individually invalid spans (partial success), slow, half-closed
// and idle clients. Afterwards clew must still be ready and its peak resident
// memory must have stayed bounded under --memory-limit.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import grpc from '@grpc/grpc-js';
import { startClew, skipReason } from './lib/server.mjs';
import { request, getJsonUntilFound, describe as describeResponse } from './lib/http.mjs';
import { exchange, postHead, connect } from './lib/rawhttp.mjs';
import { decode, RpcStatus, ExportTraceServiceResponse } from './lib/proto.mjs';
import { makeTraces, makeSpan, randomTraceId, encodeProto, encodeJson } from './lib/otlpgen.mjs';

const MAX_BODY = 4194304;
const MEMORY_LIMIT = 268435456;
const SANITIZER = process.env.CLEW_E2E_SANITIZER === '1';
// Peak RSS allowed: the memory limit plus room for code, stacks and
// allocator slack; ASan's shadow memory and quarantine need far more.
const RSS_BOUND = SANITIZER ? 2048 * 1048576 : MEMORY_LIMIT + 128 * 1048576;
const GRPC_METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

function statusOf(body) {
	return decode(RpcStatus, body);
}

// Peak resident set size (VmHWM) of the server in bytes.
function peakRss(server) {
	const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'));
	return m ? Number(m[1]) * 1024 : server.rssBytes();
}

describe('bad input', { skip: skipReason, timeout: 180000 }, () => {
	let server;
	let grpcClient;
	let otlp; // the OTLP/HTTP port

	const post = (body, contentType, extra = {}) => request(server.url('otlpHttp', '/v1/traces'), {
		method: 'POST', headers: { 'content-type': contentType, ...extra }, body,
	});

	const grpcExport = (buf, timeoutMs = 15000) => new Promise((resolve) => {
		grpcClient.makeUnaryRequest(GRPC_METHOD, (b) => b, (b) => b, buf, { deadline: Date.now() + timeoutMs }, (err, resp) => resolve({ err, resp }));
	});

	before(async () => {
		server = await startClew({ args: ['--max-body-bytes', String(MAX_BODY), '--memory-limit', String(MEMORY_LIMIT)] });
		otlp = server.ports.otlpHttp;
		grpcClient = new grpc.Client(`127.0.0.1:${server.ports.otlpGrpc}`, grpc.credentials.createInsecure(), {
			'grpc.max_send_message_length': 64 * 1048576,
			'grpc.max_receive_message_length': 64 * 1048576,
		});
	});

	after(async () => {
		if (grpcClient) grpcClient.close();
		if (server) await server.cleanup();
	});

	describe('OTLP/HTTP', () => {
		test('a valid protobuf request is accepted (control)', async () => {
			const { spans } = makeTraces({ traces: 2 });
			const r = await post(encodeProto(spans), 'application/x-protobuf');
			assert.equal(r.status, 200, describeResponse(r));
			const resp = decode(ExportTraceServiceResponse, r.body);
			assert.ok(!resp.partialSuccess || Number(resp.partialSuccess.rejectedSpans || 0) === 0, JSON.stringify(resp));
		});

		test('garbage protobuf is 400 with a google.rpc.Status message', async () => {
			for (const body of [
				Buffer.alloc(64, 0xff),
				Buffer.from('this is not protobuf at all, just text'),
				Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // length far past the end
				encodeProto(makeTraces().spans).subarray(0, 40), // truncated
			]) {
				const r = await post(body, 'application/x-protobuf');
				assert.equal(r.status, 400, `body ${body.subarray(0, 8).toString('hex')}: ${describeResponse(r)}`);
				assert.match(String(r.headers['content-type']), /application\/x-protobuf/);
				const st = statusOf(r.body);
				assert.ok(st.message && st.message.length > 0, `Status without message: ${JSON.stringify(st)}`);
			}
		});

		test('garbage JSON is 400 with a JSON Status {code: 3, message}', async () => {
			for (const body of ['{"resourceSpans": [', 'null garbage', '{"resourceSpans": 5}', '\u0000\u0001']) {
				const r = await post(Buffer.from(body), 'application/json');
				assert.equal(r.status, 400, `body ${JSON.stringify(body)}: ${describeResponse(r)}`);
				assert.match(String(r.headers['content-type']), /application\/json/);
				const st = JSON.parse(r.body.toString());
				assert.equal(st.code, 3, `body ${JSON.stringify(body)}: ${r.body}`);
				assert.ok(typeof st.message === 'string' && st.message.length > 0, `no message: ${r.body}`);
			}
		});

		test('a span with a non-hex trace id in JSON is refused, with a message', async () => {
			const body = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"0102030405060708","name":"x"}]}]}]}';
			const r = await post(Buffer.from(body), 'application/json');
			const j = JSON.parse(r.body.toString());
			if (r.status === 400) {
				assert.ok(j.message, `400 without message: ${r.body}`);
			} else {
				assert.equal(r.status, 200, describeResponse(r));
				assert.equal(Number(j.partialSuccess && j.partialSuccess.rejectedSpans), 1, r.body.toString());
				assert.ok(j.partialSuccess.errorMessage, `partial success without errorMessage: ${r.body}`);
			}
		});

		test('an unknown content type is 415', async () => {
			for (const ct of ['text/plain', 'application/xml', 'application/grpc']) {
				const r = await post(encodeProto(makeTraces().spans), ct);
				assert.equal(r.status, 415, `${ct}: ${describeResponse(r)}`);
			}
		});

		test('an unknown path is 404 and GET /v1/traces is refused', async () => {
			const r = await request(server.url('otlpHttp', '/v1/nothing'), { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.alloc(0) });
			assert.equal(r.status, 404, describeResponse(r));
			const g = await request(server.url('otlpHttp', '/v1/traces'));
			assert.ok([404, 405].includes(g.status), describeResponse(g));
		});

		test('a gzip bomb (100 MB of zeros) is 413, measured after decompression', async () => {
			const bomb = gzipSync(Buffer.alloc(100 * 1048576), { level: 9 });
			assert.ok(bomb.length < MAX_BODY / 10, 'the compressed bomb is small');
			const r = await exchange(otlp, [postHead('/v1/traces', 'application/x-protobuf', bomb.length, { 'Content-Encoding': 'gzip' }), bomb]);
			assert.equal(r.status, 413, `gzip bomb: ${JSON.stringify({ status: r.status, headers: r.headers, body: String(r.body || r.raw).slice(0, 200) })}`);
			const rj = await exchange(otlp, [postHead('/v1/traces', 'application/json', bomb.length, { 'Content-Encoding': 'gzip' }), bomb]);
			assert.equal(rj.status, 413, 'gzip bomb as JSON');
		});

		test('a valid gzip body is accepted; truncated or corrupt gzip is 400', async () => {
			const good = gzipSync(encodeProto(makeTraces({ traces: 3 }).spans));
			const ok = await post(good, 'application/x-protobuf', { 'content-encoding': 'gzip' });
			assert.equal(ok.status, 200, describeResponse(ok));
			const truncated = good.subarray(0, Math.floor(good.length / 2));
			const r = await post(truncated, 'application/x-protobuf', { 'content-encoding': 'gzip' });
			assert.equal(r.status, 400, `truncated gzip: ${describeResponse(r)}`);
			assert.ok(statusOf(r.body).message, 'Status message for truncated gzip');
			const corrupt = Buffer.from(good);
			corrupt.fill(0x55, 12, 40);
			const c = await post(corrupt, 'application/x-protobuf', { 'content-encoding': 'gzip' });
			assert.equal(c.status, 400, `corrupt gzip: ${describeResponse(c)}`);
			const notGzip = await post(Buffer.from('plainly not gzip'), 'application/json', { 'content-encoding': 'gzip' });
			assert.equal(notGzip.status, 400, `not gzip: ${describeResponse(notGzip)}`);
		});

		test('an unsupported Content-Encoding is refused with 4xx', async () => {
			const r = await post(encodeProto(makeTraces().spans), 'application/x-protobuf', { 'content-encoding': 'br' });
			assert.ok([400, 415].includes(r.status), describeResponse(r));
		});

		test('a raw body over --max-body-bytes is 413', async () => {
			const big = Buffer.alloc(MAX_BODY + 1048576, 0x20);
			const r = await exchange(otlp, [postHead('/v1/traces', 'application/x-protobuf', big.length), big]);
			assert.equal(r.status, 413, `oversize: ${JSON.stringify({ status: r.status, closed: r.closed })}`);
			// chunked, with no Content-Length to refuse early on
			const head = 'POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n';
			const pieces = [head];
			for (let i = 0; i < 5; i++) pieces.push(`100000\r\n`, Buffer.alloc(0x100000, 0x20), '\r\n');
			pieces.push('0\r\n\r\n');
			const rc = await exchange(otlp, pieces);
			assert.equal(rc.status, 413, `chunked oversize: ${JSON.stringify({ status: rc.status, closed: rc.closed })}`);
		});

		test('invalid spans are rejected one by one: 200 with partialSuccess', async () => {
			const now = BigInt(Date.now()) * 1000000n;
			const goodTrace = randomTraceId();
			const spans = [
				makeSpan({ traceId: goodTrace, name: 'good', startNs: now, endNs: now + 1000n }),
				makeSpan({ traceId: '0'.repeat(32), name: 'zero trace id', startNs: now, endNs: now + 1000n }),
				makeSpan({ traceId: randomTraceId(), name: 'ends before it starts', startNs: now + 5000n, endNs: now }),
			];
			const r = await post(encodeProto(spans), 'application/x-protobuf');
			assert.equal(r.status, 200, describeResponse(r));
			const resp = decode(ExportTraceServiceResponse, r.body);
			assert.ok(resp.partialSuccess, `no partialSuccess: ${JSON.stringify(resp)}`);
			assert.equal(Number(resp.partialSuccess.rejectedSpans), 2, JSON.stringify(resp));
			assert.ok(resp.partialSuccess.errorMessage && resp.partialSuccess.errorMessage.length > 0, 'partial success without errorMessage');

			const jt = randomTraceId();
			const jspans = [
				makeSpan({ traceId: jt, name: 'good json', startNs: now, endNs: now + 1000n }),
				makeSpan({ traceId: '0'.repeat(32), name: 'zero trace id', startNs: now, endNs: now + 1000n }),
			];
			const rj = await post(encodeJson(jspans), 'application/json');
			assert.equal(rj.status, 200, describeResponse(rj));
			const pj = JSON.parse(rj.body.toString());
			assert.ok(pj.partialSuccess, `no partialSuccess: ${rj.body}`);
			assert.equal(Number(pj.partialSuccess.rejectedSpans), 1, rj.body.toString());
			assert.ok(pj.partialSuccess.errorMessage, 'JSON partial success without errorMessage');

			for (const [id, name] of [[goodTrace, 'good'], [jt, 'good json']]) {
				const t = await getJsonUntilFound(server.url('http', `/api/v1/traces/${id}`));
				assert.equal(t.status, 200, `the valid span of a partly rejected batch is stored: ${describeResponse(t)}`);
				assert.equal(t.json.spanCount, 1);
				assert.equal(t.json.spans[0].name, name);
			}
		});

		test('a slow client sending its headers byte by byte is still answered', async () => {
			const body = encodeProto(makeTraces().spans);
			const head = postHead('/v1/traces', 'application/x-protobuf', body.length);
			const pieces = [...Buffer.from(head)].map((b) => Buffer.from([b]));
			const delayMs = Math.max(10, Math.floor(3000 / pieces.length));
			const t0 = Date.now();
			const r = await exchange(otlp, [...pieces, body], { delayMs, timeoutMs: 30000 });
			assert.ok(Date.now() - t0 >= 2500, 'the headers took seconds to arrive');
			assert.equal(r.status, 200, `slow client: ${JSON.stringify({ status: r.status, closed: r.closed })}`);
		});

		test('a half-closed client still gets its answer', async () => {
			const body = encodeProto(makeTraces().spans);
			const r = await exchange(otlp, [postHead('/v1/traces', 'application/x-protobuf', body.length, { Connection: 'close' }), body], { halfClose: true });
			assert.equal(r.status, 200, `half-closed: ${JSON.stringify({ status: r.status, closed: r.closed })}`);
			const g = await exchange(server.ports.http, ['GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], { halfClose: true });
			assert.equal(g.status, 200);
		});

		test('garbage instead of HTTP gets 400 or a closed connection, nothing else', async () => {
			for (const junk of ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'HELLO\r\n\r\n', 'POST /v1/traces HTTP/1.1\r\nContent-Length: -5\r\n\r\n', `GET /${'a'.repeat(100000)} HTTP/1.1\r\n\r\n`]) {
				const r = await exchange(otlp, [junk], { halfClose: true, timeoutMs: 15000 });
				assert.ok(r.status === 0 || (r.status >= 400 && r.status < 500), `junk ${JSON.stringify(junk.slice(0, 20))}: ${r.status}`);
			}
		});

		test('200 idle connections do not stop a normal request', async () => {
			const idle = [];
			try {
				for (let i = 0; i < 200; i++) idle.push(await connect(i % 2 ? otlp : server.ports.http));
				for (const s of idle) s.on('error', () => {});
				const body = encodeProto(makeTraces().spans);
				const r = await post(body, 'application/x-protobuf');
				assert.equal(r.status, 200, describeResponse(r));
				const ready = await request(server.url('http', '/ready'));
				assert.equal(ready.status, 200);
				const g = await grpcExport(encodeProto(makeTraces().spans));
				assert.equal(g.err, null, `gRPC export with 200 idle connections: ${g.err && g.err.message}`);
			} finally {
				for (const s of idle) s.destroy();
			}
		});
	});

	describe('OTLP/gRPC', () => {
		test('a valid raw request is OK (control)', async () => {
			const { err, resp } = await grpcExport(encodeProto(makeTraces({ traces: 2 }).spans));
			assert.equal(err, null, err && `${err.code} ${err.details}`);
			const r = decode(ExportTraceServiceResponse, resp);
			assert.ok(!r.partialSuccess || Number(r.partialSuccess.rejectedSpans || 0) === 0);
		});

		test('garbage is INVALID_ARGUMENT with a message', async () => {
			for (const body of [Buffer.alloc(64, 0xff), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])]) {
				const { err } = await grpcExport(body);
				assert.ok(err, 'garbage accepted');
				assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `${err.code} ${err.details}`);
				assert.ok(err.details && err.details.length > 0, 'no status message');
			}
		});

		test('invalid spans: OK with partial_success', async () => {
			const now = BigInt(Date.now()) * 1000000n;
			const spans = [
				makeSpan({ traceId: randomTraceId(), name: 'good', startNs: now, endNs: now + 1000n }),
				makeSpan({ traceId: '0'.repeat(32), name: 'zero', startNs: now, endNs: now + 1000n }),
				makeSpan({ traceId: randomTraceId(), name: 'backwards', startNs: now + 10n, endNs: now }),
			];
			const { err, resp } = await grpcExport(encodeProto(spans));
			assert.equal(err, null, err && `${err.code} ${err.details}`);
			const r = decode(ExportTraceServiceResponse, resp);
			assert.equal(Number(r.partialSuccess && r.partialSuccess.rejectedSpans), 2, JSON.stringify(r));
			assert.ok(r.partialSuccess.errorMessage);
		});

		test('a message over --max-body-bytes is RESOURCE_EXHAUSTED', async () => {
			const big = Buffer.alloc(MAX_BODY + 1048576, 0x20);
			const { err } = await grpcExport(big, 30000);
			assert.ok(err, 'oversize message accepted');
			assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, `${err.code} ${err.details}`);
			const again = await grpcExport(encodeProto(makeTraces().spans));
			assert.equal(again.err, null, 'the channel still works after an oversize message');
		});

		test('an unknown method is UNIMPLEMENTED', async () => {
			const err = await new Promise((resolve) => {
				grpcClient.makeUnaryRequest('/opentelemetry.proto.collector.trace.v1.TraceService/Nope', (b) => b, (b) => b, Buffer.alloc(0), { deadline: Date.now() + 10000 }, (e) => resolve(e));
			});
			assert.ok(err);
			assert.equal(err.code, grpc.status.UNIMPLEMENTED, `${err.code} ${err.details}`);
		});
	});

	describe('Zipkin', () => {
		test('garbage is 400, an empty list is 202', async () => {
			for (const body of ['[{"traceId": ', '{"not": "a list"}', '[{"traceId":"xyz","id":"1"}]']) {
				const r = await request(server.url('zipkin', '/api/v2/spans'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from(body) });
				assert.equal(r.status, 400, `zipkin ${body}: ${describeResponse(r)}`);
			}
			const ok = await request(server.url('zipkin', '/api/v2/spans'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from('[]') });
			assert.equal(ok.status, 202, describeResponse(ok));
		});
	});

	describe('afterwards', () => {
		test('clew is still ready and its peak RSS stayed bounded', async () => {
			const ready = await request(server.url('http', '/ready'));
			assert.equal(ready.status, 200);
			const { spans, traceIds } = makeTraces({ traces: 1, spansPerTrace: 4 });
			const r = await post(encodeProto(spans), 'application/x-protobuf');
			assert.equal(r.status, 200);
			const t = await getJsonUntilFound(server.url('http', `/api/v1/traces/${traceIds[0]}`));
			assert.equal(t.status, 200);
			assert.equal(t.json.spanCount, 4);
			const peak = peakRss(server);
			assert.ok(peak < RSS_BOUND, `peak RSS ${(peak / 1048576).toFixed(1)} MiB over the bound ${(RSS_BOUND / 1048576).toFixed(0)} MiB`);
			const m = await request(server.url('http', '/metrics'));
			assert.equal(m.status, 200);
		});

		test('SIGTERM exits 0 with no sanitizer report', async () => {
			assert.deepEqual(await server.stopClean(), []);
		});
	});
});

describe('memory pressure', { skip: skipReason, timeout: 180000 }, () => {
	const LIMIT = 64 * 1048576;
	let server;

	before(async () => {
		server = await startClew({ args: ['--max-body-bytes', String(16 * 1048576), '--memory-limit', String(LIMIT)] });
	});

	after(async () => {
		if (server) await server.cleanup();
	});

	test('concurrent large batches are answered 200 or 503 with Retry-After, never 500', async (t) => {
		const now = BigInt(Date.now()) * 1000000n;
		const big = 'x'.repeat(64 * 1024);
		const bodies = [];
		for (let b = 0; b < 4; b++) {
			const traceId = randomTraceId();
			const spans = [];
			for (let i = 0; i < 150; i++) {
				spans.push(makeSpan({ traceId, name: `big ${i}`, startNs: now, endNs: now + 1000n, attributes: [{ key: 'blob', value: { stringValue: big } }] }));
			}
			bodies.push(encodeProto(spans));
		}
		const statuses = [];
		const retryAfter = [];
		await Promise.all(Array.from({ length: 24 }, async (_, i) => {
			const body = bodies[i % bodies.length];
			const r = await exchange(server.ports.otlpHttp, [postHead('/v1/traces', 'application/x-protobuf', body.length), body], { timeoutMs: 60000 });
			statuses.push(r.status);
			if (r.status === 503 || r.status === 429) retryAfter.push(r.headers['retry-after']);
		}));
		t.diagnostic(`statuses: ${JSON.stringify(statuses.reduce((m, s) => ({ ...m, [s]: (m[s] || 0) + 1 }), {}))}`);
		for (const s of statuses) assert.ok([200, 429, 503].includes(s), `status ${s} under memory pressure (all: ${statuses.join(',')})`);
		for (const ra of retryAfter) assert.ok(ra !== undefined && /^\d+$|GMT$/.test(ra), `503/429 without a usable Retry-After: ${ra}`);
		// The same over gRPC: OK, or UNAVAILABLE (retryable), never INTERNAL or UNKNOWN.
		const client = new grpc.Client(`127.0.0.1:${server.ports.otlpGrpc}`, grpc.credentials.createInsecure(), {
			'grpc.max_send_message_length': 64 * 1048576,
		});
		const codes = [];
		try {
			await Promise.all(Array.from({ length: 16 }, (_, i) => new Promise((resolve) => {
				client.makeUnaryRequest(GRPC_METHOD, (b) => b, (b) => b, bodies[i % bodies.length], { deadline: Date.now() + 60000 }, (err) => {
					codes.push(err ? err.code : 0);
					resolve();
				});
			})));
		} finally {
			client.close();
		}
		t.diagnostic(`gRPC codes: ${JSON.stringify(codes.reduce((m, s) => ({ ...m, [s]: (m[s] || 0) + 1 }), {}))}`);
		for (const c of codes) {
			assert.ok([grpc.status.OK, grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED].includes(c), `gRPC code ${c} under memory pressure (all: ${codes.join(',')})`);
		}
		const ready = await request(server.url('http', '/ready'));
		assert.equal(ready.status, 200);
		const peak = peakRss(server);
		const bound = SANITIZER ? 2048 * 1048576 : LIMIT + 192 * 1048576;
		assert.ok(peak < bound, `peak RSS ${(peak / 1048576).toFixed(1)} MiB with --memory-limit 64 MiB (bound ${(bound / 1048576).toFixed(0)} MiB)`);
		assert.deepEqual(await server.stopClean(), [], 'clean exit after memory pressure');
	});
});
