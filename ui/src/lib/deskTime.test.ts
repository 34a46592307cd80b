import { afterEach, describe, expect, it, vi } from 'vitest';
import { deskZone } from './deskTime';
import { dateTime, day } from './i18n/intl';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('desk times', () => {
  it('shows an instant in the desk zone, west and east of UTC around midnight UTC, with the zone named', () => {
    vi.stubEnv('TZ', 'America/Los_Angeles');
    expect(dateTime('2026-12-01T01:00:00Z')).toBe('Nov 30, 2026, 5:00 PM');
    expect(deskZone('2026-12-01T01:00:00Z')).toBe('PST');
    vi.stubEnv('TZ', 'Asia/Tokyo');
    expect(dateTime('2026-11-30T23:30:00Z')).toBe('Dec 1, 2026, 8:30 AM');
    expect(deskZone('2026-11-30T23:30:00Z')).toMatch(/^(GMT\+9|JST)$/);
  });

  it("keeps a site's calendar day whatever the desk's zone", () => {
    for (const tz of ['America/Los_Angeles', 'Pacific/Auckland', 'UTC']) {
      vi.stubEnv('TZ', tz);
      expect(day('2026-11-30')).toBe('Nov 30, 2026');
    }
  });

  it('keeps text it cannot read', () => {
    expect(dateTime('not a time')).toBe('not a time');
    expect(day('someday')).toBe('someday');
  });
});
