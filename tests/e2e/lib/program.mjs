// A small traced program on the OpenTelemetry JS SDK: one checkout request
// traced across every span kind, with attributes of every type the SDK
// supports, events and links with attributes, an error status, a remote
// parent and a trace state, all at explicit nanosecond times. It exports
// through the given exporter and records the same ReadableSpans in an
// InMemorySpanExporter, which the tests compare against what clew returns.
import { SpanKind, SpanStatusCode, trace, context, TraceFlags } from '@opentelemetry/api';
import { TraceState, ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
	BasicTracerProvider,
	BatchSpanProcessor,
	InMemorySpanExporter,
	SimpleSpanProcessor,
	SamplingDecision,
} from '@opentelemetry/sdk-trace-base';
import { randomBytes } from 'node:crypto';

// Wraps an exporter and keeps every export result, so a test can assert that
// the real client saw success (processors only log failures).
export class RecordingExporter {
	constructor(inner) {
		this.inner = inner;
		this.results = [];
		this.exported = 0;
	}

	export(spans, done) {
		this.inner.export(spans, (result) => {
			this.results.push(result);
			if (result.code === ExportResultCode.SUCCESS) this.exported += spans.length;
			done(result);
		});
	}

	shutdown() {
		return this.inner.shutdown();
	}

	forceFlush() {
		return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve();
	}

	failures() {
		return this.results.filter((r) => r.code !== ExportResultCode.SUCCESS)
			.map((r) => (r.error ? `${r.error.name || 'Error'}: ${r.error.message} ${r.error.code !== undefined ? `(code ${r.error.code})` : ''}` : `code ${r.code}`));
	}
}

const TRACE_STATE = 'clew=e2e,vendor=t61rcWkgMzE';

// Samples everything and gives each new trace a trace state.
const sampler = {
	shouldSample: () => ({ decision: SamplingDecision.RECORD_AND_SAMPLED, traceState: new TraceState(TRACE_STATE) }),
	toString: () => 'clew-e2e-sampler',
};

// A time [seconds, nanos] `offsetNs` nanoseconds after base, cut down to a
// whole microsecond when micros is set.
function atTime(base, offsetNs, micros = false) {
	let total = BigInt(base[0]) * 1000000000n + BigInt(base[1]) + BigInt(offsetNs);
	if (micros) total -= ((total % 1000n) + 1000n) % 1000n;
	return [Number(total / 1000000000n), Number(total % 1000000000n)];
}

export const SPAN_ATTRIBUTES = {
	'http.request.method': 'GET',
	'http.route': '/checkout/{cart}',
	'http.response.status_code': 200,
	'clew.bool.true': true,
	'clew.bool.false': false,
	'clew.int.negative': -42,
	'clew.int.zero': 0,
	'clew.int.max_safe': 9007199254740991,
	'clew.double.pi': 3.141592653589793,
	'clew.double.tiny': 1.5e-7,
	'clew.double.negative': -2.5,
	'clew.double.planck': 6.62607015e-34,
	'clew.string.empty': '',
	'clew.string.unicode': 'naïve ☃ 日本語 "quoted" \\ back\nslash\ttab',
	'clew.array.strings': ['alpha', 'beta', ''],
	'clew.array.ints': [1, -2, 3000000000],
	'clew.array.doubles': [0.5, -1.25, 1e-9],
	'clew.array.bools': [true, false, true],
	'clew.array.empty': [],
};

// Run the program once. Returns { spans, traceIds: {checkout, upstream, remote}, recorder }.
// service: the service.name; exporter: an OTLP or Zipkin span exporter (or
// null for in-memory only); batch: use a BatchSpanProcessor (else Simple);
// wholeMicros: every time on a whole microsecond (else nanosecond digits).
export async function runCheckout({ service, exporter, batch = true, wholeMicros = false }) {
	const at = (b, off) => atTime(b, off, wholeMicros);
	const memory = new InMemorySpanExporter();
	const recorder = exporter ? new RecordingExporter(exporter) : null;
	const processors = [new SimpleSpanProcessor(memory)];
	if (recorder) {
		processors.push(batch
			? new BatchSpanProcessor(recorder, { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 600000, exportTimeoutMillis: 20000 })
			: new SimpleSpanProcessor(recorder));
	}
	const provider = new BasicTracerProvider({
		resource: resourceFromAttributes({
			'service.name': service,
			'service.version': '2.4.1',
			'service.namespace': 'shop',
			'deployment.environment.name': 'e2e',
			'host.name': 'e2e-host-1',
			'clew.resource.int': 42,
			'clew.resource.bool': true,
			'clew.resource.double': 0.25,
			'clew.resource.strings': ['eu-west-1', 'eu-west-1a'],
		}),
		sampler,
		spanLimits: { eventCountLimit: 6 },
		spanProcessors: processors,
	});
	const web = provider.getTracer('clew-e2e-web', '1.7.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
	const db = provider.getTracer('clew-e2e-db', '0.9.1');

	// Recent times (stores may refuse spans far in the past), with every
	// nanosecond digit significant.
	const base = [Math.floor(Date.now() / 1000) - 120, 123456789];

	// A separate upstream trace, the target of a link.
	const upstream = web.startSpan('enqueue cart', { kind: SpanKind.PRODUCER, startTime: at(base, -5000000001), attributes: { 'messaging.system': 'kafka' } });
	upstream.end(at(base, -4000000003));

	const root = web.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: at(base, 0), attributes: SPAN_ATTRIBUTES });
	root.addEvent('request.received', { 'net.bytes': 512, 'clew.flag': true }, at(base, 1001));
	root.addEvent('no-attributes', undefined, at(base, 2003));
	const rootCtx = trace.setSpan(context.active(), root);

	const query = db.startSpan('SELECT orders', {
		kind: SpanKind.CLIENT,
		startTime: at(base, 10000007),
		attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM orders WHERE id = $1', 'server.port': 5432, 'peer.service': 'orders-db' },
	}, rootCtx);
	query.addEvent('exception', {
		'exception.type': 'DeadlockDetected',
		'exception.message': 'deadlock detected',
		'exception.escaped': false,
		'clew.retry.delays': [0.5, 1.5],
	}, at(base, 30000011));
	query.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected while reading orders' });
	query.end(at(base, 30000013));

	const compute = web.startSpan('compute total', { kind: SpanKind.INTERNAL, startTime: at(base, 31000017) }, rootCtx);
	for (let i = 0; i < 8; i++) compute.addEvent(`step ${i}`, { 'clew.step': i, 'clew.step.name': `s${i}` }, at(base, 31000019 + i * 1000003));
	compute.setAttribute('clew.items', 3);
	compute.end(at(base, 45000023));

	const upstreamCtx = upstream.spanContext();
	const publish = web.startSpan('publish order', {
		kind: SpanKind.PRODUCER,
		startTime: at(base, 46000029),
		links: [{ context: upstreamCtx, attributes: { 'clew.link.reason': 'batched-from', 'clew.link.count': 2, 'clew.link.ok': true, 'clew.link.weight': 0.75 } }],
	}, rootCtx);
	publish.setStatus({ code: SpanStatusCode.OK });
	const publishCtx = trace.setSpan(rootCtx, publish);
	publish.end(at(base, 48000031));

	const consume = web.startSpan('consume order', {
		kind: SpanKind.CONSUMER,
		startTime: at(base, 50000037),
		attributes: { 'messaging.operation.type': 'process' },
	}, publishCtx);
	consume.addLink({ context: upstreamCtx, attributes: { 'clew.link.late': 'yes' } });
	consume.end(at(base, 60000041));

	root.setStatus({ code: SpanStatusCode.OK });
	root.end(at(base, 70000043));

	// A span whose parent came over the wire (a remote parent), in a third trace.
	const remoteParent = {
		traceId: randomBytes(16).toString('hex'),
		spanId: randomBytes(8).toString('hex'),
		traceFlags: TraceFlags.SAMPLED,
		isRemote: true,
		traceState: new TraceState('upstream=abc'),
	};
	const remoteCtx = trace.setSpanContext(context.active(), remoteParent);
	const handler = web.startSpan('handle webhook', { kind: SpanKind.SERVER, startTime: at(base, 80000047), attributes: { 'clew.remote': true } }, remoteCtx);
	handler.end(at(base, 80000049));

	// A failed export rejects the flush; the recorder keeps the failure
	// for the test to report.
	let flushError = null;
	try {
		await provider.forceFlush();
	} catch (e) {
		flushError = e;
	}
	// The in-memory exporter forgets its spans on shutdown: take them first.
	const spans = memory.getFinishedSpans().slice();
	await provider.shutdown().catch(() => {});
	return {
		spans,
		recorder,
		flushError,
		traceIds: { checkout: root.spanContext().traceId, upstream: upstreamCtx.traceId, remote: remoteParent.traceId },
	};
}
