//! The tamper-evident audit log and "purge means gone" (issue #15): `audit verify` passes on
//! a normal history and names the first row broken by an edit, a deletion or a swap (made
//! with raw SQL on a plain database built for the test, after dropping the triggers); the
//! triggers dropped are put back at the next open and reported; only the scrub update gets
//! past them; a purged resident's data is gone from every table and from the file's bytes,
//! right after the purge when it never left the desk, after the push otherwise (through the
//! simulator); the retention period scrubs old resident details; the chain verifies after
//! every scrub and a scrubbed resident's rows are still found by email.

use crate::fixture::*;
use crate::sync::{remote, start_sim, sync_all, ADMIN};
use residentdesk::app::{ResidentInput, Session};
use residentdesk::store::audit_chain::{BreakKind, ChainReport};
use residentdesk::store::{self, KeySource};
use residentdesk::{App, FixedClock};
use rusqlite::Connection;
use sitemanager_sim::FaultConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SITE: &str = "Maple Court";

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(test_now()))
}

fn plain_app(path: &Path, clock: Arc<FixedClock>) -> App {
    App::open_with_key(path, clock, &KeySource::Plain).unwrap()
}

fn verify(app: &mut App) -> ChainReport {
    let s = sign_in(app, OWNER);
    app.audit_verify(&s).unwrap()
}

/// A plain demo database with a history of every kind of row: sign-ins, a denial, updates,
/// a purge, an export.
fn history(path: &Path) {
    let mut app = plain_app(path, clock());
    app.demo_seed(30, 7).unwrap();
    let owner = sign_in(&mut app, OWNER);
    let staff = sign_in(&mut app, STAFF);
    let residents = app.resident_list(&owner, SITE, &Default::default()).unwrap();
    let (a, b) = (residents[0].resident.email.clone(), residents[1].resident.email.clone());
    app.resident_update(
        &owner,
        &a,
        &residentdesk::app::ResidentPatch { phone: Some("555-7000".into()), ..Default::default() },
    )
    .unwrap();
    assert!(app.audit_list(&staff, None, 1).is_err(), "a denial for the log");
    app.resident_purge(&owner, &b).unwrap();
    app.audit_export_csv(&owner, None).unwrap();
}

fn raw(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;").unwrap();
    conn
}

fn copy_of(dir: &Path, template: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::copy(template, &path).unwrap();
    path
}

fn ids(conn: &Connection) -> Vec<i64> {
    let mut stmt = conn.prepare("SELECT id FROM audit ORDER BY id").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn verify_passes_on_a_normal_history_and_the_cli_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    history(&db);
    let mut app = plain_app(&db, clock());
    let report = verify(&mut app);
    let rows = store::audit::count(app.conn()).unwrap();
    assert!(report.ok, "{report:?}");
    assert!(rows > 5, "{rows}");
    assert_eq!((report.rows, report.verified), (rows, rows), "every row");
    assert!(report.head.is_some() && report.first_break.is_none() && report.findings.is_empty());

    let w = Work::demo(20);
    let run = w.run(Some(OWNER), &["audit", "verify"]).ok().json();
    assert_eq!(run["ok"], true, "{run}");
    assert!(run["verified"].as_i64().unwrap() > 0, "{run}");
}

#[test]
fn verify_names_an_edited_a_deleted_and_a_reordered_row() {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.db");
    history(&template);
    let all = ids(&Connection::open(&template).unwrap());
    let k = all[all.len() / 2];

    // Edited: the details of one row, then the actor of another.
    for (name, sql, kind) in [
        ("details.db", "UPDATE audit SET details = '{\"rows\":0}' WHERE id = ?1", BreakKind::ContentEdited),
        ("actor.db", "UPDATE audit SET actor = 'someone@else.test' WHERE id = ?1", BreakKind::ContentEdited),
        ("at.db", "UPDATE audit SET at = '2020-01-01T00:00:00.000000Z' WHERE id = ?1", BreakKind::ContentEdited),
    ] {
        let db = copy_of(dir.path(), &template, name);
        raw(&db).execute(sql, [k]).unwrap();
        let report = verify(&mut plain_app(&db, clock()));
        let b = report.first_break.clone().unwrap_or_else(|| panic!("{name}: {report:?}"));
        assert_eq!((b.id, b.kind), (k, kind), "{name}: {report:?}");
        assert_eq!(report.verified as usize, all.iter().position(|i| *i == k).unwrap());
        assert!(!report.ok);
    }

    // Deleted: the row after it is named.
    let db = copy_of(dir.path(), &template, "deleted.db");
    raw(&db).execute("DELETE FROM audit WHERE id = ?1", [k]).unwrap();
    let report = verify(&mut plain_app(&db, clock()));
    let b = report.first_break.unwrap();
    assert_eq!((b.id, b.kind), (k + 1, BreakKind::RowMissing), "{b:?}");

    // The first row deleted: the chain no longer starts where it must.
    let db = copy_of(dir.path(), &template, "first.db");
    raw(&db).execute("DELETE FROM audit WHERE id = ?1", [all[0]]).unwrap();
    let b = verify(&mut plain_app(&db, clock())).first_break.unwrap();
    assert_eq!((b.id, b.kind), (all[1], BreakKind::RowMissing), "{b:?}");

    // Reordered: two rows swap places (whole rows, hashes included).
    let db = copy_of(dir.path(), &template, "swapped.db");
    raw(&db)
        .execute_batch(&format!(
            "UPDATE audit SET id = -1 WHERE id = {k}; UPDATE audit SET id = {k} WHERE id = {next};
             UPDATE audit SET id = {next} WHERE id = -1;",
            next = k + 1
        ))
        .unwrap();
    let b = verify(&mut plain_app(&db, clock())).first_break.unwrap();
    assert_eq!((b.id, b.kind), (k, BreakKind::OrderChanged), "{b:?}");

    // The untouched copy still verifies: the breaks above come from the edits.
    let db = copy_of(dir.path(), &template, "untouched.db");
    assert!(verify(&mut plain_app(&db, clock())).ok);
}

#[test]
fn dropped_triggers_are_restored_at_the_next_open_and_reported_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("triggers.db");
    history(&db);
    {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch("DROP TRIGGER audit_no_delete").unwrap();
        // Altered, not dropped: an update trigger that lets everything through.
        conn.execute_batch(
            "DROP TRIGGER audit_no_update;
             CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit WHEN 0 BEGIN SELECT 1; END;",
        )
        .unwrap();
    }
    let mut app = plain_app(&db, clock());
    assert_eq!(store::audit_chain::trigger_problems(app.conn()).unwrap(), []);
    let restored = store::audit::list(app.conn(), None, None, 10)
        .unwrap()
        .into_iter()
        .find(|e| e.action == "audit.triggers_restored")
        .expect("the restoration is audited");
    assert_eq!(restored.actor, "system");
    assert!(restored.details.to_string().contains("audit_no_delete"), "{:?}", restored.details);
    let report = verify(&mut app);
    assert!(!report.ok && report.first_break.is_none(), "{report:?}");
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].id, restored.id);
    // The triggers hold again.
    assert!(app.conn().execute("DELETE FROM audit WHERE id = 1", []).is_err());
    assert!(app.conn().execute("UPDATE audit SET actor = 'x' WHERE id = 1", []).is_err());
    drop(app);
    // A second open finds nothing more to restore; the finding stays.
    let mut app = plain_app(&db, clock());
    assert_eq!(verify(&mut app).findings.len(), 1);

    // Through the CLI on an encrypted database: exit 6 and the report on stdout.
    let w = Work::demo(20);
    {
        let (conn, _) = store::open_keyed(&w.db(), &KeySource::Standard).unwrap();
        conn.execute_batch("DROP TRIGGER audit_no_delete").unwrap();
    }
    let run = w.run(Some(OWNER), &["audit", "verify"]);
    run.fails(6);
    assert_eq!(run.json()["findings"].as_array().map(Vec::len), Some(1), "{}", run.json());
}

#[test]
fn only_the_scrub_update_gets_past_the_triggers() {
    let (app, _) = demo_app(10);
    let conn = app.conn();
    let id: i64 = conn.query_row("SELECT max(id) FROM audit", [], |r| r.get(0)).unwrap();
    let update = |sql: &str| conn.execute(sql, [id]);
    assert!(update("UPDATE audit SET details = '{\"x\":1}' WHERE id = ?1").is_err());
    assert!(update("UPDATE audit SET details = '{\"scrubbed\":1}' WHERE id = ?1").is_err(), "without scrubbed_at");
    assert!(
        update("UPDATE audit SET details = '{\"scrubbed\":1}', scrubbed_at = 't', actor = 'x' WHERE id = ?1").is_err(),
        "another column with it"
    );
    assert!(update("UPDATE audit SET details = '{\"other\":1}', scrubbed_at = 't' WHERE id = ?1").is_err());
    assert!(update(
        "UPDATE audit SET target = 'someone', details = '{\"scrubbed\":1}', scrubbed_at = 't' WHERE id = ?1"
    )
    .is_err());
    update("UPDATE audit SET target = 'hmac:00', details = '{\"scrubbed\":1}', scrubbed_at = 't' WHERE id = ?1")
        .unwrap();
    assert!(update("UPDATE audit SET details = '{\"scrubbed\":2}', scrubbed_at = 'u' WHERE id = ?1").is_err(), "once");
    assert!(update("DELETE FROM audit WHERE id = ?1").is_err());
}

/// Every text or blob value of every table that holds `needle`, as `table.column`.
fn found_in_tables(conn: &Connection, needle: &str) -> Vec<String> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let names: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for (i, name) in names.iter().enumerate() {
                let hit = match r.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                        String::from_utf8_lossy(b).to_lowercase().contains(&needle.to_lowercase())
                    }
                    _ => false,
                };
                if hit {
                    out.push(format!("{t}.{name}"));
                }
            }
        }
    }
    out
}

fn in_files(db: &Path, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for suffix in ["", "-wal"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        if let Ok(bytes) = std::fs::read(&path) {
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

#[test]
fn a_resident_purged_before_any_sync_is_gone_at_once_and_still_traceable() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("purge.db");
    let mut app = plain_app(&db, clock());
    app.demo_seed(30, 7).unwrap();
    let owner = sign_in(&mut app, OWNER);
    let email = "zebulon.quixotic@scrub.test";
    let needles = [email, "Quixotic", "555-8642"];
    // A unit no resident of the site lives in.
    let taken: Vec<(String, String, String)> = app
        .resident_list(&owner, SITE, &Default::default())
        .unwrap()
        .into_iter()
        .map(|v| (v.resident.building, v.resident.floor, v.resident.unit))
        .collect();
    let free = app
        .site_mappings(&owner, SITE)
        .unwrap()
        .into_iter()
        .find(|m| !taken.contains(&(m.building.clone(), m.floor.clone(), m.unit.clone())))
        .unwrap();
    app.resident_add(
        &owner,
        SITE,
        &ResidentInput {
            first_name: "Zebulon".into(),
            last_name: "Quixotic".into(),
            email: email.into(),
            phone: Some("555-8642".into()),
            building: free.building.clone(),
            floor: free.floor.clone(),
            unit: free.unit.clone(),
            start: "2026-12-01".into(),
            end: None,
        },
    )
    .unwrap();
    app.resident_update(
        &owner,
        email,
        &residentdesk::app::ResidentPatch { last_name: Some("Quixotica".into()), ..Default::default() },
    )
    .unwrap();
    // The control: before the purge the data shows, in the tables and in the files.
    for n in needles {
        assert!(!found_in_tables(app.conn(), n).is_empty(), "{n} is in the database before the purge");
    }
    app.conn().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    assert!(!in_files(&db, email).is_empty(), "the search finds plain data");
    let before = store::audit::count(app.conn()).unwrap();

    app.resident_purge(&owner, email).unwrap();
    for n in needles {
        assert_eq!(found_in_tables(app.conn(), n), Vec::<String>::new(), "{n} left after the purge");
    }
    let states: Vec<String> = app
        .conn()
        .prepare("SELECT state FROM outbox WHERE last_error = ?1")
        .unwrap()
        .query_map([store::scrub::NEVER_SENT], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(states, ["done", "done", "done"], "create, update and purge settled: nothing to send");
    // Traceable: the rows are found by the email, with action, actor and time.
    let rows = app.audit_for_email(&owner, email, 10).unwrap();
    let actions: Vec<&str> = rows.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["resident.purge", "resident.update", "resident.add"], "{rows:?}");
    assert!(rows.iter().all(|e| e.actor == OWNER.0 && e.details.to_string().contains("hmac:")), "{rows:?}");
    assert!(app.audit_for_email(&owner, "someone.else@scrub.test", 10).unwrap().is_empty());
    assert_eq!(store::audit::count(app.conn()).unwrap(), before + 1, "rows are kept, not deleted");
    // While the app is open: the WAL was emptied after the scrub, and the freed space of
    // the file is zeros (secure_delete).
    for n in needles {
        assert_eq!(in_files(&db, n), Vec::<String>::new(), "{n} readable in the files of the open database");
    }
    assert!(verify(&mut app).ok, "the chain verifies after the scrub");
    drop(app);
    for n in needles {
        assert_eq!(in_files(&db, n), Vec::<String>::new(), "{n} readable in the file");
    }

    // The CLI finds a purged resident's rows by email too.
    let w = Work::demo(20);
    let email: String = {
        let (conn, _) = store::open_keyed(&w.db(), &KeySource::Standard).unwrap();
        conn.query_row("SELECT email FROM residents WHERE deactivation_utc IS NULL ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    w.run(Some(OWNER), &["resident", "purge", &email]).ok();
    let run = w.run(Some(OWNER), &["audit", "list", "--email", &email]).ok().json();
    let entries = run["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "resident.purge"), "{run}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_resident_is_gone_once_the_purge_is_pushed() {
    let sim = start_sim(FaultConfig::default());
    let r = remote(&sim);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("synced.db");
    let mut app = App::open_with_key(&db, Arc::new(residentdesk::SystemClock), &KeySource::Plain).unwrap();
    let s: Session = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    sync_all(&mut app, &s, &r).await;
    let email = "remote0@example.com";
    let needles = [email, "Remote0", "555-0100"];
    app.resident_update(
        &s,
        email,
        &residentdesk::app::ResidentPatch { phone: Some("555-0100".into()), ..Default::default() },
    )
    .unwrap();
    app.resident_purge(&s, email).unwrap();
    // The purge waits in the outbox with what it needs.
    assert!(found_in_tables(app.conn(), email).contains(&"outbox.email".to_string()));
    sync_all(&mut app, &s, &r).await;
    assert!(!sim.data().residents.values().any(|x| x.email == email), "purged on the remote");
    for n in needles {
        assert_eq!(found_in_tables(app.conn(), n), Vec::<String>::new(), "{n} left after the push");
    }
    let rows = app.audit_for_email(&s, email, 10).unwrap();
    assert!(rows.iter().any(|e| e.action == "resident.purge"), "{rows:?}");
    let report = app.audit_verify(&s).unwrap();
    assert!(report.ok, "{report:?}");
    drop(app);
    for n in needles {
        assert_eq!(in_files(&db, n), Vec::<String>::new(), "{n} readable in the file");
    }
}

#[test]
fn resident_details_are_scrubbed_after_the_retention_period() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("retention.db");
    let clock = clock();
    let mut app = plain_app(&db, clock.clone());
    app.demo_seed(30, 7).unwrap();
    let owner = sign_in(&mut app, OWNER);
    let email = app.resident_list(&owner, SITE, &Default::default()).unwrap()[0].resident.email.clone();
    app.resident_update(
        &owner,
        &email,
        &residentdesk::app::ResidentPatch { phone: Some("555-3131".into()), ..Default::default() },
    )
    .unwrap();
    drop(app);
    let about = |app: &App| -> i64 {
        app.conn()
            .query_row("SELECT count(*) FROM audit WHERE target = ?1 OR instr(details, ?1) > 0", [&email], |r| r.get(0))
            .unwrap()
    };
    // Within the period: kept.
    clock.advance(chrono::Duration::days(7 * 365));
    let app = plain_app(&db, clock.clone());
    assert!(about(&app) >= 1);
    drop(app);
    // Past it: scrubbed at open, the resident (not purged) kept, the rows still found.
    clock.advance(chrono::Duration::days(30));
    let mut app = plain_app(&db, clock.clone());
    assert_eq!(about(&app), 0);
    assert!(!found_in_tables(app.conn(), &email).is_empty(), "the resident itself stays");
    let owner = sign_in(&mut app, OWNER);
    let rows = app.audit_for_email(&owner, &email, 10).unwrap();
    assert!(rows.iter().any(|e| e.action == "resident.update"), "{rows:?}");
    let scrub = store::audit::list(app.conn(), None, None, 10).unwrap();
    assert!(scrub.iter().any(|e| e.action == "audit.retention_scrub" && e.actor == "system"), "{scrub:?}");
    assert!(app.audit_verify(&owner).unwrap().ok);

    // A shorter period, set by the owner, applies at the next open; a typo is refused.
    assert!(app.audit_retention_set(&owner, 7).is_err());
    app.resident_update(
        &owner,
        &email,
        &residentdesk::app::ResidentPatch { phone: Some("555-3232".into()), ..Default::default() },
    )
    .unwrap();
    assert_eq!(app.audit_retention_set(&owner, 30).unwrap(), 30);
    drop(app);
    clock.advance(chrono::Duration::days(29));
    assert!(about(&plain_app(&db, clock.clone())) >= 1, "within 30 days: kept");
    clock.advance(chrono::Duration::days(2));
    assert_eq!(about(&plain_app(&db, clock.clone())), 0, "past 30 days: scrubbed");
}
