// Critical path over clew gen fault scenarios: for every scenario that slows
// something down, the segment whose share grew most in the fault window
// (against the half minute before it) is the slow service and operation of
// the ground truth; two faults at once are told apart; the answers are the
// same with the data in the head, in fresh blocks and after compaction; the
// per-trace path; bad input; the CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { getJson } from './lib/http.mjs';
import { generateFaultSlots, flushHead, sendRecords } from './lib/fault_slots.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

const execFileP = promisify(execFile);
const SLOT = 60; // seconds per scenario: half a minute before, half with the fault
const HALF = 30;
const RATE = 400; // simulated spans per second
const SCENARIOS = [['slow-shard'], ['slow-dependency'], ['noisy-host'], ['retry-storm'], ['bad-deploy'],
	['huge-account'], ['slow-shard', 'slow-dependency']];

const generate = (dir) => generateFaultSlots(dir, { scenarios: SCENARIOS, slot: SLOT, half: HALF, rate: RATE });

async function api(server, p) {
	const r = await getJson(server.url('http', p));
	assert.equal(r.status, 200, `${p}: ${r.text.slice(0, 300)}`);
	return r.json;
}

const qs = (o) => Object.entries(o).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

// The critical path of slot i: fault window against the half minute before.
function slotPath(server, t0, i, q = '{}') {
	const bs = t0 + i * SLOT, fs = bs + HALF;
	return api(server, `/api/v1/critical-path?${qs({ q, start: fs, end: fs + HALF - 1, baselineStart: bs, baselineEnd: bs + HALF - 1 })}`);
}

const byChange = (cp) => [...cp.segments].sort((a, b) => b.change - a.change);

// The TraceQL condition that a fault's where names.
function whereClause(t) {
	const w = t.where;
	if (w['db.name']) return `span.db.name = "${w['db.name']}"`;
	if (w['peer.service']) return `span.peer.service = "${w['peer.service']}"`;
	if (w.host) return `resource.host.name = "${w.host}"`;
	if (w.service) return `resource.service.name = "${w.service}"`;
	return null;
}

// Some span of (service, name) in the window matches the fault's where.
async function segmentMatches(server, seg, t, start, end) {
	const q = `{ resource.service.name = "${seg.service}" && name = "${seg.name}" && ${whereClause(t)} }`;
	const r = await api(server, `/api/search?${qs({ q, start, end, limit: 1 })}`);
	return r.traces.length > 0;
}

let data, head, blocks, dir;

async function setup() {
	if (data) return;
	dir = mkdtempSync(path.join(tmpdir(), 'clew-cp-'));
	data = await generate(dir);
	const args = ['--retention', '0', '--block-interval', '1h'];
	head = await startClew({ args });
	blocks = await startClew({ args });
	await sendRecords(head, data.records);
	const parts = 4, per = Math.ceil(data.records.length / parts);
	for (let k = 0; k < parts; k++) {
		await sendRecords(blocks, data.records.slice(k * per, (k + 1) * per));
		await flushHead(blocks, false);
	}
}

async function teardown() {
	const problems = [];
	for (const s of [head, blocks]) {
		if (!s) continue;
		problems.push(...await s.stopClean());
		await s.cleanup();
	}
	if (dir) rmSync(dir, { recursive: true, force: true });
	assert.deepEqual(problems, [], 'clean exits');
}

test('critical path: the slow segment of every slowing fault comes out on top', { skip: skipReason }, async () => {
	await setup();
	const { t0, truth } = data;
	assert.equal(truth.length, 8, 'one ground truth line per fault');
	for (const [i, names] of SCENARIOS.entries()) {
		const t = truth.find((x) => x.fault === names[0] && Date.parse(x.at) / 1000 === t0 + i * SLOT + HALF);
		assert.ok(t, `ground truth of ${names}`);
		if (names.length > 1 || !['slow-shard', 'slow-dependency', 'noisy-host', 'retry-storm'].includes(names[0])) continue;
		const cp = await slotPath(head, t0, i);
		assert.ok(cp.traces > 100 && cp.baselineTraces > 100, `${names}: traces ${cp.traces}/${cp.baselineTraces}`);
		const top = byChange(cp)[0];
		assert.ok(top.change > 0.01, `${names}: top change ${JSON.stringify(top)}`);
		const fs = t0 + i * SLOT + HALF;
		assert.ok(await segmentMatches(head, top, t, fs, fs + HALF),
			`${names}: top segment ${top.service} / ${top.name} is not where the fault is (${JSON.stringify(t.where)})`);
		// shares are fractions of the end-to-end latency, largest first
		const sum = cp.segments.reduce((s, x) => s + x.share, 0);
		assert.ok(Math.abs(sum - 1) < 1e-6, `${names}: shares sum to ${sum}`);
		for (let k = 1; k < cp.segments.length; k++) assert.ok(cp.segments[k - 1].share >= cp.segments[k].share);
	}
	// slow-shard names the shard's query; slow-dependency the payments provider call
	const shard = byChange(await slotPath(head, t0, 0))[0];
	assert.match(shard.name, /accounts_shard_3/);
	assert.ok(shard.selfMs.p99 > shard.selfMs.p50 && shard.selfMs.p50 > 0);
});

test('critical path: two faults at once are told apart', { skip: skipReason }, async () => {
	await setup();
	const { t0, truth } = data;
	const i = SCENARIOS.length - 1, fs = t0 + i * SLOT + HALF;
	const top = byChange(await slotPath(head, t0, i)).slice(0, 3);
	const shard = truth.find((x) => x.fault === 'slow-shard' && Date.parse(x.at) / 1000 === fs);
	const dep = truth.find((x) => x.fault === 'slow-dependency' && Date.parse(x.at) / 1000 === fs);
	const hits = async (t) => {
		for (const s of top) if (s.change > 0 && await segmentMatches(head, s, t, fs, fs + HALF)) return s;
		return null;
	};
	const a = await hits(shard), b = await hits(dep);
	assert.ok(a && b && a !== b, `top changes ${JSON.stringify(top.map((s) => [s.service, s.name, s.change]))}`);
});

test('critical path: huge-account slows its own traces everywhere', { skip: skipReason }, async () => {
	await setup();
	const { t0, truth } = data;
	const i = 5, bs = t0 + i * SLOT, fs = bs + HALF;
	const t = truth.find((x) => x.fault === 'huge-account');
	const q = `{ span.customer.id = "${t.who['customer.id']}" }`;
	const during = await api(head, `/api/v1/critical-path?${qs({ q, start: fs, end: fs + HALF - 1 })}`);
	const before = await api(head, `/api/v1/critical-path?${qs({ q, start: bs, end: bs + HALF - 1 })}`);
	assert.ok(during.traces >= 3 && before.traces >= 3, `${during.traces} / ${before.traces} traces`);
	// no single segment stands out: its traces as a whole got slower
	assert.ok(during.meanMs > 1.5 * before.meanMs, `mean ${during.meanMs} ms against ${before.meanMs} ms`);
});

test('critical path: the same answers from the head, fresh blocks and compacted blocks', { skip: skipReason }, async () => {
	await setup();
	const { t0 } = data;
	const whole = `/api/v1/critical-path?${qs({ start: t0, end: t0 + SLOT * SCENARIOS.length })}`;
	const slot = `/api/v1/critical-path?${qs({ start: t0 + HALF, end: t0 + SLOT - 1, baselineStart: t0, baselineEnd: t0 + HALF - 1 })}`;
	const filtered = `/api/v1/critical-path?${qs({ q: '{ resource.service.name = "accounts" && status = error }', start: t0, end: t0 + SLOT * SCENARIOS.length })}`;
	const want = [await api(head, whole), await api(head, slot), await api(head, filtered)];
	assert.ok(want[0].traces > 1000 && want[2].traces > 0);
	assert.deepEqual([await api(blocks, whole), await api(blocks, slot), await api(blocks, filtered)], want, 'fresh blocks');
	await flushHead(blocks, true);
	assert.deepEqual([await api(blocks, whole), await api(blocks, slot), await api(blocks, filtered)], want, 'compacted');
});

test('critical path: one trace, bad input and the CLI', { skip: skipReason }, async () => {
	await setup();
	const { t0 } = data;
	const s = await api(head, `/api/search?${qs({ q: '{ span.peer.service = "payments-provider" }', start: t0, end: t0 + 420, limit: 3 })}`);
	assert.ok(s.traces.length > 0);
	const id = s.traces[0].traceID;
	const one = await api(head, `/api/v1/critical-path?traceId=${id}`);
	assert.equal(one.traceId, id.padStart(32, '0'));
	assert.ok(one.spans.length >= 2 && !one.spans[0].parentSpanId, 'the root first');
	const self = one.spans.reduce((a, x) => a + x.selfMs, 0);
	assert.ok(Math.abs(self - one.durationMs) < 1e-6, `self times ${self} = duration ${one.durationMs}`);
	assert.deepEqual(await api(blocks, `/api/v1/critical-path?traceId=${id}`), one);

	for (const [p, status] of [['q=%7B%20nope', 400], ['start=abc', 400], [`start=${t0 + 100}&end=${t0}`, 400],
		['q=%7B%7D%20%7C%20rate()', 400], ['traceId=xyz', 400], ['traceId=00000000000000000000000000abcdef', 404],
		['baselineStart=zz', 400]]) {
		const r = await getJson(head.url('http', `/api/v1/critical-path?${p}`));
		assert.equal(r.status, status, `${p}: ${r.text}`);
		assert.equal(typeof r.json.error.message, 'string');
	}
	const empty = await api(head, `/api/v1/critical-path?${qs({ q: '{ name = "no such operation" }' })}`);
	assert.deepEqual(empty, { traces: 0, meanMs: 0, segments: [] });

	const server = head.url('http');
	const { stdout } = await execFileP(CLEW_BIN, ['critical-path', '--server', server, '--start', String(t0), '--end',
		String(t0 + SLOT), '--baseline-start', String(t0), '--baseline-end', String(t0 + HALF)]);
	assert.match(stdout, /SERVICE\s+OPERATION\s+SHARE\s+SELF P50\s+SELF P99\s+BASELINE\s+CHANGE/);
	assert.match(stdout, /\d+ traces, \d+ segments/);
	const j = await execFileP(CLEW_BIN, ['critical-path', '--server', server, '--json', '--trace', id]);
	assert.deepEqual(JSON.parse(j.stdout), one);
	const t = await execFileP(CLEW_BIN, ['critical-path', '--server', server, '--trace', id]);
	assert.match(t.stdout, /SPAN ID\s+SERVICE\s+OPERATION/);
	await assert.rejects(execFileP(CLEW_BIN, ['critical-path', '--server', server, '--since', 'soon']), /invalid --since/);
	await assert.rejects(execFileP(CLEW_BIN, ['critical-path', '--server', server, 'a', 'b']), /one query only/);
	await teardown();
});
