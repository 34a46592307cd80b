import { describe, it, expect } from 'vitest';
import { en } from './en';
import { es } from './es';
import { format, paramNames } from './format';
import { localeFrom } from './locale.svelte';

const catalogs = { en, es } as Record<string, Record<string, string>>;

describe('message catalogs', () => {
  it('have exactly the same keys in every language', () => {
    const keys = Object.keys(en).sort();
    for (const [name, c] of Object.entries(catalogs)) {
      const missing = keys.filter((k) => !(k in c));
      const extra = Object.keys(c).filter((k) => !(k in en));
      expect({ name, missing, extra }).toEqual({ name, missing: [], extra: [] });
    }
  });

  it('use the same parameters per key in every language', () => {
    const differ = Object.keys(en).flatMap((k) =>
      Object.entries(catalogs)
        .filter(([, c]) => paramNames(c[k] ?? '').join(',') !== paramNames(en[k as keyof typeof en]).join(','))
        .map(([name, c]) => `${name} ${k}: ${paramNames(c[k] ?? '')} vs en ${paramNames(en[k as keyof typeof en])}`),
    );
    expect(differ).toEqual([]);
  });

  it('has no empty message', () => {
    for (const [name, c] of Object.entries(catalogs)) expect(Object.entries(c).filter(([, v]) => v.trim() === '').map(([k]) => `${name} ${k}`)).toEqual([]);
  });
});

describe('format', () => {
  it('puts parameters in and keeps a missing one visible', () => {
    expect(format('Hello {name}', { name: 'Ana' })).toBe('Hello Ana');
    expect(format('Hello {name}')).toBe('Hello {name}');
  });

  it('chooses plural forms by the locale', () => {
    const m = '{count, plural, one {# conflict} other {# conflicts}}';
    expect(format(m, { count: 1 }, 'en')).toBe('1 conflict');
    expect(format(m, { count: 2 }, 'en')).toBe('2 conflicts');
    expect(format(m, { count: 0 }, 'en')).toBe('0 conflicts');
    expect(format(m, { count: 20000 }, 'en')).toBe('20,000 conflicts');
    expect(format(es['sync.conflicts'], { count: 1 }, 'es')).toBe('1 conflicto');
    expect(format(es['sync.conflicts'], { count: 2 }, 'es')).toBe('2 conflictos');
    expect(format('{n, plural, =0 {none} other {# left}}', { n: 0 })).toBe('none');
  });

  it('names the parameters of a message, plural selectors and nested ones', () => {
    expect(paramNames('{a} and {count, plural, one {# in {site}} other {# in {site}}}')).toEqual(['a', 'count', 'site']);
  });

  it('refuses a plural without an "other" branch', () => {
    expect(() => paramNames('{n, plural, one {x}}')).toThrow(/other/);
  });
});

describe('language from the OS', () => {
  it('is Spanish for any es* language, English otherwise', () => {
    expect(localeFrom(['es-ES'])).toBe('es');
    expect(localeFrom(['es'])).toBe('es');
    expect(localeFrom(['es_MX', 'en'])).toBe('es');
    expect(localeFrom(['en-US', 'es'])).toBe('en');
    expect(localeFrom(['fr-FR'])).toBe('en');
    expect(localeFrom(['eu'])).toBe('en');
    expect(localeFrom([])).toBe('en');
  });
});
