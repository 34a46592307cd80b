//! Progress of the long use cases (the export, bulk actions, the demo seed), for an edge to
//! show: the CLI draws a bar on a terminal, the desktop sends events to its progress bars. The core knows nothing about
//! terminals; it calls an observer, at most once every [`EVERY`] items and once at the end
//! of each stage, so a bar costs nothing measurable on a 100,000-row export. (The import
//! reports its own `ImportProgress` with the bytes read, the sync pass `sync::Progress`.)

use serde::Serialize;

/// How many items go by between two calls of the observer.
pub const EVERY: u64 = 1000;

/// How far a long use case has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "WorkProgress"))]
pub struct Progress {
    /// What is being done: `export` (rows written), `bulk` (residents done), `seed`
    /// (residents made).
    pub stage: &'static str,
    pub done: u64,
    /// How many items there will be, when the core knows it beforehand.
    pub total: Option<u64>,
}

/// Counts items and calls the observer at the rate above.
pub struct Ticker<'a> {
    stage: &'static str,
    every: u64,
    total: Option<u64>,
    done: u64,
    observer: &'a mut dyn FnMut(Progress),
    /// Asked at each report: whether the work must stop (the person signed out).
    stop: Option<&'a dyn Fn() -> bool>,
    stopped: bool,
}

impl<'a> Ticker<'a> {
    pub fn new(stage: &'static str, total: Option<u64>, observer: &'a mut dyn FnMut(Progress)) -> Self {
        Ticker { stage, total, done: 0, every: EVERY, observer, stop: None, stopped: false }
    }

    /// Reports every `every` items instead of every [`EVERY`] (at least 1): for work whose
    /// items are few but slow, like a bulk action's residents.
    pub fn every(mut self, every: u64) -> Self {
        self.every = every.max(1);
        self
    }

    /// Asks `stop` at every report; once it answers yes, [`Ticker::stopped`] says so.
    pub fn stop_when(mut self, stop: &'a dyn Fn() -> bool) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Whether the work must stop (see [`Ticker::stop_when`]).
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// One more item done.
    pub fn tick(&mut self) {
        self.add(1);
    }

    /// `n` more items done (the observer hears of it when a multiple of [`EVERY`], or of
    /// the rate set with [`Ticker::every`], is passed).
    pub fn add(&mut self, n: u64) {
        let before = self.done / self.every;
        self.done += n;
        if self.done / self.every != before {
            self.report();
        }
    }

    /// The stage has ended: the observer hears the final count.
    pub fn finish(&mut self) {
        self.report();
    }

    fn report(&mut self) {
        (self.observer)(Progress { stage: self.stage, done: self.done, total: self.total });
        if self.stop.is_some_and(|stop| stop()) {
            self.stopped = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_observer_hears_every_thousand_items_and_the_end() {
        let mut heard = Vec::new();
        {
            let mut observer = |p: Progress| heard.push(p.done);
            let mut t = Ticker::new("export", Some(2500), &mut observer);
            for _ in 0..2500 {
                t.tick();
            }
            t.add(0);
            t.finish();
        }
        assert_eq!(heard, vec![1000, 2000, 2500]);
        let mut jumps = Vec::new();
        {
            let mut observer = |p: Progress| jumps.push((p.stage, p.done, p.total));
            let mut t = Ticker::new("seed", None, &mut observer);
            t.add(400);
            t.add(400);
            t.add(400);
            t.add(5000);
            t.finish();
        }
        assert_eq!(jumps, vec![("seed", 1200, None), ("seed", 6200, None), ("seed", 6200, None)]);
        let mut few = Vec::new();
        {
            let mut observer = |p: Progress| few.push(p.done);
            let mut t = Ticker::new("bulk", Some(7), &mut observer).every(3);
            for _ in 0..7 {
                t.tick();
            }
            t.finish();
        }
        assert_eq!(few, vec![3, 6, 7], "a bulk action of 7 residents, reported every 3 and at the end");
    }
}
