// No .svelte file shows a person English text of its own: text nodes and the attributes a
// person reads or hears (title, placeholder, aria-label, alt, label) come from the catalog.
import { describe, it, expect } from 'vitest';

// Every component's source, as text (Vite reads them; no Node types needed).
const SOURCES = import.meta.glob('../../**/*.svelte', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

/** The markup of a component: without <script>, <style>, comments and `{…}` expressions. */
function markup(source: string): string {
  let s = source.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<style[\s\S]*?<\/style>/g, '').replace(/<!--[\s\S]*?-->/g, '');
  // Expressions may nest braces (objects, template literals): strip innermost first.
  let before;
  do {
    before = s;
    s = s.replace(/\{[^{}]*\}/g, '\u0001');
  } while (s !== before);
  return s;
}

// Words in English: at least two letters. Symbols (↻, ×, ▲, →, —) and the brand are not words.
const WORD = /[A-Za-z]{2,}/;
const ALLOWED = new Set(['ResidentDesk', 'RD']);

/** The hard-coded texts a person would read in a component. */
function hardCodedTexts(source: string): string[] {
  const m = markup(source);
  const found: string[] = [];
  for (const text of m.replace(/<[^>]*>/g, '\n').split('\n')) {
    const t = text.replace(/\u0001/g, ' ').trim();
    if (t && WORD.test(t) && !ALLOWED.has(t)) found.push(t);
  }
  for (const tag of m.match(/<[^>]*>/g) ?? []) {
    for (const a of tag.matchAll(/\b(title|placeholder|aria-label|alt|label)="([^"]*)"/g)) {
      if (WORD.test(a[2].replace(/\u0001/g, ''))) found.push(`${a[1]}="${a[2]}"`);
    }
  }
  return found;
}

describe('no hard-coded text in components', () => {
  it('finds English text and attributes (the check itself)', () => {
    expect(hardCodedTexts('<p>Hello there</p>')).toEqual(['Hello there']);
    expect(hardCodedTexts('<button title="Close it">{t("x")}</button>')).toEqual(['title="Close it"']);
    expect(hardCodedTexts('<input placeholder={t("a")} aria-label="Search" />')).toEqual(['aria-label="Search"']);
    expect(hardCodedTexts('<p>{t("a")} ({n})</p><span>↻</span>')).toEqual([]);
    expect(hardCodedTexts('<script>const a = "Words here";</script><p>{a}</p>')).toEqual([]);
  });

  it('reads every component', () => {
    expect(Object.keys(SOURCES).length).toBeGreaterThan(20);
  });

  for (const [file, source] of Object.entries(SOURCES)) {
    it(`${file.replace('../../', '')} takes every text from the catalog`, () => {
      expect(hardCodedTexts(source)).toEqual([]);
    });
  }
});
