// The trace view: a waterfall with one colour per service, the critical
// path drawn on the bars, a collapsible tree, span details (attributes,
// events, links, resource, scope), search within the trace, a hint where
// clock skew was corrected, and two traces side by side (?compare=<id>).
// Rows are virtualised, so 10,000-span traces scroll smoothly.
import { api } from '../api';
import { Ctx, View } from '../app';
import { clear, emptyState, errorState, h, link, loading, markOnce } from '../dom';
import { SERVICE_PALETTE, fmtDateTime, fmtMs, serviceColor as hashColor, traceColors } from '../format';
import {
	SpanNode, TraceModel, anyToString, barGeometry, buildTrace, criticalPath, criticalSpans, searchSpans, serviceSelfTime, visibleRows,
	KeyValue, CritSegment,
} from '../tracemodel';
import { buildUrl } from '../url';

const ROW_H = 24;

export function traceView(ctx: Ctx, traceId: string): View {
	const el = h('div', { class: 'view trace-view' });
	const compareId = (ctx.params.get('compare') || '').toLowerCase();
	if (compareId && /^[0-9a-f]{1,32}$/.test(compareId)) {
		el.classList.add('compare');
		const left = h('div', { class: 'pane' });
		const right = h('div', { class: 'pane' });
		el.append(h('div', { class: 'compare-head' }, h('h2', null, 'Compare traces'),
			h('button', { onclick: () => ctx.navigate(buildUrl({ page: 'trace', traceId }, { span: ctx.params.get('span') }, ctx.range)) }, 'Close comparison')),
		h('div', { class: 'compare-grid' }, left, right));
		// one colour per service across both panes
		const shared = new Map<string, string>();
		const palette = (services: string[]) => {
			for (const sv of services) if (!shared.has(sv)) shared.set(sv, SERVICE_PALETTE[shared.size % SERVICE_PALETTE.length]);
			return shared;
		};
		loadInto(ctx, traceId, left, true, palette);
		loadInto(ctx, compareId, right, true, palette);
	} else {
		loadInto(ctx, traceId, el, false);
	}
	return { el };
}

type Palette = (services: string[]) => Map<string, string>;

function loadInto(ctx: Ctx, traceId: string, el: HTMLElement, compact: boolean, palette: Palette = traceColors): void {
	el.appendChild(loading(`Loading trace ${traceId}`));
	api.trace(traceId, ctx.signal).then((raw) => {
		clear(el);
		if (!raw.spans || raw.spans.length === 0) {
			el.appendChild(emptyState('This trace has no spans', traceId));
			return;
		}
		const m = buildTrace(raw);
		el.appendChild(renderTrace(ctx, m, compact, palette));
	}).catch((e) => {
		if ((e as Error).name === 'AbortError') return;
		clear(el);
		el.appendChild(errorState((e as { status?: number }).status === 404 ? `Trace ${traceId} not found` : `Trace ${traceId} could not be loaded`, e));
	});
}

function kvTable(title: string, kvs: KeyValue[] | undefined): HTMLElement | null {
	if (!kvs || !kvs.length) return null;
	return h('section', null, h('h4', null, title), h('table', { class: 'kv' },
		h('tbody', null, kvs.map((kv) => h('tr', null, h('th', null, kv.key), h('td', null, anyToString(kv.value)))))));
}

function spanDetails(ctx: Ctx, m: TraceModel, n: SpanNode, crit: Map<string, number>, serviceColor: (s: string) => string = hashColor): HTMLElement {
	const raw = n.raw;
	const res = raw.resource !== undefined ? m.raw.resources?.[raw.resource] : undefined;
	const scope = raw.scope !== undefined ? m.raw.scopes?.[raw.scope] : undefined;
	const onPath = crit.get(n.id);
	return h('aside', { class: 'span-details', 'aria-label': 'Span details' },
		h('div', { class: 'sd-head' },
			h('span', { class: 'dot', style: `background:${serviceColor(n.service)}` }),
			h('div', null, h('div', { class: 'sd-name' }, n.name),
				h('div', { class: 'muted' }, link(buildUrl({ page: 'service', service: n.service }, {}, ctx.range), n.service), ` · ${raw.kind || ''} · ${n.id}`))),
		h('table', { class: 'kv' }, h('tbody', null,
			h('tr', null, h('th', null, 'Duration'), h('td', null, fmtMs(n.dur))),
			h('tr', null, h('th', null, 'Start'), h('td', null, `+${fmtMs(n.start)}`)),
			h('tr', null, h('th', null, 'Status'), h('td', { class: n.error ? 'err' : '' }, `${raw.status?.code || 'unset'}${raw.status?.message ? `: ${raw.status.message}` : ''}`)),
			h('tr', null, h('th', null, 'Critical path'), h('td', null, onPath ? `${fmtMs(onPath)} (${((onPath / m.durationMs) * 100).toFixed(0)}% of the trace)` : 'not on it')),
			n.skew ? h('tr', null, h('th', null, 'Clock skew'), h('td', { class: 'warn' }, 'outside its parent: the hosts\' clocks disagree')) : null)),
		kvTable('Attributes', raw.attributes),
		raw.events && raw.events.length ? h('section', null, h('h4', null, `Events (${raw.events.length})`),
			raw.events.map((ev) => h('div', { class: 'event' },
				h('div', null, h('b', null, ev.name), ' ', h('span', { class: 'muted' }, `+${fmtMs(Number(BigInt(ev.timeUnixNano) - m.startNs) / 1e6)}`)),
				kvTable('', ev.attributes)))) : null,
		raw.links && raw.links.length ? h('section', null, h('h4', null, 'Links'),
			raw.links.map((l) => h('div', null, link(buildUrl({ page: 'trace', traceId: l.traceId }, { span: l.spanId }), `${l.traceId.slice(0, 16)}… / ${l.spanId}`)))) : null,
		kvTable(`Resource${res?.serviceName ? ` (${res.serviceName})` : ''}`, res?.attributes),
		scope ? h('section', null, h('h4', null, 'Scope'), h('div', { class: 'muted' }, `${scope.name || ''} ${scope.version || ''}`), kvTable('', scope.attributes)) : null,
	);
}

function renderTrace(ctx: Ctx, m: TraceModel, compact: boolean, colors: Palette): HTMLElement {
	const root = m.roots[0];
	const segs = criticalPath(m);
	const crit = criticalSpans(segs);
	const segsBySpan = new Map<string, CritSegment[]>();
	for (const s of segs) (segsBySpan.get(s.spanId) || segsBySpan.set(s.spanId, []).get(s.spanId)!).push(s);
	const palette = colors(m.services);
	const serviceColor = (svc: string) => palette.get(svc) || '#888';
	const errors = m.spans.filter((s) => s.error).length;
	const skewed = m.spans.filter((s) => s.skew).length;
	const collapsed = new Set<string>();
	let selected = compact ? '' : ctx.params.get('span') || '';
	let showCrit = true;
	let matches = new Set<string>();
	let rows = visibleRows(m, collapsed);

	const out = h('div', { class: 'trace' });
	const head = h('div', { class: 'trace-head' },
		h('h2', null, h('span', { class: 'dot', style: `background:${serviceColor(root.service)}` }), `${root.service}: ${root.name}`),
		h('div', { class: 'facts' },
			h('span', null, h('b', null, fmtMs(m.durationMs)), ' duration'),
			h('span', null, h('b', null, String(m.spans.length)), ' spans'),
			h('span', null, h('b', null, String(m.services.length)), ' services'),
			h('span', { class: errors ? 'err' : '' }, h('b', null, String(errors)), ' errors'),
			h('span', { class: 'muted' }, fmtDateTime(Number(m.startNs / 1000000n))),
			h('span', { class: 'muted mono' }, m.traceId)));
	out.appendChild(head);
	const hint = h('div', { class: 'hint', hidden: skewed === 0 }, `Clock skew: ${skewed} span${skewed === 1 ? '' : 's'} start before or end after their parent; the critical path uses the times as recorded here, while clew's server-side analysis adjusts them.`);
	out.appendChild(hint);
	if (!compact) {
		api.traceCritPath(m.traceId, ctx.signal).then((cp) => {
			if (cp.adjustedSpans > 0) {
				hint.hidden = false;
				hint.textContent = `Clock skew corrected: clew adjusted ${cp.adjustedSpans} span${cp.adjustedSpans === 1 ? '' : 's'} whose hosts' clocks disagreed with their parents'.`;
			}
		}).catch(() => { /* the hint is optional */ });
	}

	// services legend with self time
	const legend = h('div', { class: 'legend' }, serviceSelfTime(m).slice(0, compact ? 8 : 20).map((s) =>
		h('span', { class: 'chip', title: `${s.spans} spans, ${fmtMs(s.selfMs)} self time` },
			h('span', { class: 'dot', style: `background:${serviceColor(s.service)}` }), s.service, h('span', { class: 'muted' }, ` ${fmtMs(s.selfMs)}`))));
	out.appendChild(legend);

	const searchIn = h('input', { type: 'search', placeholder: 'Search spans: name, service, attribute…', 'aria-label': 'Search within the trace', value: compact ? '' : ctx.params.get('find') || '', 'data-focus': compact ? null : '/' });
	const matchInfo = h('span', { class: 'muted' });
	const critToggle = h('input', { type: 'checkbox', checked: true, id: `crit-${m.traceId}` });
	const compareIn = h('input', { type: 'text', placeholder: 'trace id to compare', 'aria-label': 'Trace id to compare with', size: '20' });
	const toolbar = h('div', { class: 'toolbar' }, searchIn, matchInfo,
		h('label', { for: `crit-${m.traceId}` }, critToggle, ' critical path'),
		h('button', { onclick: () => { collapsed.clear(); refreshRows(); } }, 'Expand all'),
		h('button', { onclick: () => { for (const s of m.spans) if (s.children.length && s.depth >= 1) collapsed.add(s.id); refreshRows(); } }, 'Collapse'),
		compact ? null : h('form', { class: 'inline', onsubmit: (e: Event) => { e.preventDefault(); const v = compareIn.value.trim().toLowerCase(); if (/^[0-9a-f]{1,32}$/.test(v)) ctx.navigate(buildUrl({ page: 'trace', traceId: m.traceId }, { compare: v }, ctx.range)); } },
			compareIn, h('button', { type: 'submit' }, 'Compare')));
	out.appendChild(toolbar);

	// time axis
	const axis = h('div', { class: 'wf-axis' }, h('div', { class: 'wf-axis-left' }, 'Service / operation'),
		h('div', { class: 'wf-axis-right' }, [0, 0.25, 0.5, 0.75, 1].map((f) => h('span', { style: `left:${f * 100}%` }, fmtMs(m.durationMs * f)))));
	const scroller = h('div', { class: 'wf-scroll', tabindex: '0', role: 'tree', 'aria-label': 'Waterfall' });
	const sizer = h('div', { class: 'wf-sizer' });
	scroller.appendChild(sizer);
	const body = h('div', { class: 'wf-body' }, axis, scroller);
	const detailsBox = h('div', { class: 'wf-details' });
	out.appendChild(h('div', { class: compact ? 'wf compact' : 'wf', 'data-critical': [...crit.keys()].join(' ') }, body, detailsBox));

	const renderDetails = () => {
		clear(detailsBox);
		const n = selected ? m.byId.get(selected) : undefined;
		detailsBox.appendChild(n ? spanDetails(ctx, m, n, crit, serviceColor) : h('div', { class: 'muted pad' }, 'Select a span to see its attributes, events, links, resource and scope. ↑ ↓ move, ← → fold, / searches.'));
	};
	// The rows in the DOM by index: a scroll builds only the rows that come
	// into the window and drops those that leave it (rows are absolutely
	// placed, so their order in the DOM does not matter); a change of the
	// rows themselves (selection, folding, search) redraws them all.
	let lastFirst = -1, lastLast = -1;
	const live = new Map<number, HTMLElement>();
	const drawRows = (force = false) => {
		const top = scroller.scrollTop;
		const hgt = scroller.clientHeight || 600;
		const first = Math.max(0, Math.floor(top / ROW_H) - 15);
		const last = Math.min(rows.length, Math.ceil((top + hgt) / ROW_H) + 15);
		if (!force && first === lastFirst && last === lastLast) return;
		lastFirst = first; lastLast = last;
		if (force) {
			clear(sizer);
			live.clear();
			sizer.style.height = `${rows.length * ROW_H}px`;
		}
		for (const [i, el] of live) if (i < first || i >= last) { el.remove(); live.delete(i); }
		const frag = document.createDocumentFragment();
		for (let i = first; i < last; i++) {
			if (live.has(i)) continue;
			const el = rowEl(rows[i], i);
			live.set(i, el);
			frag.appendChild(el);
		}
		sizer.appendChild(frag);
	};
	const rowEl = (n: SpanNode, i: number): HTMLElement => {
		const g = barGeometry(n, 0, m.durationMs);
		const color = serviceColor(n.service);
		const onPath = showCrit && crit.has(n.id);
		const bar = h('div', { class: `bar${n.error ? ' error' : ''}`, style: `left:${g.left * 100}%;width:${g.width * 100}%;background:${color}` });
		const label = h('span', { class: 'bar-label', style: g.left > 0.7 ? `right:${(1 - g.left) * 100 + 0.5}%` : `left:${(g.left + g.width) * 100 + 0.5}%` }, fmtMs(n.dur));
		const timeline = h('div', { class: 'wf-timeline' }, bar, label);
		if (showCrit) for (const s of segsBySpan.get(n.id) || []) {
			const sg = barGeometry(s, 0, m.durationMs);
			timeline.appendChild(h('div', { class: 'crit', style: `left:${sg.left * 100}%;width:${sg.width * 100}%`, title: 'critical path' }));
		}
		const toggle = n.children.length
			? h('button', { class: 'twisty', 'aria-label': collapsed.has(n.id) ? 'Expand' : 'Collapse', tabindex: '-1', onclick: (e: Event) => { e.stopPropagation(); toggleNode(n.id); } }, collapsed.has(n.id) ? '▸' : '▾')
			: h('span', { class: 'twisty' });
		const row = h('div', {
			class: `wf-row${n.id === selected ? ' sel' : ''}${matches.has(n.id) ? ' match' : ''}${onPath ? ' on-path' : ''}`,
			style: `top:${i * ROW_H}px`, role: 'treeitem', 'aria-level': String(n.depth + 1), 'aria-selected': String(n.id === selected),
			'data-span-id': n.id, 'data-service': n.service,
			onclick: () => select(n.id),
		},
		h('div', { class: 'wf-name', style: `padding-left:${Math.min(n.depth, 40) * 12 + 4}px` },
			toggle, h('span', { class: 'dot', style: `background:${color}` }),
			h('span', { class: 'svc' }, n.service), ' ', h('span', { class: 'op' }, n.name),
			n.error ? h('span', { class: 'badge err', title: 'error' }, '!') : null,
			n.skew ? h('span', { class: 'badge warn', title: 'clock skew' }, '⏱') : null,
			n.children.length && collapsed.has(n.id) ? h('span', { class: 'muted' }, ` +${countDesc(n)}`) : null),
		timeline);
		return row;
	};
	const countDesc = (n: SpanNode): number => n.children.reduce((a, c) => a + 1 + countDesc(c), 0);
	const refreshRows = () => { rows = visibleRows(m, collapsed); drawRows(true); };
	const toggleNode = (id: string) => { if (collapsed.has(id)) collapsed.delete(id); else collapsed.add(id); refreshRows(); };
	const select = (id: string, scroll = false) => {
		selected = id;
		if (!compact) ctx.setParams({ span: id || null });
		// reveal: expand collapsed ancestors
		let p = m.byId.get(id)?.parent;
		let changed = false;
		while (p) { if (collapsed.delete(p.id)) changed = true; p = p.parent; }
		if (changed) rows = visibleRows(m, collapsed);
		if (scroll) {
			const i = rows.findIndex((r) => r.id === id);
			if (i >= 0 && (i * ROW_H < scroller.scrollTop || (i + 1) * ROW_H > scroller.scrollTop + scroller.clientHeight)) scroller.scrollTop = Math.max(0, i * ROW_H - scroller.clientHeight / 2);
		}
		drawRows(true);
		renderDetails();
	};
	scroller.addEventListener('scroll', () => drawRows());
	scroller.addEventListener('keydown', (e) => {
		const i = rows.findIndex((r) => r.id === selected);
		const n = m.byId.get(selected);
		if (e.key === 'ArrowDown') { e.preventDefault(); select(rows[Math.min(rows.length - 1, i + 1)].id, true); }
		else if (e.key === 'ArrowUp') { e.preventDefault(); select(rows[Math.max(0, i - 1)].id, true); }
		else if (e.key === 'ArrowLeft' && n) { e.preventDefault(); if (n.children.length && !collapsed.has(n.id)) toggleNode(n.id); else if (n.parent) select(n.parent.id, true); }
		else if (e.key === 'ArrowRight' && n) { e.preventDefault(); if (collapsed.has(n.id)) toggleNode(n.id); else if (n.children.length) select(n.children[0].id, true); }
		else if (e.key === 'Home') { e.preventDefault(); select(rows[0].id, true); }
		else if (e.key === 'End') { e.preventDefault(); select(rows[rows.length - 1].id, true); }
	});
	let matchList: string[] = [];
	let matchPos = -1;
	const runSearch = () => {
		const q = searchIn.value;
		matches = searchSpans(m, q);
		matchList = m.spans.filter((s) => matches.has(s.id)).map((s) => s.id);
		matchPos = -1;
		matchInfo.textContent = q.trim() ? `${matches.size} match${matches.size === 1 ? '' : 'es'}${matches.size ? ' · Enter: next' : ''}` : '';
		if (!compact) ctx.setParams({ find: q || null });
		drawRows(true);
	};
	searchIn.addEventListener('input', runSearch);
	searchIn.addEventListener('keydown', (e) => {
		if (e.key === 'Enter' && matchList.length) {
			e.preventDefault();
			matchPos = (matchPos + 1) % matchList.length;
			select(matchList[matchPos], true);
		}
	});
	critToggle.addEventListener('change', () => { showCrit = critToggle.checked; drawRows(true); });
	if (searchIn.value) runSearch();
	requestAnimationFrame(() => {
		if (selected && m.byId.has(selected)) select(selected, true); else drawRows(true);
		if (!compact) markOnce('clew:trace-rendered');
	});
	renderDetails();
	return out;
}
