//! Encryption at rest and private files (issue #15): the database, its WAL and its backups
//! hold no readable resident data; a wrong or missing key is refused with no byte of the
//! files changed; `db encrypt` and `db rekey` round trips; backups keep the key and a
//! backup under another key is refused; the files are the owner's alone.
//!
//! The processes cargo starts carry `RESIDENTDESK_DB_KEY` (`.cargo/config.toml`): the
//! databases made here through the CLI or `App::open` are encrypted with that passphrase.

use crate::fixture::*;
use residentdesk::app::encryption::NewKey;
use residentdesk::store::{self, key, KeySource};
use residentdesk::{App, FixedClock};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const DEV_PASSPHRASE_ENV: &str = key::PASSPHRASE_ENV;

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(test_now()))
}

/// Every file under `dir` (recursively) with its SHA-256, computed by another process:
/// closing a handle of the database in this one would drop the open app's locks on it.
fn hashes_under(dir: &Path) -> BTreeMap<PathBuf, String> {
    let paths: Vec<PathBuf> = files_under_names(dir);
    let out = std::process::Command::new("sha256sum").args(&paths).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    paths.into_iter().zip(text.lines().map(|l| l.split_whitespace().next().unwrap().to_string())).collect()
}

fn files_under_names(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under_names(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Every file under `dir` (recursively) with its bytes.
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Residents' emails and last names, read through the key.
fn resident_strings(db: &Path, source: &KeySource) -> Vec<String> {
    let (conn, _) = store::open_keyed(db, source).unwrap();
    let mut stmt = conn.prepare("SELECT email, last_name FROM residents ORDER BY id LIMIT 20").unwrap();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap();
    rows.flat_map(|r| {
        let (email, last) = r.unwrap();
        [email, last]
    })
    .filter(|s| s.len() >= 4)
    .collect()
}

fn header(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()[..16].to_vec()
}

const PLAIN_HEADER: &[u8] = b"SQLite format 3\0";

/// A database made by the CLI and one of its backups: no resident's email or name appears
/// in any byte of the database, its WAL (kept by an open app) or the backup. The same
/// search finds them in a plain database, so it can fail.
#[test]
fn no_resident_data_is_readable_in_the_files_or_a_backup() {
    let w = Work::demo(60);
    w.run(Some(OWNER), &["backup"]).ok();
    let strings = resident_strings(&w.db(), &KeySource::Standard);
    assert!(strings.len() >= 20, "{strings:?}");
    let mut app = App::open(&w.db(), clock()).unwrap();
    let owner = sign_in(&mut app, OWNER);
    app.team_show(&owner).unwrap();
    // A write the open app keeps in the WAL.
    app.conn().execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
    app.backup_settings(&owner, 15).unwrap();
    let files = files_under(w.dir.path());
    assert!(files.keys().any(|p| p.to_string_lossy().ends_with("-wal")), "{:?}", files.keys());
    assert!(files.keys().any(|p| p.to_string_lossy().contains("manual")), "{:?}", files.keys());
    for (path, bytes) in &files {
        for s in &strings {
            assert!(!contains(bytes, s), "{s} readable in {}", path.display());
        }
        assert!(!contains(bytes, "@demo.residentdesk.test"), "a staff email readable in {}", path.display());
    }
    assert_ne!(header(&w.db()), PLAIN_HEADER);
    drop(app);

    // The control: the same data in a plain database shows.
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.db");
    let mut app = App::open_with_key(&plain, clock(), &KeySource::Plain).unwrap();
    app.demo_seed(60, 7).unwrap();
    drop(app);
    let strings = resident_strings(&plain, &KeySource::Plain);
    let bytes = std::fs::read(&plain).unwrap();
    assert_eq!(header(&plain), PLAIN_HEADER);
    assert!(strings.iter().all(|s| contains(&bytes, s)), "the search finds plain data");
}

/// A wrong passphrase, and no key at all (no passphrase, the keyring switched off), are
/// refused with a message naming the key, while an app holds the database open with its
/// WAL; no byte of the database or the WAL changes and no file appears.
#[test]
fn a_wrong_or_missing_key_is_refused_and_changes_no_byte() {
    let w = Work::demo(30);
    let mut app = App::open(&w.db(), clock()).unwrap();
    let owner = sign_in(&mut app, OWNER);
    app.conn().execute_batch("PRAGMA wal_autocheckpoint = 0").unwrap();
    app.backup_settings(&owner, 16).unwrap();
    let wal = PathBuf::from(format!("{}-wal", w.db().display()));
    assert!(wal.exists());
    // The shared-memory index is the open app's working memory, not stored data.
    let snapshot = |files: &BTreeMap<PathBuf, String>| {
        files
            .iter()
            .filter(|(p, _)| !p.to_string_lossy().ends_with("-shm"))
            .map(|(p, h)| (p.clone(), h.clone()))
            .collect::<Vec<_>>()
    };
    let before = hashes_under(w.dir.path());

    let unchanged = |step: &str| {
        let after = hashes_under(w.dir.path());
        assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>(), "after {step}");
        assert!(snapshot(&before) == snapshot(&after), "a byte of the database or its WAL changed ({step})");
    };
    let mut wrong = w.cli(true, Some(OWNER), &["team", "show"]);
    wrong.env(DEV_PASSPHRASE_ENV, "not the passphrase");
    let r = Run::from(wrong.output().unwrap());
    assert_ne!(r.code, 0, "{r:?}");
    let message = r.error()["message"].as_str().unwrap().to_string();
    assert!(message.contains("key") && message.contains("wrong"), "{message}");
    assert!(message.contains("not changed"), "{message}");
    unchanged("a wrong passphrase in another process");

    let mut missing = w.cli(true, Some(OWNER), &["team", "show"]);
    missing.env_remove(DEV_PASSPHRASE_ENV).env(key::NO_KEYRING_ENV, "1");
    let r = Run::from(missing.output().unwrap());
    assert_ne!(r.code, 0, "{r:?}");
    let message = r.error()["message"].as_str().unwrap().to_string();
    assert!(message.contains("no key was given") && message.contains("RESIDENTDESK_DB_KEY"), "{message}");
    unchanged("no key in another process");

    // A passphrase with non-ASCII characters that is not this one; an empty one.
    for (source, needle) in [
        (KeySource::Passphrase("Grüße, 鍵".into()), "wrong"),
        (KeySource::Passphrase(String::new()), "empty"),
        (KeySource::Plain, "encrypted"),
    ] {
        let e = store::open_keyed(&w.db(), &source).unwrap_err().to_string();
        assert!(e.contains(needle), "{source:?}: {e}");
        unchanged(&format!("{source:?} in this process"));
    }
    // The app that holds the right key goes on.
    app.team_show(&owner).unwrap();
}

/// A new database without any key (no passphrase, no keyring) is not created.
#[test]
fn a_new_database_without_a_key_is_not_created() {
    let w = Work::new();
    let mut cmd = w.cli(true, None, &["demo", "seed", "--residents", "1"]);
    cmd.env_remove(DEV_PASSPHRASE_ENV).env(key::NO_KEYRING_ENV, "1");
    let r = Run::from(cmd.output().unwrap());
    assert_ne!(r.code, 0, "{r:?}");
    assert!(r.error()["message"].as_str().unwrap().contains("no key for the new database"), "{r:?}");
    assert!(!w.db().exists());
}

/// A plain database (an older version's) is encrypted in place after a plain backup, keeps
/// every row and opens only with the new passphrase; a rekey (in-process, then through the
/// CLI with both passphrases on stdin) keeps the rows and retires the old passphrase. Only
/// the owner may do either.
#[test]
fn encrypt_then_rekey_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let mut app = App::open_with_key(&db, clock(), &KeySource::Plain).unwrap();
    app.demo_seed(40, 7).unwrap();
    let count = |app: &App| app.conn().query_row("SELECT count(*) FROM residents", [], |r| r.get::<_, i64>(0)).unwrap();
    let residents = count(&app);
    assert_eq!(header(&db), PLAIN_HEADER);

    let admin = sign_in(&mut app, TEAM_ADMIN);
    let e = app.db_encrypt(&admin, &NewKey::Passphrase("first".into())).unwrap_err();
    assert_eq!(e.code, residentdesk::ErrorCode::PermissionDenied, "{e:?}");
    assert_eq!(header(&db), PLAIN_HEADER);

    let owner = sign_in(&mut app, OWNER);
    let report = app.db_encrypt(&owner, &NewKey::Passphrase("first passphrase".into())).unwrap();
    let plain_copy = report.plain_backup.unwrap();
    assert_eq!(header(&plain_copy), PLAIN_HEADER, "the copy taken first is the plain database");
    assert_ne!(header(&db), PLAIN_HEADER);
    assert!(app.is_encrypted());
    assert_eq!(count(&app), residents, "the app goes on, on the encrypted file");
    let last: String =
        app.conn().query_row("SELECT action FROM audit ORDER BY id DESC LIMIT 1", [], |r| r.get(0)).unwrap();
    assert_eq!(last, "db.encrypt");
    let e = app.db_encrypt(&owner, &NewKey::Passphrase("again".into())).unwrap_err();
    assert!(e.message.contains("already encrypted"), "{e:?}");
    drop(app);
    assert!(store::open_keyed(&db, &KeySource::Passphrase("first passphrase".into())).is_ok());
    assert!(store::open_keyed(&db, &KeySource::Passphrase("wrong".into())).is_err());

    let mut app = App::open_with_key(&db, clock(), &KeySource::Passphrase("first passphrase".into())).unwrap();
    let owner = sign_in(&mut app, OWNER);
    app.db_rekey(&owner, &NewKey::Passphrase("second — zweite".into())).unwrap();
    assert_eq!(count(&app), residents);
    drop(app);
    let e = store::open_keyed(&db, &KeySource::Passphrase("first passphrase".into())).unwrap_err().to_string();
    assert!(e.contains("wrong"), "{e}");

    // Through the CLI: the current passphrase, then the new one, on stdin.
    let w = Work { dir, now: test_now().to_rfc3339() };
    let mut cli = w.cli(true, Some(OWNER), &["--db-key-stdin", "db", "rekey", "--new-key-stdin"]);
    cli.env_remove(DEV_PASSPHRASE_ENV);
    cli.stdin(std::process::Stdio::piped());
    let mut child = cli.spawn().unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all("second — zweite\nthird\n".as_bytes()).unwrap();
    }
    let r = Run::from(child.wait_with_output().unwrap());
    r.ok();
    assert_eq!(r.json()["key"], "passphrase");
    let (conn, _) = store::open_keyed(&w.db(), &KeySource::Passphrase("third".into())).unwrap();
    assert_eq!(conn.query_row("SELECT count(*) FROM residents", [], |r| r.get::<_, i64>(0)).unwrap(), residents);
}

/// A backup of an encrypted database is encrypted with its key and restores; a backup of
/// another database (another passphrase) is refused, naming the key, and changes nothing.
#[test]
fn backups_keep_the_key_and_another_key_is_refused() {
    let w = Work::demo(30);
    let mut app = App::open(&w.db(), clock()).unwrap();
    let owner = sign_in(&mut app, OWNER);
    let backup = app.backup_create(&owner, None).unwrap().path;
    assert_ne!(header(&backup), PLAIN_HEADER);
    let wrong = store::open_keyed(&backup, &KeySource::Passphrase("other".into())).unwrap_err().to_string();
    assert!(wrong.contains("wrong"), "{wrong}");
    let report = app.restore(&owner, &backup).unwrap();
    assert_eq!(report.file.residents, 30);

    let other_dir = tempfile::tempdir().unwrap();
    let other_db = other_dir.path().join("other.db");
    let mut other = App::open_with_key(&other_db, clock(), &KeySource::Passphrase("another".into())).unwrap();
    other.demo_seed(5, 3).unwrap();
    let other_owner = sign_in(&mut other, OWNER);
    let foreign = other.backup_create(&other_owner, None).unwrap().path;
    drop(other);
    let before = std::fs::read(w.db()).unwrap();
    let session = app.refresh(&owner).unwrap();
    let e = app.restore(&session, &foreign).unwrap_err();
    assert!(e.message.contains("another key"), "{e:?}");
    assert_eq!(before, std::fs::read(w.db()).unwrap());

    // A plain backup into an encrypted database: refused, saying how to encrypt it.
    let plain_db = other_dir.path().join("plain.db");
    let mut plain = App::open_with_key(&plain_db, clock(), &KeySource::Plain).unwrap();
    plain.demo_seed(5, 3).unwrap();
    drop(plain);
    let e = app.restore(&session, &plain_db).unwrap_err();
    assert!(e.message.contains("not encrypted"), "{e:?}");

    // A cut copy and random whole pages: refused, nothing changed.
    let good = std::fs::read(&backup).unwrap();
    let random: Vec<u8> = (0..32_768u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    for (name, bytes, needle) in
        [("cut.db", good[..good.len() - 100].to_vec(), "truncated"), ("random.db", random, "not a SQLite database")]
    {
        let file = other_dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let e = app.restore(&session, &file).unwrap_err();
        assert!(e.message.contains(needle) && e.message.contains("not changed"), "{name}: {e:?}");
    }
    assert_eq!(before, std::fs::read(w.db()).unwrap());
}

/// The folder made for a database is 0700; the database, its WAL and shared memory, the
/// backup folder and a backup are 0600 — whatever the umask; an older database with a
/// wider mode is narrowed at open.
#[cfg(unix)]
#[test]
fn only_the_owner_reads_the_files() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("data").join("desk");
    let db = folder.join("desk.db");
    let mut app = App::open(&db, clock()).unwrap();
    app.demo_seed(5, 7).unwrap();
    let owner = sign_in(&mut app, OWNER);
    let backup = app.backup_create(&owner, None).unwrap().path;
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&dir.path().join("data")), 0o700);
    for suffix in ["", "-wal", "-shm"] {
        assert_eq!(mode(&PathBuf::from(format!("{}{suffix}", db.display()))), 0o600, "{suffix}");
    }
    assert_eq!(mode(backup.parent().unwrap()), 0o700);
    assert_eq!(mode(&backup), 0o600);
    drop(app);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(App::open(&db, clock()).unwrap());
    assert_eq!(mode(&db), 0o600);
}

/// A tampered encrypted file (one byte of one page flipped) and one cut short at a page
/// boundary: the step that meets the damage fails with `db_damaged` and words that name the
/// file as damaged (not the key, not "malformed"), and that step changes no byte.
#[test]
fn a_tampered_or_cut_encrypted_file_is_named_damaged_and_left_as_it_was() {
    use residentdesk::app::csv::ExportRequest;
    use residentdesk::error::ErrorReason;
    let w = Work::demo(400);
    let good = std::fs::read(w.db()).unwrap();
    assert_ne!(&good[..16], PLAIN_HEADER);
    let page = key::CIPHER_PAGE_SIZE as usize;
    let pages = good.len() / page;
    assert!(pages > 8, "{pages} pages");
    let file = w.db();

    // Cut at a page boundary: the open refuses it.
    std::fs::write(&file, &good[..(pages / 2) * page]).unwrap();
    let before = hashes_under(w.dir.path());
    let e = App::open(&file, clock()).map(|_| ()).unwrap_err();
    assert_eq!(e.reason(), Some(ErrorReason::DbDamaged), "{e:?}");
    assert!(e.message.contains("damaged") && e.message.contains("restore"), "{e:?}");
    // The database file as it was; SQLite may leave an empty WAL and its index beside it.
    let after = hashes_under(w.dir.path());
    assert_eq!(before.get(&file), after.get(&file), "opening a cut file changed a byte");
    let wal = PathBuf::from(format!("{}-wal", file.display()));
    assert!(std::fs::metadata(&wal).map(|m| m.len() == 0).unwrap_or(true), "a WAL with content appeared");

    // One flipped byte, from the last page down, until a team export meets it; the export
    // changes nothing, and every step before it (open, sign-in) either works or names it.
    let mut met = 0;
    for p in (2..pages).rev() {
        let mut bytes = good.clone();
        bytes[p * page + page / 3] ^= 0x5a;
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        std::fs::write(&file, &bytes).unwrap();
        let step = (|| {
            let mut app = App::open(&file, clock())?;
            let owner = app.sign_in(OWNER.0, OWNER.1)?;
            let before = hashes_under(w.dir.path());
            let r = app.export_residents(&owner, &ExportRequest::default(), &mut std::io::sink());
            if r.is_err() {
                let shm = |m: &BTreeMap<PathBuf, String>| {
                    m.iter()
                        .filter(|(p, _)| !p.to_string_lossy().ends_with("-shm"))
                        .map(|(_, h)| h.clone())
                        .collect::<Vec<_>>()
                };
                assert_eq!(shm(&before), shm(&hashes_under(w.dir.path())), "the failed export changed a byte");
            }
            r.map(|_| ())
        })();
        if let Err(e) = step {
            assert_eq!(e.reason(), Some(ErrorReason::DbDamaged), "page {p}: {e:?}");
            assert!(e.message.contains("damaged") && !e.message.contains("malformed"), "page {p}: {e:?}");
            met += 1;
            if met == 3 {
                break;
            }
        }
    }
    assert_eq!(met, 3, "no flipped page was noticed by an export of the whole team");
}
