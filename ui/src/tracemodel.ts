// The trace view's model: the native trace JSON (/api/v1/traces/{id}) as a
// span tree, the waterfall's rows (collapsible, in start order), the
// critical path (last-finishing-child walk, as the server computes it), and
// clock-skew hints. Pure functions, unit-tested.

export interface AnyValue {
	stringValue?: string; boolValue?: boolean; intValue?: string; doubleValue?: number;
	arrayValue?: { values?: AnyValue[] }; kvlistValue?: { values?: KeyValue[] }; bytesValue?: string;
}
export interface KeyValue { key: string; value: AnyValue }

export interface RawSpan {
	spanId: string; parentSpanId?: string; name: string; kind?: string; service: string;
	resource?: number; scope?: number; startTimeUnixNano: string; endTimeUnixNano: string; durationMs?: number;
	attributes?: KeyValue[]; events?: { timeUnixNano: string; name: string; attributes?: KeyValue[] }[];
	links?: { traceId: string; spanId: string; attributes?: KeyValue[] }[];
	status?: { code?: string; message?: string };
}

export interface RawTrace {
	traceId: string; rootServiceName?: string; rootName?: string; durationMs?: number; spanCount?: number;
	errorCount?: number; startTimeUnixNano?: string;
	resources?: { serviceName?: string; attributes?: KeyValue[] }[];
	scopes?: { resource?: number; name?: string; version?: string; attributes?: KeyValue[] }[];
	spans: RawSpan[];
}

export interface SpanNode {
	raw: RawSpan;
	id: string;
	parentId: string;
	service: string;
	name: string;
	start: number; // ms since trace start (fractional)
	end: number;
	dur: number;
	error: boolean;
	depth: number;
	children: SpanNode[];
	parent: SpanNode | null;
	skew: boolean; // starts before or ends after its parent's span
}

export interface TraceModel {
	raw: RawTrace;
	traceId: string;
	startNs: bigint;
	durationMs: number;
	roots: SpanNode[];
	byId: Map<string, SpanNode>;
	services: string[];
	spans: SpanNode[]; // tree order
}

export function anyToString(v: AnyValue | undefined): string {
	if (!v) return '';
	if (v.stringValue !== undefined) return v.stringValue;
	if (v.boolValue !== undefined) return String(v.boolValue);
	if (v.intValue !== undefined) return String(v.intValue);
	if (v.doubleValue !== undefined) return String(v.doubleValue);
	if (v.bytesValue !== undefined) return v.bytesValue;
	if (v.arrayValue) return `[${(v.arrayValue.values || []).map(anyToString).join(', ')}]`;
	if (v.kvlistValue) return `{${(v.kvlistValue.values || []).map((kv) => `${kv.key}: ${anyToString(kv.value)}`).join(', ')}}`;
	return '';
}

function nsToBig(s: string | undefined): bigint {
	try {
		return BigInt(s || '0');
	} catch {
		return 0n;
	}
}

// Build the tree. Spans whose parent is missing become roots; children are
// in start order. Cycles (a corrupt parent chain) cannot hang the walk.
export function buildTrace(t: RawTrace): TraceModel {
	const raws = t.spans || [];
	let minNs = -1n;
	let maxNs = 0n;
	for (const s of raws) {
		const a = nsToBig(s.startTimeUnixNano);
		const b = nsToBig(s.endTimeUnixNano);
		if (minNs < 0n || a < minNs) minNs = a;
		if (b > maxNs) maxNs = b;
	}
	if (minNs < 0n) minNs = 0n;
	const byId = new Map<string, SpanNode>();
	const nodes: SpanNode[] = [];
	for (const s of raws) {
		const start = Number(nsToBig(s.startTimeUnixNano) - minNs) / 1e6;
		const end = Math.max(start, Number(nsToBig(s.endTimeUnixNano) - minNs) / 1e6);
		const n: SpanNode = {
			raw: s, id: s.spanId, parentId: s.parentSpanId || '', service: s.service || 'unknown', name: s.name,
			start, end, dur: end - start, error: s.status?.code === 'error', depth: 0, children: [], parent: null,
			skew: false,
		};
		if (!byId.has(n.id)) byId.set(n.id, n);
		nodes.push(n);
	}
	const roots: SpanNode[] = [];
	for (const n of nodes) {
		const p = n.parentId ? byId.get(n.parentId) : undefined;
		if (p && p !== n && byId.get(n.id) === n) {
			n.parent = p;
			p.children.push(n);
		} else {
			roots.push(n);
		}
	}
	const cmp = (a: SpanNode, b: SpanNode) => a.start - b.start || a.end - b.end;
	roots.sort(cmp);
	const order: SpanNode[] = [];
	const seen = new Set<SpanNode>();
	const stack: SpanNode[] = roots.slice().reverse();
	for (const r of roots) r.depth = 0;
	while (stack.length) {
		const n = stack.pop()!;
		if (seen.has(n)) continue;
		seen.add(n);
		order.push(n);
		n.children.sort(cmp);
		if (n.parent) n.skew = n.start < n.parent.start - 1e-6 || n.end > n.parent.end + 1e-6;
		for (let i = n.children.length - 1; i >= 0; i--) {
			n.children[i].depth = n.depth + 1;
			stack.push(n.children[i]);
		}
	}
	// spans in a parent cycle never reached from a root: show them as roots
	for (const n of nodes) if (!seen.has(n)) { n.parent = null; n.depth = 0; roots.push(n); order.push(n); seen.add(n); }
	const services: string[] = [];
	for (const n of order) if (!services.includes(n.service)) services.push(n.service);
	return {
		raw: t, traceId: t.traceId, startNs: minNs, durationMs: Number(maxNs - minNs) / 1e6, roots, byId, services, spans: order,
	};
}

// The rows of the waterfall: spans in tree order, minus the descendants of
// collapsed spans.
export function visibleRows(m: TraceModel, collapsed: Set<string>): SpanNode[] {
	const out: SpanNode[] = [];
	let skipDepth = -1;
	for (const n of m.spans) {
		if (skipDepth >= 0) {
			if (n.depth > skipDepth) continue;
			skipDepth = -1;
		}
		out.push(n);
		if (collapsed.has(n.id) && n.children.length) skipDepth = n.depth;
	}
	return out;
}

// Horizontal placement of a span's bar as fractions of the viewport
// [viewStart, viewEnd] (ms since trace start), clipped to [0, 1], with a
// minimum visible width.
export function barGeometry(n: { start: number; end: number }, viewStart: number, viewEnd: number,
	minFrac = 0.002): { left: number; width: number } {
	const span = Math.max(viewEnd - viewStart, 1e-9);
	let left = (n.start - viewStart) / span;
	let right = (n.end - viewStart) / span;
	left = Math.min(Math.max(left, 0), 1);
	right = Math.min(Math.max(right, 0), 1);
	return { left, width: Math.max(right - left, minFrac) };
}

export interface CritSegment { spanId: string; start: number; end: number }

// The critical path: from the root, the span's own time after its
// last-finishing child, then that child's path, then the time before it,
// walking backwards. Children that ran concurrently with a later one are off
// the path. Returns segments in time order.
export function criticalPath(m: TraceModel): CritSegment[] {
	if (!m.roots.length) return [];
	// the root that ends last carries the trace
	let root = m.roots[0];
	for (const r of m.roots) if (r.end > root.end) root = r;
	const out: CritSegment[] = [];
	const walk = (n: SpanNode, cursorIn: number, guard: number) => {
		let cursor = Math.min(n.end, cursorIn);
		if (guard > 10000) return;
		const kids = n.children.slice().sort((a, b) => b.end - a.end);
		for (const c of kids) {
			if (cursor <= n.start) break;
			if (c.start >= cursor) continue; // started after the cursor: not what we waited for
			const childEnd = Math.min(c.end, cursor);
			if (childEnd < cursor) out.push({ spanId: n.id, start: childEnd, end: cursor });
			walk(c, childEnd, guard + 1);
			cursor = Math.max(c.start, n.start);
		}
		if (cursor > n.start) out.push({ spanId: n.id, start: n.start, end: cursor });
	};
	walk(root, root.end, 0);
	out.sort((a, b) => a.start - b.start);
	return out;
}

// The spans on the critical path and their share of it (ms of segments).
export function criticalSpans(segs: CritSegment[]): Map<string, number> {
	const m = new Map<string, number>();
	for (const s of segs) m.set(s.spanId, (m.get(s.spanId) || 0) + (s.end - s.start));
	return m;
}

// Spans matching a search text (name, service, id, attribute key or value),
// case-insensitive.
export function searchSpans(m: TraceModel, text: string): Set<string> {
	const q = text.trim().toLowerCase();
	const hits = new Set<string>();
	if (!q) return hits;
	for (const n of m.spans) {
		let hay = `${n.name}\n${n.service}\n${n.id}`;
		for (const a of n.raw.attributes || []) hay += `\n${a.key}=${anyToString(a.value)}`;
		if (hay.toLowerCase().includes(q)) hits.add(n.id);
	}
	return hits;
}

// Self time per service (ms), for the summary beside the waterfall.
export function serviceSelfTime(m: TraceModel): { service: string; selfMs: number; spans: number; errors: number }[] {
	const acc = new Map<string, { service: string; selfMs: number; spans: number; errors: number }>();
	for (const n of m.spans) {
		// self time: duration minus the union of the children's overlap with it
		const iv = n.children.map((c) => [Math.max(c.start, n.start), Math.min(c.end, n.end)]).filter(([a, b]) => b > a)
			.sort((x, y) => x[0] - y[0]);
		let covered = 0;
		let cs = -1;
		let ce = -1;
		for (const [a, b] of iv) {
			if (a > ce) { if (ce > cs) covered += ce - cs; cs = a; ce = b; } else ce = Math.max(ce, b);
		}
		if (ce > cs) covered += ce - cs;
		const e = acc.get(n.service) || { service: n.service, selfMs: 0, spans: 0, errors: 0 };
		e.selfMs += Math.max(0, n.dur - covered);
		e.spans++;
		if (n.error) e.errors++;
		acc.set(n.service, e);
	}
	return [...acc.values()].sort((a, b) => b.selfMs - a.selfMs);
}
