// Builds clew's web UI into build/ui (index.html, app.js, app.css) with
// esbuild; with --tests, also bundles test/*.test.ts into build/ui-test/ for
// node's test runner. Nothing built is committed.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, '..', 'build', 'ui');
mkdirSync(out, { recursive: true });

await build({
	entryPoints: [path.join(here, 'src', 'main.ts')],
	bundle: true,
	minify: true,
	sourcemap: true,
	format: 'iife',
	target: 'es2020',
	outfile: path.join(out, 'app.js'),
	logLevel: 'warning',
});
const css = [
	readFileSync(path.join(here, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8'),
	readFileSync(path.join(here, 'src', 'app.css'), 'utf8'),
].join('\n');
writeFileSync(path.join(out, 'app.css'), css);
copyFileSync(path.join(here, 'index.html'), path.join(out, 'index.html'));

if (process.argv.includes('--tests')) {
	const testOut = path.resolve(here, '..', 'build', 'ui-test');
	mkdirSync(testOut, { recursive: true });
	const tests = readdirSync(path.join(here, 'test')).filter((f) => f.endsWith('.test.ts'));
	await build({
		entryPoints: tests.map((f) => path.join(here, 'test', f)),
		bundle: true,
		platform: 'node',
		format: 'esm',
		target: 'node20',
		outdir: testOut,
		outExtension: { '.js': '.mjs' },
		external: ['node:*'],
		logLevel: 'warning',
	});
}
