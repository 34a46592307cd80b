//! Backup and restore (issue #14): a consistent copy while another connection writes, the
//! restore round trip with both audit entries, every refused file leaving the live database
//! byte for byte as it was, a restore of an older copy against `sitemanager-sim` sending
//! nothing twice and the copy's unsent changes once, the daily backup and its rotation, and
//! the backup before a migration.

use crate::fixture::*;
use crate::sync::{remote, start_sim, ADMIN};
use residentdesk::app::access::NewToken;
use residentdesk::app::residents::ResidentFilter;
use residentdesk::app::sync::sync_pass;
use residentdesk::app::{ResidentInput, ResidentPatch, Session};
use residentdesk::store::backup::{self as files, Kind};
use residentdesk::store::{self, audit::AuditEntry, KeySource};
use residentdesk::sync::client::RemoteApi;
use residentdesk::sync::SyncOptions;
use residentdesk::{App, Clock, ErrorCode, FixedClock, SystemClock};
use rusqlite::Connection;
use sitemanager_sim::{FaultConfig, SimHandle};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A file database with the demo portfolio, at the tests' fixed time (encrypted, with the
/// development passphrase).
fn demo_file(residents: usize) -> (tempfile::TempDir, PathBuf, App, Arc<FixedClock>) {
    demo_file_keyed(residents, &KeySource::Standard)
}

fn demo_file_keyed(residents: usize, source: &KeySource) -> (tempfile::TempDir, PathBuf, App, Arc<FixedClock>) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let clock = Arc::new(FixedClock::new(test_now()));
    let mut app = App::open_with_key(&db, clock.clone(), source).unwrap();
    app.demo_seed(residents, 7).unwrap();
    (dir, db, app, clock)
}

/// The database file and its WAL, hashed (the SHM index is shared memory, not data).
fn fingerprint(db: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    ["", "-wal"]
        .iter()
        .map(|ext| {
            let mut p = db.as_os_str().to_owned();
            p.push(ext);
            (ext.to_string(), std::fs::read(PathBuf::from(p)).ok())
        })
        .collect()
}

fn audit_of(conn: &Connection, action: &str) -> Vec<AuditEntry> {
    store::audit::list(conn, None, None, 1_000_000).unwrap().into_iter().filter(|e| e.action == action).collect()
}

fn scalar(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A connection to a database or backup file as it is (no pragma, no migration), keyed the
/// standard way when it is encrypted.
fn open_raw(path: &Path) -> Connection {
    let key = store::key::resolve(path, &KeySource::Standard).unwrap();
    let conn = Connection::open(path).unwrap();
    key.apply(&conn, path).unwrap();
    conn
}

fn integrity(path: &Path) -> String {
    let conn = open_raw(path);
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_backup_while_another_connection_writes_is_one_consistent_state() {
    let (dir, db, mut app, clock) = demo_file(300);
    let owner = sign_in(&mut app, OWNER);
    let residents: Vec<String> = app
        .resident_list_all(&owner, &ResidentFilter::default())
        .unwrap()
        .into_iter()
        .filter(|r| !r.status.is_expired())
        .map(|r| r.resident.email)
        .take(50)
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    // A failed assertion below still stops the writer: a thread left running on its database
    // connection while the test process exits can crash it at exit (SQLCipher's crypto is
    // torn down under it).
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let _stop_guard = StopOnDrop(stop.clone());
    // How many updates the writer has committed (its start — keying its connection, signing
    // in — takes a while; the copies wait for its progress instead of sleeping).
    let progress = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let wait_for_more = |than: u64| {
        while progress.load(Ordering::Relaxed) <= than {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    };
    let writer = {
        let (db, stop, clock, progress) = (db.clone(), stop.clone(), clock.clone(), progress.clone());
        std::thread::spawn(move || {
            // A second connection (as the desktop beside the CLI): one update after another,
            // each one transaction with its outbox and audit entries.
            let mut other = App::open(&db, clock).unwrap();
            let s = other.sign_in(OWNER.0, OWNER.1).unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let email = &residents[n as usize % residents.len()];
                let patch = ResidentPatch { phone: Some(format!("555-{n:04}")), ..Default::default() };
                other.resident_update(&s, email, &patch).unwrap();
                n += 1;
                progress.store(n, Ordering::Relaxed);
                // A breath between transactions, as between a person's edits: an unbroken
                // stream of write transactions starves any other writer past its busy
                // timeout (SQLite's lock is not fair), which is not what this test is about.
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            n
        })
    };
    let mut copies = Vec::new();
    for i in 0..3 {
        // (+1: an update may be committed and not yet counted when a copy ends.)
        wait_for_more(progress.load(Ordering::Relaxed) + 1);
        let out = dir.path().join(format!("copy{i}.db"));
        let report = app.backup_create(&owner, Some(&out)).unwrap();
        assert_eq!(report.path, out);
        copies.push(out);
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(written > 0, "the other connection wrote meanwhile");
    let mut seen = Vec::new();
    for copy in &copies {
        assert_eq!(integrity(copy), "ok");
        let conn = open_raw(copy);
        // Every update is one transaction (resident + outbox + audit): a copy that caught one
        // half-way would count them differently.
        let outbox = scalar(&conn, "SELECT count(*) FROM outbox WHERE op = 'update'");
        let audited = scalar(&conn, "SELECT count(*) FROM audit WHERE action = 'resident.update' AND outcome = 'ok'");
        assert_eq!(outbox, audited, "{}", copy.display());
        seen.push(outbox);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(copy).unwrap().permissions().mode() & 0o777, 0o600, "personal data: 0600");
        }
    }
    assert!(seen.last() > seen.first(), "the copies were taken while the writer went on: {seen:?}");
    assert_eq!(audit_of(app.conn(), "backup.create").len(), 3);
    // An existing file is never replaced.
    let e = app.backup_create(&owner, Some(&copies[0])).unwrap_err();
    assert!(e.message.contains("already exists"), "{e:?}");
}

#[test]
fn restore_round_trip_keeps_the_replaced_database_and_audits_both() {
    let (dir, db, mut app, _) = demo_file(0);
    let owner = sign_in(&mut app, OWNER);
    let copy = app.backup_create(&owner, None).unwrap();
    assert_eq!(copy.kind, Kind::Manual);
    assert_eq!(copy.path.parent().unwrap(), dir.path().join("backups"));
    // A change after the backup.
    let site = app.site_list(&owner).unwrap()[0].site.clone();
    let unit = store::sites::mappings(app.conn(), site.id).unwrap()[0].clone();
    let input = ResidentInput {
        first_name: "After".into(),
        last_name: "Backup".into(),
        email: "after@backup.test".into(),
        building: unit.building,
        floor: unit.floor,
        unit: unit.unit,
        start: "2027-01-01".into(),
        ..Default::default()
    };
    app.resident_add(&owner, &site.id.to_string(), &input).unwrap();
    let report = app.restore(&owner, &copy.path).unwrap();
    assert_eq!(report.outbox.only_in_replaced, 1, "the unsent add is only in the replaced copy: {report:?}");
    // The same App goes on, on the restored content.
    let owner = app.refresh(&owner).unwrap();
    assert!(app.resident_show(&owner, "after@backup.test").is_err(), "the restored copy predates the add");
    let restored = audit_of(app.conn(), "backup.restore");
    assert_eq!(restored.len(), 1, "{restored:?}");
    assert_eq!(restored[0].details["phase"], "restored");
    assert_eq!(restored[0].actor, OWNER.0);
    // The replaced database is kept aside, with its own record of the restore.
    assert!(report.kept_as.file_name().unwrap().to_string_lossy().ends_with("-before-restore.db"));
    assert_eq!(integrity(&report.kept_as), "ok");
    let before = open_raw(&report.kept_as);
    assert_eq!(scalar(&before, "SELECT count(*) FROM residents WHERE email = 'after@backup.test'"), 1);
    let replaced = audit_of(&before, "backup.restore");
    assert_eq!(replaced.len(), 1);
    assert_eq!(replaced[0].details["phase"], "replaced");
    assert_eq!(replaced[0].details["restored_from"], copy.path.display().to_string());
    // A second process sees the restored database too, and the app still writes.
    let other = store::open(&db).unwrap();
    assert_eq!(scalar(&other, "SELECT count(*) FROM residents WHERE email = 'after@backup.test'"), 0);
    app.resident_add(&owner, &site.id.to_string(), &input).unwrap();
    assert_eq!(integrity(&db), "ok");
    assert!(files_in(dir.path()).iter().all(|f| !f.ends_with(".tmp")), "{:?}", files_in(dir.path()));
}

/// The confirmation of a restore says what it loses: the changes recorded since the copy (a
/// sign-in or an export is no change) and the unsent changes the copy lacks; the check
/// writes nothing, and the restore then loses exactly that.
#[test]
fn the_check_says_what_a_restore_would_lose() {
    let (_dir, db, mut app, clock) = demo_file(0);
    let owner = sign_in(&mut app, OWNER);
    let copy = app.backup_create(&owner, None).unwrap();
    let fresh = app.backup_check(&owner, &copy.path).unwrap();
    assert_eq!((fresh.changes_since, fresh.unsent_lost), (0, 0), "nothing happened since: {fresh:?}");
    clock.advance(chrono::Duration::minutes(5));
    let owner = sign_in(&mut app, OWNER);
    let site = app.site_list(&owner).unwrap()[0].site.clone();
    let units = store::sites::mappings(app.conn(), site.id).unwrap();
    for (i, email) in ["one@loss.test", "two@loss.test"].iter().enumerate() {
        let input = ResidentInput {
            first_name: "Lost".into(),
            last_name: "Change".into(),
            email: (*email).into(),
            building: units[i].building.clone(),
            floor: units[i].floor.clone(),
            unit: units[i].unit.clone(),
            start: "2027-01-01".into(),
            ..Default::default()
        };
        app.resident_add(&owner, &site.id.to_string(), &input).unwrap();
    }
    app.team_show(&owner).unwrap();
    let request = residentdesk::app::csv::ExportRequest { site: Some(site.name.clone()), ..Default::default() };
    app.export_residents(&owner, &request, &mut Vec::new()).unwrap();
    let before = scalar(app.conn(), "SELECT count(*) FROM audit");
    let facts = app.backup_check(&owner, &copy.path).unwrap();
    assert_eq!((facts.changes_since, facts.unsent_lost), (2, 2), "two adds, never sent: {facts:?}");
    assert_eq!(scalar(app.conn(), "SELECT count(*) FROM audit"), before, "a check writes nothing");
    // Only the owner is told (the check is the restore's).
    let mut admin_app = App::open(&db, clock.clone()).unwrap();
    let admin = sign_in(&mut admin_app, TEAM_ADMIN);
    assert_eq!(admin_app.backup_check(&admin, &copy.path).unwrap_err().code, ErrorCode::PermissionDenied);
    // The gates the desktop shows say the same: "Restore…" for the owner only.
    let restore_gate = |app: &App, s: &Session| {
        app.use_case_gates(s).unwrap().into_iter().find(|g| g.use_case == "backup.restore").unwrap()
    };
    assert!(restore_gate(&app, &owner).allowed);
    let denied = restore_gate(&admin_app, &admin);
    assert!(!denied.allowed && denied.reason.contains("only the owner"), "{denied:?}");
    assert!(admin_app.use_case_gates(&admin).unwrap().iter().any(|g| g.use_case == "backup.create" && g.allowed));
    let report = app.restore(&owner, &copy.path).unwrap();
    assert_eq!(report.outbox.only_in_replaced as i64, facts.unsent_lost);
    assert_eq!((report.file.changes_since, report.file.unsent_lost), (2, 2));
}

#[test]
fn refused_files_leave_the_live_database_as_it_was() {
    // A plain database: the SQLite header checks (an encrypted one has no readable header;
    // its refusals are in encryption.rs).
    let (dir, db, mut app, _) = demo_file_keyed(50, &KeySource::Plain);
    let owner = sign_in(&mut app, OWNER);
    let good = app.backup_create(&owner, Some(&dir.path().join("good.db"))).unwrap().path;
    let bytes = std::fs::read(&good).unwrap();
    let bad = |name: &str, content: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    };
    let mut random = vec![0u8; 64 * 1024];
    let mut x: u32 = 0x2545_f491;
    for b in random.iter_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    // Encrypted by something else: a SQLite size, no SQLite header.
    let mut encrypted = bytes.clone();
    for (i, b) in encrypted.iter_mut().enumerate() {
        *b ^= (i as u8).wrapping_mul(31).wrapping_add(7);
    }
    let other_sqlite = dir.path().join("other.db");
    {
        let c = Connection::open(&other_sqlite).unwrap();
        c.execute_batch(
            "CREATE TABLE notes(id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes(text) VALUES ('hi');",
        )
        .unwrap();
    }
    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    {
        let c = open_raw(&newer);
        c.pragma_update(None, "user_version", files::latest_version() + 1).unwrap();
    }
    let cases: Vec<(PathBuf, &str)> = vec![
        (bad("empty.db", b""), "empty"),
        (bad("truncated.db", &bytes[..bytes.len() / 2]), "truncated"),
        (bad("header-only.db", &bytes[..60]), "truncated"),
        (bad("random.db", &random), "not a SQLite database"),
        (bad("encrypted.db", &encrypted), "not a SQLite database"),
        (bad("text.db", b"FirstName,LastName\nAda,Lovelace\n"), "not a SQLite database"),
        (other_sqlite, "not a ResidentDesk database"),
        (newer, "newer ResidentDesk"),
        (dir.path().join("missing.db"), "cannot read"),
    ];
    let audit_before = scalar(app.conn(), "SELECT count(*) FROM audit");
    let before = fingerprint(&db);
    let listing = files_in(dir.path());
    for (file, expected) in &cases {
        let e = app.restore(&owner, file).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidInput, "{}: {e:?}", file.display());
        assert!(e.message.contains(expected), "{}: {}", file.display(), e.message);
        assert!(e.message.contains("the database was not changed"), "{}", e.message);
        let e = app.backup_check(&owner, file).unwrap_err();
        assert!(e.message.contains(expected), "{}", e.message);
        assert!(fingerprint(&db) == before, "{}: the live database changed", file.display());
    }
    assert_eq!(scalar(app.conn(), "SELECT count(*) FROM audit"), audit_before, "a refusal writes nothing");
    assert_eq!(files_in(dir.path()), listing, "no temporary file is left");
    assert!(!dir.path().join("backups").exists(), "no before-restore copy for a refused file");
    // The good file passes the same checks.
    assert_eq!(app.backup_check(&owner, &good).unwrap().schema_version, files::latest_version());
}

#[test]
fn only_the_owner_restores_and_not_while_a_sync_runs() {
    let (dir, db, mut app, clock) = demo_file(20);
    let owner = sign_in(&mut app, OWNER);
    let good = app.backup_create(&owner, Some(&dir.path().join("good.db"))).unwrap().path;
    let admin = sign_in(&mut app, TEAM_ADMIN);
    let e = app.restore(&admin, &good).unwrap_err();
    assert_eq!(e.code, ErrorCode::PermissionDenied, "{e:?}");
    assert!(e.message.contains("only the owner"), "{e:?}");
    let denied = audit_of(app.conn(), "backup.restore");
    assert_eq!((denied.len(), denied[0].outcome.as_str()), (1, "denied"));
    // A Team administrator may take a backup (team.settings); a staff user may not.
    app.backup_create(&admin, None).unwrap();
    let staff = sign_in(&mut app, STAFF);
    assert_eq!(app.backup_create(&staff, None).unwrap_err().code, ErrorCode::PermissionDenied);
    // A pass holding the lease: refused, nothing changed.
    {
        let tx = store::begin_immediate(app.conn()).unwrap();
        let new = store::sync_state::NewLease { holder_id: "pass-1", holder: "desktop worker", pid: None, host: None };
        let now = clock.now();
        assert!(store::sync_state::lease_take(&tx, &new, now, now + chrono::Duration::seconds(90), None).unwrap());
        tx.commit().unwrap();
    }
    let before = fingerprint(&db);
    let e = app.restore(&owner, &good).unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert!(e.message.contains("a sync is running"), "{e:?}");
    assert!(fingerprint(&db) == before);
    // Once the lease has expired, the restore goes ahead and the restored copy has no lease.
    clock.advance(chrono::Duration::seconds(91));
    app.restore(&owner, &good).unwrap();
    assert!(store::sync_state::lease_get(app.conn()).unwrap().is_none());
}

#[test]
fn daily_backups_rotate_to_the_newest_n() {
    let (dir, db, mut app, clock) = demo_file(20);
    let owner = sign_in(&mut app, OWNER);
    let first = app.backup_if_due(&owner).unwrap().expect("no automatic backup yet: one is due");
    assert_eq!(first.kind, Kind::Daily);
    assert_eq!(integrity(&first.path), "ok");
    assert!(app.backup_if_due(&owner).unwrap().is_none(), "not again the same day");
    clock.advance(chrono::Duration::hours(23));
    assert!(app.backup_if_due(&owner).unwrap().is_none(), "23 hours later: not yet");
    clock.advance(chrono::Duration::hours(1));
    assert!(app.backup_if_due(&owner).unwrap().is_some(), "24 hours later: due");
    // A day later the owner signs in again (the idle lock ended the session).
    let owner = sign_in(&mut app, OWNER);
    let manual = app.backup_create(&owner, None).unwrap();
    // Keep 3: after five more days, the three newest daily backups and the manual one.
    assert_eq!(app.backup_settings(&owner, 3).unwrap().keep, 3);
    assert_eq!(app.backup_settings(&owner, 0).unwrap_err().code, ErrorCode::InvalidInput);
    let mut last = None;
    for _ in 0..5 {
        clock.advance(chrono::Duration::days(1));
        last = app.backup_if_due(&owner).unwrap();
    }
    let owner = sign_in(&mut app, OWNER);
    let listing = app.backup_list(&owner).unwrap();
    assert_eq!(listing.folder.as_deref(), Some(dir.path().join("backups").as_path()));
    let daily: Vec<_> = listing.backups.iter().filter(|b| b.kind == Kind::Daily).collect();
    assert_eq!(daily.len(), 3, "{:?}", listing.backups);
    assert_eq!(daily.last().unwrap().path, last.unwrap().path, "the newest is kept");
    assert_eq!(daily[0].taken_at, clock.now() - chrono::Duration::days(2));
    assert!(manual.path.exists(), "a manual backup is never rotated away");
    let auto = audit_of(app.conn(), "backup.auto");
    assert_eq!(auto.len(), 7);
    assert!(auto.iter().all(|e| e.actor == "system" && e.outcome == "ok"));
    // A token with team.settings may back up (a scheduled script) but never restore.
    let mut token =
        NewToken { name: "nightly".into(), permissions: vec!["team.settings".into()], ..Default::default() };
    token.all_sites = true;
    let created = app.token_create(&owner, &token).unwrap();
    let t = app.sign_in_token(&created.token).unwrap();
    app.backup_create(&t, None).unwrap();
    assert_eq!(app.restore(&t, &manual.path).unwrap_err().code, ErrorCode::PermissionDenied);
    drop(app);
    assert_eq!(integrity(&db), "ok");
}

#[test]
fn a_database_is_backed_up_before_it_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("old.db");
    {
        let mut conn = Connection::open(&db).unwrap();
        store::migrations().to_version(&mut conn, 4).unwrap();
        conn.execute("INSERT INTO settings(key, value) VALUES ('marker', 'v4')", []).unwrap();
    }
    // The backup folder cannot be made (a file is in its way): nothing is migrated.
    std::fs::write(dir.path().join("backups"), b"in the way").unwrap();
    let before = fingerprint(&db);
    let e = store::open(&db).unwrap_err().to_string();
    let to = format!("schema version 4 to {}", files::latest_version());
    assert!(e.contains(&to) && e.contains("left as it was"), "{e}");
    assert!(fingerprint(&db) == before, "the database was not touched");
    std::fs::remove_file(dir.path().join("backups")).unwrap();
    // Now the copy is taken, then the database migrates.
    let conn = store::open(&db).unwrap();
    assert_eq!(files::user_version(&conn).unwrap(), files::latest_version());
    let copies = files_in(&dir.path().join("backups"));
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(copies[0].starts_with("old-") && copies[0].ends_with("-before-migration-v4.db"), "{copies:?}");
    let copy = Connection::open(dir.path().join("backups").join(&copies[0])).unwrap();
    assert_eq!(files::user_version(&copy).unwrap(), 4);
    let marker: String = copy.query_row("SELECT value FROM settings WHERE key = 'marker'", [], |r| r.get(0)).unwrap();
    assert_eq!(marker, "v4");
    drop(conn);
    // Opening again (up to date): no second copy. A newer database is refused clearly.
    drop(store::open(&db).unwrap());
    assert_eq!(files_in(&dir.path().join("backups")).len(), 1);
    let newer = dir.path().join("newer.db");
    Connection::open(&newer).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let e = store::open(&newer).unwrap_err().to_string();
    assert!(e.contains("newer version of ResidentDesk"), "{e}");
    // The copy is an automatic backup: listed and rotated with the daily ones.
    let listed = files::list(&db).unwrap();
    assert_eq!(listed[0].kind, Kind::BeforeMigration(4));
}

#[test]
fn cli_backup_and_restore() {
    let w = Work::demo(30);
    let out = w.dir.path().join("nightly.db");
    let r = w.run(Some(OWNER), &["backup", "-o", out.to_str().unwrap()]).ok().json();
    assert_eq!(r["path"], out.display().to_string());
    // The sign-in took the daily backup too.
    let listed = w.run(Some(OWNER), &["backup", "list"]).ok().json();
    let kinds: Vec<&str> = listed["backups"].as_array().unwrap().iter().map(|b| b["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["daily"], "{listed}");
    w.run(Some(OWNER), &["backup", "settings", "--keep", "5"]).ok();
    assert_eq!(w.run(Some(OWNER), &["backup", "list"]).ok().json()["keep"], 5);
    // A folder that cannot be written: a clear message, exit 1, nothing left behind.
    let blocked = w.dir.path().join("blocked");
    std::fs::write(&blocked, b"a file, not a folder").unwrap();
    let target = blocked.join("copy.db");
    let r = w.run(Some(OWNER), &["backup", "-o", target.to_str().unwrap()]);
    r.fails(1);
    assert!(r.error()["message"].as_str().unwrap().contains("cannot"), "{}", r.stderr);
    // Refusals: exit 4, the database unchanged.
    let junk = w.dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    // (Each CLI run signs in, which the audit log records: compare everything else.)
    let content = |db: &Path| -> String {
        let conn = store::open(db).unwrap();
        conn.query_row(
            "SELECT coalesce((SELECT group_concat(id || email || updated_at) FROM residents), '')
                 || coalesce((SELECT group_concat(id || state) FROM outbox), '')
                 || (SELECT count(*) FROM audit WHERE action LIKE 'backup.restore%')",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    let before = content(&w.db());
    let r = w.run(Some(OWNER), &["restore", junk.to_str().unwrap()]);
    r.fails(4);
    assert!(r.error()["message"].as_str().unwrap().contains("not a SQLite database"));
    assert_eq!(content(&w.db()), before);
    w.run(Some(TEAM_ADMIN), &["restore", out.to_str().unwrap()]).fails(3);
    w.run(Some(OWNER), &["restore", "--check", out.to_str().unwrap()]).ok();
    let r = w.run(Some(OWNER), &["restore", out.to_str().unwrap()]).ok().json();
    assert!(r["kept_as"].as_str().unwrap().ends_with("-before-restore.db"), "{r}");
    w.run(Some(OWNER), &["site", "list"]).ok();
}

// ---- Against the simulator ----------------------------------------------------------------

fn resident_input(first: &str, email: &str, unit: u32) -> ResidentInput {
    ResidentInput {
        first_name: first.into(),
        last_name: "Restored".into(),
        email: email.into(),
        phone: None,
        building: "A".into(),
        floor: "1".into(),
        unit: unit.to_string(),
        start: "2026-01-05".into(),
        end: None,
    }
}

async fn pass<R: RemoteApi>(app: &mut App, s: &Session, r: &R) {
    for _ in 0..20 {
        let report = sync_pass(app, s, r, &SyncOptions::fast(), None).await.unwrap();
        let st = app.sync_status(s).unwrap();
        if st.pending == 0 && st.in_flight == 0 && !report.offline {
            return;
        }
    }
    panic!("sync did not settle");
}

/// Requests that change residents on the remote (creates, imports, updates, status,
/// invitations...), by route.
fn changes(sim: &SimHandle) -> Vec<(String, u64)> {
    sim.stats()
        .by_route
        .into_iter()
        .filter(|(k, _)| !k.starts_with("GET ") && k.contains("/resident") && !k.contains("/job"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_an_older_copy_sends_nothing_twice_and_the_copys_unsent_changes_once() {
    let sim = start_sim(FaultConfig::default());
    let r = remote(&sim);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let mut app = App::open(&db, Arc::new(SystemClock)).unwrap();
    let owner = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    pass(&mut app, &owner, &r).await;
    // A token that syncs Hudson only: its passes leave Bayside's changes unsent.
    let token = NewToken {
        name: "hudson-sync".into(),
        permissions: vec!["sync.operate".into(), "residents.view".into(), "sites.view".into()],
        all_sites: false,
        sites: vec!["Hudson".into()],
        expires_in_days: None,
    };
    let created = app.token_create(&owner, &token).unwrap();
    let hudson_only = app.sign_in_token(&created.token).unwrap();
    // Changes made before the backup: three at Hudson (a create, an update, an invitation,
    // which must never go twice), one at Bayside.
    app.resident_add(&owner, "Hudson", &resident_input("Hana", "hana@example.com", 101)).unwrap();
    let patch = ResidentPatch { first_name: Some("Renamed".into()), ..Default::default() };
    app.resident_update(&owner, "remote0@example.com", &patch).unwrap();
    app.resident_invite(&owner, "remote2@example.com").unwrap();
    app.resident_add(&owner, "Bayside", &resident_input("Bea", "bea@example.com", 102)).unwrap();
    let copy = app.backup_create(&owner, Some(&dir.path().join("older.db"))).unwrap().path;
    // Hudson's changes go; one more change at Hudson after the backup goes too.
    pass(&mut app, &hudson_only, &r).await;
    let patch = ResidentPatch { last_name: Some("After".into()), ..Default::default() };
    app.resident_update(&owner, "remote1@example.com", &patch).unwrap();
    pass(&mut app, &hudson_only, &r).await;
    let states: Vec<(String, i64)> = store::outbox::counts(app.conn()).unwrap();
    assert!(states.contains(&("pending".into(), 1)), "Bayside's create waits: {states:?}");
    let sent_before = changes(&sim);
    assert!(!sent_before.is_empty());
    sim.reset_stats();

    let report = app.restore(&owner, &copy).unwrap();
    assert_eq!(report.outbox.already_sent, 3, "{report:?}");
    assert_eq!(report.outbox.still_to_send, 1, "{report:?}");
    let owner = app.refresh(&owner).unwrap();
    let st = app.sync_status(&owner).unwrap();
    assert_eq!((st.pending, st.in_flight), (1, 0), "{st:?}");
    pass(&mut app, &owner, &r).await;
    // Only Bayside's create reached the remote after the restore.
    let after = changes(&sim);
    let total: u64 = after.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 1, "one request after the restore: {after:?}");
    assert!(after.iter().all(|(k, _)| k.starts_with("POST ")), "{after:?}");
    let data = sim.data();
    let invitations = data.mail.iter().filter(|m| m.to == "remote2@example.com" && m.kind == "invitation").count();
    assert_eq!(invitations, 1, "the invitation went once");
    assert_eq!(data.residents.values().filter(|x| x.email == "hana@example.com").count(), 1);
    assert!(data.residents.values().any(|x| x.email == "bea@example.com"), "the copy's unsent create was sent");
    // The pull brought back what the remote has, including the change made after the backup.
    let remote1 = app.resident_show(&owner, "remote1@example.com").unwrap().resident;
    assert_eq!(remote1.last_name, "After");
    let remote0 = app.resident_show(&owner, "remote0@example.com").unwrap().resident;
    assert_eq!(remote0.first_name, "Renamed");
    assert!(app.resident_show(&owner, "hana@example.com").unwrap().resident.remote_id.is_some());
    let st = app.sync_status(&owner).unwrap();
    assert_eq!((st.pending, st.in_flight, st.rejected, st.open_conflicts), (0, 0, 0, 0), "{st:?}");
    assert!(st.sites.iter().all(|s| s.last_pull_at.is_some()));
}
