// Zipkin v2 ingest: the OpenTelemetry Zipkin exporter (which posts Zipkin v2
// JSON) sends the traced checkout program to clew's Zipkin port, and a
// hand-written Zipkin span list adds what that exporter never sends (remote
// endpoints, 64-bit trace ids, shared spans). Everything is read back through
// the native and Jaeger APIs: service, kind, microsecond times as
// nanoseconds, tags as attributes, annotations as events, parent ids, and the
// remote endpoint as peer.service.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { SpanStatusCode } from '@opentelemetry/api';
import { startClew, skipReason } from './lib/server.mjs';
import { request, describe as describeResponse } from './lib/http.mjs';
import { runCheckout } from './lib/program.mjs';
import { otlpAttrs, KIND_NAMES } from './lib/model.mjs';
import { readNative, readJaeger } from './lib/checks.mjs';

const ZIPKIN_KIND = { 1: 'server', 2: 'client', 3: 'producer', 4: 'consumer' }; // SDK SpanKind -> native kind

function hrMicros(hr) {
	return Math.round(hr[0] * 1e6 + hr[1] / 1e3);
}

function attrMap(list) {
	const m = new Map();
	for (const a of otlpAttrs(list)) m.set(a.key, a.value);
	return m;
}

// The exporter writes microseconds as sec * 1e6 + nanos / 1e3: fractional
// whenever the SDK clock has sub-microsecond digits.
function exporterMicros(hr) {
	return hr[0] * 1e6 + hr[1] / 1e3;
}

// got: a decimal nanosecond string; want: what the exporter sent, in µs.
function assertNsNearMicros(got, wantUs, exact, what) {
	assert.equal(typeof got, 'string', `${what}: not a decimal string: ${JSON.stringify(got)}`);
	if (exact) {
		assert.equal(got, (BigInt(Math.round(wantUs)) * 1000n).toString(), `${what}: µs x 1000`);
	} else {
		const diff = Math.abs(Number(BigInt(got) - BigInt(Math.floor(wantUs)) * 1000n) - (wantUs - Math.floor(wantUs)) * 1000);
		assert.ok(diff <= 1000, `${what}: ${got} ns is more than 1 µs from ${wantUs} µs`);
	}
}

const VARIANTS = [
	{ label: 'whole microseconds', wholeMicros: true, exact: true },
	{ label: 'fractional microseconds from a sub-microsecond clock', wholeMicros: false, exact: false },
];

describe('Zipkin v2 ingest', { skip: skipReason, timeout: 180000 }, () => {
	let server;

	before(async () => {
		server = await startClew();
	});

	after(async () => {
		if (server) await server.cleanup();
	});

	for (const variant of VARIANTS) {
		describe(`@opentelemetry/exporter-zipkin, ${variant.label}`, () => {
			let run;
			const service = `checkout-zipkin-${variant.wholeMicros ? 'us' : 'frac'}`;

			before(async () => {
				run = await runCheckout({ service, wholeMicros: variant.wholeMicros, exporter: new ZipkinExporter({ url: server.url('zipkin', '/api/v2/spans') }) });
			});

			test('the Zipkin exporter reports success', () => {
				assert.equal(run.spans.length, 7);
				assert.deepEqual(run.recorder.failures(), [], `export failed (${run.flushError}); clew stderr:\n${server.logTail(15)}`);
				assert.equal(run.recorder.exported, 7);
			});

			test('native API: service, kind, times, tags, annotations, parents', async () => {
				const traces = new Map();
				for (const s of run.spans) {
					const id = s.spanContext().traceId;
					if (!traces.has(id)) traces.set(id, []);
					traces.get(id).push(s);
				}
				for (const [traceId, spans] of traces) {
					const { doc } = await readNative(server, traceId);
					assert.equal(doc.spanCount, spans.length, `trace ${traceId} spanCount`);
					for (const rs of spans) {
						const what = `span "${rs.name}"`;
						const got = doc.spans.find((x) => x.spanId === rs.spanContext().spanId);
						assert.ok(got, `${what} missing`);
						assert.equal(got.name, rs.name, `${what}: name`);
						assert.equal(got.service, service, `${what}: service`);
						const res = doc.resources[got.resource];
						assert.equal(attrMap(res.attributes).get('service.name').string, service, `${what}: resource service.name`);
						assert.equal(got.parentSpanId || '', (rs.parentSpanContext && rs.parentSpanContext.spanId) || '', `${what}: parent`);
						if (ZIPKIN_KIND[rs.kind]) assert.equal(got.kind, ZIPKIN_KIND[rs.kind], `${what}: kind`);
						else assert.ok(['internal', 'unspecified'].includes(got.kind), `${what}: a local Zipkin span is kind ${got.kind}`);
						// Zipkin carries microseconds: clew multiplies by 1000.
						const startUs = exporterMicros(rs.startTime);
						const durUs = Math.round(hrMicros(rs.duration));
						assertNsNearMicros(got.startTimeUnixNano, startUs, variant.exact, `${what}: start`);
						assertNsNearMicros(got.endTimeUnixNano, startUs + durUs, variant.exact, `${what}: end`);
						// Every tag becomes a string attribute (the exporter stringifies values).
						const attrs = attrMap(got.attributes);
						for (const [k, v] of Object.entries(rs.attributes)) {
							assert.deepEqual(attrs.get(k), { string: String(v) }, `${what}: tag ${k}`);
						}
						// The exporter also sends the resource's attributes as tags.
						for (const [k, v] of Object.entries(rs.resource.attributes)) {
							if (k === 'service.name') continue;
							assert.deepEqual(attrs.get(k), { string: String(v) }, `${what}: resource tag ${k}`);
						}
						if (rs.status.code === SpanStatusCode.ERROR) {
							assert.equal(got.status && got.status.code, 'error', `${what}: an error tag makes an error status`);
						} else {
							assert.notEqual(got.status && got.status.code, 'error', `${what}: status`);
						}
						// Annotations become events at the same microsecond, attributes lost.
						assert.equal((got.events || []).length, rs.events.length, `${what}: events`);
						rs.events.forEach((ev, i) => {
							assert.equal(got.events[i].name, ev.name, `${what}: event ${i} name`);
							assertNsNearMicros(got.events[i].timeUnixNano, Math.round(hrMicros(ev.time)), true, `${what}: event ${i} time`);
						});
					}
				}
			});

			test('Jaeger API: operation names, references, microsecond times', async () => {
				const traceId = run.traceIds.checkout;
				const jt = await readJaeger(server, traceId);
				const mine = run.spans.filter((s) => s.spanContext().traceId === traceId);
				assert.equal(jt.spans.length, mine.length);
				for (const rs of mine) {
					const js = jt.spans.find((x) => x.spanID === rs.spanContext().spanId);
					assert.ok(js, `span ${rs.name} missing`);
					assert.equal(js.operationName, rs.name);
					assert.ok(Math.abs(js.startTime - exporterMicros(rs.startTime)) < 1, `${rs.name}: startTime ${js.startTime}`);
					const parent = rs.parentSpanContext && rs.parentSpanContext.spanId;
					if (parent) {
						assert.ok((js.references || []).some((r) => r.refType === 'CHILD_OF' && r.spanID === parent), `${rs.name}: CHILD_OF ${parent}`);
					}
					assert.equal(jt.processes[js.processID].serviceName, service);
					if (ZIPKIN_KIND[rs.kind]) {
						const tag = js.tags.find((t) => t.key === 'span.kind');
						assert.equal(tag && tag.value, ZIPKIN_KIND[rs.kind], `${rs.name}: span.kind tag`);
					}
					assert.equal((js.logs || []).length, rs.events.length, `${rs.name}: logs`);
				}
			});
		});
	}

	describe('hand-written Zipkin spans', () => {
		const trace64 = randomBytes(8).toString('hex'); // a 64-bit Zipkin trace id
		const clientId = randomBytes(8).toString('hex');
		const serverId = randomBytes(8).toString('hex');
		const localId = randomBytes(8).toString('hex');
		const nowUs = Date.now() * 1000 - 60e6;
		const body = [
			{
				traceId: trace64, id: clientId, name: 'get /users/{id}', kind: 'CLIENT',
				timestamp: nowUs, duration: 12345,
				localEndpoint: { serviceName: 'frontend', ipv4: '10.1.2.3' },
				remoteEndpoint: { serviceName: 'users-db', ipv4: '192.0.2.7', port: 5432 },
				tags: { 'http.method': 'GET', 'http.path': '/users/42', error: 'connection reset' },
				annotations: [{ timestamp: nowUs + 10, value: 'ws' }, { timestamp: nowUs + 12000, value: 'wr' }],
			},
			{
				traceId: trace64, id: serverId, parentId: clientId, name: 'query users', kind: 'SERVER', shared: true,
				timestamp: nowUs + 100, duration: 9000,
				localEndpoint: { serviceName: 'users-db' },
				tags: { 'db.statement': 'select 1' },
			},
			{
				traceId: trace64, id: localId, parentId: serverId, name: 'parse row',
				timestamp: nowUs + 200, duration: 1,
				localEndpoint: { serviceName: 'users-db' },
			},
		];
		const fullId = trace64.padStart(32, '0');

		before(async () => {
			const r = await request(server.url('zipkin', '/api/v2/spans'), {
				method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)),
			});
			assert.equal(r.status, 202, describeResponse(r));
		});

		test('64-bit trace ids are left-padded; services, kinds, parents', async () => {
			const { doc } = await readNative(server, fullId);
			assert.equal(doc.spanCount, 3);
			assert.equal(doc.rootName, 'get /users/{id}');
			assert.equal(doc.rootServiceName, 'frontend');
			const byId = new Map(doc.spans.map((s) => [s.spanId, s]));
			assert.equal(byId.get(clientId).service, 'frontend');
			assert.equal(byId.get(clientId).kind, 'client');
			assert.equal(byId.get(serverId).service, 'users-db');
			assert.equal(byId.get(serverId).kind, 'server');
			assert.equal(byId.get(serverId).parentSpanId, clientId);
			assert.ok(['internal', 'unspecified'].includes(byId.get(localId).kind));
			assert.equal(byId.get(localId).parentSpanId, serverId);
			assert.equal(byId.get(localId).endTimeUnixNano, (BigInt(nowUs + 201) * 1000n).toString(), 'duration 1 µs');
			assert.equal(byId.get(clientId).startTimeUnixNano, (BigInt(nowUs) * 1000n).toString());
			assert.equal(byId.get(clientId).endTimeUnixNano, (BigInt(nowUs + 12345) * 1000n).toString());
			assert.equal(byId.get(clientId).durationMs, 12.345);
		});

		test('remote endpoint becomes peer.service (and the peer address)', async () => {
			const { doc } = await readNative(server, fullId);
			const client = doc.spans.find((s) => s.spanId === clientId);
			const attrs = attrMap(client.attributes);
			assert.deepEqual(attrs.get('peer.service'), { string: 'users-db' });
			const values = [...attrs.values()].map((v) => JSON.stringify(v));
			assert.ok(values.includes(JSON.stringify({ string: '192.0.2.7' })), `no attribute holds the remote ipv4: ${JSON.stringify([...attrs])}`);
			assert.ok(values.includes(JSON.stringify({ int: '5432' })) || values.includes(JSON.stringify({ string: '5432' })), 'no attribute holds the remote port');
			assert.deepEqual(attrs.get('http.path'), { string: '/users/42' });
			assert.equal(client.status.code, 'error');
			assert.deepEqual(client.events.map((e) => [e.name, e.timeUnixNano]), [['ws', (BigInt(nowUs + 10) * 1000n).toString()], ['wr', (BigInt(nowUs + 12000) * 1000n).toString()]]);
			const res = doc.resources[client.resource];
			assert.equal(attrMap(res.attributes).get('service.name').string, 'frontend');
		});

		test('the Jaeger view has two processes and the CHILD_OF chain', async () => {
			const jt = await readJaeger(server, fullId);
			const names = Object.values(jt.processes).map((p) => p.serviceName).sort();
			assert.deepEqual([...new Set(names)], ['frontend', 'users-db']);
			const srv = jt.spans.find((s) => s.spanID === serverId);
			assert.ok(srv.references.some((r) => r.refType === 'CHILD_OF' && r.spanID === clientId));
			const cl = jt.spans.find((s) => s.spanID === clientId);
			assert.equal(cl.startTime, nowUs);
			assert.equal(cl.duration, 12345);
			assert.equal(cl.tags.find((t) => t.key === 'span.kind').value, KIND_NAMES[3]);
			assert.equal(cl.tags.find((t) => t.key === 'peer.service').value, 'users-db');
		});
	});

	test('SIGTERM exits 0 with no sanitizer report', async () => {
		assert.deepEqual(await server.stopClean(), []);
	});
});
