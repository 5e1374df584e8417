// Alerting logic the alert pages share, kept pure so it is unit-tested: the
// rule form's fields to the API's rule JSON and back, condition checks for
// the threshold preview (which groups would breach), silence bodies from
// matcher text, the explore deep link of an alert instance, and durations.

export type Op = '>' | '>=' | '<' | '<=' | '=' | '!=';
export const OPS: Op[] = ['>', '>=', '<', '<=', '=', '!='];
export const SEVERITIES = ['info', 'warning', 'critical'];
export const TARGET_TYPES = ['webhook', 'slack', 'pagerduty'];

export interface NotifyTarget { type: string; url?: string; to?: string; minSeverity?: string; routingKey?: string }
export interface AlertRule {
	id?: string; name: string; query: string;
	condition: { op: Op; threshold: number; clear?: number };
	interval?: string; for?: string; range?: string; renotify?: string;
	severity?: string; labels?: Record<string, string>; notify?: NotifyTarget[]; groupBy?: string[];
	enabled?: boolean; createdNs?: number; updatedNs?: number;
}
export interface AlertInstance {
	ruleId: string; rule: string; key: string; labels: Record<string, string>; state: string; value: number;
	pendingSinceNs: number; firedNs: number; resolvedNs: number; lastNotifyNs: number; notified: boolean;
	service: string; team: string; severity?: string; threshold?: number; exampleTraceIds?: string[];
}
export interface Silence { id: string; matchers: Record<string, string>; startsAt: number; endsAt: number; active: boolean; comment: string; createdBy: string }
export interface Delivery { seq: number; time: number; status: string; type: string; url: string; attempt: number; httpStatus: number; error: string }

// The form's fields, all strings as the inputs hold them.
export interface RuleForm {
	name: string; query: string; op: string; threshold: string; clear: string;
	interval: string; for: string; range: string; severity: string;
	labels: string; // "key=value" per line
	notify: string; // one target per line: "webhook https://…", "slack team", "pagerduty account KEY"
	groupBy: string; // comma separated
}

export const EMPTY_FORM: RuleForm = {
	name: '', query: '{ kind = server } | quantile_over_time(duration, 0.99) by (resource.service.name)',
	op: '>', threshold: '1', clear: '', interval: '10s', for: '1m', range: '', severity: 'warning', labels: '', notify: '', groupBy: '',
};

// "k=v" lines (or "k: v") to an object; lines without a key are errors.
export function parsePairs(text: string, what: string): { value: Record<string, string>; error?: string } {
	const value: Record<string, string> = {};
	for (const raw of text.split(/\n|,(?=[^,=:]+[=:])/)) {
		const line = raw.trim();
		if (!line) continue;
		const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
		if (!m || !m[1].trim()) return { value, error: `${what}: "${line}" is not key=value` };
		value[m[1].trim()] = m[2].trim().replace(/^"(.*)"$/, '$1');
	}
	return { value };
}

export function formatPairs(o: Record<string, string> | undefined): string {
	return Object.entries(o || {}).map(([k, v]) => `${k}=${v}`).join('\n');
}

// One target per line: "<type> <url>" or "<type> team|account [routingKey]"
// with an optional "min=<severity>" word.
export function parseTargets(text: string): { value: NotifyTarget[]; error?: string } {
	const value: NotifyTarget[] = [];
	for (const raw of text.split('\n')) {
		const words = raw.trim().split(/\s+/).filter((w) => w);
		if (!words.length) continue;
		const [type, dest, ...rest] = words;
		if (!TARGET_TYPES.includes(type)) return { value, error: `notify: "${raw.trim()}" must start with ${TARGET_TYPES.join(', ')}` };
		if (!dest) return { value, error: `notify: "${raw.trim()}" needs a URL, "team" or "account"` };
		const t: NotifyTarget = { type };
		if (dest === 'team' || dest === 'account') t.to = dest; else t.url = dest;
		for (const w of rest) {
			if (w.startsWith('min=')) t.minSeverity = w.slice(4);
			else t.routingKey = w;
		}
		value.push(t);
	}
	return { value };
}

export function formatTargets(ts: NotifyTarget[] | undefined): string {
	return (ts || []).map((t) => [t.type, t.url || t.to || '', t.routingKey || '', t.minSeverity && t.minSeverity !== 'info' ? `min=${t.minSeverity}` : '']
		.filter((w) => w).join(' ')).join('\n');
}

// The form as the API's rule JSON, or the first error found (the server
// validates the rest and names the field).
export function formToRule(f: RuleForm): { rule?: AlertRule; error?: string } {
	if (!f.name.trim()) return { error: 'name: a rule needs a name' };
	if (!f.query.trim()) return { error: 'query: a rule needs a TraceQL metrics query' };
	if (!OPS.includes(f.op as Op)) return { error: `condition: op must be one of ${OPS.join(' ')}` };
	const threshold = Number(f.threshold);
	if (f.threshold.trim() === '' || !Number.isFinite(threshold)) return { error: 'threshold: must be a number' };
	const rule: AlertRule = { name: f.name.trim(), query: f.query.trim(), condition: { op: f.op as Op, threshold } };
	if (f.clear.trim() !== '') {
		const c = Number(f.clear);
		if (!Number.isFinite(c)) return { error: 'clear: must be a number' };
		rule.condition.clear = c;
	}
	for (const k of ['interval', 'for', 'range'] as const) {
		const v = f[k].trim();
		if (!v) continue;
		if (!Number.isFinite(parseDuration(v))) return { error: `${k}: "${v}" is not a duration such as 30s, 5m, 1h` };
		rule[k] = v;
	}
	if (f.severity) rule.severity = f.severity;
	const labels = parsePairs(f.labels, 'labels');
	if (labels.error) return { error: labels.error };
	rule.labels = labels.value;
	const notify = parseTargets(f.notify);
	if (notify.error) return { error: notify.error };
	rule.notify = notify.value;
	const gb = f.groupBy.split(',').map((s) => s.trim()).filter((s) => s);
	if (gb.length) rule.groupBy = gb;
	return { rule };
}

export function ruleToForm(r: AlertRule): RuleForm {
	return {
		name: r.name || '', query: r.query || '', op: r.condition?.op || '>',
		threshold: r.condition?.threshold !== undefined ? String(r.condition.threshold) : '',
		clear: r.condition?.clear !== undefined && r.condition.clear !== r.condition.threshold ? String(r.condition.clear) : '',
		interval: r.interval || '', for: r.for || '', range: r.range || '', severity: r.severity || 'warning',
		labels: formatPairs(r.labels), notify: formatTargets(r.notify), groupBy: (r.groupBy || []).join(', '),
	};
}

// Does value breach "op threshold"?
export function breaches(op: string, value: number, threshold: number): boolean {
	if (!Number.isFinite(value)) return false;
	switch (op) {
	case '>': return value > threshold;
	case '>=': return value >= threshold;
	case '<': return value < threshold;
	case '<=': return value <= threshold;
	case '=': return value === threshold;
	case '!=': return value !== threshold;
	default: return false;
	}
}

// For the preview: per series, its last finite value, whether that breaches
// and how many samples of the window breach; the breaching series first.
export interface PreviewRow { label: string; last: number; breachNow: boolean; breachSamples: number; samples: number }
export function previewRows(series: { label: string; values: (number | null)[] }[], op: string, threshold: number): PreviewRow[] {
	const rows = series.map((s) => {
		const v = s.values.filter((x): x is number => x !== null && Number.isFinite(x));
		const last = v.length ? v[v.length - 1] : NaN;
		return { label: s.label, last, breachNow: breaches(op, last, threshold), breachSamples: v.filter((x) => breaches(op, x, threshold)).length, samples: v.length };
	});
	return rows.sort((a, b) => Number(b.breachNow) - Number(a.breachNow) || b.breachSamples - a.breachSamples || a.label.localeCompare(b.label));
}

const DUR: Record<string, number> = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };
// "1m30s", "500ms", "2h" as milliseconds; NaN if not a duration.
export function parseDuration(s: string): number {
	const t = s.trim();
	if (!t) return NaN;
	let total = 0, rest = t;
	while (rest) {
		const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/.exec(rest);
		if (!m) return NaN;
		total += Number(m[1]) * DUR[m[2]];
		rest = rest.slice(m[0].length);
	}
	return total;
}

// A span of milliseconds as "3m 20s", "2h 5m", "40s".
export function fmtAge(ms: number): string {
	if (!Number.isFinite(ms) || ms < 0) return '–';
	const s = Math.floor(ms / 1000);
	if (s < 60) return `${s}s`;
	if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
	if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
	return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

// When the instance's current episode started (ms): firing since, else
// pending since; 0 when unknown.
export function sinceMs(a: AlertInstance): number {
	const ns = (a.state === 'firing' || a.state === 'resolved') && a.firedNs > 0 ? a.firedNs : a.pendingSinceNs > 0 ? a.pendingSinceNs : a.firedNs;
	return ns > 0 ? Math.floor(ns / 1e6) : 0;
}

function tqlStr(s: string): string {
	return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

// The rule's span filter (the part before the first top-level "|").
export function ruleFilter(query: string): string {
	let depth = 0, inStr = false;
	for (let i = 0; i < query.length; i++) {
		const c = query[i];
		if (inStr) { if (c === '\\') i++; else if (c === '"') inStr = false; continue; }
		if (c === '"') inStr = true;
		else if (c === '{' || c === '(') depth++;
		else if (c === '}' || c === ')') depth--;
		else if (c === '|' && depth === 0 && query[i + 1] !== '|') return query.slice(0, i).trim();
	}
	return query.trim();
}

// The filter narrowed to the instance's group labels, as one TraceQL query.
export function groupQuery(query: string, labels: Record<string, string>): string {
	const filter = ruleFilter(query) || '{ }';
	const conds = Object.entries(labels).filter(([k]) => /^[A-Za-z_.][\w.\-]*$/.test(k)).map(([k, v]) => `${k} = ${tqlStr(v)}`);
	if (!conds.length) return filter;
	const m = /^\{([^{}]*)\}$/.exec(filter);
	if (m) {
		const inner = m[1].trim();
		return `{ ${[inner ? (/\|\|/.test(inner) ? `(${inner})` : inner) : '', ...conds].filter((x) => x).join(' && ')} }`;
	}
	return `${filter} && { ${conds.join(' && ')} }`;
}

// Explore parameters for an instance: its group's spans around the episode.
export function instanceExplore(a: AlertInstance, query: string, nowMs: number): { q: string; from: string; to: string } {
	const since = sinceMs(a) || nowMs - 3600000;
	const from = since - 15 * 60000;
	const end = a.state === 'resolved' && a.resolvedNs > 0 ? Math.min(nowMs, Math.floor(a.resolvedNs / 1e6) + 5 * 60000) : nowMs;
	return { q: groupQuery(query, a.labels), from: String(Math.floor(from)), to: String(Math.ceil(Math.max(end, from + 60000))) };
}

// Silence matchers from "k=v, k2=v2" text and an expiry such as "2h".
export function silenceBody(matchers: string, expiresIn: string, comment: string): { body?: Record<string, unknown>; error?: string } {
	const m = parsePairs(matchers, 'matchers');
	if (m.error) return { error: m.error };
	if (!Object.keys(m.value).length) return { error: 'matchers: at least one label=value, e.g. span.customer.id=acct-1' };
	if (!Number.isFinite(parseDuration(expiresIn)) || parseDuration(expiresIn) <= 0) return { error: `expires in: "${expiresIn}" is not a duration such as 2h` };
	const body: Record<string, unknown> = { matchers: m.value, expiresIn: expiresIn.trim() };
	if (comment.trim()) body.comment = comment.trim();
	return { body };
}

// Matchers that would silence one instance: its labels and the rule name.
export function instanceMatchers(a: AlertInstance): string {
	return [`rule=${a.rule}`, ...Object.entries(a.labels).map(([k, v]) => `${k}=${v}`)].join(', ');
}
