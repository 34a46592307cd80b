//! The `team_sync` table: each team's remote URL and service-account email (issue #15: the
//! service account is per team). The password is never stored here (see `app::sync`).

use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// A team's sync settings; `None` where not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamSync {
    pub remote_url: Option<String>,
    pub remote_user: Option<String>,
}

pub fn get(conn: &Connection, team_id: i64) -> rusqlite::Result<TeamSync> {
    Ok(conn
        .query_row("SELECT remote_url, remote_user FROM team_sync WHERE team_id = ?1", [team_id], |r| {
            Ok(TeamSync { remote_url: r.get(0)?, remote_user: r.get(1)? })
        })
        .optional()?
        .unwrap_or_default())
}

pub fn set_url(tx: &Transaction<'_>, team_id: i64, url: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO team_sync(team_id, remote_url) VALUES (?1, ?2)
         ON CONFLICT(team_id) DO UPDATE SET remote_url = excluded.remote_url",
        params![team_id, url],
    )?;
    Ok(())
}

pub fn set_user(tx: &Transaction<'_>, team_id: i64, user: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO team_sync(team_id, remote_user) VALUES (?1, ?2)
         ON CONFLICT(team_id) DO UPDATE SET remote_user = excluded.remote_user",
        params![team_id, user],
    )?;
    Ok(())
}

/// Every team's configured URL (teams without one are left out), by team id.
pub fn urls(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt =
        conn.prepare("SELECT team_id, remote_url FROM team_sync WHERE remote_url IS NOT NULL ORDER BY team_id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Every team's id (the credential store hands a desk-wide password of an older version to
/// each team once the first team's changes).
pub fn team_ids(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare("SELECT id FROM teams ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_version_6() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations().to_version(&mut conn, 6).unwrap();
        conn.execute_batch("INSERT INTO teams(name) VALUES ('Riverside'), ('Lakeside');").unwrap();
        conn
    }

    #[test]
    fn migration_0007_gives_every_team_the_desk_wide_sync_settings() {
        let mut conn = at_version_6();
        conn.execute_batch(
            "INSERT INTO settings(key, value) VALUES ('sync.remote_url', 'https://r.example.com/v2'),
             ('sync.remote_user', 'svc@r.test'), ('demo', 'true');",
        )
        .unwrap();
        crate::store::migrations().to_latest(&mut conn).unwrap();
        let expected =
            TeamSync { remote_url: Some("https://r.example.com/v2".into()), remote_user: Some("svc@r.test".into()) };
        for team in team_ids(&conn).unwrap() {
            assert_eq!(get(&conn, team).unwrap(), expected, "team #{team}");
        }
        assert_eq!(team_ids(&conn).unwrap().len(), 2);
        let left: Vec<String> =
            conn.prepare("SELECT key FROM settings").unwrap().query_map([], |r| r.get(0)).unwrap().flatten().collect();
        assert_eq!(left, vec!["demo".to_string()], "the desk-wide keys are gone, nothing else");
    }

    #[test]
    fn migration_0007_leaves_an_unconfigured_desk_on_the_default() {
        let mut conn = at_version_6();
        conn.execute_batch("INSERT INTO settings(key, value) VALUES ('sync.remote_user', 'svc@r.test');").unwrap();
        crate::store::migrations().to_latest(&mut conn).unwrap();
        for team in team_ids(&conn).unwrap() {
            let s = get(&conn, team).unwrap();
            assert_eq!((s.remote_url, s.remote_user.as_deref()), (None, Some("svc@r.test")));
        }
        let mut fresh = Connection::open_in_memory().unwrap();
        crate::store::migrations().to_version(&mut fresh, 6).unwrap();
        fresh.execute_batch("INSERT INTO teams(name) VALUES ('Riverside');").unwrap();
        crate::store::migrations().to_latest(&mut fresh).unwrap();
        assert_eq!(get(&fresh, 1).unwrap(), TeamSync::default());
        assert_eq!(urls(&fresh).unwrap(), vec![]);
    }
}
