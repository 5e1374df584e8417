// Alert delivery end to end: one per-account rule notifies five targets at
// once on `clew gen` traffic in which two accounts turn slow, the second
// a second after the first: a webhook, a Slack-compatible and a
// PagerDuty Events v2-compatible receiver, a slow webhook (answers each
// request 7 s late) and one that is down (nothing listens). The three
// formats carry what breached and by how much, the account, the owning
// team, the root cause, the critical path, example traces and the deep
// link; the slow and the down receiver delay neither the other receivers
// nor the evaluation (the second account's alert reaches the webhook while
// the slow receiver still holds the first one); the down one is retried
// with its attempts in the delivery log; each account resolves when its
// fault ends, and no other account is ever notified. A second rule with
// the default interval, for and range measures the delay from the fault's
// start to its notification with the defaults (under 30 s).
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';

import { gen as startGen, receiver, send, until as untilEvery, webhookAccount } from './lib/alerting.mjs';
import { getJson } from './lib/http.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

const SANITIZER = !!process.env.CLEW_E2E_SANITIZER || /asan/.test(CLEW_BIN);
const RATE = SANITIZER ? '800' : '2000';
const FIRST = 'acct-000003';
const SECOND = 'acct-000007';
// the slow receiver answers this late: well within the 10 s attempt timeout
// (no retry), long enough to still hold the first alert when the second
// account's arrives
const SLOW_MS = 7000;
const ROUTING_KEY = 'R0UT1NGK3Y';

// A URL nothing listens on: a port that was free a moment ago.
function downUrl() {
	return new Promise((resolve) => {
		const s = http.createServer();
		s.listen(0, '127.0.0.1', () => {
			const port = s.address().port;
			s.close(() => resolve(`http://127.0.0.1:${port}/down`));
		});
	});
}

const gen = (target, args) => startGen(target, args, { rate: RATE, seed: 5 });
const until = (what, fn, timeoutMs) => untilEvery(what, fn, timeoutMs, 100);
const webhookAcct = webhookAccount;
const slackAcct = (n) => (/span\.customer\.id=(acct-\d+)/.exec(n.body.text || '') || [])[1];
const pdAcct = (n) => (/span\.customer\.id=(acct-\d+)/.exec(n.body.dedup_key || '') || [])[1];

test('alert delivery: three formats, a slow and a dead receiver delay nobody, retries, resolve per account',
	{ skip: skipReason, timeout: 150000 }, async () => {
	const hook = await receiver();
	const slack = await receiver();
	const pd = await receiver();
	const slow = await receiver({ delayMs: SLOW_MS });
	const dflt = await receiver();
	const down = await downUrl();
	const server = await startClew({ args: ['--public-url', 'http://clew.example:3200'] });
	let g;
	try {
		const rule = {
			name: 'account p99 latency',
			query: '{ kind = server && span.customer.id != nil } | quantile_over_time(duration, 0.99) by (span.customer.id)',
			condition: { op: '>', threshold: 1.5 },
			interval: '1s', for: '1s', range: '10s', severity: 'critical', labels: { team: 'billing' },
			notify: [
				{ type: 'webhook', url: slow.url },
				{ type: 'webhook', url: down },
				{ type: 'webhook', url: hook.url },
				{ type: 'slack', url: slack.url },
				{ type: 'pagerduty', url: pd.url, routingKey: ROUTING_KEY },
			],
		};
		let r = await send(server, 'POST', '/api/v1/alert-rules', rule);
		assert.equal(r.status, 201, r.text);
		const ruleId = r.json.id;
		r = await send(server, 'POST', '/api/v1/alert-rules', { name: 'account p99, defaults', query: rule.query,
			condition: { op: '>', threshold: 1.5 }, notify: [{ type: 'webhook', url: dflt.url }] });
		assert.equal(r.status, 201, r.text);
		assert.deepEqual([r.json.interval, r.json.for, r.json.range], ['10s', '0s', '1m']);

		g = gen(server.url('otlpHttp'), ['--duration', '90s',
			'--fault', `custom:account=${FIRST},add=2s,start=3s,duration=20s`,
			'--fault', `custom:account=${SECOND},add=2s,start=4s,duration=20s`]);
		const firstHook = await until('the first account at the webhook',
			() => hook.got.find((n) => n.body.status === 'firing' && webhookAcct(n) === FIRST), 40000);
		const onFirst = g.edge(FIRST, 'on');
		const delayFirst = firstHook.at - onFirst;
		console.log(`alert delay: fault start to notification ${(delayFirst / 1000).toFixed(1)} s (interval 1s, for 1s, range 10s${SANITIZER ? ', sanitizer build' : ''})`);
		assert.ok(delayFirst > 0 && delayFirst < 30000, `under 30 s: ${delayFirst} ms`);

		// the generic payload
		const p = firstHook.body;
		assert.equal(p.rule, rule.name);
		assert.equal(p.ruleId, ruleId);
		assert.deepEqual(p.labels, { 'span.customer.id': FIRST });
		assert.ok(p.value > 1.5 && p.threshold === 1.5 && Math.abs(p.breachBy - (p.value - 1.5)) < 1e-6, JSON.stringify(p));
		assert.ok(typeof p.owner === 'string' && p.owner.length > 0, 'the owning team');
		assert.equal(p.account.id, FIRST);
		assert.deepEqual(p.ruleLabels, { team: 'billing' });
		if (!SANITIZER) {
			assert.ok(Array.isArray(p.rootCause) && p.rootCause.length > 0, JSON.stringify(p.rootCause ?? p.rootCauseError));
			for (const c of p.rootCause) assert.ok(typeof c.key === 'string' && 'value' in c && typeof c.score === 'number', JSON.stringify(c));
			assert.ok(p.criticalPath && typeof p.criticalPath.service === 'string', JSON.stringify(p.criticalPath ?? p.criticalPathError));
		}
		assert.ok(p.exampleTraceIds.length > 0 && p.exampleTraceIds.every((id) => /^[0-9a-f]{32}$/.test(id)));
		assert.ok(p.url.startsWith('http://clew.example:3200/explore?q=') && decodeURIComponent(p.url).includes(FIRST), p.url);

		// Slack: the summary says what breached, by how much and whose; the attachment the cause
		const s = await until('the Slack message', () => slack.got.find((n) => /^\[FIRING\]/.test(n.body.text || '') && slackAcct(n) === FIRST), 10000);
		assert.match(s.body.text, new RegExp(`^\\[FIRING\\] ${rule.name} \\(span\\.customer\\.id=${FIRST}\\): value [0-9.]+ > threshold 1\\.5, owner `));
		const att = s.body.attachments[0];
		assert.equal(att.title, rule.name);
		assert.equal(att.title_link, p.url);
		assert.equal(att.color, 'danger');
		assert.match(att.text, /Example traces: [0-9a-f]{32}/);
		if (!SANITIZER) assert.match(att.text, /Top correlations: .+=.+\nCritical path: /);

		// PagerDuty Events v2: a trigger with a dedup key per rule and account, details in custom_details
		const t = await until('the PagerDuty trigger', () => pd.got.find((n) => n.body.event_action === 'trigger' && pdAcct(n) === FIRST), 10000);
		assert.equal(t.body.routing_key, ROUTING_KEY);
		assert.equal(t.body.dedup_key, `clew/${ruleId}/span.customer.id=${FIRST}`);
		assert.equal(t.body.payload.severity, 'critical');
		assert.match(t.body.payload.summary, new RegExp(`^\\[FIRING\\] ${rule.name} \\(span\\.customer\\.id=${FIRST}\\)`));
		assert.equal(t.body.payload.group, p.owner);
		assert.equal(t.body.links[0].href, p.url);
		const cd = t.body.payload.custom_details;
		assert.deepEqual([cd.value > 1.5, cd.account.id, cd.exampleTraceIds.length > 0], [true, FIRST, true]);
		assert.deepEqual(cd.rootCause, p.rootCause, 'analysed once for every target');
		assert.deepEqual(cd.criticalPath, p.criticalPath);

		// the slow receiver got the same alert at about the same time but answers 8 s late;
		// meanwhile the second account's alert is evaluated and reaches the webhook
		const slowFirst = slow.got.find((n) => n.body.status === 'firing' && webhookAcct(n) === FIRST);
		assert.ok(slowFirst, 'the slow receiver was sent the first alert');
		const secondHook = await until('the second account at the webhook',
			() => hook.got.find((n) => n.body.status === 'firing' && webhookAcct(n) === SECOND), 40000);
		const delaySecond = secondHook.at - g.edge(SECOND, 'on');
		console.log(`second account: fault start to notification ${(delaySecond / 1000).toFixed(1)} s; the slow receiver answered the first ` +
			`${slowFirst.doneAt ? `${((slowFirst.doneAt - secondHook.at) / 1000).toFixed(1)} s after it` : 'not yet'}`);
		assert.ok(delaySecond > 0 && delaySecond < 30000, `${delaySecond} ms`);
		assert.ok(Math.abs(slowFirst.at - firstHook.at) < 3000, `sent to all targets together (${slowFirst.at - firstHook.at} ms apart)`);
		assert.ok(!slowFirst.doneAt || secondHook.at < slowFirst.doneAt, 'the second alert did not wait for the slow receiver');
		// and it is in flight to the slow receiver while that one still holds the first
		await until('the slow receiver holds both', () => slow.got.some((n) => webhookAcct(n) === SECOND), 10000);

		// the rule with the defaults
		const d1 = await until('the default rule\'s notification', () => dflt.got.find((n) => n.body.status === 'firing' && webhookAcct(n) === FIRST), 40000);
		const delayDefault = d1.at - onFirst;
		console.log(`alert delay with the default interval, for and range: ${(delayDefault / 1000).toFixed(1)} s`);
		assert.ok(delayDefault > 0 && delayDefault < 30000, `${delayDefault} ms`);

		// the dead receiver is retried, and the log says so
		const log = await until('retries of the dead receiver', async () => {
			const x = (await getJson(server.url('http', '/api/v1/alert-deliveries?limit=1000'))).json.deliveries;
			const mine = x.filter((e) => e.url === down);
			return mine.some((e) => e.attempt >= 2) ? x : null;
		}, 20000);
		const deadEntries = log.filter((e) => e.url === down);
		assert.ok(deadEntries.every((e) => e.status === 'retrying' && e.error.length > 0), JSON.stringify(deadEntries));
		assert.ok(log.some((e) => e.url === hook.url && e.status === 'sent' && e.attempt === 1 && e.httpStatus === 200));

		// both resolve once their faults end
		for (const acct of [FIRST, SECOND]) {
			const res = await until(`${acct} resolved at the webhook`, () => hook.got.find((n) => n.body.status === 'resolved' && webhookAcct(n) === acct), 60000);
			assert.ok(res.at >= g.edge(acct, 'off'), `${acct} resolved after its fault ended`);
			assert.ok(res.body.endsAt >= res.body.startsAt);
			await until(`${acct} resolved on Slack`, () => slack.got.find((n) => /^\[RESOLVED\]/.test(n.body.text || '') && slackAcct(n) === acct), 10000);
			const pr = await until(`${acct} resolved on PagerDuty`, () => pd.got.find((n) => n.body.event_action === 'resolve' && pdAcct(n) === acct), 10000);
			assert.equal(pr.body.dedup_key, `clew/${ruleId}/span.customer.id=${acct}`);
			assert.equal(pr.body.routing_key, ROUTING_KEY);
		}
		await until('the slow receiver got everything', () => slow.got.filter((n) => n.doneAt).length >= 4, 40000);
		await g.stop();
		g = null;

		// exactly the two accounts, each once firing and once resolved, at every live receiver
		const want = [`firing ${FIRST}`, `firing ${SECOND}`, `resolved ${FIRST}`, `resolved ${SECOND}`];
		const seen = (list, acctOf, status) => list.map((n) => `${status(n)} ${acctOf(n)}`).sort();
		assert.deepEqual(seen(hook.got, webhookAcct, (n) => n.body.status), want);
		assert.deepEqual(seen(slow.got, webhookAcct, (n) => n.body.status), want);
		assert.deepEqual(seen(slack.got, slackAcct, (n) => (/^\[FIRING\]/.test(n.body.text) ? 'firing' : 'resolved')), want);
		assert.deepEqual(seen(pd.got, pdAcct, (n) => (n.body.event_action === 'trigger' ? 'firing' : 'resolved')), want);
		const problems = await server.stopClean();
		assert.deepEqual(problems, []);
	} finally {
		if (g) await g.stop();
		for (const x of [hook, slack, pd, slow, dflt]) x.srv.close();
		await server.cleanup();
	}
});
