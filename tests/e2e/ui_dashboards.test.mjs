// The web UI's dashboards in a real browser against a real clew serve fed
// by clew gen: the empty list offers templates; "Service overview" is
// created from its template, a service is picked, and every panel draws
// real data; the shared URL (dashboard, variable, time range) reloads to
// the same view; a panel is edited and saved (a new version); a bar panel
// draws bars, and an account variable takes All and then several accounts
// (the queries run, the URL carries them, a reload keeps them), while a
// variable used outside a comparison keeps one value. No console errors.
// Screenshots go to test-artifacts/ui/.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { browserSkipReason, launchBrowser, newPage } from './lib/browser.mjs';
import { getJson, request } from './lib/http.mjs';
import { CLEW_BIN, REPO_ROOT, skipReason, sleep, startClew } from './lib/server.mjs';

const UI_DIR = path.join(REPO_ROOT, 'build', 'ui');
const SHOTS = path.join(REPO_ROOT, 'test-artifacts', 'ui');
const skip = skipReason || browserSkipReason ||
	(existsSync(path.join(UI_DIR, 'index.html')) ? false : 'the UI is not built (make ui)') ||
	(process.env.CLEW_E2E_SANITIZER === '1' ? 'the UI tests run against the release build' : false);

let server;
let browser;
let base;
let gen;
let sharedUrl;
let picked;

before(async () => {
	if (skip) return;
	server = await startClew({ args: ['--wal-sync', 'none', '--ui-dir', UI_DIR] });
	base = server.url('http');
	gen = spawn(CLEW_BIN, ['gen', '--target', server.url('otlpHttp'), '--rate', '800', '--accounts', '20', '--seed', '11', '--duration', '120s'],
		{ stdio: ['ignore', 'ignore', 'ignore'] });
	browser = await launchBrowser();
	mkdirSync(SHOTS, { recursive: true });
	await sleep(4000);
});

after(async () => {
	if (gen && gen.exitCode === null) {
		gen.kill('SIGTERM');
		await new Promise((r) => gen.on('exit', r));
	}
	await browser?.close();
	if (server) {
		const problems = await server.stopClean();
		await server.cleanup();
		assert.deepEqual(problems, []);
	}
});

async function shot(page, name) {
	await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function waitFor(what, fn, ms = 30000) {
	const t0 = Date.now();
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
		await sleep(300);
	}
}

// Every panel finished; the states and series counts by panel id.
async function panelsDone(page) {
	return waitFor('every panel drawn', async () => {
		const st = await page.$$eval('.dash-panel', (els) => els.map((e) => ({
			id: e.dataset.panel, state: e.querySelector('.dash-body')?.dataset.state, series: Number(e.querySelector('.dash-body')?.dataset.series || 0),
			query: e.querySelector('.dash-body')?.dataset.query || '',
		})));
		return st.length && st.every((x) => x.state === 'done' || x.state === 'error') ? st : null;
	});
}

test('a dashboard is created from the template, a service picked, and every panel shows data', { skip, timeout: 90000 }, async () => {
	const page = await newPage(browser);
	await page.goto(`${base}/dashboards`);
	await page.waitForSelector('text=No dashboards yet');
	await page.waitForSelector('[data-template=service-overview]');
	await shot(page, 'dashboards-empty');
	await page.click('[data-template=service-overview]');
	await page.waitForURL(/\/dashboards\/[0-9a-f]{16}/);
	await page.waitForSelector('select[data-var=service]:not([disabled])');
	const options = await page.$$eval('select[data-var=service] option', (os) => os.map((o) => o.value));
	const services = (await getJson(`${base}/api/v2/search/tag/resource.service.name/values`)).json.tagValues.map((t) => t.value);
	assert.ok(options.length > 1, JSON.stringify(options));
	for (const o of options) assert.ok(services.includes(o), `${o} is a service`);
	// the busiest service's spans carry the most operations; any with traffic will do
	picked = options[1];
	await page.selectOption('select[data-var=service]', picked);
	await waitFor('the URL carries the variable', async () => new URL(page.url()).searchParams.get('var-service') === picked);
	await sleep(300);
	const st = await panelsDone(page);
	assert.deepEqual(st.map((x) => x.id), ['rate', 'errors', 'latency', 'slowest', 'total', 'errcount', 'heat']);
	for (const x of st) {
		assert.equal(x.state, 'done', `${x.id}: ${x.query}`);
		assert.ok(x.query.includes(`"${picked}"`) && !x.query.includes('$'), x.query);
	}
	for (const id of ['rate', 'latency', 'slowest', 'total', 'heat']) assert.ok(st.find((x) => x.id === id).series > 0, `${id} has data`);
	assert.ok(await page.$('[data-panel=rate] .uplot canvas'), 'the rate chart is drawn');
	assert.ok(await page.$('[data-panel=heat] canvas.heat-canvas'), 'the heatmap is drawn');
	const total = await page.textContent('[data-panel=total] .stat-value');
	assert.match(total, /^\d/);
	await shot(page, 'dashboards-service-overview');
	// a range other than the default, so the shared link carries it
	await page.goto(`${page.url()}&from=now-15m`);
	await page.waitForSelector('select[data-var=service]:not([disabled])');
	sharedUrl = page.url();
	assert.deepEqual(page.problems, []);
	await page.context().close();
});

test('the shared URL opens the same view', { skip, timeout: 60000 }, async () => {
	assert.ok(sharedUrl, 'the first test made a dashboard');
	const page = await newPage(browser);
	await page.goto(sharedUrl);
	await page.waitForSelector('select[data-var=service]:not([disabled])');
	assert.equal(await page.$eval('select[data-var=service]', (s) => s.value), picked);
	assert.match(await page.textContent('.range-btn'), /15 minutes/);
	const st = await panelsDone(page);
	assert.ok(st.find((x) => x.id === 'rate').series > 0);
	assert.ok(st.every((x) => x.query.includes(`"${picked}"`)));
	assert.equal(await page.textContent('h2'), 'Service overview');
	// the list links to it
	await page.click('text=‹ All dashboards');
	await page.waitForSelector('.dash-table');
	assert.equal(await page.$$eval('.dash-table tbody tr', (r) => r.length), 1);
	assert.deepEqual(page.problems, []);
	await page.context().close();
});

test('a panel is edited with its preview and saved as a new version', { skip, timeout: 60000 }, async () => {
	const page = await newPage(browser);
	await page.goto(sharedUrl);
	await page.click('text=Edit');
	await page.waitForSelector('.dash-grid.editing');
	const q = page.locator('[data-panel=rate] textarea');
	await q.fill(`{ resource.service.name = "$service" && kind = server } | rate()`);
	await waitFor('the preview ran the new query', async () => (await page.$eval('[data-panel=rate] .dash-body', (b) => b.dataset.query)) === `{ resource.service.name = "${picked}" && kind = server } | rate()`);
	await page.locator('[data-panel=rate] input[aria-label="Panel title"]').fill('Server requests');
	await shot(page, 'dashboards-edit');
	await page.click('button:has-text("Save")');
	await page.waitForSelector('[data-panel=rate] h3:has-text("Server requests")');
	assert.ok(!new URL(page.url()).searchParams.has('edit'));
	const id = new URL(page.url()).pathname.split('/').pop();
	const d = (await getJson(`${base}/api/v1/dashboards/${id}`)).json;
	assert.equal(d.version, 2);
	assert.equal(d.panels[0].title, 'Server requests');
	assert.deepEqual(page.problems, []);
	await page.context().close();
});

test('a bar panel draws bars; an account variable takes All, then several accounts', { skip, timeout: 90000 }, async () => {
	const doc = {
		id: 'accounts-multi', title: 'Accounts $account',
		variables: [
			{ name: 'account', label: 'Account', query: { tag: 'span.customer.id' }, multi: true, includeAll: true },
			{ name: 'q', query: { values: ['0.99', '0.5'] }, multi: true, includeAll: true },
		],
		panels: [
			{ id: 'bars', title: 'Requests by service', type: 'bar', unit: 'reqps', query: '{ span.customer.id = "$account" } | rate() by (resource.service.name)' },
			{ id: 'errs', title: 'Errors', type: 'line', query: '{ span.customer.id = "$account" && status = error } | count_over_time()' },
			{ id: 'quant', title: 'Quantile $q', type: 'line', unit: 's', query: '{ span.customer.id = "$account" } | quantile_over_time(duration, $q)' },
		],
	};
	const made = await request(`${base}/api/v1/dashboards`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc) });
	assert.equal(made.status, 201, made.body.toString());
	const stored = JSON.parse(made.body.toString());
	assert.equal(stored.variables[0].multi, true);
	assert.equal(stored.variables[0].includeAll, true);
	const page = await newPage(browser);
	await page.goto(`${base}/dashboards/accounts-multi`);
	await page.waitForSelector('select[data-var=account]:not([disabled])');
	// All by default: the comparison is dropped, every account counts
	assert.equal(await page.$eval('select[data-var=account]', (s) => s.multiple), true);
	assert.deepEqual(await page.$$eval('select[data-var=account] option:checked', (os) => os.map((o) => o.value)), ['$__all']);
	assert.equal(new URL(page.url()).searchParams.get('var-account'), '$__all');
	let st = await panelsDone(page);
	const byId = (id) => st.find((x) => x.id === id);
	assert.equal(byId('bars').state, 'done', byId('bars').query);
	assert.equal(byId('bars').query, '{ true } | rate() by (resource.service.name)');
	assert.ok(byId('bars').series > 0, 'All has data');
	assert.ok(await page.$('[data-panel=bars] .chart-bars .uplot canvas'), 'the bar chart is drawn');
	assert.match(await page.textContent('h2'), /Accounts/);
	// q is a quantile, not a comparison: one value only, no All
	assert.equal(await page.$eval('select[data-var=q]', (s) => s.multiple), false);
	assert.deepEqual(await page.$$eval('select[data-var=q] option', (os) => os.map((o) => o.value)), ['0.99', '0.5']);
	assert.equal(byId('quant').query, '{ true } | quantile_over_time(duration, 0.99)');
	assert.equal(byId('quant').state, 'done');
	// two accounts
	const accounts = (await page.$$eval('select[data-var=account] option', (os) => os.map((o) => o.value))).filter((v) => v !== '$__all');
	assert.ok(accounts.length >= 2, JSON.stringify(accounts));
	const two = accounts.slice(0, 2);
	// an account picked beside All replaces it
	await page.selectOption('select[data-var=account]', ['$__all', two[0]]);
	await waitFor('the URL carries the one account', async () => JSON.stringify(new URL(page.url()).searchParams.getAll('var-account')) === JSON.stringify([two[0]]));
	assert.deepEqual(await page.$$eval('select[data-var=account] option:checked', (os) => os.map((o) => o.value)), [two[0]]);
	await page.selectOption('select[data-var=account]', two);
	await waitFor('the URL carries both accounts', async () => JSON.stringify(new URL(page.url()).searchParams.getAll('var-account')) === JSON.stringify(two));
	await waitFor('the panels ran with both accounts', async () => (await page.$eval('[data-panel=bars] .dash-body', (b) => b.dataset.query))
		=== `{ (span.customer.id = "${two[0]}" || span.customer.id = "${two[1]}") } | rate() by (resource.service.name)`);
	st = await panelsDone(page);
	for (const id of ['bars', 'errs']) assert.equal(byId(id).state, 'done', `${id}: ${byId(id).query}`);
	assert.equal(byId('errs').query, `{ (span.customer.id = "${two[0]}" || span.customer.id = "${two[1]}") && status = error } | count_over_time()`);
	assert.ok(byId('bars').series > 0, 'two accounts have data');
	assert.equal(await page.textContent('[data-panel=bars] h3'), 'Requests by service');
	await shot(page, 'dashboards-multi-accounts');
	// the link keeps them
	await page.goto(page.url());
	await page.waitForSelector('select[data-var=account]:not([disabled])');
	assert.deepEqual(await page.$$eval('select[data-var=account] option:checked', (os) => os.map((o) => o.value)), two);
	st = await panelsDone(page);
	assert.ok(byId('bars').query.includes(`"${two[1]}"`));
	assert.deepEqual(page.problems, []);
	await page.context().close();
});
