// Alert pages' pure logic: the rule form to JSON and back, the threshold
// preview, silence bodies, the explore deep link of an instance, durations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AlertInstance, EMPTY_FORM, breaches, fmtAge, formToRule, groupQuery, instanceExplore, parseDuration, parsePairs, parseTargets, previewRows, ruleFilter, ruleToForm, silenceBody } from '../src/alerting';
import { parseRoute, routePath } from '../src/url';

test('a filled form becomes the API rule and comes back unchanged', () => {
	const f = { ...EMPTY_FORM, name: ' slow accounts ', query: '{ kind = server } | rate() by (span.customer.id)', op: '>=', threshold: '2.5', clear: '2',
		interval: '5s', for: '10s', range: '1m', severity: 'critical', labels: 'team=billing\nowner: alice', notify: 'webhook https://h.example/x\nslack team\npagerduty account KEY min=critical',
		groupBy: 'span.customer.id, resource.service.name' };
	const r = formToRule(f);
	assert.equal(r.error, undefined);
	assert.deepEqual(r.rule, {
		name: 'slow accounts', query: '{ kind = server } | rate() by (span.customer.id)', condition: { op: '>=', threshold: 2.5, clear: 2 },
		interval: '5s', for: '10s', range: '1m', severity: 'critical', labels: { team: 'billing', owner: 'alice' },
		notify: [{ type: 'webhook', url: 'https://h.example/x' }, { type: 'slack', to: 'team' }, { type: 'pagerduty', to: 'account', routingKey: 'KEY', minSeverity: 'critical' }],
		groupBy: ['span.customer.id', 'resource.service.name'],
	});
	const back = ruleToForm(r.rule!);
	assert.deepEqual(formToRule(back).rule, r.rule);
	assert.equal(back.labels, 'team=billing\nowner=alice');
});

test('the server fills defaults the form leaves out; clear equal to threshold is not shown', () => {
	const f = ruleToForm({ name: 'x', query: 'q', condition: { op: '<', threshold: 1, clear: 1 }, interval: '30s', for: '0s', notify: [{ type: 'webhook', url: 'http://a', minSeverity: 'info' }] });
	assert.equal(f.clear, '');
	assert.equal(f.op, '<');
	assert.equal(f.notify, 'webhook http://a');
	const r = formToRule({ ...EMPTY_FORM, name: 'n', interval: '', for: '', range: '' }).rule!;
	assert.equal(r.interval, undefined);
	assert.equal(r.condition.clear, undefined);
	assert.deepEqual(r.notify, []);
	assert.equal(r.groupBy, undefined);
});

test('bad form input names the field', () => {
	const bad: [Partial<typeof EMPTY_FORM>, RegExp][] = [
		[{ name: '' }, /^name/], [{ name: 'a', query: ' ' }, /^query/], [{ name: 'a', op: '=>' }, /^condition/],
		[{ name: 'a', threshold: '' }, /^threshold/], [{ name: 'a', threshold: 'abc' }, /^threshold/], [{ name: 'a', threshold: 'NaN' }, /^threshold/],
		[{ name: 'a', clear: 'x' }, /^clear/], [{ name: 'a', interval: '5 seconds' }, /^interval/], [{ name: 'a', for: '-1m' }, /^for/],
		[{ name: 'a', labels: 'novalue' }, /^labels/], [{ name: 'a', labels: '=x' }, /^labels/],
		[{ name: 'a', notify: 'email me@x' }, /^notify/], [{ name: 'a', notify: 'webhook' }, /^notify/],
	];
	for (const [patch, re] of bad) {
		const r = formToRule({ ...EMPTY_FORM, ...patch });
		assert.equal(r.rule, undefined, JSON.stringify(patch));
		assert.match(r.error!, re, JSON.stringify(patch));
	}
});

test('conditions and the preview rows', () => {
	assert.ok(breaches('>', 2, 1) && !breaches('>', 1, 1) && breaches('>=', 1, 1) && breaches('<', 0, 1) && !breaches('<=', 2, 1));
	assert.ok(breaches('=', 1, 1) && breaches('!=', 2, 1) && !breaches('?', 2, 1) && !breaches('>', NaN, 1));
	const rows = previewRows([
		{ label: 'a', values: [0.1, 0.2, null] }, { label: 'b', values: [2, 3, 0.5] }, { label: 'c', values: [3, null, 4] }, { label: 'd', values: [null, null] },
	], '>', 1);
	assert.deepEqual(rows.map((r) => [r.label, r.last, r.breachNow, r.breachSamples, r.samples]), [
		['c', 4, true, 2, 2], ['b', 0.5, false, 2, 3], ['a', 0.2, false, 0, 2], ['d', NaN, false, 0, 0]]);
});

test('durations', () => {
	assert.equal(parseDuration('30s'), 30000);
	assert.equal(parseDuration('1m30s'), 90000);
	assert.equal(parseDuration('500ms'), 500);
	assert.equal(parseDuration('2h'), 7200000);
	for (const b of ['', '5', 's', '5x', '1m 30s', '-1s']) assert.ok(Number.isNaN(parseDuration(b)), b);
	assert.equal(fmtAge(42000), '42s');
	assert.equal(fmtAge(200000), '3m 20s');
	assert.equal(fmtAge(7500000), '2h 5m');
	assert.equal(fmtAge(-1), '–');
});

test('an instance opens its group in explore over its episode', () => {
	assert.equal(ruleFilter('{ kind = server } | rate() by (span.x)'), '{ kind = server }');
	assert.equal(ruleFilter('{ name = "a|b" || kind = client } | rate()'), '{ name = "a|b" || kind = client }');
	assert.equal(groupQuery('{ kind = server } | rate() by (span.customer.id)', { 'span.customer.id': 'acct-"1' }), '{ kind = server && span.customer.id = "acct-\\"1" }');
	assert.equal(groupQuery('{ a = 1 || b = 2 } | rate()', { 'span.c': 'x' }), '{ (a = 1 || b = 2) && span.c = "x" }');
	assert.equal(groupQuery('{ } | rate()', { 'resource.service.name': 's' }), '{ resource.service.name = "s" }');
	assert.equal(groupQuery('{ a = 1 } >> { b = 2 } | rate()', { 'span.c': 'x' }), '{ a = 1 } >> { b = 2 } && { span.c = "x" }');
	assert.equal(groupQuery('{ a = 1 } | rate()', { 'bad key}': 'x' }), '{ a = 1 }');
	const now = 10_000_000_000;
	const inst: AlertInstance = { ruleId: 'r', rule: 'n', key: 'k', labels: { 'span.customer.id': 'a' }, state: 'firing', value: 2, pendingSinceNs: (now - 120000) * 1e6,
		firedNs: (now - 60000) * 1e6, resolvedNs: 0, lastNotifyNs: 0, notified: true, service: '', team: '' };
	const e = instanceExplore(inst, '{ kind = server } | rate() by (span.customer.id)', now);
	assert.deepEqual(e, { q: '{ kind = server && span.customer.id = "a" }', from: String(now - 60000 - 900000), to: String(now) });
	const res = instanceExplore({ ...inst, state: 'resolved', resolvedNs: (now - 3600000) * 1e6, firedNs: (now - 4000000) * 1e6 }, '{ } | rate()', now);
	assert.equal(res.to, String(now - 3600000 + 300000));
});

test('silence bodies and pairs', () => {
	assert.deepEqual(silenceBody('span.customer.id=acct-1, rule=slow, accounts', '2h', ' why '), { body: { matchers: { 'span.customer.id': 'acct-1', rule: 'slow, accounts' }, expiresIn: '2h', comment: 'why' } });
	assert.match(silenceBody('', '2h', '').error!, /^matchers/);
	assert.match(silenceBody('a', '2h', '').error!, /^matchers/);
	assert.match(silenceBody('a=b', 'soon', '').error!, /^expires/);
	assert.match(silenceBody('a=b', '0s', '').error!, /^expires/);
	assert.deepEqual(parsePairs('runbook=https://x.example/a', 'l').value, { runbook: 'https://x.example/a' });
	assert.deepEqual(parsePairs('k="quoted"', 'l').value, { k: 'quoted' });
	assert.equal(parseTargets('slack\n').error?.startsWith('notify'), true);
});

test('alert routes', () => {
	assert.deepEqual(parseRoute('/alerts'), { page: 'alerts' });
	assert.deepEqual(parseRoute('/alerts/rules'), { page: 'rules' });
	assert.deepEqual(parseRoute('/alerts/rules/new'), { page: 'rules', ruleId: 'new' });
	assert.deepEqual(parseRoute('/alerts/rules/3901DFB00397DB1C'), { page: 'rules', ruleId: '3901dfb00397db1c' });
	assert.deepEqual(parseRoute('/catalog'), { page: 'catalog' });
	for (const p of ['/alerts/x', '/alerts/rules/zz', '/alerts/rules/a/b', '/catalog/x']) assert.equal(parseRoute(p).page, 'notfound', p);
	for (const r of [{ page: 'alerts' }, { page: 'rules' }, { page: 'rules', ruleId: 'abc' }, { page: 'catalog' }] as const) assert.deepEqual(parseRoute(routePath(r)), r);
});
