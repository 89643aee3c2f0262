//! When to try a failed request again, and how long to wait first.

use std::time::Duration;

use crate::provider::ProviderError;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl RetryPolicy {
    pub fn new(retries: u32) -> Self {
        RetryPolicy {
            retries,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
        }
    }

    /// The wait before retry number `retry` (1-based), or `None` when the error is final.
    pub fn delay(&self, retry: u32, error: &ProviderError) -> Option<Duration> {
        if retry > self.retries || !error.is_retryable() {
            return None;
        }
        if let Some(server_says) = error.retry_after() {
            return Some(server_says);
        }
        // Exponential backoff with "equal jitter": at least half the step, so retries of
        // many concurrent cases spread out without collapsing to zero.
        let step = self
            .base
            .saturating_mul(1u32 << (retry - 1).min(16))
            .min(self.cap);
        let half = step / 2;
        Some(half + half.mul_f64(fastrand::f64()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, retry_after: Option<Duration>) -> ProviderError {
        ProviderError::Status {
            status: code,
            retry_after,
            body: String::new(),
        }
    }

    #[test]
    fn honours_retry_after() {
        let p = RetryPolicy::new(3);
        assert_eq!(
            p.delay(1, &status(429, Some(Duration::from_secs(2)))),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn never_retries_other_4xx_or_past_the_budget() {
        let p = RetryPolicy::new(2);
        assert_eq!(p.delay(1, &status(400, None)), None);
        assert_eq!(p.delay(1, &status(401, None)), None);
        assert!(p.delay(2, &status(503, None)).is_some());
        assert_eq!(p.delay(3, &status(503, None)), None);
        assert!(
            p.delay(1, &ProviderError::Transport("reset".into()))
                .is_some()
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::new(20);
        let e = status(500, None);
        for retry in 1..=20 {
            let d = p.delay(retry, &e).unwrap();
            let step = (p.base * 2u32.pow((retry - 1).min(16))).min(p.cap);
            assert!(d >= step / 2 && d <= step, "retry {retry}: {d:?}");
        }
    }
}
