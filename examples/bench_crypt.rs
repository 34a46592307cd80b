//! What encryption at rest costs (issue #15): `cargo run --release --example bench_crypt`,
//! run by `cargo xtask bench`.
//!
//! Two databases seeded alike (100,000 residents over 250 sites): one encrypted as by default
//! (SQLCipher; the key from `RESIDENTDESK_DB_KEY`, which cargo sets for this repository, else
//! the OS keyring), one plain. The same work on both, in the same run, and the ratio
//! encrypted / plain of each (target ≤ 1.3×): open + sign-in + first page, search as you
//! type, the team export, an import of 50,000 rows into a new site, and the seed itself.
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

/// The figures of one database.
#[derive(Default)]
struct Figures {
    seed: Duration,
    first_page: Duration,
    search: Duration,
    export: Duration,
    import: Duration,
}

fn measure(db: &Db) -> Figures {
    let mut figures = Figures::default();
    let t = Instant::now();
    db.open().demo_seed(RESIDENTS, 42).expect("seed");
    figures.seed = t.elapsed();

    figures.first_page = time(5, |_| {
        let mut app = db.open();
        let s = app.sign_in(ADMIN.0, ADMIN.1).expect("sign in");
        let f = ResidentFilter { limit: Some(50), ..Default::default() };
        app.resident_list(&s, "Maple Court", &f).expect("list").len()
    });

    let mut app = db.open();
    let admin = app.sign_in(ADMIN.0, ADMIN.1).expect("sign in");
    let queries = ["wil", "ava", "c1", "nguyen", "mateo.l", "b2", "zo", "hill", "grace.", "a10"];
    figures.search = time(200, |i| app.resident_search(&admin, queries[i % queries.len()], 50).expect("search").len());

    figures.export = time(3, |_| {
        let mut sink = std::io::sink();
        app.export_residents(&admin, &ExportRequest::default(), &mut sink).expect("export").rows
    });

    let site_name = "Bench Import Towers";
    {
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
    let csv = import_file(IMPORT_ROWS);
    let t = Instant::now();
    let done = app.import_commit(&admin, site_name, &csv, false).expect("import");
    figures.import = t.elapsed();
    assert_eq!(done.status, ImportStatus::Imported, "{}", done.summary());
    figures
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
    // The plain one first, the encrypted one after: the second gets no warmer a cache than
    // the first (each is a file of its own), and the encrypted one is the one under test.
    let p = measure(&plain);
    let e = measure(&encrypted);
    let is_encrypted = |path: &Path| std::fs::read(path).map(|b| !b.starts_with(b"SQLite format 3\0")).unwrap_or(false);
    assert!(is_encrypted(&encrypted.path), "the {} database is not encrypted", encrypted.name);
    assert!(!is_encrypted(&plain.path), "the {} database is encrypted", plain.name);
    println!(
        "encryption bench: {RESIDENTS} residents over 250 sites, SQLCipher (AES-256, HMAC per page) vs plain SQLite"
    );
    line("open + sign in + first page", e.first_page, p.first_page);
    line("search as you type (team)", e.search, p.search);
    line("export of the team", e.export, p.export);
    line(&format!("import of {IMPORT_ROWS} rows"), e.import, p.import);
    line("demo seed", e.seed, p.seed);
    // The passphrase's key derivation is part of every encrypted open above; a desk whose
    // key is in the OS keyring skips it. Its share of the first figure:
    let kdf = time(5, |_| store::key::resolve(&encrypted.path, &KeySource::Standard).expect("key"));
    println!(
        "  of the encrypted open: resolving the key {:.1} ms (argon2id of a passphrase, once per start; \
         the keyring's key needs none): open + sign in + first page without it {:.2}x plain",
        ms(kdf),
        e.first_page.saturating_sub(kdf).as_secs_f64() / p.first_page.as_secs_f64().max(1e-12)
    );
}
