// Dashboards' pure logic: variable substitution (as the server validates
// it), the URL's variable values, templates, stat values and units.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL, TEMPLATES, allowed, fmtUnit, initialValue, multiChoices, multiUseOk, nextGrid, referencedVars, statValue, substitute, substituteText, varsFromParams } from '../src/dashboard';
import { parseRoute, routePath } from '../src/url';

test('variables are substituted inside and outside string literals', () => {
	const v = { service: 'checkout', s: 'short', q: 'a"b\\c', min: '250ms', n: '-3' };
	assert.equal(substitute('{ resource.service.name = "$service" }', v), '{ resource.service.name = "checkout" }');
	assert.equal(substitute('{ resource.service.name = ${service} }', v), '{ resource.service.name = "checkout" }');
	assert.equal(substitute('{ .x = "pre-${q}-post" }', v), '{ .x = "pre-a\\"b\\\\c-post" }');
	assert.equal(substitute('{ .x = $q }', v), '{ .x = "a\\"b\\\\c" }');
	assert.equal(substitute('{ duration > $min && .n = $n }', v), '{ duration > 250ms && .n = -3 }');
	assert.equal(substitute('{ .x = $service }', { service: '1 || true' }), '{ .x = "1 || true" }');
	assert.equal(substitute('{ .x =~ `$service` }', { service: 'a`b' }), '{ .x =~ `ab` }');
	// $s is its own name, not the start of $service; a lone $ and unknown names stay
	assert.equal(substitute('{ .y = $s && .x =~ "^a$" && .z = $nope }', v), '{ .y = "short" && .x =~ "^a$" && .z = $nope }');
	// an escaped quote does not end the literal
	assert.equal(substitute('{ .x = "\\"$s" }', v), '{ .x = "\\"short" }');
	// a value cannot break out of its literal
	assert.equal(substitute('{ .x = "$q" } | rate()', { q: '" } | count() //' }), '{ .x = "\\" } | count() //" } | rate()');
	assert.deepEqual(referencedVars('{ .a = $x && .b = "${y}" && .c = $x }'), ['x', 'y']);
});

test('variable values come from the URL, then the default, then the first known value', () => {
	const vars = [{ name: 'service', default: 'api' }, { name: 'account' }];
	assert.deepEqual(varsFromParams(new URLSearchParams('var-service=checkout&var-account=acme'), vars), { service: 'checkout', account: 'acme' });
	assert.deepEqual(varsFromParams(new URLSearchParams(''), vars), { service: 'api' });
	assert.equal(initialValue(vars[1], undefined, ['x', 'y']), 'x');
	assert.equal(initialValue(vars[0], undefined, ['x']), 'api');
	assert.equal(initialValue(vars[0], 'from-url', ['x']), 'from-url');
	assert.equal(initialValue(vars[1], undefined, []), '');
});

test('dashboard routes parse and print back', () => {
	assert.deepEqual(parseRoute('/dashboards'), { page: 'dashboards' });
	assert.deepEqual(parseRoute('/dashboards/team-payments'), { page: 'dashboards', dashboardId: 'team-payments' });
	assert.equal(routePath({ page: 'dashboards', dashboardId: 'a_b' }), '/dashboards/a_b');
	assert.equal(parseRoute('/dashboards/a/b').page, 'notfound');
	assert.equal(parseRoute('/dashboards/a%20b').page, 'notfound');
});

test('templates refer only to their own variables and lay out on the grid', () => {
	for (const t of TEMPLATES) {
		const d = t.make();
		const names = d.variables.map((v) => v.name);
		const ids = new Set<string>();
		for (const p of d.panels) {
			for (const r of referencedVars(p.query)) assert.ok(names.includes(r), `${t.key}: ${p.query} uses $${r}`);
			assert.ok(p.grid && p.grid.x + p.grid.w <= 24, `${t.key}: ${p.id} fits the grid`);
			assert.ok(!ids.has(p.id!), `${t.key}: ${p.id} is unique`);
			ids.add(p.id!);
			assert.match(p.query, /\| *(rate|count_over_time|quantile_over_time|histogram_over_time)\(/);
		}
	}
	assert.deepEqual(nextGrid([]), { x: 0, y: 0, w: 12, h: 8 });
	assert.deepEqual(nextGrid([{ title: '', query: '', grid: { x: 0, y: 0, w: 12, h: 8 } }]), { x: 12, y: 0, w: 12, h: 8 });
	assert.deepEqual(nextGrid([{ title: '', query: '', grid: { x: 0, y: 0, w: 24, h: 6 } }]), { x: 0, y: 6, w: 12, h: 8 });
});

test('stat values and units', () => {
	const s = [{ value: 2 }, { value: NaN }, { value: 4 }];
	assert.equal(statValue('{} | count_over_time()', s), 6);
	assert.equal(statValue('{} | rate()', s), 3);
	assert.ok(Number.isNaN(statValue('{} | rate()', [])));
	assert.equal(fmtUnit(0.25, 's'), '250ms');
	assert.equal(fmtUnit(12, 'reqps'), '12/s');
	assert.equal(fmtUnit(0.5, 'percent'), '50%');
	assert.equal(fmtUnit(12345, ''), '12.3k');
	assert.equal(fmtUnit(NaN, 's'), '–');
});

test('titles take the bare values', () => {
	assert.equal(substituteText('p99 of $service (${env})', { service: 'api', env: 'prod' }), 'p99 of api (prod)');
	assert.equal(substituteText('cost in $', {}), 'cost in $');
});

test('several values become one comparison per value, All drops the comparison', () => {
	const q = '{ resource.service.name = "$service" && status = error } | rate() by (name)';
	assert.equal(substitute(q, { service: ['a', 'b"c'] }), '{ (resource.service.name = "a" || resource.service.name = "b\\"c") && status = error } | rate() by (name)');
	assert.equal(substitute(q, { service: ALL }), '{ true && status = error } | rate() by (name)');
	assert.equal(substitute(q, { service: [] }), '{ true && status = error } | rate() by (name)');
	assert.equal(substitute(q, { service: ['only'] }), '{ resource.service.name = "only" && status = error } | rate() by (name)');
	// negated comparisons: none of the values
	assert.equal(substitute('{ span.customer.id != $acct }', { acct: ['x', 'y'] }), '{ (span.customer.id != "x" && span.customer.id != "y") }');
	assert.equal(substitute('{ .c !~ "$acct.*" }', { acct: ['x', 'y'] }), '{ (.c !~ "x.*" && .c !~ "y.*") }');
	// part of a literal, a regex, the left side, a quoted attribute name
	assert.equal(substitute('{ .route = "/api/$v/x" }', { v: ['1', '2'] }), '{ (.route = "/api/1/x" || .route = "/api/2/x") }');
	assert.equal(substitute('{ .c =~ `$v` }', { v: ['a', 'b'] }), '{ (.c =~ `a` || .c =~ `b`) }');
	assert.equal(substitute('{ $v = .c }', { v: ['a', 'b'] }), '{ ("a" = .c || "b" = .c) }');
	assert.equal(substitute('{ span."http route"="$v" }', { v: ['a', 'b'] }), '{ (span."http route"="a" || span."http route"="b") }');
	// two variables with several values in one filter, and one in two filters
	assert.equal(substitute('{ .s = $s && .a = $a }', { s: ['x', 'y'], a: ALL }), '{ (.s = "x" || .s = "y") && true }');
	assert.equal(substitute('{ .s = $s } >> { .t = $s }', { s: ['x', 'y'] }), '{ (.s = "x" || .s = "y") } >> { (.t = "x" || .t = "y") }');
	// a use outside a comparison takes the first value
	assert.equal(substitute('{ .s = $s } | rate() by ($s)', { s: ['x', 'y'] }), '{ (.s = "x" || .s = "y") } | rate() by ("x")');
	assert.equal(substitute('{ duration > $min }', { min: ['1s', '2s'] }), '{ (duration > 1s || duration > 2s) }');
});

test('several values and All are offered only where the queries allow them', () => {
	assert.ok(multiUseOk('{ resource.service.name = "$service" } | rate()', 'service'));
	assert.ok(multiUseOk('{ .a = 1 } | rate()', 'service'), 'not used at all');
	assert.ok(!multiUseOk('{ .s = $s } | rate() by ($s)', 's'));
	assert.ok(!multiUseOk('{ .s = 1 } | count() > $s', 's'), 'a scalar filter outside { }');
	const v = { name: 'service', query: { tag: 'resource.service.name' }, multi: true, includeAll: true };
	assert.deepEqual(multiChoices(v, ['{ resource.service.name = "$service" } | rate()']), { multi: true, all: true });
	assert.deepEqual(multiChoices(v, ['{ resource.service.name = "$service" } | rate() by ($service)']), { multi: false, all: false });
	assert.deepEqual(multiChoices({ ...v, query: undefined }, ['{ .x = $service } | rate()']), { multi: false, all: false }, 'free text');
	assert.deepEqual(multiChoices({ ...v, multi: false }, ['{ .x = $service } | rate()']), { multi: false, all: true });
	// every template variable may take several values and All
	for (const t of TEMPLATES) {
		const d = t.make();
		for (const x of d.variables) assert.deepEqual(multiChoices({ ...x, multi: true, includeAll: true }, d.panels.map((p) => p.query)), { multi: true, all: true }, `${t.key} $${x.name}`);
	}
});

test('several values and All round-trip through the URL as the variable allows', () => {
	const vars = [{ name: 'account', multi: true, includeAll: true }, { name: 'service' }, { name: 'env', includeAll: true, default: ALL }];
	const p = new URLSearchParams('var-account=a&var-account=b&var-service=x&var-service=y');
	assert.deepEqual(varsFromParams(p, vars), { account: ['a', 'b'], service: 'x', env: ALL });
	assert.deepEqual(varsFromParams(new URLSearchParams('var-account=%24__all&var-service=%24__all'), vars), { account: ALL, service: '', env: ALL });
	assert.deepEqual(allowed(vars[0], ['a', ALL]), ALL);
	assert.equal(initialValue(vars[0], undefined, ['k']), ALL);
	assert.deepEqual(initialValue(vars[0], ['a', 'b'], ['k']), ['a', 'b']);
	assert.equal(initialValue(vars[1], ['a', 'b'], ['k']), 'a');
	assert.equal(substituteText('p99 of $account on $env', { account: ['a', 'b'], env: ALL }), 'p99 of a, b on All');
});
