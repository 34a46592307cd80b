//! The catalog's message syntax, and nothing else: `{name}` puts a parameter in, and
//! `{name, plural, one {…} other {…}}` chooses a branch by `Intl.PluralRules` for the locale
//! (`=0 {…}`-style exact branches win over categories); `#` in a branch is the number, formatted
//! for the locale. A small subset of ICU MessageFormat, so translators meet a known notation.
import { cachedNumberFormat, cachedPluralRules } from './intlCache';

export type Params = Record<string, string | number>;

/** The names of the parameters a message uses (plural selectors included), sorted. */
export function paramNames(message: string): string[] {
  const names = new Set<string>();
  walk(message, (name) => names.add(name));
  return [...names].sort();
}

function walk(message: string, seen: (name: string) => void): void {
  let i = 0;
  while (i < message.length) {
    const open = message.indexOf('{', i);
    if (open < 0) return;
    const close = matching(message, open);
    const inner = message.slice(open + 1, close);
    const comma = inner.indexOf(',');
    seen((comma < 0 ? inner : inner.slice(0, comma)).trim());
    if (comma >= 0) for (const branch of branches(inner, message)) walk(branch.text, seen);
    i = close + 1;
  }
}

/** The index of the `}` closing the `{` at `open`. */
function matching(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '{') depth++;
    else if (s[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`unclosed { in message: ${s}`);
}

/** The branches of `name, plural, one {…} other {…}`. */
function branches(inner: string, whole: string): { key: string; text: string }[] {
  const parts = inner.split(',');
  if (parts.length < 3 || parts[1].trim() !== 'plural') throw new Error(`only "plural" is known, in message: ${whole}`);
  const body = parts.slice(2).join(',');
  const out: { key: string; text: string }[] = [];
  let i = 0;
  while (i < body.length) {
    const open = body.indexOf('{', i);
    if (open < 0) break;
    const key = body.slice(i, open).trim();
    const close = matching(body, open);
    out.push({ key, text: body.slice(open + 1, close) });
    i = close + 1;
  }
  if (!out.some((b) => b.key === 'other')) throw new Error(`a plural needs an "other" branch, in message: ${whole}`);
  return out;
}

/** The message with its parameters put in, for `locale` (plural rules and number format). */
export function format(message: string, params: Params = {}, locale = 'en'): string {
  let out = '';
  let i = 0;
  while (i < message.length) {
    const open = message.indexOf('{', i);
    if (open < 0) {
      out += message.slice(i);
      break;
    }
    out += message.slice(i, open);
    const close = matching(message, open);
    const inner = message.slice(open + 1, close);
    const comma = inner.indexOf(',');
    const name = (comma < 0 ? inner : inner.slice(0, comma)).trim();
    const value = params[name];
    if (comma < 0) {
      out += value === undefined ? `{${name}}` : typeof value === 'number' ? number(value, locale) : value;
    } else {
      const n = typeof value === 'number' ? value : Number(value);
      const all = branches(inner, message);
      const exact = all.find((b) => b.key === `=${n}`);
      const category = cachedPluralRules(locale).select(n);
      const chosen = exact ?? all.find((b) => b.key === category) ?? all.find((b) => b.key === 'other')!;
      out += format(chosen.text.replaceAll('#', number(n, locale)), params, locale);
    }
    i = close + 1;
  }
  return out;
}

function number(n: number, locale: string): string {
  return cachedNumberFormat(locale).format(n);
}
