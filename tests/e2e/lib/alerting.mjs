// Helpers the alerting e2e tests share: a local webhook receiver, `clew
// gen` in the background with its fault lines, JSON requests to the query
// port, and polling until something holds.
import { spawn } from 'node:child_process';
import http from 'node:http';

import { jsonOrUndefined, request, sleep } from './http.mjs';
import { CLEW_BIN } from './server.mjs';

// A webhook receiver on 127.0.0.1 recording each request: when it arrived
// (at) and was answered (doneAt), its path, its status and its body (parsed,
// or { unparsable }). answers: the status of the n-th request (then 200);
// delayMs: how long each answer waits; port: 0 for any free one.
export function receiver({ answers = [], delayMs = 0, port = 0 } = {}) {
	const got = [];
	const srv = http.createServer((req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			const text = Buffer.concat(chunks).toString('utf8');
			const status = got.length < answers.length ? answers[got.length] : 200;
			const rec = { at: Date.now(), doneAt: 0, path: req.url, status, body: null };
			try {
				rec.body = JSON.parse(text);
			} catch {
				rec.body = { unparsable: text };
			}
			got.push(rec);
			setTimeout(() => {
				rec.doneAt = Date.now();
				res.writeHead(status, { 'content-type': 'text/plain' });
				res.end(status === 200 ? 'ok' : 'try later');
			}, delayMs);
		});
	});
	return new Promise((resolve, reject) => {
		srv.on('error', reject);
		srv.listen(port, '127.0.0.1', () => {
			const p = srv.address().port;
			resolve({ srv, got, port: p, base: `http://127.0.0.1:${p}`, url: `http://127.0.0.1:${p}/hook` });
		});
	});
}

// `clew gen` sending to target with 20 accounts at rate spans a second;
// faults collects its fault lines as they come, edge(account, 'on'|'off')
// is when that account's fault turned on or off (ms, NaN before).
export function gen(target, args, { rate, seed }) {
	const child = spawn(CLEW_BIN, ['gen', '--target', target, '--rate', String(rate), '--accounts', '20', '--seed', String(seed),
		...args], { stdio: ['ignore', 'ignore', 'pipe'] });
	const faults = [];
	let buf = '';
	child.stderr.setEncoding('utf8');
	child.stderr.on('data', (c) => {
		buf += c;
		let nl;
		while ((nl = buf.indexOf('\n')) >= 0) {
			const line = buf.slice(0, nl);
			buf = buf.slice(nl + 1);
			if (line.startsWith('{"fault"')) faults.push(JSON.parse(line));
		}
	});
	const exited = new Promise((resolve) => child.on('exit', resolve));
	return {
		faults, exited,
		edge: (acct, state) => {
			const f = faults.find((x) => x.state === state && x.who['customer.id'] === acct);
			return f ? Date.parse(f.at) : NaN;
		},
		stop() {
			if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
			return exited;
		},
	};
}

// A request to the server's query port with a JSON body (a string is sent
// as it is); { status, json (undefined unless the answer is JSON), text }.
export async function send(server, method, path, body) {
	const r = await request(server.url('http', path), {
		method,
		headers: { 'content-type': 'application/json' },
		body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
	});
	const text = r.body.toString('utf8');
	return { status: r.status, json: jsonOrUndefined(text), text };
}

// fn's first truthy answer, asked every stepMs; throws after timeoutMs.
export async function until(what, fn, timeoutMs, stepMs = 200) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v) return v;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await sleep(stepMs);
	}
}

// The account a generic webhook notification is about.
export const webhookAccount = (n) => n.body.labels && n.body.labels['span.customer.id'];
