// clew gen: deterministic output, valid OTLP for an independent protobuf
// decoder (protobufjs over the OTLP schema), and traffic that a running clew
// accepts and serves back trace by trace.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { getJson } from './lib/http.mjs';
import { decode, ExportTraceServiceRequest } from './lib/proto.mjs';
import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

const START = '2026-01-01T00:00:00Z';

function gen(args) {
	return execFileSync(CLEW_BIN, ['gen', ...args], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
}

// The records of a `clew gen --out` file: u32 little-endian length + message.
function records(buf) {
	const out = [];
	for (let off = 0; off < buf.length;) {
		assert.ok(off + 4 <= buf.length, 'truncated record header');
		const len = buf.readUInt32LE(off);
		assert.ok(off + 4 + len <= buf.length, 'truncated record');
		out.push(buf.subarray(off + 4, off + 4 + len));
		off += 4 + len;
	}
	return out;
}

const hex = (b) => Buffer.from(b).toString('hex');

test('clew gen is deterministic and its output is valid OTLP', { skip: skipReason }, () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'clew-gen-'));
	try {
		const a = path.join(dir, 'a.otlp'), b = path.join(dir, 'b.otlp'), c = path.join(dir, 'c.otlp');
		const common = ['--spans', '30000', '--start', START, '--rate', 'max'];
		gen(['--out', a, '--seed', '11', ...common]);
		gen(['--out', b, '--seed', '11', ...common]);
		gen(['--out', c, '--seed', '12', ...common]);
		const A = readFileSync(a), B = readFileSync(b), C = readFileSync(c);
		assert.ok(A.equals(B), 'same seed, same bytes');
		assert.ok(!A.equals(C), 'another seed, other bytes');

		let spans = 0, errors = 0, kinds = new Set(), links = 0, events = 0;
		const traces = new Map();
		for (const rec of records(A)) {
			const req = decode(ExportTraceServiceRequest, rec);
			for (const rs of req.resourceSpans) {
				const svc = (rs.resource.attributes || []).find((kv) => kv.key === 'service.name');
				assert.ok(svc && svc.value.stringValue, 'every resource names its service');
				for (const ss of rs.scopeSpans) {
					for (const s of ss.spans) {
						spans++;
						assert.equal(s.traceId.length, 16);
						assert.equal(s.spanId.length, 8);
						assert.ok(!s.parentSpanId || s.parentSpanId.length === 0 || s.parentSpanId.length === 8);
						assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano), 'end after start');
						assert.ok(s.name && s.name.length > 0);
						kinds.add(s.kind || 0);
						if (s.status && s.status.code === 2) errors++;
						links += (s.links || []).length;
						events += (s.events || []).length;
						const t = traces.get(hex(s.traceId)) || { ids: new Set(), parents: [] };
						t.ids.add(hex(s.spanId));
						if (s.parentSpanId && s.parentSpanId.length) t.parents.push(hex(s.parentSpanId));
						traces.set(hex(s.traceId), t);
					}
				}
			}
		}
		assert.ok(spans >= 30000, `spans: ${spans}`);
		for (const [id, t] of traces)
			for (const p of t.parents) assert.ok(t.ids.has(p), `trace ${id}: parent ${p} is in the trace`);
		for (const k of [1, 2, 3, 4, 5]) assert.ok(kinds.has(k), `span kind ${k} appears`);
		assert.ok(errors > 0 && links > 0 && events > 0, `errors ${errors}, links ${links}, events ${events}`);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('clew gen traffic is accepted and every trace reads back whole', { skip: skipReason }, async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'clew-gen-'));
	const server = await startClew();
	try {
		const args = ['--spans', '8000', '--seed', '21', '--start', START, '--rate', 'max'];
		const file = path.join(dir, 'sent.otlp');
		gen(['--out', file, ...args]);
		gen(['--target', server.url('otlpHttp'), ...args]);
		const expected = new Map();
		for (const rec of records(readFileSync(file))) {
			const req = decode(ExportTraceServiceRequest, rec);
			for (const rs of req.resourceSpans)
				for (const ss of rs.scopeSpans)
					for (const s of ss.spans) expected.set(hex(s.traceId), (expected.get(hex(s.traceId)) || 0) + 1);
		}
		let total = 0;
		for (const n of expected.values()) total += n;
		const metrics = await (await fetch(server.url('http', '/metrics'))).text();
		const m = metrics.match(/^clew_spans_received_total\{protocol="otlp_http_protobuf"\} (\d+)/m);
		assert.ok(m, 'metric present');
		assert.equal(Number(m[1]), total, 'every generated span was accepted');
		const ids = [...expected.keys()];
		for (let i = 0; i < ids.length; i += Math.max(1, Math.floor(ids.length / 40))) {
			const doc = await getJson(server.url('http', `/api/v1/traces/${ids[i]}`));
			assert.equal(doc.status, 200, `trace ${ids[i]}`);
			assert.equal(doc.json.spanCount, expected.get(ids[i]), `span count of ${ids[i]}`);
		}
	} finally {
		await server.cleanup();
		rmSync(dir, { recursive: true, force: true });
	}
});
