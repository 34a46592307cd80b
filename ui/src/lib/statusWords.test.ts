import { describe, expect, it } from 'vitest';
import { statusFilterOf, statusFilterQuery } from './statusWords';

describe('status filter', () => {
  it('reads old saved views by what they meant and drops the unknown', () => {
    expect(statusFilterOf('current')).toBe('active');
    expect(statusFilterOf('expired')).toBe('ended');
    expect(statusFilterOf('pending')).toBe('invitation_not_accepted');
    expect(statusFilterOf('suspended')).toBe('suspended');
    expect(statusFilterOf('waiting_to_sync')).toBe('waiting_to_sync');
    expect(statusFilterOf('mystery')).toBe('');
    expect(statusFilterOf(undefined)).toBe('');
  });
  it('asks the core for a main status or a marker', () => {
    expect(statusFilterQuery('ended')).toEqual({ main: ['ended'], markers: [] });
    expect(statusFilterQuery('waiting_to_sync')).toEqual({ main: [], markers: ['waiting_to_sync'] });
    expect(statusFilterQuery('')).toEqual({ main: [], markers: [] });
  });
});
