//! Rate limits: the `ratelimit-*` headers of every response as a typed value, and pacing.
//! DigitalOcean allows 5,000 requests per hour and 250 per minute per token; when
//! `ratelimit-remaining` reaches 0 it answers 429 until `ratelimit-reset`. The client keeps
//! the latest limit it saw (shared by every clone and task) and spaces requests so the
//! remaining budget lasts until the reset, instead of running into 429s.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue};

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

/// The latest `ratelimit-reset` the client believes: 9999-12-31. A later value (or one that
/// does not fit the platform's clock) is taken as this far future.
const LATEST_RESET_SECS: u64 = 253_402_300_799;

/// DigitalOcean's longest rate-limit window. A reset announced further away than this is
/// not believed for pacing and waits: the client plans with one hour at most.
const LONGEST_WINDOW: Duration = Duration::from_secs(3600);

/// One value of a `ratelimit-*` header as a count: a non-negative integer, or a decimal
/// some proxies send, truncated. `None`: empty, negative or garbled.
fn count(value: &HeaderValue) -> Option<u64> {
    let bytes = value.as_bytes();
    // What DigitalOcean sends, read first and in one pass: 1 to 19 digits, which cannot
    // overflow a u64 (this runs for three headers of every answer). A non-digit makes the
    // wrapped sum meaningless, and the value goes the slow way.
    if (1..=19).contains(&bytes.len()) {
        let mut n = 0u64;
        let mut digits = true;
        for &b in bytes {
            let digit = b.wrapping_sub(b'0');
            digits &= digit < 10;
            n = n.wrapping_mul(10).wrapping_add(u64::from(digit));
        }
        if digits {
            return Some(n);
        }
    }
    count_slowly(value)
}

/// [`count`] of a value that is not 1 to 19 bare digits: spaces around it, more digits
/// than a u64 holds (saturating: a count that large is "more than enough"), a decimal.
#[cold]
fn count_slowly(value: &HeaderValue) -> Option<u64> {
    let digits = value.as_bytes().trim_ascii();
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        return Some(digits.iter().fold(0u64, |n, &d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        }));
    }
    let number = value
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0)?;
    // Saturating cast: an f64 beyond u64::MAX becomes u64::MAX.
    Some(number as u64)
}

/// What the values of one header so far amount to: `None` before any, `Some(None)` once
/// one was not a count (the header then counts as absent), else the count `combine` chose.
fn fold_count(seen: &mut Option<Option<u64>>, value: &HeaderValue, combine: fn(u64, u64) -> u64) {
    *seen = Some(match *seen {
        None => count(value),
        Some(None) => None,
        Some(Some(before)) => count(value).map(|now| combine(before, now)),
    });
}

impl RateLimit {
    /// Reads the three `ratelimit-*` headers; `None` unless all three are present and
    /// numeric. Hostile values never panic: a repeated header counts its most cautious
    /// value (the smallest limit and remaining count, the latest reset), and a reset beyond
    /// the year 9999 is taken as then.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        // One pass over the answer's headers, every value of a repeated one included: three
        // lookups by name hashed each name, and this runs on every answer.
        let (mut limit, mut remaining, mut reset) = (None, None, None);
        for (name, value) in headers {
            // The prefix first: most names are not the three, and are passed over on it.
            let Some(suffix) = name.as_str().strip_prefix("ratelimit-") else {
                continue;
            };
            match suffix {
                "limit" => fold_count(&mut limit, value, u64::min),
                "remaining" => fold_count(&mut remaining, value, u64::min),
                "reset" => fold_count(&mut reset, value, u64::max),
                _ => {}
            }
        }
        let (limit, remaining) = (limit.flatten()?, remaining.flatten()?);
        let reset_secs = reset.flatten()?.min(LATEST_RESET_SECS);
        let reset = UNIX_EPOCH
            .checked_add(Duration::from_secs(reset_secs))
            .unwrap_or(UNIX_EPOCH + Duration::from_secs(u32::MAX.into()));
        Some(Self {
            limit,
            remaining,
            reset,
        })
    }

    /// Time until the reset (zero if it has passed).
    pub fn resets_in(&self) -> Duration {
        self.reset
            .duration_since(SystemTime::now())
            .unwrap_or_default()
    }

    /// Time until the reset as the client plans with it: at most one hour, DigitalOcean's
    /// longest window.
    pub(crate) fn believable_reset_in(&self) -> Duration {
        self.resets_in().min(LONGEST_WINDOW)
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

    /// The longest the client waits on its own before one request, whether pacing, waiting
    /// for the reset, or honouring a `retry-after`. When a wait would be longer,
    /// [`WhenExhausted`] decides: `Wait` waits this long (pacing) or fails fast (a spent
    /// budget, a `retry-after`), `FailFast` fails without waiting, `Send` sends at once.
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

    /// The longest single wait the client starts on its own.
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

/// What the client does before one attempt, all bounds applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Send now.
    Go,
    /// Sleep this long, then send.
    Sleep(Duration),
    /// Do not send; the reason, for the error.
    Refuse(String),
}

impl Pace {
    /// Applies the policy's bound (`max_wait`) and the call's remaining time budget to this
    /// decision. Every wait the client starts on its own goes through here.
    pub(crate) fn gate(self, policy: &RateLimitPolicy, time_left: Option<Duration>) -> Gate {
        let max_wait = policy.max_wait();
        let (wait, exhausted) = match self {
            Pace::Go => return Gate::Go,
            Pace::Wait(wait) => (wait, false),
            Pace::Exhausted(wait) => (wait, true),
        };
        let what = if exhausted {
            "the rate limit is spent until its reset"
        } else {
            "pacing under the rate limit asks for a wait"
        };
        let wait = if wait <= max_wait {
            match policy.when_exhausted() {
                WhenExhausted::FailFast if exhausted && !wait.is_zero() => {
                    return Gate::Refuse(format!(
                        "{what} in {} s and the policy fails fast",
                        seconds(wait)
                    ));
                }
                WhenExhausted::Send if exhausted => return Gate::Go,
                _ => wait,
            }
        } else {
            match policy.when_exhausted() {
                WhenExhausted::Send => return Gate::Go,
                // A spent budget stays spent until the reset: waiting only the bound would
                // end in a 429, so refuse now.
                WhenExhausted::Wait if !exhausted => max_wait,
                _ => {
                    return Gate::Refuse(format!(
                        "{what} of {} s, longer than the policy allows ({} s)",
                        seconds(wait),
                        seconds(max_wait)
                    ));
                }
            }
        };
        if let Some(left) = time_left
            && wait > left
        {
            return Gate::Refuse(format!(
                "{what} of {} s, longer than the {} s left of the call's time budget",
                seconds(wait),
                seconds(left)
            ));
        }
        if wait.is_zero() {
            Gate::Go
        } else {
            Gate::Sleep(wait)
        }
    }
}

/// Whole seconds, rounded up, for messages.
fn seconds(duration: Duration) -> u64 {
    duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0))
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

    /// Requests the client may still send before pacing starts, by its estimate (the latest
    /// limit seen minus what was sent since). `None` when no limit is known, or the window
    /// it described has reset.
    pub(crate) fn headroom(&self, policy: &RateLimitPolicy) -> Option<u64> {
        let state = self.lock();
        let estimate = state.estimate?;
        if estimate.believable_reset_in().is_zero() {
            return None;
        }
        Some(estimate.remaining.saturating_sub(policy.pace_below))
    }

    /// Decides whether the next request may go now, reserving its slot.
    pub(crate) fn before_send(&self, policy: &RateLimitPolicy) -> Pace {
        let mut state = self.lock();
        let Some(mut estimate) = state.estimate else {
            return Pace::Go;
        };
        let until_reset = estimate.believable_reset_in();
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
        let spacing =
            until_reset / u32::try_from(estimate.remaining.saturating_add(1)).unwrap_or(u32::MAX);
        let now = Instant::now();
        let slot = state.next_slot.map_or(now, |next| next.max(now));
        // Bounded: the slot is at most an hour of spacing past another bounded slot, but a
        // long-running pacer must not be able to overflow the clock either.
        state.next_slot = Some(slot.checked_add(spacing).unwrap_or(slot));
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
    fn hostile_values_never_panic() {
        for value in [
            "18446744073709551615",
            "18446744073709551616",
            "9223372036854775808",
            "-1",
            "1.5",
            "1e400",
            "",
            "NaN",
        ] {
            let parsed = RateLimit::from_headers(&headers(value, value, value));
            if let Some(limit) = parsed {
                let _ = limit.resets_in();
                let tracker = RateLimitTracker::default();
                tracker.observe(limit);
                for _ in 0..3 {
                    let pace = tracker.before_send(&RateLimitPolicy::default());
                    let _ = pace.gate(&RateLimitPolicy::default(), Some(Duration::from_secs(1)));
                }
            }
        }
        let far = RateLimit::from_headers(&headers("5000", "0", "18446744073709551615")).unwrap();
        assert!(far.resets_in() > Duration::from_secs(100 * 365 * 86_400));
        assert_eq!(far.believable_reset_in(), LONGEST_WINDOW);
        assert!(RateLimit::from_headers(&headers("5000", "-3", "1")).is_none());
    }

    #[test]
    fn counts_read_the_same_on_the_quick_and_the_slow_way() {
        let count_of = |text: &'static str| count(&HeaderValue::from_static(text));
        assert_eq!(count_of("0"), Some(0));
        assert_eq!(count_of("5000"), Some(5000));
        // 19 digits, the longest quick one, and 20, read saturating.
        assert_eq!(
            count_of("9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(count_of("18446744073709551615"), Some(u64::MAX));
        assert_eq!(count_of("99999999999999999999"), Some(u64::MAX));
        assert_eq!(count_of(" 42 "), Some(42));
        assert_eq!(count_of("41.9"), Some(41));
        // A non-digit among 19 characters must not be summed as one.
        assert_eq!(count_of("12345678901234567:9"), None);
        assert_eq!(count_of("4/2"), None);
        assert_eq!(count_of(""), None);
        assert_eq!(count_of("-1"), None);
    }

    #[test]
    fn repeated_headers_count_their_most_cautious_value() {
        let mut h = headers("5000", "40", &in_seconds(30));
        h.append("ratelimit-remaining", HeaderValue::from_static("3"));
        h.append(
            "ratelimit-reset",
            HeaderValue::from_str(&in_seconds(50)).unwrap(),
        );
        let limit = RateLimit::from_headers(&h).unwrap();
        assert_eq!(limit.remaining, 3);
        assert!(limit.resets_in() > Duration::from_secs(45));
    }

    #[test]
    fn one_garbled_value_of_a_repeated_header_makes_it_absent() {
        for (first, second) in [("4", "many"), ("many", "4")] {
            let mut h = headers("5000", first, &in_seconds(30));
            h.append("ratelimit-remaining", HeaderValue::from_static(second));
            assert!(RateLimit::from_headers(&h).is_none(), "{first}, {second}");
        }
        let mut h = headers("5000", "40", &in_seconds(30));
        h.append("ratelimit-limit", HeaderValue::from_static("1e999"));
        assert!(RateLimit::from_headers(&h).is_none());
        h.remove("ratelimit-limit");
        assert!(RateLimit::from_headers(&h).is_none(), "a header missing");
    }

    #[test]
    fn pacing_never_waits_past_max_wait() {
        // 5 left and a reset an hour away: pacing wants ~10 minutes between requests.
        let tracker = RateLimitTracker::default();
        tracker.observe(RateLimit::from_headers(&headers("5000", "5", &in_seconds(3600))).unwrap());
        let wait = RateLimitPolicy::default().with_max_wait(Duration::from_secs(2));
        let fail = wait.clone().with_when_exhausted(WhenExhausted::FailFast);
        let send = wait.clone().with_when_exhausted(WhenExhausted::Send);
        assert_eq!(tracker.before_send(&wait), Pace::Go);
        let pace = tracker.before_send(&wait);
        assert!(
            matches!(pace, Pace::Wait(w) if w > Duration::from_secs(500)),
            "{pace:?}"
        );
        assert_eq!(pace.gate(&wait, None), Gate::Sleep(Duration::from_secs(2)));
        assert!(matches!(pace.gate(&fail, None), Gate::Refuse(_)));
        assert_eq!(pace.gate(&send, None), Gate::Go);
        // The call's own budget bounds the wait too.
        assert!(matches!(
            pace.gate(&wait, Some(Duration::from_secs(1))),
            Gate::Refuse(_)
        ));
    }

    #[test]
    fn a_spent_budget_past_max_wait_fails_fast_unless_told_to_send() {
        let pace = Pace::Exhausted(Duration::from_secs(600));
        let policy = RateLimitPolicy::default();
        assert!(matches!(pace.gate(&policy, None), Gate::Refuse(_)));
        let send = policy.with_when_exhausted(WhenExhausted::Send);
        assert_eq!(pace.gate(&send, None), Gate::Go);
        let soon = Pace::Exhausted(Duration::from_secs(3));
        assert_eq!(
            soon.gate(&RateLimitPolicy::default(), None),
            Gate::Sleep(Duration::from_secs(3))
        );
    }

    #[test]
    fn a_past_reset_forgets_the_budget() {
        let tracker = RateLimitTracker::default();
        tracker.observe(RateLimit::from_headers(&headers("5000", "0", "1")).unwrap());
        assert_eq!(tracker.before_send(&RateLimitPolicy::default()), Pace::Go);
    }
}
