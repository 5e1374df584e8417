// Home: the live service map (services and inferred dependencies, laid out
// by dagre, drawn as SVG) with rate, errors and latency on nodes and edges,
// coloured by health; beside it firing alerts and the largest latency
// regressions of the last hour. Hover shows the figures, click opens the
// service page.
import dagre from '@dagrejs/dagre';
import { GraphNode, ServiceGraph, api, label } from '../api';
import { Ctx, View } from '../app';
import { clear, emptyState, errorState, h, link, markOnce } from '../dom';
import { fmtMs, fmtPct, fmtRate, healthClass } from '../format';
import { buildUrl } from '../url';
import { firingPanel } from './alerts';
import { fill } from './service';

const SVG = 'http://www.w3.org/2000/svg';
function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
	const el = document.createElementNS(SVG, tag);
	for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
	if (text !== undefined) el.textContent = text;
	return el;
}

export function serviceMap(ctx: Ctx, g: ServiceGraph): Element {
	if (!g.nodes.length) return emptyState('No services yet', 'Send spans to clew (OTLP on :4317/:4318, Zipkin on :9411) or run `clew gen`.');
	const dg = new dagre.graphlib.Graph();
	dg.setGraph({ rankdir: 'LR', nodesep: 12, ranksep: 60, marginx: 10, marginy: 10 });
	dg.setDefaultEdgeLabel(() => ({}));
	const W = 150, H = 40;
	for (const n of g.nodes) dg.setNode(n.id, { width: W, height: H });
	for (const e of g.edges) if (dg.hasNode(e.source) && dg.hasNode(e.target) && e.source !== e.target) dg.setEdge(e.source, e.target);
	dagre.layout(dg);
	const gg = dg.graph();
	const width = (gg.width || 600) + 20, height = (gg.height || 400) + 20;
	const svg = s('svg', { class: 'map', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'xMidYMin meet', style: `max-width:${width}px`, role: 'img', 'aria-label': 'Service map' });
	const defs = s('defs', {});
	const marker = s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' });
	marker.appendChild(s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
	defs.appendChild(marker);
	svg.appendChild(defs);
	const tip = h('div', { class: 'map-tip', hidden: true });
	const show = (ev: MouseEvent, text: string) => { tip.hidden = false; tip.textContent = text; tip.style.left = `${ev.offsetX + 12}px`; tip.style.top = `${ev.offsetY + 12}px`; };
	for (const e of g.edges) {
		if (!dg.hasEdge(e.source, e.target)) continue;
		const pts = dg.edge(e.source, e.target).points as { x: number; y: number }[];
		const d = pts.map((p, i) => `${i ? 'L' : 'M'} ${p.x} ${p.y}`).join(' ');
		const hc = healthClass(e.errorRate, e.p99);
		const path = s('path', { d, class: `edge ${hc}`, 'marker-end': 'url(#arrow)', 'stroke-width': Math.min(4, 1 + Math.log10(1 + e.rate * 10)) });
		const text = `${e.source} → ${e.target}: ${fmtRate(e.rate)}, errors ${fmtPct(e.errorRate)}, p50 ${fmtMs(e.p50)}, p99 ${fmtMs(e.p99)}`;
		path.addEventListener('mousemove', (ev) => show(ev as MouseEvent, text));
		path.addEventListener('mouseleave', () => { tip.hidden = true; });
		path.appendChild(s('title', {}, text));
		svg.appendChild(path);
	}
	for (const n of g.nodes) {
		const p = dg.node(n.id);
		if (!p) continue;
		const hc = healthClass(n.errorRate, n.p99);
		const url = buildUrl({ page: 'service', service: n.name }, {}, ctx.range);
		const a = s('a', { href: url, 'data-nav': '1', class: `node ${hc} kind-${n.kind}`, 'data-service': n.name, tabindex: 0 });
		a.appendChild(s('rect', { x: p.x - W / 2, y: p.y - H / 2, width: W, height: H, rx: 6 }));
		a.appendChild(s('text', { x: p.x, y: p.y - 4, class: 'n-name', 'text-anchor': 'middle' }, n.name.length > 22 ? `${n.name.slice(0, 21)}…` : n.name));
		a.appendChild(s('text', { x: p.x, y: p.y + 11, class: 'n-stats', 'text-anchor': 'middle' }, `${fmtRate(n.rate)} · ${fmtPct(n.errorRate)} · p99 ${fmtMs(n.p99)}`));
		const text = `${n.name} (${n.kind}${n.team ? `, ${n.team}` : ''}): ${fmtRate(n.rate)}, errors ${fmtPct(n.errorRate)}, p50 ${fmtMs(n.p50)}, p99 ${fmtMs(n.p99)}`;
		a.appendChild(s('title', {}, text));
		a.addEventListener('mousemove', (ev) => show(ev as MouseEvent, text));
		a.addEventListener('mouseleave', () => { tip.hidden = true; });
		svg.appendChild(a);
	}
	return h('div', { class: 'map-wrap' }, svg as unknown as HTMLElement, tip);
}

function healthList(ctx: Ctx, nodes: GraphNode[]): HTMLElement {
	const bad = nodes.filter((n) => healthClass(n.errorRate, n.p99) !== 'ok').sort((a, b) => b.errorRate - a.errorRate || b.p99 - a.p99);
	if (!bad.length) return h('div', { class: 'muted' }, 'Every service is within its error and latency bounds.');
	return h('ul', { class: 'plain' }, bad.slice(0, 8).map((n) => h('li', { class: `health-${healthClass(n.errorRate, n.p99)}` },
		link(buildUrl({ page: 'service', service: n.name }, {}, ctx.range), n.name), h('span', { class: 'muted' }, ` errors ${fmtPct(n.errorRate)}, p99 ${fmtMs(n.p99)}`))));
}

export function homeView(ctx: Ctx): View {
	const el = h('div', { class: 'view home' });
	const map = h('div', { class: 'panel map-panel' });
	const alerts = h('div');
	const health = h('div');
	const regress = h('div');
	el.append(h('div', { class: 'home-grid' },
		h('div', null, h('h2', null, 'Service map'), map),
		h('div', { class: 'side' },
			h('section', { class: 'panel' }, h('h3', null, 'Firing alerts'), alerts),
			h('section', { class: 'panel' }, h('h3', null, 'Unhealthy now'), health),
			h('section', { class: 'panel' }, h('h3', null, 'Largest regressions, last hour'), regress))));
	let first = true;
	const load = () => {
		const [start, end] = ctx.window();
		const p = api.graph(start, end, ctx.signal);
		if (first) {
			fill(map, 'Service map', p, (g) => serviceMap(ctx, g));
			// after fill has put the map in the page: the first-view figure
			// the browser test reads (navigation start to the map drawn)
			p.then(() => markOnce('clew:map-rendered')).catch(() => { /* fill shows it */ });
		}
		else p.then((g) => { clear(map); map.appendChild(serviceMap(ctx, g)); }).catch(() => { /* keep the last map */ });
		first = false;
		p.then((g) => { clear(health); health.appendChild(healthList(ctx, g.nodes)); }).catch((e) => { clear(health); health.appendChild(errorState('Service graph failed', e)); });
		firingPanel(ctx, alerts);
		// p99 per service: the last 10 minutes against the 50 before them
		const now = Date.now();
		fill(regress, 'Regressions', api.metrics('{ kind = server } | quantile_over_time(duration, .99) by (resource.service.name)', now - 3600000, now, 600, ctx.signal), (r) => {
			const rows = r.series.map((sr) => {
				const v = sr.samples.filter((x) => Number.isFinite(x.value) && x.value > 0);
				if (v.length < 2) return null;
				const last = v[v.length - 1].value;
				const base = v.slice(0, -1).map((x) => x.value).sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];
				return { svc: label(sr, 'resource.service.name'), last: last * 1000, base: base * 1000, ratio: last / base };
			}).filter((x): x is NonNullable<typeof x> => !!x && x.ratio > 1.2).sort((a, b) => b.ratio - a.ratio).slice(0, 8);
			if (!rows.length) return h('div', { class: 'muted' }, 'No service got slower in the last hour.');
			return h('table', { class: 'grid' }, h('tbody', null, rows.map((x) => h('tr', null,
				h('td', null, link(buildUrl({ page: 'service', service: x.svc }, {}, ctx.range), x.svc)),
				h('td', { class: 'num' }, `p99 ${fmtMs(x.base)} → ${fmtMs(x.last)}`), h('td', { class: 'num err' }, `×${x.ratio.toFixed(1)}`)))));
		});
	};
	load();
	return { el, refresh: load };
}
