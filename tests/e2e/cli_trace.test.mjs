// `clew trace ID` end to end: a hand-built trace of known shape (a root, two
// children in reverse order of arrival, a grandchild with an error, an
// orphan whose parent never arrived) is sent over OTLP/JSON, then printed
// by the CLI: the tree's structure, order, offsets, durations, waterfall,
// error mark, --attrs, --json, and the errors (bad id, not found, server
// down) with their exit statuses and advice.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';

import { request, getJsonUntilFound, describe as describeResponse } from './lib/http.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const ID = {
	root: '1000000000000001', db: '2000000000000002', cache: '3000000000000003',
	query: '4000000000000004', orphan: '5000000000000005', missing: '6000000000000006',
};
const T0 = BigInt(Date.now() - 60000) * 1000000n; // a minute ago, in ns
const MS = 1000000n;

function span(id, parent, name, kind, startMs, endMs, extra = {}) {
	return {
		traceId: TRACE, spanId: id, ...(parent ? { parentSpanId: parent } : {}), name, kind,
		startTimeUnixNano: String(T0 + BigInt(startMs) * MS), endTimeUnixNano: String(T0 + BigInt(endMs) * MS),
		attributes: extra.attributes || [], ...(extra.status ? { status: extra.status } : {}),
	};
}

function otlp(service, spans) {
	return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
		scopeSpans: [{ scope: { name: 'e2e' }, spans }] }] };
}

// The services and spans, sent in an order unlike the tree's.
const BATCHES = [
	otlp('storage', [
		span(ID.query, ID.db, 'SELECT items', 3, 25, 70, { status: { code: 2, message: 'deadlock detected' },
			attributes: [{ key: 'db.statement', value: { stringValue: 'SELECT * FROM items' } }] }),
	]),
	otlp('shop', [
		span(ID.db, ID.root, 'load items', 1, 20, 80),
		span(ID.cache, ID.root, 'cache lookup', 3, 5, 15, { attributes: [{ key: 'cache.hit', value: { boolValue: false } }] }),
		span(ID.root, '', 'GET /items', 2, 0, 100, { attributes: [
			{ key: 'http.route', value: { stringValue: '/items' } },
			{ key: 'http.response.status_code', value: { intValue: '200' } }] }),
		span(ID.orphan, ID.missing, 'late callback', 5, 90, 95),
	]),
];

function clew(...args) {
	const r = spawnSync(CLEW_BIN, ['trace', ...args], { encoding: 'utf8', timeout: 30000 });
	return { status: r.status, out: r.stdout, err: r.stderr };
}

// A TCP port nothing listens on.
async function deadPort() {
	const srv = createServer();
	await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
	const port = srv.address().port;
	await new Promise((resolve) => srv.close(resolve));
	return port;
}

describe('clew trace', { skip: skipReason, timeout: 120000 }, () => {
	let server;
	let base;

	before(async () => {
		server = await startClew();
		base = server.url('http');
		for (const b of BATCHES) {
			const r = await request(server.url('otlpHttp', '/v1/traces'), {
				method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(b)),
			});
			assert.equal(r.status, 200, describeResponse(r));
		}
		const r = await getJsonUntilFound(server.url('http', `/api/v1/traces/${TRACE}`));
		assert.equal(r.status, 200, describeResponse(r));
		assert.equal(r.json.spanCount, 5);
	});

	after(async () => {
		if (server) await server.cleanup();
	});

	test('prints the tree in order, with offsets, durations, bars, kinds and the error', () => {
		const r = clew('--server', base, TRACE);
		assert.equal(r.status, 0, r.err);
		const lines = r.out.split('\n');
		assert.match(lines[0], new RegExp(`^trace ${TRACE}: 5 spans, 2 services, 1 error, 100\\.00ms, started \\d{4}-\\d\\d-\\d\\d `));
		const spanLines = lines.filter((l) => / \[(server|client|internal|consumer|producer|unspecified)\]/.test(l));
		const names = spanLines.map((l) => l.replace(/^.*\|  /, ''));
		assert.deepEqual(names.map((n) => n.replace(/ \[.*$/, '')), [
			'shop: GET /items',
			'+- shop: cache lookup',
			'`- shop: load items',
			'   `- storage: SELECT items',
			'shop: late callback',
		], r.out);
		assert.match(names[0], /\[server\]$/);
		assert.match(names[1], /\[client\]$/);
		assert.match(names[2], /\[internal\]$/);
		assert.match(names[3], /\[client\]  ERROR: deadlock detected$/);
		assert.match(names[4], /\[consumer\]  \(parent 6000000000000006 not in the trace\)$/);
		for (const n of names.slice(0, 3)) assert.doesNotMatch(n, /ERROR/);
		// offsets and durations
		const cols = spanLines.map((l) => l.trim().split(/\s+/).slice(0, 2));
		assert.deepEqual(cols, [['0us', '100.00ms'], ['5.00ms', '10.00ms'], ['20.00ms', '60.00ms'],
			['25.00ms', '45.00ms'], ['90.00ms', '5.00ms']]);
		// the waterfall: 30 columns, the root fills it, the cache lookup sits in its first fifth
		const bars = spanLines.map((l) => /\|([# ]{30})\|/.exec(l)[1]);
		assert.equal(bars[0], '#'.repeat(30));
		assert.equal(bars[1], `${' '.repeat(1)}${'#'.repeat(4)}${' '.repeat(25)}`);
		assert.equal(bars[2].indexOf('#'), 6);
		assert.equal(bars[2].lastIndexOf('#'), 23);
		assert.ok(bars[4].trimEnd().endsWith('#') && bars[4].indexOf('#') === 27, bars[4]);
	});

	test('--attrs prints every span attribute under its span; --width 0 drops the bar', () => {
		const r = clew('--server', `${base}/`, '--attrs', '--width', '0', TRACE);
		assert.equal(r.status, 0, r.err);
		assert.doesNotMatch(r.out, /\|[# ]+\|/);
		const lines = r.out.split('\n');
		const at = (s) => lines.findIndex((l) => l.includes(s));
		assert.ok(at('shop: GET /items') < at('http.route = "/items"'));
		assert.ok(at('http.route = "/items"') < at('cache lookup'));
		assert.ok(at('http.response.status_code = 200') > 0, r.out);
		assert.ok(at('cache.hit = false') > at('cache lookup'));
		assert.ok(at('db.statement = "SELECT * FROM items"') > at('SELECT items'));
	});

	test('a trace id without its leading zeros and in upper case is the same trace', () => {
		const r = clew('--server', base, TRACE.toUpperCase());
		assert.equal(r.status, 0, r.err);
		assert.match(r.out, /shop: GET \/items/);
	});

	test('--json prints the native answer', () => {
		const r = clew('--server', base, '--json', TRACE);
		assert.equal(r.status, 0, r.err);
		const doc = JSON.parse(r.out);
		assert.equal(doc.traceId, TRACE);
		assert.equal(doc.spans.length, 5);
	});

	test('a bad id says what an id looks like (exit 2)', () => {
		for (const bad of ['xyz', '0af7651916cd43dd8448eb211c80319c0', '12-34', '']) {
			const r = clew('--server', base, bad);
			assert.equal(r.status, 2, `${bad}: ${r.err}`);
			if (bad) assert.match(r.err, /1 to 32 hexadecimal digits/, r.err);
		}
		const none = clew('--server', base);
		assert.equal(none.status, 2);
		assert.match(none.err, /trace id/);
		assert.equal(clew('--bogus', TRACE).status, 2);
		assert.equal(clew('--width', 'x', TRACE).status, 2);
	});

	test('an unknown trace is "not found" (exit 1)', () => {
		const r = clew('--server', base, 'abcdef0123456789abcdef0123456789');
		assert.equal(r.status, 1);
		assert.match(r.err, /trace abcdef0123456789abcdef0123456789 not found/);
		assert.equal(r.out, '');
	});

	test('a server that is down says how to point --server (exit 1)', async () => {
		const port = await deadPort();
		const r = clew('--server', `http://127.0.0.1:${port}`, TRACE);
		assert.equal(r.status, 1);
		assert.match(r.err, /cannot reach a clew server at http:\/\/127\.0\.0\.1:\d+/);
		assert.match(r.err, /--server/);
	});

	test('--help', () => {
		const r = clew('--help');
		assert.equal(r.status, 0);
		assert.match(r.out, /usage: clew trace/);
		assert.match(r.out, /--attrs/);
	});
});
