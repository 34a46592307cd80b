//! Moving through the resident list with the keyboard: arrows, Page Up/Down, Home and End
//! move the focus from row to row (to the row's name, a button, so Enter or Space opens it).
//! The list is virtual (only the rows near the viewport exist) and positioned by the app (no
//! native scroller, lib/drawnScroll.ts), so a move first scrolls the row into view through
//! `scrollTo` and then focuses it once it is drawn. Space and Shift+Space on the list itself
//! page down and up, and a row that gets the focus another way (Tab, assistive technology)
//! while outside the view is scrolled into it, as the native scroller did.

/** The row a key moves to from `current` (-1 = none yet), or null when the key is not one of
 * the list's. `page` = the rows a viewport holds. */
export function nextRow(key: string, current: number, count: number, page: number): number | null {
  if (count <= 0) return null;
  const last = count - 1;
  const step = Math.max(1, page - 1);
  switch (key) {
    case 'ArrowDown':
      return current < 0 ? 0 : Math.min(last, current + 1);
    case 'ArrowUp':
      return current < 0 ? 0 : Math.max(0, current - 1);
    case 'PageDown':
      return Math.min(last, Math.max(0, current) + step);
    case 'PageUp':
      return Math.max(0, current - step);
    case 'Home':
      return 0;
    case 'End':
      return last;
    default:
      return null;
  }
}

/** The scrollTop that shows row `index` (of height `row`) in a viewport, moving as little as
 * possible. */
export function scrollFor(index: number, row: number, scrollTop: number, height: number): number {
  const top = index * row;
  if (top < scrollTop) return top;
  if (top + row > scrollTop + height) return top + row - height;
  return scrollTop;
}

export interface RowKeysOptions {
  /** How many rows the list has. */
  count: number;
  /** One row's height in pixels. */
  row: number;
  /** How far the list is scrolled now, in pixels. */
  offset: () => number;
  /** Scrolls the list to `px` (the list keeps it inside its bounds). */
  scrollTo: (px: number) => void;
}

/** The Svelte action on the list's body (the element that takes the focus). Rows carry
 * `aria-rowindex` (the header is row 1) and their focus target `[data-row-focus]`. */
export function rowKeys(body: HTMLElement, options: RowKeysOptions) {
  let opts = options;
  let pending = 0;

  function currentRow(): number {
    const row = (document.activeElement as HTMLElement | null)?.closest?.('[aria-rowindex]');
    if (!row || !body.contains(row)) return -1;
    return Number(row.getAttribute('aria-rowindex')) - 2;
  }
  function focusRow(index: number, tries = 60) {
    const mine = ++pending;
    const attempt = (left: number) => {
      if (mine !== pending) return;
      const target = body.querySelector<HTMLElement>(`[aria-rowindex="${index + 2}"] [data-row-focus]`);
      if (target) {
        target.focus({ preventScroll: true });
        return;
      }
      // Not drawn yet: the list redraws its window after the scroll, with its next update.
      if (left > 0) requestAnimationFrame(() => attempt(left - 1));
    };
    attempt(tries);
  }
  function onKey(ev: KeyboardEvent) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const height = body.clientHeight;
    if (ev.key === ' ' && ev.target === body) {
      // The list itself (no row yet): Space scrolls a page, as on a native scroller.
      ev.preventDefault();
      const page = Math.max(opts.row, height - opts.row);
      opts.scrollTo(opts.offset() + (ev.shiftKey ? -page : page));
      return;
    }
    if (ev.shiftKey) return;
    const page = Math.max(1, Math.floor(height / opts.row));
    const next = nextRow(ev.key, currentRow(), opts.count, page);
    if (next === null) return;
    ev.preventDefault();
    opts.scrollTo(scrollFor(next, opts.row, opts.offset(), height));
    focusRow(next);
  }
  // The rows just outside the view exist (the window drawn is larger than the view), so Tab
  // or a screen reader can focus one the list clips: bring it into view.
  function onFocusIn(ev: FocusEvent) {
    const row = (ev.target as HTMLElement | null)?.closest?.('[aria-rowindex]');
    if (!row || !body.contains(row)) return;
    const index = Number(row.getAttribute('aria-rowindex')) - 2;
    const now = opts.offset();
    const to = scrollFor(index, opts.row, now, body.clientHeight);
    if (to !== now) opts.scrollTo(to);
  }
  body.addEventListener('keydown', onKey);
  body.addEventListener('focusin', onFocusIn);
  return {
    update(o: RowKeysOptions) {
      opts = o;
    },
    destroy() {
      pending++;
      body.removeEventListener('keydown', onKey);
      body.removeEventListener('focusin', onFocusIn);
    },
  };
}
