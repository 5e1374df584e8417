// Catalog: the services (owning team, tier, on-call channel, runbook,
// repository) and accounts (name, tier, owner, channel) that alert routing
// and the service pages read. Every row is editable in place; a blank row at
// the end adds an entry. Names link to the service and customer pages.
import { Catalog, api } from '../api';
import { Ctx, View } from '../app';
import { h, link } from '../dom';
import { buildUrl } from '../url';
import { fill } from './service';

const SERVICE_FIELDS = ['team', 'tier', 'channel', 'runbook', 'repository'];
const ACCOUNT_FIELDS = ['name', 'tier', 'owner', 'channel'];

type Kind = 'services' | 'accounts';

function table(ctx: Ctx, kind: Kind, entries: Record<string, string>[], reload: () => void): HTMLElement {
	const keyField = kind === 'services' ? 'name' : 'id';
	const fields = kind === 'services' ? SERVICE_FIELDS : ACCOUNT_FIELDS;
	const status = h('div', { class: 'form-error', role: 'alert', hidden: true });
	const row = (e: Record<string, string> | null) => {
		const keyIn = h('input', { 'aria-label': `new ${kind === 'services' ? 'service name' : 'account id'}`, placeholder: kind === 'services' ? 'service name' : 'account id', size: 14, name: keyField });
		const inputs = fields.map((f) => h('input', { name: f, value: e?.[f] || '', 'aria-label': `${e ? e[keyField] : 'new'} ${f}`, placeholder: e ? '' : f, size: f === 'runbook' || f === 'repository' ? 22 : 12 }));
		const save = (ev: Event) => {
			ev.preventDefault();
			const key = e ? e[keyField] : keyIn.value.trim();
			if (!key) { status.hidden = false; status.textContent = `${keyField}: required`; return; }
			const body: Record<string, string> = {};
			fields.forEach((f, i) => { if (inputs[i].value.trim()) body[f] = inputs[i].value.trim(); });
			api.putCatalogEntry(kind, key, body).then(() => { status.hidden = true; reload(); })
				.catch((err) => { status.hidden = false; status.textContent = (err as Error).message; });
		};
		const keyCell = e
			? link(kind === 'services' ? buildUrl({ page: 'service', service: e[keyField] }, {}, ctx.range) : buildUrl({ page: 'customers' }, { account: e[keyField] }, ctx.range), e[keyField])
			: keyIn;
		for (const i of [keyIn, ...inputs]) i.addEventListener('keydown', (ev) => { if ((ev as KeyboardEvent).key === 'Enter') save(ev); });
		return h('tr', { 'data-key': e ? e[keyField] : '' }, h('td', null, keyCell), inputs.map((i) => h('td', null, i)),
			h('td', { class: 'actions' }, h('button', { type: 'button', onclick: save }, e ? 'Save' : 'Add'),
				e ? h('button', { type: 'button', class: 'linkish', 'aria-label': `Delete ${e[keyField]}`, onclick: () => {
					api.deleteCatalogEntry(kind, e[keyField]).then(reload).catch((err) => { status.hidden = false; status.textContent = (err as Error).message; });
				} }, 'delete') : null));
	};
	return h('div', null,
		h('table', { class: `grid catalog-${kind}` },
			h('thead', null, h('tr', null, [kind === 'services' ? 'Service' : 'Account', ...fields, ''].map((c) => h('th', null, c)))),
			h('tbody', null, entries.sort((a, b) => (a[keyField] || '').localeCompare(b[keyField] || '')).map((e) => row(e)), row(null))),
		entries.length ? null : h('div', { class: 'muted small' }, `No ${kind} in the catalog yet: add one in the last row.`),
		status);
}

export function catalogView(ctx: Ctx): View {
	const el = h('div', { class: 'view catalog' });
	const services = h('div');
	const accounts = h('div');
	el.append(h('div', { class: 'page-head' }, h('h2', null, 'Catalog'), h('span', { class: 'muted' }, 'owners, tiers and on-call channels that alert routing uses')),
		h('section', { class: 'panel' }, h('h3', null, 'Services'), services),
		h('section', { class: 'panel' }, h('h3', null, 'Accounts'), accounts));
	// a save reloads only its own table, so what is being typed in the
	// other one is kept
	const cast = (c: Catalog, k: Kind) => (c[k] || []) as unknown as Record<string, string>[];
	const load = (kinds: Kind[]) => {
		const p = api.catalog(ctx.signal);
		for (const k of kinds)
			fill(k === 'services' ? services : accounts, 'Catalog', p, (c) => table(ctx, k, cast(c, k), () => load([k])));
	};
	load(['services', 'accounts']);
	return { el };
}
