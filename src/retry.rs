//! When to try a failed call again, how long to wait first, and the one loop that does
//! it for the bot, the judge and the simulator alike.

use std::future::Future;
use std::time::Duration;

use crate::transport::ProviderError;

/// A call that failed and will be tried again: what the progress output shows.
#[derive(Debug, Clone, Copy)]
pub struct Retrying<'a> {
    /// 1 for the first retry.
    pub retry: u32,
    pub of: u32,
    pub wait: Duration,
    pub error: &'a ProviderError,
}

/// A call that failed for good, after this many attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct GaveUp {
    pub error: ProviderError,
    pub attempts: u32,
}

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.attempts {
            1 => write!(f, "{} (1 attempt)", self.error),
            n => write!(f, "{} ({n} attempts)", self.error),
        }
    }
}

/// Calls `attempt` until it succeeds, the error is final, or the retries are spent,
/// waiting as the policy says in between and telling `on_retry` each time. Returns the
/// value and how many attempts it took.
pub async fn with_retries<T, F, Fut>(
    policy: RetryPolicy,
    mut attempt: F,
    mut on_retry: impl FnMut(Retrying<'_>),
) -> Result<(T, u32), GaveUp>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt().await {
            Ok(value) => return Ok((value, attempts)),
            Err(error) => match policy.delay(attempts, &error) {
                Some(wait) => {
                    on_retry(Retrying {
                        retry: attempts,
                        of: policy.retries,
                        wait,
                        error: &error,
                    });
                    tokio::time::sleep(wait).await;
                }
                None => return Err(GaveUp { error, attempts }),
            },
        }
    }
}

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

    /// Two failures then an answer: three attempts, two retries announced; a final error
    /// stops at once.
    #[tokio::test(start_paused = true)]
    async fn the_loop_retries_what_may_pass_and_counts_attempts() {
        let mut calls = 0;
        let mut announced = Vec::new();
        let result = with_retries(
            RetryPolicy::new(3),
            || {
                calls += 1;
                let n = calls;
                async move {
                    if n < 3 {
                        Err(status(503, Some(Duration::from_secs(1))))
                    } else {
                        Ok("answer")
                    }
                }
            },
            |r| announced.push((r.retry, r.of, r.wait)),
        )
        .await;
        assert_eq!(result, Ok(("answer", 3)));
        assert_eq!(
            announced,
            [
                (1, 3, Duration::from_secs(1)),
                (2, 3, Duration::from_secs(1))
            ]
        );
        let gave_up = with_retries(
            RetryPolicy::new(3),
            || async { Err::<(), _>(status(400, None)) },
            |_| panic!("a 400 is final"),
        )
        .await
        .unwrap_err();
        assert_eq!(gave_up.attempts, 1);
        assert_eq!(gave_up.to_string(), "HTTP 400 (1 attempt)");
    }

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
