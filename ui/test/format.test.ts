// Time-axis tick labels: distinct and as precise as the ticks need, from a
// few seconds of data to weeks; dates where the ticks cross days. Times are
// built in local time, as the labels are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fmtDateTime, timeTickLabels } from '../src/format';

const at = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0) => new Date(y, mo - 1, d, h, mi, s, ms).getTime();
const ticks = (start: number, step: number, n: number) => Array.from({ length: n }, (_, i) => start + i * step);

function assertDistinct(labels: string[], what: string) {
	assert.equal(new Set(labels).size, labels.length, `${what}: ${JSON.stringify(labels)}`);
}

test('a minute of data: seconds shown, every label distinct', () => {
	const ts = ticks(at(2024, 3, 5, 14, 7, 0), 10_000, 7);
	const l = timeTickLabels(ts, 10_000);
	assert.deepEqual(l, ['14:07:00', '14:07:10', '14:07:20', '14:07:30', '14:07:40', '14:07:50', '14:08:00']);
	// what the axis showed before: HH:MM, the same label six times
	assert.notEqual(l[0], l[1]);
});

test('a few seconds and sub-second steps', () => {
	assert.deepEqual(timeTickLabels(ticks(at(2024, 3, 5, 9, 0, 1), 1000, 3), 1000), ['09:00:01', '09:00:02', '09:00:03']);
	const l = timeTickLabels(ticks(at(2024, 3, 5, 9, 0, 1), 250, 5), 250);
	assert.deepEqual(l, ['09:00:01.000', '09:00:01.250', '09:00:01.500', '09:00:01.750', '09:00:02.000']);
});

test('minutes and hours within a day: HH:MM, no seconds, no date', () => {
	assert.deepEqual(timeTickLabels(ticks(at(2024, 3, 5, 14, 0), 300_000, 4), 300_000), ['14:00', '14:05', '14:10', '14:15']);
	assert.deepEqual(timeTickLabels(ticks(at(2024, 3, 5, 6, 0), 3_600_000 * 3, 5)), ['06:00', '09:00', '12:00', '15:00', '18:00']);
	// a minute step, but ticks off the minute (a heatmap's columns): seconds
	assert.deepEqual(timeTickLabels([at(2024, 3, 5, 14, 0, 30), at(2024, 3, 5, 14, 1, 30)], 60_000), ['14:00:30', '14:01:30']);
});

test('ticks crossing midnight: the date on the first tick and where the day changes', () => {
	const l = timeTickLabels(ticks(at(2024, 3, 5, 18, 0), 3 * 3_600_000, 5), 3 * 3_600_000);
	assert.deepEqual(l, ['18:00\nMar 5', '21:00', '00:00\nMar 6', '03:00', '06:00']);
	assertDistinct(l, 'crossing midnight');
});

test('days and weeks: dates alone, the year when they cross years', () => {
	assert.deepEqual(timeTickLabels(ticks(at(2024, 3, 5), 86_400_000, 3), 86_400_000), ['Mar 5', 'Mar 6', 'Mar 7']);
	const week = timeTickLabels([at(2024, 2, 26), at(2024, 3, 4), at(2024, 3, 11), at(2024, 3, 18)]);
	assert.deepEqual(week, ['Feb 26', 'Mar 4', 'Mar 11', 'Mar 18']);
	assert.deepEqual(timeTickLabels([at(2024, 12, 30), at(2024, 12, 31), at(2025, 1, 1)]), ['2024-12-30', '2024-12-31', '2025-01-01']);
	// a week at 12 h steps: times with dates at each midnight
	const l = timeTickLabels(ticks(at(2024, 3, 5), 12 * 3_600_000, 14), 12 * 3_600_000);
	assertDistinct(l, 'a week by 12 h');
	assert.equal(l[0], '00:00\nMar 5');
	// 12:00 recurs every day: each tick names its day
	assert.equal(l[1], '12:00\nMar 5');
	assert.equal(l[2], '00:00\nMar 6');
});

test('labels stay distinct for every span from seconds to weeks', () => {
	const start = at(2024, 3, 5, 13, 47, 12);
	for (const step of [1, 10, 250, 1000, 5000, 15_000, 30_000, 60_000, 90_000, 300_000, 900_000, 3_600_000, 4 * 3_600_000, 86_400_000, 7 * 86_400_000]) {
		const ts = ticks(Math.floor(start / step) * step, step, 9);
		assertDistinct(timeTickLabels(ts, step), `step ${step}`);
		assertDistinct(timeTickLabels(ts), `step ${step}, derived`);
	}
	// a stated step coarser than the ticks' spacing (or a wrong one): still distinct
	assertDistinct(timeTickLabels(ticks(at(2024, 3, 5, 14, 7, 0), 10_000, 6), 86_400_000), 'a wrong step');
	// the same HH:MM on two days, one hour apart otherwise
	assertDistinct(timeTickLabels([at(2024, 3, 5, 14, 0), at(2024, 3, 5, 15, 0), at(2024, 3, 6, 14, 0)]), 'same clock, two days');
});

test('odd input: empty, one tick, repeated, not a number', () => {
	assert.deepEqual(timeTickLabels([]), []);
	assert.deepEqual(timeTickLabels([at(2024, 3, 5, 14, 0)]), ['14:00']);
	assert.deepEqual(timeTickLabels([at(2024, 3, 5)]), ['Mar 5']);
	const same = at(2024, 3, 5, 14, 0, 5);
	assert.deepEqual(timeTickLabels([same, same]), ['14:00:05', '14:00:05']);
	const l = timeTickLabels([NaN, at(2024, 3, 5, 14, 0), Infinity]);
	assert.deepEqual(l, ['', '14:00', '']);
	assert.deepEqual(timeTickLabels([at(2024, 3, 5, 14, 0), at(2024, 3, 5, 14, 1)], -5), ['14:00', '14:01']);
});

test('fmtDateTime is the full local time', () => {
	assert.equal(fmtDateTime(at(2024, 3, 5, 4, 3, 2)), '2024-03-05 04:03:02');
});
