// Dashboards through the API of a real clew serve: create, read, list,
// update and delete shapes; 400s that name the bad field (and a panel
// query's position), 404, 405, 409 for a stale version or a taken id, 413
// for a body over the limit; a kill -9 and restart keeps every dashboard at
// its last version; and a panel's query, with its variables substituted as
// the UI does, returns real series from clew gen traffic.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { getJson, jsonOrUndefined, request } from './lib/http.mjs';
import { CLEW_BIN, skipReason, startClew, sleep } from './lib/server.mjs';

let server;
let base;

const OVERVIEW = {
	title: 'Service overview',
	description: 'Rate and latency of $service',
	variables: [{ name: 'service', label: 'Service', query: { tag: 'resource.service.name' } }],
	panels: [
		{ id: 'rate', title: 'Requests', type: 'line', unit: 'reqps', query: '{ resource.service.name = "$service" } | rate() by (name)' },
		{ id: 'p99', title: 'p99', type: 'line', unit: 's', query: '{ resource.service.name = "${service}" } | quantile_over_time(duration, .99)', grid: { x: 12, y: 0, w: 12, h: 6 } },
	],
};

async function send(method, p, body, headers = {}) {
	const text = typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body);
	const r = await request(base + p, { method, body: text, headers: { 'content-type': 'application/json', ...headers } });
	const s = r.body.toString('utf8');
	return { status: r.status, json: jsonOrUndefined(s), text: s };
}

function expectError(r, status, field, msgPart) {
	assert.equal(r.status, status, r.text);
	assert.equal(r.json?.error?.code, status, r.text);
	if (field === null) assert.equal(r.json.error.field, undefined, r.text);
	else if (field !== undefined) assert.equal(r.json.error.field, field, r.text);
	if (msgPart) assert.match(r.json.error.message, msgPart, r.text);
}

before(async () => {
	if (skipReason) return;
	server = await startClew({ args: ['--wal-sync', 'none'] });
	base = server.url('http');
});

after(async () => {
	if (server) {
		await server.stopClean();
		await server.cleanup();
	}
});

test('dashboards: create, read, list, update, delete', { skip: skipReason, timeout: 30000 }, async () => {
	let r = await send('GET', '/api/v1/dashboards');
	assert.equal(r.status, 200);
	assert.deepEqual(r.json, { dashboards: [] });

	r = await send('POST', '/api/v1/dashboards', OVERVIEW);
	assert.equal(r.status, 201, r.text);
	const d = r.json;
	assert.match(d.id, /^[0-9a-f]{16}$/);
	assert.equal(d.version, 1);
	assert.equal(d.title, 'Service overview');
	assert.ok(Date.parse(d.createdAt) > 0 && d.createdAt === d.updatedAt);
	assert.deepEqual(d.panels.map((p) => p.id), ['rate', 'p99']);
	assert.deepEqual(d.panels[0].grid, { x: 0, y: 0, w: 12, h: 8 });
	assert.deepEqual(d.panels[1].grid, { x: 12, y: 0, w: 12, h: 6 });
	assert.deepEqual(d.variables[0], { name: 'service', label: 'Service', query: { tag: 'resource.service.name' } });

	r = await send('GET', `/api/v1/dashboards/${d.id}`);
	assert.equal(r.status, 200);
	assert.deepEqual(r.json, d);

	r = await send('POST', '/api/v1/dashboards', { id: 'team-payments', title: 'Payments', tags: ['team'] });
	assert.equal(r.status, 201, r.text);
	r = await send('GET', '/api/v1/dashboards');
	assert.deepEqual(r.json.dashboards.map((x) => [x.id, x.title, x.panels, x.variables]),
		[['team-payments', 'Payments', 0, []], [d.id, 'Service overview', 2, ['service']]]);

	const edited = { ...d, title: 'Checkout overview', panels: [d.panels[0]] };
	r = await send('PUT', `/api/v1/dashboards/${d.id}`, edited);
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.version, 2);
	assert.equal(r.json.createdAt, d.createdAt);
	assert.equal(r.json.panels.length, 1);

	// the same edit again is stale
	r = await send('PUT', `/api/v1/dashboards/${d.id}`, edited);
	expectError(r, 409, 'version', /at version 2, not 1/);
	r = await send('POST', '/api/v1/dashboards', { id: 'team-payments', title: 'again' });
	expectError(r, 409, 'id', /exists/);

	r = await send('DELETE', '/api/v1/dashboards/team-payments');
	assert.equal(r.status, 204);
	r = await send('DELETE', '/api/v1/dashboards/team-payments');
	expectError(r, 404);
	r = await send('GET', '/api/v1/dashboards/team-payments');
	expectError(r, 404, undefined, /no dashboard team-payments/);
});

test('dashboards: bad input is refused naming the field', { skip: skipReason, timeout: 30000 }, async () => {
	const P = '/api/v1/dashboards';
	expectError(await send('POST', P, '{"title":'), 400, null, /not JSON/);
	expectError(await send('POST', P, ''), 400, undefined, /JSON body/);
	expectError(await send('POST', P, []), 400, null, /JSON object/);
	expectError(await send('POST', P, {}), 400, 'title', /required/);
	expectError(await send('POST', P, { title: 'x', colour: 'red' }), 400, 'colour', /unknown field/);
	expectError(await send('POST', P, { title: 'x', variables: [{ name: 'a b' }] }), 400, 'variables[0].name');
	expectError(await send('POST', P, { title: 'x', variables: [{ name: 'a', query: { sql: 'x' } }] }), 400, 'variables[0].query.sql');
	expectError(await send('POST', P, { title: 'x', panels: [{ query: '{} | rate()', type: 'pie' }] }), 400, 'panels[0].type', /pie/);
	expectError(await send('POST', P, { title: 'x', panels: [{ query: '{} | rate()', grid: { x: 20, w: 8 } }] }), 400, 'panels[0].grid', /x \+ w/);
	expectError(await send('POST', P, { title: 'x', panels: [{ query: '{ status = error }' }] }), 400, 'panels[0].query', /metrics query/);
	expectError(await send('POST', P, { title: 'x', panels: [{ query: '{ .a = $nope } | rate()' }] }), 400, 'panels[0].query', /unknown variable \$nope/);
	// a parse error names the panel and the position in the query as written
	const r = await send('POST', P, { title: 'x', variables: [{ name: 'service' }], panels: [{ query: '{} | rate()' }, { id: 'lat', query: '{ resource.service.name = $service && } | rate()' }] });
	expectError(r, 400, 'panels[1].query', /^panels\[1\]\.query: 1:39: /);
	assert.equal(r.json.error.panel, 'lat');
	assert.deepEqual(r.json.error.position, { line: 1, col: 39, offset: 38 });
	// limits
	const many = Array.from({ length: 49 }, () => ({ query: '{} | rate()' }));
	expectError(await send('POST', P, { title: 'x', panels: many }), 400, 'panels', /at most 48/);
	expectError(await send('POST', P, { title: 'x', description: 'x'.repeat(300 * 1024) }), 413, undefined, /at most/);
	// methods and paths
	expectError(await send('PATCH', P, { title: 'x' }), 405);
	expectError(await send('POST', `${P}/abc`, { title: 'x' }), 405);
	expectError(await send('GET', `${P}/a%2Fb`), 404);
	expectError(await send('GET', `${P}/${'a'.repeat(65)}`), 404);
	expectError(await send('PUT', `${P}/nope`, { title: 'x', version: 1 }), 404);
	expectError(await send('POST', P, { title: 'x' }, { 'content-encoding': 'gzip' }), 415);
	// nothing was stored by any of them
	const list = await getJson(base + P);
	assert.ok(list.json.dashboards.every((d) => d.title !== 'x'), list.text);
});

test('dashboards survive kill -9 and restart at their last version', { skip: skipReason, timeout: 60000 }, async () => {
	let r = await send('POST', '/api/v1/dashboards', { id: 'durable', title: 'Durable', panels: [{ query: '{} | rate()' }] });
	assert.equal(r.status, 201, r.text);
	for (let v = 1; v <= 5; v++) {
		r = await send('PUT', '/api/v1/dashboards/durable', { title: `Durable v${v + 1}`, version: v, panels: [{ query: '{} | rate()' }] });
		assert.equal(r.status, 200, r.text);
	}
	const before9 = (await getJson(`${base}/api/v1/dashboards`)).json;
	const exit = await server.kill();
	assert.equal(exit.signal, 'SIGKILL');
	await server.start();
	base = server.url('http');
	const after9 = (await getJson(`${base}/api/v1/dashboards`)).json;
	assert.deepEqual(after9, before9);
	r = await send('GET', '/api/v1/dashboards/durable');
	assert.equal(r.json.version, 6);
	assert.equal(r.json.title, 'Durable v6');
	// and it takes the next version after the restart
	r = await send('PUT', '/api/v1/dashboards/durable', { title: 'Durable v7', version: 6 });
	assert.equal(r.status, 200, r.text);
	assert.equal(r.json.version, 7);
});

// The UI's substitution for a quoted literal (ui/src/dashboard.ts).
function substituteQuoted(q, vars) {
	return q.replace(/\$(?:\{(\w+)\}|(\w+))/g, (m, a, b) => {
		const v = vars[a ?? b];
		return v === undefined ? m : v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
	});
}

test('a panel query with its variables substituted returns real data', { skip: skipReason, timeout: 60000 }, async () => {
	const genStart = new Date(Date.now() - 60000).toISOString().replace(/\.\d+Z$/, 'Z');
	execFileSync(CLEW_BIN, ['gen', '--target', server.url('otlpHttp'), '--rate', 'max', '--spans', '5000', '--seed', '7', '--start', genStart], { stdio: 'ignore' });
	await sleep(500);
	const r = await send('POST', '/api/v1/dashboards', OVERVIEW);
	assert.equal(r.status, 201, r.text);
	const services = (await getJson(`${base}/api/v2/search/tag/resource.service.name/values`)).json.tagValues.map((t) => t.value);
	assert.ok(services.length > 1, JSON.stringify(services));
	const service = services[0];
	const start = Math.floor(Date.now() / 1000) - 600, end = Math.ceil(Date.now() / 1000);
	for (const p of r.json.panels) {
		const q = substituteQuoted(p.query, { service });
		assert.ok(!q.includes('$'), q);
		const m = await getJson(`${base}/api/metrics/query_range?q=${encodeURIComponent(q)}&start=${start}&end=${end}&step=15s`);
		assert.equal(m.status, 200, m.text);
		assert.ok(m.json.series.length > 0, `${q}: no series`);
		const total = m.json.series.reduce((a, s) => a + s.samples.filter((x) => Number.isFinite(x.value) && x.value > 0).length, 0);
		assert.ok(total > 0, `${q}: no positive samples`);
	}
});
