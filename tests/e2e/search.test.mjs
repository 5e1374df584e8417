// TraceQL search end to end: clew gen traffic into a server whose small head
// is cut into blocks (so both blocks and the head are searched), then
// /api/search, the tag APIs and `clew query`, checked against an independent
// evaluation in JavaScript over the same spans (the `clew gen --out` file of
// the same arguments, decoded with protobufjs).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { getJson } from './lib/http.mjs';
import { decode, ExportTraceServiceRequest } from './lib/proto.mjs';
import { CLEW_BIN, skipReason, startClew, sleep } from './lib/server.mjs';

const GEN = ['--rate', 'max', '--spans', '20000', '--seed', '5', '--start', '2026-01-01T00:00:00Z',
	'--fault', 'bad-deploy:start=0s,duration=1h'];

const hex = (b) => Buffer.from(b).toString('hex');
const trim = (h) => h.replace(/^0+(?=.)/, '');

function loadTraces(file) {
	const buf = readFileSync(file);
	const traces = new Map();
	for (let off = 0; off < buf.length;) {
		const len = buf.readUInt32LE(off);
		const req = decode(ExportTraceServiceRequest, buf.subarray(off + 4, off + 4 + len));
		off += 4 + len;
		for (const rs of req.resourceSpans) {
			const res = Object.fromEntries((rs.resource.attributes || []).map((kv) => [kv.key, kv.value]));
			for (const ss of rs.scopeSpans) {
				for (const s of ss.spans) {
					const id = trim(hex(s.traceId));
					if (!traces.has(id)) traces.set(id, []);
					traces.get(id).push({
						id: hex(s.spanId),
						parent: s.parentSpanId && s.parentSpanId.length ? hex(s.parentSpanId) : '',
						name: s.name,
						error: !!(s.status && s.status.code === 2),
						res,
						attrs: Object.fromEntries((s.attributes || []).map((kv) => [kv.key, kv.value])),
					});
				}
			}
		}
	}
	return traces;
}

const str = (v) => (v && typeof v.stringValue === 'string' ? v.stringValue : undefined);

// Trace id -> matched span ids for a per-span predicate.
function filterSpans(traces, pred) {
	const out = new Map();
	for (const [id, spans] of traces) {
		const m = spans.filter(pred).map((s) => s.id);
		if (m.length) out.set(id, new Set(m));
	}
	return out;
}

async function search(server, q, extra = '') {
	const r = await getJson(server.url('http', `/api/search?q=${encodeURIComponent(q)}&limit=100000&spss=100000${extra}`));
	assert.equal(r.status, 200, `${q}: ${r.text.slice(0, 300)}`);
	return r.json;
}

function matchedOf(doc) {
	const out = new Map();
	for (const t of doc.traces) {
		const ids = new Set();
		for (const ss of t.spanSets) for (const s of ss.spans) ids.add(s.spanID);
		out.set(t.traceID, ids);
	}
	return out;
}

function sameMatches(got, want, what) {
	assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${what}: the traces`);
	for (const [id, spans] of want) assert.deepEqual([...got.get(id)].sort(), [...spans].sort(), `${what}: spans of ${id}`);
}

test('TraceQL search over blocks and the head agrees with an independent evaluation', { skip: skipReason }, async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'clew-search-'));
	const server = await startClew({ args: ['--retention', '0', '--head-max-bytes', '1M'] });
	try {
		const file = path.join(dir, 'gen.otlp');
		execFileSync(CLEW_BIN, ['gen', '--out', file, ...GEN], { stdio: 'ignore' });
		execFileSync(CLEW_BIN, ['gen', '--target', server.url('otlpHttp'), ...GEN], { stdio: 'ignore' });
		const traces = loadTraces(file);
		let nspans = 0;
		for (const s of traces.values()) nspans += s.length;
		// wait until every span is queryable
		for (let i = 0; i < 100; i++) {
			const all = await search(server, '{}');
			const n = all.traces.reduce((a, t) => a + t.spanSets[0].matched, 0);
			if (n === nspans) break;
			await sleep(100);
		}
		const metrics = await (await fetch(server.url('http', '/metrics'))).text();
		assert.match(metrics, /clew_blocks [1-9]/, 'blocks were cut');

		// a filter with a resource attribute and an intrinsic
		let doc = await search(server, '{resource.service.name="accounts" && status=error}');
		let want = filterSpans(traces, (s) => str(s.res['service.name']) === 'accounts' && s.error);
		assert.ok(want.size > 0);
		sameMatches(matchedOf(doc), want, 'accounts errors');
		for (const t of doc.traces) {
			assert.ok(t.rootServiceName && t.startTimeUnixNano && typeof t.durationMs === 'number');
			assert.equal(t.spanSet.matched, t.spanSets[0].matched);
			assert.ok(t.serviceStats.accounts.errorCount >= 1);
		}
		const starts = doc.traces.map((t) => BigInt(t.startTimeUnixNano));
		for (let i = 1; i < starts.length; i++) assert.ok(starts[i - 1] >= starts[i], 'newest first');

		// span attributes in Tempo's shape: OTLP KeyValue with a typed AnyValue
		doc = await search(server, '{span.db.name="accounts_shard_3"} | select(span.db.name)');
		const attrs = doc.traces.flatMap((t) => t.spanSets[0].spans.flatMap((sp) => sp.attributes || []));
		const dbName = attrs.find((kv) => kv.key === 'db.name');
		assert.ok(dbName, 'select() returns the attribute');
		assert.deepEqual(dbName.value, { stringValue: 'accounts_shard_3' });

		// structural: spans of one database with an ancestor
		doc = await search(server, '{} >> {span.db.name="accounts_shard_3"}');
		want = filterSpans(traces, (s) => str(s.attrs['db.name']) === 'accounts_shard_3' && s.parent !== '');
		assert.ok(want.size > 0);
		sameMatches(matchedOf(doc), want, 'descendants');

		// unscoped attribute and regex
		doc = await search(server, '{.db.name =~ "accounts_shard_[0-2]"}');
		want = filterSpans(traces, (s) => /^accounts_shard_[0-2]$/.test(str(s.attrs['db.name']) ?? str(s.res['db.name']) ?? ''));
		sameMatches(matchedOf(doc), want, 'regex');

		// count() over whole traces
		doc = await search(server, '{} | count() > 20');
		const big = [...traces].filter(([, s]) => s.length > 20).map(([id]) => id).sort();
		assert.ok(big.length > 0);
		assert.deepEqual(doc.traces.map((t) => t.traceID).sort(), big);

		// limit: newest first, at most limit
		let r = await getJson(server.url('http', '/api/search?q=%7B%7D&limit=5'));
		assert.equal(r.json.traces.length, 5);
		assert.equal(r.json.traces[0].spanSets[0].spans.length, 3, 'spss defaults to 3');

		// errors
		r = await getJson(server.url('http', `/api/search?q=${encodeURIComponent('{ .a = }')}`));
		assert.equal(r.status, 400);
		assert.match(r.json.error.message, /^1:\d+: /);
		r = await getJson(server.url('http', `/api/search?q=${encodeURIComponent('{} | rate()')}`));
		assert.equal(r.status, 400);
		assert.match(r.json.error.message, /metrics\/query_range/);
		r = await getJson(server.url('http', `/api/search?q=${encodeURIComponent('{ name =~ "(" }')}`));
		assert.equal(r.status, 400);
		r = await getJson(server.url('http', '/api/search?q=%7B%7D&limit=-1'));
		assert.equal(r.status, 400);

		// the legacy tags form
		r = await getJson(server.url('http', '/api/search?tags=service.name%3Daccounts&limit=100000'));
		assert.equal(r.status, 200);
		want = filterSpans(traces, (s) => str(s.attrs['service.name'] ?? s.res['service.name']) === 'accounts');
		assert.equal(r.json.traces.length, want.size);

		// tags and tag values
		r = await getJson(server.url('http', '/api/search/tags'));
		assert.ok(r.json.tagNames.includes('service.name') && r.json.tagNames.includes('db.name'));
		r = await getJson(server.url('http', '/api/v2/search/tags'));
		const scopes = Object.fromEntries(r.json.scopes.map((s) => [s.name, s.tags]));
		assert.ok(scopes.resource.includes('service.name'));
		assert.ok(scopes.span.includes('db.name'));
		assert.ok(scopes.intrinsic.includes('duration'));
		r = await getJson(server.url('http', '/api/search/tag/service.name/values'));
		assert.ok(r.json.tagValues.includes('accounts'));
		r = await getJson(server.url('http', `/api/v2/search/tag/${encodeURIComponent(encodeURIComponent('resource.service.name'))}/values`));
		assert.ok(r.json.tagValues.some((v) => v.type === 'string' && v.value === 'accounts'));
		r = await getJson(server.url('http', `/api/v2/search/tag/status/values`));
		assert.ok(r.json.tagValues.some((v) => v.value === 'error'));

		// clew query
		const out = execFileSync(CLEW_BIN, ['query', '--server', server.url('http'), '--all', '--limit', '3',
			'{resource.service.name="accounts" && status=error}'], { encoding: 'utf8' });
		assert.match(out, /TRACE ID/);
		assert.match(out, /3 traces|[0-3] traces?/);
		const js = JSON.parse(execFileSync(CLEW_BIN, ['query', '--server', server.url('http'), '--all', '--json',
			'{} | count() > 20'], { encoding: 'utf8' }));
		assert.ok(js.traces.length > 0);
		const bad = spawnSync(CLEW_BIN, ['query', '--server', server.url('http'), '{ .a = }'], { encoding: 'utf8' });
		assert.notEqual(bad.status, 0);
		assert.match(bad.stderr, /400/);
	} finally {
		await server.stop();
		rmSync(dir, { recursive: true, force: true });
	}
});
