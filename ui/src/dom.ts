// Small DOM helpers: h() builds elements, plus the empty, error and loading
// states every view uses, so that nothing is ever a blank page.

type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | EventListener | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
	const el = document.createElement(tag);
	if (attrs) {
		for (const [k, v] of Object.entries(attrs)) {
			if (v === null || v === undefined || v === false) continue;
			if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
			else if (k === 'class') el.className = String(v);
			else if (k === 'text') el.textContent = String(v);
			else el.setAttribute(k, v === true ? '' : String(v));
		}
	}
	append(el, children);
	return el;
}

function append(el: Node, children: Child[]): void {
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		if (Array.isArray(c)) append(el, c);
		else el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
	}
}

export function clear(el: Element): void {
	while (el.firstChild) el.removeChild(el.firstChild);
}

export function emptyState(title: string, hint?: string): HTMLElement {
	return h('div', { class: 'state empty', role: 'status' }, h('div', { class: 'state-title' }, title), hint ? h('div', { class: 'state-hint' }, hint) : null);
}

export function errorState(title: string, err: unknown): HTMLElement {
	const msg = err instanceof Error ? err.message : String(err);
	return h('div', { class: 'state error', role: 'alert' }, h('div', { class: 'state-title' }, title), h('div', { class: 'state-hint' }, msg));
}

export function loading(what = 'Loading'): HTMLElement {
	return h('div', { class: 'state loading', role: 'status' }, `${what}…`);
}

export function link(href: string, ...children: Child[]): HTMLAnchorElement {
	return h('a', { href, 'data-nav': '1' }, ...children);
}

// A performance mark, once per page load: the browser tests read the view
// timings (navigation start to the map or the waterfall drawn) from it.
export function markOnce(name: string): void {
	if (!performance.getEntriesByName(name, 'mark').length) performance.mark(name);
}
