// The application context handed to every view: the current route, its URL
// parameters, the time range, navigation, and a way to change the URL state
// without a reload.
import { Route, TimeRange, rangeFromParams, rangeToParams, resolveRange, routePath } from './url';

export interface Ctx {
	route: Route;
	params: URLSearchParams;
	range: TimeRange;
	// [start, end] unix ms of the range, resolved when the view rendered or refreshed
	window(): [number, number];
	navigate(url: string): void;
	// change URL parameters of the current view (replace: no history entry);
	// an array sets the parameter once per value
	setParams(changes: Record<string, string | string[] | null | undefined>, replace?: boolean): void;
	signal: AbortSignal;
}

export interface View {
	el: HTMLElement;
	refresh?(): void; // live mode and range changes
	dispose?(): void;
}

export function makeCtx(route: Route, search: string, navigate: (url: string) => void, signal: AbortSignal): Ctx {
	const params = new URLSearchParams(search);
	const range = rangeFromParams(params);
	return {
		route, params, range, signal,
		window: () => resolveRange(range, Date.now()),
		navigate,
		setParams(changes, replace = true) {
			const put = (to: URLSearchParams, k: string, v: string | string[] | null | undefined) => {
				to.delete(k);
				if (v !== null && v !== undefined) for (const x of Array.isArray(v) ? v : [v]) if (x !== '') to.append(k, x);
			};
			const p = new URLSearchParams(location.search);
			for (const [k, v] of Object.entries(changes)) put(p, k, v);
			rangeToParams(rangeFromParams(p), p);
			const qs = p.toString();
			const url = routePath(route) + (qs ? `?${qs}` : '');
			if (replace) history.replaceState(null, '', url); else history.pushState(null, '', url);
			for (const [k, v] of Object.entries(changes)) put(params, k, v);
		},
	};
}
