//! Rate limits: the `ratelimit-*` headers of every response as a typed value, and pacing.
//! DigitalOcean allows 5,000 requests per hour and 250 per minute per token; when
//! `ratelimit-remaining` reaches 0 it answers 429 until `ratelimit-reset`. The client keeps
//! the latest limit it saw (shared by every clone and task) and spaces requests so the
//! remaining budget lasts until the reset, instead of running into 429s.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// The rate limit a response reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// `ratelimit-limit`: requests allowed in the window.
    pub limit: u64,
    /// `ratelimit-remaining`: requests left before the limit is hit.
    pub remaining: u64,
    /// `ratelimit-reset`: when the oldest counted request expires.
    pub reset: SystemTime,
}

impl RateLimit {
    /// Reads the three `ratelimit-*` headers; `None` unless all three are present and
    /// numeric.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let number =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        Some(Self {
            limit: number("ratelimit-limit")?,
            remaining: number("ratelimit-remaining")?,
            reset: UNIX_EPOCH + Duration::from_secs(number("ratelimit-reset")?),
        })
    }

    /// Time until the reset (zero if it has passed).
    pub fn resets_in(&self) -> Duration {
        self.reset
            .duration_since(SystemTime::now())
            .unwrap_or_default()
    }

    /// Whether no request is left before the reset.
    pub fn is_exhausted(&self) -> bool {
        self.remaining == 0
    }
}

/// What to do when the budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenExhausted {
    /// Wait for the reset (up to [`RateLimitPolicy::with_max_wait`]), then send.
    Wait,
    /// Fail at once with an error of kind [`ErrorKind::RateLimitExhausted`](crate::ErrorKind);
    /// nothing is sent.
    FailFast,
    /// Send anyway and let the server answer (a 429, which the retry policy may retry).
    Send,
}

/// How the client paces requests using the rate limit it has seen.
///
/// Defaults: pace when fewer than 250 requests remain (one minute of burst), wait for the
/// reset when none remain, but never longer than 60 seconds (then fail fast).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitPolicy {
    pace_below: u64,
    when_exhausted: WhenExhausted,
    max_wait: Duration,
}

impl Default for RateLimitPolicy {
    fn default() -> Self {
        Self {
            pace_below: 250,
            when_exhausted: WhenExhausted::Wait,
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RateLimitPolicy {
    /// Never pace and never wait: send immediately and let the server answer 429.
    pub fn disabled() -> Self {
        Self {
            pace_below: 0,
            when_exhausted: WhenExhausted::Send,
            max_wait: Duration::ZERO,
        }
    }

    /// Spread requests evenly until the reset once fewer than `remaining` are left (0: never).
    pub fn with_pacing_below(mut self, remaining: u64) -> Self {
        self.pace_below = remaining;
        self
    }

    /// What to do when no request is left.
    pub fn with_when_exhausted(mut self, when: WhenExhausted) -> Self {
        self.when_exhausted = when;
        self
    }

    /// The longest the client waits before one request; a longer wait fails fast instead.
    pub fn with_max_wait(mut self, max_wait: Duration) -> Self {
        self.max_wait = max_wait;
        self
    }

    /// The remaining count below which requests are paced.
    pub fn pacing_below(&self) -> u64 {
        self.pace_below
    }

    /// What happens when no request is left.
    pub fn when_exhausted(&self) -> WhenExhausted {
        self.when_exhausted
    }

    /// The longest single wait.
    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }
}

/// The decision before one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pace {
    /// Send now.
    Go,
    /// Sleep this long, then send (the slot is reserved).
    Wait(Duration),
    /// The budget is spent until the reset, which is this far away.
    Exhausted(Duration),
}

#[derive(Debug, Default)]
struct TrackerState {
    /// The latest limit a response reported.
    latest: Option<RateLimit>,
    /// Our estimate: the latest limit minus the requests sent since.
    estimate: Option<RateLimit>,
    /// When the next paced request may go.
    next_slot: Option<Instant>,
}

/// The rate-limit state shared by every clone of a client.
#[derive(Debug, Default)]
pub(crate) struct RateLimitTracker {
    state: Mutex<TrackerState>,
}

impl RateLimitTracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, TrackerState> {
        // A panic while holding this lock cannot leave the state inconsistent (plain
        // values), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records the limit a response reported.
    pub(crate) fn observe(&self, limit: RateLimit) {
        let mut state = self.lock();
        state.latest = Some(limit);
        state.estimate = Some(limit);
    }

    /// The latest limit seen.
    pub(crate) fn latest(&self) -> Option<RateLimit> {
        self.lock().latest
    }

    /// Decides whether the next request may go now, reserving its slot.
    pub(crate) fn before_send(&self, policy: &RateLimitPolicy) -> Pace {
        let mut state = self.lock();
        let Some(mut estimate) = state.estimate else {
            return Pace::Go;
        };
        let until_reset = estimate.resets_in();
        if until_reset.is_zero() {
            // The window has moved on; the next response will tell the new budget.
            state.estimate = None;
            state.next_slot = None;
            return Pace::Go;
        }
        if estimate.remaining == 0 {
            return Pace::Exhausted(until_reset);
        }
        let pace = estimate.remaining < policy.pace_below;
        estimate.remaining -= 1;
        state.estimate = Some(estimate);
        if !pace {
            return Pace::Go;
        }
        // Spread what remains (this request included) evenly over the time to the reset.
        let spacing = until_reset / u32::try_from(estimate.remaining + 1).unwrap_or(u32::MAX);
        let now = Instant::now();
        let slot = state.next_slot.map_or(now, |next| next.max(now));
        state.next_slot = Some(slot + spacing);
        match slot.saturating_duration_since(now) {
            wait if wait.is_zero() => Pace::Go,
            wait => Pace::Wait(wait),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(limit: &str, remaining: &str, reset: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("ratelimit-limit", HeaderValue::from_str(limit).unwrap());
        h.insert(
            "ratelimit-remaining",
            HeaderValue::from_str(remaining).unwrap(),
        );
        h.insert("ratelimit-reset", HeaderValue::from_str(reset).unwrap());
        h
    }

    fn in_seconds(seconds: u64) -> String {
        (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + seconds)
            .to_string()
    }

    #[test]
    fn parses_the_three_headers() {
        let limit = RateLimit::from_headers(&headers("5000", "4816", "1444931833")).unwrap();
        assert_eq!(limit.limit, 5000);
        assert_eq!(limit.remaining, 4816);
        assert_eq!(limit.reset, UNIX_EPOCH + Duration::from_secs(1444931833));
    }

    #[test]
    fn a_missing_or_garbled_header_gives_none() {
        assert!(RateLimit::from_headers(&HeaderMap::new()).is_none());
        assert!(RateLimit::from_headers(&headers("5000", "many", "1")).is_none());
    }

    #[test]
    fn plenty_remaining_means_no_pacing() {
        let tracker = RateLimitTracker::default();
        tracker
            .observe(RateLimit::from_headers(&headers("5000", "4000", &in_seconds(60))).unwrap());
        assert_eq!(tracker.before_send(&RateLimitPolicy::default()), Pace::Go);
    }

    #[test]
    fn few_remaining_spreads_requests_until_the_reset() {
        let tracker = RateLimitTracker::default();
        tracker.observe(RateLimit::from_headers(&headers("5000", "4", &in_seconds(40))).unwrap());
        let policy = RateLimitPolicy::default();
        assert_eq!(tracker.before_send(&policy), Pace::Go);
        // 4 left over ~40 s: about 10 s apart.
        let Pace::Wait(wait) = tracker.before_send(&policy) else {
            panic!("the second request is paced");
        };
        assert!(
            wait > Duration::from_secs(8) && wait <= Duration::from_secs(11),
            "{wait:?}"
        );
    }

    #[test]
    fn nothing_remaining_is_exhausted_until_the_reset() {
        let tracker = RateLimitTracker::default();
        tracker.observe(RateLimit::from_headers(&headers("5000", "0", &in_seconds(30))).unwrap());
        let Pace::Exhausted(until) = tracker.before_send(&RateLimitPolicy::default()) else {
            panic!("exhausted");
        };
        assert!(until > Duration::from_secs(28));
    }

    #[test]
    fn a_past_reset_forgets_the_budget() {
        let tracker = RateLimitTracker::default();
        tracker.observe(RateLimit::from_headers(&headers("5000", "0", "1")).unwrap());
        assert_eq!(tracker.before_send(&RateLimitPolicy::default()), Pace::Go);
    }
}
