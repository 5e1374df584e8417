// The Jaeger query API (/jaeger/api/..., legacy and api_v3) and the Zipkin
// v2 read API (/zipkin/api/v2/...) end to end: clew gen traffic and a few
// hand-made traces go into a server whose small head is cut into blocks;
// every endpoint is then checked against the same spans decoded from the
// `clew gen --out` file of identical arguments, and a span sent through the
// Zipkin receiver must come back from the Zipkin API with equal fields.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { getJson, request } from './lib/http.mjs';
import { encodeJson, makeSpan, randomSpanId, randomTraceId } from './lib/otlpgen.mjs';
import { decode, ExportTraceServiceRequest } from './lib/proto.mjs';
import { CLEW_BIN, skipReason, startClew, sleep } from './lib/server.mjs';

const START = new Date(Date.now() - 10 * 60 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
const GEN = ['--rate', 'max', '--spans', '15000', '--seed', '9', '--start', START];
const hex = (b) => Buffer.from(b).toString('hex');
const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

function anyText(v) {
	if (!v) return undefined;
	if (typeof v.stringValue === 'string') return v.stringValue;
	if (v.intValue !== undefined && v.intValue !== null) return String(v.intValue);
	if (typeof v.boolValue === 'boolean') return String(v.boolValue);
	if (typeof v.doubleValue === 'number') return String(v.doubleValue);
	return undefined;
}

// Every span of the file: { trace, id, parent, name, kind, service, startUs, durNs, error, attrs }.
function loadSpans(file) {
	const buf = readFileSync(file);
	const spans = [];
	for (let off = 0; off < buf.length;) {
		const len = buf.readUInt32LE(off);
		const req = decode(ExportTraceServiceRequest, buf.subarray(off + 4, off + 4 + len));
		off += 4 + len;
		for (const rs of req.resourceSpans) {
			const res = Object.fromEntries((rs.resource.attributes || []).map((kv) => [kv.key, anyText(kv.value)]));
			for (const ss of rs.scopeSpans) {
				for (const s of ss.spans) {
					const start = BigInt(s.startTimeUnixNano.toString());
					const end = BigInt(s.endTimeUnixNano.toString());
					spans.push({
						trace: hex(s.traceId),
						id: hex(s.spanId),
						parent: s.parentSpanId && s.parentSpanId.length ? hex(s.parentSpanId) : '',
						name: s.name,
						kind: KINDS[s.kind || 0],
						service: res['service.name'],
						durNs: end - start,
						error: !!(s.status && s.status.code === 2),
						attrs: Object.fromEntries((s.attributes || []).map((kv) => [kv.key, anyText(kv.value)])),
					});
				}
			}
		}
	}
	return spans;
}

const uniqSorted = (xs) => [...new Set(xs)].sort();

// Service -> Map(child service -> calls): parent/child pairs across services,
// plus client/producer spans naming a peer.service with no span under them.
function dependencies(spans) {
	const byId = new Map(spans.map((s) => [`${s.trace}/${s.id}`, s]));
	const linked = new Set();
	const edges = new Map();
	const add = (p, c) => edges.set(`${p}>${c}`, (edges.get(`${p}>${c}`) || 0) + 1);
	for (const s of spans) {
		const p = s.parent && byId.get(`${s.trace}/${s.parent}`);
		if (!p || p.service === s.service) continue;
		linked.add(`${p.trace}/${p.id}`);
		add(p.service, s.service);
	}
	for (const s of spans) {
		if (linked.has(`${s.trace}/${s.id}`) || (s.kind !== 'client' && s.kind !== 'producer')) continue;
		const peer = s.attrs['peer.service'];
		if (peer && peer !== s.service) add(s.service, peer);
	}
	return edges;
}

async function ok(url, what) {
	const r = await getJson(url);
	assert.equal(r.status, 200, `${what}: ${r.text.slice(0, 300)}`);
	return r.json;
}

test('Jaeger and Zipkin read APIs agree with the generated traffic', { skip: skipReason, timeout: 240000 }, async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'clew-jz-'));
	const server = await startClew({ args: ['--retention', '0', '--head-max-bytes', '1M'] });
	const J = (p) => server.url('http', `/jaeger/api${p}`);
	const Z = (p) => server.url('http', `/zipkin/api/v2${p}`);
	try {
		const file = path.join(dir, 'gen.otlp');
		execFileSync(CLEW_BIN, ['gen', '--out', file, ...GEN], { stdio: 'ignore' });
		execFileSync(CLEW_BIN, ['gen', '--target', server.url('otlpHttp'), ...GEN], { stdio: 'ignore' });
		const spans = loadSpans(file);
		const traceIds = new Set(spans.map((s) => s.trace));

		// hand-made: http.status_code 500 as an int, as a string, and 200; a
		// name that needs quoting in TraceQL
		const nowNs = BigInt(Date.now()) * 1000000n;
		const hand = [500, '500', 200].map((code, i) => {
			const traceId = randomTraceId();
			const value = typeof code === 'number' ? { intValue: String(code) } : { stringValue: code };
			return makeSpan({
				traceId, name: i === 2 ? 'say "hi" \\ now' : 'GET /x', kind: 2,
				startNs: nowNs - 5000000000n, endNs: nowNs - 5000000000n + BigInt(i + 1) * 200000000n,
				attributes: [{ key: 'http.status_code', value }],
			});
		});
		let r = await request(server.url('otlpHttp', '/v1/traces'), {
			headers: { 'content-type': 'application/json' }, body: encodeJson(hand, 'e2e-billing'),
		});
		assert.equal(r.status, 200);

		// a span through the Zipkin receiver
		const zkSpan = {
			traceId: randomTraceId().slice(16), id: randomSpanId(), parentId: randomSpanId(), kind: 'CLIENT',
			name: 'get /api/zk', timestamp: Date.now() * 1000 - 3000000, duration: 1431,
			localEndpoint: { serviceName: 'zk-frontend', ipv4: '192.168.99.1', port: 3306 },
			remoteEndpoint: { serviceName: 'zk-db', ipv6: '::1', port: 5432 },
			annotations: [{ timestamp: Date.now() * 1000 - 2999000, value: 'wire send' }],
			tags: { 'http.method': 'GET', 'http.path': '/api/zk', error: 'timeout' },
		};
		r = await request(server.url('zipkin', '/api/v2/spans'), {
			headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify([zkSpan])),
		});
		assert.equal(r.status, 202);

		// wait until every generated trace is searchable
		for (let i = 0; i < 100; i++) {
			const d = await ok(J('/traces?service=edge-gateway&limit=100000'), 'wait');
			const all = await ok(server.url('http', '/api/search?q=%7B%7D&limit=100000'), 'all');
			if (all.traces.length >= traceIds.size + 4 && d.data.length > 0) break;
			await sleep(100);
		}

		// ---- services and operations
		const services = uniqSorted([...spans.map((s) => s.service), 'e2e-billing', 'zk-frontend']);
		let doc = await ok(J('/services'), 'services');
		assert.deepEqual(doc.data, services);
		assert.equal(doc.total, services.length);
		assert.equal(doc.errors, null);
		assert.deepEqual((await ok(J('/v3/services'), 'v3 services')).services, services);
		assert.deepEqual(await ok(Z('/services'), 'zipkin services'), services);

		for (const svc of ['edge-gateway', 'accounts', 'billing']) {
			const mine = spans.filter((s) => s.service === svc);
			assert.ok(mine.length > 0, svc);
			const names = uniqSorted(mine.map((s) => s.name));
			doc = await ok(J(`/services/${encodeURIComponent(svc)}/operations`), `${svc} operations`);
			assert.deepEqual(doc.data, names, `${svc} operations`);
			assert.deepEqual(await ok(Z(`/spans?serviceName=${svc}`), 'zipkin spans'), names);
			const pairs = uniqSorted(mine.map((s) => `${s.kind}|${s.name}`));
			doc = await ok(J(`/operations?service=${svc}`), `${svc} operations with kinds`);
			assert.deepEqual(uniqSorted(doc.data.map((o) => `${o.spanKind || 'unspecified'}|${o.name}`)), pairs);
			doc = await ok(J(`/v3/operations?service=${svc}&spanKind=server`), 'v3 operations');
			assert.deepEqual(doc.operations.map((o) => o.name).sort(),
				uniqSorted(mine.filter((s) => s.kind === 'server').map((s) => s.name)));
			assert.ok(doc.operations.every((o) => o.spanKind === 'server'));
			const remote = uniqSorted(mine.map((s) => s.attrs['peer.service']).filter((x) => x));
			assert.deepEqual(await ok(Z(`/remoteServices?serviceName=${svc}`), 'remote services'), remote);
		}

		// ---- search: service + operation + tag + span duration on one span
		const gw = spans.filter((s) => s.service === 'edge-gateway' && s.kind === 'server');
		const op = gw[0].name;
		const status = gw[0].attrs['http.response.status_code'];
		assert.ok(status, 'the gateway spans carry http.response.status_code');
		const durs = gw.filter((s) => s.name === op).map((s) => s.durNs).sort((a, b) => (a < b ? -1 : 1));
		const minNs = durs[Math.floor(durs.length / 4)], maxNs = durs[Math.floor((3 * durs.length) / 4)];
		const match = (s) => s.service === 'edge-gateway' && s.name === op && s.attrs['http.response.status_code'] === status &&
			s.durNs >= minNs && s.durNs <= maxNs;
		const want = uniqSorted(spans.filter(match).map((s) => s.trace));
		assert.ok(want.length > 1);
		const q = `service=edge-gateway&operation=${encodeURIComponent(op)}&minDuration=${minNs}ns&maxDuration=${maxNs}ns&limit=100000`;
		doc = await ok(J(`/traces?${q}&tags=${encodeURIComponent(JSON.stringify({ 'http.response.status_code': status }))}`), 'search');
		assert.deepEqual(doc.data.map((t) => t.traceID).sort(), want);
		for (const t of doc.data) {
			assert.ok(t.spans.length > 1 && t.processes, 'whole traces');
			assert.equal(t.spans.length, spans.filter((s) => s.trace === t.traceID).length, 'every span of the trace');
		}
		doc = await ok(J(`/traces?${q}&tag=${encodeURIComponent(`http.response.status_code:${status}`)}`), 'search by tag=');
		assert.deepEqual(doc.data.map((t) => t.traceID).sort(), want);
		// limit, and the time range in µs
		doc = await ok(J(`/traces?service=edge-gateway&limit=3`), 'limit');
		assert.equal(doc.data.length, 3);
		const future = (Date.now() + 3600000) * 1000;
		doc = await ok(J(`/traces?service=edge-gateway&start=${future}&end=${future + 1000000}`), 'empty range');
		assert.equal(doc.data.length, 0);

		// numbers match the string or the numeric form; quoting of names
		doc = await ok(J(`/traces?service=e2e-billing&tags=${encodeURIComponent('{"http.status_code":"500"}')}`), 'numeric tag');
		assert.deepEqual(doc.data.map((t) => t.traceID).sort(), [hand[0].traceId, hand[1].traceId].sort());
		doc = await ok(J(`/traces?service=e2e-billing&operation=${encodeURIComponent(hand[2].name)}`), 'quoted name');
		assert.deepEqual(doc.data.map((t) => t.traceID), [hand[2].traceId]);
		doc = await ok(J(`/traces?service=e2e-billing&minDuration=300ms&maxDuration=1s`), 'duration');
		assert.deepEqual(doc.data.map((t) => t.traceID).sort(), [hand[1].traceId, hand[2].traceId].sort());
		doc = await ok(J(`/traces?traceID=${hand[0].traceId}&traceID=${hand[2].traceId}&traceID=0123`), 'by ids');
		assert.deepEqual(doc.data.map((t) => t.traceID).sort(), [hand[0].traceId, hand[2].traceId].sort());

		// api_v3 search: every matching trace's resource spans
		const v3q = `query.service_name=edge-gateway&query.operation_name=${encodeURIComponent(op)}` +
			`&query.duration_min=${minNs}ns&query.duration_max=${maxNs}ns&query.num_traces=100000` +
			`&query.start_time_min=${START}&query.startTimeMax=${new Date(Date.now() + 60000).toISOString()}` +
			`&query.attributes=${encodeURIComponent(JSON.stringify({ 'http.response.status_code': status }))}`;
		doc = await ok(J(`/v3/traces?${v3q}`), 'v3 search');
		const v3ids = new Set();
		let v3spans = 0;
		for (const rs of doc.result.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) {
			v3ids.add(s.traceId);
			v3spans++;
		}
		assert.deepEqual([...v3ids].sort(), want);
		assert.equal(v3spans, spans.filter((s) => v3ids.has(s.trace)).length);

		// ---- dependencies
		const deps = dependencies(spans);
		const endTs = Date.now() + 60000;
		doc = await ok(J(`/dependencies?endTs=${endTs}&lookback=3600000`), 'dependencies');
		const got = new Map(doc.data.map((d) => [`${d.parent}>${d.child}`, d.callCount]));
		const gwEdges = [...deps].filter(([k]) => k.startsWith('edge-gateway>'));
		assert.ok(gwEdges.length > 0, 'the gateway calls backends');
		for (const [k, n] of deps) {
			assert.ok(got.has(k), `edge ${k} (${n} calls)`);
			assert.ok(got.get(k) >= n * 0.9 && got.get(k) <= n, `edge ${k}: ${got.get(k)} calls, expected about ${n}`);
		}
		assert.equal(got.get('zk-frontend>zk-db'), 1, 'a Zipkin client span with a remote endpoint');
		const zdeps = await ok(Z(`/dependencies?endTs=${endTs}&lookback=3600000`), 'zipkin dependencies');
		assert.deepEqual(zdeps.map((d) => [`${d.parent}>${d.child}`, d.callCount]), doc.data.map((d) => [`${d.parent}>${d.child}`, d.callCount]));
		assert.equal(zdeps.find((d) => d.parent === 'zk-frontend').errorCount, 1);
		doc = await ok(J(`/dependencies?endTs=1000&lookback=1000`), 'old range');
		assert.deepEqual(doc.data, []);

		// ---- Zipkin: round trip, searches, many, autocomplete
		const back = await ok(Z(`/trace/${zkSpan.traceId}`), 'zipkin trace');
		assert.equal(back.length, 1);
		assert.deepEqual(back[0], zkSpan);
		let zt = await ok(Z(`/traces?serviceName=zk-frontend&spanName=${encodeURIComponent('get /api/zk')}&annotationQuery=${encodeURIComponent('http.method=GET and wire send and error')}&minDuration=1000&maxDuration=2000`), 'zipkin traces');
		assert.deepEqual(zt, [[zkSpan]]);
		zt = await ok(Z(`/traces?serviceName=zk-frontend&minDuration=2000`), 'zipkin traces, too slow');
		assert.deepEqual(zt, []);
		zt = await ok(Z(`/traces?serviceName=zk-frontend&remoteServiceName=zk-db`), 'zipkin remote service');
		assert.equal(zt.length, 1);
		zt = await ok(Z(`/traces?serviceName=edge-gateway&limit=4`), 'zipkin limit');
		assert.equal(zt.length, 4);
		for (const t of zt) {
			assert.equal(t.length, spans.filter((s) => s.trace === t[0].traceId).length, 'whole traces');
			for (const s of t) assert.ok(/^[0-9a-f]{32}$/.test(s.traceId) && /^[0-9a-f]{16}$/.test(s.id) && s.localEndpoint.serviceName);
		}
		zt = await ok(Z('/traces'), 'zipkin default limit');
		assert.equal(zt.length, 10);
		zt = await ok(Z(`/traceMany?traceIds=${zkSpan.traceId},${hand[0].traceId},00000000000000000000000000000abc`), 'traceMany');
		assert.equal(zt.length, 2);
		assert.equal(zt[1][0].traceId, hand[0].traceId);
		assert.deepEqual(zt[1][0].tags, { 'http.status_code': '500', 'otel.scope.name': 'clew-e2e-raw', 'otel.scope.version': '1' });
		assert.ok((await ok(Z('/autocompleteKeys'), 'keys')).includes('http.method'));
		assert.deepEqual(await ok(Z('/autocompleteValues?key=http.method'), 'values'), ['GET']);

		// ---- bad input
		const bad = [
			[J('/traces?operation=x'), 400, 'legacy'],
			[J('/traces?service=a&minDuration=fast'), 400, 'legacy'],
			[J('/traces?service=a&tags=%7Bnot'), 400, 'legacy'],
			[J('/traces?service=a&tags=%5B1%5D'), 400, 'legacy'],
			[J('/traces?service=a&tag=novalue'), 400, 'legacy'],
			[J('/traces?service=a&limit=-1'), 400, 'legacy'],
			[J('/traces?service=a&start=20&end=10'), 400, 'legacy'],
			[J('/traces?traceID=xyz'), 400, 'legacy'],
			[J('/operations'), 400, 'legacy'],
			[J('/operations?service=a&spanKind=sideways'), 400, 'legacy'],
			[J('/dependencies?endTs=soon'), 400, 'legacy'],
			[J('/v3/traces?query.start_time_min=yesterday'), 400, 'v3'],
			[J('/v3/traces?query.duration_min=10parsecs'), 400, 'v3'],
			[J('/v3/operations'), 400, 'v3'],
			[Z('/trace/nothex'), 400, 'zipkin'],
			[Z('/trace/00000000000000000000000000000abc'), 404, 'zipkin'],
			[Z('/spans'), 400, 'zipkin'],
			[Z('/traces?limit=0'), 400, 'zipkin'],
			[Z('/traces?minDuration=-5'), 400, 'zipkin'],
			[Z('/traces?annotationQuery=%3Dx'), 400, 'zipkin'],
			[Z('/traceMany'), 400, 'zipkin'],
			[Z('/dependencies'), 400, 'zipkin'],
			[Z('/autocompleteValues'), 400, 'zipkin'],
			[Z('/nothing'), 404, 'zipkin'],
		];
		for (const [url, code, shape] of bad) {
			const b = await getJson(url);
			assert.equal(b.status, code, `${url}: ${b.text}`);
			if (shape === 'legacy') {
				assert.equal(b.json.data, null);
				assert.equal(b.json.errors[0].code, code);
				assert.ok(b.json.errors[0].msg.length > 0);
			} else if (shape === 'v3') {
				assert.equal(b.json.error.httpCode, code);
				assert.ok(b.json.error.message.length > 0);
			} else {
				assert.equal(b.json.error.code, code);
			}
		}
	} finally {
		await server.stop();
		rmSync(dir, { recursive: true, force: true });
	}
});
