// Bar chart geometry for bar panels, kept pure so it is unit-tested: the
// time step of the samples, where each series' bar sits inside its step
// (side by side, never overlapping), and a y range that starts at zero so a
// bar's height is its value.

// The step between samples in x units: the smallest gap between neighbours,
// or fallback when there are fewer than two samples.
export function barStep(xs: number[], fallback: number): number {
	let step = Infinity;
	for (let i = 1; i < xs.length; i++) {
		const d = xs[i] - xs[i - 1];
		if (d > 0 && d < step) step = d;
	}
	return Number.isFinite(step) ? step : fallback;
}

export interface BarSlot { offset: number; width: number } // x units, offset from the sample's x

// The slot of each of n series in a step: together they fill `fill` of the
// step, centred on the sample's x, in series order from left to right.
export function barSlots(step: number, n: number, fill = 0.8): BarSlot[] {
	const group = step * fill;
	const width = group / Math.max(1, n);
	return Array.from({ length: n }, (_, i) => ({ offset: -group / 2 + i * width, width }));
}

// The y range of a bar chart: from zero (or the lowest negative value) to a
// little above the highest value; [0, 1] without data.
export function barRange(min: number | null, max: number | null): [number, number] {
	const lo = Math.min(0, min ?? 0), hi = Math.max(0, max ?? 0);
	if (lo === hi) return [0, 1];
	const pad = (hi - lo) * 0.05;
	return [lo < 0 ? lo - pad : 0, hi > 0 ? hi + pad : 0];
}
