// Home: the live service map (services and inferred dependencies, laid out
// by dagre, drawn as SVG) with rate, errors and latency on nodes and edges,
// coloured by health; beside it firing alerts and the largest latency
// regressions of the last hour. Hover shows the figures, click opens the
// service page. The map fits the screen when first drawn and zooms (wheel
// around the cursor, + - 0, buttons) and pans (drag, arrow keys); a find
// box highlights services by name and Enter centres one (?focus=name).
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

// The map's transform: screen = world * k + (x, y), in CSS pixels of the
// map's viewport.
export interface MapView { x: number; y: number; k: number }

export const MAX_ZOOM = 4;
const FIT_MAX_ZOOM = 1.5; // a small graph is not blown up past this
const ZOOM_STEP = 1.25;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

// The view that shows a gw x gh graph whole and centred in a vw x vh
// viewport, pad pixels from its edges.
export function fitView(gw: number, gh: number, vw: number, vh: number, pad = 16): MapView {
	const k = clamp(Math.min((vw - 2 * pad) / Math.max(gw, 1), (vh - 2 * pad) / Math.max(gh, 1), FIT_MAX_ZOOM), 0.01, MAX_ZOOM);
	return { k, x: (vw - gw * k) / 2, y: (vh - gh * k) / 2 };
}

// v zoomed by factor (the zoom kept within [minK, MAX_ZOOM]) so that the
// world point under viewport point (px, py) stays under it.
export function zoomAt(v: MapView, factor: number, px: number, py: number, minK: number): MapView {
	const k = clamp(v.k * (Number.isFinite(factor) && factor > 0 ? factor : 1), minK, MAX_ZOOM);
	const f = k / v.k;
	return { k, x: px - (px - v.x) * f, y: py - (py - v.y) * f };
}

// The view at zoom k with world point (wx, wy) in the middle of a vw x vh
// viewport.
export function centreOn(wx: number, wy: number, vw: number, vh: number, k: number): MapView {
	return { k, x: vw / 2 - wx * k, y: vh / 2 - wy * k };
}

// The names matching a find box query, case-insensitively: the exact name
// first, then names starting with it, then names containing it, each in
// name order. An empty query matches nothing.
export function findServices(names: string[], query: string): string[] {
	const q = query.trim().toLowerCase();
	if (!q) return [];
	const rank = (n: string) => { const l = n.toLowerCase(); return l === q ? 0 : l.startsWith(q) ? 1 : l.includes(q) ? 2 : 3; };
	return names.filter((n) => rank(n) < 3).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

// What the map keeps across redraws (live mode): the zoom, the find query,
// the focused service.
export interface MapState { view: MapView | null; query: string; focus: string | null }

interface MapCtl { el: HTMLElement; key(e: KeyboardEvent): void }

export function serviceMap(ctx: Ctx, g: ServiceGraph, st: MapState = { view: null, query: '', focus: null }): MapCtl {
	if (!g.nodes.length) return { el: emptyState('No services yet', 'Send spans to clew (OTLP on :4317/:4318, Zipkin on :9411) or run `clew gen`.'), key: () => undefined };
	const dg = new dagre.graphlib.Graph();
	dg.setGraph({ rankdir: 'LR', nodesep: 12, ranksep: 60, marginx: 10, marginy: 10 });
	dg.setDefaultEdgeLabel(() => ({}));
	const W = 150, H = 40;
	for (const n of g.nodes) dg.setNode(n.id, { width: W, height: H });
	for (const e of g.edges) if (dg.hasNode(e.source) && dg.hasNode(e.target) && e.source !== e.target) dg.setEdge(e.source, e.target);
	dagre.layout(dg);
	const gg = dg.graph();
	const width = (gg.width || 600) + 20, height = (gg.height || 400) + 20;
	const svg = s('svg', { class: 'map', role: 'img', 'aria-label': 'Service map' });
	const defs = s('defs', {});
	const marker = s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto-start-reverse' });
	marker.appendChild(s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
	defs.appendChild(marker);
	svg.appendChild(defs);
	const layer = s('g', { class: 'map-view' });
	svg.appendChild(layer);
	const tip = h('div', { class: 'map-tip', hidden: true });
	const viewport = h('div', { class: 'map-viewport' }, svg as unknown as HTMLElement, tip);
	const show = (ev: MouseEvent, text: string) => {
		if (drag?.moved) return;
		const r = viewport.getBoundingClientRect();
		tip.hidden = false;
		tip.textContent = text;
		tip.style.left = `${ev.clientX - r.left + 12}px`;
		tip.style.top = `${ev.clientY - r.top + 12}px`;
	};
	const edgeEls: SVGPathElement[] = [];
	for (const e of g.edges) {
		if (!dg.hasEdge(e.source, e.target)) continue;
		const pts = dg.edge(e.source, e.target).points as { x: number; y: number }[];
		const d = pts.map((p, i) => `${i ? 'L' : 'M'} ${p.x} ${p.y}`).join(' ');
		const hc = healthClass(e.errorRate, e.p99);
		const path = s('path', { d, class: `edge ${hc}`, 'marker-end': 'url(#arrow)', 'stroke-width': Math.min(4, 1 + Math.log10(1 + e.rate * 10)) });
		path.dataset.source = e.source;
		path.dataset.target = e.target;
		const text = `${e.source} → ${e.target}: ${fmtRate(e.rate)}, errors ${fmtPct(e.errorRate)}, p50 ${fmtMs(e.p50)}, p99 ${fmtMs(e.p99)}`;
		path.addEventListener('mousemove', (ev) => show(ev as MouseEvent, text));
		path.addEventListener('mouseleave', () => { tip.hidden = true; });
		path.appendChild(s('title', {}, text));
		layer.appendChild(path);
		edgeEls.push(path);
	}
	const nodeEls = new Map<string, { el: SVGAElement; x: number; y: number; id: string }>();
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
		layer.appendChild(a);
		nodeEls.set(n.name, { el: a, x: p.x, y: p.y, id: n.id });
	}
	const names = [...nodeEls.keys()];

	// zoom and pan
	const kept = st.view; // the view of the last draw (live mode), kept
	let view: MapView = kept || { x: 0, y: 0, k: 1 };
	let placed = false; // the first view applied, once the viewport has a size
	let touched = !!kept; // zoomed or panned by hand: a resize keeps the view
	const size = () => ({ w: viewport.clientWidth, h: viewport.clientHeight });
	const fitted = () => { const { w, h: vh } = size(); return fitView(width, height, w, vh); };
	const minZoom = () => Math.max(0.02, Math.min(0.5, fitted().k / 2));
	const apply = (v: MapView) => {
		view = v;
		st.view = v;
		layer.setAttribute('transform', `translate(${v.x.toFixed(2)} ${v.y.toFixed(2)}) scale(${v.k.toFixed(4)})`);
		svg.dataset.zoom = v.k.toFixed(4);
	};
	const fit = () => { touched = false; apply(fitted()); };
	const zoomBy = (factor: number, px?: number, py?: number) => {
		const { w, h: vh } = size();
		touched = true;
		apply(zoomAt(view, factor, px ?? w / 2, py ?? vh / 2, minZoom()));
	};
	const panBy = (dx: number, dy: number) => { touched = true; apply({ ...view, x: view.x + dx, y: view.y + dy }); };
	const centre = (name: string) => {
		const n = nodeEls.get(name);
		if (!n) return;
		const { w, h: vh } = size();
		touched = true;
		apply(centreOn(n.x, n.y, w, vh, Math.max(view.k, 1)));
	};

	// find: highlight by name, Enter centres the next match and focuses it
	const find = h('input', { type: 'search', class: 'map-find', placeholder: 'Find a service', 'aria-label': 'Find a service on the map', 'data-focus': '/', autocomplete: 'off', spellcheck: 'false' });
	const count = h('span', { class: 'map-find-count muted', 'aria-live': 'polite' });
	let matches: string[] = [];
	let next = 0;
	const setFocus = (name: string | null) => {
		st.focus = name;
		for (const [nm, n] of nodeEls) n.el.classList.toggle('focused', nm === name);
		const id = name ? nodeEls.get(name)?.id : undefined;
		for (const p of edgeEls) p.classList.toggle('linked', !!id && (p.dataset.source === id || p.dataset.target === id));
		svg.classList.toggle('has-focus', !!name);
	};
	const highlight = (q: string) => {
		st.query = q;
		matches = findServices(names, q);
		next = 0;
		const set = new Set(matches);
		for (const [nm, n] of nodeEls) n.el.classList.toggle('match', set.has(nm));
		svg.classList.toggle('filtering', !!q.trim());
		find.classList.toggle('nomatch', !!q.trim() && !matches.length);
		count.textContent = q.trim() ? (matches.length ? `${matches.length} of ${names.length}` : 'no match') : '';
	};
	find.value = st.query;
	find.addEventListener('input', () => highlight(find.value));
	find.addEventListener('keydown', (e) => {
		if (e.key === 'Enter') {
			e.preventDefault();
			if (!matches.length) return;
			const name = matches[next % matches.length];
			next++;
			setFocus(name);
			centre(name);
			ctx.setParams({ focus: name });
		} else if (e.key === 'Escape') {
			find.value = '';
			highlight('');
			setFocus(null);
			ctx.setParams({ focus: null });
		}
	});

	// drag to pan; a drag that moved is not a click on the node under it
	let drag: { id: number; sx: number; sy: number; v: MapView; moved: boolean } | null = null;
	let eatClick = false;
	viewport.addEventListener('pointerdown', (e) => {
		eatClick = false;
		if (e.button !== 0) return;
		drag = { id: e.pointerId, sx: e.clientX, sy: e.clientY, v: view, moved: false };
	});
	viewport.addEventListener('pointermove', (e) => {
		if (!drag || e.pointerId !== drag.id) return;
		const dx = e.clientX - drag.sx, dy = e.clientY - drag.sy;
		if (!drag.moved) {
			if (Math.hypot(dx, dy) < 4) return;
			drag.moved = true;
			tip.hidden = true;
			viewport.classList.add('panning');
			try { viewport.setPointerCapture(e.pointerId); } catch { /* the pointer is gone */ }
		}
		touched = true;
		apply({ ...drag.v, x: drag.v.x + dx, y: drag.v.y + dy });
	});
	const endDrag = (e: PointerEvent) => {
		if (!drag || e.pointerId !== drag.id) return;
		eatClick = drag.moved;
		drag = null;
		viewport.classList.remove('panning');
	};
	viewport.addEventListener('pointerup', endDrag);
	viewport.addEventListener('pointercancel', endDrag);
	viewport.addEventListener('click', (e) => {
		if (!eatClick) return;
		eatClick = false;
		e.preventDefault();
		e.stopPropagation();
	}, true);
	viewport.addEventListener('dragstart', (e) => e.preventDefault());
	viewport.addEventListener('wheel', (e) => {
		e.preventDefault();
		const r = viewport.getBoundingClientRect();
		const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaMode === 2 ? e.deltaY * r.height : e.deltaY;
		zoomBy(Math.exp(-clamp(dy, -300, 300) * 0.002), e.clientX - r.left, e.clientY - r.top);
	}, { passive: false });
	// a node reached by Tab is brought into view
	viewport.addEventListener('focusin', (e) => {
		const a = (e.target as Element).closest?.('.node') as SVGAElement | null;
		const name = a?.dataset.service;
		const n = name ? nodeEls.get(name) : undefined;
		if (!n) return;
		const { w, h: vh } = size();
		const sx = n.x * view.k + view.x, sy = n.y * view.k + view.y;
		if (sx < 0 || sy < 0 || sx > w || sy > vh) centre(n.el.dataset.service || '');
	});

	const btn = (cls: string, text: string, title: string, fn: () => void) => h('button', { type: 'button', class: cls, title, 'aria-label': title, onclick: fn }, text);
	const tools = h('div', { class: 'map-tools' }, find, count, h('div', { class: 'spacer' }),
		btn('map-zoom-out', '−', 'Zoom out (-)', () => zoomBy(1 / ZOOM_STEP)),
		btn('map-zoom-in', '+', 'Zoom in (+)', () => zoomBy(ZOOM_STEP)),
		btn('map-fit', 'Fit', 'Fit to screen (0)', fit));

	// the first view once the viewport has a size: the one kept from the
	// last draw, the focused service centred, or the whole map
	const place = () => {
		const { w, h: vh } = size();
		if (!w || !vh) return;
		if (!placed) {
			placed = true;
			if (st.query) highlight(st.query);
			if (st.focus && nodeEls.has(st.focus)) setFocus(st.focus);
			if (kept) apply(kept);
			else if (st.focus && nodeEls.has(st.focus)) centre(st.focus);
			else fit();
		} else if (!touched) {
			fit();
		}
	};
	apply(view);
	new ResizeObserver(place).observe(viewport);

	const key = (e: KeyboardEvent) => {
		if (!viewport.isConnected) return;
		const inMap = wrap.contains(e.target as Node);
		if (e.key === '+' || e.key === '=') zoomBy(ZOOM_STEP);
		else if (e.key === '-' || e.key === '_') zoomBy(1 / ZOOM_STEP);
		else if (e.key === '0') fit();
		else if (inMap && e.key === 'ArrowLeft') panBy(60, 0);
		else if (inMap && e.key === 'ArrowRight') panBy(-60, 0);
		else if (inMap && e.key === 'ArrowUp') panBy(0, 60);
		else if (inMap && e.key === 'ArrowDown') panBy(0, -60);
		else return;
		e.preventDefault();
	};
	const wrap = h('div', { class: 'map-wrap' }, tools, viewport);
	return { el: wrap, key };
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
	const focus = ctx.params.get('focus');
	const st: MapState = { view: null, query: focus || '', focus };
	let ctl: MapCtl | null = null;
	const draw = (g: ServiceGraph) => { ctl = serviceMap(ctx, g, st); return ctl.el; };
	// + - 0 zoom the map from anywhere on the page but a text field
	const onKey = (e: KeyboardEvent) => {
		const t = e.target as HTMLElement;
		if (e.ctrlKey || e.metaKey || e.altKey || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable) return;
		ctl?.key(e);
	};
	document.addEventListener('keydown', onKey);
	let first = true;
	const load = () => {
		const [start, end] = ctx.window();
		const p = api.graph(start, end, ctx.signal);
		if (first) {
			fill(map, 'Service map', p, draw);
			// after fill has put the map in the page: the first-view figure
			// the browser test reads (navigation start to the map drawn)
			p.then(() => markOnce('clew:map-rendered')).catch(() => { /* fill shows it */ });
		}
		else {
			p.then((g) => {
				// a redraw keeps the find box's focus, should the user be typing
				const typing = document.activeElement?.classList.contains('map-find');
				const el = draw(g);
				clear(map);
				map.appendChild(el);
				if (typing) el.querySelector<HTMLInputElement>('.map-find')?.focus();
			}).catch(() => { /* keep the last map */ });
		}
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
	return { el, refresh: load, dispose: () => document.removeEventListener('keydown', onKey) };
}
