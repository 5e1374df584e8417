// Each query's limits end to end: clew serve --query-max-bytes and
// --query-timeout make a big query answer its documented error (413 over the
// memory budget, 504 over the time budget, both naming the budget) while
// small queries still answer and ingest goes on; a query whose client closes
// the connection stops early and counts in clew_queries_cancelled_total, and
// the server stays healthy.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { getJson, request, describe as describeResponse, sleep } from './lib/http.mjs';
import { encodeJson, makeTraces } from './lib/otlpgen.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

const SANITIZER = process.env.CLEW_E2E_SANITIZER === '1';

function gen(server, spans, extra = []) {
	execFileSync(CLEW_BIN, ['gen', '--target', server.url('otlpHttp'), '--rate', 'max', '--spans', String(spans),
		'--seed', '7', ...extra], { stdio: 'ignore', timeout: 600000 });
}

function search(server, q, params = '') {
	return getJson(server.url('http', `/api/search?q=${encodeURIComponent(q)}${params}`));
}

async function metric(server, name) {
	const r = await request(server.url('http', '/metrics'));
	const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(r.body.toString());
	return m ? Number(m[1]) : undefined;
}

// Send one small trace now and return its id once it is searchable by id.
async function sendSmallTrace(server) {
	const { spans, traceIds } = makeTraces({ traces: 1, spansPerTrace: 3 });
	const r = await request(server.url('otlpHttp', '/v1/traces'), {
		method: 'POST', headers: { 'content-type': 'application/json' }, body: encodeJson(spans, 'limits-e2e'),
	});
	assert.equal(r.status, 200, describeResponse(r));
	return traceIds[0];
}

const nowS = () => Math.floor(Date.now() / 1000);
const HEAVY = (n) => `${Array(n).fill('{ duration >= 0ns }').join(' >> ')} | count() > 1000000`;

describe('query limits', { skip: skipReason, timeout: 600000 }, () => {
	describe('--query-max-bytes', () => {
		let server;
		before(async () => {
			server = await startClew({ args: ['--query-max-bytes', '4M'] });
			gen(server, SANITIZER ? 50000 : 100000);
		});
		after(async () => {
			if (server) await server.cleanup();
		});

		test('a big query answers 413 naming the budget; small ones still answer; ingest goes on', async () => {
			const before413 = await metric(server, 'clew_queries_over_budget_total{budget="memory"}');
			assert.equal(before413, 0);
			const big = await search(server, '{}', '&limit=100000&spss=1000');
			assert.equal(big.status, 413, describeResponse(big));
			assert.equal(big.json.error.code, 413);
			assert.match(big.json.error.message, /query exceeded its memory budget \(4 MiB\); narrow the time range or the query/);
			assert.equal(await metric(server, 'clew_queries_over_budget_total{budget="memory"}'), 1);
			// the same question, asked small
			const small = await search(server, '{}', '&limit=3');
			assert.equal(small.status, 200, describeResponse(small));
			assert.equal(small.json.traces.length, 3);
			// ingest goes on and its spans are read back
			const id = await sendSmallTrace(server);
			const t = await getJson(server.url('http', `/api/v1/traces/${id}`));
			assert.equal(t.status, 200, describeResponse(t));
			assert.equal(t.json.spanCount, 3);
			gen(server, 2000, ['--seed', '8']);
			const again = await search(server, '{ resource.service.name = "limits-e2e" }', '&limit=5');
			assert.equal(again.status, 200, describeResponse(again));
			assert.equal(again.json.traces.length, 1);
			// the metrics API is under the same budget
			const m = await getJson(server.url('http', `/api/metrics/query_range?q=${encodeURIComponent('{} | rate() by (span.customer.id)')}&start=${nowS() - 600}&end=${nowS() + 60}&step=1s`));
			assert.ok(m.status === 413 || m.status === 200, describeResponse(m));
			if (m.status === 413) assert.match(m.json.error.message, /memory budget|series/);
			const ready = await request(server.url('http', '/ready'));
			assert.equal(ready.status, 200);
		});
	});

	describe('--query-timeout', () => {
		let server;
		before(async () => {
			server = await startClew({ args: ['--query-timeout', '20ms'] });
			// the bulk two hours ago, flushed into blocks: a query over the
			// last minutes skips those blocks by time
			const start = new Date(Date.now() - 2 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
			gen(server, SANITIZER ? 100000 : 200000, ['--start', start]);
			const f = await request(server.url('http', '/flush'));
			assert.equal(f.status, 204);
		});
		after(async () => {
			if (server) await server.cleanup();
		});

		test('a big query answers 504 naming the budget; a narrow one answers; ingest goes on', async () => {
			const big = await search(server, HEAVY(4), '&limit=20');
			assert.equal(big.status, 504, describeResponse(big));
			assert.equal(big.json.error.code, 504);
			assert.match(big.json.error.message, /query exceeded its time budget \(20 ms\); narrow the time range or the query/);
			assert.ok(await metric(server, 'clew_queries_over_budget_total{budget="time"}') >= 1);
			const id = await sendSmallTrace(server);
			const narrow = await search(server, HEAVY(2).replace(/ \| count.*$/, ''), `&start=${nowS() - 120}&end=${nowS() + 60}`);
			assert.equal(narrow.status, 200, describeResponse(narrow));
			assert.deepEqual(narrow.json.traces.map((t) => t.traceID.padStart(32, '0')), [id]);
			gen(server, 2000, ['--seed', '9']);
			const t = await getJson(server.url('http', `/api/v1/traces/${id}`));
			assert.equal(t.status, 200, describeResponse(t));
			// the metrics API answers the same way
			const m = await getJson(server.url('http', `/api/metrics/query_range?q=${encodeURIComponent(`${HEAVY(4).replace(/ \| count.*$/, '')} | rate()`)}&start=${nowS() - 3 * 3600}&end=${nowS()}&step=60s`));
			assert.equal(m.status, 504, describeResponse(m));
			assert.match(m.json.error.message, /time budget \(20 ms\)/);
		});
	});

	describe('a client that goes away', () => {
		let server;
		before(async () => {
			server = await startClew({ args: ['--query-timeout', '10m'] });
			gen(server, SANITIZER ? 250000 : 400000);
			const f = await request(server.url('http', '/flush'));
			assert.equal(f.status, 204);
		});
		after(async () => {
			if (server) await server.cleanup();
		});

		test('stops its query, counts it, and the server stays healthy', async () => {
			// a query that runs for a second or more here: lengthen the chain
			let n = 4;
			let ms = 0;
			for (let links = 4; links <= 128; links *= 2) { // 256 links would pass the request-line limit
				const t0 = Date.now();
				const r = await search(server, HEAVY(links));
				ms = Date.now() - t0;
				n = links;
				assert.equal(r.status, 200, describeResponse(r));
				if (ms >= 1200) break;
			}
			assert.ok(ms >= 500, `no query ran long enough (the last, ${n} links, took ${ms} ms)`);
			assert.equal(await metric(server, 'clew_queries_cancelled_total'), 0);

			// start it again and hang up a quarter of the way through
			const t0 = Date.now();
			const q = HEAVY(n);
			await new Promise((resolve) => {
				const req = http.get(server.url('http', `/api/search?q=${encodeURIComponent(q)}`), { agent: false });
				req.on('error', () => resolve());
				req.on('response', () => resolve());
				setTimeout(() => {
					req.destroy();
					resolve();
				}, Math.max(150, ms / 4));
			});
			let cancelled = 0;
			while (Date.now() - t0 < ms * 3) {
				cancelled = await metric(server, 'clew_queries_cancelled_total');
				if (cancelled >= 1) break;
				await sleep(20);
			}
			const seen = Date.now() - t0;
			assert.equal(cancelled, 1, 'clew_queries_cancelled_total after the client went away');
			assert.ok(seen < ms * 0.8, `the query stopped after ${seen} ms; it runs ${ms} ms to the end`);

			// healthy: ready, searches and reads answer, ingest goes on
			const ready = await request(server.url('http', '/ready'));
			assert.equal(ready.status, 200);
			const small = await search(server, '{}', '&limit=2');
			assert.equal(small.status, 200, describeResponse(small));
			assert.equal(small.json.traces.length, 2);
			const id = await sendSmallTrace(server);
			const t = await getJson(server.url('http', `/api/v1/traces/${id}`));
			assert.equal(t.status, 200, describeResponse(t));
			assert.equal(await metric(server, 'clew_queries_cancelled_total'), 1);
			assert.deepEqual(server.sanitizerReports(), []);
		});
	});
});

test('bad query-limit and cache flags are refused before clew starts, naming the flag', { skip: skipReason }, () => {
	for (const [flag, value] of [['--query-timeout', 'soon'], ['--query-max-bytes', '1k'], ['--column-cache', '1k'],
		['--column-cache', 'lots'], ['--compaction-mb-per-sec', '-1']]) {
		let out = null;
		try {
			execFileSync(CLEW_BIN, ['serve', '--data-dir', '/nonexistent-clew-dir/x', flag, value], { stdio: 'pipe' });
		} catch (e) {
			out = e;
		}
		assert.ok(out, `${flag} ${value} was accepted`);
		assert.equal(out.status, 2, `${flag} ${value}: exit status`);
		assert.match(String(out.stderr), new RegExp(`invalid ${flag} '${value}'`), `${flag} ${value}`);
	}
});
