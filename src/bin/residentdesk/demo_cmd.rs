//! `residentdesk demo seed`: the demo portfolio, thin over `app::demo`.

use crate::output::{print_table, Out};
use crate::progress::Bar;
use clap::Subcommand;
use residentdesk::{App, AppError};
use std::path::Path;

#[derive(Subcommand, Debug)]
pub enum DemoCmd {
    /// Seed a deterministic demo portfolio into an empty database.
    Seed {
        #[arg(long, default_value_t = 2000)]
        residents: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Then give the first site N more residents (one site of 10,000+ residents, for the
        /// desktop's scrolling test; the demo itself spreads ~400 per site).
        #[arg(long, value_name = "N")]
        big_site: Option<usize>,
    },
}

/// `demo seed`: fills an empty database with the demo portfolio (no sign-in: the use case is
/// public), then optionally grows its first site.
pub fn demo(app: &mut App, db: &Path, cmd: &DemoCmd, out: &Out) -> Result<(), AppError> {
    let DemoCmd::Seed { residents, seed, big_site } = cmd;
    if *residents > 1_000_000 || big_site.is_some_and(|n| n > 200_000) {
        return Err(AppError::invalid_field("residents", "at most 1,000,000 demo residents, 200,000 in the big site"));
    }
    let started = std::time::Instant::now();
    let bar = Bar::new(out, "seeding the demo", "residents", Some(*residents as u64));
    let summary = app.demo_seed_observed(*residents, *seed, &mut |p| bar.set(p.done, p.total))?;
    bar.finish();
    if let Some(n) = big_site.filter(|n| *n > 0) {
        let (site, imported) = grow_first_site(app, &summary, n)?;
        eprintln!("Gave site {site} {imported} more residents.");
    }
    out.value(&summary, || {
        println!(
            "Seeded {} teams, {} sites, {} residents into {} in {:.1} s.",
            summary.teams,
            summary.sites,
            summary.residents,
            db.display(),
            started.elapsed().as_secs_f64()
        );
        println!("\nDemo staff accounts (use with --as EMAIL and RESIDENTDESK_PASSWORD):");
        print_table(
            &["EMAIL", "PASSWORD", "WHO"],
            summary.accounts.iter().map(|a| vec![a.email.clone(), a.password.clone(), a.note.clone()]).collect(),
        );
    });
    Ok(())
}

/// `demo seed --big-site N`: the core's `demo_grow_site`, as the demo's owner.
fn grow_first_site(
    app: &mut App,
    summary: &residentdesk::app::demo::DemoSummary,
    n: usize,
) -> Result<(String, u64), AppError> {
    let owner = summary.owner()?;
    let session = app.sign_in(&owner.email, &owner.password)?;
    app.demo_grow_site(&session, n)
}
