// Assertions shared by the e2e tests: canonical span lists compared field by
// field, Jaeger's lossy model checked against the SDK's spans, and reading a
// trace back through every query API clew offers.
import assert from 'node:assert/strict';
import { getJsonUntilFound, request, describe as describeResponse } from './http.mjs';
import { TracesData, decode } from './proto.mjs';
import { fromOtlp, fromNative, bySpanId, KIND_NAMES } from './model.mjs';

// expected, actual: arrays of canonical spans. Compares span ids, then every
// field of every span, its resource and its scope.
export function assertSameSpans(actual, expected, label) {
	const a = bySpanId(actual, label);
	const e = bySpanId(expected, 'expected');
	assert.deepEqual([...a.keys()].sort(), [...e.keys()].sort(), `${label}: span ids differ`);
	for (const [id, exp] of e) {
		const got = a.get(id);
		assert.deepEqual(got.span, exp.span, `${label}: span "${exp.span.name}" (${id}) differs`);
		assert.deepEqual(got.resource, exp.resource, `${label}: resource of span "${exp.span.name}" differs`);
		assert.deepEqual(got.scope, exp.scope, `${label}: scope of span "${exp.span.name}" differs`);
	}
}

export async function readTempoJson(server, traceId) {
	const r = await getJsonUntilFound(server.url('http', `/api/traces/${traceId}`));
	assert.equal(r.status, 200, `Tempo /api/traces/${traceId}: ${describeResponse(r)}`);
	assert.match(String(r.headers['content-type']), /application\/json/);
	assert.ok(r.json && Array.isArray(r.json.batches), `Tempo JSON has no batches array: ${r.text.slice(0, 300)}`);
	return fromOtlp(r.json.batches, 'json');
}

export async function readTempoProto(server, traceId) {
	const r = await request(server.url('http', `/api/traces/${traceId}`), { headers: { accept: 'application/protobuf' } });
	assert.equal(r.status, 200, `Tempo protobuf /api/traces/${traceId}: ${describeResponse(r)}`);
	assert.match(String(r.headers['content-type']), /application\/(x-)?protobuf/);
	const td = decode(TracesData, r.body);
	return fromOtlp(td.resourceSpans, 'proto');
}

export async function readTempoV2(server, traceId) {
	const r = await getJsonUntilFound(server.url('http', `/api/v2/traces/${traceId}`));
	assert.equal(r.status, 200, `Tempo /api/v2/traces/${traceId}: ${describeResponse(r)}`);
	assert.equal(r.json.status, 'COMPLETE', `v2 status: ${r.text.slice(0, 300)}`);
	assert.ok(r.json.trace && Array.isArray(r.json.trace.resourceSpans), `v2 has no trace.resourceSpans: ${r.text.slice(0, 300)}`);
	return fromOtlp(r.json.trace.resourceSpans, 'json');
}

export async function readNative(server, traceId) {
	const r = await getJsonUntilFound(server.url('http', `/api/v1/traces/${traceId}`));
	assert.equal(r.status, 200, `native /api/v1/traces/${traceId}: ${describeResponse(r)}`);
	assert.equal(r.json.traceId, traceId);
	return { doc: r.json, spans: fromNative(r.json) };
}

export async function readJaeger(server, traceId) {
	const r = await getJsonUntilFound(server.url('http', `/jaeger/api/traces/${traceId}`));
	assert.equal(r.status, 200, `Jaeger /jaeger/api/traces/${traceId}: ${describeResponse(r)}`);
	const j = r.json;
	assert.ok(Array.isArray(j.data), `Jaeger answer without data: ${r.text.slice(0, 300)}`);
	assert.equal(j.data.length, 1, 'Jaeger data holds one trace');
	assert.equal(j.errors, null);
	for (const k of ['total', 'limit', 'offset']) assert.equal(typeof j[k], 'number', `Jaeger envelope field ${k}`);
	return j.data[0];
}

function pad32(id) {
	return String(id).padStart(32, '0');
}

// |got - ns/1000| < 1: microseconds, truncated or rounded.
function assertMicros(got, ns, what) {
	assert.equal(typeof got, 'number', `${what}: not a number (${JSON.stringify(got)})`);
	const exact = Number(BigInt(ns) / 1000n) + Number(BigInt(ns) % 1000n) / 1000;
	assert.ok(Math.abs(got - exact) < 1, `${what}: ${got} µs, expected ${exact}`);
}

function jaegerTagMatches(tag, value, what) {
	if (value.string !== undefined) {
		assert.equal(tag.type, 'string', `${what}: type`);
		assert.equal(tag.value, value.string, `${what}: value`);
	} else if (value.bool !== undefined) {
		assert.equal(tag.type, 'bool', `${what}: type`);
		assert.equal(tag.value, value.bool, `${what}: value`);
	} else if (value.int !== undefined) {
		assert.equal(tag.type, 'int64', `${what}: type`);
		assert.equal(String(tag.value), value.int, `${what}: value`);
	} else if (value.double !== undefined) {
		assert.equal(tag.type, 'float64', `${what}: type`);
		assert.equal(Number(tag.value), value.double, `${what}: value`);
	} else {
		// Jaeger has no array or map type: clew may render them as a string.
		assert.ok(tag.value !== undefined, `${what}: no value`);
	}
}

function findTag(tags, key) {
	return (tags || []).find((t) => t.key === key);
}

// Checks one Jaeger trace against canonical expected spans of that trace.
export function assertJaegerTrace(jt, expected, label) {
	assert.equal(pad32(jt.traceID), expected[0].span.traceId, `${label}: traceID`);
	assert.equal(jt.spans.length, expected.length, `${label}: span count`);
	for (const exp of expected) {
		const s = exp.span;
		const what = `${label}: span "${s.name}"`;
		const js = jt.spans.find((x) => x.spanID === s.spanId);
		assert.ok(js, `${what} (${s.spanId}) missing`);
		assert.equal(pad32(js.traceID), s.traceId, `${what}: traceID`);
		assert.equal(js.operationName, s.name, `${what}: operationName`);
		assertMicros(js.startTime, s.start, `${what}: startTime`);
		assertMicros(js.duration, (BigInt(s.end) - BigInt(s.start)).toString(), `${what}: duration`);
		const refs = js.references || [];
		const wantRefs = (s.parentSpanId ? 1 : 0) + s.links.length;
		assert.equal(refs.length, wantRefs, `${what}: references ${JSON.stringify(refs)}`);
		if (s.parentSpanId) {
			assert.ok(refs.some((r) => r.refType === 'CHILD_OF' && r.spanID === s.parentSpanId && pad32(r.traceID) === s.traceId),
				`${what}: no CHILD_OF reference to ${s.parentSpanId}: ${JSON.stringify(refs)}`);
		}
		for (const l of s.links) {
			assert.ok(refs.some((r) => r.spanID === l.spanId && pad32(r.traceID) === l.traceId),
				`${what}: link to ${l.traceId}/${l.spanId} not among references ${JSON.stringify(refs)}`);
		}
		for (const a of s.attributes) {
			const tag = findTag(js.tags, a.key);
			assert.ok(tag, `${what}: tag ${a.key} missing`);
			jaegerTagMatches(tag, a.value, `${what}: tag ${a.key}`);
		}
		if (s.kind >= 2) {
			const tag = findTag(js.tags, 'span.kind');
			assert.ok(tag, `${what}: no span.kind tag`);
			assert.equal(tag.value, KIND_NAMES[s.kind], `${what}: span.kind tag`);
		}
		if (s.status.code === 2) {
			const tag = findTag(js.tags, 'error');
			assert.ok(tag && tag.value === true, `${what}: error span without tag error=true: ${JSON.stringify(js.tags)}`);
			if (s.status.message) {
				assert.ok(js.tags.some((t) => t.value === s.status.message), `${what}: status message not among tags`);
			}
		} else {
			const tag = findTag(js.tags, 'error');
			assert.ok(!tag || tag.value === false, `${what}: non-error span has tag error=${tag && tag.value}`);
		}
		const logs = js.logs || [];
		assert.equal(logs.length, s.events.length, `${what}: log count`);
		s.events.forEach((ev, i) => {
			const log = logs[i];
			assertMicros(log.timestamp, ev.time, `${what}: log ${i} timestamp`);
			const nameField = findTag(log.fields, 'event');
			assert.ok(nameField && nameField.value === ev.name, `${what}: log ${i} has no field event=${ev.name}: ${JSON.stringify(log.fields)}`);
			for (const a of ev.attributes) {
				const f = findTag(log.fields, a.key);
				assert.ok(f, `${what}: log ${i} field ${a.key} missing`);
				jaegerTagMatches(f, a.value, `${what}: log ${i} field ${a.key}`);
			}
		});
		const proc = jt.processes && jt.processes[js.processID];
		assert.ok(proc, `${what}: processID ${js.processID} not in processes`);
		const svc = exp.resource.attributes.find((x) => x.key === 'service.name');
		assert.equal(proc.serviceName, svc.value.string, `${what}: process serviceName`);
		for (const a of exp.resource.attributes) {
			if (a.key === 'service.name') continue;
			const tag = findTag(proc.tags, a.key);
			assert.ok(tag, `${what}: process tag ${a.key} missing`);
			jaegerTagMatches(tag, a.value, `${what}: process tag ${a.key}`);
		}
	}
}

// Summary fields of the native trace document against canonical expected spans.
export function assertNativeSummary(doc, expected, label) {
	const starts = expected.map((c) => BigInt(c.span.start));
	const ends = expected.map((c) => BigInt(c.span.end));
	const min = starts.reduce((a, b) => (a < b ? a : b));
	const max = ends.reduce((a, b) => (a > b ? a : b));
	assert.equal(doc.spanCount, expected.length, `${label}: spanCount`);
	assert.equal(doc.errorCount, expected.filter((c) => c.span.status.code === 2).length, `${label}: errorCount`);
	assert.equal(doc.startTimeUnixNano, min.toString(), `${label}: startTimeUnixNano`);
	assert.equal(doc.endTimeUnixNano, max.toString(), `${label}: endTimeUnixNano`);
	assert.ok(Math.abs(doc.durationMs - Number(max - min) / 1e6) < 1e-3, `${label}: durationMs ${doc.durationMs}, expected ${Number(max - min) / 1e6}`);
	const ids = new Set(expected.map((c) => c.span.spanId));
	const roots = expected.filter((c) => !c.span.parentSpanId || !ids.has(c.span.parentSpanId));
	const root = roots.sort((a, b) => (BigInt(a.span.start) < BigInt(b.span.start) ? -1 : 1))[0];
	const svc = (c) => c.resource.attributes.find((x) => x.key === 'service.name').value.string;
	assert.equal(doc.rootName, root.span.name, `${label}: rootName`);
	assert.equal(doc.rootServiceName, svc(root), `${label}: rootServiceName`);
	assert.ok(Array.isArray(doc.services), `${label}: services is not an array`);
	for (const c of expected) {
		assert.ok(JSON.stringify(doc.services).includes(JSON.stringify(svc(c))), `${label}: services ${JSON.stringify(doc.services)} lacks ${svc(c)}`);
	}
	for (const s of doc.spans) {
		const exp = expected.find((c) => c.span.spanId === s.spanId);
		assert.ok(exp, `${label}: unexpected span ${s.spanId}`);
		assert.equal(s.service, svc(exp), `${label}: span ${s.spanId} service`);
		const d = Number(BigInt(exp.span.end) - BigInt(exp.span.start)) / 1e6;
		assert.ok(Math.abs(s.durationMs - d) < 1e-3, `${label}: span ${s.spanId} durationMs ${s.durationMs}, expected ${d}`);
	}
}
