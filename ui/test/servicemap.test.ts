// The service map's view arithmetic and its find box matching: fit shows a
// graph whole and centred, zoom keeps the point under the cursor, matches
// rank the exact name first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ZOOM, centreOn, findServices, fitView, zoomAt } from '../src/views/home';

const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);

test('fit shows the whole graph, centred, within the padding', () => {
	const v = fitView(2000, 1000, 1000, 700, 16);
	near(v.k, (1000 - 32) / 2000, 'width bound');
	near(v.x, (1000 - 2000 * v.k) / 2, 'centred x');
	near(v.y, (700 - 1000 * v.k) / 2, 'centred y');
	assert.ok(v.x >= 16 - 1e-9 && v.y >= 16 - 1e-9);
	const tall = fitView(300, 3000, 1000, 700);
	near(tall.k, (700 - 32) / 3000, 'height bound');
	// a small graph is not blown up past 1.5
	assert.equal(fitView(100, 50, 1000, 700).k, 1.5);
	// degenerate sizes: a finite, positive zoom
	for (const [gw, gh, vw, vh] of [[0, 0, 1000, 700], [100, 100, 0, 0], [1e7, 1e7, 10, 10]]) {
		const d = fitView(gw, gh, vw, vh);
		assert.ok(Number.isFinite(d.k) && d.k > 0 && Number.isFinite(d.x) && Number.isFinite(d.y), JSON.stringify(d));
	}
});

test('zoom keeps the world point under the cursor and stays within bounds', () => {
	const v = { x: 40, y: -30, k: 0.5 };
	const z = zoomAt(v, 2, 300, 200, 0.1);
	near(z.k, 1, 'zoomed');
	near((300 - v.x) / v.k, (300 - z.x) / z.k, 'world x under the cursor');
	near((200 - v.y) / v.k, (200 - z.y) / z.k, 'world y under the cursor');
	assert.equal(zoomAt(v, 1000, 0, 0, 0.1).k, MAX_ZOOM);
	assert.equal(zoomAt(v, 0.001, 0, 0, 0.1).k, 0.1);
	// clamped: the point still stays
	const c = zoomAt(v, 1000, 123, 45, 0.1);
	near((123 - v.x) / v.k, (123 - c.x) / c.k, 'clamped, world x');
	// bad factors change nothing
	for (const f of [NaN, 0, -2, Infinity]) assert.deepEqual(zoomAt(v, f, 10, 10, 0.1), v, String(f));
});

test('centreOn puts a world point in the middle', () => {
	const v = centreOn(500, 250, 1000, 600, 2);
	near(500 * v.k + v.x, 500, 'x');
	near(250 * v.k + v.y, 300, 'y');
});

test('find ranks the exact name, then prefixes, then substrings; case-insensitive', () => {
	const names = ['frontend', 'accounts-db', 'postgresql accounts_shard_3', 'accounts', 'my-accounts', 'payments'];
	assert.deepEqual(findServices(names, 'ACCOUNTS'), ['accounts', 'accounts-db', 'my-accounts', 'postgresql accounts_shard_3']);
	assert.deepEqual(findServices(names, '  pay '), ['payments']);
	assert.deepEqual(findServices(names, ''), []);
	assert.deepEqual(findServices(names, '   '), []);
	assert.deepEqual(findServices(names, 'zzz'), []);
	assert.deepEqual(findServices([], 'a'), []);
	assert.deepEqual(findServices(names, '.*'), [], 'not a regular expression');
	assert.deepEqual(findServices(['a"b', 'x'], 'A"'), ['a"b']);
});
