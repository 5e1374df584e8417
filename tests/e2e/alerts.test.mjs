// Alerting end to end: rules, silences and the catalog through the API,
// `clew gen` with a fault that slows two accounts, webhook receivers on
// 127.0.0.1 (one answering 500 before 200), the firing and resolved
// notifications with their documented fields, a silence that suppresses,
// and kill -9 + restart without a second firing notification, with the
// rules, silences, catalog, alert states and delivery log kept. Prints the
// delay from the start of the fault to the first notification.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { gen as startGen, receiver, send, until, webhookAccount } from './lib/alerting.mjs';
import { getJson, sleep } from './lib/http.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

const SANITIZER = !!process.env.CLEW_E2E_SANITIZER || /asan/.test(CLEW_BIN);
const RATE = SANITIZER ? '800' : '2000';
const SLOW = 'acct-000003'; // fires and notifies
const SILENCED = 'acct-000005'; // fires, silenced: nobody is told
const PUBLIC_URL = 'http://clew.example:3200';

const gen = (target, args) => startGen(target, args, { rate: RATE, seed: 3 });
const acct = webhookAccount;
const ok = (r) => r.filter((n) => n.status === 200);

test('alerts: per-account rule fires, retries, silences, survives kill -9 and resolves',
	{ skip: skipReason, timeout: 180000 }, async () => {
	const a = await receiver();
	const b = await receiver({ answers: [500] });
	const server = await startClew({ args: ['--public-url', PUBLIC_URL] });
	let g;
	try {
		// bad requests: 400 with a message naming what is wrong
		let r = await send(server, 'POST', '/api/v1/alert-rules', '{"name": ');
		assert.equal(r.status, 400, r.text);
		assert.match(r.json.error.message, /JSON/);
		assert.equal(r.json.error.code, 400);
		r = await send(server, 'POST', '/api/v1/alert-rules', { name: 'x', query: '{ kind = server }',
			condition: { op: '>', threshold: 1 } });
		assert.equal(r.status, 400, r.text);
		assert.match(r.json.error.message, /query/);
		r = await send(server, 'POST', '/api/v1/alert-rules', { name: 'x',
			query: '{ } | rate() by (span.customer.id)', condition: { op: '>', threshold: 'high' } });
		assert.equal(r.status, 400, r.text);
		assert.match(r.json.error.message, /threshold/);
		r = await send(server, 'POST', '/api/v1/alert-rules');
		assert.equal(r.status, 400, r.text);
		r = await send(server, 'POST', '/api/v1/silences', { matchers: { 'span.customer.id': SILENCED } });
		assert.equal(r.status, 400, r.text);
		assert.match(r.json.error.message, /expir|endsAt/);
		r = await send(server, 'PUT', '/api/v1/catalog', '[1, 2]');
		assert.equal(r.status, 400, r.text);
		r = await send(server, 'GET', '/api/v1/alert-rules/0123456789abcdef');
		assert.equal(r.status, 404, r.text);
		r = await send(server, 'DELETE', '/api/v1/silences/nope');
		assert.equal(r.status, 404, r.text);
		r = await send(server, 'PATCH', '/api/v1/alert-rules');
		assert.equal(r.status, 405, r.text);
		r = await send(server, 'GET', '/api/v1/alerts?state=burning');
		assert.equal(r.status, 400, r.text);

		// the catalog names the account's owner; a silence; the rule
		r = await send(server, 'PUT', `/api/v1/catalog/accounts/${SLOW}`, { name: 'Acme Corp', owner: 'alice@acme.example', tier: 'gold' });
		assert.equal(r.status, 200, r.text);
		r = await send(server, 'POST', '/api/v1/silences', { matchers: { 'span.customer.id': SILENCED },
			expiresIn: '1h', comment: 'known: migration' });
		assert.equal(r.status, 201, r.text);
		const silenceId = r.json.id;
		const rule = {
			name: 'account p99 latency',
			query: '{ kind = server && span.customer.id != nil } | quantile_over_time(duration, 0.99) by (span.customer.id)',
			condition: { op: '>', threshold: 1.5 },
			interval: '2s', for: '2s', range: '10s', severity: 'critical',
			notify: [{ type: 'webhook', url: a.url }, { type: 'webhook', url: b.url }],
		};
		r = await send(server, 'POST', '/api/v1/alert-rules', rule);
		assert.equal(r.status, 201, r.text);
		const ruleId = r.json.id;
		assert.match(ruleId, /^[0-9a-f]{16}$/);

		// phase 1: both accounts slow from 3 s on
		const fault = 'add=2s,start=3s,duration=10m';
		g = gen(server.url('otlpHttp'), ['--duration', '60s', '--fault', `custom:account=${SLOW},${fault}`,
			'--fault', `custom:account=${SILENCED},${fault}`]);
		const fired = await until('the firing notification', () => ok(a.got).find((n) => n.body.status === 'firing'), 40000);
		const onAt = Date.parse(g.faults.find((f) => f.state === 'on').at);
		console.log(`alert delay: fault start to notification ${((fired.at - onAt) / 1000).toFixed(1)} s ` +
			`(interval 2s, for 2s, range 10s${SANITIZER ? ', sanitizer build' : ''})`);
		const p = fired.body;
		assert.equal(acct(fired), SLOW, JSON.stringify(p));
		assert.equal(p.rule, rule.name);
		assert.equal(p.ruleId, ruleId);
		assert.equal(p.severity, 'critical');
		assert.ok(p.value > 1.5, `value ${p.value}`);
		assert.equal(p.threshold, 1.5);
		assert.equal(typeof p.owner, 'string');
		assert.ok(p.owner.length > 0, 'owner: the team of the worst span');
		assert.equal(p.account.id, SLOW);
		assert.equal(p.account.name, 'Acme Corp');
		assert.equal(p.account.owner, 'alice@acme.example');
		assert.ok('rootCause' in p && 'criticalPath' in p);
		console.log(`rootCause ${JSON.stringify(p.rootCause || p.rootCauseError).slice(0, 400)}; ` +
			`criticalPath ${JSON.stringify(p.criticalPath || p.criticalPathError)}`);
		if (p.rootCause === null) assert.equal(typeof p.rootCauseError, 'string', 'a missing root cause says why');
		else assert.ok(Array.isArray(p.rootCause) && p.rootCause.length <= 3, JSON.stringify(p.rootCause));
		if (p.criticalPath === null) assert.equal(typeof p.criticalPathError, 'string', 'a missing critical path says why');
		else assert.ok(typeof p.criticalPath.service === 'string' && p.criticalPath.share > 0, JSON.stringify(p.criticalPath));
		// without a sanitizer the 2 s budget is plenty: both parts are there
		if (!SANITIZER) assert.ok(Array.isArray(p.rootCause) && p.criticalPath, JSON.stringify(p));
		assert.ok(Array.isArray(p.exampleTraceIds) && p.exampleTraceIds.length > 0);
		for (const id of p.exampleTraceIds) assert.match(id, /^[0-9a-f]{32}$/);
		assert.ok(p.url.startsWith(`${PUBLIC_URL}/explore?q=`), p.url);
		assert.ok(decodeURIComponent(p.url).includes(SLOW), p.url);

		// the receiver that answered 500 gets it after a retry, later than the first
		const retried = await until('the retried notification', () => ok(b.got).find((n) => n.body.status === 'firing'), 20000);
		assert.equal(b.got[0].status, 500);
		assert.equal(acct(retried), SLOW);
		assert.ok(retried.at > fired.at, 'the retry arrives after the first receiver got it');
		// the same alert to a second target is analysed once
		assert.deepEqual(retried.body.rootCause, p.rootCause);
		assert.deepEqual(retried.body.criticalPath, p.criticalPath);
		assert.equal(a.got.filter((n) => n.body.status === 'firing').length, 1, 'the first receiver got it at once');

		// the silenced account fires too, but nobody is told
		const alerts = await until('both instances firing', async () => {
			const x = await getJson(server.url('http', `/api/v1/alerts?rule=${ruleId}&state=firing`));
			const accts = x.json.alerts.map((i) => i.labels['span.customer.id']).sort();
			return accts.length === 2 ? accts : null;
		}, 20000);
		assert.deepEqual(alerts, [SLOW, SILENCED]);
		const d = await until('both deliveries logged sent', async () => {
			const x = await getJson(server.url('http', '/api/v1/alert-deliveries'));
			return x.json.deliveries.filter((e) => e.status === 'sent').length >= 2 ? x.json : null;
		}, 10000);
		assert.ok(d.deliveries.some((e) => e.status === 'retrying' || e.attempt > 1), JSON.stringify(d));

		// kill -9 while firing; restart on the same data dir; traffic resumes
		await sleep(1500); // an evaluation saves the delivered state
		await g.stop();
		await server.restart({ crash: true });
		r = await send(server, 'GET', `/api/v1/alert-rules/${ruleId}`);
		assert.equal(r.status, 200, r.text);
		assert.equal(r.json.name, rule.name);
		r = await send(server, 'GET', '/api/v1/silences');
		assert.deepEqual(r.json.silences.map((s) => s.id), [silenceId]);
		r = await send(server, 'GET', `/api/v1/alerts?rule=${ruleId}&state=firing`);
		assert.equal(r.json.alerts.length, 2, r.text);
		r = await send(server, 'GET', `/api/v1/catalog/accounts/${SLOW}`);
		assert.equal(r.status, 200, r.text);
		assert.equal(r.json.name, 'Acme Corp');
		// the delivery log's history is kept: what was sent before the crash is listed
		r = await send(server, 'GET', '/api/v1/alert-deliveries');
		const before = d.deliveries.filter((e) => e.status === 'sent').map((e) => `${e.seq} ${e.url}`).sort();
		const after = new Set(r.json.deliveries.filter((e) => e.status === 'sent').map((e) => `${e.seq} ${e.url}`));
		assert.ok(before.length >= 2 && before.every((x) => after.has(x)), r.text);

		// phase 2: the fault goes on for 6 s more, then ends
		g = gen(server.url('otlpHttp'), ['--duration', '60s', '--fault', `custom:account=${SLOW},add=2s,start=1ms,duration=6s`,
			'--fault', `custom:account=${SILENCED},add=2s,start=1ms,duration=6s`]);
		const resolved = await until('the resolved notification', () => ok(a.got).find((n) => n.body.status === 'resolved'), 45000);
		assert.equal(acct(resolved), SLOW);
		assert.ok(resolved.body.endsAt >= resolved.body.startsAt);
		const off = g.faults.find((f) => f.state === 'off');
		assert.ok(off && resolved.at >= Date.parse(off.at), 'resolved after the fault window');
		await g.stop();
		g = null;

		// exactly one firing and one resolved notification per receiver, for the slow account only
		for (const [name, rcv] of [['first', a], ['second', b]]) {
			const got = ok(rcv.got);
			assert.deepEqual(got.map((n) => `${n.body.status} ${acct(n)}`), [`firing ${SLOW}`, `resolved ${SLOW}`],
				`${name} receiver: ${JSON.stringify(got.map((n) => n.body.status + ' ' + acct(n)))}`);
		}

		// deleting the rule and the silence
		r = await send(server, 'DELETE', `/api/v1/silences/${silenceId}`);
		assert.equal(r.status, 204, r.text);
		r = await send(server, 'DELETE', `/api/v1/alert-rules/${ruleId}`);
		assert.equal(r.status, 204, r.text);
		r = await send(server, 'GET', '/api/v1/alert-rules');
		assert.deepEqual(r.json.rules, []);
		const problems = await server.stopClean();
		assert.deepEqual(problems, []);
	} finally {
		if (g) await g.stop();
		a.srv.close();
		b.srv.close();
		await server.cleanup();
	}
});
