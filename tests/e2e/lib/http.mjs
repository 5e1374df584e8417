// Small HTTP client helpers over node:http for the e2e tests: one request
// with full control of method, headers and body, JSON reads, and polling.
import http from 'node:http';

// the sanitizer build runs several times slower than the release build
const DEFAULT_TIMEOUT_MS = process.env.CLEW_E2E_SANITIZER === '1' ? 90000 : 30000;

// request(url, { method, headers, body, timeoutMs }) -> { status, headers, body: Buffer }
export function request(url, opts = {}) {
	return new Promise((resolve, reject) => {
		const req = http.request(url, {
			method: opts.method || (opts.body ? 'POST' : 'GET'),
			headers: opts.headers || {},
			agent: opts.agent || false,
		}, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
			res.on('error', reject);
		});
		req.setTimeout(opts.timeoutMs || DEFAULT_TIMEOUT_MS, () => req.destroy(new Error(`timeout: ${opts.method || 'GET'} ${url}`)));
		req.on('error', reject);
		if (opts.body) req.end(opts.body);
		else req.end();
	});
}

// text parsed as JSON, or undefined when it is not JSON.
export function jsonOrUndefined(text) {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

// GET url and parse JSON; returns { status, headers, json, text }.
export async function getJson(url, headers = {}) {
	const r = await request(url, { headers: { accept: 'application/json', ...headers } });
	const text = r.body.toString('utf8');
	return { status: r.status, headers: r.headers, json: jsonOrUndefined(text), text, body: r.body };
}

export function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

// GET url until it answers 200 (or timeoutMs passes); returns the last answer.
export async function getJsonUntilFound(url, timeoutMs = 5000, headers = {}) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const r = await getJson(url, headers);
		if (r.status !== 404 || Date.now() > deadline) return r;
		await sleep(100);
	}
}

// Describe a response for assertion messages.
export function describe(r) {
	const text = r.text !== undefined ? r.text : r.body ? r.body.toString('utf8') : '';
	return `HTTP ${r.status} ${JSON.stringify(r.headers && r.headers['content-type'])}: ${text.slice(0, 600)}`;
}
