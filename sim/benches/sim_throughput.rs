//! Throughput of the simulator over loopback, so sync benchmarks know it is not the
//! bottleneck: `GET .../resident` on a 400-resident site, and resident creation.
//!
//! Run: `cargo bench -p sitemanager-sim --bench sim_throughput` (optionally
//! `-- --seconds 3 --concurrency 4`). Each phase is bounded in time and count and talks only
//! to 127.0.0.1. The last line is one JSON object with the figures.

use base64::Engine;
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use sitemanager_sim::{Seed, Sim, SimConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

struct Figures {
    requests: usize,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

/// Runs `op(i)` from `concurrency` tasks for `seconds` (at most `max` calls in all).
async fn measure<F, Fut>(concurrency: usize, seconds: f64, max: usize, op: F) -> Figures
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let counter = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + std::time::Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (op, counter) = (op.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                if i >= max || Instant::now() >= deadline {
                    break;
                }
                let t = Instant::now();
                assert!(op(i).await, "request {i} failed");
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("bench task"));
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    let pct =
        |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(0.0);
    Figures { requests: all.len(), seconds: secs, p50_ms: pct(0.5), p99_ms: pct(0.99) }
}

fn arg(name: &str, default: f64) -> f64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let seconds = arg("--seconds", 2.0);
    let concurrency = arg("--concurrency", 4.0) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(run(seconds, concurrency.max(1)));
}

async fn run(seconds: f64, concurrency: usize) {
    let sim = Sim::start(SimConfig::with_seed(Seed::bench(400, Utc::now()))).expect("start simulator");
    let base = sim.base_url();
    let http = reqwest::Client::builder().use_rustls_tls().build().expect("client");
    let cred = base64::engine::general_purpose::STANDARD.encode("bench@sim.test:bench-password");
    let token: Value = http
        .post(format!("{base}/oauth/token"))
        .header("Authorization", format!("Password {cred}"))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let token = Arc::new(token["access_token"].as_str().expect("access_token").to_string());
    let site = format!("{base}/team/team-bench/site/site-bench/resident");
    let first: Value =
        http.get(&site).bearer_auth(token.as_str()).send().await.expect("list").json().await.expect("list json");
    let n = first["Residents"].as_array().map(Vec::len).unwrap_or(0);
    assert_eq!(n, 400, "the bench site holds 400 residents");
    let body_bytes = serde_json::to_vec(&first).map(|v| v.len()).unwrap_or(0);

    let list = {
        let (http, token, site) = (http.clone(), token.clone(), site.clone());
        measure(concurrency, seconds, 1_000_000, move |_| {
            let req = http.get(&site).bearer_auth(token.as_str()).send();
            async move {
                match req.await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        })
        .await
    };

    // In-process cost of one list answer: building the 400 wire objects, and the JSON.
    let t = Instant::now();
    let rounds = 200;
    let mut bytes = 0;
    for _ in 0..rounds {
        let list = sim.world(|w| {
            let site = w.site("site-bench").cloned().expect("bench site");
            w.site_wire_list(&site)
        });
        bytes += serde_json::to_vec(&list).map(|v| v.len()).unwrap_or(0);
    }
    let build_ms = t.elapsed().as_secs_f64() * 1000.0 / rounds as f64;
    assert!(bytes > 0);
    // Creation: each request a new resident on a free unit (units 400..5400 are free).
    let start_at = (sim.now() - Duration::days(1)).to_rfc3339();
    let create = {
        let (http, token, site) = (http.clone(), token.clone(), site.clone());
        measure(concurrency, seconds, 5_000, move |i| {
            let u = 400 + i;
            let body = json!({
                "FirstName": "Bench", "LastName": format!("N{i}"), "Email": format!("new{i}@bench.example"),
                "PhoneNumber": "555-0100", "Building": format!("B{}", u / 1000), "Floor": format!("{}", (u / 100) % 10),
                "Unit": format!("{u:05}"), "ActivationDateUTC": start_at, "DeactivationDateUTC": null
            });
            let req = http.post(&site).bearer_auth(token.as_str()).json(&body).send();
            async move { matches!(req.await, Ok(r) if r.status().is_success()) }
        })
        .await
    };
    let stats = sim.stats();
    sim.shutdown();

    // The same list inside a 100,000-resident portfolio (250 sites × 400), as sync benches use.
    let t = Instant::now();
    let big = Sim::start(SimConfig::with_seed(Seed::portfolio(250, 400, 20, Utc::now()))).expect("start portfolio");
    let big_start_ms = t.elapsed().as_secs_f64() * 1000.0;
    let big_list = {
        let http = http.clone();
        let base = big.base_url();
        let cred = base64::engine::general_purpose::STANDARD.encode("scale@sim.test:scale-password");
        let token: Value = http
            .post(format!("{base}/oauth/token"))
            .header("Authorization", format!("Password {cred}"))
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token json");
        let token = Arc::new(token["access_token"].as_str().expect("access_token").to_string());
        measure(concurrency, seconds, 1_000_000, move |i| {
            let url = format!("{base}/team/team-scale/site/site-{:04}/resident", i % 250);
            let req = http.get(url).bearer_auth(token.as_str()).send();
            async move {
                match req.await {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        })
        .await
    };
    big.shutdown();

    println!("sitemanager-sim throughput over loopback ({concurrency} concurrent clients, {seconds} s per phase)");
    println!(
        "  GET .../resident (400 residents, {body_bytes} bytes): {:>8.0} req/s  ({} requests, p50 {:.2} ms, p99 {:.2} ms)",
        list.rate(),
        list.requests,
        list.p50_ms,
        list.p99_ms
    );
    println!(
        "  POST .../resident (create):                {:>8.0} req/s  ({} requests, p50 {:.2} ms, p99 {:.2} ms)",
        create.rate(),
        create.requests,
        create.p50_ms,
        create.p99_ms
    );
    println!(
        "  GET .../resident, 400 of 100,000 residents: {:>8.0} req/s  ({} requests, p50 {:.2} ms; portfolio start {:.0} ms)",
        big_list.rate(),
        big_list.requests,
        big_list.p50_ms,
        big_start_ms
    );
    println!("  in-process: building + serialising one 400-resident list takes {build_ms:.2} ms");
    println!(
        "{}",
        json!({
            "bench": "sitemanager_sim",
            "list_400_rps": list.rate().round(),
            "list_400_p50_ms": list.p50_ms,
            "create_rps": create.rate().round(),
            "create_p50_ms": create.p50_ms,
            "list_400_build_ms": build_ms,
            "list_400_of_100k_rps": big_list.rate().round(),
            "portfolio_100k_start_ms": big_start_ms.round(),
            "requests_seen": stats.total,
        })
    );
}
