// Corruption: a flipped byte in a block or in a WAL segment is always found
// by `clew check` (exit 1, the file named), clew still starts on the damaged
// data directory (the bad block set aside or its bad pages refused, the WAL
// cut at the bad record), and everything else stays readable: a trace with
// no span in the damaged file reads back complete, a trace with spans there
// may lose spans, and no read ever returns a span that was not sent or with
// other data than was sent. `clew check --repair` then leaves a directory
// that `clew check` passes and that clew serves the same way.
//
// Which traces live in which file: the damaged file alone (a copy holding
// only it) is served by a clew of its own and every trace is looked up.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { getJson, request, sleep } from './lib/http.mjs';
import { encodeProto, makeSpan, randomSpanId, randomTraceId } from './lib/otlpgen.mjs';
import { CLEW_BIN, ClewServer, skipReason } from './lib/server.mjs';

const SERVE_ARGS = ['--retention', '0', '--head-max-bytes', '256K', '--block-interval', '1h'];
const TRACES = 3000;
const TRACES_PER_BATCH = 25;
const SERVICES = ['checkout', 'cart', 'payments', 'search'];

function randInt(lo, hi) {
	return lo + Math.floor(Math.random() * (hi - lo + 1));
}

function names(dir, suffix) {
	try {
		return readdirSync(dir).filter((n) => n.endsWith(suffix)).sort();
	} catch {
		return [];
	}
}

function clewCheck(...args) {
	const r = spawnSync(CLEW_BIN, ['check', ...args], { encoding: 'utf8' });
	return { code: r.status, out: r.error ? `cannot run ${CLEW_BIN}: ${r.error.message}` : `${r.stdout}${r.stderr}` };
}

// Attributes in the shape the trace API answers with, sorted by key.
function sortedAttrs(attrs) {
	return [...(attrs || [])].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// The spans of one trace, as sent: a root and 0-4 children, each with its
// own attributes, under one service.
function makeTrace(seq, nowNs) {
	const traceId = randomTraceId();
	const service = SERVICES[seq % SERVICES.length];
	const n = randInt(1, 5);
	const spans = [];
	const rootId = randomSpanId();
	for (let i = 0; i < n; i++) {
		const start = nowNs + BigInt(seq) * 1000000n + BigInt(i) * 1000n;
		spans.push(makeSpan({
			traceId,
			spanId: i === 0 ? rootId : randomSpanId(),
			parentSpanId: i === 0 ? '' : rootId,
			name: i === 0 ? `GET /item/${seq % 37}` : `db query ${i}`,
			kind: i === 0 ? 2 : 3,
			startNs: start,
			endNs: start + BigInt(randInt(1, 900000)),
			attributes: [
				{ key: 'clew.seq', value: { intValue: String(seq * 10 + i) } },
				{ key: 'clew.tag', value: { stringValue: `t${seq}-${i}-${randomSpanId()}` } },
				{ key: 'http.status_code', value: { intValue: String(200 + (seq % 3) * 100) } },
			],
		}));
	}
	return { traceId, service, spans };
}

// POST spans of one service; asserts the 200.
async function postSpans(server, spans, service) {
	const r = await request(server.url('otlpHttp', '/v1/traces'), {
		method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeProto(spans, service),
	});
	assert.equal(r.status, 200, `ingest answered ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`);
}

// Read every trace in ids from server, `parallel` at a time, retrying 503
// a little. Returns Map traceId -> { status, spans: [api span] }.
async function readAll(server, ids, { parallel = 8, retries = 2 } = {}) {
	const out = new Map();
	let next = 0;
	async function worker() {
		while (next < ids.length) {
			const id = ids[next++];
			let r;
			for (let attempt = 0; ; attempt++) {
				r = await getJson(server.url('http', `/api/v1/traces/${id}`));
				if (r.status !== 503 || attempt >= retries) break;
				await sleep(50);
			}
			out.set(id, { status: r.status, spans: r.status === 200 ? r.json.spans || [] : [], text: r.text });
		}
	}
	await Promise.all(Array.from({ length: parallel }, worker));
	return out;
}

describe('corruption', { skip: skipReason, timeout: 600000 }, () => {
	const sent = new Map(); // traceId -> { service, spans: Map spanId -> span }
	let base; // the clean data directory, clew stopped
	const scratch = [];
	const membership = new Map(); // "blocks/x.blk" -> Set of span keys traceId/spanId

	function scratchDir() {
		const d = mkdtempSync(path.join(tmpdir(), 'clew-e2e-corrupt-'));
		scratch.push(d);
		return d;
	}

	async function serve(dataDir) {
		const s = new ClewServer({ dataDir, args: SERVE_ARGS });
		await s.start();
		return s;
	}

	// The span keys (traceId/spanId) that the file rel (relative to the data
	// directory) holds alone: a clew serving a copy with nothing else.
	async function spansIn(rel) {
		if (membership.has(rel)) return membership.get(rel);
		const d = scratchDir();
		mkdirSync(path.join(d, path.dirname(rel)), { recursive: true });
		cpSync(path.join(base, rel), path.join(d, rel));
		const s = await serve(d);
		const keys = new Set();
		try {
			const got = await readAll(s, [...sent.keys()]);
			for (const [id, r] of got) {
				assert.ok(r.status === 200 || r.status === 404, `${rel} alone: ${id}: ${r.status} ${r.text.slice(0, 200)}`);
				for (const sp of r.spans) keys.add(`${id}/${sp.spanId}`);
			}
		} finally {
			await s.stop();
		}
		assert.ok(keys.size > 0, `${rel} alone serves no span`);
		membership.set(rel, keys);
		return keys;
	}

	// Check what server answers against what was sent. damagedKeys: span
	// keys of the damaged file; a trace with none of them must be complete.
	// Returns { problems, complete, partial, missing }.
	async function verifyAgainstSent(server, damagedKeys) {
		const got = await readAll(server, [...sent.keys()]);
		const problems = [];
		let complete = 0, partial = 0, missing = 0;
		for (const [id, want] of sent) {
			const r = got.get(id);
			const touched = [...want.spans.keys()].some((sid) => damagedKeys.has(`${id}/${sid}`));
			const seen = new Set();
			for (const sp of r.spans) {
				const w = want.spans.get(sp.spanId);
				if (!w) {
					problems.push(`${id}: span ${sp.spanId} was never sent`);
					continue;
				}
				if (seen.has(sp.spanId)) problems.push(`${id}: span ${sp.spanId} returned twice`);
				seen.add(sp.spanId);
				const wrong = [];
				if (sp.name !== w.name) wrong.push(`name ${JSON.stringify(sp.name)} != ${JSON.stringify(w.name)}`);
				if (sp.service !== want.service) wrong.push(`service ${sp.service} != ${want.service}`);
				if (sp.parentSpanId !== w.parentSpanId) wrong.push(`parent ${sp.parentSpanId} != ${w.parentSpanId}`);
				if (sp.startTimeUnixNano !== w.startNs || sp.endTimeUnixNano !== w.endNs) {
					wrong.push(`times ${sp.startTimeUnixNano}-${sp.endTimeUnixNano} != ${w.startNs}-${w.endNs}`);
				}
				if (JSON.stringify(sortedAttrs(sp.attributes)) !== JSON.stringify(sortedAttrs(w.attributes))) {
					wrong.push(`attributes ${JSON.stringify(sp.attributes)} != ${JSON.stringify(w.attributes)}`);
				}
				if (wrong.length) problems.push(`${id}/${sp.spanId}: wrong data: ${wrong.join('; ')}`);
			}
			if (r.status !== 200 && r.status !== 404 && r.status !== 503) problems.push(`${id}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
			if (seen.size === want.spans.size) complete++;
			else if (seen.size) partial++;
			else missing++;
			if (!touched && seen.size !== want.spans.size) {
				problems.push(`${id}: no span in the damaged file, yet ${seen.size} of ${want.spans.size} spans read back (HTTP ${r.status} ${r.status === 200 ? '' : r.text.slice(0, 120)})`);
			}
		}
		return { problems, complete, partial, missing };
	}

	before(async () => {
		const server = new ClewServer({ args: SERVE_ARGS });
		await server.start();
		base = server.dataDir;
		scratch.push(base);
		const nowNs = BigInt(Date.now() - 3600 * 1000) * 1000000n;
		const late = []; // second halves of split traces, sent after the last flush
		try {
			for (let seq = 0; seq < TRACES; seq += TRACES_PER_BATCH) {
				const byService = new Map();
				for (let k = seq; k < Math.min(TRACES, seq + TRACES_PER_BATCH); k++) {
					const tr = makeTrace(k, nowNs);
					sent.set(tr.traceId, { service: tr.service, spans: new Map(tr.spans.map((s) => [s.spanId, s])) });
					let now = tr.spans;
					if (k % 10 === 0 && tr.spans.length > 1) {
						// a trace that lives in a block and in the WAL
						now = tr.spans.slice(0, 1);
						late.push({ service: tr.service, spans: tr.spans.slice(1) });
					}
					if (!byService.has(tr.service)) byService.set(tr.service, []);
					byService.get(tr.service).push(...now);
				}
				for (const [service, spans] of byService) await postSpans(server, spans, service);
			}
			// let the flushes finish: the block count stays put for a while
			const blocksDir = path.join(base, 'blocks');
			let prev = -1, stable = 0;
			for (let i = 0; i < 200 && stable < 5; i++) {
				await sleep(200);
				const n = names(blocksDir, '.blk').length + names(blocksDir, '.tmp').length * 1000;
				stable = n === prev ? stable + 1 : 0;
				prev = n;
			}
			for (const part of late) await postSpans(server, part.spans, part.service);
			const problems = await server.stopClean();
			assert.deepEqual(problems, [], 'clean stop');
		} catch (e) {
			await server.kill();
			throw e;
		}
		const blocks = names(path.join(base, 'blocks'), '.blk');
		const wal = names(path.join(base, 'wal'), '.log');
		assert.ok(blocks.length >= 3, `only ${blocks.length} blocks after ${TRACES} traces: ${blocks.join(' ')}`);
		assert.ok(wal.length >= 1, 'no WAL segment left');
		const c = clewCheck(base);
		assert.equal(c.code, 0, `the undamaged directory:\n${c.out}`);
		assert.match(c.out, / 0 corrupt/);
		assert.doesNotMatch(c.out, / 0 WAL records/, `the WAL holds the last batches:\n${c.out}`);
	});

	after(() => {
		for (const d of scratch) rmSync(d, { recursive: true, force: true });
	});

	test('the undamaged directory reads back complete', async () => {
		const s = await serve(scratchCopy());
		try {
			const v = await verifyAgainstSent(s, new Set());
			assert.deepEqual(v.problems.slice(0, 10), [], `${v.problems.length} problems`);
			assert.equal(v.complete, sent.size);
			assert.deepEqual((await probeUnknown(s, 1000)).slice(0, 10), []);
		} finally {
			await s.stop();
		}
	});

	function scratchCopy() {
		const d = scratchDir();
		cpSync(base, d, { recursive: true });
		return d;
	}

	// One round: flip the byte at `where(size)` of file rel in a copy and
	// check detection, serving, repair.
	// Look up `count` random trace ids that were never sent: each must answer
	// 404 (a Bloom filter false positive must not make clew fail the read).
	async function probeUnknown(server, count) {
		const ids = Array.from({ length: count }, () => randomTraceId()).filter((id) => !sent.has(id));
		const got = await readAll(server, ids, { retries: 0 });
		const problems = [];
		for (const [id, r] of got) if (r.status !== 404) problems.push(`never sent ${id}: HTTP ${r.status} ${r.text.slice(0, 120)}`);
		return problems;
	}

	async function round(t, rel, where, { unknown = 0, expectLine } = {}) {
		const keys = await spansIn(rel);
		const dir = scratchCopy();
		const file = path.join(dir, rel);
		const buf = readFileSync(file);
		const at = where(buf.length);
		const mask = randInt(1, 255);
		buf[at] ^= mask;
		writeFileSync(file, buf);
		const what = `${rel} (${buf.length} bytes) byte ${at} ^= 0x${mask.toString(16)}`;

		let c = clewCheck(dir);
		assert.equal(c.code, 1, `clew check missed ${what}:\n${c.out}`);
		const fname = path.basename(rel);
		const line = c.out.split('\n').find((l) => l.startsWith('corrupt') && l.includes(fname));
		assert.ok(line, `clew check does not name ${fname} as corrupt (${what}):\n${c.out}`);
		const others = c.out.split('\n').filter((l) => l.startsWith('corrupt') && !l.includes(fname));
		assert.deepEqual(others, [], `clew check blames other files for ${what}`);
		if (expectLine) assert.match(line, expectLine, `${what}: not where it was aimed`);

		const s = await serve(dir);
		let v;
		try {
			v = await verifyAgainstSent(s, keys);
			if (unknown) v.problems.push(...(await probeUnknown(s, unknown)));
			const ready = await getJson(s.url('http', '/ready'));
			assert.equal(ready.status, 200);
			const problems = await s.stopClean();
			assert.deepEqual(problems, [], `clean stop on the damaged copy (${what})`);
		} finally {
			await s.stop();
		}
		assert.deepEqual(v.problems.slice(0, 10), [], `${what}: ${v.problems.length} problems\n${s.logTail(15)}`);
		const setAside = s.log.some((l) => l.includes(fname) && /is corrupt \(/.test(l));
		t.diagnostic(`${what}: ${line.slice(0, 160)}; served: ${v.complete} complete, ${v.partial} partial, ` +
			`${v.missing} missing of ${sent.size} (${keys.size} spans in the file)${setAside ? '; set aside at start' : ''}`);

		c = clewCheck('--repair', dir);
		assert.equal(c.code, 0, `clew check --repair after ${what}:\n${c.out}`);
		c = clewCheck(dir);
		assert.equal(c.code, 0, `clew check after the repair of ${what}:\n${c.out}`);
		assert.match(c.out, / 0 corrupt/);

		const s2 = await serve(dir);
		try {
			const v2 = await verifyAgainstSent(s2, keys);
			assert.deepEqual(v2.problems.slice(0, 10), [], `after the repair of ${what}: ${v2.problems.length} problems`);
		} finally {
			await s2.stop();
		}
		rmSync(dir, { recursive: true, force: true });
	}

	// The first section of a block (at byte 16, after the 16-byte header) is
	// the trace ids of page 0: damage there must not fail the lookups of
	// traces that live elsewhere, hence the never-sent ids looked up too.
	const blockRounds = [
		['a block, anywhere', (n) => randInt(0, n - 1)],
		['a block, anywhere (again)', (n) => randInt(0, n - 1)],
		['a block, its header', (n) => randInt(0, Math.min(15, n - 1))],
		['a block, the trace ids of its first page', (n) => randInt(16, Math.min(216, n - 1)), { unknown: 10000, expectLine: /first bad offset 16\b/ }],
		['a block, its last 256 bytes', (n) => randInt(Math.max(0, n - 256), n - 1)],
		['a block, its middle', (n) => randInt(Math.floor(n / 3), Math.floor((2 * n) / 3))],
	];
	for (const [label, where, opts] of blockRounds) {
		test(`a flipped byte in ${label}`, async (t) => {
			const blocks = names(path.join(base, 'blocks'), '.blk');
			await round(t, path.join('blocks', blocks[randInt(0, blocks.length - 1)]), where, opts);
		});
	}

	const walRounds = [
		['the WAL, anywhere past its header', (n) => randInt(Math.min(64, n - 1), n - 1)],
		['the WAL, its middle', (n) => randInt(Math.floor(n / 3), Math.floor((2 * n) / 3))],
		['the WAL, its last 32 bytes', (n) => randInt(Math.max(0, n - 32), n - 1)],
		['the WAL, its first bytes', (n) => randInt(0, Math.min(15, n - 1))],
	];
	for (const [label, where] of walRounds) {
		test(`a flipped byte in ${label}`, async (t) => {
			const wal = names(path.join(base, 'wal'), '.log');
			await round(t, path.join('wal', wal[randInt(0, wal.length - 1)]), where);
		});
	}
});
