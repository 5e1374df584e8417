// HTTP/1.1 over a bare TCP socket, for requests that node:http will not
// send: bodies written while the server may already have answered, headers
// dribbled byte by byte, half-closed connections, idle connections.
import net from 'node:net';

function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

// Parse one HTTP/1.1 response from buf; returns null while incomplete.
export function parseResponse(buf, ended) {
	const headEnd = buf.indexOf('\r\n\r\n');
	if (headEnd < 0) return null;
	const head = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
	const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
	if (!m) throw new Error(`not an HTTP response: ${JSON.stringify(head[0])}`);
	const headers = {};
	for (const line of head.slice(1)) {
		const i = line.indexOf(':');
		if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
	}
	const rest = buf.subarray(headEnd + 4);
	let body;
	if (headers['content-length'] !== undefined) {
		const n = Number(headers['content-length']);
		if (rest.length < n) return null;
		body = rest.subarray(0, n);
	} else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
		const parts = [];
		let off = 0;
		for (;;) {
			const eol = rest.indexOf('\r\n', off);
			if (eol < 0) return null;
			const size = parseInt(rest.subarray(off, eol).toString('latin1'), 16);
			if (Number.isNaN(size)) throw new Error('bad chunk size');
			if (size === 0) break;
			if (rest.length < eol + 2 + size + 2) return null;
			parts.push(rest.subarray(eol + 2, eol + 2 + size));
			off = eol + 2 + size + 2;
		}
		body = Buffer.concat(parts);
	} else {
		if (!ended) return null;
		body = rest;
	}
	return { status: Number(m[1]), headers, body };
}

// Open a connection to 127.0.0.1:port.
export function connect(port) {
	return new Promise((resolve, reject) => {
		const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
		s.once('error', reject);
	});
}

// Send pieces (Buffers or strings) on a fresh connection, pausing delayMs
// between pieces; halfClose ends our side after the last piece. Resolves
// with the parsed response as soon as it is complete (write errors after
// the server answered, e.g. it refused a body early, are ignored), or
// { status: 0, closed: true, raw } when the server closed without one.
export async function exchange(port, pieces, { delayMs = 0, halfClose = false, timeoutMs = 30000 } = {}) {
	const sock = await connect(port);
	const chunks = [];
	let done = false;
	const result = new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			done = true;
			sock.destroy();
			reject(new Error(`no complete response within ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`));
		}, timeoutMs);
		const finish = (v) => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			sock.destroy();
			resolve(v);
		};
		sock.on('data', (c) => {
			chunks.push(c);
			try {
				const r = parseResponse(Buffer.concat(chunks), false);
				if (r) finish(r);
			} catch (e) {
				finish({ status: 0, error: e.message, raw: Buffer.concat(chunks) });
			}
		});
		const onEnd = () => {
			const buf = Buffer.concat(chunks);
			let r = null;
			try {
				r = parseResponse(buf, true);
			} catch {
				r = null;
			}
			finish(r || { status: 0, closed: true, raw: buf });
		};
		sock.on('end', onEnd);
		sock.on('close', onEnd);
		sock.on('error', () => {
			/* EPIPE / ECONNRESET after an early answer: judged by what was read */
		});
	});
	let wake = null;
	sock.on('close', () => wake && wake());
	(async () => {
		for (const p of pieces) {
			if (done || sock.destroyed) return;
			await new Promise((resolve) => {
				wake = resolve;
				if (!sock.write(p)) sock.once('drain', resolve);
				else resolve();
			});
			if (delayMs) await sleep(delayMs);
		}
		if (halfClose && !done && !sock.destroyed) sock.end();
	})().catch(() => {});
	return result;
}

// The head of a POST request with a body of bodyLength bytes.
export function postHead(path, contentType, bodyLength, extra = {}) {
	let h = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${contentType}\r\nContent-Length: ${bodyLength}\r\n`;
	for (const [k, v] of Object.entries(extra)) h += `${k}: ${v}\r\n`;
	return `${h}\r\n`;
}
