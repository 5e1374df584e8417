// Alert notifications across kill -9, end to end: a per-account rule fires
// to two webhooks, one up and one down. While the down one is being
// retried, clew is killed (SIGKILL) and restarted on the same data
// directory; the down receiver then comes up on its port. The firing that
// was still owed to it arrives with its seq (at least once: one duplicate
// with the same seq is the most allowed), the receiver that already had it gets no
// second one, and once the fault is over each receiver gets exactly one
// resolved notification. No other account is notified.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { gen as startGen, receiver, until, webhookAccount } from './lib/alerting.mjs';
import { getJson, request, sleep } from './lib/http.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

const SANITIZER = !!process.env.CLEW_E2E_SANITIZER || /asan/.test(CLEW_BIN);
const RATE = SANITIZER ? '800' : '2000';
const SLOW = 'acct-000004';

const gen = (target, args) => startGen(target, args, { rate: RATE, seed: 9 });
const acct = webhookAccount;

test('alerts: a notification owed to a dead receiver survives kill -9; nothing delivered is sent twice',
	{ skip: skipReason, timeout: 150000 }, async () => {
	const up = await receiver();
	// the dead receiver's port: taken, then freed; it comes up there after the crash
	const probe = await receiver();
	const deadPort = probe.port;
	await new Promise((r) => probe.srv.close(r));
	const deadUrl = `http://127.0.0.1:${deadPort}/hook`;
	const server = await startClew();
	let g;
	let dead;
	try {
		const rule = {
			name: 'account p99 latency',
			query: '{ kind = server && span.customer.id != nil } | quantile_over_time(duration, 0.99) by (span.customer.id)',
			condition: { op: '>', threshold: 1.5 }, interval: '1s', for: '1s', range: '10s', severity: 'critical',
			notify: [{ type: 'webhook', url: up.url }, { type: 'webhook', url: deadUrl }],
		};
		const r = await request(server.url('http', '/api/v1/alert-rules'), {
			method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule),
		});
		assert.equal(r.status, 201, r.body.toString());
		g = gen(server.url('otlpHttp'), ['--duration', '60s', '--fault', `custom:account=${SLOW},add=2s,start=2s,duration=10m`]);
		const fired = await until('the firing at the live receiver', () => up.got.find((n) => n.body.status === 'firing'), 40000);
		assert.equal(acct(fired), SLOW);
		const seq = fired.body.seq;
		// the same notification to the dead receiver (its own seq) is being retried
		const retrying = await until('retries of the dead receiver', async () => {
			const d = (await getJson(server.url('http', '/api/v1/alert-deliveries?limit=1000'))).json.deliveries;
			return d.find((e) => e.url === deadUrl && e.status === 'retrying' && e.attempt >= 2);
		}, 20000);
		const deadSeq = retrying.seq;
		assert.notEqual(deadSeq, seq);
		await sleep(1500); // an evaluation saves the delivered state
		await g.stop();
		await server.restart({ crash: true });

		// the receiver comes back; what was owed to it arrives after the restart
		dead = await receiver({ port: deadPort });
		g = gen(server.url('otlpHttp'), ['--duration', '60s', '--fault', `custom:account=${SLOW},add=2s,start=1ms,duration=6s`]);
		const owed = await until('the owed firing at the revived receiver', () => dead.got.find((n) => n.body.status === 'firing'), 30000);
		assert.equal(acct(owed), SLOW);
		assert.equal(owed.body.seq, deadSeq, 'the same notification, not a new one');

		// the fault ends: one resolved notification each
		await until('resolved at both', () => up.got.some((n) => n.body.status === 'resolved') && dead.got.some((n) => n.body.status === 'resolved'), 60000);
		await sleep(3000); // room for a late duplicate to show
		await g.stop();
		g = null;
		assert.deepEqual(up.got.map((n) => `${n.body.status} ${acct(n)} ${n.body.seq}`).filter((x) => x.startsWith('firing')), [`firing ${SLOW} ${seq}`],
			'the live receiver had the firing before the crash: it is not sent again');
		assert.equal(up.got.filter((n) => n.body.status === 'resolved').length, 1);
		const deadFirings = dead.got.filter((n) => n.body.status === 'firing');
		assert.ok(deadFirings.length >= 1 && deadFirings.length <= 2 && deadFirings.every((n) => n.body.seq === deadSeq),
			`at least once, a duplicate at most: ${JSON.stringify(deadFirings.map((n) => n.body.seq))}`);
		assert.equal(dead.got.filter((n) => n.body.status === 'resolved').length, 1);
		assert.ok([...up.got, ...dead.got].every((n) => acct(n) === SLOW));
		const problems = await server.stopClean();
		assert.deepEqual(problems, []);
	} finally {
		if (g) await g.stop();
		up.srv.close();
		dead?.srv.close();
		await server.cleanup();
	}
});
