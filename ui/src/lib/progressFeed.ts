// The progress of one long use case at a time (a bulk action, an export), from the shell's
// events: `start` listens before the work is asked for (no early event is lost) and clears
// the last run; the last value stays after the work ends (an event may arrive after the
// reply) until the next `start` or `stop`.
import { writable, type Readable } from 'svelte/store';
import type { WorkProgress } from './api/bindings/WorkProgress';

type Listen = (handler: (p: WorkProgress) => void) => Promise<() => void>;

export interface ProgressFeed extends Readable<WorkProgress | null> {
  start(): Promise<void>;
  stop(): void;
}

export function progressFeed(listen: Listen): ProgressFeed {
  const state = writable<WorkProgress | null>(null);
  let unlisten: (() => void) | null = null;
  return {
    subscribe: state.subscribe,
    async start() {
      unlisten?.();
      unlisten = null;
      state.set(null);
      unlisten = await listen((p) => state.set(p));
    },
    stop() {
      unlisten?.();
      unlisten = null;
    },
  };
}
