import { describe, it, expect } from 'vitest';
import { statusSegments, statusText, unitsText } from './siteOverview';
import type { SiteOverview } from './api/bindings/SiteOverview';

const site = (over: Partial<SiteOverview> = {}): SiteOverview => ({
  site_id: 1,
  name: 'Harbor View',
  site_type: 'multi_family',
  time_zone: 'America/Los_Angeles',
  remote_id: null,
  residents: { active: 6, pending: 2, suspended: 0, scheduled: 1, expired: 1 },
  units: 12,
  units_occupied: 8,
  last_pull_at: null,
  last_error: null,
  pending: 0,
  rejected: 0,
  conflicts: 0,
  ...over,
});

describe('site overview pictures', () => {
  it('lays the non-empty parts side by side over the whole bar', () => {
    const segs = statusSegments(site().residents);
    expect(segs.map((s) => [s.part, s.count])).toEqual([
      ['active', 6],
      ['pending', 2],
      ['scheduled', 1],
      ['expired', 1],
    ]);
    expect(segs[0]).toMatchObject({ x: 0, width: 60 });
    expect(segs[1]).toMatchObject({ x: 60, width: 20 });
    const end = segs[segs.length - 1];
    expect(end.x + end.width).toBeCloseTo(100, 9);
    expect(statusSegments({ active: 0, pending: 0, suspended: 0, scheduled: 0, expired: 0 })).toEqual([]);
  });

  it('says the same numbers in words', () => {
    expect(statusText(site())).toBe('Residents at Harbor View: 6 active, 2 pending, 1 scheduled, 1 expired (10 in all)');
    expect(statusText(site({ residents: { active: 0, pending: 0, suspended: 0, scheduled: 0, expired: 0 } }))).toBe('No residents at Harbor View');
    expect(unitsText(site())).toBe('8 of 12 units occupied, 4 free');
    expect(unitsText(site({ units: 0, units_occupied: 0 }))).toBe('No units mapped');
  });
});
