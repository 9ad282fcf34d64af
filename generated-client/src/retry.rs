//! Retries as a value ([`RetryPolicy`]) and the rules the `exec` hook applies: which
//! failures are worth another attempt, whether the method allows one, and how long to
//! wait (what the server asks for first, else exponential backoff with full jitter).

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::RateLimit;

/// When and how often a failed request is tried again.
///
/// Defaults: at most 4 attempts, backoff from 500 ms doubling up to 30 s with full jitter,
/// no retry started after 2 minutes, and a POST is retried only when it provably never
/// reached the server.
///
/// ```
/// use std::time::Duration;
/// let patient = digitalocean::RetryPolicy::default()
///     .with_max_attempts(6)
///     .with_max_elapsed(Duration::from_secs(600));
/// let off = digitalocean::RetryPolicy::disabled();
/// assert_eq!(off.max_attempts(), 1);
/// # let _ = patient;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
    retry_posts_after_send: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(120),
            retry_posts_after_send: false,
        }
    }
}

impl RetryPolicy {
    /// One attempt, never a retry.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts including the first (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff ceiling of the first retry; it doubles with each retry.
    pub fn with_initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The largest backoff between two attempts.
    pub fn with_max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The time budget: no retry is started if it would begin later than this after the
    /// first attempt.
    pub fn with_max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// Also retry POSTs that reached the server (a 500, a timeout after sending, a 429).
    /// Only for calls you know to be safe to repeat: a POST may be performed twice.
    pub fn retry_posts_after_send(mut self, yes: bool) -> Self {
        self.retry_posts_after_send = yes;
        self
    }

    /// Total attempts including the first.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff ceiling of the first retry.
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The largest backoff.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// The time budget.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// Whether POSTs are retried after they reached the server.
    pub fn retries_posts_after_send(&self) -> bool {
        self.retry_posts_after_send
    }

    /// Full jitter: a uniform delay in `[0, min(max_backoff, initial * 2^(retry-1))]`.
    pub(crate) fn backoff(&self, retry: u32, random: u64) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let nanos = ceiling.as_nanos() as u64;
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random % (nanos + 1))
    }
}

/// Why an attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// The connection could not be made: the request never left.
    Connect,
    /// No response in time.
    Timeout,
    /// The connection broke while the request or the response was in flight.
    Interrupted,
    /// A retryable status: 429, 500, 502, 503, 504.
    Status(u16),
}

impl RetryReason {
    /// Whether the server may have seen (and acted on) the request.
    pub(crate) fn reached_server(self) -> bool {
        !matches!(self, Self::Connect)
    }
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect => f.write_str("connection failed"),
            Self::Timeout => f.write_str("timed out"),
            Self::Interrupted => f.write_str("connection interrupted"),
            Self::Status(status) => write!(f, "HTTP {status}"),
        }
    }
}

/// The statuses worth another attempt.
pub(crate) fn retryable_status(status: u16) -> Option<RetryReason> {
    matches!(status, 429 | 500 | 502 | 503 | 504).then_some(RetryReason::Status(status))
}

/// The transport failures worth another attempt.
pub(crate) fn retryable_error(error: &reqwest::Error) -> Option<RetryReason> {
    if error.is_connect() {
        // Includes a timeout while connecting: nothing was sent.
        Some(RetryReason::Connect)
    } else if error.is_timeout() {
        Some(RetryReason::Timeout)
    } else if error.is_body() || error.is_request() {
        Some(RetryReason::Interrupted)
    } else {
        None
    }
}

/// Whether a method may be repeated after the server saw it.
pub(crate) fn idempotent(method: &reqwest::Method) -> bool {
    use reqwest::Method;
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
    ]
    .contains(method)
}

/// The wait the server asks for: `retry-after` (seconds or an HTTP date), else, when the
/// rate limit is spent, the time until `ratelimit-reset`.
pub(crate) fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    if let Some(value) = headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(date) = chrono::DateTime::parse_from_rfc2822(value) {
            let at = SystemTime::from(date);
            return Some(at.duration_since(SystemTime::now()).unwrap_or_default());
        }
    }
    RateLimit::from_headers(headers)
        .filter(RateLimit::is_exhausted)
        .map(|limit| limit.resets_in())
}

/// A fresh random number from the standard library's randomly keyed hasher (enough for
/// jitter; no dependency).
pub(crate) fn random() -> u64 {
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_full_jitter() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.backoff(1, u64::MAX),
            Duration::from_nanos(u64::MAX % 500_000_001)
        );
        for retry in 1..10 {
            let ceiling =
                Duration::from_millis(500 * (1 << (retry - 1))).min(Duration::from_secs(30));
            for _ in 0..50 {
                assert!(policy.backoff(retry, random()) <= ceiling);
            }
        }
        assert_eq!(policy.backoff(3, 0), Duration::ZERO);
    }

    #[test]
    fn retry_after_in_seconds_is_honoured() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("29"));
        assert_eq!(server_delay(&headers), Some(Duration::from_secs(29)));
    }

    #[test]
    fn an_exhausted_limit_without_retry_after_waits_for_the_reset() {
        let reset = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 20;
        let mut headers = HeaderMap::new();
        headers.insert("ratelimit-limit", HeaderValue::from_static("5000"));
        headers.insert("ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert(
            "ratelimit-reset",
            HeaderValue::from_str(&reset.to_string()).unwrap(),
        );
        let delay = server_delay(&headers).unwrap();
        assert!(
            delay > Duration::from_secs(18) && delay <= Duration::from_secs(20),
            "{delay:?}"
        );
    }

    #[test]
    fn only_the_documented_transient_statuses_are_retryable() {
        for status in [429, 500, 502, 503, 504] {
            assert!(retryable_status(status).is_some(), "{status}");
        }
        for status in [200, 400, 401, 403, 404, 409, 501] {
            assert!(retryable_status(status).is_none(), "{status}");
        }
    }

    #[test]
    fn post_is_not_idempotent() {
        assert!(!idempotent(&reqwest::Method::POST));
        assert!(idempotent(&reqwest::Method::DELETE));
    }
}
