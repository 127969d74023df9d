//! The per-integration rate limit of the alert endpoints: past it, senders
//! get 429 with `Retry-After`, as PagerDuty's Events API answers.
//!
//! The state is in memory on purpose: a limit protects this process, and
//! forgetting it on restart only lets a sender start with a full burst.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

pub struct IngestLimiter {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
}

impl IngestLimiter {
    /// `per_second` sustained requests per integration, with bursts up to
    /// `burst`; `per_second == 0` turns the limit off.
    pub fn new(per_second: u32, burst: u32) -> IngestLimiter {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
            DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        IngestLimiter { limiter }
    }

    pub fn unlimited() -> IngestLimiter {
        IngestLimiter { limiter: None }
    }

    /// `Err(wait)` when the integration must slow down.
    pub fn check(&self, integration_id: &str) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(&integration_id.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Whole seconds for a `Retry-After` header, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_429_per_integration() {
        let limiter = IngestLimiter::new(1, 3);
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        let wait = limiter.check("a").unwrap_err();
        assert!(wait <= Duration::from_secs(1));
        assert_eq!(retry_after_secs(wait).max(1), 1);
        // Another integration has its own budget.
        assert!(limiter.check("b").is_ok());
        assert!(IngestLimiter::new(0, 0).check("a").is_ok());
    }
}
