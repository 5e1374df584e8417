// Number, duration and time formatting shared by every view, and the tick
// labels of time axes (as precise as the ticks need, dates when they cross
// days).

export function fmtMs(ms: number): string {
	if (!Number.isFinite(ms)) return '–';
	if (ms === 0) return '0';
	if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 0)}µs`;
	if (ms < 10) return `${ms.toFixed(2)}ms`;
	if (ms < 1000) return `${ms.toFixed(ms < 100 ? 1 : 0)}ms`;
	if (ms < 60000) return `${(ms / 1000).toFixed(2)}s`;
	return `${(ms / 60000).toFixed(1)}m`;
}

export function fmtRate(rps: number): string {
	if (!Number.isFinite(rps)) return '–';
	if (rps >= 1000) return `${(rps / 1000).toFixed(1)}k/s`;
	if (rps >= 10) return `${rps.toFixed(0)}/s`;
	if (rps >= 0.1) return `${rps.toFixed(1)}/s`;
	return `${(rps * 60).toFixed(1)}/min`;
}

export function fmtPct(x: number): string {
	if (!Number.isFinite(x)) return '–';
	if (x === 0) return '0%';
	if (x < 0.001) return '<0.1%';
	return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}

export function fmtCount(n: number): string {
	if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
	if (n >= 1e4) return `${(n / 1e3).toFixed(0)}k`;
	return String(n);
}

export function fmtTime(ms: number): string {
	const d = new Date(ms);
	const p = (n: number) => String(n).padStart(2, '0');
	return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtDateTime(ms: number): string {
	const d = new Date(ms);
	const p = (n: number) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${fmtTime(ms)}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86_400_000;

// How much of a time a tick label shows, coarsest first.
type TickLevel = 'day' | 'minute' | 'second' | 'milli';
const LEVELS: TickLevel[] = ['day', 'minute', 'second', 'milli'];

function tickClock(d: Date, level: TickLevel): string {
	const p = (n: number, w = 2) => String(n).padStart(w, '0');
	const hm = `${p(d.getHours())}:${p(d.getMinutes())}`;
	if (level === 'minute') return hm;
	if (level === 'second') return `${hm}:${p(d.getSeconds())}`;
	return `${hm}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function tickDate(d: Date, withYear: boolean): string {
	const p = (n: number) => String(n).padStart(2, '0');
	return withYear ? `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}` : `${MONTHS[d.getMonth()]} ${d.getDate()}`;
}

function dayKey(d: Date): number {
	return d.getFullYear() * 10000 + d.getMonth() * 100 + d.getDate();
}

// Labels for the ticks of a time axis (unix ms, ascending, local time): as
// precise as the ticks need and no more (HH:MM, seconds when the step or a
// tick has them, milliseconds below a second), the date on the first tick
// and on each tick where the day changes when the ticks cross days, dates
// alone when every tick is at midnight (the year when they cross years);
// the date on every tick when the same clock time recurs on several days.
// Distinct ticks always get distinct labels. stepMs: the spacing the axis
// chose, when known; else the smallest gap between ticks. A label may hold
// two lines (time, then date) separated by a newline.
export function timeTickLabels(ticksMs: number[], stepMs?: number): string[] {
	const ts = ticksMs.filter((t) => Number.isFinite(t));
	if (ts.length !== ticksMs.length) return ticksMs.map((t) => (Number.isFinite(t) ? timeTickLabels([t])[0] : ''));
	if (!ts.length) return [];
	let step = stepMs && stepMs > 0 ? stepMs : Infinity;
	for (let i = 1; i < ts.length; i++) if (ts[i] !== ts[i - 1]) step = Math.min(step, Math.abs(ts[i] - ts[i - 1]));
	const dates = ts.map((t) => new Date(t));
	let need = 0; // index into LEVELS
	const want = (l: TickLevel) => { need = Math.max(need, LEVELS.indexOf(l)); };
	if (step < 1000) want('milli');
	else if (step < 60_000) want('second');
	else if (step < DAY_MS) want('minute');
	for (const d of dates) {
		if (d.getMilliseconds()) want('milli');
		else if (d.getSeconds()) want('second');
		else if (d.getHours() || d.getMinutes()) want('minute');
	}
	const years = new Set(dates.map((d) => d.getFullYear()));
	const withYear = years.size > 1;
	const crossesDays = new Set(dates.map(dayKey)).size > 1;
	const level = LEVELS[need];
	if (level === 'day') return dates.map((d) => tickDate(d, withYear));
	// the date where the day changes; on every tick when that leaves equal
	// labels for different times (the same clock on two days)
	for (const everyTick of [false, true]) {
		const out = dates.map((d, i) => {
			const clock = tickClock(d, level);
			const dayChanged = i === 0 || dayKey(d) !== dayKey(dates[i - 1]);
			return crossesDays && (everyTick || dayChanged) ? `${clock}\n${tickDate(d, withYear)}` : clock;
		});
		let distinct = true;
		const seen = new Map<string, number>();
		out.forEach((s, i) => { const prev = seen.get(s); if (prev !== undefined && prev !== ts[i]) distinct = false; seen.set(s, ts[i]); });
		if (distinct) return out;
	}
	return dates.map((d) => `${tickClock(d, 'milli')}\n${tickDate(d, true)}`);
}

// A stable colour per service name (hue from a string hash).
export function serviceColor(name: string): string {
	let h = 2166136261;
	for (let i = 0; i < name.length; i++) {
		h ^= name.charCodeAt(i);
		h = Math.imul(h, 16777619);
	}
	h ^= h >>> 16;
	h = Math.imul(h, 0x85ebca6b);
	h ^= h >>> 13;
	return SERVICE_PALETTE[(h >>> 0) % SERVICE_PALETTE.length];
}

// Well-separated colours for services.
export const SERVICE_PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7',
	'#9c755f', '#bab0ac', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#d62728',
	'#aec7e8', '#98df8a'];

// One distinct colour per service of a trace, in order of appearance.
export function traceColors(services: string[]): Map<string, string> {
	const m = new Map<string, string>();
	services.forEach((s, i) => m.set(s, SERVICE_PALETTE[i % SERVICE_PALETTE.length]));
	return m;
}

// Health colour class from an error ratio and p99 latency.
export function healthClass(errorRate: number, p99ms: number): 'ok' | 'warn' | 'bad' {
	if (errorRate >= 0.05 || p99ms >= 2000) return 'bad';
	if (errorRate >= 0.01 || p99ms >= 500) return 'warn';
	return 'ok';
}
