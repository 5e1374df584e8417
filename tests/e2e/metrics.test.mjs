// TraceQL metrics end to end: clew gen traffic (recent times, so the default
// and relative ranges see it) into a server whose small head is cut into
// blocks, then /api/metrics/query_range and /api/metrics/query checked
// against an independent evaluation in JavaScript of the same spans (the
// `clew gen --out` file of the same arguments, decoded with protobufjs):
// counts and rates exactly, quantiles within the sketch's 1% relative error,
// histogram buckets exactly, topk per step, compare()'s totals; then the
// error answers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { getJson } from './lib/http.mjs';
import { decode, ExportTraceServiceRequest } from './lib/proto.mjs';
import { CLEW_BIN, skipReason, startClew, sleep } from './lib/server.mjs';

const STEP_S = 1; // clew gen at --rate max spreads 20,000 spans over about 3 s

function loadSpans(file) {
	const buf = readFileSync(file);
	const spans = [];
	for (let off = 0; off < buf.length;) {
		const len = buf.readUInt32LE(off);
		const req = decode(ExportTraceServiceRequest, buf.subarray(off + 4, off + 4 + len));
		off += 4 + len;
		for (const rs of req.resourceSpans) {
			const svcAttr = (rs.resource.attributes || []).find((kv) => kv.key === 'service.name');
			const service = svcAttr ? svcAttr.value.stringValue : undefined;
			for (const ss of rs.scopeSpans) {
				for (const s of ss.spans) {
					const start = BigInt(s.startTimeUnixNano);
					spans.push({
						start,
						durNs: Number(BigInt(s.endTimeUnixNano) - start),
						error: !!(s.status && s.status.code === 2),
						service,
					});
				}
			}
		}
	}
	return spans;
}

const stepOf = (span, startS) => Number((span.start - BigInt(startS) * 1000000000n) / BigInt(STEP_S * 1e9));

// key -> step -> [values] for the spans in [startS, endS) passing pred.
function groupBy(spans, startS, endS, pred, keyOf) {
	const out = new Map();
	const lo = BigInt(startS) * 1000000000n, hi = BigInt(endS) * 1000000000n;
	for (const s of spans) {
		if (s.start < lo || s.start >= hi || !pred(s)) continue;
		const k = keyOf(s);
		if (!out.has(k)) out.set(k, new Map());
		const m = out.get(k);
		const st = stepOf(s, startS);
		if (!m.has(st)) m.set(st, []);
		m.get(st).push(s.durNs);
	}
	return out;
}

const labelOf = (series, key) => {
	const l = series.labels.find((x) => x.key === key);
	if (!l) return undefined;
	const v = l.value;
	return v.stringValue ?? v.doubleValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue);
};

// step index -> value of a series' samples.
function samplesOf(series, startS) {
	const m = new Map();
	for (const s of series.samples) {
		const ms = Number(s.timestampMs);
		assert.equal((ms - startS * 1000) % (STEP_S * 1000), 0, 'samples sit on step boundaries');
		m.set((ms - startS * 1000) / (STEP_S * 1000), s.value);
	}
	return m;
}

async function metrics(server, endpoint, q, params) {
	const qs = new URLSearchParams({ q, ...params }).toString();
	return getJson(server.url('http', `/api/metrics/${endpoint}?${qs}`));
}

async function range(server, q, startS, endS) {
	const r = await metrics(server, 'query_range', q, { start: String(startS), end: String(endS), step: `${STEP_S}s` });
	assert.equal(r.status, 200, `${q}: ${r.text.slice(0, 300)}`);
	assert.ok(Array.isArray(r.json.series), q);
	assert.ok(r.json.metrics && Number(r.json.metrics.inspectedSpans) > 0, `${q}: metrics`);
	return r.json.series;
}

test('TraceQL metrics over blocks and the head agree with an independent evaluation', { skip: skipReason }, async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'clew-metrics-'));
	const server = await startClew({ args: ['--retention', '0', '--head-max-bytes', '1M'] });
	try {
		const genStart = new Date(Math.floor(Date.now() / 1000 - 600) * 1000).toISOString().replace('.000Z', 'Z');
		const GEN = ['--rate', 'max', '--spans', '20000', '--seed', '5', '--start', genStart];
		const file = path.join(dir, 'gen.otlp');
		execFileSync(CLEW_BIN, ['gen', '--out', file, ...GEN], { stdio: 'ignore' });
		execFileSync(CLEW_BIN, ['gen', '--target', server.url('otlpHttp'), ...GEN], { stdio: 'ignore' });
		const spans = loadSpans(file);
		assert.ok(spans.length >= 20000);
		let maxStart = 0n, minStart = spans[0].start;
		for (const s of spans) {
			if (s.start > maxStart) maxStart = s.start;
			if (s.start < minStart) minStart = s.start;
		}
		// a range on whole steps (so clew's alignment keeps it) covering every span but the
		// last ones: spans at or after end must not count
		const startS = Math.floor(Number(minStart / 1000000000n) / STEP_S) * STEP_S - STEP_S;
		const endS = Math.ceil(Number(maxStart / 1000000000n) / STEP_S) * STEP_S + STEP_S;
		const all = () => true;
		const svc = (s) => s.service;
		const one = () => '';

		// wait until every span is queryable
		const countQ = '{} | count_over_time() by (resource.service.name)';
		for (let i = 0; i < 100; i++) {
			const series = await range(server, countQ, startS, endS);
			let n = 0;
			for (const s of series) for (const x of s.samples) n += x.value;
			if (n === spans.length) break;
			await sleep(100);
		}
		const m = await (await fetch(server.url('http', '/metrics'))).text();
		assert.match(m, /clew_blocks [1-9]/, 'blocks were cut');

		// count_over_time by service: every sample exact, zeros in empty steps
		let series = await range(server, countQ, startS, endS);
		let want = groupBy(spans, startS, endS, all, svc);
		assert.deepEqual(series.map((s) => labelOf(s, 'resource.service.name')).sort(), [...want.keys()].sort());
		const nSteps = (endS - startS) / STEP_S;
		for (const s of series) {
			const got = samplesOf(s, startS);
			const w = want.get(labelOf(s, 'resource.service.name'));
			assert.equal(got.size, nSteps, 'one sample per step');
			for (let k = 0; k < nSteps; k++) assert.equal(got.get(k), w.has(k) ? w.get(k).length : 0);
			assert.deepEqual(s.exemplars, []);
		}

		// a range ending inside the data: later spans left out
		const midS = startS + Math.floor(nSteps / 2) * STEP_S;
		series = await range(server, '{} | count_over_time()', startS, midS);
		want = groupBy(spans, startS, midS, all, one);
		let got = series.length ? samplesOf(series[0], startS) : new Map();
		let total = 0;
		for (const v of got.values()) total += v;
		let wantTotal = 0;
		for (const v of (want.get('') || new Map()).values()) wantTotal += v.length;
		assert.equal(total, wantTotal, 'spans after end are not counted');
		assert.ok(wantTotal < spans.length);

		// rate of errors
		series = await range(server, '{status=error} | rate()', startS, endS);
		want = groupBy(spans, startS, endS, (s) => s.error, one);
		assert.ok(want.size === 1, 'the generator makes errors');
		assert.equal(series.length, 1);
		assert.deepEqual(series[0].labels, []);
		got = samplesOf(series[0], startS);
		for (let k = 0; k < nSteps; k++) {
			const n = want.get('').has(k) ? want.get('').get(k).length : 0;
			assert.ok(Math.abs(got.get(k) - n / STEP_S) < 1e-9, `rate at step ${k}: ${got.get(k)} vs ${n / STEP_S}`);
		}

		// quantiles of one service's durations, in seconds, within 1%
		series = await range(server, '{resource.service.name="accounts"} | quantile_over_time(duration, .5, .99)', startS, endS);
		want = groupBy(spans, startS, endS, (s) => s.service === 'accounts', one);
		assert.ok(want.size === 1, 'accounts has spans');
		assert.deepEqual(series.map((s) => labelOf(s, 'p')).sort(), [0.5, 0.99]);
		let checked = 0;
		for (const s of series) {
			const q = labelOf(s, 'p');
			got = samplesOf(s, startS);
			const w = want.get('');
			assert.equal(got.size, w.size, 'a sample where the service has spans, none elsewhere');
			for (const [k, durs] of w) {
				durs.sort((a, b) => a - b);
				const exact = durs[Math.floor(q * (durs.length - 1))] / 1e9;
				const est = got.get(k);
				assert.ok(Math.abs(est - exact) <= 0.01 * exact * (1 + 1e-9), `p${q} step ${k}: ${est} vs ${exact}`);
				checked++;
			}
		}
		assert.ok(checked >= 2);

		// histogram buckets: the smallest power of two of nanoseconds >= the duration
		series = await range(server, '{} | histogram_over_time(duration)', startS, endS);
		const hist = new Map();
		for (const s of spans) {
			const t = s.start;
			if (t < BigInt(startS) * 1000000000n || t >= BigInt(endS) * 1000000000n || s.durNs < 2) continue;
			let e = 0;
			while (2 ** e < s.durNs) e++;
			const key = `${e}/${stepOf(s, startS)}`;
			hist.set(key, (hist.get(key) || 0) + 1);
		}
		let histTotal = 0;
		for (const s of series) {
			const b = labelOf(s, '__bucket');
			const e = Math.round(Math.log2(b * 1e9));
			assert.ok(Math.abs(2 ** e / 1e9 - b) <= 1e-12 * b, `bucket ${b} is a power of two of ns`);
			for (const [k, v] of samplesOf(s, startS)) {
				assert.equal(v, hist.get(`${e}/${k}`) || 0, `bucket 2^${e} step ${k}`);
				histTotal += v;
			}
		}
		assert.equal(histTotal, [...hist.values()].reduce((a, b) => a + b, 0));

		// topk(3): at each step the three largest counts
		series = await range(server, `${countQ} | topk(3)`, startS, endS);
		want = groupBy(spans, startS, endS, all, svc);
		for (let k = 0; k < nSteps; k++) {
			const counts = [...want.values()].map((w) => (w.has(k) ? w.get(k).length : 0)).sort((a, b) => b - a);
			const chosen = series.map((s) => samplesOf(s, startS).get(k)).filter((v) => v !== undefined);
			assert.deepEqual(chosen.sort((a, b) => b - a), counts.slice(0, 3), `topk at step ${k}`);
		}
		assert.ok(series.length >= 3 && series.length < want.size);

		// instant: one value per service over [start, end), RFC3339 and nanosecond times
		const iStart = new Date(startS * 1000).toISOString();
		const r = await metrics(server, 'query', countQ, { start: iStart, end: `${BigInt(endS) * 1000000000n}` });
		assert.equal(r.status, 200, r.text.slice(0, 300));
		want = groupBy(spans, startS, endS, all, svc);
		assert.equal(r.json.series.length, want.size);
		for (const s of r.json.series) {
			const w = want.get(labelOf(s, 'resource.service.name'));
			let n = 0;
			for (const v of w.values()) n += v.length;
			assert.equal(s.value, n);
			assert.equal(s.samples, undefined);
		}

		// default range (the last hour) and since: recent spans are in it
		for (const params of [{}, { since: '1h' }, { since: '1h', step: '30' }]) {
			const d = await metrics(server, 'query_range', '{} | count_over_time()', params);
			assert.equal(d.status, 200, d.text.slice(0, 300));
			assert.equal(d.json.series.length, 1, JSON.stringify(params));
			assert.ok(d.json.series[0].samples.some((x) => x.value > 0));
		}

		// compare(): per step, the selection's totals are the errors and the
		// baseline's the rest; status splits the same way; top 2 services
		series = await range(server, '{} | compare({status=error}, 2)', startS, endS);
		const errs = groupBy(spans, startS, endS, (s) => s.error, one).get('');
		const oks = groupBy(spans, startS, endS, (s) => !s.error, one).get('');
		const find = (type, key, value) => series.filter((s) => s.labels[0].key === '__meta_type' &&
			s.labels[0].value.stringValue === type && s.labels[1].key === key &&
			(value === undefined || labelOf(s, key) === value));
		for (const [type, w] of [['selection_total', errs], ['baseline_total', oks], ['selection', errs]]) {
			const [key, value] = type === 'selection' ? ['status', 'error'] : ['name', 'nil'];
			const found = find(type, key, value);
			assert.equal(found.length, 1, `compare: ${type} ${key}`);
			got = samplesOf(found[0], startS);
			assert.equal(got.size, nSteps, 'compare: a sample for every step');
			for (let k = 0; k < nSteps; k++) assert.equal(got.get(k), w.has(k) ? w.get(k).length : 0, `compare ${type} step ${k}`);
		}
		assert.equal(find('selection', 'status').length, 1, 'the selection holds errors only');
		const bySvc = groupBy(spans, startS, endS, all, svc);
		const svcSums = [...bySvc].map(([k, w]) => [k, [...w.values()].reduce((a, v) => a + v.length, 0)]);
		const errSvcs = new Set(spans.filter((s) => s.error).map(svc));
		assert.equal(find('baseline', 'resource.service.name').length, Math.min(2, svcSums.length));
		assert.equal(find('selection', 'resource.service.name').length, Math.min(2, errSvcs.size));
		if (svcSums.length > 2) {
			assert.ok(series.some((s) => s.labels[0].key === '__meta_error' && s.labels[1].key === 'resource.service.name' &&
				s.samples.length === 0), 'compare: services over the top 2 are flagged');
		}
		const ci = await metrics(server, 'query', '{} | compare({status=error})', { start: String(startS), end: String(endS) });
		assert.equal(ci.status, 200, ci.text.slice(0, 300));
		const sel = ci.json.series.find((s) => s.labels[0].value.stringValue === 'selection_total' && s.labels[1].key === 'name');
		assert.equal(sel.value, [...errs.values()].reduce((a, v) => a + v.length, 0), 'compare instant: the errors');

		// refusals
		const bad = [
			['{status=error}', 400, /use \/api\/search/],
			['{status=} | rate()', 400, /^1:9: /],
			['{} | compare({status=error}) | topk(1)', 400, /compare\(\) takes no second stage/],
			['({} | rate()) + ({} | count_over_time())', 400, /not supported yet/],
		];
		for (const [q, status, msg] of bad) {
			const e = await metrics(server, 'query_range', q, { start: String(startS), end: String(endS), step: `${STEP_S}s` });
			assert.equal(e.status, status, `${q}: ${e.text}`);
			assert.match(e.json.error.message, msg, q);
		}
		// one series per span is within the series limit (100,000)
		series = await range(server, '{} | count_over_time() by (span:id)', startS, endS);
		assert.ok(series.length >= 20000, `one series per span: ${series.length}`);
		for (const params of [{ start: 'yesterday' }, { end: '2026-13-01T00:00:00Z' }, { since: 'x' }, { step: '0s' },
			{ step: '1ms' }, { start: String(endS), end: String(startS) }]) {
			const e = await metrics(server, 'query_range', '{} | rate()', params);
			assert.equal(e.status, 400, `${JSON.stringify(params)}: ${e.text}`);
		}
		const e = await metrics(server, 'query_range', '', {});
		assert.equal(e.status, 400);
	} finally {
		await server.stop();
		rmSync(dir, { recursive: true, force: true });
	}
});
