//! The arithmetic of a list that scrolls without a native scroller: the resident list's rows
//! sit in an `overflow: clip` box and are moved by the app (wheel, touchpad, keys, a drawn
//! scrollbar), because WebKitGTK's composited scroller costs more CPU per keystroke than the
//! rows themselves (docs/ARCHITECTURE.md, issue #16). Everything here is pure: offsets in CSS
//! pixels from the top of the list, `content` the whole list's height, `viewport` the part shown.

/** The furthest the list can move: 0 when it fits. */
export function maxOffset(content: number, viewport: number): number {
  return Math.max(0, content - viewport);
}

/** `offset` kept inside the list (a shorter answer pulls it back, as a native scroller does). */
export function clampOffset(offset: number, content: number, viewport: number): number {
  if (!Number.isFinite(offset)) return 0;
  return Math.min(Math.max(0, offset), maxOffset(content, viewport));
}

/** `WheelEvent.deltaMode` values. */
export const DOM_DELTA_PIXEL = 0;
export const DOM_DELTA_LINE = 1;
export const DOM_DELTA_PAGE = 2;

/** A wheel event's vertical move in pixels: pixel deltas as they come (a touchpad's small,
 * smooth ones too), a line as `line` pixels (one row), a page as `page` pixels (the viewport
 * less one line, so a row of context stays, as with Page Down). */
export function wheelPixels(deltaY: number, deltaMode: number, line: number, page: number): number {
  if (!Number.isFinite(deltaY)) return 0;
  switch (deltaMode) {
    case DOM_DELTA_LINE:
      return deltaY * line;
    case DOM_DELTA_PAGE:
      return deltaY * Math.max(line, page - line);
    default:
      return deltaY;
  }
}

/** Where a wheel move of `dy` pixels takes the list, or null when the list cannot move that
 * way (at its end, or it fits): then the event is left to the page. */
export function wheelTarget(offset: number, dy: number, content: number, viewport: number): number | null {
  if (dy === 0) return null;
  const from = clampOffset(offset, content, viewport);
  const to = clampOffset(from + dy, content, viewport);
  return to === from ? null : to;
}

/** The smallest thumb, so that a long list's thumb can still be grabbed. */
export const MIN_THUMB = 24;

export interface Thumb {
  /** The thumb's height in pixels. */
  size: number;
  /** Its top inside the track. */
  top: number;
}

/** The thumb of a track `track` pixels tall: sized by the share of the list in view, placed
 * by the share scrolled. A list that fits fills the track (nothing to drag). */
export function thumb(offset: number, content: number, viewport: number, track: number, min = MIN_THUMB): Thumb {
  const max = maxOffset(content, viewport);
  if (track <= 0) return { size: 0, top: 0 };
  if (max === 0) return { size: track, top: 0 };
  const size = Math.min(track, Math.max(min, (track * viewport) / content));
  const top = ((track - size) * clampOffset(offset, content, viewport)) / max;
  return { size, top };
}

/** The offset after dragging the thumb `dy` pixels from where it was grabbed (at `start`):
 * the thumb follows the pointer, so a pixel of track is worth `max / (track - size)`. */
export function dragOffset(start: number, dy: number, content: number, viewport: number, track: number, min = MIN_THUMB): number {
  const max = maxOffset(content, viewport);
  const room = track - thumb(start, content, viewport, track, min).size;
  if (max === 0 || room <= 0) return clampOffset(start, content, viewport);
  return clampOffset(start + (dy * max) / room, content, viewport);
}

/** A press on the track outside the thumb, at `y` pixels from the track's top: a page (the
 * viewport less one line) towards the press, as a native scrollbar does. */
export function trackPage(offset: number, y: number, content: number, viewport: number, track: number, line: number, min = MIN_THUMB): number {
  const t = thumb(offset, content, viewport, track, min);
  const page = Math.max(line, viewport - line);
  if (y < t.top) return clampOffset(offset - page, content, viewport);
  if (y > t.top + t.size) return clampOffset(offset + page, content, viewport);
  return clampOffset(offset, content, viewport);
}

/** The scrollbar's `aria-valuenow`, a percentage: 100 only at the very end, 0 only at the top. */
export function percentScrolled(offset: number, content: number, viewport: number): number {
  const max = maxOffset(content, viewport);
  const at = clampOffset(offset, content, viewport);
  if (max === 0 || at === 0) return 0;
  if (at >= max) return 100;
  return Math.min(99, Math.max(1, Math.floor((100 * at) / max)));
}

/** The rows (1-based, inclusive) at least partly in view, for the scrollbar's
 * `aria-valuetext`; [0, 0] for an empty list. */
export function rowsInView(offset: number, count: number, row: number, viewport: number): [number, number] {
  if (count <= 0) return [0, 0];
  const at = clampOffset(offset, count * row, viewport);
  const from = Math.min(count, Math.floor(at / row) + 1);
  const to = Math.min(count, Math.max(from, Math.ceil((at + viewport) / row)));
  return [from, to];
}
