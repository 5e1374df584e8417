// Alert routing end to end: the catalog gives every service of `clew gen`'s
// system a team and that team's on-call channel (a local receiver, the
// service in its path), and one customer account its owner's channel (a
// second receiver); a second slow account has no channel. One rule of
// severity warning routes to the team, to the account owner, and to two
// fixed receivers, one taking warning and up, one critical only. The team's
// channel gets both accounts' alerts at the path of the service the
// notification names, with that service's team as owner; the owner's
// channel gets its own account's only; the critical-only receiver gets
// nothing and the other fixed one everything.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { gen, receiver, send, until, webhookAccount } from './lib/alerting.mjs';
import { getJson, sleep } from './lib/http.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

const SANITIZER = !!process.env.CLEW_E2E_SANITIZER || /asan/.test(CLEW_BIN);
const RATE = SANITIZER ? '800' : '2000';
const OWNED = 'acct-000002'; // has an owner's channel
const UNOWNED = 'acct-000006'; // in the catalog without a channel

const acct = webhookAccount;

test('alert routing: to the owning team, to the account owner, by severity', { skip: skipReason, timeout: 120000 }, async () => {
	const team = await receiver();
	const owner = await receiver();
	const warn = await receiver();
	const crit = await receiver();
	const server = await startClew();
	let child;
	try {
		child = gen(server.url('otlpHttp'), ['--duration', '60s', '--fault', `custom:account=${OWNED},add=2s,start=8s,duration=10m`,
			'--fault', `custom:account=${UNOWNED},add=2s,start=8s,duration=10m`], { rate: RATE, seed: 4 });
		// every service the traffic has (once their number holds for two
		// seconds, before the faults start), with its team's channel
		let seen = [];
		let steady = 0;
		const services = await until('the services', async () => {
			const v = (await getJson(server.url('http', '/api/v2/search/tag/resource.service.name/values'))).json;
			const now = v ? v.tagValues.map((t) => t.value) : [];
			steady = now.length === seen.length ? steady + 1 : 0;
			seen = now;
			await sleep(800);
			return now.length >= 5 && steady >= 2 ? now : null;
		}, 7000);
		let r = await send(server, 'PUT', '/api/v1/catalog', {
			services: services.map((s) => ({ name: s, team: `team-${s}`, channel: `${team.base}/team/${s}` })),
			accounts: [{ id: OWNED, name: 'Owned Ltd', owner: 'olivia', channel: `${owner.base}/owner` }, { id: UNOWNED, name: 'Nobody Inc' }],
		});
		assert.equal(r.status, 200, r.text);
		r = await send(server, 'POST', '/api/v1/alert-rules', {
			name: 'account p99 latency',
			query: '{ kind = server && span.customer.id != nil } | quantile_over_time(duration, 0.99) by (span.customer.id)',
			condition: { op: '>', threshold: 1.5 }, interval: '1s', for: '1s', range: '10s', severity: 'warning',
			notify: [
				{ type: 'webhook', to: 'team' },
				{ type: 'webhook', to: 'account' },
				{ type: 'webhook', url: `${warn.base}/warn`, minSeverity: 'warning' },
				{ type: 'webhook', url: `${crit.base}/crit`, minSeverity: 'critical' },
			],
		});
		assert.equal(r.status, 201, r.text);

		await until('both accounts at the fixed receiver', () => new Set(warn.got.filter((n) => n.body.status === 'firing').map(acct)).size === 2, 40000);
		await until('both accounts at the team channel', () => new Set(team.got.filter((n) => n.body.status === 'firing').map(acct)).size === 2, 10000);
		await until('the owner\'s channel', () => owner.got.some((n) => n.body.status === 'firing'), 10000);
		await sleep(2000);
		for (const n of team.got) {
			const svc = decodeURIComponent(n.path.replace(/^\/team\//, ''));
			assert.equal(n.body.service, svc, `sent to the channel of the service it names: ${n.path}`);
			assert.equal(n.body.owner, `team-${svc}`, 'the owner is that service\'s team');
		}
		assert.deepEqual(owner.got.map((n) => `${n.path} ${n.body.status} ${acct(n)}`), [`/owner firing ${OWNED}`]);
		assert.equal(owner.got[0].body.account.owner, 'olivia');
		assert.deepEqual(crit.got, [], 'a warning never reaches a critical-only target');
		assert.deepEqual(warn.got.map((n) => `${n.body.status} ${acct(n)}`).sort(), [`firing ${OWNED}`, `firing ${UNOWNED}`]);
		const problems = await server.stopClean();
		assert.deepEqual(problems, []);
	} finally {
		await child?.stop();
		for (const x of [team, owner, warn, crit]) x.srv.close();
		await server.cleanup();
	}
});
