//! A record of single-resident reads and writes, in the order the remote served them, kept
//! only when asked ([`World::keep_history`]): off by default, so neither the demo nor the
//! benchmarks pay for it.
//!
//! Why: the API's PUT replaces a whole resident with no condition (no version to match), so a
//! client that reads a resident, compares, then writes can overwrite another client's write
//! that landed in between — a round trip no client can close. The many-desks soak
//! (`examples/soak_desks.rs`, one service account per desk) uses this record to tell such a
//! loss (the overwriting desk's last read came *before* the lost write) from a loss the desk
//! should have prevented (its read came after and showed the other value, or it never read).

use crate::world::World;

/// One read (`GET …/resident/{id}`) or applied write (`PUT …/resident/{id}`) of a resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentAccess {
    /// Position in the remote's order of service (from 0).
    pub seq: u64,
    /// When it was served (wall clock, whatever the simulated clock says).
    pub at: std::time::Instant,
    /// The account whose token made the request.
    pub account: String,
    /// A write that was applied (its answer may still have been lost to a fault).
    pub write: bool,
    pub resident_id: String,
    pub email: String,
    /// The values read, or written, that the soak compares.
    pub first_name: String,
    pub phone: Option<String>,
}

impl World {
    /// Starts (or restarts, empty) the record of resident reads and writes.
    pub fn keep_history(&mut self) {
        self.history = Some(Vec::new());
    }

    /// The record so far (empty when it is not kept).
    pub fn history(&self) -> &[ResidentAccess] {
        self.history.as_deref().unwrap_or_default()
    }

    /// Records one read or applied write of resident `id`, when the record is kept.
    pub(crate) fn record_access(&mut self, account: &str, id: &str, write: bool) {
        let Some(history) = self.history.as_mut() else { return };
        let Some(r) = self.data.residents.get(id) else { return };
        let seq = history.len() as u64;
        history.push(ResidentAccess {
            seq,
            at: std::time::Instant::now(),
            account: account.to_string(),
            write,
            resident_id: id.to_string(),
            email: r.email.clone(),
            first_name: r.first_name.clone(),
            phone: r.phone.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::clock::SimClock;
    use crate::faults::FaultConfig;
    use crate::seed::Seed;
    use crate::world::{Settings, World};
    use chrono::TimeZone;

    #[test]
    fn the_record_is_kept_only_when_asked_and_in_order() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let data = Seed::bench(2, now).into_data(1).unwrap();
        let mut w = World::new(data, SimClock::frozen(now), Settings::default(), FaultConfig::default(), 1);
        let id = w.data.residents.keys().next().cloned().expect("a demo resident");
        w.record_access("a@x", &id, false);
        assert!(w.history().is_empty(), "not kept unless asked");
        w.keep_history();
        w.record_access("a@x", &id, false);
        w.record_access("b@x", &id, true);
        w.record_access("a@x", "no-such-resident", true);
        let h = w.history();
        assert_eq!(h.len(), 2, "an unknown resident is not recorded");
        assert_eq!((h[0].seq, h[0].account.as_str(), h[0].write), (0, "a@x", false));
        assert_eq!((h[1].seq, h[1].account.as_str(), h[1].write), (1, "b@x", true));
        assert_eq!(h[1].first_name, w.data.residents[&id].first_name);
    }
}
