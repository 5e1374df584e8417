// Headless Chromium for the UI tests: Debian's /usr/bin/chromium driven by
// playwright-core. Each page collects console errors and uncaught
// exceptions, so a test can assert that a view logged none.
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CLEW_CHROMIUM || '/usr/bin/chromium';

let playwright = null;
try {
	playwright = await import('playwright-core');
} catch {
	playwright = null;
}

// false when a browser can be launched, else the reason to skip.
export const browserSkipReason = !playwright
	? 'playwright-core is not installed (scripts/deps.sh installs it)'
	: !existsSync(CHROMIUM) ? `no Chromium at ${CHROMIUM} (scripts/deps.sh installs Debian's chromium)` : false;

export async function launchBrowser() {
	return playwright.chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

// A page whose console errors and page errors land in page.problems.
// allow: predicate over a console message text + url to ignore (e.g. an
// endpoint that is not there yet and whose error state the view shows).
export async function newPage(browser, { allow = () => false, viewport = { width: 1440, height: 900 } } = {}) {
	const context = await browser.newContext({ viewport });
	const page = await context.newPage();
	page.problems = [];
	page.on('console', (m) => {
		if (m.type() !== 'error') return;
		const loc = m.location()?.url || '';
		if (!allow(m.text(), loc)) page.problems.push(`console: ${m.text()} ${loc}`);
	});
	page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
	page.on('requestfailed', (r) => {
		const f = r.failure()?.errorText || '';
		if (!/ERR_ABORTED/.test(f)) page.problems.push(`request failed: ${r.url()} ${f}`);
	});
	page.on('response', (r) => {
		if (r.status() >= 400 && !allow(`status ${r.status()}`, r.url())) page.problems.push(`HTTP ${r.status()} ${r.url()}`);
	});
	return page;
}
