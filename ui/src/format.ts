// Number, duration and time formatting shared by every view.

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
