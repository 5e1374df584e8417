// Explore: a TraceQL editor with autocomplete of attribute names and
// values; the latency heatmap over time and the matching traces. Brushing
// the slow region of the heatmap, or choosing errors, opens the
// correlations panel, which ranks the causes; clicking a cause filters the
// results to it and offers an example trace.
import { Correlations, SearchTrace, api } from '../api';
import { Ctx, View } from '../app';
import { heatmapChart, toHeatmap } from '../charts';
import { clear, emptyState, errorState, h, link, loading } from '../dom';
import { fmtDateTime, fmtMs, fmtPct, serviceColor } from '../format';
import { addCondition, attrNames, completionAt, filterCompletions } from '../traceql';
import { buildUrl } from '../url';

export function stepFor(startMs: number, endMs: number, points = 60): number {
	const raw = Math.max(1, Math.round((endMs - startMs) / 1000 / points));
	const nice = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400];
	return nice.find((n) => n >= raw) || 86400;
}

export function queryEditor(ctx: Ctx, initial: string, onRun: (q: string) => void): HTMLElement {
	const input = h('input', { class: 'tql', type: 'text', value: initial, spellcheck: 'false', autocomplete: 'off', 'aria-label': 'TraceQL query', placeholder: '{ resource.service.name = "checkout" && duration > 200ms }', 'data-focus': '/' });
	const menu = h('ul', { class: 'ac', role: 'listbox', hidden: true });
	let names: string[] | null = null;
	const values = new Map<string, string[]>();
	let items: string[] = [];
	let active = 0;
	let comp: ReturnType<typeof completionAt> = null;
	const show = () => {
		clear(menu);
		menu.hidden = items.length === 0;
		items.forEach((it, i) => menu.appendChild(h('li', { role: 'option', class: i === active ? 'active' : '', 'aria-selected': String(i === active), onmousedown: (e: Event) => { e.preventDefault(); accept(i); } }, it)));
	};
	const accept = (i: number) => {
		if (!comp || !items[i]) return;
		const pos = input.selectionStart ?? input.value.length;
		let ins = items[i];
		if (comp.kind === 'value') ins = `"${ins.replace(/"/g, '\\"')}"`;
		else ins = `${ins} `;
		input.value = input.value.slice(0, comp.from) + ins + input.value.slice(pos);
		const np = comp.from + ins.length;
		input.setSelectionRange(np, np);
		items = [];
		show();
		input.focus();
	};
	const update = async () => {
		comp = completionAt(input.value, input.selectionStart ?? input.value.length);
		if (!comp) { items = []; show(); return; }
		try {
			if (comp.kind === 'attr') {
				if (!names) names = attrNames((await api.tags(ctx.signal)).scopes || []);
				items = filterCompletions(names, comp.prefix);
			} else {
				const attr = comp.attr.replace(/^\./, 'span.');
				if (!values.has(attr)) values.set(attr, ((await api.tagValues(attr, ctx.signal)).tagValues || []).map((v) => v.value));
				items = filterCompletions(values.get(attr) || [], comp.prefix);
			}
		} catch {
			items = [];
		}
		active = 0;
		show();
	};
	input.addEventListener('input', () => { void update(); });
	input.addEventListener('focus', () => { void update(); });
	input.addEventListener('blur', () => { setTimeout(() => { items = []; show(); }, 100); });
	input.addEventListener('keydown', (e) => {
		if (!menu.hidden && items.length) {
			if (e.key === 'ArrowDown') { e.preventDefault(); active = (active + 1) % items.length; show(); return; }
			if (e.key === 'ArrowUp') { e.preventDefault(); active = (active + items.length - 1) % items.length; show(); return; }
			if (e.key === 'Tab') { e.preventDefault(); accept(active); return; }
			if (e.key === 'Escape') { items = []; show(); return; }
		}
		if (e.key === 'Enter') { e.preventDefault(); items = []; show(); onRun(input.value.trim() || '{}'); }
	});
	return h('form', { class: 'editor', onsubmit: (e: Event) => { e.preventDefault(); onRun(input.value.trim() || '{}'); } },
		h('div', { class: 'ac-wrap' }, input, menu), h('button', { type: 'submit', class: 'primary' }, 'Run query'));
}

export function traceTable(ctx: Ctx, traces: SearchTrace[]): HTMLElement {
	if (!traces.length) return emptyState('No traces match', 'Widen the time range or loosen the query.');
	const rows = traces.map((t) => {
		const stats = t.serviceStats || {};
		const services = Object.keys(stats);
		const spans = services.reduce((a, s) => a + (stats[s].spanCount || 0), 0);
		const errors = services.reduce((a, s) => a + (stats[s].errorCount || 0), 0);
		const url = buildUrl({ page: 'trace', traceId: t.traceID }, {}, ctx.range);
		return h('tr', { 'data-trace-id': t.traceID },
			h('td', null, h('span', { class: 'dot', style: `background:${serviceColor(t.rootServiceName || '')}` }), t.rootServiceName || h('i', { class: 'muted' }, 'no root')),
			h('td', null, link(url, t.rootTraceName || t.traceID)),
			h('td', { class: 'muted' }, fmtDateTime(Number(BigInt(t.startTimeUnixNano || '0') / 1000000n))),
			h('td', { class: 'num' }, fmtMs(t.durationMs ?? 0)),
			h('td', { class: 'num' }, String(spans || t.spanSet?.matched || '')),
			h('td', { class: `num${errors ? ' err' : ''}` }, String(errors)),
			h('td', { class: 'svcs' }, services.slice(0, 8).map((s) => h('span', { class: 'dot', title: s, style: `background:${serviceColor(s)}` })), services.length > 8 ? ` +${services.length - 8}` : ''));
	});
	return h('table', { class: 'grid traces' },
		h('thead', null, h('tr', null, ['Root service', 'Name', 'Start', 'Duration', 'Spans', 'Errors', 'Services'].map((c) => h('th', null, c)))),
		h('tbody', null, rows));
}

export function correlationsPanel(ctx: Ctx, title: string, c: Correlations, onPick: (key: string, value: string, valueType?: string) => void, picked?: string): HTMLElement {
	if (!c.correlations?.length) return h('div', { class: 'panel corr' }, h('h3', null, title), emptyState('Nothing sets these spans apart', `${c.bad.count} selected spans against ${c.rest.count} others.`));
	return h('div', { class: 'panel corr' },
		h('h3', null, title),
		h('div', { class: 'muted' }, `${c.bad.count} selected against ${c.rest.count} others${c.thresholdMs ? `, slower than ${fmtMs(c.thresholdMs)}` : ''}. Click a cause to filter to it.`),
		h('table', { class: 'grid' },
			h('thead', null, h('tr', null, ['Cause', 'Selected', 'Others', 'Score', 'Example'].map((x) => h('th', null, x)))),
			h('tbody', null, c.correlations.slice(0, 15).map((x, i) => {
				const id = `${x.key}=${x.value}`;
				return h('tr', { class: `cause${picked === id ? ' sel' : ''}`, 'data-rank': String(i), 'data-key': x.key, 'data-value': x.value },
					h('td', null, h('button', { class: 'linkish', onclick: () => onPick(x.key, x.value, x.valueType), title: 'Filter to this cause' }, h('span', { class: 'muted' }, `${x.key} = `), h('b', null, x.value))),
					h('td', null, h('div', { class: 'share' }, h('div', { class: 'share-bar bad', style: `width:${(x.bad.share ?? 0) * 100}%` }), h('span', null, fmtPct(x.bad.share ?? 0)))),
					h('td', null, h('div', { class: 'share' }, h('div', { class: 'share-bar', style: `width:${(x.rest.share ?? 0) * 100}%` }), h('span', null, fmtPct(x.rest.share ?? 0)))),
					h('td', { class: 'num' }, x.score.toFixed(2)),
					h('td', null, x.exampleTraceIds?.length ? link(buildUrl({ page: 'trace', traceId: x.exampleTraceIds[0] }, {}, ctx.range), 'trace ›') : ''));
			}))));
}

export function exploreView(ctx: Ctx): View {
	const el = h('div', { class: 'view explore' });
	const q = ctx.params.get('q') || '{}';
	const results = h('div', { class: 'results' });
	const heat = h('div', { class: 'heat-box' });
	const corrBox = h('div', { class: 'corr-box' });
	const errBtn = h('button', { class: 'errors-btn', title: 'Rank the causes of the errors among these spans' }, 'Why errors?');
	el.append(h('h2', null, 'Explore'),
		queryEditor(ctx, q, (nq) => ctx.navigate(buildUrl({ page: 'explore' }, { q: nq }, ctx.range))),
		h('div', { class: 'explore-grid' },
			h('div', null, heat, h('div', { class: 'heat-actions muted' }, 'Drag across the slow region of the heatmap to ask why it is slow, or ', errBtn)),
			corrBox),
		h('h3', null, 'Traces'), results);

	const loadCorr = () => {
		const sel = ctx.params.get('sel') || '';
		clear(corrBox);
		if (!sel) { corrBox.appendChild(h('div', { class: 'panel corr muted pad' }, 'Select a slow region or choose errors to see what sets those spans apart.')); return; }
		const [start, end] = ctx.window();
		let params: Record<string, string | number>;
		let title: string;
		const m = /^latency:(\d+):(\d+):([\d.]+)$/.exec(sel);
		if (m) {
			params = { q, signal: 'latency', start: Math.floor(Number(m[1]) / 1000), end: Math.ceil(Number(m[2]) / 1000), threshold: `${Math.max(0.001, Number(m[3])).toFixed(3)}ms` };
			title = `Why slower than ${fmtMs(Number(m[3]))}?`;
		} else {
			params = { q, signal: 'error', start: Math.floor(start / 1000), end: Math.ceil(end / 1000) };
			title = 'Why errors?';
		}
		corrBox.appendChild(loading('Ranking causes'));
		api.correlations(params, ctx.signal).then((c) => {
			clear(corrBox);
			corrBox.appendChild(correlationsPanel(ctx, title, c, (key, value, vt) => {
				ctx.navigate(buildUrl({ page: 'explore' }, { q: addCondition(q, key, value, vt), sel, cause: `${key}=${value}` }, ctx.range));
			}, ctx.params.get('cause') || undefined));
		}).catch((e) => { if (e.name !== 'AbortError') { clear(corrBox); corrBox.appendChild(errorState('Correlations are not available', e)); } });
	};
	errBtn.addEventListener('click', () => { ctx.setParams({ sel: 'errors' }); loadCorr(); });

	const load = () => {
		const [start, end] = ctx.window();
		const step = stepFor(start, end);
		if (!results.firstChild) results.appendChild(loading('Searching'));
		if (!heat.firstChild) heat.appendChild(loading('Loading the latency heatmap'));
		api.search(q, start, end, 100, ctx.signal).then((r) => {
			clear(results);
			const traces = (r.traces || []).slice().sort((a, b) => Number(BigInt(b.startTimeUnixNano || '0') - BigInt(a.startTimeUnixNano || '0')));
			results.appendChild(traceTable(ctx, traces));
			const cause = ctx.params.get('cause');
			if (cause && traces.length) {
				results.prepend(h('div', { class: 'hint' }, `Filtered to ${cause}. `, link(buildUrl({ page: 'trace', traceId: traces.slice().sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0))[0].traceID }, {}, ctx.range), 'Open the slowest example trace ›')));
			}
		}).catch((e) => { if (e.name !== 'AbortError') { clear(results); results.appendChild(errorState('The search failed', e)); } });
		const hq = /\|/.test(q) ? q : `${q} | histogram_over_time(duration)`;
		api.metrics(hq, start, end, step, ctx.signal).then((r) => {
			clear(heat);
			heat.appendChild(heatmapChart('Span latency over time', toHeatmap(r.series || [], step * 1000), (b) => {
				ctx.setParams({ sel: `latency:${Math.round(b.startMs)}:${Math.round(b.endMs)}:${b.minMs.toFixed(3)}` });
				loadCorr();
			}));
		}).catch((e) => { if (e.name !== 'AbortError') { clear(heat); heat.appendChild(errorState('The heatmap is not available', e)); } });
	};
	load();
	loadCorr();
	return { el, refresh: () => { load(); } };
}
