// TraceQL text helpers: adding a cause to a query, autocomplete context.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addCondition, attrNames, completionAt, filterCompletions, literal } from '../src/traceql';

test('a cause is added to the spanset filter', () => {
	assert.equal(addCondition('{}', 'span.customer.id', 'acme'), '{ span.customer.id = "acme" }');
	assert.equal(addCondition('', 'name', 'GET /'), '{ name = "GET /" }');
	assert.equal(addCondition('{ kind = server }', 'resource.service.version', '1.2.3'), '{ kind = server && resource.service.version = "1.2.3" }');
	assert.equal(addCondition('{ a = 1 || b = 2 }', 'span.x', '5', 'int'), '{ (a = 1 || b = 2) && span.x = 5 }');
	assert.equal(addCondition('{ span.x = 5 }', 'span.x', '5', 'int'), '{ span.x = 5 }');
	assert.equal(addCondition('{ a = 1 } >> { b = 2 }', 'span.k', 'v'), '{ a = 1 } >> { b = 2 } && { span.k = "v" }');
});

test('literals are quoted and escaped unless numeric', () => {
	assert.equal(literal('say "hi" \\ there'), '"say \\"hi\\" \\\\ there"');
	assert.equal(literal('200', 'int'), '200');
	assert.equal(literal('2.5', 'double'), '2.5');
	assert.equal(literal('true', 'bool'), 'true');
	assert.equal(literal('200'), '"200"');
	assert.equal(literal('1; drop', 'int'), '"1; drop"');
});

test('completion context: attribute names and values', () => {
	assert.deepEqual(completionAt('{ resource.se', 13), { kind: 'attr', prefix: 'resource.se', from: 2 });
	assert.deepEqual(completionAt('{', 1), { kind: 'attr', prefix: '', from: 1 });
	assert.deepEqual(completionAt('{ a = 1 && sp', 13), { kind: 'attr', prefix: 'sp', from: 11 });
	assert.deepEqual(completionAt('{ resource.service.name = "che', 30), { kind: 'value', attr: 'resource.service.name', prefix: 'che', from: 26, quoted: true });
	assert.deepEqual(completionAt('{ span.x != ', 12), { kind: 'value', attr: 'span.x', prefix: '', from: 12, quoted: false });
	assert.equal(completionAt('outside', 7), null);
	assert.equal(completionAt('{ a = 1 } ', 10), null);
});

test('names from the tags API, filtered by prefix then substring', () => {
	const names = attrNames([{ name: 'resource', tags: ['service.name'] }, { name: 'span', tags: ['customer.id'] }, { name: 'intrinsic', tags: ['name', 'event:name'] }]);
	assert.ok(names.includes('resource.service.name'));
	assert.ok(names.includes('span.customer.id'));
	assert.ok(!names.includes('event:name'));
	assert.equal(names.filter((n) => n === 'name').length, 1);
	assert.deepEqual(filterCompletions(['span.a', 'resource.span', 'x'], 'span'), ['span.a', 'resource.span']);
	assert.equal(filterCompletions(names, '', 3).length, 3);
});
