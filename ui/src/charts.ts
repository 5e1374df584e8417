// Charts: uPlot time series (lines, or bars side by side in each step) with
// the theme's colours, and a canvas heatmap (time x log-duration buckets)
// with brushing for the explore and service pages.
import uPlot from 'uplot';
import { barRange, barSlots, barStep } from './bars';
import { h } from './dom';
import { fmtDateTime, fmtMs, fmtTime, timeTickLabels } from './format';

export const PALETTE = ['#5b8ff9', '#f6bd16', '#e8684a', '#5ad8a6', '#9270ca', '#ff9d4d', '#269a99', '#ff99c3', '#6dc8ec', '#5d7092'];

function cssVar(name: string): string {
	return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

export interface LineSeries { label: string; values: (number | null)[]; color?: string }

export interface ChartOptions {
	bars?: boolean; // bars instead of lines
	stepMs?: number; // the samples' step, for the bars' width when there is one sample
}

// The uPlot series options of series i of n: a line, or bars in their slot
// of each step (uPlot's bars path builder, placed by disp.x0 and size).
function seriesPaths(xsSec: number[], i: number, n: number, color: string, o: ChartOptions): Partial<uPlot.Series> {
	if (!o.bars) return { stroke: color, width: 1.5, points: { show: xsSec.length < 4 } };
	const fill = /^#[0-9a-f]{6}$/i.test(color) ? `${color}b0` : color;
	const slot = barSlots(barStep(xsSec, (o.stepMs ?? 60000) / 1000), n)[i];
	const x0 = xsSec.map((x) => x + slot.offset);
	const sizes = xsSec.map(() => slot.width);
	return {
		stroke: color, fill, width: 1, points: { show: false },
		paths: uPlot.paths.bars!({
			align: 1,
			disp: { x0: { unit: 1, values: () => x0 }, size: { unit: 1, values: () => sizes } },
		}),
	};
}

// A time-series chart; x in unix ms. fmt formats the y values. With
// opts.bars, each step shows one bar per series, side by side, from zero.
export function lineChart(title: string, xs: number[], series: LineSeries[], fmt: (v: number) => string,
	height = 160, mode: ChartOptions = {}): HTMLElement {
	const box = h('div', { class: mode.bars ? 'chart chart-bars' : 'chart' }, h('div', { class: 'chart-title' }, title));
	if (!xs.length || !series.length) {
		box.appendChild(h('div', { class: 'chart-empty' }, 'No data in this time range'));
		return box;
	}
	const plotEl = h('div', { class: 'chart-plot' });
	box.appendChild(plotEl);
	const xsSec = xs.map((x) => x / 1000);
	const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--grid'), width: 1 }, ticks: { stroke: cssVar('--grid'), width: 1 }, font: '11px system-ui, sans-serif' };
	const opts: uPlot.Options = {
		width: 400, height,
		legend: { show: series.length > 1 },
		cursor: { drag: { x: false, y: false } },
		scales: mode.bars ? {
			// room for the first and last steps' bars
			x: { time: true, range: (_u: uPlot, lo: number, hi: number) => { const st = barStep(xsSec, (mode.stepMs ?? 60000) / 1000); return [lo - st / 2, hi + st / 2]; } },
			y: { range: (_u: uPlot, lo: number, hi: number) => barRange(lo, hi) },
		} : { x: { time: true } },
		axes: [
			// x in seconds; labels as precise as the ticks' spacing needs,
			// the date where the day changes (two lines, hence the size)
			{ ...axis, space: 60, size: 44, values: (_u: uPlot, vals: number[], _ax: number, _space: number, incr: number) => timeTickLabels(vals.map((v) => v * 1000), incr * 1000) },
			{ ...axis, size: 60, values: (_u: uPlot, vals: number[]) => vals.map((v) => fmt(v)) },
		],
		series: [{ value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmtDateTime(v * 1000)) }, ...series.map((s, i) => ({
			label: s.label, ...seriesPaths(xsSec, i, series.length, s.color || PALETTE[i % PALETTE.length], mode),
			value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmt(v)),
		}))],
	};
	const data = [xsSec, ...series.map((s) => s.values)] as uPlot.AlignedData;
	// size to the container once it is in the document
	requestAnimationFrame(() => {
		const w = Math.max(200, plotEl.clientWidth || 400);
		const u = new uPlot({ ...opts, width: w }, data, plotEl);
		const ro = new ResizeObserver(() => {
			const nw = Math.max(200, plotEl.clientWidth);
			if (Math.abs(nw - u.width) > 4) u.setSize({ width: nw, height });
		});
		ro.observe(plotEl);
	});
	return box;
}

export interface HeatCell { t: number; bucket: number; count: number }
export interface Heatmap {
	times: number[]; // bucket start, unix ms
	stepMs: number;
	buckets: number[]; // upper bounds in ms, ascending
	counts: number[][]; // [timeIndex][bucketIndex]
}

export interface Brush { startMs: number; endMs: number; minMs: number; maxMs: number }

// A latency heatmap on canvas. Dragging a rectangle calls onBrush with the
// time and duration range it covers.
export function heatmapChart(title: string, hm: Heatmap, onBrush?: (b: Brush) => void, height = 180): HTMLElement {
	const box = h('div', { class: 'chart heatmap' }, h('div', { class: 'chart-title' }, title));
	const total = hm.counts.reduce((a, r) => a + r.reduce((x, y) => x + y, 0), 0);
	if (!hm.times.length || !hm.buckets.length || total === 0) {
		box.appendChild(h('div', { class: 'chart-empty' }, 'No spans in this time range'));
		return box;
	}
	// keep the rows that hold data, plus one either side
	let lo = hm.buckets.length, hi = -1;
	hm.counts.forEach((r) => r.forEach((c, i) => { if (c > 0) { lo = Math.min(lo, i); hi = Math.max(hi, i); } }));
	lo = Math.max(0, lo - 1);
	hi = Math.min(hm.buckets.length - 1, hi + 1);
	const canvas = h('canvas', { class: 'heat-canvas', height: String(height), tabindex: '0', 'aria-label': `${title}: drag to select a region` });
	const tip = h('div', { class: 'heat-tip' });
	const wrap = h('div', { class: 'heat-wrap' }, canvas, tip);
	box.appendChild(wrap);
	// time labels on every few columns, computed once: a second line (the
	// date where the day changes) makes room below
	const every = Math.max(1, Math.ceil(hm.times.length / 8));
	const xTicks: number[] = [];
	for (let t = 0; t < hm.times.length; t += every) xTicks.push(t);
	const xLabels = timeTickLabels(xTicks.map((t) => hm.times[t]), hm.stepMs > 0 ? hm.stepMs * every : undefined);
	const padL = 56, padB = xLabels.some((l) => l.includes('\n')) ? 30 : 18;
	let max = 0;
	hm.counts.forEach((r) => r.forEach((c) => { max = Math.max(max, c); }));
	const rows = hi - lo + 1;
	const draw = (sel?: { x0: number; x1: number; y0: number; y1: number }) => {
		const w = canvas.clientWidth || 600;
		const dpr = window.devicePixelRatio || 1;
		canvas.width = w * dpr;
		canvas.height = height * dpr;
		const g = canvas.getContext('2d')!;
		g.scale(dpr, dpr);
		g.clearRect(0, 0, w, height);
		const pw = w - padL, ph = height - padB;
		const cw = pw / hm.times.length, ch = ph / rows;
		const hot = cssVar('--heat');
		for (let t = 0; t < hm.times.length; t++) {
			for (let b = lo; b <= hi; b++) {
				const c = hm.counts[t][b];
				if (!c) continue;
				g.globalAlpha = 0.15 + 0.85 * Math.log1p(c) / Math.log1p(max);
				g.fillStyle = hot;
				g.fillRect(padL + t * cw, ph - (b - lo + 1) * ch, Math.ceil(cw) - 0.5, Math.ceil(ch) - 0.5);
			}
		}
		g.globalAlpha = 1;
		g.fillStyle = cssVar('--muted');
		g.font = '11px system-ui, sans-serif';
		g.textAlign = 'right';
		for (let b = lo; b <= hi; b += Math.max(1, Math.ceil(rows / 6))) g.fillText(fmtMs(hm.buckets[b]), padL - 4, ph - (b - lo) * ch - 2);
		g.textAlign = 'center';
		xTicks.forEach((t, i) => xLabels[i].split('\n').forEach((line, k) => g.fillText(line, padL + t * cw + cw / 2, ph + 13 + k * 12)));
		if (sel) {
			g.strokeStyle = cssVar('--accent');
			g.fillStyle = cssVar('--accent');
			g.globalAlpha = 0.15;
			g.fillRect(Math.min(sel.x0, sel.x1), Math.min(sel.y0, sel.y1), Math.abs(sel.x1 - sel.x0), Math.abs(sel.y1 - sel.y0));
			g.globalAlpha = 1;
			g.strokeRect(Math.min(sel.x0, sel.x1), Math.min(sel.y0, sel.y1), Math.abs(sel.x1 - sel.x0), Math.abs(sel.y1 - sel.y0));
		}
	};
	const cellAt = (x: number, y: number) => {
		const w = canvas.clientWidth, ph = height - padB;
		const t = Math.floor((x - padL) / ((w - padL) / hm.times.length));
		const b = lo + Math.floor((ph - y) / (ph / rows));
		return { t: Math.min(Math.max(t, 0), hm.times.length - 1), b: Math.min(Math.max(b, lo), hi) };
	};
	let drag: { x0: number; y0: number; x1: number; y1: number } | null = null;
	canvas.addEventListener('mousedown', (e) => { drag = { x0: e.offsetX, y0: e.offsetY, x1: e.offsetX, y1: e.offsetY }; });
	canvas.addEventListener('mousemove', (e) => {
		const { t, b } = cellAt(e.offsetX, e.offsetY);
		const c = hm.counts[t]?.[b] || 0;
		tip.textContent = `${fmtTime(hm.times[t])}  ${fmtMs(b > 0 ? hm.buckets[b - 1] : 0)}–${fmtMs(hm.buckets[b])}: ${c}`;
		if (drag) { drag.x1 = e.offsetX; drag.y1 = e.offsetY; draw(drag); }
	});
	const finish = () => {
		if (!drag) return;
		const d = drag;
		drag = null;
		if (Math.abs(d.x1 - d.x0) < 3 && Math.abs(d.y1 - d.y0) < 3) { draw(); return; }
		const a = cellAt(Math.min(d.x0, d.x1), Math.max(d.y0, d.y1));
		const z = cellAt(Math.max(d.x0, d.x1), Math.min(d.y0, d.y1));
		onBrush?.({
			startMs: hm.times[a.t], endMs: hm.times[z.t] + hm.stepMs,
			minMs: a.b > 0 ? hm.buckets[a.b - 1] : 0, maxMs: hm.buckets[z.b],
		});
	};
	canvas.addEventListener('mouseup', finish);
	canvas.addEventListener('mouseleave', () => { tip.textContent = ''; if (drag) finish(); });
	requestAnimationFrame(() => draw());
	new ResizeObserver(() => draw()).observe(canvas);
	return box;
}

// A histogram_over_time answer as a heatmap. Bucket labels are upper bounds
// in seconds; empty series are left out.
export function toHeatmap(series: { labels: { key: string; value: { doubleValue?: number; stringValue?: string } }[]; samples: { timestampMs: string; value: number }[] }[], stepMs: number): Heatmap {
	const bySec = new Map<number, Map<number, number>>();
	const times = new Set<number>();
	for (const s of series) {
		const l = s.labels.find((x) => x.key === '__bucket');
		if (!l) continue;
		const ub = Number(l.value.doubleValue ?? l.value.stringValue) * 1000;
		const m = bySec.get(ub) || new Map<number, number>();
		for (const p of s.samples) {
			const t = Number(p.timestampMs);
			times.add(t);
			m.set(t, (m.get(t) || 0) + p.value);
		}
		bySec.set(ub, m);
	}
	const buckets = [...bySec.keys()].sort((a, b) => a - b);
	const ts = [...times].sort((a, b) => a - b);
	const counts = ts.map((t) => buckets.map((b) => bySec.get(b)!.get(t) || 0));
	return { times: ts, stepMs, buckets, counts };
}
