//! What encryption at rest costs (issue #15): `cargo run --release --example bench_crypt`,
//! run by `cargo xtask bench`.
//!
//! Two databases seeded alike (100,000 residents over 250 sites): one encrypted as by default
//! (SQLCipher; the key from `RESIDENTDESK_DB_KEY`, which cargo sets for this repository, else
//! the OS keyring), one plain. The same work on both, in the same run, and the ratio
//! encrypted / plain of each (target ≤ 1.3×), measured in turn: sign-in + first page (and the
//! open before it, with the passphrase's key derivation apart), search as you type, the team export, an import of 50,000 rows into a new site, and the seed itself.
#![forbid(unsafe_code)]

/// The desktop app's allocator: these in-process figures are the desktop's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use residentdesk::app::csv::{ExportRequest, ImportStatus};
use residentdesk::app::residents::ResidentFilter;
use residentdesk::store::{self, sites::Mapping, KeySource};
use residentdesk::{App, SystemClock};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RESIDENTS: usize = 100_000;
const IMPORT_ROWS: usize = 50_000;
const ADMIN: (&str, &str) = ("teamadmin@demo.residentdesk.test", "Demo-TeamAdmin-2026");
const TARGET: f64 = 1.3;

/// One database under test: its file and how it is keyed.
struct Db {
    name: &'static str,
    path: std::path::PathBuf,
    key: KeySource,
}

impl Db {
    fn open(&self) -> App {
        App::open_with_key(&self.path, Arc::new(SystemClock), &self.key).expect("open")
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut(usize) -> T) -> Duration {
    median(
        (0..runs)
            .map(|i| {
                let t = Instant::now();
                std::hint::black_box(f(i));
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One figure of both databases: `runs` rounds, each timing the plain database then the
/// encrypted one, so a change of the machine's load during the run weighs on both alike.
fn paired<T>(
    runs: usize,
    plain: &mut dyn FnMut(usize) -> T,
    encrypted: &mut dyn FnMut(usize) -> T,
) -> (Duration, Duration) {
    paired_timed(runs, &mut |i| time(1, |_| plain(i)), &mut |i| time(1, |_| encrypted(i)))
}

/// [`paired`] for work that times itself (a set-up left out of the figure).
fn paired_timed(
    runs: usize,
    plain: &mut dyn FnMut(usize) -> Duration,
    encrypted: &mut dyn FnMut(usize) -> Duration,
) -> (Duration, Duration) {
    let (mut p, mut e) = (Vec::new(), Vec::new());
    for i in 0..runs {
        p.push(plain(i));
        e.push(encrypted(i));
    }
    (median(p), median(e))
}

/// The figures of both databases, measured pairwise.
#[derive(Default)]
struct Figures {
    seed: (Duration, Duration),
    open: (Duration, Duration),
    first_page: (Duration, Duration),
    search: (Duration, Duration),
    export: (Duration, Duration),
    import: (Duration, Duration),
}

fn seed(db: &Db) -> Duration {
    let t = Instant::now();
    db.open().demo_seed(RESIDENTS, 42).expect("seed");
    t.elapsed()
}

/// Sign-in and the first page of a site on a just-opened app, its page cache cold (what a
/// person waits for after typing the password); the open itself is not counted.
fn first_page(db: &Db) -> Duration {
    let mut app = db.open();
    let t = Instant::now();
    let s = app.sign_in(ADMIN.0, ADMIN.1).expect("sign in");
    let f = ResidentFilter { limit: Some(50), ..Default::default() };
    std::hint::black_box(app.resident_list(&s, "Maple Court", &f).expect("list").len());
    t.elapsed()
}

/// A site of `IMPORT_ROWS` units for the import, and the file to import into it.
fn prepare_import(app: &mut App, admin: &residentdesk::app::Session, site_name: &str) {
    let team_id = admin.actor.team_id().expect("a team");
    let tx = app.conn_mut().transaction().expect("transaction");
    let site = store::sites::insert(&tx, team_id, site_name, "PPK-C", "America/Chicago", None).expect("site");
    for i in 0..IMPORT_ROWS {
        let m = Mapping {
            building: format!("B{}", i / 10_000),
            floor: format!("{}", (i / 100) % 100 + 1),
            unit: format!("U{i:06}"),
            passphrase: None,
            ssid: None,
            vlan: None,
        };
        store::sites::insert_mapping(&tx, site, &m).expect("mapping");
    }
    tx.commit().expect("commit");
}

fn measure(plain: &Db, encrypted: &Db) -> Figures {
    let mut f = Figures::default();
    let sp = seed(plain);
    let se = seed(encrypted);
    f.seed = (sp, se);

    f.open = paired(5, &mut |_| plain.open(), &mut |_| encrypted.open());
    f.first_page = paired_timed(7, &mut |_| first_page(plain), &mut |_| first_page(encrypted));
    let (mut pa, mut ea) = (plain.open(), encrypted.open());

    let pad = pa.sign_in(ADMIN.0, ADMIN.1).expect("sign in");
    let ead = ea.sign_in(ADMIN.0, ADMIN.1).expect("sign in");
    let queries = ["wil", "ava", "c1", "nguyen", "mateo.l", "b2", "zo", "hill", "grace.", "a10"];
    let q = |i: usize| queries[i % queries.len()];
    f.search = paired(200, &mut |i| pa.resident_search(&pad, q(i), 50).expect("search").len(), &mut |i| {
        ea.resident_search(&ead, q(i), 50).expect("search").len()
    });

    let export = |app: &mut App, s: &residentdesk::app::Session| {
        app.export_residents(s, &ExportRequest::default(), &mut std::io::sink()).expect("export").rows
    };
    f.export = paired(5, &mut |_| export(&mut pa, &pad), &mut |_| export(&mut ea, &ead));

    let site_name = "Bench Import Towers";
    prepare_import(&mut pa, &pad, site_name);
    prepare_import(&mut ea, &ead, site_name);
    let csv = import_file(IMPORT_ROWS);
    let import = |app: &mut App, s: &residentdesk::app::Session| {
        let t = Instant::now();
        let done = app.import_commit(s, site_name, &csv, false).expect("import");
        assert_eq!(done.status, ImportStatus::Imported, "{}", done.summary());
        t.elapsed()
    };
    f.import = (import(&mut pa, &pad), import(&mut ea, &ead));
    f
}

fn import_file(rows: usize) -> Vec<u8> {
    let mut out = b"FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC\n".to_vec();
    for i in 0..rows {
        let line = format!(
            "First{i},Last{},crypt.import.{i}@residents.example,555-{:03}-{:04},B{},{},U{i:06},2026-01-15\n",
            i % 997,
            i % 1000,
            i % 10_000,
            i / 10_000,
            (i / 100) % 100 + 1
        );
        out.extend_from_slice(line.as_bytes());
    }
    out
}

fn line(what: &str, encrypted: Duration, plain: Duration) {
    let ratio = encrypted.as_secs_f64() / plain.as_secs_f64().max(1e-12);
    println!(
        "  {what:<34} {:>10.3} ms encrypted, {:>10.3} ms plain: ratio {ratio:.2} (target ≤ {TARGET}){}",
        ms(encrypted),
        ms(plain),
        if ratio <= TARGET { "" } else { "  ← over target" }
    );
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let encrypted = Db { name: "encrypted", path: dir.path().join("encrypted.db"), key: KeySource::Standard };
    let plain = Db { name: "plain", path: dir.path().join("plain.db"), key: KeySource::Plain };
    let f = measure(&plain, &encrypted);
    let is_encrypted = |path: &Path| std::fs::read(path).map(|b| !b.starts_with(b"SQLite format 3\0")).unwrap_or(false);
    assert!(is_encrypted(&encrypted.path), "the {} database is not encrypted", encrypted.name);
    assert!(!is_encrypted(&plain.path), "the {} database is encrypted", plain.name);
    println!(
        "encryption bench: {RESIDENTS} residents over 250 sites, SQLCipher (AES-256, HMAC per page) vs plain SQLite, \
         runs paired (plain, then encrypted, in turn)"
    );
    let line = |what: &str, (p, e): (Duration, Duration)| line(what, e, p);
    line("sign in + first page", f.first_page);
    line("search as you type (team)", f.search);
    line("export of the team", f.export);
    line(&format!("import of {IMPORT_ROWS} rows"), f.import);
    line("demo seed", f.seed);
    // Opening the file: the encrypted open derives the key from the passphrase (argon2id,
    // once per start; a key in the OS keyring needs no derivation) and proves it.
    let kdf = time(5, |_| store::key::resolve(&encrypted.path, &KeySource::Standard).expect("key"));
    let (po, eo) = f.open;
    println!(
        "  open (once per start)              {:>10.3} ms encrypted, {:>10.3} ms plain; of it the passphrase's \
         key derivation {:.1} ms (none with the OS keyring's key): {:.2}x plain without it",
        ms(eo),
        ms(po),
        ms(kdf),
        eo.saturating_sub(kdf).as_secs_f64() / po.as_secs_f64().max(1e-12)
    );
}
