// The Residents screen's columns, sort and filters as a saved view's state (the core keeps it
// per staff account and team, `view.save`; it does not read it), and back. Reading back is
// forgiving: a column, sort key or status this version does not know is dropped, so a view
// saved by another version never breaks the screen.
import type { ViewState } from './api/bindings/ViewState';
import type { Sort, SortKey } from './stores';
import { statusFilterOf, type StatusFilter } from './statusWords';

/** The screen's columns, in their order; `name` is always shown (it opens the resident). */
export const RESIDENT_COLUMNS = ['name', 'email', 'unit', 'status', 'start', 'end'] as const;
export type ResidentColumn = (typeof RESIDENT_COLUMNS)[number];

/** What the screen remembers. */
export interface ResidentsScreen {
  columns: ResidentColumn[];
  sort: Sort;
  status: StatusFilter;
  building: string;
  search: string;
}

export const DEFAULT_SCREEN: ResidentsScreen = { columns: [...RESIDENT_COLUMNS], sort: { key: 'name', dir: 'asc' }, status: '', building: '', search: '' };

export function toViewState(s: ResidentsScreen): ViewState {
  const filters: Record<string, string> = {};
  if (s.status) filters.status = s.status;
  if (s.building) filters.building = s.building;
  if (s.search.trim()) filters.search = s.search;
  return { columns: RESIDENT_COLUMNS.filter((c) => s.columns.includes(c)), sort: { key: s.sort.key, descending: s.sort.dir === 'desc' }, filters };
}

export function fromViewState(v: ViewState): ResidentsScreen {
  const known = v.columns.filter((c): c is ResidentColumn => (RESIDENT_COLUMNS as readonly string[]).includes(c));
  const columns = known.length ? RESIDENT_COLUMNS.filter((c) => c === 'name' || known.includes(c)) : [...RESIDENT_COLUMNS];
  const key = v.sort && (RESIDENT_COLUMNS as readonly string[]).includes(v.sort.key) ? (v.sort.key as SortKey) : 'name';
  const status = statusFilterOf(v.filters.status);
  return {
    columns,
    sort: { key, dir: v.sort?.descending && key === v.sort.key ? 'desc' : 'asc' },
    status,
    building: v.filters.building ?? '',
    search: v.filters.search ?? '',
  };
}

const WIDTH: Record<ResidentColumn | 'check', string> = { check: '2.5rem', name: '1.3fr', email: '1.8fr', unit: '1.4fr', status: '1.5fr', start: '7.5rem', end: '7.5rem' };

/** The table's grid columns for the visible columns (the selection box first). */
export function columnTemplate(columns: readonly ResidentColumn[]): string {
  return ['check' as const, ...RESIDENT_COLUMNS.filter((c) => columns.includes(c))].map((c) => WIDTH[c]).join(' ');
}

/** Saves the screen's state as the person's remembered view a moment after it settles (not at
 * each keystroke: each save is a write, audited), never the same state twice, and at once on
 * `flush` (the screen closing). */
export function rememberer(save: (state: ViewState) => Promise<unknown>, ms = 700) {
  let last: string | null = null;
  let pending: ViewState | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = async () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    const state = pending;
    pending = null;
    last = JSON.stringify(state);
    await save(state);
  };
  return {
    /** The state the core already has (restored from it, or just saved). */
    known(state: ViewState) {
      last = JSON.stringify(state);
    },
    change(state: ViewState) {
      if (JSON.stringify(state) === last) {
        pending = null;
        if (timer !== undefined) clearTimeout(timer);
        timer = undefined;
        return;
      }
      pending = state;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => void flush(), ms);
    },
    flush,
  };
}
