//! `--state FILE`: the simulator's data and clock kept in SQLite across restarts.
//!
//! Deliberately simple: the whole [`Snapshot`] as one JSON document in a one-row table,
//! rewritten after each request that changed something and once more at shutdown. When a
//! write gets slow (a large portfolio), writes are spaced out: at most one every
//! [`SLOW_SAVE_INTERVAL`], the rest caught up by a background flush.

use crate::clock::SimClock;
use crate::model::Data;
use crate::world::Settings;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant};

/// A save slower than this switches to spaced-out saves.
pub const SLOW_SAVE: Duration = Duration::from_millis(20);
/// Least time between two slow saves.
pub const SLOW_SAVE_INTERVAL: Duration = Duration::from_millis(500);

/// What is persisted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub data: Data,
    pub clock: SimClock,
    pub settings: Settings,
}

/// An open state file.
#[derive(Debug)]
pub struct StateFile {
    conn: Connection,
    written_version: Option<u64>,
    last_save: Option<(Instant, Duration)>,
}

impl StateFile {
    /// Opens (creating if needed) the state file.
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=NORMAL;
             CREATE TABLE IF NOT EXISTS sim_snapshot (
                 id INTEGER PRIMARY KEY CHECK (id = 1),
                 saved_at TEXT NOT NULL,
                 json TEXT NOT NULL
             );",
        )?;
        Ok(StateFile { conn, written_version: None, last_save: None })
    }

    /// The stored snapshot, if any.
    pub fn load(&self) -> Result<Option<Snapshot>, String> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM sim_snapshot WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| e.to_string())?;
        match json {
            None => Ok(None),
            Some(j) => serde_json::from_str(&j).map(Some).map_err(|e| format!("state file is not a snapshot: {e}")),
        }
    }

    /// The data version last written.
    pub fn written_version(&self) -> Option<u64> {
        self.written_version
    }

    /// True when saves are slow and the last one was recent: leave it to the next flush.
    pub fn should_defer(&self) -> bool {
        self.last_save.is_some_and(|(at, took)| took > SLOW_SAVE && at.elapsed() < SLOW_SAVE_INTERVAL)
    }

    /// Writes `snapshot` unless `version` was already written.
    pub fn save(&mut self, version: u64, snapshot: &Snapshot) -> Result<(), String> {
        if self.written_version == Some(version) {
            return Ok(());
        }
        let started = Instant::now();
        let json = serde_json::to_string(snapshot).map_err(|e| e.to_string())?;
        self.conn
            .execute(
                "INSERT INTO sim_snapshot (id, saved_at, json) VALUES (1, ?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET saved_at = excluded.saved_at, json = excluded.json",
                params![chrono::Utc::now().to_rfc3339(), json],
            )
            .map_err(|e| e.to_string())?;
        self.written_version = Some(version);
        self.last_save = Some((Instant::now(), started.elapsed()));
        Ok(())
    }
}
