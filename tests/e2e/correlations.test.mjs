// Correlations and comparison end to end: `clew gen` traffic with planted
// faults (fixed seeds) into clew; /api/v1/correlations must name each
// fault's planted cause first for the right signal and population, two
// scenarios running at once must each come out for their own population,
// /api/v1/compare between the fault window and the window before must name
// the planted attribute first, and the answers (correlations, compare
// against a baseline and compare by attribute) must be the same with the
// data in the head, in fresh blocks and after compaction. `clew why` and
// `clew compare` print the same first rows.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { getJson, request } from './lib/http.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

const T0 = Date.parse('2026-01-01T00:00:00Z') / 1000;
const PART_S = 25; // simulated seconds per part (--clock-rate 1000)
const PART_SPANS = 25000;

// Send one part of traffic; returns the faults' ground truth (the "on" lines).
function gen(server, part, seed, faults, spans = PART_SPANS) {
	const args = ['gen', '--target', server.url('otlpHttp'), '--rate', 'max', '--clock-rate', '1000',
		'--spans', String(spans), '--seed', String(seed),
		'--start', new Date((T0 + part * PART_S) * 1000).toISOString().replace('.000', '')];
	for (const f of faults) args.push('--fault', `${f}:start=0s,duration=1h`);
	const r = spawnSync(CLEW_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
	assert.equal(r.status, 0, String(r.stderr));
	return r.stderr.toString().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
		.filter((f) => f.state === 'on');
}

async function flush(server, compact) {
	const r = await request(server.url('http', `/flush${compact ? '?compact=1' : ''}`), { method: 'POST' });
	assert.equal(r.status, 204, r.body.toString());
}

async function corr(server, params) {
	const qs = new URLSearchParams(params).toString();
	const r = await getJson(server.url('http', `/api/v1/correlations?${qs}`));
	assert.equal(r.status, 200, r.text);
	return r.json;
}

async function compare(server, params) {
	const qs = new URLSearchParams(params).toString();
	const r = await getJson(server.url('http', `/api/v1/compare?${qs}`));
	assert.equal(r.status, 200, r.text);
	return r.json;
}

// Everything but the example trace ids, which depend on the scan order.
const stable = (j) => JSON.stringify(j, (k, v) => (k === 'exampleTraceIds' || k === 'inspectedSpans' ? undefined : v));

const FAULT_WINDOW = { start: String(T0 + 2 * PART_S), end: String(T0 + 4 * PART_S - 1) };
const BEFORE = { baselineStart: String(T0), baselineEnd: String(T0 + 2 * PART_S - 1) };

// The questions asked of the data of parts 0..3 (faults in parts 2 and 3).
async function ask(server, truth) {
	const version = truth['bad-deploy'].where['service.version'];
	const out = {};
	// slow-shard: the slow database calls are those of shard 3
	out.shard = await corr(server, { q: '{ span.db.system = "postgresql" }', ...FAULT_WINDOW, signal: 'latency',
		threshold: 'p99' });
	// bad-deploy: GetAccount fails on the new version
	out.deploy = await corr(server, { q: '{ name = "accounts.v1.Accounts/GetAccount" }', ...FAULT_WINDOW,
		signal: 'error' });
	// slow-dependency (+1500 ms): the client calls that take over 1.4 s
	// themselves (not waiting on a traced child) go to the payments provider
	out.dep = await corr(server, { q: '{ kind = client }', ...FAULT_WINDOW, signal: 'latency', threshold: '1400ms',
		duration: 'self' });
	// compare: the accounts service now against before names the new version
	out.cmp = await compare(server, { q: '{ resource.service.name = "accounts" }', ...FAULT_WINDOW, ...BEFORE });
	// compare by attribute: two services' server spans in the fault window
	out.cmpBy = await compare(server, { q: '{ kind = server }', ...FAULT_WINDOW, by: 'resource.service.name',
		a: 'accounts', b: 'billing' });
	const first = (j) => j.correlations[0] || {};
	assert.equal(first(out.shard).key, 'span.db.name', stable(out.shard));
	assert.equal(first(out.shard).value, truth['slow-shard'].where['db.name']);
	assert.ok(first(out.shard).with.p99 > first(out.shard).without.p99);
	assert.equal(first(out.deploy).key, 'resource.service.version', stable(out.deploy));
	assert.equal(first(out.deploy).value, version);
	assert.ok(out.deploy.correlations.every((c) => c.key !== 'status'), 'status is a symptom, not a cause');
	assert.match(`${first(out.dep).key}=${first(out.dep).value}`, /payments-provider/, stable(out.dep));
	assert.equal(out.cmp.attributes[0].key, 'resource.service.version', stable(out.cmp.attributes));
	assert.equal(out.cmp.attributes[0].value, version);
	assert.ok(out.cmp.b.errors.rate > out.cmp.a.errors.rate, 'more errors in the fault window');
	assert.ok(out.cmp.criticalPath.length > 0);
	assert.equal(out.cmpBy.mode, 'by');
	assert.ok(out.cmpBy.a.count > 0 && out.cmpBy.b.count > 0, stable(out.cmpBy));
	assert.ok(out.cmpBy.attributes.length > 0 && out.cmpBy.criticalPath.length > 0, stable(out.cmpBy));
	for (const j of [out.shard, out.deploy, out.dep]) {
		assert.ok(j.bad.count > 0 && j.rest.count > 0);
		for (const c of j.correlations) {
			assert.ok(c.exampleTraceIds.length >= 1 && c.exampleTraceIds.every((id) => /^[0-9a-f]{32}$/.test(id)));
			assert.ok(c.bad.count <= j.bad.count && c.rest.count <= j.rest.count);
		}
	}
	return out;
}

test('three faults at once: each cause first for its population; head, blocks and compaction agree', { skip: skipReason }, async () => {
	const args = ['--retention', '0', '--block-interval', '1h', '--wal-sync', 'none'];
	const head = await startClew({ args });
	const blocks = await startClew({ args });
	const faults = ['slow-shard', 'bad-deploy', 'slow-dependency'];
	try {
		let truth = {};
		for (let part = 0; part < 4; part++) {
			const f = part >= 2 ? faults : [];
			gen(head, part, 40 + part, f);
			for (const t of gen(blocks, part, 40 + part, f)) truth[t.fault] = t;
			await flush(blocks, false);
		}
		assert.deepEqual(Object.keys(truth).sort(), [...faults].sort());
		const a = await ask(head, truth);
		const b = await ask(blocks, truth);
		await flush(blocks, true);
		const c = await ask(blocks, truth);
		for (const k of Object.keys(a)) {
			assert.equal(stable(b[k]), stable(a[k]), `${k}: blocks differ from the head`);
			assert.equal(stable(c[k]), stable(a[k]), `${k}: compacted blocks differ from the head`);
		}
		// the CLI prints the same first row
		const why = execFileSync(CLEW_BIN, ['why', '--server', head.url('http'), '--start', FAULT_WINDOW.start,
			'--end', FAULT_WINDOW.end, '{ span.db.system = "postgresql" }']).toString();
		const row = why.split('\n')[2];
		assert.match(row, /^span\.db\.name\s+accounts_shard_3\s/, why);
		const cmp = execFileSync(CLEW_BIN, ['compare', '--server', head.url('http'), '--start', FAULT_WINDOW.start,
			'--end', FAULT_WINDOW.end, '--baseline-start', BEFORE.baselineStart, '--baseline-end', BEFORE.baselineEnd,
			'{ resource.service.name = "accounts" }']).toString();
		assert.match(cmp, new RegExp(`resource\\.service\\.version\\s+${truth['bad-deploy'].where['service.version'].replace(/\./g, '\\.')}`), cmp);
		const json = JSON.parse(execFileSync(CLEW_BIN, ['why', '--json', '--server', head.url('http'), '--all',
			'--signal', 'error', '{ name = "accounts.v1.Accounts/GetAccount" }']).toString());
		assert.equal(json.correlations[0].key, 'resource.service.version');
	} finally {
		await head.cleanup();
		await blocks.cleanup();
	}
});

test('a huge account, a retry storm, a noisy host: account for latency, peer for errors, host', { skip: skipReason }, async () => {
	const servers = [];
	try {
		const truth = {};
		for (const [seed, fault] of [[7, 'huge-account'], [8, 'retry-storm'], [9, 'noisy-host']]) {
			const s = await startClew({ args: ['--wal-sync', 'none'] });
			servers.push(s);
			for (const t of gen(s, 0, seed, [fault], 60000)) truth[t.fault] = t;
		}
		const [acctS, retryS, hostS] = servers;
		// latency relative to each operation: the account is slow for what it does
		const acct = await corr(acctS, { q: '{ kind = server }', signal: 'latency', threshold: 'p99',
			relative: 'operation' });
		assert.equal(acct.relative, 'operation');
		assert.equal(acct.correlations[0].key, 'span.customer.id', stable(acct));
		assert.equal(acct.correlations[0].value, truth['huge-account'].who['customer.id']);
		// errors of the client calls: the retried peer
		const retry = await corr(retryS, { q: '{ kind = client }', signal: 'error' });
		assert.match(`${retry.correlations[0].key}=${retry.correlations[0].value}`, /accounts/, stable(retry));
		const host = await corr(hostS, { q: '{ kind = server }', signal: 'latency', relative: 'operation' });
		assert.equal(host.correlations[0].key, 'resource.host.name', stable(host));
		assert.equal(host.correlations[0].value, truth['noisy-host'].where.host);
		// trace level answers too, with trace counts
		const tl = await corr(retryS, { q: '{ kind = client }', signal: 'error', level: 'trace', limit: '3' });
		assert.equal(tl.level, 'trace');
		assert.ok(tl.correlations.length <= 3 && tl.bad.count > 0);
		// compare by attribute value within one window: another account
		// against the huge one; B's spans are those correlations counted
		const other = acct.correlations.find((c) => c.key === 'span.customer.id' && c.value !== acct.correlations[0].value);
		assert.ok(other, 'a second account among the results');
		const by = await compare(acctS, { q: '{ kind = server }', by: 'span.customer.id', a: other.value,
			b: acct.correlations[0].value });
		assert.equal(by.mode, 'by');
		assert.equal(by.b.count, acct.correlations[0].bad.count + acct.correlations[0].rest.count);
		assert.equal(by.a.count, other.bad.count + other.rest.count);
		assert.ok(by.attributes.every((c) => c.key !== 'span.customer.id'));
		assert.ok(Math.abs(by.difference.p50 - (by.b.latency.p50 - by.a.latency.p50)) < 0.01);
	} finally {
		for (const s of servers) await s.cleanup();
	}
});

test('bad requests get 400 with the native error shape', { skip: skipReason }, async () => {
	const s = await startClew();
	try {
		const bad = [
			'/api/v1/correlations?q=%7B%20nope&start=1',
			'/api/v1/correlations?signal=slow',
			'/api/v1/correlations?threshold=p100',
			'/api/v1/correlations?threshold=fast',
			'/api/v1/correlations?signal=error&threshold=1s',
			'/api/v1/correlations?level=span2',
			'/api/v1/correlations?relative=host',
			'/api/v1/correlations?duration=wall',
			'/api/v1/correlations?limit=0',
			'/api/v1/correlations?start=20&end=10',
			'/api/v1/correlations?start=yesterday',
			'/api/v1/correlations?q=%7B%7D%20%7C%20rate()',
			'/api/v1/compare?q=%7B%7D',
			'/api/v1/compare?by=span.x&a=1',
			'/api/v1/compare?by=%7B%7D&a=1&b=2',
			'/api/v1/compare?by=span.x&a=1&b=2&baselineStart=1&baselineEnd=2',
			'/api/v1/compare?baselineStart=5&baselineEnd=1',
		];
		for (const p of bad) {
			const r = await getJson(s.url('http', p));
			assert.equal(r.status, 400, `${p}: ${r.text}`);
			assert.equal(r.json.error.code, 400, p);
			assert.ok(r.json.error.message.length > 5, p);
		}
		const empty = await corr(s, { q: '{}' });
		assert.deepEqual([empty.bad.count, empty.rest.count, empty.correlations.length], [0, 0, 0]);
	} finally {
		await s.cleanup();
	}
});
