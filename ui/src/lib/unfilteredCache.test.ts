import { describe, it, expect } from 'vitest';
import { createUnfilteredCache, listKey, sameJson } from './unfilteredCache';
import type { ResidentFilter } from './api/bindings/ResidentFilter';
import type { ResidentView } from './api/bindings/ResidentView';

const none: ResidentFilter = { statuses: [], building: null, search: null, limit: null };
const rows = [{ id: 1 }] as unknown as ResidentView[];

describe('the kept answer without a search', () => {
  it('is kept per site and filter, and only without a search', () => {
    const cache = createUnfilteredCache();
    cache.put('1', { ...none, search: 'ad' }, rows);
    expect(cache.get('1', none)).toBeNull();
    cache.put('1', none, rows);
    expect(cache.get('1', none)).toBe(rows);
    // An empty search field is no search.
    expect(cache.get('1', { ...none, search: '' })).toBe(rows);
    expect(cache.get('1', { ...none, search: 'ad' })).toBeNull();
    expect(cache.get('2', none)).toBeNull();
    expect(cache.get('1', { ...none, building: 'A' })).toBeNull();
    expect(cache.get('1', { ...none, statuses: ['current'] })).toBeNull();
    expect(cache.get('1', { ...none, main: ['active'] })).toBeNull();
    expect(cache.get('1', { ...none, markers: ['invitation_not_accepted'] })).toBeNull();
    cache.clear();
    expect(cache.get('1', none)).toBeNull();
  });
  it('names a list by everything but its search', () => {
    expect(listKey('1', { ...none, search: 'x' })).toBe(listKey('1', none));
    expect(listKey('1', { ...none, main: [] })).toBe(listKey('1', none));
    expect(listKey('1', { ...none, limit: 10 })).not.toBe(listKey('1', none));
  });
  it('compares answers value by value', () => {
    expect(sameJson({ a: [1, { b: null }], c: 'x' }, { c: 'x', a: [1, { b: null }] })).toBe(true);
    expect(sameJson({ a: [1, 2] }, { a: [1, 2, 3] })).toBe(false);
    expect(sameJson({ a: null }, { a: 0 })).toBe(false);
    expect(sameJson({ a: 1 }, { b: 1 })).toBe(false);
    expect(sameJson({ a: 1 }, { a: 1, b: 1 })).toBe(false);
    expect(sameJson([1], { 0: 1 })).toBe(false);
    expect(sameJson('1', 1)).toBe(false);
  });
});
