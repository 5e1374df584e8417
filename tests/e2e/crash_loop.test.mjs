// The kill -9 loop: clew (--wal-sync group, a small head so that blocks are
// cut, WAL segments removed and blocks compacted while the loop runs) is
// started on one data directory again and again. Each iteration 2-4 client
// loops post small OTLP/HTTP protobuf batches with unique trace ids and note
// a batch's spans only once clew answered 200; clew gets SIGKILL 20-400 ms
// in. Then `clew check DIR` must pass (a crash is not damage), and after the
// restart every trace of the last iteration plus a random sample of all
// acknowledged traces must read back with exactly the acknowledged spans.
// At the end every acknowledged trace is read back.
//
// Iterations: CLEW_CRASH_ITERATIONS (default 200, about 2 minutes on two
// cores). The long mode runs 1,000:
//   cd tests/e2e && npm run crash-long
//   (or CLEW_CRASH_ITERATIONS=1000 node --test --test-force-exit crash_loop.test.mjs)
// With CLEW_E2E_SANITIZER=1 (an ASan build) the default drops to 40
// iterations unless CLEW_CRASH_ITERATIONS says otherwise.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { getJson, sleep } from './lib/http.mjs';
import { encodeProto, makeTraces } from './lib/otlpgen.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

const SANITIZER = process.env.CLEW_E2E_SANITIZER === '1';
const ITERATIONS = Number(process.env.CLEW_CRASH_ITERATIONS || (SANITIZER ? 40 : 200));
const SAMPLE = 30;
const SERVE_ARGS = ['--wal-sync', 'group', '--head-max-bytes', '512K', '--block-interval', '1s', '--retention', '0'];

function randInt(lo, hi) {
	return lo + Math.floor(Math.random() * (hi - lo + 1));
}

function listNames(dir, suffix) {
	return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith(suffix)).sort() : [];
}

// POST one body on agent; resolves to the status, rejects when the
// connection fails (the server died).
function post(url, agent, body) {
	return new Promise((resolve, reject) => {
		const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf' } }, (res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode));
			res.on('error', reject);
		});
		req.on('error', reject);
		req.setTimeout(10000, () => req.destroy(new Error('timeout')));
		req.end(body);
	});
}

// One client loop: posts batches on a keep-alive connection until the
// connection fails. acked: Map traceId -> [{ spanId, name }] sorted by spanId,
// filled only on a 200.
async function clientLoop(url, acked, state, iteration, loop) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	try {
		for (;;) {
			const { spans, traceIds } = makeTraces({ traces: randInt(1, 4), spansPerTrace: randInt(1, 4) });
			const body = encodeProto(spans, `crash-loop-${iteration}-${loop}`);
			let status;
			try {
				status = await post(url, agent, body);
			} catch {
				return;
			}
			state.answered++;
			if (status === 200) {
				// a think time keeps the per-iteration volume readable in full
				for (const t of traceIds) {
					const mine = spans.filter((s) => s.traceId === t).map((s) => ({ spanId: s.spanId, name: s.name }));
					mine.sort((a, b) => a.spanId.localeCompare(b.spanId));
					acked.set(t, mine);
				}
				await sleep(randInt(0, 15));
			} else if (status === 503 || status === 429) {
				state.refused++;
				await sleep(10);
			} else {
				state.unexpected.push(status);
			}
		}
	} finally {
		agent.destroy();
	}
}

// Read each trace of ids back; returns a list of problems. A 503 (a read
// that may be retried) is retried a few times.
async function verify(server, acked, ids, parallel = 8) {
	const problems = [];
	let next = 0;
	async function worker() {
		while (next < ids.length) {
			const id = ids[next++];
			const want = acked.get(id);
			let r;
			for (let attempt = 0; attempt < 20; attempt++) {
				r = await getJson(server.url('http', `/api/v1/traces/${id}`));
				if (r.status !== 503) break;
				await sleep(100);
			}
			if (r.status !== 200) {
				problems.push(`${id}: HTTP ${r.status} ${r.text.slice(0, 200)} (expected ${want.length} spans)`);
				continue;
			}
			const got = (r.json.spans || []).map((s) => ({ spanId: s.spanId, name: s.name }));
			got.sort((a, b) => a.spanId.localeCompare(b.spanId));
			if (r.json.spanCount !== want.length || JSON.stringify(got) !== JSON.stringify(want)) {
				problems.push(`${id}: spanCount ${r.json.spanCount}, spans ${JSON.stringify(got)}; acknowledged ${JSON.stringify(want)}`);
			}
		}
	}
	await Promise.all(Array.from({ length: parallel }, worker));
	return problems;
}

function sample(arr, n) {
	if (arr.length <= n) return arr.slice();
	const out = new Set();
	while (out.size < n) out.add(arr[Math.floor(Math.random() * arr.length)]);
	return [...out];
}

function clewCheck(dir) {
	const r = spawnSync(CLEW_BIN, ['check', dir], { encoding: 'utf8' });
	return { code: r.status, signal: r.signal, out: r.error ? `cannot run ${CLEW_BIN}: ${r.error.message}` : `${r.stdout}${r.stderr}` };
}

describe('kill -9 loop', { skip: skipReason }, () => {
	let server;

	before(async () => {
		server = await startClew({ args: SERVE_ARGS });
		await server.kill();
	});

	after(async () => {
		if (server) await server.cleanup();
	});

	test(`${ITERATIONS} kill -9 under load lose no acknowledged span and leave a sound data directory`,
		{ timeout: 120000 + ITERATIONS * (SANITIZER ? 6000 : 2000) }, async (t) => {
			const dir = server.dataDir;
			const acked = new Map(); // every acknowledged trace so far
			const ackedIds = [];
			let last = new Map(); // the traces of the iteration before
			let batches = 0;
			let refused = 0;
			let maxBlocks = 0;
			const walSegmentsSeen = new Set();
			const startedAt = Date.now();

			for (let it = 1; it <= ITERATIONS; it++) {
				await server.start();

				// what the previous iterations acknowledged is all there
				if (ackedIds.length) {
					const ids = [...new Set([...last.keys(), ...sample(ackedIds, SAMPLE)])];
					const problems = await verify(server, acked, ids);
					assert.deepEqual(problems.slice(0, 10), [],
						`iteration ${it}: ${problems.length} of ${ids.length} checked traces lost or wrong after kill -9 ` +
						`(${last.size} from the iteration before, ${acked.size} acknowledged in all)\n${server.logTail(20)}`);
				}

				// load, then SIGKILL at a random moment
				const mine = new Map();
				const state = { answered: 0, refused: 0, unexpected: [] };
				const url = server.url('otlpHttp', '/v1/traces');
				const loops = Array.from({ length: randInt(2, 4) }, (_, i) => clientLoop(url, mine, state, it, i));
				await sleep(randInt(20, 400));
				const exit = await server.kill();
				assert.equal(exit.signal, 'SIGKILL', `iteration ${it}: clew had exited by itself: ${JSON.stringify(exit)}\n${server.logTail(30)}`);
				await Promise.all(loops);
				assert.deepEqual(state.unexpected, [], `iteration ${it}: unexpected ingest statuses`);
				batches += state.answered;
				refused += state.refused;
				for (const [id, spans] of mine) {
					if (!acked.has(id)) ackedIds.push(id);
					acked.set(id, spans);
				}
				last = mine;

				maxBlocks = Math.max(maxBlocks, listNames(path.join(dir, 'blocks'), '.blk').length);
				for (const n of listNames(path.join(dir, 'wal'), '.log')) walSegmentsSeen.add(n);

				// a crash is not damage
				const c = clewCheck(dir);
				if (c.code !== 0) {
					const wal = listNames(path.join(dir, 'wal'), '.log').map((n) => `${n} ${statSync(path.join(dir, 'wal', n)).size} bytes`);
					assert.fail(`iteration ${it}: clew check after kill -9 exited ${c.code} (signal ${c.signal}); ` +
						`a crash leaves at most a torn tail, which is not damage\nWAL: ${wal.join(', ')}\n` +
						`${c.out.split('\n').filter((l) => !l.startsWith('ok ')).join('\n')}`);
				}

				if (it % 50 === 0) {
					t.diagnostic(`iteration ${it}: ${acked.size} traces acknowledged, ${batches} batches answered, ` +
						`${listNames(path.join(dir, 'blocks'), '.blk').length} blocks, ` +
						`${listNames(path.join(dir, 'wal'), '.log').length} WAL segments, ${Math.round((Date.now() - startedAt) / 1000)} s`);
				}
			}

			await server.start();
			const problems = await verify(server, acked, ackedIds);
			assert.deepEqual(problems.slice(0, 20), [],
				`after ${ITERATIONS} kills: ${problems.length} of ${acked.size} acknowledged traces lost or wrong`);
			const walNow = listNames(path.join(dir, 'wal'), '.log');
			t.diagnostic(`${ITERATIONS} iterations in ${Math.round((Date.now() - startedAt) / 1000)} s: ${acked.size} traces ` +
				`acknowledged and read back, ${batches} batches answered (${refused} refused), up to ${maxBlocks} blocks, ` +
				`${walSegmentsSeen.size} WAL segments seen, ${walNow.length} left`);
			assert.ok(acked.size >= ITERATIONS, `only ${acked.size} traces acknowledged over ${ITERATIONS} iterations`);
			if (ITERATIONS >= 100) {
				assert.ok(maxBlocks > 0, 'the head was never cut into a block during the loop');
				assert.ok(walSegmentsSeen.size > walNow.length, 'no WAL segment was ever removed during the loop');
			}
			const ready = await getJson(server.url('http', '/ready'));
			assert.equal(ready.status, 200);
			assert.deepEqual(await server.stopClean(), []);
			const c = clewCheck(dir);
			assert.equal(c.code, 0, `clew check after the clean stop:\n${c.out}`);
		});
});
