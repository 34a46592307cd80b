//! Retries: capped exponential backoff with jitter for network errors, unreadable answers,
//! 5xx and 429 (never less than `Retry-After`); other 4xx are permanent. A 401 never
//! reaches this layer as a failed attempt: the client renews the token itself.

use super::client::RemoteError;
use rand::Rng;
use std::future::Future;
use std::time::Duration;

/// How calls are retried within a pass, and how the worker spaces failed passes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The delay before the first retry (at most 5 s in production).
    pub first: Duration,
    /// The longest delay (5 min in production).
    pub cap: Duration,
    /// Attempts of one call within a pass before the entry waits for the next pass.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { first: Duration::from_secs(2), cap: Duration::from_secs(300), max_attempts: 5 }
    }
}

impl RetryPolicy {
    /// A fast policy for tests and benchmarks on loopback.
    pub fn fast() -> Self {
        RetryPolicy { first: Duration::from_millis(5), cap: Duration::from_millis(200), max_attempts: 12 }
    }

    /// The delay after `failures` consecutive failures (1 = first retry): exponential,
    /// capped, with jitter in [50 %, 100 %], and never less than `retry_after` (itself capped).
    pub fn delay(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self.first.saturating_mul(1u32 << failures.saturating_sub(1).min(20)).min(self.cap);
        let jittered = exp.mul_f64(rand::rng().random_range(0.5..=1.0));
        match retry_after {
            Some(ra) => jittered.max(ra.min(self.cap)),
            None => jittered,
        }
    }
}

/// Runs `call` until it succeeds, fails permanently, or `max_attempts` are used. When the
/// call is not idempotent, an error that leaves the outcome unknown is returned at once so
/// the caller can look the result up before sending again.
pub async fn retry<T, F, Fut>(policy: &RetryPolicy, idempotent: bool, mut call: F) -> Result<T, RemoteError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RemoteError>>,
{
    let mut failures = 0u32;
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e) if !e.retryable() => return Err(e),
            Err(e) if !idempotent && e.outcome_unknown() => return Err(e),
            Err(e) => {
                failures += 1;
                if failures >= policy.max_attempts {
                    return Err(e);
                }
                let retry_after = match &e {
                    RemoteError::RateLimited { retry_after, .. } => *retry_after,
                    _ => None,
                };
                tokio::time::sleep(policy.delay(failures, retry_after)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_capped_jittered_and_honours_retry_after() {
        let p = RetryPolicy::default();
        for _ in 0..50 {
            let d1 = p.delay(1, None);
            assert!(d1 <= Duration::from_secs(5) && d1 >= Duration::from_secs(1), "{d1:?}");
            assert!(p.delay(30, None) <= Duration::from_secs(300));
            assert!(p.delay(30, None) >= Duration::from_secs(150));
            assert!(p.delay(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
            assert!(p.delay(1, Some(Duration::from_secs(3600))) <= Duration::from_secs(300));
        }
        assert!(p.delay(2, None) <= Duration::from_secs(4));
    }

    #[tokio::test]
    async fn retries_transient_and_stops_on_permanent() {
        let p = RetryPolicy { first: Duration::from_millis(1), cap: Duration::from_millis(2), max_attempts: 5 };
        let mut n = 0;
        let r: Result<u32, _> = retry(&p, true, || {
            n += 1;
            let k = n;
            async move {
                if k < 3 {
                    Err(RemoteError::Server { status: 500, message: "x".into() })
                } else {
                    Ok(k)
                }
            }
        })
        .await;
        assert_eq!(r, Ok(3));
        let mut m = 0;
        let r: Result<u32, _> = retry(&p, true, || {
            m += 1;
            async { Err(RemoteError::Rejected { status: 400, message: "bad".into() }) }
        })
        .await;
        assert!(matches!(r, Err(RemoteError::Rejected { .. })));
        assert_eq!(m, 1);
        let mut k = 0;
        let r: Result<u32, _> = retry(&p, false, || {
            k += 1;
            async { Err(RemoteError::Network("reset".into())) }
        })
        .await;
        assert!(matches!(r, Err(RemoteError::Network(_))));
        assert_eq!(k, 1, "a non-idempotent call with an unknown outcome is not resent blindly");
        let mut j = 0;
        let r: Result<u32, _> = retry(&p, true, || {
            j += 1;
            async { Err(RemoteError::Network("reset".into())) }
        })
        .await;
        assert!(r.is_err());
        assert_eq!(j, 5);
    }
}
