import { describe, it, expect, afterEach, vi } from 'vitest';
import { cachedDateTimeFormat, cachedNumberFormat, cachedPluralRules } from './intlCache';

afterEach(() => vi.unstubAllEnvs());

describe('kept Intl formatters', () => {
  it('makes one formatter per locale and options', () => {
    const a = cachedDateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' });
    expect(cachedDateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' })).toBe(a);
    expect(cachedDateTimeFormat('es', { dateStyle: 'medium', timeZone: 'UTC' })).not.toBe(a);
    expect(cachedDateTimeFormat('en', { dateStyle: 'short', timeZone: 'UTC' })).not.toBe(a);
    expect(cachedNumberFormat('es')).toBe(cachedNumberFormat('es'));
    expect(cachedPluralRules('en')).toBe(cachedPluralRules('en'));
  });

  it('follows a change of the desk zone for formatters without a zone of their own', () => {
    const at = new Date('2026-11-30T05:00:00Z');
    vi.stubEnv('TZ', 'America/Los_Angeles');
    expect(cachedDateTimeFormat('en', { dateStyle: 'medium' }).format(at)).toBe('Nov 29, 2026');
    vi.stubEnv('TZ', 'Asia/Tokyo');
    expect(cachedDateTimeFormat('en', { dateStyle: 'medium' }).format(at)).toBe('Nov 30, 2026');
  });
});
