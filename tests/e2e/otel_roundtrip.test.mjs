// OTLP round trip: the OpenTelemetry JS SDK exports one traced program
// through each of its OTLP exporters (protobuf over HTTP with gzip, JSON over
// HTTP, gRPC), and every trace is read back through Tempo JSON, Tempo
// protobuf, Tempo v2, Jaeger and clew's native API and compared field by
// field with the spans the SDK recorded. Also: the same batch posted twice is
// stored once, the query APIs' error answers, and a clean SIGTERM exit.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { CompressionAlgorithm } from '@opentelemetry/otlp-exporter-base';
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { startClew, skipReason } from './lib/server.mjs';
import { request, getJson, describe as describeResponse } from './lib/http.mjs';
import { decode, ExportTraceServiceResponse } from './lib/proto.mjs';
import { runCheckout } from './lib/program.mjs';
import { fromSdk } from './lib/model.mjs';
import {
	assertSameSpans, assertJaegerTrace, assertNativeSummary,
	readTempoJson, readTempoProto, readTempoV2, readNative, readJaeger,
} from './lib/checks.mjs';

const EXPORTERS = [
	{
		label: 'otlp-proto',
		make: (s) => new ProtoExporter({ url: s.url('otlpHttp', '/v1/traces'), compression: CompressionAlgorithm.GZIP, timeoutMillis: 15000 }),
	},
	{
		label: 'otlp-json',
		make: (s) => new JsonExporter({ url: s.url('otlpHttp', '/v1/traces'), timeoutMillis: 15000 }),
	},
	{
		label: 'otlp-grpc',
		make: (s) => new GrpcExporter({ url: `http://127.0.0.1:${s.ports.otlpGrpc}`, timeoutMillis: 15000 }),
	},
];

function expectedByTrace(spans) {
	const m = new Map();
	for (const rs of spans) {
		const c = fromSdk(rs);
		if (!m.has(c.span.traceId)) m.set(c.span.traceId, []);
		m.get(c.span.traceId).push(c);
	}
	return m;
}

describe('OTLP round trip with the OpenTelemetry JS SDK', { skip: skipReason, timeout: 180000 }, () => {
	let server;

	before(async () => {
		server = await startClew();
	});

	after(async () => {
		if (server) await server.cleanup();
	});

	for (const ex of EXPORTERS) {
		describe(`exported by ${ex.label}`, () => {
			let run;
			let expected;

			before(async () => {
				run = await runCheckout({ service: `checkout-${ex.label}`, exporter: ex.make(server) });
				expected = expectedByTrace(run.spans);
			});

			test('the exporter reports success for every span', () => {
				assert.equal(run.spans.length, 7, 'the program records 7 spans');
				assert.deepEqual(run.recorder.failures(), [], `export failed (${run.flushError}); clew stderr:\n${server.logTail(15)}`);
				assert.equal(run.recorder.exported, 7);
				assert.equal(expected.size, 3, 'three traces');
			});

			test('Tempo JSON /api/traces/{id} returns every field', async () => {
				for (const [traceId, exp] of expected) {
					assertSameSpans(await readTempoJson(server, traceId), exp, `${ex.label} -> Tempo JSON ${traceId}`);
				}
			});

			test('Tempo protobuf /api/traces/{id} returns every field', async () => {
				for (const [traceId, exp] of expected) {
					assertSameSpans(await readTempoProto(server, traceId), exp, `${ex.label} -> Tempo protobuf ${traceId}`);
				}
			});

			test('Tempo v2 /api/v2/traces/{id} returns every field', async () => {
				for (const [traceId, exp] of expected) {
					assertSameSpans(await readTempoV2(server, traceId), exp, `${ex.label} -> Tempo v2 ${traceId}`);
				}
			});

			test('native /api/v1/traces/{id} returns every field and the summary', async () => {
				for (const [traceId, exp] of expected) {
					const { doc, spans } = await readNative(server, traceId);
					assertSameSpans(spans, exp, `${ex.label} -> native ${traceId}`);
					assertNativeSummary(doc, exp, `${ex.label} -> native ${traceId}`);
				}
				const { doc } = await readNative(server, run.traceIds.checkout);
				assert.equal(doc.rootName, 'GET /checkout');
				assert.equal(doc.rootServiceName, `checkout-${ex.label}`);
				assert.equal(doc.errorCount, 1);
				assert.equal(doc.spanCount, 5);
			});

			test('Jaeger /jaeger/api/traces/{id} carries the same spans', async () => {
				for (const [traceId, exp] of expected) {
					assertJaegerTrace(await readJaeger(server, traceId), exp, `${ex.label} -> Jaeger ${traceId}`);
				}
			});
		});
	}

	describe('deduplication', () => {
		let run;
		before(async () => {
			run = await runCheckout({ service: 'checkout-dedup', exporter: null });
		});

		test('the same batch posted twice (and once more as JSON) is stored once', async () => {
			const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(run.spans));
			for (let i = 0; i < 2; i++) {
				const r = await request(server.url('otlpHttp', '/v1/traces'), {
					method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body,
				});
				assert.equal(r.status, 200, `post ${i + 1}: ${describeResponse(r)}`);
				assert.match(String(r.headers['content-type']), /application\/x-protobuf/);
				const resp = decode(ExportTraceServiceResponse, r.body);
				assert.ok(!resp.partialSuccess || !Number(resp.partialSuccess.rejectedSpans || 0), `post ${i + 1}: rejected spans ${JSON.stringify(resp)}`);
			}
			const json = Buffer.from(JsonTraceSerializer.serializeRequest(run.spans));
			const rj = await request(server.url('otlpHttp', '/v1/traces'), {
				method: 'POST', headers: { 'content-type': 'application/json' }, body: json,
			});
			assert.equal(rj.status, 200, `JSON post: ${describeResponse(rj)}`);
			assert.match(String(rj.headers['content-type']), /application\/json/);

			const expected = expectedByTrace(run.spans);
			for (const [traceId, exp] of expected) {
				const { doc, spans } = await readNative(server, traceId);
				assert.equal(doc.spanCount, exp.length, `trace ${traceId}: spanCount after 3 posts`);
				assert.equal(doc.spans.length, exp.length, `trace ${traceId}: spans after 3 posts`);
				assertSameSpans(spans, exp, `dedup native ${traceId}`);
				assertSameSpans(await readTempoJson(server, traceId), exp, `dedup Tempo ${traceId}`);
			}
		});
	});

	describe('query API answers', () => {
		test('/ready, /api/echo and /metrics', async () => {
			const ready = await request(server.url('http', '/ready'));
			assert.equal(ready.status, 200);
			const echo = await request(server.url('http', '/api/echo'));
			assert.equal(echo.status, 200);
			assert.equal(echo.body.toString().trim(), 'echo');
			const m = await request(server.url('http', '/metrics'));
			assert.equal(m.status, 200);
			assert.match(String(m.headers['content-type']), /text\/plain/);
			const line = m.body.toString().split('\n').find((l) => /^clew_spans_received_total(\{[^}]*\})?\s/.test(l));
			assert.ok(line, 'no clew_spans_received_total sample in /metrics');
			const total = m.body.toString().split('\n')
				.filter((l) => /^clew_spans_received_total(\{[^}]*\})?\s/.test(l))
				.reduce((a, l) => a + Number(l.trim().split(/\s+/)[1]), 0);
			// 3 exporters x 7 spans, then 3 x 7 for the dedup test (received, even if stored once).
			assert.ok(total >= 21, `clew_spans_received_total is ${total}, expected at least 21`);
		});

		test('an unknown trace id is 404 with a JSON error', async () => {
			const id = 'f'.repeat(32);
			const r = await getJson(server.url('http', `/api/v1/traces/${id}`));
			assert.equal(r.status, 404, describeResponse(r));
			assert.equal(r.json && r.json.error && r.json.error.code, 404, describeResponse(r));
			assert.equal(typeof r.json.error.message, 'string');
			assert.ok(r.json.error.message.length > 0);
			const t = await getJson(server.url('http', `/api/traces/${id}`));
			assert.equal(t.status, 404, describeResponse(t));
			const j = await getJson(server.url('http', `/jaeger/api/traces/${id}`));
			assert.equal(j.status, 404, describeResponse(j));
		});

		test('a malformed trace id is 400', async () => {
			for (const bad of ['xyz', 'g'.repeat(32), '0'.repeat(33), '12345678901234567890123456789012345']) {
				const r = await getJson(server.url('http', `/api/v1/traces/${bad}`));
				assert.equal(r.status, 400, `native ${bad}: ${describeResponse(r)}`);
				assert.equal(r.json && r.json.error && r.json.error.code, 400, `native ${bad}: ${describeResponse(r)}`);
				const t = await getJson(server.url('http', `/api/traces/${bad}`));
				assert.equal(t.status, 400, `Tempo ${bad}: ${describeResponse(t)}`);
			}
		});
	});

	describe('shutdown', () => {
		test('SIGTERM stops clew with exit status 0, and a restart still has the traces', async () => {
			const run = await runCheckout({ service: 'checkout-restart', exporter: null });
			const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(run.spans));
			const r = await request(server.url('otlpHttp', '/v1/traces'), {
				method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body,
			});
			assert.equal(r.status, 200, describeResponse(r));
			assert.deepEqual(await server.stopClean(), []);
			await server.start();
			const expected = expectedByTrace(run.spans);
			for (const [traceId, exp] of expected) {
				const { spans } = await readNative(server, traceId);
				assertSameSpans(spans, exp, `after restart, native ${traceId}`);
			}
			assert.deepEqual(await server.stopClean(), []);
		});
	});
});
