//! The resident list's answer without a search, kept in the page for the site and filters on
//! screen (issue #16): clearing the search field is a search-as-you-type keystroke like any
//! other, but its answer is the whole site (400 rows, ~250 KB of JSON at the bench's site),
//! the slowest to ask for and to parse. The kept answer is shown at once and asked for again
//! behind it (`createResidents`), and it is replaced or dropped whenever that answer or a
//! reload says the data changed, so it never shows what the core would not.

import type { ResidentFilter } from './api/bindings/ResidentFilter';
import type { ResidentView } from './api/bindings/ResidentView';

/** Which list an answer is for, apart from its search: the site and every other filter. */
export function listKey(site: string, filter: ResidentFilter): string {
  return JSON.stringify([site, filter.statuses, filter.main ?? [], filter.markers ?? [], filter.building, filter.limit]);
}

/** Whether two JSON values (as the core sends them: objects, arrays, strings, numbers,
 * booleans, null) are the same. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    return a.length === bs.length && a.every((x, i) => sameJson(x, bs[i]));
  }
  const [ao, bo] = [a as Record<string, unknown>, b as Record<string, unknown>];
  const keys = Object.keys(ao);
  return keys.length === Object.keys(bo).length && keys.every((k) => k in bo && sameJson(ao[k], bo[k]));
}

/** Resolves once the next frame has been painted (at once where there are no frames, as in
 * unit tests): the kept rows are drawn first, and the core is asked again only then, so its
 * answer's JSON is not parsed in the cleared field's frame. */
export function afterPaint(): Promise<void> {
  if (typeof requestAnimationFrame !== 'function') return Promise.resolve();
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** One kept answer: the rows of the list named by `listKey` with no search. */
export function createUnfilteredCache() {
  let kept: { key: string; rows: ResidentView[] } | null = null;
  return {
    /** The kept rows for this list, if its filter has no search and they are kept. */
    get(site: string, filter: ResidentFilter): ResidentView[] | null {
      if (filter.search) return null;
      const key = listKey(site, filter);
      return kept && kept.key === key ? kept.rows : null;
    },
    /** Keeps an answer without a search (one with a search is not the whole list). */
    put(site: string, filter: ResidentFilter, rows: ResidentView[]) {
      if (!filter.search) kept = { key: listKey(site, filter), rows };
    },
    /** Forgets the kept answer: the residents may have changed (a save, a bulk action, a sync
     * pass, an undo) or the core refused the list. */
    clear() {
      kept = null;
    },
  };
}
