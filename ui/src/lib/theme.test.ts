import { describe, it, expect } from 'vitest';
import { contrast } from './contrast';
import css from '../app.css?raw';

// The palettes as app.css declares them: the light one on :root, the dark one twice (under
// prefers-color-scheme and under data-theme="dark").

function block(selector: string): Record<string, string> {
  const at = css.indexOf(selector);
  if (at < 0) throw new Error(`app.css has no ${selector} block`);
  const body = css.slice(css.indexOf('{', at) + 1, css.indexOf('}', at));
  const vars: Record<string, string> = {};
  for (const m of body.matchAll(/--([\w-]+):\s*([^;]+);/g)) vars[m[1]] = m[2].trim();
  return vars;
}

const light = block(':root {');
const darkOs = block(":root:not([data-theme='light']) {");
const darkChosen = block(":root[data-theme='dark'] {");

// Text (first) on background (second): every pair the screens use.
const PAIRS: [string, string][] = [
  ['ink', 'bg'],
  ['ink', 'panel'],
  ['ink', 'panel-alt'],
  ['ink', 'field'],
  ['ink', 'selected'],
  ['muted', 'bg'],
  ['muted', 'panel'],
  ['muted', 'panel-alt'],
  ['muted', 'field'],
  ['muted', 'field-disabled'],
  ['primary', 'panel'],
  ['primary', 'bg'],
  ['primary-ink', 'primary'],
  ['danger', 'panel'],
  ['danger', 'bg'],
  ['ok', 'panel'],
  ['warn', 'panel'],
  ['on-strong', 'danger-strong'],
  ['on-strong', 'ok-strong'],
  ['header-ink', 'header'],
  ['chip-current-ink', 'chip-current-bg'],
  ['chip-pending-ink', 'chip-pending-bg'],
  ['chip-scheduled-ink', 'chip-scheduled-bg'],
  ['chip-suspended-ink', 'chip-suspended-bg'],
  ['chip-expired-ink', 'chip-expired-bg'],
  ['muted', 'field-disabled'],
];

// The focus ring (non-text: 3:1) on every surface it is drawn on.
const FOCUS_PAIRS: [string, string][] = [
  ['focus', 'bg'],
  ['focus', 'panel'],
  ['focus', 'panel-alt'],
  ['focus', 'field'],
  ['focus', 'selected'],
  ['focus-header', 'header'],
];

describe('palette', () => {
  it('declares the dark palette the same way for the OS and for the override', () => {
    expect(darkChosen).toEqual(darkOs);
  });

  it('gives the dark palette every variable of the light one', () => {
    const colours = (p: Record<string, string>) => Object.keys(p).filter((k) => /^(#|rgb|url)/.test(p[k])).sort();
    expect(colours(darkOs)).toEqual(colours(light));
  });

  for (const [name, palette] of [
    ['light', light],
    ['dark', darkOs],
  ] as const) {
    it(`reaches WCAG AA (4.5:1) for every text pair in ${name}`, () => {
      const low = PAIRS.map(([fg, bg]) => {
        expect(palette[fg], `--${fg}`).toMatch(/^#/);
        expect(palette[bg], `--${bg}`).toMatch(/^#/);
        return { pair: `--${fg} on --${bg}`, ratio: Math.round(contrast(palette[fg], palette[bg]) * 100) / 100 };
      }).filter((p) => p.ratio < 4.5);
      expect(low).toEqual([]);
    });
  }

  for (const [name, palette] of [
    ['light', light],
    ['dark', darkOs],
  ] as const) {
    it(`draws a focus ring of at least 3:1 on every surface in ${name}`, () => {
      const low = FOCUS_PAIRS.map(([fg, bg]) => ({ pair: `--${fg} on --${bg}`, ratio: Math.round(contrast(palette[fg], palette[bg]) * 100) / 100 })).filter(
        (p) => p.ratio < 3,
      );
      expect(low).toEqual([]);
    });
  }

  it('tells a dark background from a light one', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#777777', '#ffffff')).toBeLessThan(4.5);
  });
});

// Every component's colours come from the palette: a literal colour in a <style> would not
// follow the theme.
const SOURCES = import.meta.glob('../**/*.svelte', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
const LITERAL = /#[0-9a-f]{3,8}\b|\brgba?\(|\bhsla?\(|:\s*(white|black)\b/gi;

describe('component styles', () => {
  it('reads every component', () => {
    expect(Object.keys(SOURCES).length).toBeGreaterThan(20);
  });
  it('finds a literal colour (the check itself)', () => {
    expect('<style> .a { color: #fff; background: rgb(0 0 0 / 0.2); } </style>'.match(LITERAL)).toHaveLength(2);
  });
  for (const [file, source] of Object.entries(SOURCES)) {
    it(`${file.replace('../', '')} takes every colour from the palette`, () => {
      const styles = (source.match(/<style[\s\S]*?<\/style>/g) ?? []).join('\n');
      expect(styles.match(LITERAL) ?? []).toEqual([]);
    });
  }
});
