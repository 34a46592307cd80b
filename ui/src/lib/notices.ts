//! The notices (toasts) the screens push: how long each stays, and how many. A success
//! notice leaves by itself after a few seconds (paused while the person points at or tabs
//! into the stack, so it is not taken away mid-reading); an error stays until closed, since a
//! person who looked away must still find it. At most two success notices at a time: the
//! corner stack never grows over the screen's content. A notice may carry one action (the
//! "Undo" of a change still unsent): such a notice stays longer ([`ACTION_MS`]), and pressing
//! the action closes it.
import { writable } from 'svelte/store';

/** The one button a notice may carry. */
export interface NoticeAction {
  label: string;
  run: () => void | Promise<void>;
}

/** A notice's words: a string, or a function that says them again, so that a notice still on
 *  screen follows a change of language (the catalog is read when it is drawn). */
export type NoticeText = string | (() => string);

export interface Notice {
  id: number;
  kind: 'ok' | 'error';
  text: NoticeText;
  action?: NoticeAction;
}

/** The words of a notice now, in the current language. */
export function noticeText(n: Pick<Notice, 'text'>): string {
  return typeof n.text === 'function' ? n.text() : n.text;
}

/** How long a success notice stays, by default. */
export const OK_MS = 4000;
/** How long a success notice with an action (Undo) stays: long enough to reach the button. */
export const ACTION_MS = 10000;
/** The most success notices shown at once (the oldest leaves for a new one). */
export const MAX_OK = 2;

interface Timer {
  remaining: number;
  started: number;
  handle: ReturnType<typeof setTimeout> | undefined;
}

/** A notice stack; `now` is the clock the pause arithmetic reads (tests pass a fake one). */
export function createNotices(now: () => number = () => Date.now()) {
  const { subscribe, update } = writable<Notice[]>([]);
  const timers = new Map<number, Timer>();
  let next = 1;
  let paused = false;

  function dismiss(id: number) {
    const t = timers.get(id);
    if (t?.handle !== undefined) clearTimeout(t.handle);
    timers.delete(id);
    update((list) => list.filter((n) => n.id !== id));
  }
  function arm(id: number, t: Timer) {
    t.started = now();
    t.handle = setTimeout(() => dismiss(id), t.remaining);
  }

  return {
    subscribe,
    /** Shows `text`. A success notice leaves after `okMs` (0 = stays); an error always
     * stays until dismissed. The same error again is not stacked twice. */
    push(kind: Notice['kind'], text: NoticeText, okMs?: number, action?: NoticeAction): number {
      okMs ??= action ? ACTION_MS : OK_MS;
      let id = next++;
      update((list) => {
        if (kind === 'error') {
          const same = list.find((n) => n.kind === 'error' && noticeText(n) === noticeText({ text }));
          if (same) {
            id = same.id;
            return list;
          }
          return [...list, { id, kind, text, action }];
        }
        const oks = list.filter((n) => n.kind === 'ok');
        const leaving = new Set(oks.slice(0, Math.max(0, oks.length - MAX_OK + 1)).map((n) => n.id));
        for (const gone of leaving) {
          const t = timers.get(gone);
          if (t?.handle !== undefined) clearTimeout(t.handle);
          timers.delete(gone);
        }
        return [...list.filter((n) => !leaving.has(n.id)), { id, kind, text, action }];
      });
      if (kind === 'ok' && okMs > 0 && !timers.has(id)) {
        const t: Timer = { remaining: okMs, started: now(), handle: undefined };
        timers.set(id, t);
        if (!paused) arm(id, t);
      }
      return id;
    },
    dismiss,
    /** Runs a notice's action once, closing the notice first (no second press). */
    act(id: number, action: NoticeAction) {
      dismiss(id);
      return action.run();
    },
    /** Holds every success notice where it is (pointer over the stack, or focus in it). */
    pause() {
      if (paused) return;
      paused = true;
      for (const t of timers.values()) {
        if (t.handle === undefined) continue;
        clearTimeout(t.handle);
        t.handle = undefined;
        t.remaining = Math.max(0, t.remaining - (now() - t.started));
      }
    },
    /** Lets them go again, each with the time it had left. */
    resume() {
      if (!paused) return;
      paused = false;
      for (const [id, t] of timers) arm(id, t);
    },
    /** Removes every notice (sign-out: one person's messages are not the next one's). */
    clear() {
      for (const t of timers.values()) if (t.handle !== undefined) clearTimeout(t.handle);
      timers.clear();
      update(() => []);
    },
  };
}

export const notices = createNotices();
