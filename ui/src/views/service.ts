// The service page: rate, error ratio and p50/p95/p99 over time, the
// latency heatmap, the operations table, upstream and downstream services
// with the owning team, recent errors grouped by type, and the versions
// deployed over the period.
import { ErrorGroup, ErrorGroups, api, label, tqlString } from '../api';
import { Ctx, View } from '../app';
import { heatmapChart, lineChart, toHeatmap } from '../charts';
import { clear, emptyState, errorState, h, link, loading } from '../dom';
import { fmtMs, fmtPct, fmtRate, healthClass } from '../format';
import { buildUrl } from '../url';
import { align, byLabel, mean, quantileName, sum } from './common';
import { stepFor } from './explore';

function section(title: string, body: HTMLElement): HTMLElement {
	return h('section', { class: 'panel' }, h('h3', null, title), body);
}

// Fill box from a promise: loading, then content or the error state.
export function fill<T>(box: HTMLElement, what: string, p: Promise<T>, render: (v: T) => Node): void {
	// on a refresh (live mode) the old content stays until the new arrives
	if (!box.firstChild || box.querySelector('.state.error')) {
		clear(box);
		box.appendChild(loading(what));
	}
	p.then((v) => { clear(box); box.appendChild(render(v)); })
		.catch((e) => { if (e.name !== 'AbortError') { clear(box); box.appendChild(errorState(`${what} failed`, e)); } });
}

export function serviceView(ctx: Ctx, service: string): View {
	const el = h('div', { class: 'view service' });
	const sel = `resource.service.name = ${tqlString(service)}`;
	const teamEl = h('span', { class: 'muted' });
	const exploreUrl = buildUrl({ page: 'explore' }, { q: `{ ${sel} }` }, ctx.range);
	el.append(h('div', { class: 'page-head' }, h('h2', null, service), teamEl, h('div', { class: 'spacer' }), link(exploreUrl, 'Explore its traces ›')));
	const charts = h('div', { class: 'chart-grid' });
	const heat = h('div', { class: 'panel' });
	const ops = h('div');
	const neighbours = h('div');
	const errors = h('div');
	const versions = h('div');
	el.append(charts, heat, h('div', { class: 'two-col' }, section('Operations', ops), section('Upstream and downstream', neighbours)),
		h('div', { class: 'two-col' }, section('Recent errors', errors), section('Versions deployed', versions)));

	// the owning team from the catalog wins over the spans' team attribute
	api.catalog(ctx.signal).then((c) => {
		const e = (c.services || []).find((x) => x.name === service);
		if (!e?.team) return;
		teamEl.dataset.catalog = '1';
		clear(teamEl);
		teamEl.append(`owned by ${e.team}`, e.channel ? ` · ${e.channel}` : '', e.runbook && /^https?:\/\//.test(e.runbook) ? ' · ' : '',
			e.runbook && /^https?:\/\//.test(e.runbook) ? h('a', { href: e.runbook, target: '_blank', rel: 'noopener' }, 'runbook') : '', ' · ', link('/catalog', 'catalog'));
	}).catch(() => { /* no catalog: the spans' team stays */ });
	const load = () => {
		const [start, end] = ctx.window();
		const step = stepFor(start, end);
		if (!charts.firstChild) charts.append(h('div', { class: 'chart-cell' }), h('div', { class: 'chart-cell' }), h('div', { class: 'chart-cell' }));
		const [rateBox, errBox, latBox] = [...charts.children] as HTMLElement[];
		fill(rateBox, 'Request rate', api.metrics(`{ ${sel} && kind = server } | rate()`, start, end, step, ctx.signal), (r) => {
			const a = align(r.series, () => 'spans/s');
			return lineChart('Rate (server spans/s)', a.xs, a.lines, fmtRate);
		});
		fill(errBox, 'Error ratio', Promise.all([
			api.metrics(`{ ${sel} && kind = server && status = error } | rate()`, start, end, step, ctx.signal),
			api.metrics(`{ ${sel} && kind = server } | rate()`, start, end, step, ctx.signal),
		]), ([e, all]) => {
			const a = align(all.series, () => 'all');
			const eb = align(e.series, () => 'err');
			const em = new Map(eb.xs.map((x, i) => [x, eb.lines[0]?.values[i] ?? 0]));
			const ratio = a.xs.map((x, i) => { const t = a.lines[0]?.values[i] ?? 0; return t ? (em.get(x) ?? 0) / t : 0; });
			return lineChart('Error ratio', a.xs, a.xs.length ? [{ label: 'errors', values: ratio, color: '#e8684a' }] : [], fmtPct);
		});
		fill(latBox, 'Latency', api.metrics(`{ ${sel} && kind = server } | quantile_over_time(duration, .5, .95, .99)`, start, end, step, ctx.signal), (r) => {
			const a = align(r.series, quantileName, 1000);
			return lineChart('Latency p50 / p95 / p99', a.xs, a.lines, fmtMs);
		});
		fill(heat, 'Latency heatmap', api.metrics(`{ ${sel} } | histogram_over_time(duration)`, start, end, step, ctx.signal),
			(r) => heatmapChart('Latency heatmap (drag to ask why)', toHeatmap(r.series, step * 1000), (b) =>
				ctx.navigate(buildUrl({ page: 'explore' }, { q: `{ ${sel} }`, sel: `latency:${Math.round(b.startMs)}:${Math.round(b.endMs)}:${b.minMs.toFixed(3)}` }, ctx.range))));
		fill(ops, 'Operations', Promise.all([
			api.metrics(`{ ${sel} } | rate() by (name)`, start, end, step, ctx.signal),
			api.metrics(`{ ${sel} && status = error } | rate() by (name)`, start, end, step, ctx.signal),
			api.metrics(`{ ${sel} } | quantile_over_time(duration, .5, .99) by (name)`, start, end, step, ctx.signal),
		]), ([rate, err, lat]) => {
			const errBy = byLabel(err.series, 'name');
			const latBy = byLabel(lat.series, 'name');
			const rows = rate.series.map((s) => {
				const name = label(s, 'name');
				const r = mean(s);
				const e = (errBy.get(name) || []).reduce((a, x) => a + mean(x), 0);
				const q = latBy.get(name) || [];
				const p50 = q.find((x) => quantileName(x) === 'p50'), p99 = q.find((x) => quantileName(x) === 'p99');
				return { name, r, er: r ? e / r : 0, p50: p50 ? maxOf(p50) * 1000 : NaN, p99: p99 ? maxOf(p99) * 1000 : NaN };
			}).filter((x) => x.r > 0).sort((a, b) => b.r - a.r);
			if (!rows.length) return emptyState('No operations in this time range');
			return h('table', { class: 'grid' }, h('thead', null, h('tr', null, ['Operation', 'Rate', 'Errors', 'p50', 'p99'].map((c) => h('th', null, c)))),
				h('tbody', null, rows.map((x) => h('tr', { class: `health-${healthClass(x.er, x.p99)}` },
					h('td', null, link(buildUrl({ page: 'explore' }, { q: `{ ${sel} && name = ${tqlString(x.name)} }` }, ctx.range), x.name)),
					h('td', { class: 'num' }, fmtRate(x.r)), h('td', { class: `num${x.er > 0.01 ? ' err' : ''}` }, fmtPct(x.er)),
					h('td', { class: 'num' }, fmtMs(x.p50)), h('td', { class: 'num' }, fmtMs(x.p99))))));
		});
		fill(neighbours, 'Service graph', api.graph(start, end, ctx.signal), (g) => {
			const node = g.nodes.find((n) => n.id === service || n.name === service);
			if (!teamEl.dataset.catalog) teamEl.textContent = node?.team ? `owned by ${node.team}` : '';
			const ups = g.edges.filter((e) => e.target === (node?.id ?? service));
			const downs = g.edges.filter((e) => e.source === (node?.id ?? service));
			const name = (id: string) => g.nodes.find((n) => n.id === id)?.name || id;
			const tbl = (title: string, edges: typeof ups, other: (e: typeof ups[0]) => string) => h('div', null, h('h4', null, title),
				edges.length ? h('table', { class: 'grid' }, h('tbody', null, edges.map((e) => h('tr', { class: `health-${healthClass(e.errorRate, e.p99)}` },
					h('td', null, link(buildUrl({ page: 'service', service: name(other(e)) }, {}, ctx.range), name(other(e)))),
					h('td', { class: 'num' }, fmtRate(e.rate)), h('td', { class: 'num' }, fmtPct(e.errorRate)), h('td', { class: 'num' }, `p99 ${fmtMs(e.p99)}`))))) : h('div', { class: 'muted' }, 'none'));
			return h('div', null, tbl('Called by', ups, (e) => e.source), tbl('Calls', downs, (e) => e.target));
		});
		fill(errors, 'Recent errors', api.errors(service, start, end, 12, ctx.signal), (r) => errorGroups(ctx, sel, r));
		fill(versions, 'Versions', api.metrics(`{ ${sel} } | count_over_time() by (resource.service.version)`, start, end, step, ctx.signal), (r) => {
			const rows = r.series.map((s) => {
				const seen = s.samples.filter((p) => p.value > 0).map((p) => Number(p.timestampMs));
				return { v: label(s, 'resource.service.version'), n: sum(s), first: Math.min(...seen), last: Math.max(...seen) };
			}).filter((x) => x.n > 0).sort((a, b) => a.first - b.first);
			if (!rows.length) return emptyState('No versions reported');
			const a = align(r.series, (s) => label(s, 'resource.service.version'));
			return h('div', null, h('table', { class: 'grid' }, h('thead', null, h('tr', null, ['Version', 'Spans', 'First seen', 'Last seen'].map((c) => h('th', null, c)))),
				h('tbody', null, rows.map((x) => h('tr', null, h('td', null, x.v), h('td', { class: 'num' }, String(Math.round(x.n))),
					h('td', { class: 'muted' }, new Date(x.first).toLocaleTimeString()), h('td', { class: 'muted' }, new Date(x.last).toLocaleTimeString()))))),
			rows.length > 1 ? lineChart('Spans per version', a.xs, a.lines, (v) => v.toFixed(0), 120) : null as unknown as Node);
		});
	};
	load();
	return { el, refresh: load };
}

// Recent errors grouped by exception type (or status message where a span
// threw no exception event): count, an example message, the operations,
// when last seen and the newest example trace.
export function errorGroups(ctx: Ctx, sel: string, r: ErrorGroups): Node {
	if (!r.groups.length) return emptyState('No errors in this time range');
	const filter = (g: ErrorGroup) => (g.source === 'status'
		? `{ ${sel} && status = error && statusMessage = ${tqlString(g.message)} }`
		: `{ ${sel} && status = error && event.exception.type = ${tqlString(g.type)} }`);
	return h('div', null,
		h('table', { class: 'grid errors' }, h('thead', null, h('tr', null, ['Exception type', 'Count', 'Operations', 'Last seen', ''].map((c) => h('th', null, c)))),
			h('tbody', null, r.groups.map((g) => h('tr', { 'data-type': g.type, 'data-source': g.source },
				h('td', { class: 'err' }, link(buildUrl({ page: 'explore' }, { q: filter(g) }, ctx.range), g.type),
					g.source === 'status' ? h('span', { class: 'muted', title: 'no exception event: grouped by status message' }, ' (status)') : null,
					g.message && g.message !== g.type ? h('div', { class: 'muted small' }, g.message) : null),
				h('td', { class: 'num' }, String(g.count)),
				h('td', { class: 'small' }, g.operations.slice(0, 3).map((o) => `${o.name} (${o.count})`).join(', ') + (g.operations.length > 3 || g.otherOperations ? ', …' : '')),
				h('td', { class: 'muted' }, new Date(g.lastSeen).toLocaleTimeString()),
				h('td', null, g.exampleTraceIds[0] ? link(buildUrl({ page: 'trace', traceId: g.exampleTraceIds[0] }, {}, ctx.range), 'trace ›') : null))))),
		r.types > r.groups.length ? h('div', { class: 'muted small' }, `${r.types - r.groups.length} more types`) : null);
}

function maxOf(s: { samples: { value: number }[] }): number {
	let m = NaN;
	for (const p of s.samples) if (Number.isFinite(p.value) && !(p.value <= m)) m = p.value;
	return m;
}
