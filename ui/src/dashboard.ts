// Dashboard logic the dashboards page uses, kept pure so it is unit-tested:
// the document's types, variable substitution in panel queries (the same
// rules as the server's validator in src/alert/dashboard_store.c), the
// variable values a shared URL carries (var-<name>=value), the templates the
// empty state offers, and value formatting by panel unit.
import { fmtMs, fmtPct, fmtRate } from './format';

export interface VarQuery { tag?: string; values?: string[]; catalog?: 'team' | 'service' | 'account' }
export interface Variable { name: string; label?: string; query?: VarQuery; default?: string }
export interface Grid { x: number; y: number; w: number; h: number }
export type PanelType = 'line' | 'bar' | 'stat' | 'heatmap';
export interface Panel { id?: string; title: string; query: string; type?: PanelType; unit?: string; description?: string; grid?: Grid }
export interface Dashboard {
	id?: string; title: string; description?: string; tags?: string[]; timeRange?: string;
	variables: Variable[]; panels: Panel[]; version?: number; createdAt?: string; updatedAt?: string;
}
export interface DashboardSummary { id: string; title: string; description: string; tags: string[]; panels: number; variables: string[]; version: number; updatedAt: string }

export const PANEL_TYPES: PanelType[] = ['line', 'bar', 'stat', 'heatmap'];
export const UNITS: { value: string; label: string }[] = [
	{ value: '', label: 'number' }, { value: 's', label: 'seconds' }, { value: 'ms', label: 'milliseconds' },
	{ value: 'reqps', label: 'per second' }, { value: 'percent', label: 'ratio (0–1) as %' },
];

// A value written outside string literals as it is: a number, a duration
// or a boolean; anything else becomes a quoted string.
function bare(v: string): boolean {
	return v === 'true' || v === 'false' || /^-?[0-9][0-9a-z.]*$/.test(v);
}

function escapeIn(v: string): string {
	return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

// Replace $name and ${name} in a TraceQL query by the variables' values.
// Inside "…" the value is escaped, inside `…` backticks are dropped,
// elsewhere it is quoted unless it is a number, duration or boolean. An
// unknown name or a lone $ (a regex anchor) is left as it is.
export function substitute(query: string, values: Record<string, string>): string {
	let out = '';
	let quote = '';
	for (let i = 0; i < query.length; i++) {
		const c = query[i];
		if (quote) {
			if (quote === '"' && c === '\\' && i + 1 < query.length) {
				out += c + query[i + 1];
				i++;
				continue;
			}
			if (c === quote) quote = '';
		} else if (c === '"' || c === '`') {
			quote = c;
		}
		if (c !== '$') {
			out += c;
			continue;
		}
		const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/.exec(query.slice(i));
		const name = m ? (m[1] ?? m[2]) : undefined;
		if (!m || name === undefined || !(name in values)) {
			out += c;
			continue;
		}
		const v = values[name];
		if (quote === '`') out += v.replace(/`/g, '');
		else if (quote === '"') out += escapeIn(v);
		else out += bare(v) ? v : `"${escapeIn(v)}"`;
		i += m[0].length - 1;
	}
	return out;
}

// The names a query refers to, in order of first use.
export function referencedVars(query: string): string[] {
	const seen: string[] = [];
	for (const m of query.matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g)) {
		const n = m[1] ?? m[2];
		if (!seen.includes(n)) seen.push(n);
	}
	return seen;
}

// The variable values a URL carries: ?var-service=checkout&var-account=acme.
export function varsFromParams(p: URLSearchParams, vars: Variable[]): Record<string, string> {
	const out: Record<string, string> = {};
	for (const v of vars) {
		const got = p.get(`var-${v.name}`);
		if (got !== null) out[v.name] = got;
		else if (v.default) out[v.name] = v.default;
	}
	return out;
}

export function varParam(name: string): string {
	return `var-${name}`;
}

// The value a picker starts with: the URL's, the default, or the first known.
export function initialValue(v: Variable, fromUrl: string | undefined, known: string[]): string {
	if (fromUrl !== undefined && fromUrl !== '') return fromUrl;
	if (v.default) return v.default;
	return known[0] ?? '';
}

// Format a value of a panel by its unit.
export function fmtUnit(v: number, unit?: string): string {
	if (!Number.isFinite(v)) return '–';
	switch (unit) {
	case 's': return fmtMs(v * 1000);
	case 'ms': return fmtMs(v);
	case 'reqps': return fmtRate(v);
	case 'percent': return fmtPct(v);
	default: {
		const a = Math.abs(v);
		if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
		if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
		if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
		return v.toPrecision(3);
	}
	}
}

// Where a new panel goes: below everything, two to a row.
export function nextGrid(panels: Panel[]): Grid {
	let bottom = 0;
	for (const p of panels) if (p.grid) bottom = Math.max(bottom, p.grid.y + p.grid.h);
	const last = panels[panels.length - 1]?.grid;
	if (last && last.x === 0 && last.w <= 12 && last.y + last.h === bottom) return { x: 12, y: last.y, w: 12, h: 8 };
	return { x: 0, y: bottom, w: 12, h: 8 };
}

export interface Template { key: string; title: string; summary: string; make(): Dashboard }

export const TEMPLATES: Template[] = [
	{
		key: 'service-overview',
		title: 'Service overview',
		summary: 'Request rate, errors and p50/p95/p99 latency of one service, by operation; pick the service.',
		make: () => ({
			title: 'Service overview',
			description: 'Rate, errors and latency of $service.',
			tags: ['service'],
			variables: [{ name: 'service', label: 'Service', query: { tag: 'resource.service.name' } }],
			panels: [
				{ id: 'rate', title: 'Requests by operation', type: 'line', unit: 'reqps', query: '{ resource.service.name = "$service" } | rate() by (name)', grid: { x: 0, y: 0, w: 12, h: 8 } },
				{ id: 'errors', title: 'Errors by operation', type: 'bar', unit: 'reqps', query: '{ resource.service.name = "$service" && status = error } | rate() by (name)', grid: { x: 12, y: 0, w: 12, h: 8 } },
				{ id: 'latency', title: 'Latency p50 / p95 / p99', type: 'line', unit: 's', query: '{ resource.service.name = "$service" } | quantile_over_time(duration, .5, .95, .99)', grid: { x: 0, y: 8, w: 12, h: 8 } },
				{ id: 'slowest', title: 'p99 by operation', type: 'line', unit: 's', query: '{ resource.service.name = "$service" } | quantile_over_time(duration, .99) by (name)', grid: { x: 12, y: 8, w: 12, h: 8 } },
				{ id: 'total', title: 'Spans in range', type: 'stat', unit: '', query: '{ resource.service.name = "$service" } | count_over_time()', grid: { x: 0, y: 16, w: 6, h: 5 } },
				{ id: 'errcount', title: 'Errors in range', type: 'stat', unit: '', query: '{ resource.service.name = "$service" && status = error } | count_over_time()', grid: { x: 6, y: 16, w: 6, h: 5 } },
				{ id: 'heat', title: 'Latency distribution', type: 'heatmap', unit: 's', query: '{ resource.service.name = "$service" } | histogram_over_time(duration)', grid: { x: 12, y: 16, w: 12, h: 8 } },
			],
		}),
	},
	{
		key: 'customer-account',
		title: 'Customer account',
		summary: 'What one customer account sees: its requests, errors and p99 latency by service; pick the account.',
		make: () => ({
			title: 'Customer account',
			description: 'Traffic, errors and latency of account $account across services.',
			tags: ['account'],
			variables: [{ name: 'account', label: 'Account', query: { tag: 'span.customer.id' } }],
			panels: [
				{ id: 'rate', title: 'Requests by service', type: 'line', unit: 'reqps', query: '{ span.customer.id = "$account" } | rate() by (resource.service.name)', grid: { x: 0, y: 0, w: 12, h: 8 } },
				{ id: 'errors', title: 'Errors by service', type: 'bar', unit: 'reqps', query: '{ span.customer.id = "$account" && status = error } | rate() by (resource.service.name)', grid: { x: 12, y: 0, w: 12, h: 8 } },
				{ id: 'p99', title: 'p99 latency by service', type: 'line', unit: 's', query: '{ span.customer.id = "$account" } | quantile_over_time(duration, .99) by (resource.service.name)', grid: { x: 0, y: 8, w: 12, h: 8 } },
				{ id: 'count', title: 'Spans in range', type: 'stat', unit: '', query: '{ span.customer.id = "$account" } | count_over_time()', grid: { x: 12, y: 8, w: 6, h: 4 } },
				{ id: 'errcount', title: 'Errors in range', type: 'stat', unit: '', query: '{ span.customer.id = "$account" && status = error } | count_over_time()', grid: { x: 18, y: 8, w: 6, h: 4 } },
			],
		}),
	},
];

// The one number a stat panel shows for a series: the total for counts and
// sums over time, the mean of the samples otherwise.
export function statValue(query: string, samples: { value: number }[]): number {
	const v = samples.map((p) => p.value).filter((x) => Number.isFinite(x));
	if (!v.length) return NaN;
	const total = v.reduce((a, b) => a + b, 0);
	return /\b(count_over_time|sum_over_time)\s*\(/.test(query) ? total : total / v.length;
}

// Titles and descriptions: $name and ${name} replaced by the bare value.
export function substituteText(text: string, values: Record<string, string>): string {
	return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (m, a, b) => values[a ?? b] ?? m);
}
