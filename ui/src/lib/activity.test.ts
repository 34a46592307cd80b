import { describe, it, expect } from 'vitest';
import { createPresence, REPORT_EVERY_MS, ATTENDED_MS } from './activity';

describe('presence', () => {
  it('reports interactions to the core at most once per period, and only when reportable', () => {
    let t = 0;
    let reports = 0;
    const p = createPresence(() => reports++, () => t);
    p.interacted(true);
    t += REPORT_EVERY_MS - 1;
    p.interacted(true);
    expect(reports).toBe(1);
    t += 1;
    p.interacted(false);
    expect(reports).toBe(1);
    p.interacted(true);
    expect(reports).toBe(2);
  });

  it('runs a refresh now in an attended window, else once at the next interaction', () => {
    let t = 0;
    const p = createPresence(() => {}, () => t);
    let runs = 0;
    const refresh = () => runs++;
    p.whenAttended(refresh);
    expect(runs).toBe(0);
    p.interacted(true);
    expect(runs).toBe(1);
    p.whenAttended(refresh);
    expect(runs).toBe(2);
    t += ATTENDED_MS;
    p.whenAttended(refresh);
    p.whenAttended(refresh);
    expect(runs).toBe(2);
    p.interacted(true);
    expect(runs).toBe(3);
  });
});
