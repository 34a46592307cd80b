import { describe, it, expect } from 'vitest';
import {
  clampOffset,
  dragOffset,
  maxOffset,
  percentScrolled,
  rowsInView,
  thumb,
  trackPage,
  wheelPixels,
  wheelTarget,
  DOM_DELTA_LINE,
  DOM_DELTA_PAGE,
  DOM_DELTA_PIXEL,
} from './drawnScroll';

// A list of 100 rows of 40 px (4,000 px) in a 400 px viewport: it moves 0..3,600 px.
const CONTENT = 4000;
const VIEW = 400;

describe('offset', () => {
  it('stays inside the list', () => {
    expect(maxOffset(CONTENT, VIEW)).toBe(3600);
    expect(clampOffset(-5, CONTENT, VIEW)).toBe(0);
    expect(clampOffset(1234, CONTENT, VIEW)).toBe(1234);
    expect(clampOffset(5000, CONTENT, VIEW)).toBe(3600);
    expect(clampOffset(Number.NaN, CONTENT, VIEW)).toBe(0);
  });

  it('goes back to the top when the list fits', () => {
    expect(maxOffset(300, VIEW)).toBe(0);
    expect(clampOffset(200, 300, VIEW)).toBe(0);
  });
});

describe('wheel', () => {
  it('turns each delta mode into pixels', () => {
    expect(wheelPixels(3.5, DOM_DELTA_PIXEL, 40, VIEW)).toBe(3.5);
    expect(wheelPixels(-3, DOM_DELTA_LINE, 40, VIEW)).toBe(-120);
    expect(wheelPixels(1, DOM_DELTA_PAGE, 40, VIEW)).toBe(360);
    expect(wheelPixels(2, DOM_DELTA_PAGE, 40, 20)).toBe(80);
    expect(wheelPixels(Number.NaN, DOM_DELTA_PIXEL, 40, VIEW)).toBe(0);
  });

  it('moves the list, and lets the page have the event at either end', () => {
    expect(wheelTarget(0, 53, CONTENT, VIEW)).toBe(53);
    expect(wheelTarget(100, -30, CONTENT, VIEW)).toBe(70);
    expect(wheelTarget(3590, 53, CONTENT, VIEW)).toBe(3600);
    expect(wheelTarget(0, -10, CONTENT, VIEW)).toBeNull();
    expect(wheelTarget(3600, 10, CONTENT, VIEW)).toBeNull();
    expect(wheelTarget(500, 0, CONTENT, VIEW)).toBeNull();
    expect(wheelTarget(0, 10, 300, VIEW)).toBeNull();
  });

  it('moves from where a shorter list left it, not from a stale offset', () => {
    // The offset was 3,000 px, then an answer of 10 rows (400 px) arrived: the list is at 0.
    expect(wheelTarget(3000, 10, 400, VIEW)).toBeNull();
    expect(wheelTarget(3000, -10, 800, VIEW)).toBe(390);
  });
});

describe('thumb', () => {
  it('is sized by the share in view and placed by the share scrolled', () => {
    expect(thumb(0, CONTENT, VIEW, 400)).toEqual({ size: 40, top: 0 });
    expect(thumb(3600, CONTENT, VIEW, 400)).toEqual({ size: 40, top: 360 });
    expect(thumb(1800, CONTENT, VIEW, 400)).toEqual({ size: 40, top: 180 });
  });

  it('keeps a grabbable size on a long list', () => {
    const t = thumb(4_000_000 - 400, 4_000_000, 400, 400);
    expect(t.size).toBe(24);
    expect(t.top).toBe(376);
  });

  it('fills the track when the list fits, and is nothing without a track', () => {
    expect(thumb(0, 300, VIEW, 400)).toEqual({ size: 400, top: 0 });
    expect(thumb(10, CONTENT, VIEW, 0)).toEqual({ size: 0, top: 0 });
  });
});

describe('drag', () => {
  it('follows the pointer along the track', () => {
    // 360 px of track for 3,600 px of list: a pixel of drag is ten of list.
    expect(dragOffset(0, 18, CONTENT, VIEW, 400)).toBe(180);
    expect(dragOffset(1800, -18, CONTENT, VIEW, 400)).toBe(1620);
  });

  it('stops at the ends however far the pointer goes', () => {
    expect(dragOffset(100, -1000, CONTENT, VIEW, 400)).toBe(0);
    expect(dragOffset(100, 1000, CONTENT, VIEW, 400)).toBe(3600);
  });

  it('does not move a list that fits', () => {
    expect(dragOffset(0, 50, 300, VIEW, 400)).toBe(0);
  });
});

describe('track', () => {
  it('pages towards a press outside the thumb', () => {
    // Thumb at 180..220 px of the track; a page is 360 px (the viewport less a row).
    expect(trackPage(1800, 300, CONTENT, VIEW, 400, 40)).toBe(2160);
    expect(trackPage(1800, 50, CONTENT, VIEW, 400, 40)).toBe(1440);
    expect(trackPage(1800, 200, CONTENT, VIEW, 400, 40)).toBe(1800);
    expect(trackPage(3500, 395, CONTENT, VIEW, 400, 40)).toBe(3600);
  });
});

describe('for assistive technology', () => {
  it('says 0 only at the top and 100 only at the end', () => {
    expect(percentScrolled(0, CONTENT, VIEW)).toBe(0);
    expect(percentScrolled(1, CONTENT, VIEW)).toBe(1);
    expect(percentScrolled(1800, CONTENT, VIEW)).toBe(50);
    expect(percentScrolled(3599, CONTENT, VIEW)).toBe(99);
    expect(percentScrolled(3600, CONTENT, VIEW)).toBe(100);
    expect(percentScrolled(100, 300, VIEW)).toBe(0);
  });

  it('names the rows in view', () => {
    expect(rowsInView(0, 100, 40, VIEW)).toEqual([1, 10]);
    expect(rowsInView(20, 100, 40, VIEW)).toEqual([1, 11]);
    expect(rowsInView(3600, 100, 40, VIEW)).toEqual([91, 100]);
    expect(rowsInView(0, 3, 40, VIEW)).toEqual([1, 3]);
    expect(rowsInView(0, 0, 40, VIEW)).toEqual([0, 0]);
  });
});
