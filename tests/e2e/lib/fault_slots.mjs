// Traffic with clew gen's fault scenarios one after another, each in a slot of
// its own (the first half without the fault, the second half with it), for
// the analysis tests: the records, the ground truth, and helpers to send
// them and to flush the server's head into blocks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { request } from './http.mjs';
import { CLEW_BIN } from './server.mjs';

const execFileP = promisify(execFile);

// clew gen --out with every scenario in its slot (slot seconds each, the fault
// from half on, rate simulated spans per second, seed 5), starting nine minutes
// ago on a whole minute; returns { t0, truth, records }.
export async function generateFaultSlots(dir, { scenarios, slot, half, rate }) {
	const t0 = Math.floor(Date.now() / 60000) * 60 - 9 * 60;
	const out = path.join(dir, 'spans.otlp');
	const args = ['gen', '--out', out, '--rate', 'max', '--clock-rate', String(rate), '--spans',
		String(slot * scenarios.length * rate), '--seed', '5', '--start', new Date(t0 * 1000).toISOString().replace('.000Z', 'Z')];
	scenarios.forEach((names, i) => names.forEach((n) => args.push('--fault', `${n}:start=${i * slot + half}s,duration=${half}s`)));
	const { stderr } = await execFileP(CLEW_BIN, args, { maxBuffer: 1 << 26 });
	const truth = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((t) => t.state === 'on');
	const buf = readFileSync(out);
	const records = [];
	for (let off = 0; off < buf.length;) {
		const len = buf.readUInt32LE(off);
		records.push(buf.subarray(off + 4, off + 4 + len));
		off += 4 + len;
	}
	return { t0, truth, records };
}

// POST each record to the server's OTLP/HTTP port; every answer must be 200.
export async function sendRecords(server, records) {
	for (const body of records) {
		const r = await request(server.url('otlpHttp', '/v1/traces'), { method: 'POST', body,
			headers: { 'content-type': 'application/x-protobuf' } });
		assert.equal(r.status, 200, r.body.toString());
	}
}

// POST /flush (with compact: /flush?compact=1); must answer 204.
export async function flushHead(server, compact) {
	const r = await request(server.url('http', `/flush${compact ? '?compact=1' : ''}`), { method: 'POST' });
	assert.equal(r.status, 204, r.body.toString());
}
