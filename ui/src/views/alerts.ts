// Alerts: firing and pending instances (rule, group labels, value against
// the threshold, since when, owning team, a link to the group's spans in
// explore), the recently resolved ones, silences (create from matchers and
// an expiry, delete) and the newest notification deliveries. The home
// page's "Firing alerts" panel reuses the instance list.
import { ApiError, api } from '../api';
import { AlertInstance, AlertRule, fmtAge, instanceExplore, instanceMatchers, silenceBody, sinceMs } from '../alerting';
import { Ctx, View } from '../app';
import { clear, emptyState, errorState, h, link } from '../dom';
import { fmtDateTime } from '../format';
import { buildUrl } from '../url';
import { fill } from './service';

// A value in the query's unit with 3 significant digits.
export function fmtVal(v: number | undefined): string {
	if (v === undefined || !Number.isFinite(v)) return '–';
	if (v === 0) return '0';
	const a = Math.abs(v);
	if (a >= 1000 || a < 0.001) return v.toExponential(2);
	return String(Number(v.toPrecision(3)));
}

// True when the server has no alerting (404 or 503): shown as such.
export function alertingOff(e: unknown): boolean {
	return e instanceof ApiError && (e.status === 404 || e.status === 503);
}

function labelText(a: AlertInstance): string {
	const l = Object.entries(a.labels).map(([k, v]) => `${k.replace(/^(span|resource)\./, '')}=${v}`);
	return l.length ? l.join(', ') : 'all spans';
}

// Instances as a table; rules (by id) give the query for the explore link
// and the condition's operator.
export function instanceTable(ctx: Ctx, list: AlertInstance[], rules: Map<string, AlertRule>, opts: { compact?: boolean; onSilence?: (a: AlertInstance) => void } = {}): HTMLElement {
	const now = Date.now();
	const head = opts.compact ? ['Alert', 'Value', 'Since'] : ['Rule', 'Group', 'State', 'Value', 'Since', 'Owner', ''];
	return h('table', { class: 'grid alerts-table' }, h('thead', null, h('tr', null, head.map((c) => h('th', null, c)))),
		h('tbody', null, list.map((a) => {
			const rule = rules.get(a.ruleId);
			const op = rule?.condition.op || '>';
			const ex = rule ? instanceExplore(a, rule.query, now) : null;
			const exLink = ex ? link(buildUrl({ page: 'explore' }, { q: ex.q }, { from: ex.from, to: ex.to, live: false }), opts.compact ? labelText(a) : 'spans ›') : null;
			const since = sinceMs(a);
			const sinceText = a.state === 'resolved' && a.resolvedNs > 0 ? `resolved ${fmtAge(now - a.resolvedNs / 1e6)} ago` : since ? `${fmtAge(now - since)}` : '–';
			const value = h('span', { class: a.state === 'firing' ? 'err' : a.state === 'pending' ? 'warn' : '' }, `${fmtVal(a.value)} ${op} ${fmtVal(a.threshold)}`);
			const sev = h('span', { class: `sev sev-${a.severity || 'warning'}`, title: `severity ${a.severity || 'warning'}` }, (a.severity || 'warning')[0].toUpperCase());
			const ruleLink = link(buildUrl({ page: 'rules', ruleId: a.ruleId }, {}), a.rule);
			if (opts.compact) {
				return h('tr', { class: `alert-row state-${a.state}`, 'data-rule': a.rule },
					h('td', null, sev, ruleLink, h('div', { class: 'muted small' }, exLink || labelText(a), a.team ? ` · ${a.team}` : '')),
					h('td', { class: 'num' }, value), h('td', { class: 'num muted', title: since ? fmtDateTime(since) : '' }, sinceText));
			}
			return h('tr', { class: `alert-row state-${a.state}`, 'data-rule': a.rule },
				h('td', null, sev, ruleLink), h('td', { class: 'mono' }, labelText(a)),
				h('td', null, h('span', { class: `pill pill-${a.state}` }, a.state)), h('td', { class: 'num' }, value),
				h('td', { class: 'num', title: since ? fmtDateTime(since) : '' }, sinceText),
				h('td', null, a.team || h('span', { class: 'muted' }, '–'), a.service ? h('span', { class: 'muted' }, ` (${a.service})`) : null),
				h('td', { class: 'actions' }, exLink,
					opts.onSilence && a.state !== 'resolved' ? h('button', { class: 'linkish', onclick: () => opts.onSilence!(a) }, 'silence') : null));
		})));
}

async function loadAlerts(signal: AbortSignal): Promise<{ alerts: AlertInstance[]; rules: Map<string, AlertRule> }> {
	const [a, r] = await Promise.all([api.alerts({}, signal), api.rules(signal).catch(() => ({ rules: [] as AlertRule[] }))]);
	return { alerts: a.alerts || [], rules: new Map(r.rules.map((x) => [x.id || '', x])) };
}

// The home page's firing panel.
export function firingPanel(ctx: Ctx, box: HTMLElement): void {
	fill(box, 'Alerts', loadAlerts(ctx.signal).catch((e) => { if (alertingOff(e)) return null; throw e; }), (j) => {
		if (!j) return h('div', { class: 'muted' }, 'Alerting is not enabled on this server.');
		const firing = j.alerts.filter((a) => a.state === 'firing').sort((x, y) => sevRank(y) - sevRank(x) || sinceMs(x) - sinceMs(y));
		const pending = j.alerts.filter((a) => a.state === 'pending').length;
		const more = h('div', { class: 'muted small' }, pending ? `${pending} pending · ` : '', link('/alerts', 'all alerts ›'));
		if (!firing.length) return h('div', null, h('div', { class: 'muted' }, j.rules.size ? 'No alert is firing.' : 'No alert rules yet. '), !j.rules.size ? link('/alerts/rules/new', 'Create one ›') : null, more);
		return h('div', null, instanceTable(ctx, firing.slice(0, 10), j.rules, { compact: true }), firing.length > 10 ? h('div', { class: 'muted small' }, `and ${firing.length - 10} more`) : null, more);
	});
}

function sevRank(a: AlertInstance): number {
	return a.severity === 'critical' ? 2 : a.severity === 'warning' ? 1 : 0;
}

function section(title: string, body: HTMLElement, ...extra: (Node | null)[]): HTMLElement {
	return h('section', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h3', null, title), ...extra), body);
}

export function alertsView(ctx: Ctx): View {
	const el = h('div', { class: 'view alerts' });
	const active = h('div');
	const resolved = h('div');
	const silences = h('div');
	const deliveries = h('div');
	const matchersIn = h('input', { id: 'sil-matchers', class: 'wide', placeholder: 'span.customer.id=acct-1, rule=…', 'aria-label': 'Silence matchers', value: ctx.params.get('silence') || '' });
	const expiresIn = h('input', { id: 'sil-expires', size: 6, 'aria-label': 'Expires in', value: ctx.params.get('expires') || '2h' });
	const commentIn = h('input', { id: 'sil-comment', placeholder: 'comment', 'aria-label': 'Comment' });
	const silErr = h('div', { class: 'form-error', role: 'alert', hidden: true });
	const silForm = h('form', {
		class: 'silence-form', onsubmit: (e: Event) => {
			e.preventDefault();
			const b = silenceBody(matchersIn.value, expiresIn.value, commentIn.value);
			silErr.hidden = !b.error;
			silErr.textContent = b.error || '';
			if (!b.body) return;
			api.addSilence(b.body).then(() => {
				matchersIn.value = ''; commentIn.value = '';
				ctx.setParams({ silence: null, expires: null });
				load();
			}).catch((err) => { silErr.hidden = false; silErr.textContent = (err as Error).message; });
		},
	}, h('label', null, 'Matchers ', matchersIn), h('label', null, 'Expires in ', expiresIn), commentIn,
	h('button', { type: 'submit', class: 'primary' }, 'Create silence'), silErr);
	const onSilence = (a: AlertInstance) => {
		matchersIn.value = instanceMatchers(a);
		ctx.setParams({ silence: matchersIn.value });
		matchersIn.focus();
	};
	el.append(h('div', { class: 'page-head' }, h('h2', null, 'Alerts'), h('div', { class: 'spacer' }), link('/alerts/rules', 'Alert rules ›'), link('/alerts/rules/new', 'New rule ›')),
		section('Firing and pending', active),
		section('Silences', h('div', null, silForm, silences)),
		h('div', { class: 'two-col' }, section('Recently resolved', resolved), section('Recent deliveries', deliveries)));

	const load = () => {
		const p = loadAlerts(ctx.signal);
		fill(active, 'Alerts', p, (j) => {
			const list = j.alerts.filter((a) => a.state === 'firing' || a.state === 'pending')
				.sort((x, y) => Number(y.state === 'firing') - Number(x.state === 'firing') || sevRank(y) - sevRank(x) || sinceMs(x) - sinceMs(y));
			if (!list.length) return emptyState('Nothing is firing or pending', j.rules.size ? `${j.rules.size} rule${j.rules.size > 1 ? 's' : ''} evaluated; all groups are within their conditions.` : 'There are no alert rules yet: create one from the alert rules page.');
			return instanceTable(ctx, list, j.rules, { onSilence });
		});
		fill(resolved, 'Resolved alerts', p, (j) => {
			const list = j.alerts.filter((a) => a.state === 'resolved').sort((x, y) => y.resolvedNs - x.resolvedNs);
			return list.length ? instanceTable(ctx, list, j.rules) : h('div', { class: 'muted' }, 'No alert resolved in the last 15 minutes.');
		});
		fill(silences, 'Silences', api.silences(ctx.signal), (j) => {
			if (!j.silences.length) return h('div', { class: 'muted' }, 'No silences.');
			return h('table', { class: 'grid silences' }, h('thead', null, h('tr', null, ['Matchers', 'Active', 'Ends', 'Comment', ''].map((c) => h('th', null, c)))),
				h('tbody', null, j.silences.sort((a, b) => a.endsAt - b.endsAt).map((s) => h('tr', { 'data-silence': s.id },
					h('td', { class: 'mono' }, Object.entries(s.matchers).map(([k, v]) => `${k}=${v}`).join(', ')),
					h('td', null, s.active ? 'yes' : h('span', { class: 'muted' }, 'not yet')),
					h('td', { class: 'num', title: fmtDateTime(s.endsAt * 1000) }, `in ${fmtAge(s.endsAt * 1000 - Date.now())}`),
					h('td', null, s.comment || h('span', { class: 'muted' }, '–'), s.createdBy ? h('span', { class: 'muted' }, ` (${s.createdBy})`) : null),
					h('td', { class: 'actions' }, h('button', {
						class: 'linkish', 'aria-label': `Delete silence ${s.id}`, onclick: (e: Event) => {
							(e.target as HTMLButtonElement).disabled = true;
							api.deleteSilence(s.id).then(load).catch((err) => { clear(silences); silences.appendChild(errorState('Deleting the silence failed', err)); });
						},
					}, 'delete'))))));
		});
		fill(deliveries, 'Deliveries', api.deliveries(30, ctx.signal), (j) => {
			if (!j.deliveries.length) return h('div', { class: 'muted' }, 'No notification sent yet.');
			return h('table', { class: 'grid deliveries' }, h('thead', null, h('tr', null, ['Time', 'Status', 'Target', 'Attempt', 'Answer'].map((c) => h('th', null, c)))),
				h('tbody', null, j.deliveries.map((d) => h('tr', null,
					h('td', { class: 'num' }, fmtDateTime(d.time * 1000)),
					h('td', null, h('span', { class: `pill pill-${d.status}` }, d.status)),
					h('td', { class: 'mono trunc', title: d.url }, `${d.type} ${d.url}`),
					h('td', { class: 'num' }, String(d.attempt)),
					h('td', { class: d.error ? 'err' : 'muted' }, d.httpStatus ? String(d.httpStatus) : '', d.error ? ` ${d.error}` : '')))));
		});
	};
	load();
	return { el, refresh: load };
}
