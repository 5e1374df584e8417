// The demo command in a short form: scripts/run.sh builds, starts clew serve
// and clew gen with faults cycling, serves the APIs, ingests, and stops
// cleanly (exit 0) when its time is up.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { getJson, sleep } from './lib/http.mjs';
import { REPO_ROOT } from './lib/server.mjs';

async function freePort() {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.listen(0, '127.0.0.1', () => {
			const { port } = srv.address();
			srv.close(() => resolve(port));
		});
		srv.on('error', reject);
	});
}

async function metric(base, name) {
	const text = await (await fetch(`${base}/metrics`)).text();
	let sum = 0;
	for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.split(' ').pop());
	return sum;
}

// The demo runs the release build whatever CLEW_BIN says; the sanitizer pass
// of the suite skips it.
const skip = process.env.CLEW_E2E_SANITIZER === '1' ? 'the demo runs the release build' : false;

test('the demo starts, serves the APIs, ingests and stops cleanly', { skip, timeout: 180000 }, async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'clew-demo-'));
	const [http, grpc, otlp, zipkin] = [await freePort(), await freePort(), await freePort(), await freePort()];
	const child = spawn('bash', [path.join(REPO_ROOT, 'scripts', 'run.sh'), '--data-dir', dir, '--host', '127.0.0.1',
		'--http-port', String(http), '--otlp-grpc-port', String(grpc), '--otlp-http-port', String(otlp),
		'--zipkin-port', String(zipkin), '--rate', '3000', '--for', '12'], { stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	child.stdout.on('data', (d) => (out += d));
	child.stderr.on('data', (d) => (out += d));
	const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
	try {
		const base = `http://127.0.0.1:${http}`;
		const t0 = Date.now();
		while (!out.includes('clew is running')) {
			assert.ok(Date.now() - t0 < 120000, `demo did not come up:\n${out}`);
			await sleep(100);
		}
		assert.ok(out.includes(`${base}/`), 'prints the URL to open');
		assert.equal((await getJson(`${base}/ready`)).status, 200);
		assert.equal((await getJson(`${base}/api/echo`)).text, 'echo');
		let received = 0;
		while (received === 0 && Date.now() - t0 < 120000) {
			await sleep(500);
			received = await metric(base, 'clew_spans_received_total');
		}
		assert.ok(received > 0, 'the generator\'s spans arrive');
		assert.ok((await metric(base, 'clew_head_spans')) > 0, 'and are held in the store');
		const code = await exited;
		assert.equal(code, 0, `demo exit status\n${out.slice(-2000)}`);
		assert.match(out, /stopped cleanly/);
		assert.match(readFileSync(path.join(dir, 'faults.log'), 'utf8'), /clew gen: \d+ spans/);
	} finally {
		if (child.exitCode === null) child.kill('SIGINT');
		await exited;
		rmSync(dir, { recursive: true, force: true });
	}
});
