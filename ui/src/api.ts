// The query APIs clew serves on the same origin. Every call returns parsed
// JSON or throws an ApiError that names the endpoint and the server's own
// message, for the views' error states.
import { AlertInstance, AlertRule, Delivery, Silence } from './alerting';
import { KeyValue, RawTrace } from './tracemodel';

export class ApiError extends Error {
	constructor(public status: number, message: string) {
		super(message);
	}
}

export async function getJson<T>(path: string, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
	return sendJson<T>('GET', path, undefined, params, signal);
}

// A request with an optional JSON body (POST, PUT, DELETE); a 204 answers {}.
export async function sendJson<T>(method: string, path: string, body?: unknown, params: Record<string, string | number | undefined> = {}, signal?: AbortSignal): Promise<T> {
	const qs = new URLSearchParams();
	for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') qs.set(k, String(v));
	const url = qs.toString() ? `${path}?${qs}` : path;
	let r: Response;
	try {
		const headers: Record<string, string> = { Accept: 'application/json' };
		if (body !== undefined) headers['Content-Type'] = 'application/json';
		r = await fetch(url, { method, signal, headers, body: body === undefined ? undefined : JSON.stringify(body) });
	} catch (e) {
		if ((e as Error).name === 'AbortError') throw e;
		throw new ApiError(0, `${path}: the server cannot be reached (${(e as Error).message})`);
	}
	const text = await r.text();
	if (!r.ok) {
		let msg = text.slice(0, 300);
		try {
			const j = JSON.parse(text);
			msg = j?.error?.message || j?.message || msg;
		} catch { /* not JSON */ }
		throw new ApiError(r.status, `${path} answered ${r.status}: ${msg || r.statusText}`);
	}
	if (r.status === 204 || text === '') return {} as T;
	try {
		return JSON.parse(text) as T;
	} catch {
		throw new ApiError(r.status, `${path}: the answer is not JSON`);
	}
}

export interface SearchTrace {
	traceID: string; rootServiceName?: string; rootTraceName?: string; startTimeUnixNano: string; durationMs?: number;
	spanSet?: { matched?: number };
	serviceStats?: Record<string, { spanCount: number; errorCount?: number }>;
}
export interface SearchResult { traces: SearchTrace[] }

export interface Series {
	labels: KeyValue[];
	samples: { timestampMs: string; value: number }[];
}
export interface MetricsResult { series: Series[] }

export interface GraphNode { id: string; name: string; kind: string; team?: string; rate: number; errorRate: number; p50: number; p99: number; requests?: number; errors?: number }
export interface GraphEdge { source: string; target: string; rate: number; errorRate: number; p50: number; p99: number }
export interface ServiceGraph { nodes: GraphNode[]; edges: GraphEdge[] }

export interface Correlation {
	key: string; value: string; valueType?: string; score: number;
	bad: { count: number; share?: number }; rest: { count: number; share?: number };
	with?: { p50: number; p99: number }; without?: { p50: number; p99: number };
	exampleTraceIds?: string[];
}
export interface Correlations {
	signal?: string; thresholdMs?: number; bad: { count: number }; rest: { count: number }; correlations: Correlation[];
}

export interface CritPathSegments {
	traces: number; segments: { service: string; name: string; share: number; selfMs: { p50: number; p99: number } }[];
}
export interface TraceCritPath { traceId: string; durationMs: number; adjustedSpans: number; spans: { spanId: string; adjusted?: boolean }[] }

export interface ErrorGroup {
	type: string; source: 'exception' | 'status'; message: string; count: number; lastSeen: number;
	exampleTraceIds: string[]; operations: { name: string; count: number }[]; otherOperations?: number;
}
export interface ErrorGroups { errorSpans: number; withException: number; types: number; groups: ErrorGroup[] }

export interface CatalogService { name: string; team?: string; tier?: string; channel?: string; runbook?: string; repository?: string; description?: string }
export interface CatalogAccount { id: string; name?: string; tier?: string; owner?: string; channel?: string }
export interface Catalog { services: CatalogService[]; accounts: CatalogAccount[] }

export const api = {
	search: (q: string, start: number, end: number, limit = 200, signal?: AbortSignal) =>
		getJson<SearchResult>('/api/search', { q, start: Math.floor(start / 1000), end: Math.ceil(end / 1000), limit, spss: 3 }, signal),
	metrics: (q: string, start: number, end: number, step: number, signal?: AbortSignal) =>
		getJson<MetricsResult>('/api/metrics/query_range', { q, start: Math.floor(start / 1000), end: Math.ceil(end / 1000), step: `${step}s` }, signal),
	trace: (id: string, signal?: AbortSignal) => getJson<RawTrace>(`/api/v1/traces/${id}`, {}, signal),
	tags: (signal?: AbortSignal) => getJson<{ scopes: { name: string; tags: string[] }[] }>('/api/v2/search/tags', {}, signal),
	tagValues: (tag: string, signal?: AbortSignal) =>
		getJson<{ tagValues: { type: string; value: string }[] }>(`/api/v2/search/tag/${encodeURIComponent(tag)}/values`, {}, signal),
	graph: (start: number, end: number, signal?: AbortSignal) =>
		getJson<ServiceGraph>('/api/v1/service-graph', { start: Math.floor(start / 1000), end: Math.ceil(end / 1000) }, signal),
	correlations: (params: Record<string, string | number | undefined>, signal?: AbortSignal) =>
		getJson<Correlations>('/api/v1/correlations', params, signal),
	critPath: (q: string, start: number, end: number, signal?: AbortSignal) =>
		getJson<CritPathSegments>('/api/v1/critical-path', { q, start: Math.floor(start / 1000), end: Math.ceil(end / 1000) }, signal),
	traceCritPath: (traceId: string, signal?: AbortSignal) => getJson<TraceCritPath>('/api/v1/critical-path', { traceId }, signal),
	// a service's errors by type, or (service '') those among q's spans
	errors: (service: string, start: number, end: number, limit = 12, signal?: AbortSignal, q?: string) =>
		getJson<ErrorGroups>('/api/v1/errors', { service, q, start: Math.floor(start / 1000), end: Math.ceil(end / 1000), limit }, signal),
	compare: (params: Record<string, string | number | undefined>, signal?: AbortSignal) =>
		getJson<Record<string, unknown>>('/api/v1/compare', params, signal),
	rules: (signal?: AbortSignal) => getJson<{ rules: AlertRule[] }>('/api/v1/alert-rules', {}, signal),
	rule: (id: string, signal?: AbortSignal) => getJson<AlertRule>(`/api/v1/alert-rules/${encodeURIComponent(id)}`, {}, signal),
	saveRule: (r: AlertRule, id?: string) => (id
		? sendJson<AlertRule>('PUT', `/api/v1/alert-rules/${encodeURIComponent(id)}`, r)
		: sendJson<AlertRule>('POST', '/api/v1/alert-rules', r)),
	deleteRule: (id: string) => sendJson<unknown>('DELETE', `/api/v1/alert-rules/${encodeURIComponent(id)}`),
	alerts: (params: { rule?: string; state?: string } = {}, signal?: AbortSignal) => getJson<{ alerts: AlertInstance[] }>('/api/v1/alerts', params, signal),
	silences: (signal?: AbortSignal) => getJson<{ silences: Silence[] }>('/api/v1/silences', {}, signal),
	addSilence: (body: Record<string, unknown>) => sendJson<Silence>('POST', '/api/v1/silences', body),
	deleteSilence: (id: string) => sendJson<unknown>('DELETE', `/api/v1/silences/${encodeURIComponent(id)}`),
	deliveries: (limit = 50, signal?: AbortSignal) => getJson<{ deliveries: Delivery[] }>('/api/v1/alert-deliveries', { limit }, signal),
	catalog: (signal?: AbortSignal) => getJson<Catalog>('/api/v1/catalog', {}, signal),
	putCatalogEntry: (kind: 'services' | 'accounts', key: string, entry: Record<string, string>) =>
		sendJson<unknown>('PUT', `/api/v1/catalog/${kind}/${encodeURIComponent(key)}`, entry),
	deleteCatalogEntry: (kind: 'services' | 'accounts', key: string) => sendJson<unknown>('DELETE', `/api/v1/catalog/${kind}/${encodeURIComponent(key)}`),
};

// A series' label value by key ("" when absent).
export function label(s: Series, key: string): string {
	const kv = s.labels.find((l) => l.key === key);
	if (!kv) return '';
	const v = kv.value;
	return v.stringValue ?? (v.doubleValue !== undefined ? String(v.doubleValue) : v.intValue ?? String(v.boolValue ?? ''));
}

// TraceQL string literal.
export function tqlString(s: string): string {
	return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
