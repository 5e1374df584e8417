// Crash safety: with --wal-sync group, several concurrent clients post small
// OTLP/HTTP protobuf batches and note each batch's traces only once clew has
// acknowledged it (200). clew is killed with SIGKILL in the middle of the
// stream and restarted on the same data directory; every acknowledged trace
// must then be readable with exactly the spans that were sent. Three rounds,
// each also re-checking the traces of the rounds before.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startClew, skipReason } from './lib/server.mjs';
import { getJson, sleep } from './lib/http.mjs';
import { makeTraces, encodeProto } from './lib/otlpgen.mjs';

const LOOPS = 6;
const ROUNDS = 3;
const SANITIZER = process.env.CLEW_E2E_SANITIZER === '1';

// One client loop: posts batches on a keep-alive connection until stopped or
// until the connection fails (the server died). acked: Map traceId -> spanIds.
async function clientLoop(server, acked, state) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	const url = server.url('otlpHttp', '/v1/traces');
	try {
		while (!state.stop) {
			const traces = 1 + Math.floor(Math.random() * 3);
			const { spans, traceIds } = makeTraces({ traces, spansPerTrace: 1 + Math.floor(Math.random() * 4) });
			const body = encodeProto(spans, 'crash-client');
			let status;
			try {
				status = await new Promise((resolve, reject) => {
					const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf' } }, (res) => {
						res.resume();
						res.on('end', () => resolve(res.statusCode));
						res.on('error', reject);
					});
					req.on('error', reject);
					req.setTimeout(10000, () => req.destroy(new Error('timeout')));
					req.end(body);
				});
			} catch {
				state.failed++;
				return; // connection refused or reset: the server is gone
			}
			state.sent++;
			if (status === 200) {
				for (const t of traceIds) acked.set(t, spans.filter((s) => s.traceId === t).map((s) => s.spanId).sort());
			} else if (status === 503 || status === 429) {
				state.retryable++;
				await sleep(20);
			} else {
				state.unexpected.push(status);
			}
		}
	} finally {
		agent.destroy();
	}
}

// Check every acknowledged trace, `parallel` requests at a time; returns problems.
async function verify(server, acked, parallel = 8) {
	const problems = [];
	const entries = [...acked.entries()];
	let next = 0;
	async function worker() {
		while (next < entries.length) {
			const [traceId, spanIds] = entries[next++];
			const r = await getJson(server.url('http', `/api/v1/traces/${traceId}`));
			if (r.status !== 200) {
				problems.push(`${traceId}: HTTP ${r.status}`);
				continue;
			}
			const got = (r.json.spans || []).map((s) => s.spanId).sort();
			if (r.json.spanCount !== spanIds.length || JSON.stringify(got) !== JSON.stringify(spanIds)) {
				problems.push(`${traceId}: spanCount ${r.json.spanCount}, spans ${got.join(',')}; expected ${spanIds.join(',')}`);
			}
		}
	}
	await Promise.all(Array.from({ length: parallel }, worker));
	return problems;
}

describe('crash safety', { skip: skipReason, timeout: 180000 }, () => {
	let server;

	before(async () => {
		server = await startClew({ args: ['--wal-sync', 'group'] });
	});

	after(async () => {
		if (server) await server.cleanup();
	});

	test(`no acknowledged span is lost over ${ROUNDS} kill -9 during ingest`, async (t) => {
		const allAcked = new Map();
		for (let round = 1; round <= ROUNDS; round++) {
			const acked = new Map();
			const state = { stop: false, sent: 0, failed: 0, retryable: 0, unexpected: [] };
			const loops = Array.from({ length: LOOPS }, () => clientLoop(server, acked, state));
			await sleep(1000 + Math.floor(Math.random() * 1000));
			const exit = await server.kill();
			assert.equal(exit.signal, 'SIGKILL', `round ${round}: clew had already exited: ${JSON.stringify(exit)}\n${server.logTail(20)}`);
			state.stop = true;
			await Promise.all(loops);
			assert.deepEqual(state.unexpected, [], `round ${round}: unexpected statuses`);
			assert.ok(acked.size > 0, `round ${round}: no batch was acknowledged before the kill (${state.sent} answered)`);
			for (const [k, v] of acked) allAcked.set(k, v);
			t.diagnostic(`round ${round}: ${state.sent} batches answered, ${acked.size} traces acknowledged, ${state.retryable} retryable refusals`);

			await server.start();
			const problems = await verify(server, allAcked);
			assert.deepEqual(problems.slice(0, 20), [],
				`round ${round}: ${problems.length} of ${allAcked.size} acknowledged traces lost or wrong after kill -9 (${acked.size} acknowledged this round)`);
			const ready = await getJson(server.url('http', '/ready'));
			assert.equal(ready.status, 200);
		}
		assert.ok(allAcked.size >= ROUNDS, 'traces were acknowledged in every round');
	});

	test('a clean SIGTERM after the crashes keeps everything too', { timeout: SANITIZER ? 180000 : 90000 }, async () => {
		const { spans, traceIds } = makeTraces({ traces: 5, spansPerTrace: 2 });
		const r = await new Promise((resolve, reject) => {
			const req = http.request(server.url('otlpHttp', '/v1/traces'), { method: 'POST', headers: { 'content-type': 'application/x-protobuf' } }, (res) => {
				res.resume();
				res.on('end', () => resolve(res.statusCode));
			});
			req.on('error', reject);
			req.end(encodeProto(spans));
		});
		assert.equal(r, 200);
		assert.deepEqual(await server.stopClean(), []);
		await server.start();
		const acked = new Map(traceIds.map((t) => [t, spans.filter((s) => s.traceId === t).map((s) => s.spanId).sort()]));
		assert.deepEqual(await verify(server, acked), []);
		assert.deepEqual(await server.stopClean(), []);
	});
});
