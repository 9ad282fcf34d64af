//! The rate limit the fake enforces, like DigitalOcean's: a sliding hour and a burst
//! minute per server. Every request counts for an hour (or a minute) after it was made;
//! `ratelimit-reset` is when the oldest counted request expires.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

/// The three `ratelimit-*` values of a response, and `retry-after` on a 429.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// `ratelimit-limit`.
    pub limit: u64,
    /// `ratelimit-remaining` after this request.
    pub remaining: u64,
    /// `ratelimit-reset`, Unix seconds.
    pub reset: u64,
    /// Whether the request is refused (429), and how long to wait.
    pub retry_after: Option<u64>,
}

/// Requests allowed per hour and per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Per sliding hour (DigitalOcean: 5,000).
    pub per_hour: u64,
    /// Per sliding minute (DigitalOcean's burst limit: 250).
    pub per_minute: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_hour: 5000,
            per_minute: 250,
        }
    }
}

/// The requests counted so far.
#[derive(Debug)]
pub(crate) struct Budget {
    limits: Limits,
    made: VecDeque<SystemTime>,
}

fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

fn seconds_until(time: SystemTime, now: SystemTime) -> u64 {
    // Round up: waiting the whole number of seconds must be enough.
    let wait = time.duration_since(now).unwrap_or_default();
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// When the oldest request still counted in `window` stops counting (now if none is).
fn oldest_expiry(made: &VecDeque<SystemTime>, window: Duration, now: SystemTime) -> SystemTime {
    made.iter()
        .find(|&&t| t + window > now)
        .map_or(now, |&t| t + window)
}

impl Budget {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            made: VecDeque::new(),
        }
    }

    pub(crate) fn limits(&self) -> Limits {
        self.limits
    }

    /// Counts a request made at `now`, or refuses it.
    pub(crate) fn spend(&mut self, now: SystemTime) -> Verdict {
        while self.made.front().is_some_and(|&t| t + HOUR <= now) {
            self.made.pop_front();
        }
        let in_minute = self.made.iter().filter(|&&t| t + MINUTE > now).count() as u64;
        let in_hour = self.made.len() as u64;
        if in_hour >= self.limits.per_hour {
            let reset = oldest_expiry(&self.made, HOUR, now);
            return Verdict {
                limit: self.limits.per_hour,
                remaining: 0,
                reset: unix(reset),
                retry_after: Some(seconds_until(reset, now).max(1)),
            };
        }
        if in_minute >= self.limits.per_minute {
            let free_at = oldest_expiry(&self.made, MINUTE, now);
            return Verdict {
                limit: self.limits.per_hour,
                remaining: 0,
                reset: unix(oldest_expiry(&self.made, HOUR, now)),
                retry_after: Some(seconds_until(free_at, now).max(1)),
            };
        }
        self.made.push_back(now);
        Verdict {
            limit: self.limits.per_hour,
            remaining: self.limits.per_hour - in_hour - 1,
            reset: unix(oldest_expiry(&self.made, HOUR, now)),
            retry_after: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_down_and_refuses_the_burst() {
        let mut budget = Budget::new(Limits {
            per_hour: 100,
            per_minute: 2,
        });
        let now = SystemTime::now();
        assert_eq!(budget.spend(now).remaining, 99);
        assert_eq!(budget.spend(now).remaining, 98);
        let refused = budget.spend(now);
        assert_eq!(refused.remaining, 0);
        assert_eq!(refused.retry_after, Some(60));
        // A minute later the burst budget is back.
        assert!(budget.spend(now + MINUTE).retry_after.is_none());
    }

    #[test]
    fn the_hourly_budget_resets_when_the_oldest_request_expires() {
        let mut budget = Budget::new(Limits {
            per_hour: 1,
            per_minute: 10,
        });
        let start = SystemTime::now();
        let first = budget.spend(start);
        assert_eq!(first.reset, unix(start + HOUR));
        assert!(
            budget
                .spend(start + Duration::from_secs(10))
                .retry_after
                .is_some()
        );
        assert!(budget.spend(start + HOUR).retry_after.is_none());
    }
}
