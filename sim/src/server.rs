//! Starting and stopping the simulator: configuration, the HTTP server (hyper, so a fault
//! can really drop a connection), the fault layer in front of `/v2`, and the
//! [`SimHandle`] that tests use to reach the simulator in-process.

use crate::clock::SimClock;
use crate::error::ApiError;
use crate::faults::{FaultConfig, FaultKind};
use crate::model::{Account, Data};
use crate::persist::{Snapshot, StateFile};
use crate::seed::Seed;
use crate::world::{Settings, Stats, World};
use crate::{api, control};
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Response, StatusCode};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::Router;
use chrono::{DateTime, Utc};
use hyper_util::rt::TokioIo;
use residentdesk_domain::wire::ResidentObject;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use tower::ServiceExt;

/// Where the initial data comes from (ignored when `--state` already holds data).
#[derive(Debug, Clone, Default)]
pub enum SeedSource {
    /// Nothing: add data through a seed, `/__sim/accounts` or [`SimHandle::world`].
    #[default]
    Empty,
    /// The deterministic demo portfolio ([`Seed::demo`]).
    Demo,
    /// A given seed (for instance read from a `--seed FILE.json`).
    Custom(Box<Seed>),
}

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Defaults to `127.0.0.1:0` (a free port).
    pub listen: SocketAddr,
    pub seed: SeedSource,
    /// `--state FILE`: SQLite file kept across restarts.
    pub state_file: Option<PathBuf>,
    pub faults: FaultConfig,
    pub settings: Settings,
    /// Overrides the seed's clock.
    pub clock: Option<SimClock>,
    /// Seed of the id generator (resident and job ids).
    pub id_seed: u64,
    /// Answer as if the contract's assumption of this id did not hold (see
    /// [`crate::contradict`]); `None`: as the contract says.
    pub contradict: Option<crate::contradict::Contradiction>,
    /// `--allow-remote-control`: answer `/__sim` control requests from other machines too.
    /// Off by default: the control routes rewrite the data, the clock and the accounts, so a
    /// simulator listening on a network answers them only from this machine (403 otherwise).
    pub allow_remote_control: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: SeedSource::Empty,
            state_file: None,
            faults: FaultConfig::default(),
            settings: Settings::default(),
            clock: None,
            id_seed: 1,
            contradict: None,
            allow_remote_control: false,
        }
    }
}

impl SimConfig {
    /// The demo portfolio on a free loopback port.
    pub fn demo() -> Self {
        SimConfig { seed: SeedSource::Demo, ..SimConfig::default() }
    }
    /// A given seed on a free loopback port.
    pub fn with_seed(seed: Seed) -> Self {
        SimConfig { seed: SeedSource::Custom(Box::new(seed)), ..SimConfig::default() }
    }
    pub fn faults(mut self, faults: FaultConfig) -> Self {
        self.faults = faults;
        self
    }
    pub fn job_duration_ms(mut self, ms: u64) -> Self {
        self.settings.job_duration_ms = ms;
        self
    }
    pub fn token_lifetime_secs(mut self, secs: u64) -> Self {
        self.settings.token_lifetime_secs = secs;
        self
    }
    /// Freezes the clock at `at` (it moves only when advanced).
    pub fn frozen_at(mut self, at: DateTime<Utc>) -> Self {
        self.clock = Some(SimClock::frozen(at));
        self
    }
    /// Answers contradicting one assumption of the contract (see [`crate::contradict`]).
    pub fn contradict(mut self, c: crate::contradict::Contradiction) -> Self {
        self.contradict = Some(c);
        self
    }
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }
    /// Answers `/__sim` control requests from other machines too (see the field).
    pub fn allow_remote_control(mut self, allow: bool) -> Self {
        self.allow_remote_control = allow;
        self
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("state file: {0}")]
    State(String),
    #[error("seed: {0}")]
    Seed(String),
    #[error("runtime: {0}")]
    Runtime(std::io::Error),
}

/// What the handlers share.
#[derive(Debug)]
pub struct Shared {
    world: Mutex<World>,
    state_file: Option<Mutex<StateFile>>,
}

/// The axum state.
pub type AppState = Arc<Shared>;

impl Shared {
    fn lock(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the world after bringing time-driven state up to date, then persists.
    pub fn with<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        let mut w = self.lock();
        w.tick();
        let out = f(&mut w);
        self.persist(&w, false);
        out
    }

    /// Saves the world to the state file if it changed; `force` ignores the slow-save spacing.
    fn persist(&self, w: &World, force: bool) {
        if let Some(file) = &self.state_file {
            let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
            if f.written_version() == Some(w.version) || (!force && f.should_defer()) {
                return;
            }
            let snapshot = Snapshot { data: w.data.clone(), clock: w.clock, settings: w.settings };
            if let Err(e) = f.save(w.version, &snapshot) {
                tracing::error!("saving state failed: {e}");
            }
        }
    }

    /// Counts a finished `/v2` request.
    fn count(&self, status: u16, fault: Option<FaultKind>) {
        let mut w = self.lock();
        w.stats.total += 1;
        *w.stats.by_status.entry(status).or_default() += 1;
        if let Some(f) = fault {
            *w.stats.faults.entry(f.as_str().to_string()).or_default() += 1;
        }
    }
}

/// The simulator entry point.
pub struct Sim;

impl Sim {
    /// Starts a simulator on its own thread and runtime, so it works from sync and async
    /// code alike. Returns once it is listening.
    pub fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        let (mut world, loaded) = build_world(&config)?;
        world.contradiction = config.contradict;
        let state_file = match &config.state_file {
            Some(p) => Some(Mutex::new(StateFile::open(p).map_err(|e| SimError::State(e.to_string()))?)),
            None => None,
        };
        let shared = Arc::new(Shared { world: Mutex::new(world), state_file });
        if !loaded {
            let w = shared.lock();
            shared.persist(&w, true);
        }
        let listener = std::net::TcpListener::bind(config.listen)
            .map_err(|source| SimError::Bind { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(SimError::Runtime)?;
        listener.set_nonblocking(true).map_err(SimError::Runtime)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sitemanager-sim")
            .enable_all()
            .build()
            .map_err(SimError::Runtime)?;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let app = app(shared.clone());
        let serve_shared = shared.clone();
        let control = ControlAccess { allow_remote: config.allow_remote_control };
        let thread = std::thread::Builder::new()
            .name("sitemanager-sim".into())
            .spawn(move || {
                runtime.block_on(async move {
                    if serve_shared.state_file.is_some() {
                        let flush = serve_shared.clone();
                        tokio::spawn(async move {
                            let mut every = tokio::time::interval(crate::persist::SLOW_SAVE_INTERVAL);
                            loop {
                                every.tick().await;
                                let w = flush.lock();
                                flush.persist(&w, true);
                            }
                        });
                    }
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => serve(l, serve_shared, app, control, stop_rx).await,
                        Err(e) => tracing::error!("listener: {e}"),
                    }
                });
                runtime.shutdown_background();
            })
            .map_err(SimError::Runtime)?;
        Ok(SimHandle { addr, shared, stop: stop_tx, thread: Some(thread) })
    }
}

fn build_world(config: &SimConfig) -> Result<(World, bool), SimError> {
    if let Some(path) = &config.state_file {
        if path.exists() {
            let file = StateFile::open(path).map_err(|e| SimError::State(e.to_string()))?;
            if let Some(snap) = file.load().map_err(SimError::State)? {
                let salt = snap.data.next_seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ snap.data.jobs.len() as u64;
                let w = World::new(snap.data, snap.clock, snap.settings, config.faults.clone(), config.id_seed ^ salt);
                return Ok((w, true));
            }
        }
    }
    let (data, clock) = match &config.seed {
        SeedSource::Empty => (Data::default(), SimClock::real()),
        SeedSource::Demo => {
            let start = config.clock.map(|c| c.now()).unwrap_or_else(Utc::now);
            let seed = Seed::demo(start);
            let clock = seed.clock();
            (seed.into_data(config.id_seed).map_err(SimError::Seed)?, clock)
        }
        SeedSource::Custom(seed) => {
            let clock = seed.clock();
            (seed.as_ref().clone().into_data(config.id_seed).map_err(SimError::Seed)?, clock)
        }
    };
    let clock = config.clock.unwrap_or(clock);
    Ok((World::new(data, clock, config.settings, config.faults.clone(), config.id_seed), false))
}

/// The whole router: `/v2` and `/__sim`.
fn app(shared: AppState) -> Router {
    Router::new()
        .nest("/v2", api::router().route_layer(middleware::from_fn_with_state(shared.clone(), count_route)))
        .nest("/__sim", control::router())
        .fallback(|req: Request| async move {
            ApiError::not_found(format!("no such endpoint: {} {}", req.method(), req.uri().path()))
        })
        .with_state(shared)
}

async fn count_route(State(s): State<AppState>, req: Request, next: Next) -> axum::response::Response {
    let key = format!(
        "{} {}",
        req.method(),
        req.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()).unwrap_or_default()
    );
    {
        let mut w = s.lock();
        *w.stats.by_route.entry(key).or_default() += 1;
    }
    next.run(req).await
}

/// Who may use the `/__sim` control routes: this machine always, others only when allowed.
#[derive(Debug, Clone, Copy)]
struct ControlAccess {
    allow_remote: bool,
}

impl ControlAccess {
    /// Whether a control request from `peer` is answered (an IPv4 loopback address seen
    /// through an IPv6 socket, `::ffff:127.0.0.1`, is this machine too).
    fn allows(self, peer: std::net::IpAddr) -> bool {
        self.allow_remote || peer.to_canonical().is_loopback()
    }
}

fn is_control(path: &str) -> bool {
    path == "/__sim" || path.starts_with("/__sim/")
}

async fn serve(
    listener: tokio::net::TcpListener,
    shared: AppState,
    app: Router,
    control: ControlAccess,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let (shared, app, mut stop) = (shared.clone(), app.clone(), stop.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        answer(shared.clone(), app.clone(), control, peer.ip(), req.map(Body::new))
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(std::time::Duration::from_secs(30))
                        .serve_connection(TokioIo::new(stream), svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = stop.changed() => {}
                    }
                });
            }
            _ = stop.changed() => break,
        }
    }
}

/// One request from `peer`: a control request from another machine is refused (unless
/// allowed), anything else goes through the fault layer.
async fn answer(
    shared: AppState,
    app: Router,
    control: ControlAccess,
    peer: std::net::IpAddr,
    req: Request,
) -> Result<Response<Body>, std::io::Error> {
    if is_control(req.uri().path()) && !control.allows(peer) {
        return Ok(control_refused(peer));
    }
    handle(shared, app, req).await
}

/// The answer to a `/__sim` request from another machine: 403 with a body that says why and
/// how to allow it.
fn control_refused(peer: std::net::IpAddr) -> Response<Body> {
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "the /__sim control routes answer only requests from this machine (this one came from {peer}); \
             start sitemanager-sim with --allow-remote-control to allow other machines"
        ),
    )
    .into_response()
}

/// The fault layer: decides a fault for `/v2` requests, then runs the router.
async fn handle(shared: AppState, app: Router, req: Request) -> Result<Response<Body>, std::io::Error> {
    let path = req.uri().path().to_string();
    if !(path == "/v2" || path.starts_with("/v2/")) {
        return Ok(json_errors(app.oneshot(req).await.unwrap_or_else(|e| match e {})));
    }
    let (decision, contradiction) = {
        let mut w = shared.lock();
        (w.faults.decide(req.method().as_str(), &path), w.contradiction)
    };
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    if decision.fault == Some(FaultKind::Hang) {
        // Held before the router runs: a client that gave up meanwhile changed nothing.
        let hang = shared.lock().faults.hang();
        tokio::time::sleep(hang).await;
    }
    let early = match decision.fault {
        Some(FaultKind::Drop) => {
            shared.count(crate::assumptions::DROPPED_STATUS_IN_STATS, decision.fault);
            return Err(std::io::Error::other("injected fault: connection dropped"));
        }
        Some(FaultKind::Fail500) => {
            Some(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error (injected fault)"))
        }
        Some(FaultKind::Fail503) => Some(ApiError {
            retry_after: Some(shared.lock().faults.retry_after()),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Service unavailable (injected fault)")
        }),
        Some(FaultKind::Throttle) => Some(ApiError::too_many(shared.lock().faults.retry_after())),
        _ => None,
    };
    if let Some(err) = early {
        shared.count(err.status.as_u16(), decision.fault);
        return Ok(crate::contradict::apply(contradiction, &path, err.into_response()).await);
    }
    let resp = json_errors(app.oneshot(req).await.unwrap_or_else(|e| match e {}));
    let resp = crate::contradict::apply(contradiction, &path, resp).await;
    shared.count(resp.status().as_u16(), decision.fault);
    match decision.fault {
        Some(FaultKind::DropAfter) => Err(std::io::Error::other("injected fault: connection dropped after applying")),
        Some(FaultKind::FailAfter) => Ok(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal server error (injected fault, after applying the request)",
        )
        .into_response()),
        Some(FaultKind::Truncate) => Ok(truncate(resp).await),
        _ => Ok(resp),
    }
}

/// Cuts the body half way, keeping the full `Content-Length`, then fails the stream.
async fn truncate(resp: Response<Body>) -> Response<Body> {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    if let Ok(v) = HeaderValue::from_str(&bytes.len().to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, v);
    }
    // The first half is written and flushed before the stream fails, so the client gets the
    // status line, headers and part of the body, then a broken connection.
    let first = futures_util::stream::once(async move { Ok::<bytes::Bytes, std::io::Error>(half) });
    let fail = futures_util::stream::once(async {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Err::<bytes::Bytes, std::io::Error>(std::io::Error::other("injected fault: truncated body"))
    });
    Response::from_parts(parts, Body::from_stream(futures_util::StreamExt::chain(first, fail)))
}

/// Any error answer that is not JSON (an axum rejection, 405) becomes `{"Error": ...}`.
fn json_errors(resp: Response<Body>) -> Response<Body> {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this endpoint".to_string(),
        other => other.canonical_reason().unwrap_or("error").to_string(),
    };
    ApiError::new(status, message).into_response()
}

/// A running simulator. Dropping it stops the simulator (and flushes `--state`).
pub struct SimHandle {
    addr: SocketAddr,
    shared: AppState,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle").field("addr", &self.addr).finish()
    }
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://127.0.0.1:PORT/v2` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}/v2", self.addr)
    }
    /// `http://127.0.0.1:PORT/__sim`.
    pub fn control_url(&self) -> String {
        format!("http://{}/__sim", self.addr)
    }

    /// Runs `f` on the world (time-driven state brought up to date first, indexes rebuilt
    /// and state persisted after, so `f` may change `data` freely).
    pub fn world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        self.shared.with(|w| {
            let out = f(w);
            w.reindex();
            w.touch();
            out
        })
    }

    /// Like [`SimHandle::world`] for reads and for changes made through `World` methods
    /// (no reindex).
    fn inner<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        self.shared.with(f)
    }

    /// The simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner(|w| w.now())
    }
    /// Moves the simulated clock forward (then runs jobs and the automatic purge); a move
    /// outside the years 1970..=9999 is ignored.
    pub fn advance(&self, by: chrono::Duration) -> DateTime<Utc> {
        self.inner(|w| {
            w.clock.advance(by);
            w.touch();
            w.tick();
            w.now()
        })
    }
    /// Completes a resident's onboarding.
    pub fn onboard(&self, resident_id: &str) -> Result<ResidentObject, ApiError> {
        self.inner(|w| w.onboard(resident_id).map(|r| w.resident_wire(&r)))
    }
    pub fn set_faults(&self, faults: FaultConfig) -> Result<(), ApiError> {
        faults.validate()?;
        self.inner(|w| w.faults.set(faults));
        Ok(())
    }
    pub fn faults(&self) -> FaultConfig {
        self.inner(|w| w.faults.config().clone())
    }
    pub fn add_account(&self, account: Account) -> Result<(), ApiError> {
        self.inner(|w| w.upsert_account(account))
    }
    pub fn accounts(&self) -> Vec<Account> {
        self.inner(|w| w.data.accounts.clone())
    }
    /// A copy of the stored data.
    pub fn data(&self) -> Data {
        self.inner(|w| w.data.clone())
    }
    /// The `/__sim/state` document.
    pub fn state_json(&self) -> serde_json::Value {
        self.inner(|w| control::state_document(w))
    }
    pub fn stats(&self) -> Stats {
        self.inner(|w| w.stats.clone())
    }
    pub fn reset_stats(&self) {
        self.inner(|w| w.stats = Stats::default());
    }
    pub fn set_settings(&self, settings: Settings) {
        self.inner(|w| {
            w.settings = settings;
            w.touch();
        });
    }
    /// Makes the answers contradict one assumption of the contract, or (`None`) follow it again.
    pub fn set_contradiction(&self, c: Option<crate::contradict::Contradiction>) {
        self.inner(|w| w.contradiction = c);
    }
    /// Expires every issued token (the next call with one gets 401).
    pub fn expire_tokens(&self) {
        self.inner(|w| {
            w.data.tokens.clear();
            w.touch();
        });
    }

    /// Stops the server and flushes the state file.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let w = self.shared.lock();
        self.shared.persist(&w, true);
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One request as the server answers it when it comes from `peer` (the accept loop only
    /// adds the TCP connection), with its status and body.
    fn ask(sim: &SimHandle, control: ControlAccess, peer: &str, method: &str, path: &str) -> (StatusCode, String) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let req = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
            let shared = sim.shared.clone();
            let resp = answer(shared.clone(), app(shared), control, peer.parse().unwrap(), req).await.unwrap();
            let status = resp.status();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
            (status, String::from_utf8_lossy(&body).into_owned())
        })
    }

    #[test]
    fn control_routes_answer_only_this_machine_unless_allowed() {
        let sim = Sim::start(SimConfig::demo()).unwrap();
        let local = ControlAccess { allow_remote: false };
        for peer in ["127.0.0.1", "127.4.5.6", "::1", "::ffff:127.0.0.1"] {
            let (status, body) = ask(&sim, local, peer, "GET", "/__sim/health");
            assert_eq!(status, StatusCode::OK, "{peer}: {body}");
        }
        for peer in ["10.0.0.5", "192.168.1.20", "fe80::1", "::ffff:10.0.0.5"] {
            for (method, path) in [("GET", "/__sim/state"), ("POST", "/__sim/tokens/expire"), ("GET", "/__sim")] {
                let (status, body) = ask(&sim, local, peer, method, path);
                assert_eq!(status, StatusCode::FORBIDDEN, "{peer} {method} {path}: {body}");
                assert!(
                    body.contains("only requests from this machine")
                        && body.contains(peer)
                        && body.contains("--allow-remote-control"),
                    "{body}"
                );
            }
        }
        // The API itself is for everyone (the service account's credentials guard it).
        let (status, body) = ask(&sim, local, "10.0.0.5", "GET", "/v2/team");
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        // With --allow-remote-control, other machines may drive it too.
        let (status, body) = ask(&sim, ControlAccess { allow_remote: true }, "10.0.0.5", "GET", "/__sim/health");
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    #[test]
    fn remote_control_is_off_unless_configured() {
        assert!(!SimConfig::default().allow_remote_control);
        assert!(SimConfig::demo().allow_remote_control(true).allow_remote_control);
    }
}
