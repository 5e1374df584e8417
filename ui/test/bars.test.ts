// Bar panels' geometry: the step of the samples, each series' bar in its
// own slot of the step, and a y range from zero.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { barRange, barSlots, barStep } from '../src/bars';

test('the step is the smallest gap between samples', () => {
	assert.equal(barStep([0, 60, 120, 240], 15), 60);
	assert.equal(barStep([100, 100, 130], 15), 30);
	assert.equal(barStep([100], 15), 15);
	assert.equal(barStep([], 15), 15);
});

test('the bars of several series sit side by side inside the step', () => {
	const one = barSlots(60, 1);
	assert.deepEqual(one, [{ offset: -24, width: 48 }]);
	const s = barSlots(60, 3);
	assert.equal(s.length, 3);
	for (let i = 0; i < 3; i++) {
		assert.ok(Math.abs(s[i].width - 16) < 1e-9);
		if (i) assert.ok(Math.abs(s[i].offset - (s[i - 1].offset + s[i - 1].width)) < 1e-9, 'no overlap, no gap');
	}
	assert.ok(Math.abs(s[0].offset + 24) < 1e-9 && Math.abs(s[2].offset + s[2].width - 24) < 1e-9, 'centred on the sample');
	assert.deepEqual(barSlots(60, 0), []);
});

test('the y range starts at zero', () => {
	assert.deepEqual(barRange(5, 10), [0, 10.5]);
	assert.deepEqual(barRange(-4, 0), [-4.2, 0]);
	const [lo, hi] = barRange(-2, 8);
	assert.ok(Math.abs(lo + 2.5) < 1e-9 && Math.abs(hi - 8.5) < 1e-9);
	assert.deepEqual(barRange(null, null), [0, 1]);
	assert.deepEqual(barRange(0, 0), [0, 1]);
});
