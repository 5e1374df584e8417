// The waterfall's model: tree, rows, bars, critical path, search.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawSpan, RawTrace, barGeometry, buildTrace, criticalPath, criticalSpans, searchSpans, serviceSelfTime, visibleRows } from '../src/tracemodel';

const T0 = 1_700_000_000_000_000_000n;
function sp(id: string, parent: string, service: string, startMs: number, endMs: number, extra: Partial<RawSpan> = {}): RawSpan {
	return {
		spanId: id, parentSpanId: parent, name: `op-${id}`, service,
		startTimeUnixNano: String(T0 + BigInt(Math.round(startMs * 1e6))), endTimeUnixNano: String(T0 + BigInt(Math.round(endMs * 1e6))),
		...extra,
	};
}
function trace(spans: RawSpan[]): RawTrace {
	return { traceId: 'abc', spans };
}

// root 0..100; a 10..40 and b 20..90 (b ends last); b has c 30..60 and d 50..85
const sample = () => trace([
	sp('r', '', 'gw', 0, 100),
	sp('b', 'r', 'api', 20, 90),
	sp('a', 'r', 'auth', 10, 40),
	sp('c', 'b', 'db', 30, 60),
	sp('d', 'b', 'cache', 50, 85, { status: { code: 'error' }, attributes: [{ key: 'customer.id', value: { stringValue: 'acme' } }] }),
]);

test('the tree is in start order with depths', () => {
	const m = buildTrace(sample());
	assert.deepEqual(m.spans.map((s) => s.id), ['r', 'a', 'b', 'c', 'd']);
	assert.deepEqual(m.spans.map((s) => s.depth), [0, 1, 1, 2, 2]);
	assert.equal(m.durationMs, 100);
	assert.equal(m.byId.get('d')!.error, true);
	assert.deepEqual(m.services, ['gw', 'auth', 'api', 'db', 'cache']);
});

test('collapsing hides descendants only', () => {
	const m = buildTrace(sample());
	assert.deepEqual(visibleRows(m, new Set(['b'])).map((s) => s.id), ['r', 'a', 'b']);
	assert.deepEqual(visibleRows(m, new Set(['r'])).map((s) => s.id), ['r']);
	assert.deepEqual(visibleRows(m, new Set(['c'])).map((s) => s.id), ['r', 'a', 'b', 'c', 'd']); // a leaf
	assert.equal(visibleRows(m, new Set()).length, 5);
});

test('orphans and cycles become roots; nothing hangs', () => {
	const m = buildTrace(trace([sp('x', 'missing', 's', 5, 10), sp('p', 'q', 's', 0, 3), sp('q', 'p', 's', 1, 2), sp('x', '', 's', 0, 1)]));
	assert.equal(m.spans.length, 4);
	assert.ok(m.roots.some((r) => r.id === 'x'));
	const empty = buildTrace(trace([]));
	assert.equal(empty.spans.length, 0);
	assert.deepEqual(criticalPath(empty), []);
});

test('bars are fractions of the view, clipped, with a minimum width', () => {
	assert.deepEqual(barGeometry({ start: 25, end: 75 }, 0, 100), { left: 0.25, width: 0.5 });
	assert.deepEqual(barGeometry({ start: -10, end: 50 }, 0, 100), { left: 0, width: 0.5 });
	assert.deepEqual(barGeometry({ start: 90, end: 150 }, 0, 100), { left: 0.9, width: 0.09999999999999998 });
	assert.equal(barGeometry({ start: 50, end: 50 }, 0, 100).width, 0.002);
	assert.deepEqual(barGeometry({ start: 50, end: 75 }, 50, 100), { left: 0, width: 0.5 });
});

test('the critical path follows the last-finishing child', () => {
	const m = buildTrace(sample());
	const segs = criticalPath(m);
	// r 0..10, a 10..20 (what r waited on before b began), b 20..30, c 30..50,
	// d 50..85, b 85..90, r 90..100
	assert.deepEqual(segs.map((s) => [s.spanId, Math.round(s.start), Math.round(s.end)]), [
		['r', 0, 10], ['a', 10, 20], ['b', 20, 30], ['c', 30, 50], ['d', 50, 85], ['b', 85, 90], ['r', 90, 100],
	]);
	const total = segs.reduce((a, s) => a + s.end - s.start, 0);
	assert.ok(Math.abs(total - m.durationMs) < 1e-6, 'the path covers the whole trace');
	const on = criticalSpans(segs);
	assert.equal(Math.round(on.get('a')!), 10);
	assert.equal(Math.round(on.get('b')!), 15);
	assert.equal(Math.round(on.get('r')!), 20);
});

test('a child that ran while a later one was already running is off the path', () => {
	const m = buildTrace(trace([sp('r', '', 'gw', 0, 100), sp('long', 'r', 's', 5, 95), sp('mid', 'r', 's', 20, 60), sp('late', 'long', 's', 10, 90)]));
	const on = criticalSpans(criticalPath(m));
	assert.equal(on.has('mid'), false);
	assert.deepEqual([...on.keys()].sort(), ['late', 'long', 'r']);
});

test('a child outside its parent (clock skew) is marked and clipped on the path', () => {
	const m = buildTrace(trace([sp('r', '', 'gw', 0, 50), sp('k', 'r', 'far', 30, 70)]));
	assert.equal(m.byId.get('k')!.skew, true);
	assert.equal(m.byId.get('r')!.skew, false);
	const segs = criticalPath(m);
	assert.deepEqual(segs.map((s) => [s.spanId, s.start, s.end]), [['r', 0, 30], ['k', 30, 50]]);
});

test('sequential children are all on the path', () => {
	const m = buildTrace(trace([sp('r', '', 'gw', 0, 30), sp('1', 'r', 's', 0, 10), sp('2', 'r', 's', 10, 20), sp('3', 'r', 's', 20, 30)]));
	assert.deepEqual(criticalPath(m).map((s) => s.spanId), ['1', '2', '3']);
});

test('search matches names, services and attributes', () => {
	const m = buildTrace(sample());
	assert.deepEqual([...searchSpans(m, 'ACME')], ['d']);
	assert.deepEqual([...searchSpans(m, 'auth')].sort(), ['a']);
	assert.equal(searchSpans(m, 'op-').size, 5);
	assert.equal(searchSpans(m, '   ').size, 0);
	assert.equal(searchSpans(m, 'nothing-like-it').size, 0);
});

test('self time per service subtracts the children', () => {
	const m = buildTrace(sample());
	const st = Object.fromEntries(serviceSelfTime(m).map((s) => [s.service, Math.round(s.selfMs)]));
	// r: 100 minus the union of a and b (10..90) = 20; b: 70 minus 30..85 = 15
	assert.deepEqual(st, { gw: 20, api: 15, auth: 30, db: 30, cache: 35 });
});

test('10,000 spans build and lay out quickly', () => {
	const spans: RawSpan[] = [sp('root', '', 'gw', 0, 10000)];
	for (let i = 0; i < 9999; i++) spans.push(sp(`s${i}`, i < 100 ? 'root' : `s${i % 100}`, `svc${i % 40}`, i * 0.9, i * 0.9 + 5));
	const t0 = Date.now();
	const m = buildTrace(trace(spans));
	const rows = visibleRows(m, new Set());
	const segs = criticalPath(m);
	assert.equal(rows.length, 10000);
	assert.ok(segs.length > 0);
	assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
});
