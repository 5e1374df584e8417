// GET /api/v1/errors end to end: error spans with known exception events
// (and some without, grouped by their status message) sent over OTLP/HTTP
// JSON; the groups, counts, example messages, last-seen times, example
// traces and operations must be exactly the planted ones, per service and
// overall, within the time range, narrowed by q, the same from the head and
// from a block, and every bad parameter must be refused by name. clew gen's
// failures carry exception events the endpoint groups by type.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { getJson, request } from './lib/http.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

let server;
const NOW = BigInt(Date.now()) * 1000000n;
const MIN = 60n * 1000000000n;
let seq = 0;

const hex = (n, width) => n.toString(16).padStart(width, '0');
const str = (key, value) => ({ key, value: { stringValue: value } });

// One span of its own trace; err: { type, message } for an exception event,
// status: the status message, events: several exception events.
function span({ name = 'GET /a', ago = 1n, error = true, status = '', exceptions = [], attrs = [] }) {
	seq++;
	const end = NOW - ago * MIN;
	return {
		traceId: hex(0xe0000000n + BigInt(seq), 32),
		spanId: hex(0x100n + BigInt(seq), 16),
		name,
		kind: 2,
		startTimeUnixNano: String(end - 5000000n),
		endTimeUnixNano: String(end),
		attributes: attrs,
		status: error ? { code: 2, message: status } : { code: 0 },
		events: exceptions.map((x, i) => ({
			timeUnixNano: String(end - BigInt(exceptions.length - i) * 1000n),
			name: 'exception',
			attributes: [...(x.type !== undefined ? [str('exception.type', x.type)] : []), str('exception.message', x.message)],
		})),
	};
}

function resource(service, spans) {
	return { resource: { attributes: [str('service.name', service)] }, scopeSpans: [{ scope: { name: 'errors-e2e' }, spans }] };
}

const timeout = (message) => ({ type: 'db.Timeout', message });
// the planted spans and what they must come to
const shop = [
	span({ name: 'GET /a', ago: 9n, exceptions: [timeout('timed out after 5s')], attrs: [str('customer.id', 'acct-1')] }),
	span({ name: 'GET /a', ago: 8n, exceptions: [timeout('timed out after 6s')] }),
	span({ name: 'GET /b', ago: 7n, exceptions: [timeout('timed out after 7s')], attrs: [str('customer.id', 'acct-1')] }),
	span({ name: 'GET /b', ago: 6n, exceptions: [timeout('timed out after 8s')] }),
	// thrown twice, retried: counted once; the newest message wins
	span({ name: 'GET /a', ago: 2n, exceptions: [timeout('first try'), timeout('timed out after 9s')] }),
	// two types on one span: one count each
	span({ name: 'POST /c', ago: 4n, exceptions: [{ type: 'ValueError', message: 'bad quantity' }, timeout('and then a timeout')] }),
	span({ name: 'POST /c', ago: 3n, exceptions: [{ type: 'ValueError', message: 'bad price' }] }),
	// no exception event: grouped by status message
	span({ name: 'GET /d', ago: 5n, status: 'upstream said 503' }),
	span({ name: 'GET /d', ago: 4n, status: 'upstream said 503', attrs: [str('customer.id', 'acct-1')] }),
	span({ name: 'GET /e', ago: 3n, status: 'upstream said 503' }),
	span({ name: 'GET /f', ago: 5n }),
	// a handled exception on a span that did not fail: not an error
	span({ name: 'GET /a', ago: 2n, error: false, exceptions: [{ type: 'HandledException', message: 'recovered' }] }),
	// an exception without a type
	span({ name: 'GET /g', ago: 2n, exceptions: [{ message: 'something broke' }] }),
	// two hours ago: outside the last hour
	span({ name: 'GET /a', ago: 120n, exceptions: [{ type: 'OldException', message: 'long ago' }] }),
];
const other = [span({ name: 'consume', ago: 1n, exceptions: [{ type: 'kafka.CommitFailed', message: 'rebalance' }] })];
const weird = [span({ name: 'op', ago: 1n, exceptions: [{ type: 'Quoted', message: 'q' }] })];
const WEIRD = 'we"ird\\svc';

const idOf = (s) => s.traceId;
const EXPECTED_SHOP = [
	{ type: 'db.Timeout', source: 'exception', message: 'timed out after 9s', count: 6, lastSeenSpan: shop[4],
		examples: [shop[4], shop[5], shop[3]], operations: [{ name: 'GET /a', count: 3 }, { name: 'GET /b', count: 2 }, { name: 'POST /c', count: 1 }] },
	{ type: 'upstream said 503', source: 'status', message: 'upstream said 503', count: 3, lastSeenSpan: shop[9],
		examples: [shop[9], shop[8], shop[7]], operations: [{ name: 'GET /d', count: 2 }, { name: 'GET /e', count: 1 }] },
	{ type: 'ValueError', source: 'exception', message: 'bad price', count: 2, lastSeenSpan: shop[6],
		examples: [shop[6], shop[5]], operations: [{ name: 'POST /c', count: 2 }] },
	{ type: '(no type)', source: 'exception', message: 'something broke', count: 1, lastSeenSpan: shop[12],
		examples: [shop[12]], operations: [{ name: 'GET /g', count: 1 }] },
	{ type: '(no message)', source: 'status', message: '', count: 1, lastSeenSpan: shop[10],
		examples: [shop[10]], operations: [{ name: 'GET /f', count: 1 }] },
];

before(async () => {
	if (skipReason) return;
	server = await startClew({ args: ['--wal-sync', 'none'] });
	const body = JSON.stringify({ resourceSpans: [resource('shop', shop), resource('other', other), resource(WEIRD, weird)] });
	const r = await request(server.url('otlpHttp', '/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
	assert.equal(r.status, 200, r.body.toString());
});

after(async () => {
	if (server) {
		const problems = await server.stopClean();
		await server.cleanup();
		assert.deepEqual(problems, []);
	}
});

const lastHour = () => ({ start: String(Math.floor(Date.now() / 1000) - 3600) });

async function errors(params) {
	const r = await getJson(server.url('http', `/api/v1/errors?${new URLSearchParams(params)}`));
	assert.equal(r.status, 200, r.text);
	assert.match(r.headers['content-type'], /json/);
	return r.json;
}

// The last event time of a span (its newest exception, or its end).
function lastSeenMs(s) {
	const ns = s.events.length ? BigInt(s.events[s.events.length - 1].timeUnixNano) : BigInt(s.endTimeUnixNano);
	return Number(ns / 1000000n);
}

function checkShop(j) {
	assert.equal(j.errorSpans, 12, 'failed spans of shop in the last hour');
	assert.equal(j.withException, 8);
	assert.equal(j.types, EXPECTED_SHOP.length);
	assert.deepEqual(j.groups.map((g) => ({ type: g.type, source: g.source, message: g.message, count: g.count, lastSeen: g.lastSeen,
		exampleTraceIds: g.exampleTraceIds, operations: g.operations })),
	EXPECTED_SHOP.map((e) => ({ type: e.type, source: e.source, message: e.message, count: e.count, lastSeen: lastSeenMs(e.lastSeenSpan),
		exampleTraceIds: e.examples.map(idOf), operations: e.operations })));
}

test('a service\'s errors grouped by exception type, status message where none was thrown', { skip: skipReason, timeout: 30000 }, async () => {
	checkShop(await errors({ service: 'shop', ...lastHour() }));
	// no start: the old exception too
	const all = await errors({ service: 'shop' });
	assert.equal(all.types, EXPECTED_SHOP.length + 1);
	assert.ok(all.groups.some((g) => g.type === 'OldException' && g.count === 1));
	// an end before the planted minutes: nothing
	const none = await errors({ service: 'shop', end: String(Math.floor(Date.now() / 1000) - 3 * 3600) });
	assert.deepEqual(none, { errorSpans: 0, withException: 0, types: 0, groups: [] });
	// unknown service: nothing, not an error
	assert.equal((await errors({ service: 'nobody' })).types, 0);
	// every service
	const every = await errors(lastHour());
	assert.equal(every.errorSpans, 14);
	assert.deepEqual(every.groups.map((g) => g.type).sort(), [...EXPECTED_SHOP.map((e) => e.type), 'Quoted', 'kafka.CommitFailed'].sort());
	// a service name that needs escaping in TraceQL
	const w = await errors({ service: WEIRD });
	assert.deepEqual(w.groups.map((g) => [g.type, g.count]), [['Quoted', 1]]);
});

test('limit keeps the largest groups; q narrows the population', { skip: skipReason, timeout: 30000 }, async () => {
	const one = await errors({ service: 'shop', limit: '2', ...lastHour() });
	assert.equal(one.types, EXPECTED_SHOP.length, 'the count of types stays the whole');
	assert.deepEqual(one.groups.map((g) => g.type), ['db.Timeout', 'upstream said 503']);
	// q: the failed ones among its matched spans (a non-error span matching q is not counted)
	const acct = await errors({ q: '{ span.customer.id = "acct-1" }', ...lastHour() });
	assert.equal(acct.errorSpans, 3);
	assert.deepEqual(acct.groups.map((g) => [g.type, g.count, g.operations.map((o) => o.name).join()]),
		[['db.Timeout', 2, 'GET /a,GET /b'], ['upstream said 503', 1, 'GET /d']]);
	const acctShop = await errors({ q: '{ span.customer.id = "acct-1" }', service: 'other', ...lastHour() });
	assert.equal(acctShop.errorSpans, 0, 'service and q together');
});

test('the same answer from a block as from the head', { skip: skipReason, timeout: 30000 }, async () => {
	const r = await request(server.url('http', '/flush'), { method: 'POST' });
	assert.equal(r.status, 204, r.body.toString());
	checkShop(await errors({ service: 'shop', ...lastHour() }));
});

test('bad parameters are refused by name', { skip: skipReason, timeout: 30000 }, async () => {
	const cases = [
		[{ limit: '0' }, /limit/], [{ limit: 'abc' }, /limit/], [{ limit: '100000' }, /limit/], [{ limit: '-1' }, /limit/],
		[{ start: 'yesterday' }, /start/], [{ end: '1.5e3x' }, /end/], [{ start: '2000000000', end: '1000000000' }, /start is after end/],
		[{ q: '{ this is not traceql' }, /1:/], [{ q: '{} | rate()' }, /spanset filter/], [{ service: 'x'.repeat(2000) }, /service/],
	];
	for (const [params, re] of cases) {
		const r = await getJson(server.url('http', `/api/v1/errors?${new URLSearchParams(params)}`));
		assert.equal(r.status, 400, `${JSON.stringify(params).slice(0, 80)}: ${r.text}`);
		assert.match(r.json.error.message, re, JSON.stringify(params).slice(0, 80));
	}
});

test('clew gen\'s failures carry exception events, grouped by their types', { skip: skipReason, timeout: 60000 }, async () => {
	const gen = await startClew({ args: ['--wal-sync', 'none'] });
	try {
		const start = new Date(Date.now() - 10 * 60000).toISOString().replace(/\.\d+Z$/, 'Z');
		const r = spawnSync(CLEW_BIN, ['gen', '--target', gen.url('otlpHttp'), '--rate', 'max', '--clock-rate', '1000',
			'--spans', '30000', '--seed', '5', '--start', start, '--fault', 'bad-deploy:start=0s,duration=1h'],
		{ stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
		assert.equal(r.status, 0, String(r.stderr));
		const j = await (async () => {
			const x = await getJson(gen.url('http', '/api/v1/errors?limit=1000'));
			assert.equal(x.status, 200, x.text);
			return x.json;
		})();
		assert.ok(j.errorSpans > 0, 'clew gen sent failed spans');
		assert.ok(j.withException > 0, 'some with exception events');
		const thrown = j.groups.filter((g) => g.source === 'exception');
		assert.ok(thrown.length > 0);
		for (const g of thrown) {
			assert.match(g.type, /^[\w.$]+$/, `an exception class name: ${g.type}`);
			assert.ok(g.message.length > 0 && g.count > 0 && g.exampleTraceIds.length > 0 && g.operations.length > 0);
		}
		assert.equal(j.groups.reduce((a, g) => a + g.count, 0) >= j.errorSpans, true, 'every failed span is in a group');
		// the bad deploy's planted exception, in the operation it names
		const npe = thrown.find((g) => /NullPointerException/.test(g.type));
		assert.ok(npe, `the planted NullPointerException among ${thrown.map((g) => g.type).join(', ')}`);
		assert.ok(npe.operations.some((o) => o.name === 'accounts.v1.Accounts/GetAccount'));
	} finally {
		await gen.stopClean();
		await gen.cleanup();
	}
});
