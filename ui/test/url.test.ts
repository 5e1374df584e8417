// URL state: routes, time ranges, links that restore a view.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RANGE, buildUrl, canLive, parseRoute, rangeFromParams, rangeLabel, rangeToParams, resolveRange, resolveTime, routePath } from '../src/url';

test('routes parse and print back', () => {
	assert.deepEqual(parseRoute('/'), { page: 'home' });
	assert.deepEqual(parseRoute('/explore'), { page: 'explore' });
	assert.deepEqual(parseRoute('/explore/'), { page: 'explore' });
	assert.deepEqual(parseRoute('/customers'), { page: 'customers' });
	assert.deepEqual(parseRoute('/trace/0AF7651916CD43DD8448EB211C80319C'), { page: 'trace', traceId: '0af7651916cd43dd8448eb211c80319c' });
	assert.deepEqual(parseRoute('/service/api%20gateway'), { page: 'service', service: 'api gateway' });
	assert.equal(routePath({ page: 'service', service: 'a/b c' }), '/service/a%2Fb%20c');
	assert.deepEqual(parseRoute(routePath({ page: 'service', service: 'a/b c' })), { page: 'service', service: 'a/b c' });
});

test('bad routes are not found, never a crash', () => {
	for (const p of ['/trace/xyz', '/trace/', '/trace/' + 'a'.repeat(33), '/nope', '/service', '/service/a/b', '/explore/x', '/service/%E0%A4%A']) {
		const r = parseRoute(p);
		if (p === '/service/%E0%A4%A') assert.equal(r.page, 'service');
		else assert.equal(r.page, 'notfound', p);
	}
});

test('time expressions resolve', () => {
	const now = 1_700_000_000_000;
	assert.equal(resolveTime('now', now), now);
	assert.equal(resolveTime('now-15m', now), now - 900_000);
	assert.equal(resolveTime('now-2h', now), now - 7_200_000);
	assert.equal(resolveTime('now-7d', now), now - 7 * 86_400_000);
	assert.equal(resolveTime('1699990000000', now), 1699990000000);
	for (const bad of ['', 'now-', 'now-5x', 'yesterday', '12', 'now+5m', '-1']) assert.ok(Number.isNaN(resolveTime(bad, now)), bad);
});

test('an inverted or broken range falls back to the default', () => {
	const now = 1_700_000_000_000;
	assert.deepEqual(resolveRange({ from: 'now-5m', to: 'now', live: false }, now), [now - 300_000, now]);
	assert.deepEqual(resolveRange({ from: 'now', to: 'now-5m', live: false }, now), [now - 3_600_000, now]);
	assert.deepEqual(resolveRange({ from: 'garbage', to: 'now', live: false }, now), [now - 3_600_000, now]);
});

test('ranges round-trip through the URL and defaults stay out of it', () => {
	const p = new URLSearchParams();
	rangeToParams(DEFAULT_RANGE, p);
	assert.equal(p.toString(), '');
	const r = { from: 'now-15m', to: 'now', live: true };
	rangeToParams(r, p);
	assert.equal(p.toString(), 'from=now-15m&live=1');
	assert.deepEqual(rangeFromParams(p), r);
	assert.deepEqual(rangeFromParams(new URLSearchParams('from=bogus&to=%3Cscript%3E')), { ...DEFAULT_RANGE });
	assert.equal(canLive({ from: '1', to: '1699990000000', live: true }), false);
	assert.equal(canLive(r), true);
	assert.equal(rangeLabel(r), 'Last 15 minutes');
	assert.match(rangeLabel({ from: '1700000000000', to: '1700003600000', live: false }), /^2023-11-14 \d\d:\d\d to /);
});

test('links carry query, selection and range', () => {
	const u = buildUrl({ page: 'explore' }, { q: '{ span.x = "a b" }', sel: 'errors', empty: '', none: null }, { from: 'now-6h', to: 'now', live: false });
	const parsed = new URL(u, 'http://h');
	assert.equal(parsed.pathname, '/explore');
	assert.equal(parsed.searchParams.get('q'), '{ span.x = "a b" }');
	assert.equal(parsed.searchParams.get('sel'), 'errors');
	assert.equal(parsed.searchParams.get('from'), 'now-6h');
	assert.equal(parsed.searchParams.has('empty'), false);
	assert.equal(parsed.searchParams.has('none'), false);
	assert.equal(buildUrl({ page: 'home' }, {}), '/');
});
