import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import { get } from 'svelte/store';
import { createNotices, noticeText, OK_MS, MAX_OK, ACTION_MS } from './notices';

describe('notices', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());
  const texts = (n: ReturnType<typeof createNotices>) => get(n).map((x) => `${x.kind}:${x.text}`);

  it('lets a success notice go after a few seconds and keeps an error until it is closed', () => {
    const n = createNotices(() => Date.now());
    n.push('ok', 'saved');
    const err = n.push('error', 'refused', 1000);
    vi.advanceTimersByTime(OK_MS - 1);
    expect(texts(n)).toEqual(['ok:saved', 'error:refused']);
    vi.advanceTimersByTime(1);
    expect(texts(n)).toEqual(['error:refused']);
    vi.advanceTimersByTime(10 * 60_000);
    expect(texts(n)).toEqual(['error:refused']);
    n.dismiss(err);
    expect(texts(n)).toEqual([]);
  });

  it('shows at most two success notices: the oldest leaves for a new one', () => {
    const n = createNotices(() => Date.now());
    n.push('error', 'e');
    n.push('ok', 'a');
    n.push('ok', 'b');
    n.push('ok', 'c');
    expect(MAX_OK).toBe(2);
    expect(texts(n)).toEqual(['error:e', 'ok:b', 'ok:c']);
    // The dropped one's timer does not take another notice with it.
    vi.advanceTimersByTime(OK_MS);
    expect(texts(n)).toEqual(['error:e']);
  });

  it('does not stack the same error twice', () => {
    const n = createNotices(() => Date.now());
    const a = n.push('error', 'offline');
    const b = n.push('error', 'offline');
    expect(b).toBe(a);
    expect(texts(n)).toEqual(['error:offline']);
  });

  it('holds success notices while paused, then gives each the time it had left', () => {
    const n = createNotices(() => Date.now());
    n.push('ok', 'a');
    vi.advanceTimersByTime(3000);
    n.pause();
    n.push('ok', 'b');
    vi.advanceTimersByTime(60_000);
    expect(texts(n)).toEqual(['ok:a', 'ok:b']);
    n.resume();
    vi.advanceTimersByTime(OK_MS - 3000);
    expect(texts(n)).toEqual(['ok:b']);
    vi.advanceTimersByTime(3000);
    expect(texts(n)).toEqual([]);
  });

  it('keeps a success notice pushed with no time until closed, and clears all on clear()', () => {
    const n = createNotices(() => Date.now());
    n.push('ok', 'stays', 0);
    n.push('error', 'e');
    vi.advanceTimersByTime(60_000);
    expect(texts(n)).toEqual(['ok:stays', 'error:e']);
    n.clear();
    expect(texts(n)).toEqual([]);
  });

  it('keeps a notice with an action (Undo) longer, and runs the action once', async () => {
    const n = createNotices(() => Date.now());
    let runs = 0;
    const id = n.push('ok', 'terminated', undefined, { label: 'Undo', run: () => void runs++ });
    expect(ACTION_MS).toBeGreaterThan(OK_MS);
    vi.advanceTimersByTime(OK_MS);
    expect(texts(n)).toEqual(['ok:terminated']);
    const notice = get(n)[0];
    expect(notice.action?.label).toBe('Undo');
    await n.act(id, notice.action!);
    expect(runs).toBe(1);
    expect(texts(n)).toEqual([]);
    // Without pressing, it leaves after its longer time.
    n.push('ok', 'suspended', undefined, { label: 'Undo', run: () => {} });
    vi.advanceTimersByTime(ACTION_MS - 1);
    expect(texts(n)).toEqual(['ok:suspended']);
    vi.advanceTimersByTime(1);
    expect(texts(n)).toEqual([]);
  });
});

describe('a notice on screen follows the language', () => {
  it('says its words again when asked, so a change of language reaches it', () => {
    const stack = createNotices();
    let language = 'en';
    const words: Record<string, string> = { en: 'Saved.', es: 'Guardado.' };
    stack.push('error', () => words[language]);
    const [n] = get(stack);
    expect(noticeText(n)).toBe('Saved.');
    language = 'es';
    expect(noticeText(n)).toBe('Guardado.');
    // The same error again, as words or as a function, is not stacked twice.
    stack.push('error', 'Guardado.');
    expect(get(stack)).toHaveLength(1);
  });
});
