// A plain reference model for the TraceQL conformance suite: NOT a TraceQL
// parser. The suite describes its data set with the helpers below; this
// module turns it into OTLP/HTTP JSON requests and into a model of traces
// and spans (parents, children, roots, typed attributes) over which each test
// case computes its expected answer with ordinary JavaScript: matched spans
// per trace for searches, spansets for by(), series for metrics queries.
// Semantics follow Tempo's documentation: a missing value (nil) fails every
// comparison, ints, floats and durations compare as numbers, unlike types
// never match, unscoped names look at the span, then the resource.

// The data set starts at the next whole hour: its blocks sit in a window
// still ahead, where clew merges blocks only once there are four of them, so
// fresh blocks stay apart until the suite asks for a compaction.
export const BASE_NS = BigInt((Math.floor(Date.now() / 3600000) + 1) * 3600) * 1000000000n;
export const MS = 1000000; // ns
export const SEC = 1000000000; // ns

// Typed attribute values: plain JS values are typed by their look (integer
// numbers are ints); F() forces a float, A() is an array of strings.
export const F = (v) => ({ t: 'float', v });
export const A = (...v) => ({ t: 'array', v });
export const DUR = (ns) => ({ t: 'duration', v: ns });

export function typed(x) {
	if (x && typeof x === 'object' && 't' in x) return x;
	if (typeof x === 'string') return { t: 'string', v: x };
	if (typeof x === 'boolean') return { t: 'bool', v: x };
	if (typeof x === 'number') return Number.isInteger(x) ? { t: 'int', v: x } : { t: 'float', v: x };
	throw new Error(`untyped value ${x}`);
}

function otlpValue(x) {
	const v = typed(x);
	switch (v.t) {
	case 'string': return { stringValue: v.v };
	case 'bool': return { boolValue: v.v };
	case 'int': return { intValue: String(v.v) };
	case 'float': return { doubleValue: v.v };
	case 'array': return { arrayValue: { values: v.v.map((e) => otlpValue(e)) } };
	default: throw new Error(`no OTLP form for ${v.t}`);
	}
}

const otlpAttrs = (o) => Object.entries(o || {}).map(([key, value]) => ({ key, value: otlpValue(value) }));

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUSES = ['unset', 'ok', 'error'];

export const traceHex = (n) => `c1e0${n.toString(16).padStart(28, '0')}`;
const spanHex = (n, k) => `${n.toString(16).padStart(4, '0')}${k.toString(16).padStart(12, '0')}`;

// A span of a trace: id is a local name, parent a local name, null (a root)
// or 'missing' (a parent that is never sent). opts: res, scope, kind, status,
// msg, at (ms after the trace start), dur (ms, or durNs), attrs, events
// ([{name, at (ms after the span start), attrs}]), links ([{trace, span, attrs}]).
export function sp(id, parent, name, opts = {}) {
	return { id, parent, name, ...opts };
}

// A trace: number n (its id), start in seconds after BASE_NS, its spans.
export function tr(n, startS, spans) {
	return { n, startS, spans };
}

// Build the model: every span with typed maps, ids in the API's hex forms,
// parent/children links, root, trace times.
export function buildModel(traceSpecs, resources, scopes) {
	const traces = [];
	const byN = new Map();
	for (const t of traceSpecs) {
		const trace = { n: t.n, id: traceHex(t.n), spans: [], byLocal: new Map() };
		const t0 = BASE_NS + BigInt(t.startS) * 1000000000n;
		t.spans.forEach((s, k) => {
			const durNs = s.durNs !== undefined ? s.durNs : Math.round((s.dur ?? 1) * MS);
			const start = t0 + BigInt(Math.round((s.at ?? 0) * MS));
			const res = resources[s.res];
			if (!res) throw new Error(`unknown resource ${s.res}`);
			const scope = scopes[s.scope || 'none'];
			const span = {
				trace,
				local: s.id,
				spanId: spanHex(t.n, k + 1),
				parentLocal: s.parent,
				name: s.name,
				kind: s.kind || 'internal',
				status: s.status || 'unset',
				statusMessage: s.msg || '',
				start,
				end: start + BigInt(durNs),
				dur: durNs,
				resName: s.res,
				resAttrs: new Map(Object.entries(res).map(([k2, v]) => [k2, typed(v)])),
				scopeName: scope.name,
				scopeVersion: scope.version,
				attrs: new Map(Object.entries(s.attrs || {}).map(([k2, v]) => [k2, typed(v)])),
				events: (s.events || []).map((e) => ({ name: e.name, sinceStart: Math.round((e.at ?? 0) * MS),
					attrs: new Map(Object.entries(e.attrs || {}).map(([k2, v]) => [k2, typed(v)])) })),
				linkSpecs: s.links || [],
				links: [],
				spec: s,
				parent: null,
				children: [],
			};
			trace.spans.push(span);
			trace.byLocal.set(s.id, span);
		});
		traces.push(trace);
		byN.set(t.n, trace);
	}
	for (const trace of traces) {
		for (const s of trace.spans) {
			if (s.parentLocal === 'missing') {
				s.parentId = `ffff${s.spanId.slice(4)}`;
			} else if (s.parentLocal) {
				s.parent = trace.byLocal.get(s.parentLocal);
				if (!s.parent) throw new Error(`no span ${s.parentLocal} in trace ${trace.n}`);
				s.parentId = s.parent.spanId;
				s.parent.children.push(s);
			} else {
				s.parentId = '';
			}
			s.links = s.linkSpecs.map((l) => ({
				traceId: traceHex(l.trace),
				spanId: byN.get(l.trace).byLocal.get(l.span).spanId,
				attrs: new Map(Object.entries(l.attrs || {}).map(([k2, v]) => [k2, typed(v)])),
			}));
		}
		trace.root = trace.spans.find((s) => !s.parentLocal) || null;
		trace.start = trace.spans.reduce((m, s) => (s.start < m ? s.start : m), trace.spans[0].start);
		trace.end = trace.spans.reduce((m, s) => (s.end > m ? s.end : m), trace.spans[0].end);
		trace.dur = Number(trace.end - trace.start);
	}
	const spans = traces.flatMap((t) => t.spans);
	return { traces, spans, resources, scopes };
}

// OTLP/HTTP JSON bodies, one per group of trace numbers (each trace whole in
// one request).
export function otlpRequest(model, traceNs) {
	const want = new Set(traceNs);
	const byRes = new Map();
	for (const t of model.traces) {
		if (!want.has(t.n)) continue;
		for (const s of t.spans) {
			const key = s.resName;
			if (!byRes.has(key)) byRes.set(key, new Map());
			const scopes = byRes.get(key);
			const sk = s.spec.scope || 'none';
			if (!scopes.has(sk)) scopes.set(sk, []);
			scopes.get(sk).push(s);
		}
	}
	const resourceSpans = [];
	for (const [resName, scopes] of byRes) {
		const scopeSpans = [];
		for (const [sk, spans] of scopes) {
			const sc = model.scopes[sk];
			const scope = {};
			if (sc.name) scope.name = sc.name;
			if (sc.version) scope.version = sc.version;
			scopeSpans.push({
				scope,
				spans: spans.map((s) => {
					const o = {
						traceId: s.trace.id,
						spanId: s.spanId,
						name: s.name,
						kind: KINDS.indexOf(s.kind),
						startTimeUnixNano: String(s.start),
						endTimeUnixNano: String(s.end),
						attributes: otlpAttrs(s.spec.attrs),
					};
					if (s.parentId) o.parentSpanId = s.parentId;
					if (s.status !== 'unset' || s.statusMessage) {
						o.status = { code: STATUSES.indexOf(s.status) };
						if (s.statusMessage) o.status.message = s.statusMessage;
					}
					if (s.events.length) {
						o.events = s.spec.events.map((e, k) => ({
							name: e.name,
							timeUnixNano: String(s.start + BigInt(s.events[k].sinceStart)),
							attributes: otlpAttrs(e.attrs),
						}));
					}
					if (s.links.length) {
						o.links = s.links.map((l, k) => ({ traceId: l.traceId, spanId: l.spanId,
							attributes: otlpAttrs(s.spec.links[k].attrs) }));
					}
					return o;
				}),
			});
		}
		resourceSpans.push({ resource: { attributes: otlpAttrs(model.resources[resName]) }, scopeSpans });
	}
	return { resourceSpans };
}

// ---- values and comparisons (Tempo's semantics) ----

const NUMERIC = new Set(['int', 'float', 'duration']);

// Attribute lookups; null is nil.
export const spanAttr = (s, k) => s.attrs.get(k) ?? null;
export const resAttr = (s, k) => s.resAttrs.get(k) ?? null;
export const anyAttr = (s, k) => s.attrs.get(k) ?? s.resAttrs.get(k) ?? null;

// a op b where a is a typed value or null and b a literal (or typed value).
export function cmp(a, op, b) {
	if (a === null || a === undefined) return false;
	const x = a;
	const y = typed(b);
	if (y === null) return false;
	let c;
	if (NUMERIC.has(x.t) && NUMERIC.has(y.t)) {
		c = x.v < y.v ? -1 : x.v > y.v ? 1 : 0;
	} else if (x.t !== y.t) {
		return false;
	} else if (x.t === 'string') {
		c = x.v < y.v ? -1 : x.v > y.v ? 1 : 0;
	} else if (x.t === 'bool') {
		if (op !== '=' && op !== '!=') return false;
		c = x.v === y.v ? 0 : 1;
	} else {
		return false;
	}
	switch (op) {
	case '=': return c === 0;
	case '!=': return c !== 0;
	case '<': return c < 0;
	case '<=': return c <= 0;
	case '>': return c > 0;
	case '>=': return c >= 0;
	default: throw new Error(`bad op ${op}`);
	}
}

// Full-match regex on a string value (RE2's =~ is anchored).
export function re(a, pattern) {
	if (!a || a.t !== 'string') return false;
	return new RegExp(`^(?:${pattern})$`).test(a.v);
}

export const num = (a) => (a && NUMERIC.has(a.t) ? a.v : null);

// ---- expected search answers: Map traceId -> Set of span ids ----

export function spansWhere(model, pred) {
	const out = new Map();
	for (const t of model.traces) {
		const m = t.spans.filter((s) => pred(s, t));
		if (m.length) out.set(t.id, new Set(m.map((s) => s.spanId)));
	}
	return out;
}

// fn(trace) -> array of spans (empty: the trace does not match).
export function perTrace(model, fn) {
	const out = new Map();
	for (const t of model.traces) {
		const m = fn(t);
		if (m && m.length) out.set(t.id, new Set(m.map((s) => s.spanId)));
	}
	return out;
}

const ancestors = (s) => {
	const out = [];
	for (let p = s.parent; p; p = p.parent) out.push(p);
	return out;
};
const siblings = (s) => (s.parent ? s.parent.children.filter((c) => c !== s) : []);

// Relations of span b to the spans matching a: `{a} OP {b}` keeps b when
// rel(b) holds.
export const REL = {
	'>': (t, a) => (b) => !!b.parent && a(b.parent),
	'<': (t, a) => (b) => b.children.some(a),
	'>>': (t, a) => (b) => ancestors(b).some(a),
	'<<': (t, a) => (b) => t.spans.some((x) => a(x) && ancestors(x).includes(b)),
	'~': (t, a) => (b) => siblings(b).some(a),
};
const CONVERSE = { '>': '<', '<': '>', '>>': '<<', '<<': '>>', '~': '~' };

// `{a} op {b}` over one trace, op one of > < >> << ~, !> ..., &> ...
export function structural(t, op, a, b) {
	const A = (s) => a(s, t);
	const B = (s) => b(s, t);
	if (op.startsWith('!')) {
		const rel = REL[op.slice(1)](t, A);
		return t.spans.filter((s) => B(s) && !rel(s));
	}
	if (op.startsWith('&')) {
		const base = op.slice(1);
		const right = t.spans.filter((s) => B(s) && REL[base](t, A)(s));
		if (!right.length) return [];
		const left = t.spans.filter((s) => A(s) && REL[CONVERSE[base]](t, B)(s));
		return [...new Set([...left, ...right])];
	}
	return t.spans.filter((s) => B(s) && REL[op](t, A)(s));
}

// ---- metrics ----

// Series of a metrics query over the spans passing pred (whole model), in
// [startNs, endNs) with step stepNs. by(s) -> [[label, typed value or null]];
// value(s) -> number or null. fn: count, rate, sum, avg, min, max,
// quantile (qs), histogram; scale divides the answers (1e9: durations in
// seconds). Returns [{labels: [[k, v]], samples: Map}].
export function seriesOf(model, { pred, startNs, endNs, stepNs, by = () => [], value = () => null, fn, qs = [], scale = 1 }) {
	const groups = new Map();
	const nSteps = Number((endNs - startNs + stepNs - 1n) / stepNs);
	for (const t of model.traces) {
		for (const s of t.spans) {
			if (!pred(s, t) || s.start < startNs || s.start >= endNs) continue;
			const labels = by(s);
			const key = JSON.stringify(labels.map(([k, v]) => [k, labelKey(v)]));
			if (!groups.has(key)) groups.set(key, { labels, steps: new Map() });
			const g = groups.get(key);
			const st = Number((s.start - startNs) / stepNs);
			if (!g.steps.has(st)) g.steps.set(st, []);
			g.steps.get(st).push(s);
		}
	}
	const out = [];
	const stepS = Number(stepNs) / 1e9;
	for (const g of groups.values()) {
		if (fn === 'count' || fn === 'rate') {
			const samples = new Map();
			for (let k = 0; k < nSteps; k++) {
				const n = g.steps.has(k) ? g.steps.get(k).length : 0;
				samples.set(k, fn === 'rate' ? n / stepS : n);
			}
			out.push({ labels: g.labels, samples });
		} else if (fn === 'histogram') {
			const buckets = new Map();
			for (const [k, spans] of g.steps) {
				for (const s of spans) {
					const v = value(s);
					if (v === null || v < 2) continue;
					let e = 0;
					while (2 ** e < v) e++;
					if (!buckets.has(e)) buckets.set(e, new Map());
					const m = buckets.get(e);
					m.set(k, (m.get(k) || 0) + 1);
				}
			}
			for (const [e, m] of buckets) {
				const samples = new Map();
				for (let k = 0; k < nSteps; k++) samples.set(k, m.get(k) || 0);
				out.push({ labels: [...g.labels, ['__bucket', { t: 'float', v: 2 ** e / scale }]], samples, approx: false });
			}
		} else if (fn === 'quantile') {
			for (const q of qs) {
				const samples = new Map();
				for (const [k, spans] of g.steps) {
					const vals = spans.map(value).filter((v) => v !== null).sort((x, y) => x - y);
					if (vals.length) samples.set(k, vals[Math.floor(q * (vals.length - 1))] / scale);
				}
				if (samples.size) out.push({ labels: [...g.labels, ['p', { t: 'float', v: q }]], samples, approx: true });
			}
		} else {
			const samples = new Map();
			for (const [k, spans] of g.steps) {
				const vals = spans.map(value).filter((v) => v !== null);
				if (!vals.length) continue;
				let v;
				if (fn === 'sum') v = vals.reduce((x, y) => x + y, 0);
				else if (fn === 'avg') v = vals.reduce((x, y) => x + y, 0) / vals.length;
				else if (fn === 'min') v = Math.min(...vals);
				else if (fn === 'max') v = Math.max(...vals);
				else throw new Error(`bad fn ${fn}`);
				samples.set(k, v / scale);
			}
			if (samples.size) out.push({ labels: g.labels, samples });
		}
	}
	return out;
}

// topk/bottomk over finished series: per step the k largest (smallest)
// values keep their sample (ties: the labels that sort first); series never
// chosen are dropped.
export function topk(series, k, bottom = false) {
	const steps = new Set();
	for (const s of series) for (const st of s.samples.keys()) steps.add(st);
	const keep = series.map(() => new Map());
	for (const st of steps) {
		const cand = series.map((s, i) => [i, s.samples.get(st)]).filter(([, v]) => v !== undefined && !Number.isNaN(v));
		// ties go to the series whose labels sort first
		const lk = (i) => series[i].labels.map(([, v]) => labelKey(v)).join('\u0000');
		cand.sort((x, y) => (bottom ? x[1] - y[1] : y[1] - x[1]) || (lk(x[0]) < lk(y[0]) ? -1 : lk(x[0]) > lk(y[0]) ? 1 : 0));
		for (const [i, v] of cand.slice(0, k)) keep[i].set(st, v);
	}
	return series.map((s, i) => ({ ...s, samples: keep[i] })).filter((s) => s.samples.size > 0);
}

// A canonical text of a label value: typed value (or null = nil) or a JSON
// OTLP AnyValue.
export function labelKey(v) {
	if (v === null || v === undefined) return 's:nil';
	if ('t' in v) {
		switch (v.t) {
		case 'string': return `s:${v.v}`;
		case 'int': return `i:${v.v}`;
		case 'float': return `d:${v.v}`;
		case 'bool': return `b:${v.v}`;
		default: return `${v.t}:${v.v}`;
		}
	}
	if ('stringValue' in v) return `s:${v.stringValue}`;
	if ('intValue' in v) return `i:${Number(v.intValue)}`;
	if ('doubleValue' in v) return `d:${v.doubleValue}`;
	if ('boolValue' in v) return `b:${v.boolValue}`;
	return JSON.stringify(v);
}

// ---- compare() ----

// The attributes compare() counts for span s of trace t, as [[name, typed]]:
// name, status, kind, statusMessage, rootName and rootServiceName (when the
// trace has its root span), then every span.* and resource.* attribute that
// is a string, int, float or bool (durations, ids and arrays are left out).
export function compareAttrs(s, t) {
	const str = (v) => ({ t: 'string', v });
	const out = [['name', str(s.name)], ['status', str(s.status)], ['kind', str(s.kind)], ['statusMessage', str(s.statusMessage)]];
	if (t.root) out.push(['rootName', str(t.root.name)], ['rootServiceName', t.root.resAttrs.get('service.name')]);
	const scalar = (v) => ['string', 'int', 'float', 'bool'].includes(v.t);
	for (const [k, v] of s.attrs) if (scalar(v)) out.push([`span.${k}`, v]);
	for (const [k, v] of s.resAttrs) if (scalar(v)) out.push([`resource.${k}`, v]);
	return out;
}

// `{ pop } | compare({ sel }, n, wStart, wEnd)` over [startNs, endNs) with
// step stepNs: the population's spans split into the selection (sel, and
// starting in window = [wStart, wEnd) when given) and the baseline. Returns
// { nSteps, values: {baseline, selection}: Map attr -> Map labelKey ->
// {value, counts}, totals: {baseline, selection}: Map attr -> counts }.
export function compareOf(model, { pop, sel, window = null, startNs, endNs, stepNs }) {
	const nSteps = Number((endNs - startNs + stepNs - 1n) / stepNs);
	const values = { baseline: new Map(), selection: new Map() };
	const totals = { baseline: new Map(), selection: new Map() };
	for (const t of model.traces) {
		for (const s of t.spans) {
			if (!pop(s, t) || s.start < startNs || s.start >= endNs) continue;
			const inWindow = !window || (s.start >= window[0] && s.start < window[1]);
			const g = inWindow && sel(s, t) ? 'selection' : 'baseline';
			const st = Number((s.start - startNs) / stepNs);
			for (const [attr, v] of compareAttrs(s, t)) {
				if (!values[g].has(attr)) values[g].set(attr, new Map());
				const m = values[g].get(attr);
				const k = labelKey(v);
				if (!m.has(k)) m.set(k, { value: v, counts: new Array(nSteps).fill(0) });
				m.get(k).counts[st]++;
				if (!totals[g].has(attr)) totals[g].set(attr, new Array(nSteps).fill(0));
				totals[g].get(attr)[st]++;
			}
		}
	}
	return { nSteps, values, totals };
}
