// Dashboard logic the dashboards page uses, kept pure so it is unit-tested:
// the document's types, variable substitution in panel queries (the same
// rules as the server's validator in src/alert/dashboard_store.c), several
// values or "All" of a variable turned into a valid query, the variable
// values a shared URL carries (var-<name>=value, repeated for several), the
// templates the empty state offers, and value formatting by panel unit.
import { fmtMs, fmtPct, fmtRate } from './format';

export interface VarQuery { tag?: string; values?: string[]; catalog?: 'team' | 'service' | 'account' }
// multi: several values may be picked; includeAll: an "All" choice
export interface Variable { name: string; label?: string; query?: VarQuery; default?: string; multi?: boolean; includeAll?: boolean }
// A variable's value: one value, several (multi), or ALL.
export type VarValue = string | string[];
export type VarValues = Record<string, VarValue>;
export const ALL = '$__all';
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
//
// A comparison inside a spanset filter whose operand refers to a variable
// with several values becomes one comparison per value, joined by || (by &&
// for != and !~) in parentheses: { .c = "$a" } with a = [x, y] gives
// { (.c = "x" || .c = "y") }. With ALL (or no value picked) the comparison
// is dropped: it becomes true. Any other use takes the first value (ALL:
// empty); multiUseOk says whether a query has such uses.
export function substitute(query: string, values: VarValues): string {
	return expand(query, values, 0);
}

const NAME_RE = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/;
const OPS = ['!=', '!~', '=~', '>=', '<=', '=', '>', '<'];

interface Tok { kind: 'str' | 'var' | 'op' | 'open' | 'close' | 'word' | 'ws' | 'other'; start: number; end: number; depth: number; vars: string[] }

// The query as tokens, enough to find comparisons and their operands.
function tokens(q: string, depth0: number): Tok[] {
	const out: Tok[] = [];
	let depth = depth0;
	for (let i = 0; i < q.length;) {
		const c = q[i];
		const start = i;
		if (c === '"' || c === '`') {
			const vars: string[] = [];
			for (i++; i < q.length && q[i] !== c; i++) {
				if (c === '"' && q[i] === '\\') { i++; continue; }
				const m = q[i] === '$' ? NAME_RE.exec(q.slice(i)) : null;
				if (m) vars.push(m[1] ?? m[2]);
			}
			i = Math.min(q.length, i + 1);
			out.push({ kind: 'str', start, end: i, depth, vars });
			continue;
		}
		const m = c === '$' ? NAME_RE.exec(q.slice(i)) : null;
		if (m) {
			i += m[0].length;
			out.push({ kind: 'var', start, end: i, depth, vars: [m[1] ?? m[2]] });
			continue;
		}
		const op = depth > 0 ? OPS.find((o) => q.startsWith(o, i)) : undefined;
		if (op) {
			i += op.length;
			out.push({ kind: 'op', start, end: i, depth, vars: [] });
			continue;
		}
		if (c === '{' || c === '}') {
			if (c === '}') depth = Math.max(0, depth - 1);
			out.push({ kind: c === '{' ? 'open' : 'close', start, end: ++i, depth, vars: [] });
			if (c === '{') depth++;
			continue;
		}
		if (/\s/.test(c)) {
			while (i < q.length && /\s/.test(q[i])) i++;
			out.push({ kind: 'ws', start, end: i, depth, vars: [] });
			continue;
		}
		if (/[^(){}"`$&|!=~<>,\s]/.test(c)) {
			while (i < q.length && /[^(){}"`$&|!=~<>,\s]/.test(q[i])) i++;
			out.push({ kind: 'word', start, end: i, depth, vars: [] });
			continue;
		}
		out.push({ kind: 'other', start, end: ++i, depth, vars: [] });
	}
	return out;
}

const several = (v: VarValue | undefined): boolean => v !== undefined && (v === ALL || (Array.isArray(v) && v.length !== 1));

interface Cmp { start: number; end: number; name: string; negative: boolean }

// The comparisons inside spanset filters with an operand that refers to a
// variable holding several values (or ALL), left to right.
function multiComparisons(q: string, values: VarValues, depth0: number): Cmp[] {
	const t = tokens(q, depth0);
	const out: Cmp[] = [];
	const operand = (from: number, dir: 1 | -1): [number, number] => {
		// adjacent words and literals, e.g. span."http route"
		let k = from;
		while (k >= 0 && k < t.length && t[k].kind === 'ws') k += dir;
		const first = k;
		while (k >= 0 && k < t.length && (t[k].kind === 'word' || t[k].kind === 'str' || t[k].kind === 'var')) k += dir;
		return [first, k - dir];
	};
	for (let i = 0; i < t.length; i++) {
		if (t[i].kind !== 'op' || t[i].depth === 0) continue;
		const [l0, l1] = operand(i - 1, -1), [r0, r1] = operand(i + 1, 1);
		if (l1 > l0 || r1 < r0 || l0 < 0 || r0 >= t.length) continue; // an operand is missing
		let name: string | undefined;
		for (let k = l1; k <= r1 && !name; k++) name = t[k].vars.find((n) => several(values[n]));
		if (!name) continue;
		const op = q.slice(t[i].start, t[i].end);
		out.push({ start: t[l1].start, end: t[r1].end, name, negative: op === '!=' || op === '!~' });
		i = r1;
	}
	return out;
}

function expand(query: string, values: VarValues, depth0: number): string {
	const cmps = multiComparisons(query, values, depth0);
	if (!cmps.length) return single(query, values);
	let out = '';
	let at = 0;
	for (const c of cmps) {
		out += single(query.slice(at, c.start), values);
		const v = values[c.name];
		const picks = v === ALL ? [] : (v as string[]);
		const text = query.slice(c.start, c.end);
		if (!picks.length) out += 'true';
		else out += `(${picks.map((p) => expand(text, { ...values, [c.name]: p }, 1)).join(c.negative ? ' && ' : ' || ')})`;
		at = c.end;
	}
	return out + single(query.slice(at), values);
}

// True if every use of variable name in query is an operand of a
// comparison inside a spanset filter, where several values or ALL can be
// substituted.
export function multiUseOk(query: string, name: string): boolean {
	const t = tokens(query, 0);
	const uses = t.filter((x) => x.vars.includes(name)).length;
	if (!uses) return true;
	const cmps = multiComparisons(query, { [name]: ALL }, 0);
	const inCmps = t.filter((x) => x.vars.includes(name) && cmps.some((c) => x.start >= c.start && x.end <= c.end)).length;
	return inCmps === uses;
}

// One value per variable: the first of several, ALL as empty.
function firstValue(v: VarValue): string {
	return v === ALL ? '' : Array.isArray(v) ? v[0] ?? '' : v;
}

function single(query: string, values: VarValues): string {
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
		const v = firstValue(values[name]);
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

// The variable values a URL carries: ?var-service=checkout&var-account=acme,
// var-account repeated for several values of a multi variable, $__all for
// All. What the variable does not allow is reduced to what it does.
export function varsFromParams(p: URLSearchParams, vars: Variable[]): VarValues {
	const out: VarValues = {};
	for (const v of vars) {
		const got = p.getAll(`var-${v.name}`);
		const val = got.length ? allowed(v, got.length === 1 ? got[0] : got) : v.default ? allowed(v, v.default) : undefined;
		if (val !== undefined) out[v.name] = val;
	}
	return out;
}

// value as variable v allows it: ALL only with includeAll, several values
// only with multi (else the first).
export function allowed(v: Variable, value: VarValue): VarValue {
	const list = Array.isArray(value) ? value : [value];
	if (list.includes(ALL)) return v.includeAll ? ALL : list.find((x) => x !== ALL) ?? '';
	if (list.length === 1) return list[0];
	return v.multi ? list : list[0] ?? '';
}

// The URL parameter values of a variable's value.
export function varParamValues(value: VarValue): string[] {
	return Array.isArray(value) ? value : [value];
}

export function varParam(name: string): string {
	return `var-${name}`;
}

// The value a picker starts with: the URL's, the default, All where the
// variable offers it, or the first known.
export function initialValue(v: Variable, fromUrl: VarValue | undefined, known: string[]): VarValue {
	if (fromUrl !== undefined && fromUrl !== '' && !(Array.isArray(fromUrl) && !fromUrl.length)) return allowed(v, fromUrl);
	if (v.default) return allowed(v, v.default);
	if (v.includeAll) return ALL;
	return known[0] ?? '';
}

// Whether the picker of v may offer several values and All: the variable
// asks for it, has a list of values, and every panel query uses it only
// where several values make a valid query (multiUseOk).
export function multiChoices(v: Variable, queries: string[]): { multi: boolean; all: boolean } {
	const listed = !!(v.query && (v.query.tag || v.query.values || v.query.catalog));
	const ok = listed && queries.every((q) => multiUseOk(q, v.name));
	return { multi: ok && !!v.multi, all: ok && !!v.includeAll };
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

// A value as people read it: several joined by commas, ALL as "All".
export function valueText(v: VarValue): string {
	return v === ALL ? 'All' : Array.isArray(v) ? v.join(', ') : v;
}

// Titles and descriptions: $name and ${name} replaced by the bare value.
export function substituteText(text: string, values: VarValues): string {
	return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (m, a, b) => {
		const v = values[a ?? b];
		return v === undefined ? m : valueText(v);
	});
}
