//! Retries as a value ([`RetryPolicy`]) and the rules the call loop applies: which
//! failures are worth another attempt, whether the method allows one, and how long to
//! wait (what the server asks for first, else exponential backoff with full jitter).
//! Every server-given delay is parsed defensively: it is hostile input.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

use crate::RateLimit;

/// When and how often a failed request is tried again.
///
/// Defaults: at most 4 attempts, backoff from 500 ms doubling up to 30 s with full jitter,
/// a time budget of 2 minutes for the whole call (sleeps, pacing and lookups included),
/// idempotent methods retried after every transient [`TransportFailure`]
/// ([`TransportFailure::TRANSIENT`]: all but a body too long), and a POST retried only
/// when it provably never reached the server (creates are reconciled instead, see
/// [`ClientBuilder::reconcile_creates`](crate::ClientBuilder::reconcile_creates)).
///
/// ```
/// use std::time::Duration;
/// use digitalocean::TransportFailure;
/// let patient = digitalocean::RetryPolicy::default()
///     .with_max_attempts(6)
///     .with_max_elapsed(Duration::from_secs(600));
/// let no_timeout_retries = digitalocean::RetryPolicy::default().with_transport_failures([
///     TransportFailure::Connect,
///     TransportFailure::ResetBeforeResponse,
///     TransportFailure::BodyCut,
///     TransportFailure::MalformedResponse,
/// ]);
/// let off = digitalocean::RetryPolicy::disabled();
/// assert_eq!(off.max_attempts(), 1);
/// assert!(!no_timeout_retries.retries_transport_failure(TransportFailure::Timeout));
/// # let _ = patient;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
    retry_posts_after_send: bool,
    transport_failures: Vec<TransportFailure>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_elapsed: Duration::from_secs(120),
            retry_posts_after_send: false,
            transport_failures: TransportFailure::TRANSIENT.to_vec(),
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

    /// The time budget of the whole call: attempts, backoff, rate-limit waits and
    /// reconciliation lookups together never take longer.
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

    /// The transport failures after which an idempotent request (GET, HEAD, PUT, DELETE)
    /// is tried again (default: [`TransportFailure::TRANSIENT`]). A refused connection is
    /// retried for every method only when it is in this list.
    pub fn with_transport_failures(
        mut self,
        kinds: impl IntoIterator<Item = TransportFailure>,
    ) -> Self {
        let mut kinds: Vec<TransportFailure> = kinds.into_iter().collect();
        kinds.sort();
        kinds.dedup();
        self.transport_failures = kinds;
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

    /// The time budget of the whole call.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }

    /// Whether POSTs are retried after they reached the server.
    pub fn retries_posts_after_send(&self) -> bool {
        self.retry_posts_after_send
    }

    /// Whether this kind of transport failure is retried.
    pub fn retries_transport_failure(&self, kind: TransportFailure) -> bool {
        self.transport_failures.contains(&kind)
    }

    /// Full jitter: a uniform delay in `[0, min(max_backoff, initial * 2^(retry-1))]`.
    pub(crate) fn backoff(&self, retry: u32, random: u64) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_backoff);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random % nanos.saturating_add(1))
    }
}

/// How an attempt failed below HTTP. [`RetryPolicy`](crate::RetryPolicy) names the kinds it
/// retries for idempotent methods (all of them by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TransportFailure {
    /// No connection could be made (refused, DNS, TLS, connect timeout): nothing was sent.
    Connect,
    /// The connection broke after the request was written and before the response
    /// headers arrived.
    ResetBeforeResponse,
    /// The response headers arrived, then the body was cut short.
    BodyCut,
    /// The answer was not valid HTTP: a garbled status line, a head too large, a
    /// `content-length` that cannot be read. The request was written, and the server or
    /// something in between (a proxy, a captive portal) answered with bytes the client
    /// cannot trust, so nothing in them, not even a status, is taken as DigitalOcean's.
    MalformedResponse,
    /// No complete answer within the attempt's time (before or after the headers).
    Timeout,
    /// The response body was longer than the client accepts
    /// ([`ClientBuilder::max_response_body`](crate::ClientBuilder::max_response_body)), so
    /// reading it stopped. Not retried by default: the same answer would come again.
    BodyTooLarge,
}

impl TransportFailure {
    /// Every kind, in order.
    pub const ALL: [TransportFailure; 6] = [
        Self::Connect,
        Self::ResetBeforeResponse,
        Self::BodyCut,
        Self::MalformedResponse,
        Self::Timeout,
        Self::BodyTooLarge,
    ];

    /// The kinds [`RetryPolicy::default`] retries: every one but
    /// [`BodyTooLarge`](Self::BodyTooLarge), which another attempt would meet again. (A
    /// malformed answer is most often a proxy's passing fault, and the attempts are bounded.)
    pub const TRANSIENT: [TransportFailure; 5] = [
        Self::Connect,
        Self::ResetBeforeResponse,
        Self::BodyCut,
        Self::MalformedResponse,
        Self::Timeout,
    ];

    /// Whether the request may have reached the server.
    pub fn reached_server(self) -> bool {
        self != Self::Connect
    }
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "the connection could not be made",
            Self::ResetBeforeResponse => "the connection broke before the response arrived",
            Self::BodyCut => "the connection broke in the middle of the response body",
            Self::MalformedResponse => "the answer was not valid HTTP",
            Self::Timeout => "no complete answer in time",
            Self::BodyTooLarge => "the response body was longer than the client accepts",
        })
    }
}

/// Why an attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryReason {
    /// A transport failure.
    Transport(TransportFailure),
    /// A retryable status: 429, 500, 502, 503, 504.
    Status(u16),
}

impl RetryReason {
    /// Whether the server may have seen (and acted on) the request.
    pub(crate) fn reached_server(self) -> bool {
        match self {
            Self::Transport(kind) => kind.reached_server(),
            Self::Status(_) => true,
        }
    }
}

impl fmt::Display for RetryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(kind) => kind.fmt(f),
            Self::Status(status) => write!(f, "HTTP {status}"),
        }
    }
}

/// The statuses worth another attempt.
pub(crate) fn retryable_status(status: u16) -> Option<RetryReason> {
    matches!(status, 429 | 500 | 502 | 503 | 504).then_some(RetryReason::Status(status))
}

/// What kind of transport failure a reqwest error is; `after_headers` tells whether the
/// response headers had arrived. `None` for errors that are not transport failures
/// (building the request, redirects).
pub(crate) fn transport_failure(
    error: &reqwest::Error,
    after_headers: bool,
) -> Option<TransportFailure> {
    if error.is_builder() || error.is_redirect() {
        None
    } else if error.is_connect() {
        // Includes a timeout while connecting: nothing was sent.
        Some(TransportFailure::Connect)
    } else if error.is_timeout() {
        Some(TransportFailure::Timeout)
    } else if malformed(error) {
        Some(TransportFailure::MalformedResponse)
    } else if after_headers {
        Some(TransportFailure::BodyCut)
    } else {
        Some(TransportFailure::ResetBeforeResponse)
    }
}

/// Whether hyper could not parse the answer's head (reqwest reports it as a failure to
/// send, with hyper's error at the end of its chain).
fn malformed(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_parse)
        {
            return true;
        }
        source = error.source();
    }
    false
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

/// One `retry-after` value: delay-seconds (an integer, or a decimal some proxies send) or
/// an HTTP date. A date in the past means now; a negative, empty or garbled value is
/// ignored; a huge one saturates (and is then refused by the caller's bounds).
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() || value.starts_with('-') {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: only overflow can fail, and overflow means "very long".
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        if !seconds.is_finite() || seconds < 0.0 {
            return (seconds == f64::INFINITY).then_some(Duration::MAX);
        }
        return Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

/// The wait the server asks for: `retry-after` (the longest of repeated values), else,
/// when the rate limit is spent, the time until `ratelimit-reset`.
pub(crate) fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let retry_after = headers
        .get_all(reqwest::header::RETRY_AFTER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(parse_retry_after)
        .max();
    retry_after.or_else(|| {
        RateLimit::from_headers(headers)
            .filter(RateLimit::is_exhausted)
            .map(|limit| limit.resets_in())
    })
}

/// A fresh random number for jitter.
pub(crate) fn random() -> u64 {
    fastrand::u64(..)
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
    fn hostile_retry_after_values_never_panic_and_stay_sane() {
        let delay = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", HeaderValue::from_str(value).unwrap());
            server_delay(&headers)
        };
        assert_eq!(
            delay("18446744073709551615"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            delay("18446744073709551616"),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            delay("9223372036854775808"),
            Some(Duration::from_secs(1 << 63))
        );
        assert_eq!(delay("-5"), None);
        assert_eq!(delay("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(delay("1e308"), Some(Duration::MAX));
        assert_eq!(delay("NaN"), None);
        assert_eq!(delay(""), None);
        assert_eq!(delay("soon"), None);
        assert_eq!(delay("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
        let far = delay("Fri, 31 Dec 9999 23:59:59 GMT").unwrap();
        assert!(far > Duration::from_secs(100 * 365 * 86_400), "{far:?}");
    }

    #[test]
    fn repeated_retry_after_takes_the_longest() {
        let mut headers = HeaderMap::new();
        headers.append("retry-after", HeaderValue::from_static("2"));
        headers.append("retry-after", HeaderValue::from_static("7"));
        headers.append("retry-after", HeaderValue::from_static("bogus"));
        assert_eq!(server_delay(&headers), Some(Duration::from_secs(7)));
    }

    #[test]
    fn a_huge_backoff_ceiling_does_not_overflow() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::MAX)
            .with_max_backoff(Duration::MAX);
        assert!(policy.backoff(40, u64::MAX) <= Duration::MAX);
    }

    #[test]
    fn post_is_not_idempotent() {
        assert!(!idempotent(&reqwest::Method::POST));
        assert!(idempotent(&reqwest::Method::DELETE));
    }
}
