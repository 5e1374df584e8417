// Dashboards: the list (with "Create from template" when there is none),
// one dashboard with its variable pickers and panels (TraceQL metrics
// queries drawn over the app's time range), and its edit mode (title,
// variables, panels with a live preview; saved with the version it started
// from, so a concurrent edit is reported, not overwritten). The URL carries
// the dashboard, the variable values (var-<name>) and the time range, so a
// link shares the exact view.
import { ApiError, MetricsResult, Series, api, getJson, label, sendJson } from '../api';
import { Ctx, View } from '../app';
import { heatmapChart, lineChart, toHeatmap } from '../charts';
import {
	ALL, Dashboard, DashboardSummary, PANEL_TYPES, Panel, PanelType, TEMPLATES, UNITS, VarValue, VarValues, Variable, fmtUnit, initialValue,
	multiChoices, nextGrid, statValue, substitute, substituteText, varParam, varParamValues, varsFromParams,
} from '../dashboard';
import { clear, emptyState, errorState, h, link, loading } from '../dom';
import { fmtDateTime } from '../format';
import { buildUrl } from '../url';
import { align, quantileName } from './common';
import { stepFor } from './explore';

const ROW_PX = 32;

const dashApi = {
	list: (signal?: AbortSignal) => getJson<{ dashboards: DashboardSummary[] }>('/api/v1/dashboards', {}, signal),
	get: (id: string, signal?: AbortSignal) => getJson<Dashboard>(`/api/v1/dashboards/${encodeURIComponent(id)}`, {}, signal),
	create: (d: Dashboard) => sendJson<Dashboard>('POST', '/api/v1/dashboards', d),
	save: (id: string, d: Dashboard) => sendJson<Dashboard>('PUT', `/api/v1/dashboards/${encodeURIComponent(id)}`, d),
	remove: (id: string) => sendJson<unknown>('DELETE', `/api/v1/dashboards/${encodeURIComponent(id)}`),
};

export function dashboardsView(ctx: Ctx, id?: string): View {
	return id ? dashboardPage(ctx, id) : dashboardList(ctx);
}

function templateButtons(ctx: Ctx, onError: (e: unknown) => void): HTMLElement {
	return h('div', { class: 'dash-templates' }, TEMPLATES.map((t) => h('div', { class: 'dash-template' },
		h('button', {
			class: 'button primary', 'data-template': t.key,
			onclick: async () => {
				try {
					const d = await dashApi.create(t.make());
					ctx.navigate(buildUrl({ page: 'dashboards', dashboardId: d.id }, {}, ctx.range));
				} catch (e) { onError(e); }
			},
		}, `Create from template: ${t.title}`),
		h('div', { class: 'muted' }, t.summary))));
}

function dashboardList(ctx: Ctx): View {
	const el = h('div', { class: 'view dashboards' });
	const body = h('div', { class: 'panel' });
	const err = h('div');
	const showError = (e: unknown) => { clear(err); err.appendChild(errorState('Could not create the dashboard', e)); };
	const newEmpty = async () => {
		try {
			const d = await dashApi.create({ title: 'New dashboard', variables: [], panels: [] });
			ctx.navigate(buildUrl({ page: 'dashboards', dashboardId: d.id }, { edit: '1' }, ctx.range));
		} catch (e) { showError(e); }
	};
	el.append(h('div', { class: 'page-head' }, h('h2', null, 'Dashboards'), h('div', { class: 'spacer' }),
		h('button', { class: 'button', onclick: newEmpty }, 'New dashboard')), err, body);
	const load = () => {
		clear(body);
		body.appendChild(loading('Dashboards'));
		dashApi.list(ctx.signal).then((r) => {
			clear(body);
			if (!r.dashboards.length) {
				body.append(emptyState('No dashboards yet',
					'A dashboard is a set of charts of TraceQL metrics queries, with variables (service, account, team …) picked at the top. Start from a template or an empty one.'),
				templateButtons(ctx, showError));
				return;
			}
			body.append(h('table', { class: 'grid dash-table' },
				h('thead', null, h('tr', null, ['Title', 'Description', 'Variables', 'Panels', 'Updated'].map((c) => h('th', null, c)))),
				h('tbody', null, r.dashboards.map((d) => h('tr', { 'data-dashboard': d.id },
					h('td', null, link(buildUrl({ page: 'dashboards', dashboardId: d.id }, {}, ctx.range), d.title)),
					h('td', { class: 'muted trunc' }, d.description),
					h('td', null, d.variables.map((v) => `$${v}`).join(' ')),
					h('td', { class: 'num' }, String(d.panels)),
					h('td', { class: 'num' }, d.updatedAt ? fmtDateTime(Date.parse(d.updatedAt)) : ''))))),
			h('h3', null, 'Templates'), templateButtons(ctx, showError));
		}).catch((e) => { if (e.name !== 'AbortError') { clear(body); body.appendChild(errorState('Dashboards failed', e)); } });
	};
	load();
	return { el, refresh: load };
}

// The values a variable can take, for its picker.
async function variableValues(v: Variable, signal: AbortSignal): Promise<string[]> {
	const q = v.query;
	if (!q) return [];
	if (q.values) return q.values;
	if (q.tag) {
		const r = await api.tagValues(q.tag, signal);
		return r.tagValues.map((x) => x.value).filter((x) => x !== '').sort();
	}
	if (q.catalog) {
		const c = await api.catalog(signal);
		const vals = q.catalog === 'account' ? c.accounts.map((a) => a.id)
			: q.catalog === 'service' ? c.services.map((s) => s.name)
			: c.services.map((s) => s.team || '').filter((t) => t !== '');
		return [...new Set(vals)].sort();
	}
	return [];
}

function seriesName(s: Series): string {
	const parts = s.labels.filter((l) => l.key !== 'p' && l.key !== '__bucket').map((l) => label(s, l.key));
	const hasP = s.labels.some((l) => l.key === 'p');
	if (hasP) parts.push(quantileName(s));
	return parts.length ? parts.join(' · ') : 'value';
}

// Draw one panel's answer into box.
function drawPanel(box: HTMLElement, p: Panel, q: string, r: MetricsResult, stepMs: number): void {
	clear(box);
	const height = Math.max(80, (p.grid?.h ?? 8) * ROW_PX - 48);
	const fmt = (v: number) => fmtUnit(v, p.unit);
	const type: PanelType = p.type ?? 'line';
	if (type === 'heatmap') {
		box.appendChild(heatmapChart('', toHeatmap(r.series, stepMs), undefined, height));
		return;
	}
	if (type === 'stat') {
		const vals = r.series.slice(0, 8).map((s) => ({ name: seriesName(s), v: statValue(q, s.samples) }));
		box.appendChild(vals.length ? h('div', { class: 'dash-stat' }, vals.map((x) => h('div', { class: 'dash-stat-item' },
			h('div', { class: 'stat-value' }, fmt(x.v)), vals.length > 1 || x.name !== 'value' ? h('div', { class: 'muted' }, x.name) : null)))
			: h('div', { class: 'dash-stat' }, h('div', { class: 'stat-value muted' }, '–'), h('div', { class: 'muted' }, 'No data in this time range')));
		return;
	}
	const series = [...r.series].sort((a, b) => seriesName(a).localeCompare(seriesName(b))).slice(0, 20);
	const { xs, lines } = align(series, seriesName);
	box.appendChild(lineChart('', xs, lines, fmt, height, { bars: type === 'bar', stepMs }));
}

// Run panel p with the variable values and draw it; errors show in the panel.
function runPanel(ctx: Ctx, box: HTMLElement, p: Panel, vals: VarValues, signal: AbortSignal): void {
	const q = substitute(p.query, vals);
	const [start, end] = ctx.window();
	const step = stepFor(start, end);
	if (!box.firstChild) box.appendChild(loading('Querying'));
	box.dataset.query = q;
	api.metrics(q, start, end, step, signal).then((r) => {
		drawPanel(box, p, q, r, step * 1000);
		box.dataset.state = 'done';
		box.dataset.series = String(r.series.length);
	}).catch((e) => {
		if (e.name === 'AbortError') return;
		clear(box);
		box.dataset.state = 'error';
		box.appendChild(errorState('This query failed', e));
	});
}

function gridStyle(g: Panel['grid']): string {
	const x = g ?? { x: 0, y: 0, w: 12, h: 8 };
	return `grid-column: ${x.x + 1} / span ${x.w}; grid-row: ${x.y + 1} / span ${x.h};`;
}

function field(text: string, input: HTMLElement): HTMLElement {
	return h('label', { class: 'field' }, h('span', { class: 'field-label' }, text), input);
}

function select(options: { value: string; label: string }[], value: string, onchange: (v: string) => void, aria: string): HTMLSelectElement {
	const s = h('select', { 'aria-label': aria, onchange: () => onchange(s.value) },
		options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
	return s;
}

function dashboardPage(ctx: Ctx, id: string): View {
	const el = h('div', { class: 'view dashboard' });
	el.appendChild(loading('Dashboard'));
	let refresh: (() => void) | undefined;
	dashApi.get(id, ctx.signal).then((d) => {
		clear(el);
		refresh = ctx.params.get('edit') === '1' ? editMode(ctx, el, d) : viewMode(ctx, el, d);
	}).catch((e) => {
		if (e.name === 'AbortError') return;
		clear(el);
		el.appendChild(e instanceof ApiError && e.status === 404
			? h('div', null, emptyState('No such dashboard', `There is no dashboard ${id}; it may have been deleted.`), link('/dashboards', '‹ All dashboards'))
			: errorState('The dashboard failed to load', e));
	});
	return { el, refresh: () => refresh?.() };
}

// The variable pickers; onPick(name, value) after a change. A variable
// that allows it (multiChoices over the panel queries) gets a multiple
// select and an "All" choice. Resolves with the values in force once every
// picker has its options.
function variableBar(ctx: Ctx, vars: Variable[], queries: string[], vals: VarValues, onPick: (name: string, v: VarValue) => void): { el: HTMLElement; ready: Promise<void> } {
	const bar = h('div', { class: 'dash-vars' });
	const waits: Promise<void>[] = [];
	for (const v of vars) {
		const can = multiChoices(v, queries);
		const sel = h('select', { 'data-var': v.name, 'aria-label': v.label || v.name, disabled: true, multiple: can.multi, size: can.multi ? '4' : undefined },
			h('option', null, 'loading…'));
		bar.appendChild(h('label', { class: 'dash-var' }, h('span', { class: 'field-label' }, v.label || v.name), sel));
		const fill = (known: string[]) => {
			clear(sel);
			const lim: Variable = { ...v, multi: can.multi, includeAll: can.all };
			const cur = initialValue(lim, vals[v.name], known);
			vals[v.name] = cur;
			const picked = cur === ALL ? [] : varParamValues(cur).filter((x) => x !== '');
			const opts = [...picked.filter((x) => !known.includes(x)), ...known];
			if (can.all) sel.appendChild(h('option', { value: ALL, selected: cur === ALL }, 'All'));
			for (const o of opts) sel.appendChild(h('option', { value: o, selected: picked.includes(o) }, o));
			if (!opts.length && !can.all) sel.appendChild(h('option', { value: '' }, '(no values)'));
			sel.disabled = false;
			sel.onchange = () => {
				let chosen = [...sel.selectedOptions].map((o) => o.value);
				// values added to All replace it; All added to values wins;
				// nothing picked is All too
				if (vals[v.name] === ALL && chosen.length > 1) chosen = chosen.filter((x) => x !== ALL);
				const next: VarValue = chosen.includes(ALL) || (can.all && !chosen.length) ? ALL : can.multi ? chosen : chosen[0] ?? '';
				for (const o of sel.options) o.selected = next === ALL ? o.value === ALL : chosen.includes(o.value);
				onPick(v.name, next);
			};
		};
		waits.push(variableValues(v, ctx.signal).then(fill).catch((e) => {
			if (e.name !== 'AbortError') { fill([]); sel.title = String(e.message || e); }
		}));
	}
	return { el: bar, ready: Promise.all(waits).then(() => undefined) };
}

function viewMode(ctx: Ctx, el: HTMLElement, d: Dashboard): () => void {
	const vals = varsFromParams(ctx.params, d.variables);
	const shareNote = h('span', { class: 'muted', role: 'status' });
	const share = async () => {
		try { await navigator.clipboard.writeText(location.href); shareNote.textContent = 'Link copied'; } catch { shareNote.textContent = location.href; }
	};
	const remove = async () => {
		if (!confirm(`Delete the dashboard "${d.title}"?`)) return;
		try { await dashApi.remove(d.id!); ctx.navigate('/dashboards'); } catch (e) { shareNote.textContent = String((e as Error).message); }
	};
	const grid = h('div', { class: 'dash-grid' });
	const desc = h('p', { class: 'muted' });
	const titles = () => {
		desc.textContent = substituteText(d.description ?? '', vals);
		for (const { p, box } of boxes) box.parentElement!.querySelector('h3')!.textContent = substituteText(p.title || p.query, vals);
	};
	let run = new AbortController();
	ctx.signal.addEventListener('abort', () => run.abort());
	const boxes = d.panels.map((p) => {
		const box = h('div', { class: 'dash-body' });
		grid.appendChild(h('section', { class: 'panel dash-panel', 'data-panel': p.id ?? '', style: gridStyle(p.grid) },
			h('h3', { class: 'dash-panel-title', title: p.query }, substituteText(p.title || p.query, vals)), box));
		return { p, box };
	});
	const runAll = () => {
		run.abort();
		run = new AbortController();
		for (const { p, box } of boxes) runPanel(ctx, box, p, vals, run.signal);
	};
	const vb = variableBar(ctx, d.variables, d.panels.map((p) => p.query), vals, (name, v) => {
		vals[name] = v;
		ctx.setParams({ [varParam(name)]: varParamValues(v) }, false);
		titles();
		runAll();
	});
	el.append(
		h('div', { class: 'page-head' }, h('h2', null, d.title), h('div', { class: 'spacer' }), shareNote,
			link('/dashboards', '‹ All dashboards'),
			h('button', { class: 'button', onclick: share, title: 'Copy a link to this dashboard with its variables and time range' }, 'Share'),
			h('a', { class: 'button primary', href: buildUrl({ page: 'dashboards', dashboardId: d.id }, { ...paramsObj(ctx), edit: '1' }, ctx.range), 'data-nav': '1' }, 'Edit'),
			h('button', { class: 'button danger', onclick: remove }, 'Delete')),
		desc,
		vb.el,
		d.panels.length ? grid : emptyState('This dashboard has no panels', 'Use Edit to add charts of TraceQL metrics queries.'));
	// the pickers settle the values (URL, default or first known) before the panels run
	vb.ready.then(() => {
		const changes: Record<string, string[]> = {};
		for (const v of d.variables) {
			const want = vals[v.name] === undefined ? [] : varParamValues(vals[v.name]).filter((x) => x !== '');
			if (want.length && want.join('\n') !== ctx.params.getAll(varParam(v.name)).join('\n')) changes[varParam(v.name)] = want;
		}
		if (Object.keys(changes).length) ctx.setParams(changes, true);
		titles();
		runAll();
	});
	return runAll;
}

function paramsObj(ctx: Ctx): Record<string, string | string[]> {
	const o: Record<string, string | string[]> = {};
	for (const k of new Set(ctx.params.keys())) {
		if (k === 'from' || k === 'to' || k === 'live') continue;
		const all = ctx.params.getAll(k);
		o[k] = all.length === 1 ? all[0] : all;
	}
	return o;
}

function editMode(ctx: Ctx, el: HTMLElement, saved: Dashboard): () => void {
	const draft: Dashboard = JSON.parse(JSON.stringify(saved));
	const vals = varsFromParams(ctx.params, draft.variables);
	const status = h('div', { class: 'dash-status', role: 'status' });
	let run = new AbortController();
	ctx.signal.addEventListener('abort', () => run.abort());
	const previews: { p: Panel; box: HTMLElement }[] = [];
	const rerunAll = () => {
		run.abort();
		run = new AbortController();
		for (const x of previews) runPanel(ctx, x.box, x.p, vals, run.signal);
	};
	const save = async () => {
		clear(status);
		try {
			const d = await dashApi.save(saved.id!, draft);
			const keep = paramsObj(ctx);
			delete keep.edit;
			ctx.navigate(buildUrl({ page: 'dashboards', dashboardId: d.id }, keep, ctx.range));
		} catch (e) {
			const conflict = e instanceof ApiError && e.status === 409;
			status.append(errorState(conflict ? 'Someone saved this dashboard since you opened it' : 'The dashboard was not saved', e));
			if (conflict) status.append(h('button', { class: 'button', onclick: () => location.reload() }, 'Reload (your edits are lost)'));
		}
	};
	const body = h('div');
	const render = () => {
		clear(body);
		previews.length = 0;
		const titleIn = h('input', { type: 'text', value: draft.title, 'aria-label': 'Dashboard title', size: '40', oninput: () => { draft.title = titleIn.value; } });
		const descIn = h('input', { type: 'text', value: draft.description ?? '', 'aria-label': 'Description', size: '60', oninput: () => { draft.description = descIn.value; } });
		body.append(h('div', { class: 'panel dash-meta' }, field('Title', titleIn), field('Description', descIn)));
		// variables
		const varBox = h('div', { class: 'panel dash-var-edit' }, h('h3', null, 'Variables'),
			h('p', { class: 'muted' }, 'Use them in panel queries as $name or ${name}, e.g. { resource.service.name = "$service" }. "Several" and "All" apply where every use compares the variable inside { }: several values match any of them, All drops the comparison.'));
		draft.variables.forEach((v, i) => {
			const kind = v.query?.tag !== undefined ? 'tag' : v.query?.values ? 'values' : v.query?.catalog ? 'catalog' : 'none';
			const nameIn = h('input', { type: 'text', value: v.name, size: '12', 'aria-label': 'Variable name', oninput: () => { v.name = nameIn.value.trim(); } });
			const labelIn = h('input', { type: 'text', value: v.label ?? '', size: '12', 'aria-label': 'Variable label', oninput: () => { v.label = labelIn.value; } });
			const srcIn = h('input', {
				type: 'text', size: '28', 'aria-label': 'Values from',
				value: kind === 'tag' ? v.query!.tag! : kind === 'values' ? v.query!.values!.join(', ') : kind === 'catalog' ? v.query!.catalog! : '',
				placeholder: 'resource.service.name | a, b, c | team',
				oninput: () => {
					const t = srcIn.value.trim();
					const k = kindSel.value;
					v.query = k === 'tag' ? { tag: t } : k === 'values' ? { values: t.split(',').map((x) => x.trim()).filter((x) => x) }
						: k === 'catalog' ? { catalog: t as 'team' } : undefined;
				},
			});
			const kindSel = select([{ value: 'tag', label: 'attribute values' }, { value: 'values', label: 'fixed list' }, { value: 'catalog', label: 'catalog (team, service, account)' }, { value: 'none', label: 'free text' }],
				kind, () => srcIn.dispatchEvent(new Event('input')), 'Variable source');
			const defIn = h('input', { type: 'text', value: v.default ?? '', size: '12', 'aria-label': 'Default value', oninput: () => { v.default = defIn.value || undefined; } });
			const multiIn = h('input', { type: 'checkbox', checked: !!v.multi, 'aria-label': 'Several values', onchange: () => { v.multi = multiIn.checked || undefined; } });
			const allIn = h('input', { type: 'checkbox', checked: !!v.includeAll, 'aria-label': 'Offer All', onchange: () => { v.includeAll = allIn.checked || undefined; } });
			varBox.appendChild(h('div', { class: 'dash-var-row' }, field('Name', nameIn), field('Label', labelIn), field('Values from', kindSel), field('', srcIn), field('Default', defIn),
				field('Several', multiIn), field('All', allIn),
				h('button', { class: 'button', onclick: () => { draft.variables.splice(i, 1); render(); } }, 'Remove')));
		});
		varBox.appendChild(h('div', { class: 'dash-actions' },
			h('button', { class: 'button', onclick: () => { draft.variables.push({ name: `var${draft.variables.length + 1}`, query: { tag: 'resource.service.name' } }); render(); } }, 'Add variable'),
			h('button', { class: 'button', onclick: () => render() }, 'Apply variables')));
		body.appendChild(varBox);
		const vb = variableBar(ctx, draft.variables.filter((v) => v.name), draft.panels.map((p) => p.query), vals,
			(name, v) => { vals[name] = v; ctx.setParams({ [varParam(name)]: varParamValues(v) }, true); rerunAll(); });
		body.appendChild(vb.el);
		// panels
		const grid = h('div', { class: 'dash-grid editing' });
		draft.panels.forEach((p, i) => {
			const box = h('div', { class: 'dash-body' });
			previews.push({ p, box });
			let timer: number | undefined;
			const later = () => { window.clearTimeout(timer); timer = window.setTimeout(() => { run.abort(); run = new AbortController(); clear(box); runPanel(ctx, box, p, vals, run.signal); }, 600); };
			const titleP = h('input', { type: 'text', value: p.title, 'aria-label': 'Panel title', oninput: () => { p.title = titleP.value; } });
			const queryP = h('textarea', { class: 'tql', rows: '2', spellcheck: 'false', 'aria-label': 'Panel query', oninput: () => { p.query = queryP.value; later(); } });
			queryP.value = p.query;
			const typeP = select(PANEL_TYPES.map((t) => ({ value: t, label: t })), p.type ?? 'line', (v) => { p.type = v as PanelType; later(); }, 'Panel type');
			const unitP = select(UNITS, p.unit ?? '', (v) => { p.unit = v || undefined; later(); }, 'Unit');
			const g = p.grid ?? (p.grid = nextGrid(draft.panels.slice(0, i)));
			const widthP = select([6, 8, 12, 16, 24].map((w) => ({ value: String(w), label: `${w}/24 wide` })), String(g.w), (v) => { g.w = Number(v); if (g.x + g.w > 24) g.x = 24 - g.w; render(); }, 'Width');
			grid.appendChild(h('section', { class: 'panel dash-panel', 'data-panel': p.id ?? '', style: gridStyle({ ...g, h: g.h + 5 }) },
				h('div', { class: 'dash-panel-edit' }, titleP, queryP, h('div', { class: 'dash-actions' }, typeP, unitP, widthP,
					h('button', { class: 'button', onclick: () => { draft.panels.splice(i, 1); render(); } }, 'Remove panel'))), box));
		});
		body.append(grid, h('div', { class: 'dash-actions' }, h('button', {
			class: 'button', onclick: () => {
				const first = draft.variables[0]?.name;
				draft.panels.push({ title: 'New panel', type: 'line', query: first ? `{ resource.service.name = "$${first}" } | rate()` : '{ } | rate()', grid: nextGrid(draft.panels) });
				render();
			},
		}, 'Add panel')));
		vb.ready.then(rerunAll);
	};
	const keep = paramsObj(ctx);
	delete keep.edit;
	el.append(h('div', { class: 'page-head' }, h('h2', null, `Editing: ${saved.title}`), h('span', { class: 'muted' }, `version ${saved.version}`), h('div', { class: 'spacer' }),
		h('a', { class: 'button', href: buildUrl({ page: 'dashboards', dashboardId: saved.id }, keep, ctx.range), 'data-nav': '1' }, 'Cancel'),
		h('button', { class: 'button primary', onclick: save }, 'Save')), status, body);
	render();
	return rerunAll;
}
