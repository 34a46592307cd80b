//! `sitemanager-sim`: the simulator's command line (see `shared/design/CLI.md`).
//!
//! Prints `listening on http://HOST:PORT/v2` as its first stdout line, then (for
//! `--seed demo`) the service accounts, and serves until Ctrl-C / SIGTERM.

use clap::Parser;
use sitemanager_sim::clock::SimClock;
use sitemanager_sim::{FaultConfig, Seed, SeedSource, Settings, Sim, SimConfig};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "sitemanager-sim", version, about = "Simulator of the Site Manager Resident Management API v2")]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// `demo` for the demo portfolio, or a seed JSON file.
    #[arg(long)]
    seed: Option<String>,
    /// SQLite file that keeps the state across restarts.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Latency added to every /v2 request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Probability of an injected 500/503.
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Probability of a dropped connection.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Requests per second before 429 (e.g. `50/s` or `50`).
    #[arg(long)]
    rate_limit: Option<String>,
    /// Bearer token lifetime in seconds.
    #[arg(long, default_value_t = sitemanager_sim::assumptions::DEFAULT_TOKEN_LIFETIME_SECS)]
    token_lifetime: u64,
    /// How long an import or bulk job takes, in milliseconds of simulated time.
    #[arg(long, default_value_t = sitemanager_sim::assumptions::DEFAULT_JOB_DURATION_MS)]
    job_duration_ms: u64,
    /// Probability of a random 429 (with Retry-After).
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    /// Probability a request is applied and then its connection dropped.
    #[arg(long, default_value_t = 0.0)]
    drop_after_rate: f64,
    /// Probability a request is applied and then answered 500.
    #[arg(long, default_value_t = 0.0)]
    fail_after_rate: f64,
    /// Probability a response body is cut half way.
    #[arg(long, default_value_t = 0.0)]
    truncate_rate: f64,
    /// Import and bulk jobs make no progress (until changed via /__sim/faults).
    #[arg(long)]
    stall_jobs: bool,
    /// Answer contradicting one assumption of the contract, by the client's id
    /// (`residents.status`, ...; see GET /__sim/contradict), to try `residentdesk remote check`.
    #[arg(long, value_name = "ASSUMPTION")]
    contradict: Option<String>,
    /// Start the simulated clock at this RFC 3339 instant.
    #[arg(long)]
    now: Option<chrono::DateTime<chrono::Utc>>,
    /// Stop the simulated clock (it then moves only via /__sim/clock/advance).
    #[arg(long)]
    frozen: bool,
    /// Seed of the fault RNG (replays a run's faults).
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Answer the /__sim control routes (which rewrite the data, clock and accounts) from
    /// other machines too; without it they answer only from this machine (403 otherwise).
    #[arg(long)]
    allow_remote_control: bool,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let t = text.trim().trim_end_matches("/s").trim();
    match t.parse::<f64>() {
        Ok(r) if r > 0.0 => Ok(r),
        _ => Err(format!("--rate-limit must look like 50/s, not {text:?}")),
    }
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args) {
        eprintln!("sitemanager-sim: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), String> {
    let seed = match args.seed.as_deref() {
        None => SeedSource::Empty,
        Some("demo") => SeedSource::Demo,
        Some(path) => SeedSource::Custom(Box::new(Seed::from_file(std::path::Path::new(path))?)),
    };
    let faults = FaultConfig {
        latency_ms: args.latency_ms,
        fail_rate: args.fail_rate,
        drop_rate: args.drop_rate,
        rate_limit_per_sec: args.rate_limit.as_deref().map(parse_rate).transpose()?,
        throttle_rate: args.throttle_rate,
        drop_after_rate: args.drop_after_rate,
        fail_after_rate: args.fail_after_rate,
        truncate_rate: args.truncate_rate,
        stall_jobs: args.stall_jobs,
        seed: args.fault_seed,
        ..FaultConfig::default()
    };
    faults.validate().map_err(|e| e.message)?;
    let config = SimConfig {
        listen: args.listen,
        seed,
        state_file: args.state,
        faults,
        settings: Settings { token_lifetime_secs: args.token_lifetime, job_duration_ms: args.job_duration_ms },
        clock: match (args.now, args.frozen) {
            (Some(t), true) => Some(SimClock::frozen(t)),
            (Some(t), false) => Some(SimClock::starting_at(t)),
            (None, true) => Some(SimClock::frozen(chrono::Utc::now())),
            (None, false) => None,
        },
        contradict: args
            .contradict
            .as_deref()
            .map(|id| {
                serde_json::from_value(serde_json::Value::String(id.into()))
                    .map_err(|_| format!("--contradict: no such assumption {id:?}"))
            })
            .transpose()?,
        allow_remote_control: args.allow_remote_control,
        ..SimConfig::default()
    };
    let demo = matches!(config.seed, SeedSource::Demo);
    let sim = Sim::start(config).map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on {}", sim.base_url());
    let _ = writeln!(out, "control: {}", sim.control_url());
    if demo || !sim.accounts().is_empty() {
        for a in sim.accounts() {
            let scope = if a.level.is_team_level() { a.team_ids.join(",") } else { a.site_ids.join(",") };
            let _ = writeln!(out, "account {:<18} {} / {}  ({scope})", a.level.as_str(), a.email, a.password);
        }
    }
    let _ = out.flush();
    drop(out);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(wait_for_signal());
    sim.shutdown();
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
