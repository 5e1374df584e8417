// The SLO pages' URL state: the list, the create form and one SLO's page
// parse from their paths and print back; anything else is not found.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildUrl, parseRoute, routePath } from '../src/url';

test('SLO routes parse and print back', () => {
	assert.deepEqual(parseRoute('/slos'), { page: 'slos' });
	assert.deepEqual(parseRoute('/slos/'), { page: 'slos' });
	assert.deepEqual(parseRoute('/slos/new'), { page: 'slos', sloId: 'new' });
	assert.deepEqual(parseRoute('/slos/0123456789ABCDEF'), { page: 'slos', sloId: '0123456789abcdef' });
	assert.equal(routePath({ page: 'slos' }), '/slos');
	assert.equal(routePath({ page: 'slos', sloId: 'new' }), '/slos/new');
	for (const r of [{ page: 'slos' }, { page: 'slos', sloId: 'new' }, { page: 'slos', sloId: '00ff00ff00ff00ff' }] as const)
		assert.deepEqual(parseRoute(routePath(r)), r);
});

test('SLO paths that are not an SLO are not found', () => {
	for (const p of ['/slos/123', '/slos/0123456789abcdef0', '/slos/0123456789abcdeg', '/slos/new/x', '/slos/a/b', '/slos/NEW', '/slo', '/slos/%20'])
		assert.equal(parseRoute(p).page, 'notfound', p);
});

test('links to an SLO carry its id and the range, and read back', () => {
	const u = buildUrl({ page: 'slos', sloId: 'aabbccddeeff0011' }, {}, { from: 'now-6h', to: 'now', live: true });
	const parsed = new URL(u, 'http://h');
	assert.equal(parsed.pathname, '/slos/aabbccddeeff0011');
	assert.equal(parsed.searchParams.get('from'), 'now-6h');
	assert.equal(parsed.searchParams.get('live'), '1');
	assert.deepEqual(parseRoute(parsed.pathname), { page: 'slos', sloId: 'aabbccddeeff0011' });
	assert.equal(buildUrl({ page: 'slos' }, {}), '/slos');
});
