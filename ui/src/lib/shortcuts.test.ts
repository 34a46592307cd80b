import { describe, it, expect } from 'vitest';
import { shortcutFor, isTyping, SHORTCUTS, type KeyPress } from './shortcuts';
import { en } from './i18n/en';

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({ key, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

describe('shortcuts', () => {
  it('maps the documented keys', () => {
    expect(shortcutFor(press('f', { ctrlKey: true }), false)).toBe('search');
    expect(shortcutFor(press('F', { ctrlKey: true }), false)).toBe('search');
    expect(shortcutFor(press('n', { ctrlKey: true }), false)).toBe('new');
    expect(shortcutFor(press('S', { ctrlKey: true, shiftKey: true }), false)).toBe('sync');
    expect(shortcutFor(press('F5'), false)).toBe('sync');
    expect(shortcutFor(press('p', { ctrlKey: true }), false)).toBe('print');
    expect(shortcutFor(press('?', { shiftKey: true }), false)).toBe('help');
    expect(shortcutFor(press('F1'), false)).toBe('help');
  });

  it('ignores near misses', () => {
    expect(shortcutFor(press('n'), false)).toBeNull();
    expect(shortcutFor(press('s', { ctrlKey: true }), false)).toBeNull();
    expect(shortcutFor(press('n', { ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(shortcutFor(press('f', { ctrlKey: true, altKey: true }), false)).toBeNull();
    expect(shortcutFor(press('/'), false)).toBeNull();
  });

  it('lets only Ctrl+F through while the person types', () => {
    expect(shortcutFor(press('f', { ctrlKey: true }), true)).toBe('search');
    expect(shortcutFor(press('n', { ctrlKey: true }), true)).toBeNull();
    expect(shortcutFor(press('?', { shiftKey: true }), true)).toBeNull();
    expect(shortcutFor(press('F5'), true)).toBeNull();
  });

  it('tells typing from pressing', () => {
    const el = (tag: string, type?: string) => ({ tagName: tag, type, isContentEditable: false }) as unknown as Element;
    expect(isTyping(el('INPUT', 'text'))).toBe(true);
    expect(isTyping(el('INPUT', 'search'))).toBe(true);
    expect(isTyping(el('INPUT', ''))).toBe(true);
    expect(isTyping(el('INPUT', 'checkbox'))).toBe(false);
    expect(isTyping(el('TEXTAREA'))).toBe(true);
    expect(isTyping(el('SELECT'))).toBe(true);
    expect(isTyping(el('BUTTON'))).toBe(false);
    expect(isTyping({ tagName: 'DIV', isContentEditable: true } as unknown as Element)).toBe(true);
    expect(isTyping(null)).toBe(false);
  });

  it('names every shortcut in the catalog, each combination once', () => {
    for (const s of SHORTCUTS) expect(en[s.label]).toBeTruthy();
    const all = SHORTCUTS.flatMap((s) => s.combos.map((c) => `${c.ctrl}-${c.shift}-${c.key}`));
    expect(new Set(all).size).toBe(all.length);
  });
});
