//! The failure count and sign-in lock of emails that have no staff account (table
//! `sign_in_throttle`), kept exactly as a staff row keeps them, so that an unknown email is
//! locked, and told so, like an existing account (see `app::auth`).

use super::{opt_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Transaction};

/// The failures in a row and the lock, if any, of `email` (normalised); none yet: `(0, None)`.
pub fn get(tx: &Transaction<'_>, email: &str) -> rusqlite::Result<(i64, Option<DateTime<Utc>>)> {
    let row = tx
        .query_row("SELECT failed_attempts, locked_until FROM sign_in_throttle WHERE email = ?1", [email], |r| {
            Ok((r.get::<_, i64>(0)?, opt_ts(r.get(1)?)))
        })
        .optional()?;
    Ok(row.unwrap_or((0, None)))
}

/// Records the count and the lock of `email`.
pub fn set(
    tx: &Transaction<'_>,
    email: &str,
    failures: i64,
    locked_until: Option<DateTime<Utc>>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO sign_in_throttle (email, failed_attempts, locked_until) VALUES (?1, ?2, ?3)
         ON CONFLICT(email) DO UPDATE SET failed_attempts = excluded.failed_attempts, locked_until = excluded.locked_until",
        params![email, failures, locked_until.map(ts)],
    )?;
    Ok(())
}
