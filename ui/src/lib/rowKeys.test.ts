import { describe, it, expect } from 'vitest';
import { nextRow, scrollFor } from './rowKeys';

describe('row keys', () => {
  it('moves one row with the arrows, staying inside the list', () => {
    expect(nextRow('ArrowDown', -1, 5, 10)).toBe(0);
    expect(nextRow('ArrowDown', 0, 5, 10)).toBe(1);
    expect(nextRow('ArrowDown', 4, 5, 10)).toBe(4);
    expect(nextRow('ArrowUp', 0, 5, 10)).toBe(0);
    expect(nextRow('ArrowUp', 3, 5, 10)).toBe(2);
  });

  it('jumps a page, or to either end', () => {
    expect(nextRow('PageDown', 0, 100, 10)).toBe(9);
    expect(nextRow('PageDown', 95, 100, 10)).toBe(99);
    expect(nextRow('PageUp', 50, 100, 10)).toBe(41);
    expect(nextRow('PageUp', 3, 100, 10)).toBe(0);
    expect(nextRow('Home', 50, 100, 10)).toBe(0);
    expect(nextRow('End', 0, 100, 10)).toBe(99);
  });

  it('leaves other keys and an empty list alone', () => {
    expect(nextRow('Enter', 0, 5, 10)).toBeNull();
    expect(nextRow('a', 0, 5, 10)).toBeNull();
    expect(nextRow('ArrowDown', -1, 0, 10)).toBeNull();
  });

  it('scrolls as little as needed to show the row', () => {
    expect(scrollFor(5, 40, 0, 400)).toBe(0);
    expect(scrollFor(10, 40, 0, 400)).toBe(40);
    expect(scrollFor(2, 40, 200, 400)).toBe(80);
    expect(scrollFor(99, 40, 0, 400)).toBe(3600);
  });
});
