// clew's web UI: the app shell (navigation, time-range picker with live
// mode, theme), the client-side router over history.pushState, and the
// views. All state is in the URL; a reload or a shared link opens the same
// view.
import { Ctx, View, makeCtx } from './app';
import { clear, errorState, h } from './dom';
import { PRESETS, Route, TimeRange, buildUrl, canLive, parseRoute, rangeFromParams, rangeLabel } from './url';
import { homeView } from './views/home';
import { exploreView } from './views/explore';
import { traceView } from './views/trace';
import { serviceView } from './views/service';
import { customersView } from './views/customers';
import { alertsView } from './views/alerts';
import { rulesView } from './views/rules';
import { catalogView } from './views/catalog';
import { dashboardsView } from './views/dashboards';
import { slosView } from './views/slos';

const LIVE_MS = 10000;
let current: View | null = null;
let abort: AbortController | null = null;
let liveTimer: number | undefined;

const app = document.getElementById('app')!;
const main = h('main', { id: 'main', tabindex: '-1' });
const rangeBtn = h('button', { class: 'range-btn', 'aria-haspopup': 'true', title: 'Time range' });
const liveBtn = h('button', { class: 'live-btn', 'aria-pressed': 'false', title: `Live: refresh every ${LIVE_MS / 1000} s` }, 'Live');
const themeBtn = h('button', { class: 'theme-btn', title: 'Light or dark theme', 'aria-label': 'Toggle theme' }, '◐');
const rangeMenu = h('div', { class: 'range-menu', hidden: true, role: 'menu' });
const navLinks: Record<string, HTMLAnchorElement> = {
	home: h('a', { href: '/', 'data-nav': '1' }, 'Service map'),
	explore: h('a', { href: '/explore', 'data-nav': '1' }, 'Explore'),
	customers: h('a', { href: '/customers', 'data-nav': '1' }, 'Customers'),
	alerts: h('a', { href: '/alerts', 'data-nav': '1' }, 'Alerts'),
	slos: h('a', { href: '/slos', 'data-nav': '1' }, 'SLOs'),
	dashboards: h('a', { href: '/dashboards', 'data-nav': '1' }, 'Dashboards'),
	catalog: h('a', { href: '/catalog', 'data-nav': '1' }, 'Catalog'),
};
const header = h('header', { class: 'topbar' },
	h('a', { class: 'brand', href: '/', 'data-nav': '1' }, 'clew'),
	h('nav', null, navLinks.home, navLinks.explore, navLinks.customers, navLinks.alerts, navLinks.slos, navLinks.dashboards, navLinks.catalog),
	h('div', { class: 'spacer' }),
	h('div', { class: 'range' }, rangeBtn, rangeMenu), liveBtn, themeBtn);
clear(app);
app.append(header, main);

function navigate(url: string, replace = false): void {
	if (replace) history.replaceState(null, '', url); else history.pushState(null, '', url);
	render();
	window.scrollTo(0, 0);
}

function setRange(r: TimeRange): void {
	const p = new URLSearchParams(location.search);
	const route = parseRoute(location.pathname);
	const params: Record<string, string> = {};
	p.forEach((v, k) => { if (k !== 'from' && k !== 'to' && k !== 'live') params[k] = v; });
	navigate(buildUrl(route, params, r));
}

function buildRangeMenu(r: TimeRange): void {
	clear(rangeMenu);
	for (const p of PRESETS) {
		rangeMenu.appendChild(h('button', {
			role: 'menuitem', class: p.from === r.from && r.to === 'now' ? 'sel' : '',
			onclick: () => { rangeMenu.hidden = true; setRange({ from: p.from, to: 'now', live: r.live }); },
		}, p.label));
	}
	const fromIn = h('input', { type: 'datetime-local', 'aria-label': 'From' });
	const toIn = h('input', { type: 'datetime-local', 'aria-label': 'To' });
	rangeMenu.appendChild(h('form', {
		class: 'abs', onsubmit: (e: Event) => {
			e.preventDefault();
			const a = Date.parse(fromIn.value), b = Date.parse(toIn.value);
			if (Number.isFinite(a) && Number.isFinite(b) && a < b) { rangeMenu.hidden = true; setRange({ from: String(a), to: String(b), live: false }); }
		},
	}, h('label', null, 'From ', fromIn), h('label', null, 'To ', toIn), h('button', { type: 'submit' }, 'Apply')));
}

function updateChrome(route: Route, r: TimeRange): void {
	for (const [k, a] of Object.entries(navLinks)) a.classList.toggle('active', route.page === k || (k === 'alerts' && route.page === 'rules'));
	rangeBtn.textContent = `${rangeLabel(r)} ▾`;
	liveBtn.setAttribute('aria-pressed', String(r.live && canLive(r)));
	liveBtn.classList.toggle('on', r.live && canLive(r));
	(liveBtn as HTMLButtonElement).disabled = !canLive(r);
	buildRangeMenu(r);
}

function viewFor(ctx: Ctx): View {
	switch (ctx.route.page) {
	case 'home': return homeView(ctx);
	case 'explore': return exploreView(ctx);
	case 'trace': return traceView(ctx, ctx.route.traceId);
	case 'service': return serviceView(ctx, ctx.route.service);
	case 'customers': return customersView(ctx);
	case 'alerts': return alertsView(ctx);
	case 'rules': return rulesView(ctx, ctx.route.ruleId);
	case 'catalog': return catalogView(ctx);
	case 'slos': return slosView(ctx, ctx.route.sloId);
	case 'dashboards': return dashboardsView(ctx, ctx.route.dashboardId);
	default: return { el: errorState('Page not found', `Nothing lives at ${location.pathname}. Try the service map or explore.`) };
	}
}

function render(): void {
	current?.dispose?.();
	abort?.abort();
	abort = new AbortController();
	window.clearInterval(liveTimer);
	const route = parseRoute(location.pathname);
	const ctx = makeCtx(route, location.search, (u) => navigate(u), abort.signal);
	updateChrome(route, ctx.range);
	document.title = `clew · ${route.page === 'trace' ? `trace ${route.traceId.slice(0, 8)}` : route.page === 'service' ? route.service : route.page === 'rules' ? 'alert rules' : route.page}`;
	clear(main);
	try {
		current = viewFor(ctx);
	} catch (e) {
		console.warn(e);
		current = { el: errorState('This view failed to render', e) };
	}
	main.appendChild(current.el);
	if (ctx.range.live && canLive(ctx.range) && current.refresh) {
		const v = current;
		liveTimer = window.setInterval(() => { if (!document.hidden) v.refresh?.(); }, LIVE_MS);
	}
}

document.addEventListener('click', (e) => {
	const a = (e.target as Element).closest?.('a[data-nav]') as HTMLAnchorElement | null;
	if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
	const u = new URL(a.href, location.href);
	if (u.origin !== location.origin) return;
	e.preventDefault();
	// keep the time range when moving between views
	const r = rangeFromParams(new URLSearchParams(location.search));
	const p = new URLSearchParams(u.search);
	if (!p.has('from') && !p.has('to') && !p.has('live')) {
		const params: Record<string, string> = {};
		p.forEach((v, k) => { params[k] = v; });
		navigate(buildUrl(parseRoute(u.pathname), params, r));
	} else {
		navigate(u.pathname + u.search);
	}
});
rangeBtn.addEventListener('click', () => { rangeMenu.hidden = !rangeMenu.hidden; });
document.addEventListener('keydown', (e) => {
	if (e.key === 'Escape') rangeMenu.hidden = true;
	const tag = (e.target as HTMLElement).tagName;
	if (tag === 'INPUT' || tag === 'TEXTAREA' || e.ctrlKey || e.metaKey || e.altKey) return;
	if (e.key === 'g') navigate('/');
	else if (e.key === 'e') navigate('/explore' + location.search.replace(/([?&])(q|span|sel|signal|brush)=[^&]*/g, '$1'));
	else if (e.key === '/') {
		const q = document.querySelector<HTMLElement>('[data-focus="/"]');
		if (q) { e.preventDefault(); q.focus(); }
	}
});
document.addEventListener('click', (e) => {
	if (!rangeMenu.hidden && !(e.target as Element).closest('.range')) rangeMenu.hidden = true;
});
liveBtn.addEventListener('click', () => {
	const r = rangeFromParams(new URLSearchParams(location.search));
	setRange({ ...r, live: !r.live });
});
themeBtn.addEventListener('click', () => {
	const cur = document.documentElement.dataset.theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
	const next = cur === 'dark' ? 'light' : 'dark';
	document.documentElement.dataset.theme = next;
	try { localStorage.setItem('clew.theme', next); } catch { /* private mode */ }
	render();
});
window.addEventListener('popstate', render);
render();
