// Customers: the account attribute is configurable (?attr=, default
// customer.id); the top accounts by traffic, latency and errors; one
// account's latency, errors and slowest operations over time, and the
// root-cause panel scoped to that account.
import { ApiError, MetricsResult, Series, api, label, tqlString } from '../api';
import { Ctx, View } from '../app';
import { lineChart } from '../charts';
import { emptyState, h } from '../dom';
import { fmtMs, fmtPct, fmtRate } from '../format';
import { addCondition } from '../traceql';
import { buildUrl } from '../url';
import { align, byLabel, mean, quantileName, sum } from './common';
import { correlationsPanel, stepFor } from './explore';
import { errorGroups, fill } from './service';

// A query by account over [start, end); when the range holds more accounts
// than one query may group (413), the same over the last 15, 5 or 1
// minutes, where the busiest accounts still stand out.
async function metricsShrinking(q: string, start: number, end: number, signal: AbortSignal): Promise<{ r: MetricsResult; windowMin: number }> {
	const windows = [0, 15, 5, 1].filter((m) => m === 0 || m * 60000 < end - start);
	let last: unknown;
	for (const m of windows) {
		const s = m ? end - m * 60000 : start;
		try {
			return { r: await api.metrics(q, s, end, Math.max(60, Math.ceil((end - s) / 1000 / 6)), signal), windowMin: m };
		} catch (e) {
			if (!(e instanceof ApiError) || e.status !== 413) throw e;
			last = e;
		}
	}
	throw last;
}

export function customersView(ctx: Ctx): View {
	const el = h('div', { class: 'view customers' });
	const attr = ctx.params.get('attr') || 'customer.id';
	const key = /^(span|resource)\./.test(attr) ? attr : `span.${attr}`;
	const account = ctx.params.get('account') || '';
	const attrIn = h('input', { type: 'text', value: attr, 'aria-label': 'Account attribute', size: '24' });
	el.append(h('div', { class: 'page-head' }, h('h2', null, 'Customers'),
		h('form', { class: 'inline', onsubmit: (e: Event) => { e.preventDefault(); ctx.navigate(buildUrl({ page: 'customers' }, { attr: attrIn.value.trim() || 'customer.id' }, ctx.range)); } },
			h('label', null, 'Account attribute ', attrIn), h('button', { type: 'submit' }, 'Use'))));
	const top = h('div', { class: 'three-col' });
	const detail = h('div');
	el.append(top, detail);
	const pick = (acct: string) => ctx.navigate(buildUrl({ page: 'customers' }, { attr: attr === 'customer.id' ? null : attr, account: acct }, ctx.range));
	const load = () => {
		const [start, end] = ctx.window();
		const table = (title: string, q: string, score: (s: Series) => number, fmt: (v: number) => string) => {
			const box = h('section', { class: 'panel' });
			fill(box, title, metricsShrinking(q, start, end, ctx.signal), ({ r, windowMin }) => {
				if (windowMin) title += ` (last ${windowMin} min)`;
				const by = byLabel(r.series, key);
				const rows = [...by.entries()].filter(([k]) => k && k !== 'nil').map(([k, ss]) => ({ k, v: Math.max(...ss.map(score)) }))
					.filter((x) => x.v > 0).sort((a, b) => b.v - a.v).slice(0, 10);
				return h('div', null, h('h3', null, title), rows.length ? h('table', { class: 'grid' }, h('tbody', null, rows.map((x) => h('tr', { class: x.k === account ? 'sel' : '' },
					h('td', null, h('button', { class: 'linkish', 'data-account': x.k, onclick: () => pick(x.k) }, x.k)), h('td', { class: 'num' }, fmt(x.v)))))) : emptyState(`No spans carry ${key}`));
			});
			return box;
		};
		top.replaceChildren(
			table('Top by traffic', `{ kind = server && ${key} != nil } | rate() by (${key}) | topk(10)`, mean, fmtRate),
			table('Top by p99 latency', `{ kind = server && ${key} != nil } | quantile_over_time(duration, .99) by (${key}) | topk(10)`, (s) => Math.max(...s.samples.map((p) => p.value).filter(Number.isFinite)) * 1000, fmtMs),
			table('Top by errors', `{ kind = server && status = error && ${key} != nil } | count_over_time() by (${key}) | topk(10)`, sum, (v) => String(Math.round(v))));
		detail.replaceChildren();
		if (!account) { detail.appendChild(h('div', { class: 'muted pad' }, 'Pick an account to see its latency, errors, slowest operations and what sets its slow requests apart.')); return; }
		const sel = `${key} = ${tqlString(account)}`;
		const st = stepFor(start, end);
		const lat = h('div', { class: 'chart-cell' }), err = h('div', { class: 'chart-cell' });
		const ops = h('section', { class: 'panel' }), corr = h('div'), opsOverTime = h('div', { class: 'chart-cell' });
		const errTypes = h('div');
		detail.append(h('h2', null, `Account ${account}`), h('div', { class: 'chart-grid two' }, lat, err), h('div', { class: 'two-col' }, ops, corr),
			h('div', { class: 'two-col' }, h('section', { class: 'panel' }, h('h3', null, 'Slowest operations over time'), opsOverTime),
				h('section', { class: 'panel' }, h('h3', null, 'Errors by type'), errTypes)));
		fill(errTypes, 'Errors by type', api.errors('', start, end, 8, ctx.signal, `{ ${sel} }`), (r) => errorGroups(ctx, sel, r));
		fill(lat, 'Latency', api.metrics(`{ kind = server && ${sel} } | quantile_over_time(duration, .5, .99)`, start, end, st, ctx.signal), (r) => {
			const a = align(r.series, quantileName, 1000);
			return lineChart('Latency p50 / p99', a.xs, a.lines, fmtMs);
		});
		fill(err, 'Errors', api.metrics(`{ kind = server && ${sel} && status = error } | count_over_time()`, start, end, st, ctx.signal), (r) => {
			const a = align(r.series, () => 'errors');
			return lineChart('Errors', a.xs, a.lines.map((l) => ({ ...l, color: '#e8684a' })), (v) => v.toFixed(0));
		});
		const slowest = api.metrics(`{ kind = server && ${sel} } | quantile_over_time(duration, .99) by (resource.service.name, name)`, start, end, st, ctx.signal).then((r) => r.series
			.map((s) => ({ s, svc: label(s, 'resource.service.name'), name: label(s, 'name'), p99: Math.max(...s.samples.map((p) => p.value).filter(Number.isFinite)) * 1000 }))
			.filter((x) => x.p99 > 0).sort((a, b) => b.p99 - a.p99));
		fill(opsOverTime, 'Slowest operations over time', slowest, (rows) => {
			const top = rows.slice(0, 5);
			const a = align(top.map((x) => x.s), (s) => `${label(s, 'resource.service.name')}: ${label(s, 'name')}`, 1000);
			return lineChart('p99 of the five slowest operations', a.xs, a.lines, fmtMs);
		});
		fill(ops, 'Slowest operations', slowest, (all) => {
			const rows = all.slice(0, 10);
			return h('div', null, h('h3', null, 'Slowest operations'), rows.length ? h('table', { class: 'grid' }, h('tbody', null, rows.map((x) => h('tr', null,
				h('td', null, h('a', { href: buildUrl({ page: 'explore' }, { q: `{ ${sel} && resource.service.name = ${tqlString(x.svc)} && name = ${tqlString(x.name)} }` }, ctx.range), 'data-nav': '1' }, `${x.svc}: ${x.name}`)),
				h('td', { class: 'num' }, `p99 ${fmtMs(x.p99)}`))))) : emptyState('No spans'));
		});
		fill(corr, 'Root cause', api.correlations({ q: `{ kind = server && ${sel} }`, signal: 'latency', threshold: 'p99', relative: 'operation', start: Math.floor(start / 1000), end: Math.ceil(end / 1000) }, ctx.signal),
			(c) => correlationsPanel(ctx, `Why is ${account} slow?`, c, (k, v, vt) => ctx.navigate(buildUrl({ page: 'explore' }, { q: addCondition(`{ ${sel} }`, k, v, vt) }, ctx.range))));
		void fmtPct;
	};
	load();
	return { el, refresh: load };
}
