//! Injected faults: latency, random 500/503, 429 with `Retry-After` (random or from a
//! requests-per-second limit), dropped connections (before or after the request was
//! applied), 500 after applying, truncated bodies, answers held back past a client's
//! timeout (`hang`) and stalled jobs.
//!
//! Every random choice comes from one RNG seeded with [`FaultConfig::seed`], so a failing
//! run can be replayed with the same seed and the same request sequence. A `script` of
//! faults applies to the next matching requests in order, for fully deterministic tests.
//! Faults only ever touch `/v2`, never `/__sim`.

use crate::assumptions::DEFAULT_RETRY_AFTER_SECS;
use crate::error::ApiError;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How long a `hang` holds an answer back unless configured: longer than any client waits.
pub const DEFAULT_HANG_MS: u64 = 600_000;

/// One kind of injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// HTTP 500 `{"Error": ...}`, request not applied.
    Fail500,
    /// HTTP 503 `{"Error": ...}`, request not applied.
    Fail503,
    /// HTTP 429 with `Retry-After`, request not applied.
    Throttle,
    /// Connection closed without an answer, request not applied.
    Drop,
    /// Request applied, then the connection closed without an answer.
    DropAfter,
    /// Request applied, then answered 500 anyway (a gateway that gave up after the commit).
    FailAfter,
    /// Request applied, then the answer's body cut off half way.
    Truncate,
    /// The answer held back for [`FaultConfig::hang_ms`] before it is sent (the request is
    /// applied only then): a remote that stops answering, for a client's timeout to catch.
    Hang,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Fail500 => "fail_500",
            FaultKind::Fail503 => "fail_503",
            FaultKind::Throttle => "throttle",
            FaultKind::Drop => "drop",
            FaultKind::DropAfter => "drop_after",
            FaultKind::FailAfter => "fail_after",
            FaultKind::Truncate => "truncate",
            FaultKind::Hang => "hang",
        }
    }
}

/// A fault for the next request whose `"METHOD /path"` contains `matches` (any when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedFault {
    pub kind: FaultKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matches: Option<String>,
}

/// The fault settings, as `GET/PUT /__sim/faults` shows and takes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Added to every `/v2` request.
    pub latency_ms: u64,
    /// Up to this much more latency, drawn per request.
    pub latency_jitter_ms: u64,
    /// Probability of a 500 or 503 (half each).
    pub fail_rate: f64,
    /// Probability of a 429.
    pub throttle_rate: f64,
    /// Token-bucket limit in requests per second (burst = one second's worth); 429 beyond.
    pub rate_limit_per_sec: Option<f64>,
    /// `Retry-After` seconds on 429.
    pub retry_after_secs: u64,
    /// Probability the connection is dropped before the request is applied.
    pub drop_rate: f64,
    /// Probability the request is applied and then the connection dropped.
    pub drop_after_rate: f64,
    /// Probability the request is applied and then answered 500.
    pub fail_after_rate: f64,
    /// Probability the request is applied and the body truncated.
    pub truncate_rate: f64,
    /// How long a `hang` fault holds an answer back, in ms (default: ten minutes, past any
    /// client's timeout).
    pub hang_ms: u64,
    /// While true, import and bulk jobs make no progress.
    pub stall_jobs: bool,
    /// Seed of the fault RNG (setting the config re-seeds it).
    pub seed: u64,
    /// Faults for the next matching requests, in order; consumed as they fire.
    pub script: Vec<ScriptedFault>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            latency_ms: 0,
            latency_jitter_ms: 0,
            fail_rate: 0.0,
            throttle_rate: 0.0,
            rate_limit_per_sec: None,
            retry_after_secs: DEFAULT_RETRY_AFTER_SECS,
            drop_rate: 0.0,
            drop_after_rate: 0.0,
            fail_after_rate: 0.0,
            truncate_rate: 0.0,
            hang_ms: DEFAULT_HANG_MS,
            stall_jobs: false,
            seed: 0,
            script: Vec::new(),
        }
    }
}

impl FaultConfig {
    /// Checks rates are probabilities and the limit positive.
    pub fn validate(&self) -> Result<(), ApiError> {
        for (name, p) in [
            ("fail_rate", self.fail_rate),
            ("throttle_rate", self.throttle_rate),
            ("drop_rate", self.drop_rate),
            ("drop_after_rate", self.drop_after_rate),
            ("fail_after_rate", self.fail_after_rate),
            ("truncate_rate", self.truncate_rate),
        ] {
            if !(0.0..=1.0).contains(&p) || p.is_nan() {
                return Err(ApiError::bad_request(format!("{name} must be between 0 and 1, not {p}")));
            }
        }
        if let Some(r) = self.rate_limit_per_sec {
            if r.is_nan() || r <= 0.0 {
                return Err(ApiError::bad_request(format!("rate_limit_per_sec must be positive, not {r}")));
            }
        }
        Ok(())
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub latency: Duration,
    pub fault: Option<FaultKind>,
}

/// The live fault state: config, RNG and rate-limit bucket.
#[derive(Debug)]
pub struct FaultState {
    config: FaultConfig,
    rng: StdRng,
    bucket: f64,
    last_refill: Instant,
}

impl FaultState {
    pub fn new(config: FaultConfig) -> Self {
        let rng = StdRng::seed_from_u64(config.seed);
        let bucket = config.rate_limit_per_sec.unwrap_or(0.0).max(1.0);
        FaultState { config, rng, bucket, last_refill: Instant::now() }
    }

    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Replaces the config and re-seeds the RNG.
    pub fn set(&mut self, config: FaultConfig) {
        *self = FaultState::new(config);
    }

    pub fn stall_jobs(&self) -> bool {
        self.config.stall_jobs
    }

    /// Decides the fate of `method path`.
    pub fn decide(&mut self, method: &str, path: &str) -> Decision {
        let c = &self.config;
        let mut latency = c.latency_ms;
        if c.latency_jitter_ms > 0 {
            latency += self.rng.random_range(0..=c.latency_jitter_ms);
        }
        let latency = Duration::from_millis(latency);
        let route = format!("{method} {path}");
        if let Some(pos) =
            self.config.script.iter().position(|s| s.matches.as_deref().is_none_or(|m| route.contains(m)))
        {
            let f = self.config.script.remove(pos);
            return Decision { latency, fault: Some(f.kind) };
        }
        if let Some(limit) = self.config.rate_limit_per_sec {
            let now = Instant::now();
            let elapsed = now.duration_since(self.last_refill).as_secs_f64();
            self.last_refill = now;
            self.bucket = (self.bucket + elapsed * limit).min(limit.max(1.0));
            if self.bucket < 1.0 {
                return Decision { latency, fault: Some(FaultKind::Throttle) };
            }
            self.bucket -= 1.0;
        }
        let c = self.config.clone();
        let mut roll = |p: f64| p > 0.0 && self.rng.random_bool(p.min(1.0));
        let fault = if roll(c.drop_rate) {
            Some(FaultKind::Drop)
        } else if roll(c.fail_rate) {
            Some(if self.rng.random_bool(0.5) { FaultKind::Fail500 } else { FaultKind::Fail503 })
        } else if roll(c.throttle_rate) {
            Some(FaultKind::Throttle)
        } else if roll(c.drop_after_rate) {
            Some(FaultKind::DropAfter)
        } else if roll(c.fail_after_rate) {
            Some(FaultKind::FailAfter)
        } else if roll(c.truncate_rate) {
            Some(FaultKind::Truncate)
        } else {
            None
        };
        Decision { latency, fault }
    }

    pub fn retry_after(&self) -> u64 {
        self.config.retry_after_secs
    }

    /// How long a `hang` fault holds its answer back.
    pub fn hang(&self) -> Duration {
        Duration::from_millis(self.config.hang_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_faults() {
        let cfg = FaultConfig { fail_rate: 0.3, drop_rate: 0.1, seed: 42, ..FaultConfig::default() };
        let run = || {
            let mut s = FaultState::new(cfg.clone());
            (0..200).map(|_| s.decide("GET", "/v2/team").fault).collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a.iter().any(Option::is_some) && a.iter().any(Option::is_none));
    }

    #[test]
    fn script_fires_in_order_on_matching_requests() {
        let cfg = FaultConfig {
            script: vec![
                ScriptedFault { kind: FaultKind::Fail503, matches: Some("POST".into()) },
                ScriptedFault { kind: FaultKind::Drop, matches: None },
            ],
            ..FaultConfig::default()
        };
        let mut s = FaultState::new(cfg);
        assert_eq!(s.decide("GET", "/v2/team").fault, Some(FaultKind::Drop));
        assert_eq!(s.decide("GET", "/v2/team").fault, None);
        assert_eq!(s.decide("POST", "/v2/x").fault, Some(FaultKind::Fail503));
        assert_eq!(s.decide("POST", "/v2/x").fault, None);
    }

    #[test]
    fn a_scripted_hang_holds_the_answer_for_the_configured_time() {
        let cfg = FaultConfig {
            hang_ms: 1500,
            script: vec![ScriptedFault { kind: FaultKind::Hang, matches: Some("/resident".into()) }],
            ..FaultConfig::default()
        };
        let mut s = FaultState::new(cfg);
        assert_eq!(s.decide("GET", "/v2/team").fault, None);
        assert_eq!(s.decide("GET", "/v2/team/T/site/S/resident").fault, Some(FaultKind::Hang));
        assert_eq!(s.hang(), Duration::from_millis(1500));
        assert_eq!(FaultState::new(FaultConfig::default()).hang(), Duration::from_millis(DEFAULT_HANG_MS));
        let json = serde_json::to_value(ScriptedFault { kind: FaultKind::Hang, matches: None }).unwrap();
        assert_eq!(json["kind"], "hang");
    }

    #[test]
    fn rate_limit_throttles_bursts() {
        let mut s = FaultState::new(FaultConfig { rate_limit_per_sec: Some(5.0), ..FaultConfig::default() });
        let throttled = (0..20).filter(|_| s.decide("GET", "/v2/team").fault == Some(FaultKind::Throttle)).count();
        assert!(throttled >= 10, "{throttled}");
    }
}
