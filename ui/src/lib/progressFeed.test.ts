import { describe, it, expect } from 'vitest';
import { get } from 'svelte/store';
import { progressFeed } from './progressFeed';
import type { WorkProgress } from './api/bindings/WorkProgress';

describe('progressFeed', () => {
  it('listens before the work, keeps the last value, clears on the next start and stops listening', async () => {
    let handler: ((p: WorkProgress) => void) | null = null;
    let listening = 0;
    const feed = progressFeed(async (h) => {
      handler = h;
      listening += 1;
      return () => {
        listening -= 1;
        handler = null;
      };
    });
    expect(get(feed)).toBeNull();
    await feed.start();
    expect(listening).toBe(1);
    handler!({ stage: 'bulk', done: 5, total: 10 });
    handler!({ stage: 'bulk', done: 10, total: 10 });
    expect(get(feed)).toEqual({ stage: 'bulk', done: 10, total: 10 });
    await feed.start();
    expect(listening).toBe(1);
    expect(get(feed)).toBeNull();
    feed.stop();
    expect(listening).toBe(0);
  });
});
