// The person's presence as the window sees it (keys, pointer). Two uses, no rule: it is
// reported to the core, which alone decides the idle lock (src/app/idle.rs), at most once
// per REPORT_EVERY_MS; and a refresh the app makes on its own (after a background sync pass)
// waits until the person is there, because the core counts every call as the person's
// activity and an unattended window refreshing itself would never lock.

/** At most one report to the core per this many milliseconds. */
export const REPORT_EVERY_MS = 5000;
/** A window touched within this many milliseconds is attended. */
export const ATTENDED_MS = 15000;

export function createPresence(report: () => void, now: () => number = Date.now) {
  let last = Number.NEGATIVE_INFINITY;
  let reported = Number.NEGATIVE_INFINITY;
  let waiting: (() => void)[] = [];
  return {
    /** A key or pointer event: reports (throttled) when `reportable`, and runs what waited. */
    interacted(reportable: boolean) {
      const t = now();
      last = t;
      if (reportable && t - reported >= REPORT_EVERY_MS) {
        reported = t;
        report();
      }
      const run = waiting;
      waiting = [];
      for (const fn of run) fn();
    },
    /** Runs `fn` now if the window is attended, else at the next interaction (once, however
     * many times it was asked for meanwhile). */
    whenAttended(fn: () => void) {
      if (now() - last < ATTENDED_MS) fn();
      else if (!waiting.includes(fn)) waiting.push(fn);
    },
  };
}
