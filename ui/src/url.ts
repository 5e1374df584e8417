// URL state: every view's query, time range and selection live in the
// address, so a shared link opens the same view. Pure functions, unit-tested.

export type Route =
	| { page: 'home' }
	| { page: 'explore' }
	| { page: 'trace'; traceId: string }
	| { page: 'service'; service: string }
	| { page: 'customers' }
	| { page: 'alerts' }
	| { page: 'rules'; ruleId?: string } // ruleId "new" opens the create form
	| { page: 'catalog' }
	| { page: 'dashboards'; dashboardId?: string }
	| { page: 'slos'; sloId?: string } // sloId "new" opens the create form
	| { page: 'notfound'; path: string };

export interface TimeRange {
	from: string; // "now-1h" or unix milliseconds as a string
	to: string; // "now" or unix milliseconds
	live: boolean;
}

export const DEFAULT_RANGE: TimeRange = { from: 'now-1h', to: 'now', live: false };

export const PRESETS: { label: string; from: string }[] = [
	{ label: 'Last 5 minutes', from: 'now-5m' },
	{ label: 'Last 15 minutes', from: 'now-15m' },
	{ label: 'Last 1 hour', from: 'now-1h' },
	{ label: 'Last 6 hours', from: 'now-6h' },
	{ label: 'Last 24 hours', from: 'now-24h' },
	{ label: 'Last 7 days', from: 'now-7d' },
];

export function parseRoute(pathname: string): Route {
	const parts = pathname.split('/').filter((p) => p !== '').map((p) => {
		try {
			return decodeURIComponent(p);
		} catch {
			return p;
		}
	});
	if (parts.length === 0) return { page: 'home' };
	if (parts[0] === 'explore' && parts.length === 1) return { page: 'explore' };
	if (parts[0] === 'customers' && parts.length === 1) return { page: 'customers' };
	if (parts[0] === 'trace' && parts.length === 2 && /^[0-9a-fA-F]{1,32}$/.test(parts[1]))
		return { page: 'trace', traceId: parts[1].toLowerCase() };
	if (parts[0] === 'service' && parts.length === 2) return { page: 'service', service: parts[1] };
	if (parts[0] === 'alerts' && parts.length === 1) return { page: 'alerts' };
	if (parts[0] === 'alerts' && parts[1] === 'rules' && parts.length === 2) return { page: 'rules' };
	if (parts[0] === 'alerts' && parts[1] === 'rules' && parts.length === 3 && /^(new|[0-9a-fA-F]{1,32})$/.test(parts[2]))
		return { page: 'rules', ruleId: parts[2].toLowerCase() };
	if (parts[0] === 'catalog' && parts.length === 1) return { page: 'catalog' };
	if (parts[0] === 'slos' && parts.length === 1) return { page: 'slos' };
	if (parts[0] === 'slos' && parts.length === 2 && /^(new|[0-9a-fA-F]{16})$/.test(parts[1])) return { page: 'slos', sloId: parts[1].toLowerCase() };
	if (parts[0] === 'dashboards' && parts.length === 1) return { page: 'dashboards' };
	if (parts[0] === 'dashboards' && parts.length === 2 && /^[A-Za-z0-9_-]{1,64}$/.test(parts[1])) return { page: 'dashboards', dashboardId: parts[1] };
	return { page: 'notfound', path: pathname };
}

export function routePath(r: Route): string {
	switch (r.page) {
	case 'home': return '/';
	case 'explore': return '/explore';
	case 'customers': return '/customers';
	case 'alerts': return '/alerts';
	case 'rules': return r.ruleId ? `/alerts/rules/${encodeURIComponent(r.ruleId)}` : '/alerts/rules';
	case 'catalog': return '/catalog';
	case 'slos': return r.sloId ? `/slos/${encodeURIComponent(r.sloId)}` : '/slos';
	case 'dashboards': return r.dashboardId ? `/dashboards/${encodeURIComponent(r.dashboardId)}` : '/dashboards';
	case 'trace': return `/trace/${r.traceId}`;
	case 'service': return `/service/${encodeURIComponent(r.service)}`;
	case 'notfound': return r.path;
	}
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60000, h: 3600000, d: 86400000, w: 604800000 };

// A time expression ("now", "now-15m", unix ms) as unix ms; NaN if invalid.
export function resolveTime(expr: string, nowMs: number): number {
	if (expr === 'now') return nowMs;
	const m = /^now-(\d+)([smhdw])$/.exec(expr);
	if (m) return nowMs - Number(m[1]) * UNIT_MS[m[2]];
	if (/^\d{10,16}$/.test(expr)) return Number(expr);
	return NaN;
}

// The range as [start, end] unix ms, falling back to the default when the
// URL holds something unusable (never an empty or inverted range).
export function resolveRange(r: TimeRange, nowMs: number): [number, number] {
	let a = resolveTime(r.from, nowMs);
	let b = resolveTime(r.to, nowMs);
	if (!Number.isFinite(a) || !Number.isFinite(b) || a >= b) {
		a = resolveTime(DEFAULT_RANGE.from, nowMs);
		b = nowMs;
	}
	return [a, b];
}

export function rangeFromParams(p: URLSearchParams): TimeRange {
	const from = p.get('from') || DEFAULT_RANGE.from;
	const to = p.get('to') || DEFAULT_RANGE.to;
	const ok = (e: string) => Number.isFinite(resolveTime(e, 0));
	return {
		from: ok(from) ? from : DEFAULT_RANGE.from,
		to: ok(to) ? to : DEFAULT_RANGE.to,
		live: p.get('live') === '1',
	};
}

// Write the range into p, leaving defaults out so links stay short.
export function rangeToParams(r: TimeRange, p: URLSearchParams): void {
	if (r.from !== DEFAULT_RANGE.from) p.set('from', r.from); else p.delete('from');
	if (r.to !== DEFAULT_RANGE.to) p.set('to', r.to); else p.delete('to');
	if (r.live) p.set('live', '1'); else p.delete('live');
}

// Live mode only makes sense for a range that ends now.
export function canLive(r: TimeRange): boolean {
	return r.to === 'now';
}

export function rangeLabel(r: TimeRange): string {
	const preset = PRESETS.find((p) => p.from === r.from && r.to === 'now');
	if (preset) return preset.label;
	const fmt = (e: string) => (e.startsWith('now') ? e : new Date(Number(e)).toISOString().slice(0, 16).replace('T', ' '));
	return `${fmt(r.from)} to ${fmt(r.to)}`;
}

// A new URL (path + search) from a route and parameters, dropping empty
// ones; an array gives the parameter once per value.
export function buildUrl(r: Route, params: Record<string, string | string[] | undefined | null>, range?: TimeRange): string {
	const p = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) {
		if (v === undefined || v === null) continue;
		for (const x of Array.isArray(v) ? v : [v]) if (x !== '') p.append(k, x);
	}
	if (range) rangeToParams(range, p);
	const qs = p.toString();
	return routePath(r) + (qs ? `?${qs}` : '');
}
