// Small TraceQL text helpers for the explore page: adding a condition to a
// spanset filter (clicking a cause), and finding what the cursor is on for
// autocomplete (an attribute name, or the value after "attr ="). Pure
// functions, unit-tested.

const NUMERIC = new Set(['int', 'double', 'float', 'bool', 'duration']);

export function literal(value: string, valueType?: string): string {
	if (valueType && NUMERIC.has(valueType) && /^-?[0-9.]+(e-?\d+)?$|^(true|false)$/.test(value)) return value;
	return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

// q with `key = value` added to its spanset filter: "{ A }" becomes
// "{ A && key = value }", an empty query or "{}" becomes "{ key = value }".
// A query that is not one plain spanset filter (pipelines, structural
// operators) is combined as "(q) && { key = value }".
export function addCondition(q: string, key: string, value: string, valueType?: string): string {
	const cond = `${key} = ${literal(value, valueType)}`;
	const t = q.trim();
	if (t === '' || /^\{\s*\}$/.test(t)) return `{ ${cond} }`;
	const m = /^\{([^{}]*)\}$/.exec(t);
	if (m) {
		const inner = m[1].trim();
		if (inner.includes(cond)) return t;
		const wrapped = /\|\|/.test(inner) ? `(${inner})` : inner;
		return `{ ${wrapped} && ${cond} }`;
	}
	return `${t} && { ${cond} }`;
}

export type Completion =
	| { kind: 'attr'; prefix: string; from: number }
	| { kind: 'value'; attr: string; prefix: string; from: number; quoted: boolean }
	| null;

const INTRINSICS = ['name', 'status', 'kind', 'duration', 'traceDuration', 'rootName', 'rootServiceName', 'statusMessage'];
export const INTRINSIC_NAMES = INTRINSICS;

// What to complete at cursor position pos of text (inside braces only).
export function completionAt(text: string, pos: number): Completion {
	const before = text.slice(0, pos);
	const open = before.lastIndexOf('{');
	const close = before.lastIndexOf('}');
	if (open < 0 || close > open) return null;
	// value: attr op "partial   or   attr op partial
	const vm = /([A-Za-z_.][\w.\-]*)\s*(=|!=|=~|!~)\s*("?)([^"&|}]*)$/.exec(before);
	if (vm) {
		const quoted = vm[3] === '"';
		return { kind: 'value', attr: vm[1], prefix: vm[4], from: pos - vm[4].length - (quoted ? 1 : 0), quoted };
	}
	const am = /(^|[\s{(&|!])([A-Za-z_.][\w.\-]*)?$/.exec(before);
	if (am) {
		const prefix = am[2] || '';
		return { kind: 'attr', prefix, from: pos - prefix.length };
	}
	return null;
}

// The attribute names for completion from /api/v2/search/tags scopes.
export function attrNames(scopes: { name: string; tags: string[] }[]): string[] {
	const out: string[] = [...INTRINSICS];
	for (const s of scopes) {
		for (const t of s.tags) {
			if (s.name === 'intrinsic') { if (!t.includes(':') && !out.includes(t)) out.push(t); } else out.push(`${s.name}.${t}`);
		}
	}
	return out;
}

export function filterCompletions(all: string[], prefix: string, max = 12): string[] {
	const p = prefix.toLowerCase();
	const starts = all.filter((a) => a.toLowerCase().startsWith(p));
	const contains = all.filter((a) => !a.toLowerCase().startsWith(p) && a.toLowerCase().includes(p));
	return [...starts, ...contains].slice(0, max);
}
