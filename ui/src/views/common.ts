// Helpers the metric pages share: turning /api/metrics/query_range answers
// into chart series and per-label summaries.
import { Series, label } from '../api';
import { LineSeries } from '../charts';

// Series aligned on one time axis (unix ms), with a label function.
export function align(series: Series[], name: (s: Series) => string, scale = 1): { xs: number[]; lines: LineSeries[] } {
	const ts = new Set<number>();
	for (const s of series) for (const p of s.samples) ts.add(Number(p.timestampMs));
	const xs = [...ts].sort((a, b) => a - b);
	const idx = new Map(xs.map((x, i) => [x, i]));
	const lines = series.map((s) => {
		const values: (number | null)[] = xs.map(() => null);
		for (const p of s.samples) values[idx.get(Number(p.timestampMs))!] = Number.isFinite(p.value) ? p.value * scale : null;
		return { label: name(s), values };
	});
	return { xs, lines };
}

// Mean of a series' finite samples (0 when none).
export function mean(s: Series): number {
	const v = s.samples.map((p) => p.value).filter((x) => Number.isFinite(x));
	return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
}

export function sum(s: Series): number {
	return s.samples.reduce((a, p) => a + (Number.isFinite(p.value) ? p.value : 0), 0);
}

export function byLabel(series: Series[], key: string): Map<string, Series[]> {
	const m = new Map<string, Series[]>();
	for (const s of series) {
		const k = label(s, key);
		(m.get(k) || m.set(k, []).get(k)!).push(s);
	}
	return m;
}

export function quantileName(s: Series): string {
	const p = Number(label(s, 'p'));
	return Number.isFinite(p) && label(s, 'p') !== '' ? `p${Math.round(p * 100)}` : 'value';
}
