// clew check: a sound data directory passes; a flipped byte in the WAL is
// found with its offset; --repair cuts it out, says how much it dropped, and
// the server starts again on the repaired directory.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { CLEW_BIN, skipReason, startClew } from './lib/server.mjs';

function check(...args) {
	const r = spawnSync(CLEW_BIN, ['check', ...args], { encoding: 'utf8' });
	return { code: r.status, out: r.stdout + r.stderr };
}

test('clew check finds, names and repairs WAL corruption', { skip: skipReason }, async () => {
	const server = await startClew();
	const dir = server.dataDir;
	try {
		const g = spawnSync(CLEW_BIN, ['gen', '--target', server.url('otlpHttp'), '--rate', 'max', '--spans', '20000',
			'--seed', '3', '--start', '2026-01-01T00:00:00Z'], { encoding: 'utf8' });
		assert.equal(g.status, 0, g.stderr);
		await server.stop();

		let r = check(dir);
		assert.equal(r.code, 0, r.out);
		assert.match(r.out, / 0 corrupt/);

		const walDir = path.join(dir, 'wal');
		const seg = readdirSync(walDir).filter((n) => n.endsWith('.log')).sort().pop();
		const file = path.join(walDir, seg);
		const buf = readFileSync(file);
		const at = Math.floor(buf.length / 2);
		buf[at] ^= 0xff;
		writeFileSync(file, buf);

		r = check(dir);
		assert.equal(r.code, 1, r.out);
		const m = r.out.match(/corrupt .*first bad record at offset (\d+)/);
		assert.ok(m, r.out);
		assert.ok(Number(m[1]) <= at, `bad offset ${m[1]} at or before the flipped byte ${at}`);

		r = check('--repair', dir);
		assert.equal(r.code, 0, r.out);
		assert.match(r.out, /repaired .* bytes dropped/);
		assert.ok(statSync(file).size <= Number(m[1]), 'truncated at the bad record');
		r = check(dir);
		assert.equal(r.code, 0, r.out);

		await server.start();
		const ready = await fetch(server.url('http', '/ready'));
		assert.equal(ready.status, 200);
	} finally {
		await server.cleanup();
	}
});

test('clew check refuses a missing directory and bad arguments', { skip: skipReason }, () => {
	assert.equal(check('/nonexistent/clew-data').code, 2);
	assert.equal(check('--bogus').code, 2);
	assert.equal(check().code, 2);
});
