// Alert rules: the list (condition, schedule, severity, instances firing
// now) and the form that creates or edits one rule, with a live preview of
// its query over the last hour drawn against the threshold, so the user
// sees which groups would breach before saving. The server's validation
// message is shown beside the form; delete asks for confirmation.
import { api, label } from '../api';
import { AlertRule, EMPTY_FORM, OPS, RuleForm, SEVERITIES, formToRule, previewRows, ruleToForm } from '../alerting';
import { Ctx, View } from '../app';
import { LineSeries, lineChart } from '../charts';
import { clear, emptyState, errorState, h, link, loading } from '../dom';
import { buildUrl } from '../url';
import { fmtVal } from './alerts';
import { align } from './common';
import { fill } from './service';

function seriesName(labels: { key: string }[], s: Parameters<typeof label>[0]): string {
	const parts = labels.map((l) => `${l.key.replace(/^(span|resource)\./, '')}=${label(s, l.key)}`);
	return parts.length ? parts.join(', ') : 'all spans';
}

export function rulesView(ctx: Ctx, ruleId?: string): View {
	return ruleId ? ruleEditor(ctx, ruleId === 'new' ? undefined : ruleId) : ruleList(ctx);
}

function ruleList(ctx: Ctx): View {
	const el = h('div', { class: 'view rules' });
	const body = h('div', { class: 'panel' });
	el.append(h('div', { class: 'page-head' }, h('h2', null, 'Alert rules'), h('div', { class: 'spacer' }), link('/alerts', 'Alerts ›'),
		h('a', { href: '/alerts/rules/new', 'data-nav': '1', class: 'button primary' }, 'New rule')), body);
	const load = () => fill(body, 'Alert rules', Promise.all([api.rules(ctx.signal), api.alerts({}, ctx.signal)]), ([r, a]) => {
		if (!r.rules.length) return emptyState('No alert rules yet', 'A rule is a TraceQL metrics query with a condition, evaluated per group (e.g. per account). Use "New rule" to create one.');
		const count = (id: string, st: string) => a.alerts.filter((x) => x.ruleId === id && x.state === st).length;
		return h('table', { class: 'grid rules-table' }, h('thead', null, h('tr', null, ['Name', 'Query', 'Condition', 'Every / for', 'Severity', 'Firing', 'Pending'].map((c) => h('th', null, c)))),
			h('tbody', null, r.rules.map((x) => h('tr', { 'data-rule': x.name, class: count(x.id!, 'firing') ? 'health-bad' : '' },
				h('td', null, link(buildUrl({ page: 'rules', ruleId: x.id }, {}), x.name), x.enabled === false ? h('span', { class: 'muted' }, ' (disabled)') : null),
				h('td', { class: 'mono trunc', title: x.query }, x.query),
				h('td', { class: 'num' }, `${x.condition.op} ${fmtVal(x.condition.threshold)}`),
				h('td', { class: 'num' }, `${x.interval || '10s'} / ${x.for || '0s'}`),
				h('td', null, h('span', { class: `sev sev-${x.severity}` }, (x.severity || 'w')[0].toUpperCase()), x.severity || ''),
				h('td', { class: `num${count(x.id!, 'firing') ? ' err' : ''}` }, String(count(x.id!, 'firing'))),
				h('td', { class: 'num' }, String(count(x.id!, 'pending')))))));
	});
	load();
	return { el, refresh: load };
}

function field(labelText: string, input: HTMLElement, hint?: string): HTMLElement {
	return h('label', { class: 'field' }, h('span', { class: 'field-label' }, labelText), input, hint ? h('span', { class: 'field-hint muted' }, hint) : null);
}

function ruleEditor(ctx: Ctx, id?: string): View {
	const el = h('div', { class: 'view rule-edit' });
	const formBox = h('div', { class: 'panel' });
	const preview = h('div', { class: 'panel preview' });
	el.append(h('div', { class: 'page-head' }, h('h2', null, id ? 'Edit alert rule' : 'New alert rule'), h('div', { class: 'spacer' }), link('/alerts/rules', '‹ All rules')),
		h('div', { class: 'rule-grid' }, formBox, preview));
	const build = (rule?: AlertRule) => {
		clear(formBox);
		const f: RuleForm = rule ? ruleToForm(rule) : {
			...EMPTY_FORM,
			query: ctx.params.get('q') || EMPTY_FORM.query,
			threshold: ctx.params.get('threshold') || EMPTY_FORM.threshold,
			op: ctx.params.get('op') || EMPTY_FORM.op,
		};
		const inp = (name: keyof RuleForm, attrs: Record<string, string | number> = {}) => h('input', { name, id: `rule-${name}`, value: f[name], ...attrs });
		const name = inp('name', { placeholder: 'account p99 latency', class: 'wide' });
		const query = h('textarea', { name: 'query', id: 'rule-query', rows: 3, class: 'tql', spellcheck: 'false' }, f.query);
		const op = h('select', { name: 'op', id: 'rule-op' }, OPS.map((o) => h('option', { value: o, selected: o === f.op }, o)));
		const threshold = inp('threshold', { size: 8, inputmode: 'decimal' });
		const clearIn = inp('clear', { size: 8, placeholder: 'threshold' });
		const interval = inp('interval', { size: 6 });
		const forIn = inp('for', { size: 6 });
		const range = inp('range', { size: 6, placeholder: 'auto' });
		const severity = h('select', { name: 'severity', id: 'rule-severity' }, SEVERITIES.map((s) => h('option', { value: s, selected: s === f.severity }, s)));
		const labels = h('textarea', { name: 'labels', id: 'rule-labels', rows: 2, placeholder: 'team=billing' }, f.labels);
		const notify = h('textarea', { name: 'notify', id: 'rule-notify', rows: 2, placeholder: 'webhook https://hooks.example/clew\nslack team' }, f.notify);
		const groupBy = inp('groupBy', { placeholder: 'span.customer.id', class: 'wide' });
		const err = h('div', { class: 'form-error', role: 'alert', hidden: true });
		const ok = h('div', { class: 'form-ok', role: 'status', hidden: true });
		const read = (): RuleForm => ({
			name: name.value, query: query.value, op: op.value, threshold: threshold.value, clear: clearIn.value,
			interval: interval.value, for: forIn.value, range: range.value, severity: severity.value,
			labels: labels.value, notify: notify.value, groupBy: groupBy.value,
		});
		const showErr = (m: string) => { err.hidden = !m; err.textContent = m; ok.hidden = true; };
		const save = h('button', { type: 'submit', class: 'primary' }, id ? 'Save rule' : 'Create rule');
		const form = h('form', {
			class: 'rule-form', onsubmit: (e: Event) => {
				e.preventDefault();
				const r = formToRule(read());
				if (!r.rule) { showErr(r.error || 'invalid rule'); return; }
				if (rule?.enabled !== undefined) r.rule.enabled = rule.enabled;
				save.disabled = true;
				api.saveRule(r.rule, id).then((saved) => {
					save.disabled = false;
					showErr('');
					if (!id && saved.id) ctx.navigate(buildUrl({ page: 'rules', ruleId: saved.id }, {}));
					else { ok.hidden = false; ok.textContent = 'Saved.'; }
				}).catch((e2) => { save.disabled = false; showErr((e2 as Error).message.replace(/^\/api\/v1\/alert-rules\S* answered 400: /, '')); });
			},
		},
		field('Name', name),
		field('TraceQL metrics query', query, 'rate, count_over_time, min/max/avg/sum_over_time or quantile_over_time, by(...) for groups'),
		h('div', { class: 'field-row' }, field('Condition', h('span', { class: 'cond' }, op, threshold)), field('Clear at', clearIn), field('Severity', severity)),
		h('div', { class: 'field-row' }, field('Every', interval), field('For', forIn), field('Range', range)),
		field('Labels (key=value per line)', labels),
		field('Notify (one target per line)', notify, '"webhook URL", "slack team", "pagerduty account KEY"; add min=critical to filter'),
		field('Group notifications by', groupBy, 'by() labels, comma separated'),
		err, ok,
		h('div', { class: 'form-actions' }, save, h('button', { type: 'button', onclick: () => runPreview() }, 'Preview'),
			id ? deleteButton(ctx, id, showErr) : null));
		formBox.appendChild(form);
		let timer: number | undefined;
		const runPreview = () => {
			window.clearTimeout(timer);
			const fv = read();
			if (!id) ctx.setParams({ q: fv.query !== EMPTY_FORM.query ? fv.query : null, threshold: fv.threshold !== EMPTY_FORM.threshold ? fv.threshold : null, op: fv.op !== '>' ? fv.op : null });
			drawPreview(ctx, preview, fv);
		};
		const later = () => { window.clearTimeout(timer); timer = window.setTimeout(runPreview, 600); };
		for (const x of [query, threshold, op]) x.addEventListener('input', later);
		op.addEventListener('change', later);
		runPreview();
	};
	if (id) {
		formBox.appendChild(loading('Alert rule'));
		api.rule(id, ctx.signal).then((r) => build(r)).catch((e) => {
			if (e.name === 'AbortError') return;
			clear(formBox);
			formBox.appendChild(errorState('This alert rule cannot be loaded', e));
			clear(preview);
		});
	} else {
		build();
	}
	return { el };
}

function deleteButton(ctx: Ctx, id: string, showErr: (m: string) => void): HTMLElement {
	const box = h('span', { class: 'confirm' });
	const ask = h('button', { type: 'button', class: 'danger', onclick: () => {
		clear(box);
		const yes = h('button', { type: 'button', class: 'danger', onclick: () => {
			api.deleteRule(id).then(() => ctx.navigate('/alerts/rules')).catch((e) => showErr((e as Error).message));
		} }, 'Yes, delete');
		box.append(h('span', null, 'Delete this rule and its alerts? '), yes, h('button', { type: 'button', onclick: () => { clear(box); box.appendChild(ask); ask.focus(); } }, 'Cancel'));
		yes.focus();
	} }, 'Delete…');
	box.appendChild(ask);
	return box;
}

// The query's series over the last hour against the threshold line, and the
// groups that breach it now.
function drawPreview(ctx: Ctx, box: HTMLElement, f: RuleForm): void {
	const threshold = Number(f.threshold);
	const q = f.query.trim();
	if (!q) { clear(box); box.appendChild(emptyState('Preview', 'Type a metrics query to see its series.')); return; }
	const end = Date.now(), start = end - 3600000;
	fill(box, 'Preview', api.metrics(q, start, end, 60, ctx.signal), (r) => {
		const keys = r.series[0]?.labels.filter((l) => l.key !== '__name__' && l.key !== 'p') || [];
		const a = align(r.series, (s) => seriesName(keys, s));
		const rows = previewRows(a.lines, f.op, threshold);
		const breachNames = new Set(rows.filter((x) => x.breachNow).map((x) => x.label));
		const top = a.lines.slice().sort((x, y) => Number(breachNames.has(y.label)) - Number(breachNames.has(x.label))).slice(0, 12);
		const lines: LineSeries[] = [...top];
		if (Number.isFinite(threshold)) lines.push({ label: `threshold ${f.op} ${fmtVal(threshold)}`, values: a.xs.map(() => threshold), color: '#d6453d' });
		const breaching = rows.filter((x) => x.breachNow);
		return h('div', null,
			h('h3', null, 'Preview: last hour'),
			lineChart(`${r.series.length} series${r.series.length > top.length ? ` (${top.length} shown)` : ''}`, a.xs, a.xs.length ? lines : [], fmtVal, 220),
			h('div', { class: `preview-summary ${breaching.length ? 'err' : 'muted'}`, 'data-breaching': breaching.length },
				r.series.length ? (breaching.length ? `${breaching.length} of ${rows.length} group${rows.length > 1 ? 's' : ''} breach now` : `No group breaches ${f.op} ${fmtVal(threshold)} now`) : 'The query matched no spans in the last hour.'),
			rows.length ? h('table', { class: 'grid' }, h('thead', null, h('tr', null, ['Group', 'Now', 'Breaching minutes'].map((c) => h('th', null, c)))),
				h('tbody', null, rows.slice(0, 20).map((x) => h('tr', { class: x.breachNow ? 'health-bad' : '' },
					h('td', { class: 'mono' }, x.label), h('td', { class: `num${x.breachNow ? ' err' : ''}` }, fmtVal(x.last)),
					h('td', { class: 'num' }, `${x.breachSamples} / ${x.samples}`))))) : null);
	});
}
