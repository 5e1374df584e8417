// Hand-built OTLP trace requests for the raw-protocol tests: many small
// traces with random ids, encoded as protobuf (protobufjs over
// lib/otlp.proto) or as OTLP JSON (hex ids, integer enums).
import { randomBytes } from 'node:crypto';
import { encode, ExportTraceServiceRequest } from './proto.mjs';

export function randomTraceId() {
	return randomBytes(16).toString('hex');
}

export function randomSpanId() {
	return randomBytes(8).toString('hex');
}

// One span as a plain object with hex ids and decimal-string times.
export function makeSpan({ traceId, spanId = randomSpanId(), parentSpanId = '', name = 'op', kind = 2, startNs, endNs, attributes = [] }) {
	return { traceId, spanId, parentSpanId, name, kind, startNs: String(startNs), endNs: String(endNs), attributes };
}

// A request of `traces` traces with `spansPerTrace` spans each (a root and
// its children). Returns { spans, traceIds }.
export function makeTraces({ traces = 1, spansPerTrace = 3, nowNs = BigInt(Date.now()) * 1000000n } = {}) {
	const spans = [];
	const traceIds = [];
	for (let t = 0; t < traces; t++) {
		const traceId = randomTraceId();
		traceIds.push(traceId);
		const root = makeSpan({ traceId, name: 'GET /item', kind: 2, startNs: nowNs, endNs: nowNs + 5000000n, attributes: [{ key: 'http.route', value: { stringValue: '/item' } }] });
		spans.push(root);
		for (let i = 1; i < spansPerTrace; i++) {
			spans.push(makeSpan({
				traceId, parentSpanId: root.spanId, name: `child ${i}`, kind: 3,
				startNs: nowNs + BigInt(i) * 1000n, endNs: nowNs + BigInt(i) * 1000n + 700n,
				attributes: [{ key: 'clew.i', value: { intValue: String(i) } }],
			}));
		}
	}
	return { spans, traceIds };
}

function resourceOf(service) {
	return { attributes: [{ key: 'service.name', value: { stringValue: service } }] };
}

// Encode spans (from makeSpan) as an ExportTraceServiceRequest in protobuf.
export function encodeProto(spans, service = 'e2e-raw') {
	return encode(ExportTraceServiceRequest, {
		resourceSpans: [{
			resource: resourceOf(service),
			scopeSpans: [{
				scope: { name: 'clew-e2e-raw', version: '1' },
				spans: spans.map((s) => ({
					traceId: Buffer.from(s.traceId, 'hex'),
					spanId: Buffer.from(s.spanId, 'hex'),
					parentSpanId: s.parentSpanId ? Buffer.from(s.parentSpanId, 'hex') : undefined,
					name: s.name,
					kind: s.kind,
					startTimeUnixNano: s.startNs,
					endTimeUnixNano: s.endNs,
					attributes: s.attributes,
				})),
			}],
		}],
	});
}

// The same request in OTLP JSON.
export function encodeJson(spans, service = 'e2e-raw') {
	return Buffer.from(JSON.stringify({
		resourceSpans: [{
			resource: resourceOf(service),
			scopeSpans: [{
				scope: { name: 'clew-e2e-raw', version: '1' },
				spans: spans.map((s) => ({
					traceId: s.traceId,
					spanId: s.spanId,
					...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
					name: s.name,
					kind: s.kind,
					startTimeUnixNano: s.startNs,
					endTimeUnixNano: s.endNs,
					attributes: s.attributes,
				})),
			}],
		}],
	}));
}
