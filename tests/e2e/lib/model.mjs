// One canonical form of a span (with its resource and scope) for comparing
// what an SDK recorded against what clew returns through each read API.
//
// A canonical span is a plain object: lowercase hex ids, OTLP kind and status
// numbers, nanosecond times as decimal strings, attributes sorted by key with
// values as { string | bool | int (decimal string) | double | array | kvlist
// | bytes (hex) }. Values that break the wire contract (an int64 sent as a
// JSON number, a kind sent as a number where a string is due) are kept in a
// visibly wrong form, so that the comparison fails and shows them.

const KIND_STRINGS = {
	SPAN_KIND_UNSPECIFIED: 0,
	SPAN_KIND_INTERNAL: 1,
	SPAN_KIND_SERVER: 2,
	SPAN_KIND_CLIENT: 3,
	SPAN_KIND_PRODUCER: 4,
	SPAN_KIND_CONSUMER: 5,
};
const NATIVE_KINDS = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
const STATUS_STRINGS = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };
const NATIVE_STATUS = { unset: 0, ok: 1, error: 2 };
export const KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

export function hrToNs(hr) {
	return (BigInt(Math.trunc(hr[0])) * 1000000000n + BigInt(Math.trunc(hr[1]))).toString();
}

function byKey(a, b) {
	return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

// ---- from the SDK's ReadableSpan ------------------------------------------

function sdkValue(v) {
	if (typeof v === 'string') return { string: v };
	if (typeof v === 'boolean') return { bool: v };
	if (typeof v === 'number') return Number.isInteger(v) ? { int: String(v) } : { double: v };
	if (v instanceof Uint8Array) return { bytes: Buffer.from(v).toString('hex') };
	if (Array.isArray(v)) return { array: v.map(sdkValue) };
	if (v && typeof v === 'object') return { kvlist: sdkAttrs(v) };
	return {};
}

export function sdkAttrs(attrs) {
	return Object.keys(attrs || {}).map((key) => ({ key, value: sdkValue(attrs[key]) })).sort(byKey);
}

function sdkFlags(traceFlags, isRemote) {
	return (traceFlags & 0xff) | 0x100 | (isRemote ? 0x200 : 0);
}

// Canonical { resource, scope, span } for one ReadableSpan.
export function fromSdk(rs) {
	const ctx = rs.spanContext();
	const parent = rs.parentSpanContext;
	return {
		resource: {
			attributes: sdkAttrs(rs.resource.attributes),
			droppedAttributesCount: 0,
			schemaUrl: rs.resource.schemaUrl || '',
		},
		scope: {
			name: rs.instrumentationScope.name,
			version: rs.instrumentationScope.version || '',
			attributes: [],
			droppedAttributesCount: 0,
			schemaUrl: rs.instrumentationScope.schemaUrl || '',
		},
		span: {
			traceId: ctx.traceId,
			spanId: ctx.spanId,
			parentSpanId: parent && parent.spanId ? parent.spanId : '',
			traceState: ctx.traceState ? ctx.traceState.serialize() : '',
			flags: sdkFlags(ctx.traceFlags, parent && parent.isRemote),
			name: rs.name,
			kind: rs.kind + 1,
			start: hrToNs(rs.startTime),
			end: hrToNs(rs.endTime),
			attributes: sdkAttrs(rs.attributes),
			droppedAttributesCount: rs.droppedAttributesCount || 0,
			events: rs.events.map((e) => ({
				time: hrToNs(e.time),
				name: e.name,
				attributes: sdkAttrs(e.attributes),
				droppedAttributesCount: e.droppedAttributesCount || 0,
			})),
			droppedEventsCount: rs.droppedEventsCount || 0,
			links: rs.links.map((l) => ({
				traceId: l.context.traceId,
				spanId: l.context.spanId,
				traceState: l.context.traceState ? l.context.traceState.serialize() : '',
				attributes: sdkAttrs(l.attributes),
				droppedAttributesCount: l.droppedAttributesCount || 0,
				flags: sdkFlags(l.context.traceFlags, l.context.isRemote),
			})),
			droppedLinksCount: rs.droppedLinksCount || 0,
			status: { code: rs.status.code, message: rs.status.message || '' },
		},
	};
}

// ---- from OTLP JSON (Tempo) and decoded OTLP protobuf --------------------

// mode 'json': OTLP JSON as Tempo writes it (base64 ids, enum strings,
// int64 as strings); mode 'proto': protobufjs objects from lib/proto.mjs.
function idHex(v, mode) {
	if (v === undefined || v === null || v === '') return '';
	if (mode === 'proto') return Buffer.from(v).toString('hex');
	return Buffer.from(v, 'base64').toString('hex');
}

function int64(v) {
	if (v === undefined || v === null) return '0';
	if (typeof v === 'string') return v;
	return `<int64 as JSON ${typeof v}: ${v}>`;
}

function otlpValue(v, mode) {
	if (!v) return {};
	if (v.stringValue !== undefined) return { string: v.stringValue };
	if (v.boolValue !== undefined) return { bool: v.boolValue };
	if (v.intValue !== undefined) return { int: mode === 'proto' ? String(v.intValue) : int64(v.intValue) };
	if (v.doubleValue !== undefined) return { double: Number(v.doubleValue) };
	if (v.arrayValue !== undefined) return { array: (v.arrayValue.values || []).map((x) => otlpValue(x, mode)) };
	if (v.kvlistValue !== undefined) return { kvlist: otlpAttrs(v.kvlistValue.values, mode) };
	if (v.bytesValue !== undefined) {
		return { bytes: mode === 'proto' ? Buffer.from(v.bytesValue).toString('hex') : Buffer.from(v.bytesValue, 'base64').toString('hex') };
	}
	return {};
}

export function otlpAttrs(list, mode = 'json') {
	return (list || []).map((kv) => ({ key: kv.key, value: otlpValue(kv.value, mode) })).sort(byKey);
}

function enumOf(v, table, mode) {
	if (v === undefined || v === null) return 0;
	if (mode === 'proto') return v;
	if (typeof v === 'string' && v in table) return table[v];
	return `<enum ${JSON.stringify(v)}>`;
}

// Canonical spans of a list of ResourceSpans.
export function fromOtlp(resourceSpans, mode = 'json') {
	const out = [];
	for (const rs of resourceSpans || []) {
		const resource = {
			attributes: otlpAttrs(rs.resource && rs.resource.attributes, mode),
			droppedAttributesCount: (rs.resource && rs.resource.droppedAttributesCount) || 0,
			schemaUrl: rs.schemaUrl || '',
		};
		if (rs.instrumentationLibrarySpans) throw new Error('instrumentationLibrarySpans (deprecated) instead of scopeSpans');
		for (const ss of rs.scopeSpans || []) {
			const sc = ss.scope || {};
			const scope = {
				name: sc.name || '',
				version: sc.version || '',
				attributes: otlpAttrs(sc.attributes, mode),
				droppedAttributesCount: sc.droppedAttributesCount || 0,
				schemaUrl: ss.schemaUrl || '',
			};
			for (const s of ss.spans || []) {
				const st = s.status || {};
				out.push({
					resource,
					scope,
					span: {
						traceId: idHex(s.traceId, mode),
						spanId: idHex(s.spanId, mode),
						parentSpanId: idHex(s.parentSpanId, mode),
						traceState: s.traceState || '',
						flags: s.flags || 0,
						name: s.name || '',
						kind: enumOf(s.kind, KIND_STRINGS, mode),
						start: mode === 'proto' ? String(s.startTimeUnixNano || '0') : int64(s.startTimeUnixNano),
						end: mode === 'proto' ? String(s.endTimeUnixNano || '0') : int64(s.endTimeUnixNano),
						attributes: otlpAttrs(s.attributes, mode),
						droppedAttributesCount: s.droppedAttributesCount || 0,
						events: (s.events || []).map((e) => ({
							time: mode === 'proto' ? String(e.timeUnixNano || '0') : int64(e.timeUnixNano),
							name: e.name || '',
							attributes: otlpAttrs(e.attributes, mode),
							droppedAttributesCount: e.droppedAttributesCount || 0,
						})),
						droppedEventsCount: s.droppedEventsCount || 0,
						links: (s.links || []).map((l) => ({
							traceId: idHex(l.traceId, mode),
							spanId: idHex(l.spanId, mode),
							traceState: l.traceState || '',
							attributes: otlpAttrs(l.attributes, mode),
							droppedAttributesCount: l.droppedAttributesCount || 0,
							flags: l.flags || 0,
						})),
						droppedLinksCount: s.droppedLinksCount || 0,
						status: { code: enumOf(st.code, STATUS_STRINGS, mode), message: st.message || '' },
					},
				});
			}
		}
	}
	return out;
}

// ---- from clew's native /api/v1/traces/{id} ------------------------------

export function fromNative(doc) {
	const out = [];
	for (const s of doc.spans || []) {
		const r = (doc.resources || [])[s.resource];
		const sc = (doc.scopes || [])[s.scope];
		if (!r) throw new Error(`span ${s.spanId}: resource index ${s.resource} out of range`);
		if (!sc) throw new Error(`span ${s.spanId}: scope index ${s.scope} out of range`);
		if (sc.resource !== s.resource) throw new Error(`span ${s.spanId}: scope ${s.scope} belongs to resource ${sc.resource}, span says ${s.resource}`);
		const st = s.status || {};
		out.push({
			resource: {
				attributes: otlpAttrs(r.attributes),
				droppedAttributesCount: r.droppedAttributesCount || 0,
				schemaUrl: r.schemaUrl || '',
			},
			scope: {
				name: sc.name || '',
				version: sc.version || '',
				attributes: otlpAttrs(sc.attributes),
				droppedAttributesCount: sc.droppedAttributesCount || 0,
				schemaUrl: sc.schemaUrl || '',
			},
			span: {
				traceId: doc.traceId,
				spanId: s.spanId,
				parentSpanId: s.parentSpanId || '',
				traceState: s.traceState || '',
				flags: s.flags || 0,
				name: s.name || '',
				kind: s.kind in NATIVE_KINDS ? NATIVE_KINDS[s.kind] : `<kind ${JSON.stringify(s.kind)}>`,
				start: int64(s.startTimeUnixNano),
				end: int64(s.endTimeUnixNano),
				attributes: otlpAttrs(s.attributes),
				droppedAttributesCount: s.droppedAttributesCount || 0,
				events: (s.events || []).map((e) => ({
					time: int64(e.timeUnixNano),
					name: e.name || '',
					attributes: otlpAttrs(e.attributes),
					droppedAttributesCount: e.droppedAttributesCount || 0,
				})),
				droppedEventsCount: s.droppedEventsCount || 0,
				links: (s.links || []).map((l) => ({
					traceId: l.traceId,
					spanId: l.spanId,
					traceState: l.traceState || '',
					attributes: otlpAttrs(l.attributes),
					droppedAttributesCount: l.droppedAttributesCount || 0,
					flags: l.flags || 0,
				})),
				droppedLinksCount: s.droppedLinksCount || 0,
				status: {
					code: st.code === undefined ? 0 : st.code in NATIVE_STATUS ? NATIVE_STATUS[st.code] : `<status ${JSON.stringify(st.code)}>`,
					message: st.message || '',
				},
			},
		});
	}
	return out;
}

// Index canonical spans by span id (throws on duplicates).
export function bySpanId(list, what) {
	const m = new Map();
	for (const c of list) {
		if (m.has(c.span.spanId)) throw new Error(`${what}: span ${c.span.spanId} appears twice`);
		m.set(c.span.spanId, c);
	}
	return m;
}
