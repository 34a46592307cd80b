//! The keyboard shortcuts: which key does what, and when a key is the person typing rather
//! than a shortcut. Only the mapping lives here; what a shortcut does is the on-screen
//! control's own action (App.svelte presses it), so a shortcut is never allowed more than
//! the button it stands for (a disabled button, closed by the core's gate, stays unpressed).
import type { MessageKey } from './i18n/en';

export type ShortcutAction = 'search' | 'new' | 'sync' | 'print' | 'help';

/** One way of pressing a shortcut: `key` as KeyboardEvent.key (letters in lower case). */
export interface Combo {
  key: string;
  ctrl?: boolean;
  shift?: boolean;
}

export interface Shortcut {
  action: ShortcutAction;
  combos: Combo[];
  /** What the help overlay says it does. */
  label: MessageKey;
  /** Fires while a text field has the focus (only search: Ctrl+F is where one goes to type). */
  whileTyping: boolean;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { action: 'search', combos: [{ key: 'f', ctrl: true }], label: 'help.search', whileTyping: true },
  { action: 'new', combos: [{ key: 'n', ctrl: true }], label: 'help.new', whileTyping: false },
  { action: 'sync', combos: [{ key: 's', ctrl: true, shift: true }, { key: 'F5' }], label: 'help.sync', whileTyping: false },
  { action: 'print', combos: [{ key: 'p', ctrl: true }], label: 'help.print', whileTyping: false },
  { action: 'help', combos: [{ key: '?' }, { key: 'F1' }], label: 'help.help', whileTyping: false },
];

/** The parts of a key event the mapping reads. */
export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

function matches(ev: KeyPress, c: Combo): boolean {
  const ctrl = ev.ctrlKey || ev.metaKey;
  if (ev.altKey || ctrl !== !!c.ctrl) return false;
  // '?' is Shift plus a key on most layouts (and a key of its own on others): Shift is part
  // of the character there, not of the combination.
  if (c.key === '?') return ev.key === '?';
  if (c.shift !== undefined && ev.shiftKey !== c.shift) return false;
  if (c.shift === undefined && ev.shiftKey) return false;
  return c.key.length === 1 ? ev.key.toLowerCase() === c.key : ev.key === c.key;
}

/** The shortcut a key press means, or null; `typing` = a text field has the focus. */
export function shortcutFor(ev: KeyPress, typing: boolean): ShortcutAction | null {
  const s = SHORTCUTS.find((x) => x.combos.some((c) => matches(ev, c)));
  if (!s || (typing && !s.whileTyping)) return null;
  return s.action;
}

const NOT_TEXT = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image']);

/** Whether keys pressed on `el` are the person typing (a text input, a text area, a list to
 * pick from by letter, an editable region). */
export function isTyping(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') return !NOT_TEXT.has(((el as HTMLInputElement).type || 'text').toLowerCase());
  return (el as HTMLElement).isContentEditable === true;
}
