// The web UI in a real browser (Debian's Chromium via playwright-core)
// against a real clew serve fed by clew gen with a planted slow shard:
// every page renders real data with no console errors; the three-click flow
// (brush the slow region, pick the top cause, open an example trace) finds
// the shard and lands on a trace whose critical path goes through it; deep
// links restore the view; API errors and empty results are shown as such;
// the static server refuses path traversal. Any console error, page error,
// failed request or HTTP error status fails the test it happens in. The
// first view (navigation start to the map drawn) must take under 1 s and the
// 10,000-span trace must render and scroll within its bounds; those figures
// go to test-artifacts/ui/figures.json, screenshots of every page beside it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { browserSkipReason, launchBrowser, newPage } from './lib/browser.mjs';
import { getJson } from './lib/http.mjs';
import { CLEW_BIN, REPO_ROOT, skipReason, startClew } from './lib/server.mjs';

const UI_DIR = path.join(REPO_ROOT, 'build', 'ui');
const SHOTS = path.join(REPO_ROOT, 'test-artifacts', 'ui');
const skip = skipReason || browserSkipReason ||
	(existsSync(path.join(UI_DIR, 'index.html')) ? false : 'the UI is not built (make ui)') ||
	(process.env.CLEW_E2E_SANITIZER === '1' ? 'the UI tests run against the release build' : false);

let server;
let browser;
let truth;
let base;

before(async () => {
	if (skip) return;
	server = await startClew({ args: ['--wal-sync', 'none', '--ui-dir', UI_DIR] });
	base = server.url('http');
	// ten minutes ago, one simulated minute of traffic with shard 2 slow
	const start = new Date(Date.now() - 10 * 60000).toISOString().replace(/\.\d+Z$/, 'Z');
	const r = spawnSync(CLEW_BIN, ['gen', '--target', server.url('otlpHttp'), '--rate', 'max', '--clock-rate', '1000',
		'--spans', '60000', '--seed', '11', '--start', start, '--fault', 'slow-shard:start=0s,duration=1h,factor=8'],
	{ stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
	assert.equal(r.status, 0, String(r.stderr));
	truth = r.stderr.toString().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
		.find((f) => f.fault === 'slow-shard' && f.state === 'on');
	assert.ok(truth, 'clew gen reported the slow shard');
	browser = await launchBrowser();
	mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
	await browser?.close();
	if (server) {
		const problems = await server.stopClean();
		await server.cleanup();
		assert.deepEqual(problems, []);
	}
});

// Record a measured figure in test-artifacts/ui/figures.json (merged with
// what other tests recorded) and in the test's output.
function record(t, name, value, unit) {
	const file = path.join(SHOTS, 'figures.json');
	let all = {};
	try { all = JSON.parse(readFileSync(file, 'utf8')); } catch { /* first figure */ }
	all[name] = { value: Math.round(value * 100) / 100, unit, at: new Date().toISOString() };
	writeFileSync(file, JSON.stringify(all, null, 2) + '\n');
	t.diagnostic(`${name}: ${all[name].value} ${unit}`);
}

// The time of a performance mark the UI sets once per page load, in ms
// since navigation start (performance's time origin).
async function markTime(page, name) {
	await page.waitForFunction((n) => performance.getEntriesByName(n, 'mark').length > 0, name, { timeout: 15000 });
	return page.evaluate((n) => performance.getEntriesByName(n, 'mark')[0].startTime, name);
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

async function anyTraceId() {
	const r = await getJson(`${base}/api/search?q=${encodeURIComponent('{ span.db.system = "postgresql" }')}&limit=5`);
	assert.equal(r.status, 200, r.text);
	assert.ok(r.json.traces.length > 0);
	return r.json.traces[0].traceID;
}

test('every page renders real data, fast, with no console errors', { skip, timeout: 90000 }, async (t) => {
	const page = await newPage(browser);
	await page.goto(`${base}/`);
	await page.waitForSelector('svg.map .node', { timeout: 10000 });
	// the first view of a fresh tab (a new browser context: empty cache, the
	// browser process itself warm), from navigation start to the map drawn
	// (the UI's clew:map-rendered mark), the best of three loads
	let firstView = Infinity;
	for (let i = 0; i < 3; i++) {
		const fresh = await newPage(browser);
		await fresh.goto(`${base}/`);
		await fresh.waitForSelector('svg.map .node', { timeout: 10000 });
		firstView = Math.min(firstView, await markTime(fresh, 'clew:map-rendered'));
		assert.deepEqual(fresh.problems, []);
		await fresh.context().close();
	}
	record(t, 'first view: navigation start to service map drawn', firstView, 'ms');
	assert.ok(firstView < 1000, `the service map was drawn ${firstView.toFixed(0)} ms after navigation start`);
	assert.ok(await page.locator('svg.map .node').count() >= 20, 'the generator\'s services are on the map');
	assert.ok(await page.locator('svg.map .edge').count() >= 20, 'with their dependencies');
	await page.waitForSelector('section.panel:has(h3:text("Firing alerts")) a:text("all alerts")');
	await shot(page, 'home');

	// hover and click a node: the service page
	const node = page.locator('svg.map .node[data-service="accounts"]');
	await node.hover();
	await page.waitForSelector('.map-tip:not([hidden])');
	await node.click();
	await page.waitForURL(/\/service\/accounts/);
	await page.waitForSelector('.chart-cell .uplot', { timeout: 10000 });
	await page.waitForSelector('text=owned by');
	await page.waitForSelector('.panel table.grid tbody tr');
	await page.waitForSelector('.heat-canvas', { timeout: 10000 });
	await page.waitForSelector('text=Calls');
	await page.waitForSelector('section.panel:has(h3:text("Versions deployed")) table');
	// recent errors grouped by exception type, as /api/v1/errors answers them
	// (once loaded: the table, or the empty state; not the loading one)
	await page.waitForSelector('section.panel:has(h3:text("Recent errors")) :is(table.errors, .state.empty)', { timeout: 10000 });
	const errs = await getJson(`${base}/api/v1/errors?service=accounts&limit=12&start=${Math.floor(Date.now() / 1000) - 3600}`);
	assert.equal(errs.status, 200, errs.text);
	const shownTypes = await page.locator('table.errors tbody tr').evaluateAll((rows) => rows.map((r) => [r.dataset.type, r.dataset.source]));
	assert.deepEqual(shownTypes, errs.json.groups.map((g) => [g.type, g.source]));
	if (shownTypes.length) {
		const first = page.locator('table.errors tbody tr').first();
		assert.match(await first.textContent(), new RegExp(String(errs.json.groups[0].count)));
		assert.equal(await first.locator('a:text("trace ›")').count(), 1, 'an example trace');
	}
	await shot(page, 'service');
	// a service whose failed spans carry exception events: its exception
	// types, not its status messages
	let thrower = null;
	for (const svc of (await getJson(`${base}/jaeger/api/services`)).json.data) {
		const r = await getJson(`${base}/api/v1/errors?service=${encodeURIComponent(svc)}`);
		const g = r.json.groups.find((x) => x.source === 'exception');
		if (g) { thrower = { svc, type: g.type }; break; }
	}
	assert.ok(thrower, 'clew gen\'s failures carry exception events');
	await page.goto(`${base}/service/${encodeURIComponent(thrower.svc)}`);
	const row = page.locator(`table.errors tbody tr[data-source="exception"][data-type="${thrower.type}"]`);
	await row.waitFor({ timeout: 10000 });
	await row.locator('a').first().click();
	await page.waitForURL(/\/explore\?/);
	assert.match(new URL(page.url()).searchParams.get('q'), /event\.exception\.type = /);
	await page.waitForSelector('table.traces tbody tr', { timeout: 10000 });

	await page.goto(`${base}/explore?q=${encodeURIComponent('{ span.db.system = "postgresql" }')}`);
	await page.waitForSelector('table.traces tbody tr', { timeout: 10000 });
	await page.waitForSelector('.heat-canvas');
	assert.ok(await page.locator('table.traces tbody tr').count() > 5);
	await shot(page, 'explore');

	await page.goto(`${base}/customers`);
	await page.waitForSelector('button[data-account]', { timeout: 10000 });
	const acct = await page.locator('button[data-account]').first().getAttribute('data-account');
	assert.match(acct, /^acct-/);
	await page.locator('button[data-account]').first().click();
	await page.waitForURL(/account=/);
	await page.waitForSelector('h2:text("Account")');
	await page.waitForSelector('.chart-cell .uplot', { timeout: 10000 });
	await page.waitForSelector('.corr, .state', { timeout: 10000 });
	await page.waitForSelector('section.panel:has(h3:text("Slowest operations over time")) :is(.uplot, .chart-empty)', { timeout: 10000 });
	// the account's errors by type: what /api/v1/errors says for its spans
	await page.waitForSelector('section.panel:has(h3:text("Errors by type")) :is(table.errors, .state.empty)', { timeout: 10000 });
	const acctErrs = await getJson(`${base}/api/v1/errors?limit=8&start=${Math.floor(Date.now() / 1000) - 3600}&q=${encodeURIComponent(`{ span.customer.id = "${acct}" }`)}`);
	assert.equal(acctErrs.status, 200, acctErrs.text);
	assert.deepEqual(await page.locator('section.panel:has(h3:text("Errors by type")) table.errors tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.type)),
		acctErrs.json.groups.map((g) => g.type));
	await shot(page, 'customers');

	const id = await anyTraceId();
	await page.goto(`${base}/trace/${id}`);
	await page.waitForSelector('.wf-row', { timeout: 10000 });
	assert.ok(await page.locator('.wf-row').count() > 3);
	assert.ok(await page.locator('.crit').count() > 0, 'the critical path is drawn');
	await page.locator('.wf-row').nth(1).click();
	await page.waitForSelector('.span-details h4:text("Attributes")');
	await page.waitForSelector('.span-details h4:text-matches("Resource")');
	await shot(page, 'trace');
	assert.deepEqual(page.problems, []);
});

test('three clicks: brush the slow region, pick the top cause, open a trace on its critical path', { skip, timeout: 60000 }, async () => {
	const page = await newPage(browser);
	await page.goto(`${base}/explore?q=${encodeURIComponent('{ span.db.system = "postgresql" }')}`);
	const canvas = page.locator('.heat-canvas');
	await canvas.waitFor();
	await page.waitForTimeout(300);
	const box = await canvas.boundingBox();
	// click 1: drag across the top of the heatmap, the slowest spans
	await page.mouse.move(box.x + 60, box.y + 2);
	await page.mouse.down();
	await page.mouse.move(box.x + box.width - 2, box.y + box.height * 0.3, { steps: 5 });
	await page.mouse.up();
	await page.waitForURL(/sel=latency/);
	await page.waitForSelector('tr.cause', { timeout: 15000 });
	await shot(page, 'explore-correlations');
	const top = page.locator('tr.cause').first();
	assert.equal(await top.getAttribute('data-key'), 'span.db.name');
	assert.equal(await top.getAttribute('data-value'), truth.where['db.name']);
	// click 2: the cause filters the results
	await top.locator('button').click();
	await page.waitForURL(/cause=/);
	const q = new URL(page.url()).searchParams.get('q');
	assert.match(q, new RegExp(`span\\.db\\.name = "${truth.where['db.name']}"`));
	await page.waitForSelector('text=Open the slowest example trace', { timeout: 10000 });
	// click 3: an example trace, whose critical path runs through the shard
	await page.locator('text=Open the slowest example trace').click();
	await page.waitForURL(/\/trace\/[0-9a-f]+/);
	const wf = page.locator('.wf[data-critical]');
	await wf.waitFor({ timeout: 10000 });
	const traceId = page.url().match(/\/trace\/([0-9a-f]+)/)[1];
	const tr = await getJson(`${base}/api/v1/traces/${traceId}`);
	const shardSpans = tr.json.spans.filter((s) => s.attributes.some((a) => a.key === 'db.name' && a.value.stringValue === truth.where['db.name']));
	assert.ok(shardSpans.length > 0, 'the example trace calls the slow shard');
	const critical = new Set((await wf.getAttribute('data-critical')).split(' '));
	assert.ok(shardSpans.some((s) => critical.has(s.spanId)), 'a call to the slow shard is on the critical path');
	// and the waterfall shows it so: search for the shard, jump to it
	await page.fill('input[type=search]', truth.where['db.name']);
	await page.keyboard.press('Enter');
	await page.waitForSelector('.wf-row.sel.match');
	await shot(page, 'trace-critical-path');
	assert.deepEqual(page.problems, []);
});

test('deep links restore the view; history and keyboard work', { skip, timeout: 60000 }, async () => {
	const page = await newPage(browser);
	const id = await anyTraceId();
	const tr = await getJson(`${base}/api/v1/traces/${id}`);
	const spanId = tr.json.spans[tr.json.spans.length - 1].spanId;
	await page.goto(`${base}/trace/${id}?span=${spanId}&find=SELECT&from=now-6h`);
	await page.waitForSelector(`.wf-row.sel[data-span-id="${spanId}"]`, { timeout: 10000 });
	assert.equal(await page.inputValue('input[type=search]'), 'SELECT');
	assert.match(await page.textContent('.range-btn'), /Last 6 hours/);
	await page.waitForSelector('.span-details');
	// keyboard: up moves the selection and the URL follows
	await page.locator('.wf-scroll').focus();
	await page.keyboard.press('ArrowUp');
	await page.waitForFunction((s) => !location.search.includes(s), spanId);
	const moved = new URL(page.url()).searchParams.get('span');
	assert.ok(moved && moved !== spanId);
	await page.reload();
	await page.waitForSelector(`.wf-row.sel[data-span-id="${moved}"]`, { timeout: 10000 });

	const q = '{ span.db.system = "postgresql" && duration > 1ms }';
	await page.goto(`${base}/explore?q=${encodeURIComponent(q)}&sel=errors&live=1`);
	assert.equal(await page.inputValue('input.tql'), q);
	await page.waitForSelector('.corr', { timeout: 10000 });
	assert.equal(await page.getAttribute('.live-btn', 'aria-pressed'), 'true');
	// time range picker: a preset is kept when moving to another page
	await page.click('.range-btn');
	await page.click('.range-menu >> text=Last 15 minutes');
	await page.waitForURL(/from=now-15m/);
	await page.click('nav >> text=Service map');
	await page.waitForURL(/\/\?.*from=now-15m/);
	await page.goBack();
	await page.waitForURL(/\/explore\?/);
	assert.equal(await page.inputValue('input.tql'), q);

	// autocomplete of attribute names and values
	await page.fill('input.tql', '{ resource.service.na');
	await page.waitForSelector('ul.ac li:text("resource.service.name")');
	await page.keyboard.press('Tab');
	await page.keyboard.type('= "acc');
	await page.waitForSelector('ul.ac li:text("accounts")');
	await page.keyboard.press('Tab');
	assert.equal(await page.inputValue('input.tql'), '{ resource.service.name = "accounts"');

	// the map by keyboard: a focused service opens its page with Enter
	await page.goto(`${base}/`);
	await page.focus('svg.map .node[data-service="accounts"]');
	await page.keyboard.press('Enter');
	await page.waitForURL(/\/service\/accounts/);
	await page.keyboard.press('e');
	await page.waitForURL(/\/explore/);
	await page.keyboard.press('/');
	assert.equal(await page.evaluate(() => document.activeElement?.className), 'tql', '/ focuses the query');
	await page.keyboard.press('Escape');
	await page.locator('input.tql').blur();
	await page.keyboard.press('g');
	await page.waitForURL((u) => new URL(u).pathname === '/');

	// theme
	await page.click('.theme-btn');
	const theme = await page.evaluate(() => document.documentElement.dataset.theme);
	assert.ok(theme === 'dark' || theme === 'light');
	await page.goto(`${base}/`);
	await page.waitForSelector('svg.map .node');
	assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme, 'the theme is remembered');
	await shot(page, `home-${theme}`);
	assert.deepEqual(page.problems, []);
});

test('the service map fits the screen, zooms, pans and finds a service', { skip, timeout: 60000 }, async () => {
	const page = await newPage(browser);
	await page.goto(`${base}/`);
	await page.waitForSelector('svg.map[data-zoom] .node', { timeout: 10000 });
	const vp = await page.locator('.map-viewport').boundingBox();
	// the layer's transform: screen = world * k + (x, y) inside the viewport
	const view = () => page.evaluate(() => {
		const m = document.querySelector('svg.map g.map-view').getAttribute('transform').match(/^translate\(([-\d.]+) ([-\d.]+)\) scale\(([\d.]+)\)$/);
		return { x: Number(m[1]), y: Number(m[2]), k: Number(m[3]) };
	});
	const outside = () => page.locator('svg.map .node rect').evaluateAll((rects, v) => rects.filter((r) => {
		const b = r.getBoundingClientRect();
		return b.left < v.x - 0.5 || b.top < v.y - 0.5 || b.right > v.x + v.width + 0.5 || b.bottom > v.y + v.height + 0.5;
	}).length, vp);
	const centreOf = async (sel) => { const b = await page.locator(sel).boundingBox(); return { x: b.x + b.width / 2, y: b.y + b.height / 2 }; };
	const vpCentre = await page.locator('.map-viewport').evaluate((el) => {
		const b = el.getBoundingClientRect();
		return { x: b.left + el.clientLeft + el.clientWidth / 2, y: b.top + el.clientTop + el.clientHeight / 2 };
	});
	const nodes = await page.locator('svg.map .node').count();
	assert.ok(nodes >= 20);

	// fitted when first drawn: every node inside the viewport
	assert.equal(await outside(), 0, 'fit shows every node');
	const fit = await view();
	assert.ok(fit.k > 0 && fit.k <= 1.5, `fit zoom ${fit.k}`);

	// the + button zooms in around the middle; nodes leave the viewport
	await page.click('button.map-zoom-in');
	const zin = await view();
	assert.ok(Math.abs(zin.k / fit.k - 1.25) < 0.01, `+ zooms by 1.25: ${fit.k} -> ${zin.k}`);
	await page.click('button.map-zoom-in');
	await page.click('button.map-zoom-in');
	assert.ok(await outside() > 0, 'zoomed in, some nodes are out of view');

	// the wheel zooms around the cursor: the point under it stays put
	const px = vp.x + vp.width * 0.3, py = vp.y + vp.height * 0.4;
	await page.mouse.move(px, py);
	const w0 = await view();
	await page.mouse.wheel(0, 200);
	await page.waitForFunction((k) => Number(document.querySelector('svg.map').dataset.zoom) < k, w0.k);
	const w1 = await view();
	assert.ok(w1.k < w0.k, 'wheel down zooms out');
	const lx = px - vp.x - 1, ly = py - vp.y - 1; // inside the 1px border
	assert.ok(Math.abs((lx - w0.x) / w0.k - (lx - w1.x) / w1.k) < 1, 'the world point under the cursor stays (x)');
	assert.ok(Math.abs((ly - w0.y) / w0.k - (ly - w1.y) / w1.k) < 1, 'the world point under the cursor stays (y)');
	await page.mouse.wheel(0, -400);
	await page.waitForFunction((k) => Number(document.querySelector('svg.map').dataset.zoom) > k, w1.k);

	// drag pans by the distance dragged, even starting on a node, and opens nothing
	const target = await centreOf('svg.map .node[data-service="accounts"]').catch(() => null);
	const from = target && target.x > vp.x + 10 && target.x < vp.x + vp.width - 200 && target.y > vp.y + 10 && target.y < vp.y + vp.height - 120
		? target : { x: vp.x + 20, y: vp.y + 20 };
	const d0 = await view();
	await page.mouse.move(from.x, from.y);
	await page.mouse.down();
	await page.mouse.move(from.x + 60, from.y + 40, { steps: 4 });
	await page.mouse.move(from.x + 120, from.y + 80, { steps: 4 });
	await page.mouse.up();
	const d1 = await view();
	assert.ok(Math.abs(d1.x - d0.x - 120) < 1 && Math.abs(d1.y - d0.y - 80) < 1 && d1.k === d0.k, `drag pans: ${JSON.stringify([d0, d1])}`);
	await page.waitForTimeout(200);
	assert.equal(new URL(page.url()).pathname, '/', 'a drag is not a click');

	// keyboard from anywhere but a text field: - zooms out, + in, 0 fits
	await page.locator('button.map-fit').focus();
	await page.keyboard.press('-');
	assert.ok((await view()).k < d1.k, '- zooms out');
	await page.keyboard.press('+');
	await page.keyboard.press('+');
	await page.keyboard.press('0');
	assert.deepEqual(await view(), fit, '0 fits again');
	assert.equal(await outside(), 0);
	await page.click('button.map-zoom-out');
	await page.click('button.map-fit');
	assert.deepEqual(await view(), fit, 'the Fit button fits');

	// find: typing highlights, Enter centres the match and puts it in the URL
	await page.fill('input.map-find', 'ACCOUN');
	const matched = await page.locator('svg.map .node.match').evaluateAll((els) => els.map((e) => e.dataset.service));
	assert.ok(matched.includes('accounts'), `matches ${matched}`);
	assert.ok(matched.every((n) => n.toLowerCase().includes('accoun')));
	assert.ok(matched.length < nodes);
	assert.match(await page.textContent('.map-find-count'), new RegExp(`^${matched.length} of ${nodes}$`));
	await page.keyboard.press('+'); // typed into the box, not a zoom
	assert.deepEqual(await view(), fit);
	await page.fill('input.map-find', 'accounts');
	await page.keyboard.press('Enter');
	await page.waitForURL(/[?&]focus=accounts(&|$)/);
	assert.match(await page.getAttribute('svg.map .node[data-service="accounts"]', 'class'), /\bfocused\b/);
	let c = await centreOf('svg.map .node[data-service="accounts"] rect');
	assert.ok(Math.abs(c.x - vpCentre.x) < 2 && Math.abs(c.y - vpCentre.y) < 2, `centred: ${JSON.stringify([c, vpCentre])}`);
	assert.ok((await view()).k >= 1, 'zoomed in to read it');
	// a deep link centres it again
	await page.reload();
	await page.waitForSelector('svg.map[data-zoom] .node.focused[data-service="accounts"]', { timeout: 10000 });
	assert.equal(await page.inputValue('input.map-find'), 'accounts');
	c = await centreOf('svg.map .node[data-service="accounts"] rect');
	assert.ok(Math.abs(c.x - vpCentre.x) < 2 && Math.abs(c.y - vpCentre.y) < 2, `centred after reload: ${JSON.stringify([c, vpCentre])}`);
	// a name matching nothing: said so, Enter moves nothing
	const v0 = await view();
	await page.fill('input.map-find', 'no-such-service-zz');
	assert.equal(await page.textContent('.map-find-count'), 'no match');
	assert.equal(await page.locator('svg.map .node.match').count(), 0);
	await page.keyboard.press('Enter');
	assert.deepEqual(await view(), v0);
	assert.match(page.url(), /focus=accounts/);
	// Escape clears the box, the highlight and the focus
	await page.keyboard.press('Escape');
	assert.equal(await page.inputValue('input.map-find'), '');
	await page.waitForFunction(() => !location.search.includes('focus='));
	assert.equal(await page.locator('svg.map .node.focused, svg.map .node.match').count(), 0);
	// a service the map does not have, by deep link: the whole map
	await page.goto(`${base}/?focus=${encodeURIComponent('no such "service"')}`);
	await page.waitForSelector('svg.map[data-zoom] .node', { timeout: 10000 });
	assert.deepEqual(await view(), fit);
	assert.equal(await page.textContent('.map-find-count'), 'no match');

	// '/' focuses the find box; hover and click still open the service page
	await page.keyboard.press('/');
	assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('map-find')), true);
	await page.keyboard.press('Escape');
	const node = page.locator('svg.map .node[data-service="accounts"]');
	await node.hover();
	await page.waitForSelector('.map-tip:not([hidden])');
	await node.click();
	await page.waitForURL(/\/service\/accounts/);
	assert.deepEqual(page.problems, []);
});

test('two traces side by side, and a 10,000-span trace scrolls as a virtual list', { skip, timeout: 60000 }, async (t) => {
	const page = await newPage(browser);
	const r = await getJson(`${base}/api/search?q=${encodeURIComponent('{ span.db.system = "postgresql" }')}&limit=2`);
	const [a, b] = r.json.traces.map((t) => t.traceID);
	await page.goto(`${base}/trace/${a}?compare=${b}`);
	await page.waitForFunction(() => document.querySelectorAll('.compare-grid .wf').length === 2, null, { timeout: 10000 });
	// a service has one colour in both panes
	const colours = await page.locator('.compare-grid .pane').evaluateAll((panes) => panes.map((p) =>
		Object.fromEntries([...p.querySelectorAll('.legend .chip')].map((c) => [c.textContent.split(' ')[0], c.querySelector('.dot').style.background]))));
	const common = Object.keys(colours[0]).filter((svc) => svc in colours[1]);
	assert.ok(common.length > 0, 'the two traces share services');
	for (const svc of common) assert.equal(colours[0][svc], colours[1][svc], svc);
	await shot(page, 'trace-compare');
	await page.click('text=Close comparison');
	await page.waitForFunction(() => !location.search.includes('compare'));

	// clock skew: a child on another host that starts 50 ms before its parent
	const skewId = 'cd'.repeat(16);
	const ts = BigInt(Date.now() - 60000) * 1000000n;
	const skewBody = JSON.stringify({ resourceSpans: [
		{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'front' } }] }, scopeSpans: [{ spans: [
			{ traceId: skewId, spanId: 'a1'.repeat(8), name: 'GET /', kind: 2, startTimeUnixNano: String(ts), endTimeUnixNano: String(ts + 100_000_000n) },
			{ traceId: skewId, spanId: 'a2'.repeat(8), parentSpanId: 'a1'.repeat(8), name: 'call back', kind: 3, startTimeUnixNano: String(ts + 10_000_000n), endTimeUnixNano: String(ts + 90_000_000n) }] }] },
		{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'back' } }] }, scopeSpans: [{ spans: [
			{ traceId: skewId, spanId: 'a3'.repeat(8), parentSpanId: 'a2'.repeat(8), name: 'handle', kind: 2, startTimeUnixNano: String(ts - 40_000_000n), endTimeUnixNano: String(ts + 30_000_000n) }] }] },
	] });
	const sp = await fetch(server.url('otlpHttp', '/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: skewBody });
	assert.equal(sp.status, 200, await sp.text());
	await page.goto(`${base}/trace/${skewId}`);
	await page.waitForSelector('.hint:not([hidden]):has-text("Clock skew")', { timeout: 10000 });
	await page.waitForSelector(`.wf-row[data-span-id="${'a3'.repeat(8)}"] .badge.warn`);
	await page.locator(`.wf-row[data-span-id="${'a3'.repeat(8)}"]`).click();
	await page.waitForSelector('.span-details th:text("Clock skew")');

	// one trace of 10,000 spans: a root with 100 children of 99 children each
	const traceId = 'ab'.repeat(16);
	const t0 = BigInt(Date.now() - 60000) * 1000000n;
	const spans = [{ traceId, spanId: '1'.padStart(16, '0'), name: 'root', kind: 2, startTimeUnixNano: String(t0), endTimeUnixNano: String(t0 + 10_000_000_000n) }];
	for (let i = 0; i < 100; i++) {
		const pid = (0x1000 + i).toString(16).padStart(16, '0');
		const ps = t0 + BigInt(i) * 100_000_000n;
		spans.push({ traceId, spanId: pid, parentSpanId: spans[0].spanId, name: `child ${i}`, kind: 3, startTimeUnixNano: String(ps), endTimeUnixNano: String(ps + 99_000_000n) });
		for (let j = 0; j < 99; j++) {
			const s = ps + BigInt(j) * 1_000_000n;
			spans.push({ traceId, spanId: (0x100000 + i * 100 + j).toString(16).padStart(16, '0'), parentSpanId: pid, name: `leaf ${i}.${j}`, kind: 1,
				startTimeUnixNano: String(s), endTimeUnixNano: String(s + 900_000n), attributes: [{ key: 'leaf', value: { intValue: String(j) } }] });
		}
	}
	const body = JSON.stringify({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'big' } }] }, scopeSpans: [{ scope: { name: 'ui-test' }, spans }] }] });
	const post = await fetch(server.url('otlpHttp', '/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/json' }, body });
	assert.equal(post.status, 200, await post.text());
	await page.goto(`${base}/trace/${traceId}`);
	await page.waitForSelector('.wf-row', { timeout: 15000 });
	// navigation start to the waterfall drawn (the UI's clew:trace-rendered
	// mark): fetching, building the tree and the critical path of 10,001 spans
	const shown = await markTime(page, 'clew:trace-rendered');
	record(t, '10,000-span trace: navigation start to waterfall drawn', shown, 'ms');
	assert.match(await page.textContent('.facts'), /10001\s*spans/);
	const rows = await page.locator('.wf-row').count();
	assert.ok(rows > 10 && rows < 200, `${rows} rows in the DOM, not 10,000`);
	assert.ok(shown < 3000, `rendered ${shown.toFixed(0)} ms after navigation start`);
	// scrolling: the scroll handler's time (it redraws the visible rows)
	// over 300 jumps through the whole trace, then the frame intervals while
	// the list scrolls 40 px a frame for two seconds
	const scroll = await page.evaluate(async () => {
		const el = document.querySelector('.wf-scroll');
		const handler = [];
		const max = el.scrollHeight - el.clientHeight;
		for (let i = 1; i <= 300; i++) {
			el.scrollTop = (max * ((i * 7919) % 300)) / 300;
			const t0 = performance.now();
			el.dispatchEvent(new Event('scroll'));
			handler.push(performance.now() - t0);
		}
		el.scrollTop = 0;
		const frames = [], steps = [];
		await new Promise((done) => {
			let last = performance.now();
			const end = last + 2000;
			const step = (now) => {
				frames.push(now - last);
				last = now;
				el.scrollTop += 40;
				const t0 = performance.now();
				el.dispatchEvent(new Event('scroll'));
				steps.push(performance.now() - t0);
				if (now < end) requestAnimationFrame(step); else done();
			};
			requestAnimationFrame(step);
		});
		const q = (a, f) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * f))];
		return { handlerP50: q(handler, 0.5), handlerP95: q(handler, 0.95), handlerMax: Math.max(...handler), stepP95: q(steps, 0.95),
			frames: frames.length, frameP50: q(frames, 0.5), frameP95: q(frames, 0.95), rowsInDom: document.querySelectorAll('.wf-row').length,
			top: el.scrollTop };
	});
	record(t, '10,000-span trace: scroll handler p50, jumps anywhere', scroll.handlerP50, 'ms');
	record(t, '10,000-span trace: scroll handler p95, jumps anywhere', scroll.handlerP95, 'ms');
	record(t, '10,000-span trace: scroll handler max, jumps anywhere', scroll.handlerMax, 'ms');
	record(t, '10,000-span trace: scroll handler p95, 40 px a frame', scroll.stepP95, 'ms');
	record(t, '10,000-span trace: frame interval p50 while scrolling', scroll.frameP50, 'ms');
	record(t, '10,000-span trace: frame interval p95 while scrolling', scroll.frameP95, 'ms');
	assert.ok(scroll.top > 1000, 'the list scrolled');
	assert.ok(scroll.rowsInDom < 200, `${scroll.rowsInDom} rows in the DOM after scrolling`);
	// a frame is 16.7 ms: a jump anywhere redraws the whole window within
	// one, a steady scroll (a few new rows a frame) in a fraction of one.
	// The medians are held to that; the tails get three frames, as a
	// machine busy with other work preempts the renderer now and then
	// (the figures above are what docs/benchmarks.md reports).
	assert.ok(scroll.handlerP50 < 16, `scroll handler p50 ${scroll.handlerP50} ms, jumps anywhere`);
	assert.ok(scroll.handlerP95 < 50, `scroll handler p95 ${scroll.handlerP95} ms, jumps anywhere`);
	assert.ok(scroll.stepP95 < 16, `scroll handler p95 ${scroll.stepP95} ms, 40 px a frame`);
	assert.ok(scroll.frameP50 < 34, `frames every ${scroll.frameP50} ms (p50) while scrolling`);
	// jump to the end and back with the keyboard
	await page.locator('.wf-row').first().click();
	await page.locator('.wf-scroll').focus();
	await page.keyboard.press('End');
	await page.waitForSelector('.wf-row.sel:has-text("leaf 99.98")');
	await page.keyboard.press('Home');
	await page.waitForSelector('.wf-row.sel:has-text("root")');
	assert.deepEqual(page.problems, []);
});

test('API errors and empty results are shown as such, never a blank page', { skip, timeout: 60000 }, async () => {
	// the browser logs each 4xx answer it is asked to provoke here ("Failed
	// to load resource"); those exact requests, and nothing else, are allowed
	const provoked = [
		/\/api\/v1\/traces\/0123456789abcdef0123456789abcdef$/,
		/\/api\/search\?q=%7B\+this\+is\+not\+traceql/,
		/\/api\/metrics\/query_range\?q=%7B\+this\+is\+not\+traceql/,
	];
	const page = await newPage(browser, { allow: (text, url) => /^(status 4\d\d|Failed to load resource: the server responded with a status of 4\d\d)/.test(text) && provoked.some((re) => re.test(url)) });
	await page.goto(`${base}/trace/0123456789abcdef0123456789abcdef`);
	await page.waitForSelector('.state.error:has-text("not found")');
	await page.goto(`${base}/explore?q=${encodeURIComponent('{ this is not traceql')}`);
	await page.waitForSelector('.state.error:has-text("search failed")');
	await page.waitForSelector('.state.error:has-text("heatmap is not available")');
	await page.goto(`${base}/nowhere/at/all`);
	await page.waitForSelector('.state.error:has-text("Page not found")');
	// two days ago: nothing stored then
	const from = Date.now() - 2 * 86400000;
	await page.goto(`${base}/explore?from=${from}&to=${from + 3600000}`);
	await page.waitForSelector('.state:has-text("No traces match")');
	await page.goto(`${base}/?from=${from}&to=${from + 3600000}`);
	await page.waitForSelector('.state:has-text("No services yet")');
	await shot(page, 'empty');
	await page.goto(`${base}/service/accounts?from=${from}&to=${from + 3600000}`);
	await page.waitForSelector('section.panel:has(h3:text("Recent errors")) .state:has-text("No errors in this time range")');
	await page.waitForSelector('section.panel:has(h3:text("Operations")) .state:has-text("No operations")');
	assert.deepEqual(page.problems, []);

	// a server that has gone away: every view says so instead of going blank
	const gone = await newPage(browser, { allow: (text) => /Failed to load resource|ERR_CONNECTION_REFUSED/.test(text) });
	await gone.goto(`${base}/`);
	await gone.waitForSelector('svg.map .node', { timeout: 10000 });
	await gone.route('**/api/**', (r) => r.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":503,"message":"over the memory budget; retry later"}}' }));
	await gone.click('nav >> text=Explore');
	await gone.waitForSelector('.state.error:has-text("over the memory budget")');
	await gone.click('nav >> text=Customers');
	await gone.waitForSelector('.state.error:has-text("over the memory budget")');
	assert.deepEqual(gone.problems.filter((p) => !/HTTP 503 .*\/api\//.test(p)), []);
	await gone.context().close();
});

function rawGet(p, headers = {}) {
	const u = new URL(base);
	return new Promise((resolve, reject) => {
		const req = http.request({ host: u.hostname, port: u.port, path: p, headers }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
		});
		req.on('error', reject);
		req.end();
	});
}

test('clew serve serves the built UI: types, caching, gzip, deep links, no traversal', { skip, timeout: 30000 }, async () => {
	const index = await rawGet('/');
	assert.equal(index.status, 200);
	assert.match(index.headers['content-type'], /^text\/html/);
	assert.match(index.body, /app\.js/);
	const js = await rawGet('/app.js', { 'accept-encoding': 'gzip' });
	assert.equal(js.status, 200);
	assert.match(js.headers['content-type'], /^text\/javascript/);
	assert.equal(js.headers['content-encoding'], 'gzip');
	const again = await rawGet('/app.js', { 'if-none-match': js.headers.etag });
	assert.equal(again.status, 304);
	assert.match((await rawGet('/app.css')).headers['content-type'], /^text\/css/);
	for (const p of ['/explore?q=%7B%7D', '/trace/abc123', '/service/accounts', '/customers?account=x']) {
		const r = await rawGet(p);
		assert.equal(r.status, 200, p);
		assert.equal(r.body, index.body, p);
	}
	for (const p of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/%2E%2E%5c..%5cetc/passwd', '/.hidden', '/missing.js']) {
		const r = await rawGet(p);
		assert.equal(r.status, 404, p);
		assert.doesNotMatch(r.body, /root:/, p);
	}
	const api404 = await rawGet('/api/v1/no-such-endpoint');
	assert.equal(api404.status, 404);
	assert.match(api404.headers['content-type'], /json/);
});
