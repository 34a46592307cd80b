import { afterEach, describe, expect, it, vi } from 'vitest';
import { deskTime, deskZone } from './deskTime';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('desk times', () => {
  it('shows an instant in the desk zone, west and east of UTC around midnight UTC', () => {
    vi.stubEnv('TZ', 'America/Los_Angeles');
    expect(deskTime('2026-12-01T01:00:00Z')).toBe('2026-11-30 17:00');
    expect(deskTime('2026-12-01T01:00:07Z', { seconds: true, date: false })).toBe('17:00:07');
    expect(deskZone('2026-12-01T01:00:00Z')).toBe('PST');
    vi.stubEnv('TZ', 'Asia/Tokyo');
    expect(deskTime('2026-11-30T23:30:00Z')).toBe('2026-12-01 08:30');
    expect(deskZone('2026-11-30T23:30:00Z')).toMatch(/^(GMT\+9|JST)$/);
  });

  it('keeps text it cannot read', () => {
    expect(deskTime('not a time')).toBe('not a time');
  });
});
