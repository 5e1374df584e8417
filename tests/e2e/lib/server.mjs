// Starts and stops `clew serve` for the end-to-end tests.
//
// Every server gets a fresh temporary data directory and port 0 on every
// listener; the chosen ports are read from the "listening:" lines clew logs
// to stderr, and the server counts as up once it logs "info ready". Only
// processes started here are ever signalled, always by their own pid.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const CLEW_BIN = process.env.CLEW_BIN || path.join(REPO_ROOT, 'build', 'release', 'clew');

// false when the binary exists, else the reason to skip (for node:test's skip option).
export const skipReason = existsSync(CLEW_BIN)
	? false
	: `clew binary not found at ${CLEW_BIN} (build it with 'make BUILD=release' or set CLEW_BIN)`;

const LISTEN_RE = /\binfo listening: (otlp-grpc|otlp-http|zipkin|http) (\S+):(\d+)\s*$/;
const READY_RE = /\binfo ready\b/;
const NAME_TO_KEY = { 'otlp-grpc': 'otlpGrpc', 'otlp-http': 'otlpHttp', zipkin: 'zipkin', http: 'http' };

// Every child still running when this process exits gets SIGKILL, so that a
// failed or interrupted test never leaves a clew behind.
const live = new Set();
process.on('exit', () => {
	for (const child of live) {
		try {
			process.kill(child.pid, 'SIGKILL');
		} catch {
			/* already gone */
		}
	}
});

function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

export class ClewServer {
	// opts: { args: [extra serve flags], dataDir, readyTimeoutMs, keepDataDir }
	constructor(opts = {}) {
		this.extraArgs = opts.args || [];
		this.readyTimeoutMs = opts.readyTimeoutMs || 20000;
		this.ownsDataDir = !opts.dataDir;
		this.dataDir = opts.dataDir || mkdtempSync(path.join(tmpdir(), 'clew-e2e-'));
		this.child = null;
		this.ports = {};
		this.host = '127.0.0.1';
		this.log = [];
		this.exit = null;
	}

	get pid() {
		return this.child ? this.child.pid : undefined;
	}

	// The last lines clew wrote to stderr, for failure messages.
	logTail(n = 40) {
		return this.log.slice(-n).join('\n');
	}

	url(listener, p = '') {
		const port = this.ports[listener];
		if (!port) throw new Error(`no port for listener ${listener}`);
		return `http://${this.host}:${port}${p}`;
	}

	async start() {
		if (this.child) throw new Error('clew already running');
		const args = [
			'serve',
			'--data-dir', this.dataDir,
			'--http', '127.0.0.1:0',
			'--otlp-grpc', '127.0.0.1:0',
			'--otlp-http', '127.0.0.1:0',
			'--zipkin', '127.0.0.1:0',
			...this.extraArgs,
		];
		this.ports = {};
		this.exit = null;
		const child = spawn(CLEW_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
		this.child = child;
		live.add(child);
		const exited = new Promise((resolve) => {
			child.on('exit', (code, signal) => {
				live.delete(child);
				this.exit = { code, signal };
				resolve(this.exit);
			});
		});
		this.exited = exited;
		let buffered = '';
		let readyResolve;
		const ready = new Promise((resolve) => {
			readyResolve = resolve;
		});
		const onLine = (line) => {
			this.log.push(line);
			if (this.log.length > 2000) this.log.splice(0, 1000);
			const m = LISTEN_RE.exec(line);
			if (m) {
				this.ports[NAME_TO_KEY[m[1]]] = Number(m[3]);
				this.host = m[2] === '0.0.0.0' ? '127.0.0.1' : m[2];
			}
			if (READY_RE.test(line)) readyResolve(true);
		};
		child.stderr.setEncoding('utf8');
		child.stderr.on('data', (chunk) => {
			buffered += chunk;
			let nl;
			while ((nl = buffered.indexOf('\n')) >= 0) {
				onLine(buffered.slice(0, nl));
				buffered = buffered.slice(nl + 1);
			}
		});
		child.stdout.setEncoding('utf8');
		child.stdout.on('data', (chunk) => {
			for (const line of chunk.split('\n')) if (line) this.log.push(`[stdout] ${line}`);
		});
		const spawnError = new Promise((resolve) => child.on('error', (e) => resolve(e)));
		let timer;
		const timeout = new Promise((resolve) => {
			timer = setTimeout(() => resolve('timeout'), this.readyTimeoutMs);
		});
		const outcome = await Promise.race([ready, exited, spawnError, timeout]);
		clearTimeout(timer);
		if (outcome !== true) {
			const why = outcome === 'timeout'
				? `did not log "info ready" within ${this.readyTimeoutMs} ms`
				: outcome instanceof Error
					? `could not be started: ${outcome.message}`
					: `exited early (code ${outcome.code}, signal ${outcome.signal})`;
			await this.kill();
			throw new Error(`clew serve ${why}\nargs: ${args.join(' ')}\nstderr:\n${this.logTail()}`);
		}
		for (const k of ['otlpGrpc', 'otlpHttp', 'zipkin', 'http']) {
			if (!this.ports[k]) {
				await this.kill();
				throw new Error(`clew serve logged ready but no "listening:" line for ${k}\nstderr:\n${this.logTail()}`);
			}
		}
		return this;
	}

	// SIGTERM, then SIGKILL after timeoutMs. Resolves to { code, signal }.
	async stop(timeoutMs = 10000) {
		const child = this.child;
		if (!child) return this.exit;
		if (this.exit === null) {
			process.kill(child.pid, 'SIGTERM');
			let timer;
			const t = new Promise((resolve) => {
				timer = setTimeout(() => resolve('timeout'), timeoutMs);
			});
			const r = await Promise.race([this.exited, t]);
			clearTimeout(timer);
			if (r === 'timeout') {
				this.log.push(`[e2e] clew did not exit ${timeoutMs} ms after SIGTERM; sending SIGKILL`);
				process.kill(child.pid, 'SIGKILL');
				await this.exited;
				this.exit.timedOut = true;
			}
		}
		this.child = null;
		return this.exit;
	}

	// SIGKILL at once (a crash). Resolves to { code, signal }.
	async kill() {
		const child = this.child;
		if (!child) return this.exit;
		if (this.exit === null) {
			try {
				process.kill(child.pid, 'SIGKILL');
			} catch {
				/* already gone */
			}
			await this.exited;
		}
		this.child = null;
		return this.exit;
	}

	// Start again on the same data directory (new ports).
	async restart({ crash = false } = {}) {
		if (crash) await this.kill();
		else await this.stop();
		return this.start();
	}

	// Lines of the log where a sanitizer (ASan, LSan, UBSan) reported an error.
	sanitizerReports() {
		return this.log.filter((l) => /AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer/.test(l));
	}

	// SIGTERM and check for a clean exit: status 0, no sanitizer report.
	// Returns a list of problems (empty when clean).
	async stopClean(timeoutMs = 20000) {
		const exit = await this.stop(timeoutMs);
		const problems = [];
		if (!exit || exit.code !== 0 || exit.signal !== null || exit.timedOut) {
			problems.push(`exit after SIGTERM: ${JSON.stringify(exit)}`);
		}
		problems.push(...this.sanitizerReports());
		if (problems.length) problems.push(`stderr:\n${this.logTail(30)}`);
		return problems;
	}

	// Resident set size of the server in bytes, from /proc/<pid>/status.
	rssBytes() {
		const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
		const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
		if (!m) throw new Error('no VmRSS in /proc status');
		return Number(m[1]) * 1024;
	}

	// Stop the server and remove its data directory (when it made it).
	async cleanup() {
		await this.stop();
		if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
	}
}

// Start a server with fresh data dir; opts as for ClewServer.
export async function startClew(opts = {}) {
	const s = new ClewServer(opts);
	await s.start();
	return s;
}

export { sleep };
