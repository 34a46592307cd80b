//! Authorization-check latency under the general role model (issue 7): 10,000 staff, 1,000
//! add-on roles and 250 sites in one team; each staff member has a base role, 0-3 add-on
//! roles and access to every site or to 1-10 listed sites.
//!
//! Prints p50/p99/max of:
//! - **check**: the check every use case makes (`access::evaluate` over the session's grants:
//!   active team, permissions from roles and add-ons, site access), 200,000 random
//!   (person, need, site) triples; target p99 ≤ 0.1 ms;
//! - **resolve + check**: building a person's effective grants from the database (base role,
//!   add-on roles, site access) and then checking, for 2,000 random people.
//!
//! Run: `cargo run --release --example bench_access` (BENCH_STAFF, BENCH_ROLES, BENCH_SITES
//! override the sizes).

/// The desktop app's allocator: these in-process figures are the desktop's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use residentdesk::access::roles::{PermSet, Permission, Role, RoleKind};
use residentdesk::access::{evaluate, Actor, Feature, Level, Need, SiteRef, Target};
use residentdesk::app::Session;
use residentdesk::store;
use residentdesk::{App, FixedClock};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentiles(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    (at(0.50), at(0.99), at(1.0))
}

fn main() {
    let staff_n = env("BENCH_STAFF", 10_000);
    let roles_n = env("BENCH_ROLES", 1_000);
    let sites_n = env("BENCH_SITES", 250);
    let mut rng = StdRng::seed_from_u64(7);
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let mut app = App::open_in_memory(clock.clone()).expect("database");
    let now = app.now();

    let t = Instant::now();
    let (team_id, site_ids, staff_ids) = {
        let tx = app.conn_mut().transaction().expect("transaction");
        let team_id = store::teams::insert(&tx, "Bench Portfolio", None).expect("team");
        let site_ids: Vec<i64> = (0..sites_n)
            .map(|i| store::sites::insert(&tx, team_id, &format!("Site {i:03}"), "ppk-a", "America/New_York", None))
            .collect::<Result<_, _>>()
            .expect("sites");
        let admin = store::staff::insert(&tx, "admin@bench.test", "Bench Admin", None, true, now).expect("admin");
        store::staff::set_membership(&tx, admin, team_id, Level::TeamAdmin.as_str()).expect("membership");
        let role_keys: Vec<String> = (0..roles_n).map(|i| format!("role_{i:04}")).collect();
        for key in &role_keys {
            let permissions: PermSet =
                Permission::ALL.into_iter().filter(|_| rng.random_bool(0.15)).collect::<PermSet>();
            let role = Role {
                key: key.clone(),
                name: key.to_uppercase(),
                kind: RoleKind::AddOn,
                permissions,
                assignable: true,
                builtin: false,
                level: None,
                description: String::new(),
            };
            store::roles::insert(&tx, team_id, &role, admin, now).expect("role");
        }
        let mut staff_ids = Vec::with_capacity(staff_n);
        for i in 0..staff_n {
            let id = store::staff::insert(&tx, &format!("person{i}@bench.test"), "Bench Person", None, false, now)
                .expect("staff");
            let level = Level::ALL[rng.random_range(0..4usize)];
            store::staff::set_membership(&tx, id, team_id, level.as_str()).expect("membership");
            let all = level.is_team_level() || rng.random_bool(0.2);
            store::staff::set_all_sites(&tx, id, team_id, all).expect("all sites");
            if !all {
                let n = rng.random_range(1..=10usize);
                let listed: Vec<i64> = (0..n).map(|_| site_ids[rng.random_range(0..site_ids.len())]).collect();
                store::staff::set_sites(&tx, id, team_id, &listed).expect("sites");
            }
            let k = rng.random_range(0..=3usize);
            let keys: Vec<String> = (0..k).map(|_| role_keys[rng.random_range(0..role_keys.len())].clone()).collect();
            store::roles::set_member_roles(&tx, id, team_id, &keys, None, now).expect("roles");
            staff_ids.push(id);
        }
        tx.commit().expect("commit");
        (team_id, site_ids, staff_ids)
    };
    println!(
        "seeded {staff_n} staff, {} roles, {sites_n} sites in {:.1} s",
        store::roles::count_roles(app.conn()).unwrap_or(0),
        t.elapsed().as_secs_f64()
    );

    // Resolve every person's session (the grants a signed-in session carries).
    let stub = |id: i64| Session {
        actor: Actor {
            staff_id: id,
            email: String::new(),
            is_owner: false,
            team: None,
            member_sites: Default::default(),
        },
        grants: residentdesk::access::roles::Grants::for_level(Level::StaffUser, &Default::default()),
        token: None,
    };
    let t = Instant::now();
    let sessions: Vec<Session> = staff_ids.iter().map(|id| app.refresh(&stub(*id)).expect("session")).collect();
    println!("resolved {} sessions in {:.1} s", sessions.len(), t.elapsed().as_secs_f64());

    let sites: Vec<SiteRef> =
        site_ids.iter().enumerate().map(|(i, id)| SiteRef { id: *id, team_id, name: format!("Site {i:03}") }).collect();
    let needs: Vec<Need> =
        Feature::ALL.into_iter().map(Need::Feature).chain(Permission::ALL.into_iter().map(Need::Permission)).collect();

    // The check every use case makes.
    let checks = 200_000;
    let mut samples = Vec::with_capacity(checks);
    let mut allowed = 0usize;
    for _ in 0..checks {
        let s = &sessions[rng.random_range(0..sessions.len())];
        let need = needs[rng.random_range(0..needs.len())];
        let site = &sites[rng.random_range(0..sites.len())];
        let t = Instant::now();
        let d = std::hint::black_box(evaluate(&s.actor, &s.grants, need, Target::Site(site)));
        samples.push(t.elapsed());
        allowed += usize::from(d.is_allowed());
    }
    let (p50, p99, max) = percentiles(samples);
    println!(
        "check:           p50 {p50:.4} ms  p99 {p99:.4} ms  max {max:.4} ms  ({checks} checks, {:.0}% allowed; target p99 <= 0.1 ms: {})",
        allowed as f64 * 100.0 / checks as f64,
        if p99 <= 0.1 { "met" } else { "MISSED" }
    );

    // Resolving grants from the database, then checking.
    let runs = 2_000;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let id = staff_ids[rng.random_range(0..staff_ids.len())];
        let need = needs[rng.random_range(0..needs.len())];
        let site = &sites[rng.random_range(0..sites.len())];
        let t = Instant::now();
        let s = app.refresh(&stub(id)).expect("session");
        std::hint::black_box(evaluate(&s.actor, &s.grants, need, Target::Site(site)));
        samples.push(t.elapsed());
    }
    let (p50, p99, max) = percentiles(samples);
    println!(
        "resolve + check: p50 {p50:.4} ms  p99 {p99:.4} ms  max {max:.4} ms  ({runs} people, from SQLite in memory; target p99 <= 0.01 ms: {})",
        if p99 <= 0.01 { "met" } else { "MISSED" }
    );

    // The gate's re-read at every use case: the same person's session again, the database
    // unchanged since (the cache keyed by SQLite's data_version answers), then the check.
    let mut samples = Vec::with_capacity(runs * 10);
    for _ in 0..runs {
        let s = sessions[rng.random_range(0..sessions.len())].clone();
        app.refresh(&s).expect("session");
        for _ in 0..10 {
            let need = needs[rng.random_range(0..needs.len())];
            let site = &sites[rng.random_range(0..sites.len())];
            let t = Instant::now();
            let s = app.refresh(&s).expect("session");
            std::hint::black_box(evaluate(&s.actor, &s.grants, need, Target::Site(site)));
            samples.push(t.elapsed());
        }
    }
    let (p50, p99, max) = percentiles(samples);
    println!(
        "gate re-read + check, unchanged database: p50 {p50:.4} ms  p99 {p99:.4} ms  max {max:.4} ms  (target p99 <= 0.01 ms: {})",
        if p99 <= 0.01 { "met" } else { "MISSED" }
    );
}
