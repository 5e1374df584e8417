// SLOs: the list (objective, SLI, error budget left, the burn rate of each
// alert window pair, firing ones marked), one SLO's page (its figures, burn
// rates, the error budget's burn-down over the window, the groups with the
// least budget left) and the form that creates or edits one; the server's
// validation message, which names the field, is shown beside the form.
import { ApiError, getJson, sendJson } from '../api';
import { NotifyTarget, SEVERITIES, formatPairs, formatTargets, parsePairs, parseTargets } from '../alerting';
import { Ctx, View } from '../app';
import { lineChart } from '../charts';
import { clear, emptyState, errorState, h, link, loading } from '../dom';
import { fmtCount } from '../format';
import { buildUrl } from '../url';
import { fill } from './service';

export interface SloAlert { long: string; short: string; factor: number; severity?: string }
export interface BurnRate extends SloAlert { longRate: number; shortRate: number; firing: boolean }
export interface SloFigures { total: number; bad: number; sli: number | null; budgetRemaining: number; burnRates: BurnRate[] }
export interface SloStatus extends SloFigures {
	objective: number; window: string;
	groups?: (SloFigures & { value: string })[]; groupCount?: number;
	burndown?: [number, number][];
}
export interface Slo {
	id?: string; name: string; service?: string; query: string; objective: number; window: string;
	good: { latencyThreshold?: string; errors?: boolean }; by?: string; alerts?: SloAlert[]; defaultAlerts?: boolean;
	severity?: string; interval?: string; labels?: Record<string, string>; notify?: NotifyTarget[];
	status?: SloFigures;
}

const fmtRatio = (x: number | null | undefined, digits = 3): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(digits)}%`);
const fmtBurn = (x: number): string => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(2) : x.toFixed(1)}×` : '–');

function burnCells(rates: BurnRate[]): HTMLElement {
	return h('span', { class: 'burns chip' }, rates.flatMap((b) => [h('span', {
		class: `burn pill${b.firing ? ' pill-firing' : ''}`, 'data-firing': String(b.firing),
		title: `${b.long}/${b.short}: ${fmtBurn(b.longRate)} over ${b.long}, ${fmtBurn(b.shortRate)} over ${b.short}; fires above ${b.factor}×`,
	}, `${b.long}/${b.short} ${fmtBurn(Math.min(b.longRate, b.shortRate))}${b.firing ? ' ●' : ''}`), ' ']));
}

export function slosView(ctx: Ctx, sloId?: string): View {
	if (sloId === 'new') return sloEditor(ctx);
	return sloId ? sloPage(ctx, sloId) : sloList(ctx);
}

function sloList(ctx: Ctx): View {
	const el = h('div', { class: 'view slos' });
	const body = h('div', { class: 'panel' });
	el.append(h('div', { class: 'page-head' }, h('h2', null, 'SLOs'), h('div', { class: 'spacer' }),
		h('a', { href: '/slos/new', 'data-nav': '1', class: 'button primary' }, 'New SLO')), body);
	const load = () => fill(body, 'SLOs', getJson<{ slos: Slo[] }>('/api/v1/slos', {}, ctx.signal), (r) => {
		if (!r.slos.length) return emptyState('No SLOs yet', 'An SLO is a TraceQL filter choosing requests, what a good one is, and an objective over a window. Use "New SLO" to create one.');
		return h('table', { class: 'grid slos-table' },
			h('thead', null, h('tr', null, ['Name', 'Objective', 'Window', 'SLI', 'Budget left', 'Requests', 'Burn rates (long/short)'].map((c) => h('th', null, c)))),
			h('tbody', null, r.slos.map((s) => {
				const st = s.status!;
				const firing = st.burnRates.some((b) => b.firing);
				return h('tr', { 'data-slo': s.name, class: firing ? 'health-bad' : '' },
					h('td', null, link(buildUrl({ page: 'slos', sloId: s.id }, {}), s.name), s.by ? h('span', { class: 'muted' }, ` by ${s.by}`) : null),
					h('td', { class: 'num' }, fmtRatio(s.objective, 2)),
					h('td', { class: 'num' }, s.window),
					h('td', { class: 'num', 'data-sli': String(st.sli ?? '') }, fmtRatio(st.sli)),
					h('td', { class: `num${st.budgetRemaining < 0 ? ' err' : ''}`, 'data-budget': String(st.budgetRemaining) }, fmtRatio(st.budgetRemaining, 1)),
					h('td', { class: 'num' }, fmtCount(st.total)),
					h('td', null, burnCells(st.burnRates)));
			})));
	});
	load();
	return { el, refresh: load };
}

function sloPage(ctx: Ctx, id: string): View {
	const el = h('div', { class: 'view slo' });
	const head = h('h2', null, 'SLO');
	const stats = h('div', { class: 'panel' });
	const formBox = h('div', { class: 'panel' });
	el.append(h('div', { class: 'page-head' }, head, h('div', { class: 'spacer' }), link('/slos', '‹ All SLOs')), stats, formBox);
	const load = () => fill(stats, 'SLO status', getJson<SloStatus>(`/api/v1/slos/${encodeURIComponent(id)}/status`, { limit: 20 }, ctx.signal), (st) => {
		const bd = st.burndown || [];
		return h('div', null,
			h('div', { class: 'dash-stat slo-figures' },
				figure('Objective', fmtRatio(st.objective, 2)), figure('Window', st.window),
				figure('SLI', fmtRatio(st.sli), 'slo-sli'), figure('Error budget left', fmtRatio(st.budgetRemaining, 1), 'slo-budget'),
				figure('Requests', fmtCount(st.total)), figure('Bad', fmtCount(st.bad))),
			lineChart('Error budget left over the window', bd.map((p) => p[0]), bd.length ? [{ label: 'budget left', values: bd.map((p) => p[1] * 100) }] : [],
				(v) => `${v.toFixed(v > -10 && v < 10 ? 1 : 0)}%`, 200),
			h('h3', null, 'Burn rates'),
			burnTable(st.burnRates),
			st.groups ? h('div', null, h('h3', null, `Groups with the least budget left (${st.groups.length} of ${st.groupCount ?? st.groups.length})`),
				h('table', { class: 'grid slo-groups' }, h('thead', null, h('tr', null, ['Group', 'SLI', 'Budget left', 'Requests', 'Burn rates'].map((c) => h('th', null, c)))),
					h('tbody', null, st.groups.map((g) => h('tr', { 'data-group': g.value, class: g.burnRates.some((b) => b.firing) ? 'health-bad' : '' },
						h('td', { class: 'mono' }, g.value), h('td', { class: 'num' }, fmtRatio(g.sli)),
						h('td', { class: `num${g.budgetRemaining < 0 ? ' err' : ''}` }, fmtRatio(g.budgetRemaining, 1)),
						h('td', { class: 'num' }, fmtCount(g.total)), h('td', null, burnCells(g.burnRates))))))) : null);
	});
	formBox.appendChild(loading('SLO'));
	getJson<Slo>(`/api/v1/slos/${encodeURIComponent(id)}`, {}, ctx.signal).then((s) => {
		head.textContent = s.name;
		clear(formBox);
		formBox.appendChild(sloForm(ctx, s));
	}).catch((e) => {
		if (e.name === 'AbortError') return;
		clear(formBox);
		formBox.appendChild(errorState('This SLO cannot be loaded', e));
	});
	load();
	return { el, refresh: load };
}

function figure(label: string, value: string, cls = ''): HTMLElement {
	return h('div', { class: `dash-stat-item figure ${cls}` }, h('div', { class: 'stat-value figure-value' }, value), h('div', { class: 'figure-label muted' }, label));
}

function burnTable(rates: BurnRate[]): HTMLElement {
	return h('table', { class: 'grid slo-burns' },
		h('thead', null, h('tr', null, ['Windows', 'Fires above', 'Severity', 'Long window', 'Short window', 'State'].map((c) => h('th', null, c)))),
		h('tbody', null, rates.map((b) => h('tr', { class: b.firing ? 'health-bad' : '', 'data-window': `${b.long}/${b.short}` },
			h('td', null, `${b.long} / ${b.short}`), h('td', { class: 'num' }, fmtBurn(b.factor)), h('td', null, b.severity || ''),
			h('td', { class: 'num' }, fmtBurn(b.longRate)), h('td', { class: 'num' }, fmtBurn(b.shortRate)),
			h('td', { class: b.firing ? 'err' : 'muted' }, b.firing ? 'firing' : 'ok')))));
}

function sloEditor(ctx: Ctx): View {
	const el = h('div', { class: 'view slo-edit' });
	el.append(h('div', { class: 'page-head' }, h('h2', null, 'New SLO'), h('div', { class: 'spacer' }), link('/slos', '‹ All SLOs')),
		h('div', { class: 'panel' }, sloForm(ctx)));
	return { el };
}

function field(labelText: string, input: HTMLElement, hint?: string): HTMLElement {
	return h('label', { class: 'field' }, h('span', { class: 'field-label' }, labelText), input, hint ? h('span', { class: 'field-hint muted' }, hint) : null);
}

// "1h 5m 14.4 critical" per line to alerts; empty = the default set.
export function parseAlerts(text: string): { value?: SloAlert[]; error?: string } {
	const out: SloAlert[] = [];
	for (const raw of text.split('\n')) {
		const w = raw.trim().split(/\s+/).filter((x) => x);
		if (!w.length) continue;
		if (w.length < 3 || !Number.isFinite(Number(w[2]))) return { error: `alerts: "${raw.trim()}" must be "long short factor [severity]", e.g. "1h 5m 14.4"` };
		out.push({ long: w[0], short: w[1], factor: Number(w[2]), ...(w[3] ? { severity: w[3] } : {}) });
	}
	return { value: out.length ? out : undefined };
}

function sloForm(ctx: Ctx, s?: Slo): HTMLElement {
	const inp = (name: string, value: string, attrs: Record<string, string | number> = {}) => h('input', { name, id: `slo-${name}`, value, ...attrs });
	const name = inp('name', s?.name || '', { placeholder: 'checkout availability', class: 'wide' });
	const query = h('textarea', { name: 'query', id: 'slo-query', rows: 2, class: 'tql', spellcheck: 'false' }, s?.query || '{ resource.service.name = "checkout" && kind = server }');
	const objective = inp('objective', s ? String(s.objective) : '0.999', { size: 8, inputmode: 'decimal' });
	const windowIn = inp('window', s?.window || '30d', { size: 6 });
	const latency = inp('latency', s?.good.latencyThreshold || '', { size: 8, placeholder: 'e.g. 300ms' });
	const errorsBad = h('input', { type: 'checkbox', name: 'errors', id: 'slo-errors', checked: s ? s.good.errors === false : true });
	const by = inp('by', s?.by || '', { placeholder: 'span.customer.id (optional)', class: 'wide' });
	const severity = h('select', { name: 'severity', id: 'slo-severity' }, SEVERITIES.map((x) => h('option', { value: x, selected: x === (s?.severity || 'critical') }, x)));
	const interval = inp('interval', s?.interval || '30s', { size: 6 });
	const alerts = h('textarea', { name: 'alerts', id: 'slo-alerts', rows: 3, placeholder: 'empty: 1h 5m 14.4 · 6h 30m 6 · 1d 2h 3 · 3d 6h 1' },
		s && !s.defaultAlerts ? (s.alerts || []).map((a) => `${a.long} ${a.short} ${a.factor} ${a.severity || ''}`.trim()).join('\n') : '');
	const labels = h('textarea', { name: 'labels', id: 'slo-labels', rows: 2, placeholder: 'team=payments' }, formatPairs(s?.labels));
	const notify = h('textarea', { name: 'notify', id: 'slo-notify', rows: 2, placeholder: 'webhook https://hooks.example/clew\nslack team' }, formatTargets(s?.notify));
	const err = h('div', { class: 'form-error', role: 'alert', hidden: true });
	const ok = h('div', { class: 'form-ok', role: 'status', hidden: true });
	const showErr = (m: string) => { err.hidden = !m; err.textContent = m; ok.hidden = true; };
	const save = h('button', { type: 'submit', class: 'primary' }, s ? 'Save SLO' : 'Create SLO');
	const form = h('form', {
		class: 'rule-form slo-form', onsubmit: (e: Event) => {
			e.preventDefault();
			const l = parsePairs(labels.value, 'labels');
			const t = parseTargets(notify.value);
			const a = parseAlerts(alerts.value);
			const bad = l.error || t.error || a.error;
			if (bad) { showErr(bad); return; }
			const body: Slo = {
				name: name.value.trim(), query: query.value.trim(), objective: Number(objective.value), window: windowIn.value.trim(),
				good: { ...(latency.value.trim() ? { latencyThreshold: latency.value.trim() } : {}), errors: !errorsBad.checked },
				...(by.value.trim() ? { by: by.value.trim() } : {}), severity: severity.value, interval: interval.value.trim() || '30s',
				labels: l.value, notify: t.value, ...(a.value ? { alerts: a.value } : {}),
			};
			if (s?.service) body.service = s.service;
			save.disabled = true;
			sendJson<Slo>(s ? 'PUT' : 'POST', s ? `/api/v1/slos/${encodeURIComponent(s.id!)}` : '/api/v1/slos', body).then((saved) => {
				save.disabled = false;
				showErr('');
				if (!s && saved.id) ctx.navigate(buildUrl({ page: 'slos', sloId: saved.id }, {}));
				else { ok.hidden = false; ok.textContent = 'Saved.'; }
			}).catch((e2) => {
				save.disabled = false;
				showErr(e2 instanceof ApiError ? e2.message.replace(/^\/api\/v1\/slos\S* answered \d+: /, '') : String(e2));
			});
		},
	},
	field('Name', name),
	field('Requests (TraceQL spanset filter)', query),
	h('div', { class: 'field-row' }, field('Objective', objective, 'e.g. 0.999'), field('Window', windowIn, 'e.g. 30d, 7d'), field('Evaluate every', interval)),
	h('div', { class: 'field-row' }, field('Good if not slower than', latency), field('Errors are bad', errorsBad), field('Severity of pages', severity)),
	field('Per group (by)', by, 'one attribute: a budget and burn alerts per value'),
	field('Burn alerts (long short factor [severity] per line)', alerts, 'empty: the default pages and tickets'),
	field('Labels (key=value per line)', labels),
	field('Notify (one target per line)', notify, '"webhook URL", "slack team", "pagerduty account KEY"'),
	err, ok,
	h('div', { class: 'form-actions' }, save, s ? deleteButton(ctx, s.id!, showErr) : null));
	return form;
}

function deleteButton(ctx: Ctx, id: string, showErr: (m: string) => void): HTMLElement {
	const box = h('span', { class: 'confirm' });
	const ask = h('button', { type: 'button', class: 'danger', onclick: () => {
		clear(box);
		const yes = h('button', { type: 'button', class: 'danger', onclick: () => {
			sendJson('DELETE', `/api/v1/slos/${encodeURIComponent(id)}`).then(() => ctx.navigate('/slos')).catch((e) => showErr((e as Error).message));
		} }, 'Yes, delete');
		box.append(h('span', null, 'Delete this SLO, its counts and its alerts? '), yes, h('button', { type: 'button', onclick: () => { clear(box); box.appendChild(ask); ask.focus(); } }, 'Cancel'));
		yes.focus();
	} }, 'Delete…');
	box.appendChild(ask);
	return box;
}
