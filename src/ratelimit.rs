//! Client-side rate limits (requests and tokens per minute), so a large suite stays under
//! the bot's or the judge's own limiter instead of tripping it and retrying.

use std::sync::Mutex;
use std::time::Duration;

// tokio's clock, so tests can run it paused.
use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimiter {
    interval: Option<Duration>,
    tokens_per_minute: Option<f64>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    next_slot: Instant,
    tokens: f64,
    refilled_at: Instant,
}

impl RateLimiter {
    /// `None` when neither limit is set.
    pub fn new(
        requests_per_minute: Option<u32>,
        tokens_per_minute: Option<u64>,
    ) -> Option<RateLimiter> {
        Self::share_of(requests_per_minute, tokens_per_minute, 1)
    }

    /// One of `parts` equal shares of the limits (a shard of `parts` takes one), so that
    /// all of them together keep to the whole. Exact: 5 requests a minute over 8 shards is
    /// one request every 96 s per shard, not a rounded-down 0 that would mean no limit.
    pub fn share_of(
        requests_per_minute: Option<u32>,
        tokens_per_minute: Option<u64>,
        parts: u32,
    ) -> Option<RateLimiter> {
        let parts = f64::from(parts.max(1));
        let interval = requests_per_minute
            .filter(|r| *r > 0)
            .map(|r| Duration::from_secs_f64(60.0 * parts / f64::from(r)));
        let tpm = tokens_per_minute
            .filter(|t| *t > 0)
            .map(|t| t as f64 / parts);
        if interval.is_none() && tpm.is_none() {
            return None;
        }
        let now = Instant::now();
        Some(RateLimiter {
            interval,
            tokens_per_minute: tpm,
            state: Mutex::new(State {
                next_slot: now,
                tokens: tpm.unwrap_or(0.0),
                refilled_at: now,
            }),
        })
    }

    /// Waits until a request may be sent: its slot in the request rate has come, and the
    /// token budget is not overdrawn.
    pub async fn acquire(&self) {
        loop {
            // Decide under the lock, sleep outside it.
            let (wait, then_go) = {
                let Ok(mut s) = self.state.lock() else { return };
                let now = Instant::now();
                if let Some(tpm) = self.tokens_per_minute {
                    let elapsed = now.duration_since(s.refilled_at).as_secs_f64();
                    s.tokens = (s.tokens + elapsed * tpm / 60.0).min(tpm);
                    s.refilled_at = now;
                }
                match self.tokens_per_minute {
                    Some(tpm) if s.tokens <= 0.0 => (
                        Duration::from_secs_f64((-s.tokens + 1.0) * 60.0 / tpm),
                        false,
                    ),
                    _ => {
                        // Reserve the next slot; the request goes once it has come.
                        let slot = s.next_slot.max(now);
                        if let Some(interval) = self.interval {
                            s.next_slot = slot + interval;
                        }
                        (slot.duration_since(now), true)
                    }
                }
            };
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            if then_go {
                return;
            }
        }
    }

    /// Records the tokens a finished request used.
    pub fn consumed(&self, tokens: u64) {
        if self.tokens_per_minute.is_some()
            && let Ok(mut s) = self.state.lock()
        {
            s.tokens -= tokens as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_limits_means_no_limiter() {
        assert!(RateLimiter::new(None, None).is_none());
        assert!(RateLimiter::new(Some(0), Some(0)).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_evenly() {
        let limiter = RateLimiter::new(Some(60), None).unwrap();
        let start = tokio::time::Instant::now();
        for _ in 0..4 {
            limiter.acquire().await;
        }
        // Slots at 0, 1, 2 and 3 seconds.
        assert_eq!(start.elapsed().as_secs(), 3);
    }

    /// A shard of 4 takes a quarter of each limit: 60 requests a minute become one every
    /// 4 s, and a budget of 600 tokens a minute one of 150.
    #[tokio::test(start_paused = true)]
    async fn a_share_divides_both_limits() {
        let limiter = RateLimiter::share_of(Some(60), None, 4).unwrap();
        let start = tokio::time::Instant::now();
        for _ in 0..4 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed().as_secs(), 12);
        let limiter = RateLimiter::share_of(None, Some(600), 4).unwrap();
        let start = tokio::time::Instant::now();
        for _ in 0..4 {
            limiter.acquire().await;
            limiter.consumed(150);
        }
        // The first spends the 150-token budget at once; the second waits 0.4 s for one
        // token, each later one 60 s for 150.
        let took = start.elapsed().as_secs_f64();
        assert!((120.0..=121.0).contains(&took), "{took} s");
        // A limit smaller than the number of shards is still a limit.
        let limiter = RateLimiter::share_of(Some(5), None, 8).unwrap();
        assert_eq!(limiter.interval, Some(Duration::from_secs(96)));
    }

    /// Under sustained load the budget refills per minute: 600 tokens a minute let
    /// 100-token requests through at one every 10 seconds, not one a second.
    #[tokio::test(start_paused = true)]
    async fn sustained_load_keeps_to_the_tokens_per_minute() {
        let limiter = RateLimiter::new(None, Some(600)).unwrap();
        let start = tokio::time::Instant::now();
        for _ in 0..30 {
            limiter.acquire().await;
            limiter.consumed(100);
        }
        // The first six spend the budget at once; each of the other 24 waits for 100
        // tokens to refill: 10 seconds apiece, 0.1 s for the first.
        let took = start.elapsed().as_secs_f64();
        assert!((229.0..=232.0).contains(&took), "{took} s");
    }

    #[tokio::test(start_paused = true)]
    async fn waits_when_the_token_budget_is_spent() {
        let limiter = RateLimiter::new(None, Some(600)).unwrap();
        limiter.acquire().await;
        limiter.consumed(900);
        let start = tokio::time::Instant::now();
        limiter.acquire().await;
        // 300 tokens overdrawn at 10 tokens a second: about 30 seconds.
        let waited = start.elapsed().as_secs_f64();
        assert!((29.0..=32.0).contains(&waited), "{waited}");
    }
}
