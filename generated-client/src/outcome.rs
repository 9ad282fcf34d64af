//! What is known about a request after the call: was it sent, and may DigitalOcean have
//! applied it? DigitalOcean has no idempotency keys, so a caller that retries a write it
//! believes failed can create a second Droplet; every error therefore carries an
//! [`Outcome`], and creates whose outcome was unknown carry the [`Reconciliation`] the
//! client ran to settle them.

use std::fmt;

/// What is known about whether DigitalOcean acted on a request.
///
/// The variants are ordered from "certainly not applied" to "certainly applied"; a call of
/// several attempts has the outcome of its least certain attempt (an attempt that may have
/// created a Droplet is not undone by a later 422).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Nothing reached DigitalOcean: an argument was rejected, the rate-limit budget
    /// refused the call, or no connection could be made. Safe to send again.
    NotSent,
    /// DigitalOcean answered and did not apply it: an error status below 500 (4xx, 429, a
    /// redirect), or a lookup after an unknown outcome proved the create absent.
    Rejected,
    /// The request was sent and no usable answer came back (the connection broke, the
    /// attempt timed out, a 5xx, possibly from a proxy): DigitalOcean may have applied it.
    /// Look the resource up before sending the write again.
    Unknown,
    /// DigitalOcean accepted it (a 2xx status), but its answer could not be read in full.
    Applied,
}

impl Outcome {
    /// Whether DigitalOcean may have applied the request ([`Unknown`](Self::Unknown) or
    /// [`Applied`](Self::Applied)). When true, sending a create again may duplicate it.
    pub fn may_have_been_applied(self) -> bool {
        matches!(self, Self::Unknown | Self::Applied)
    }

    /// Whether the request left the client.
    pub fn was_sent(self) -> bool {
        self != Self::NotSent
    }

    /// The outcome of one HTTP answer with this status.
    pub(crate) fn of_status(status: u16) -> Self {
        match status {
            200..=299 => Self::Applied,
            300..=499 => Self::Rejected,
            _ => Self::Unknown,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotSent => "nothing was sent",
            Self::Rejected => "the request was sent and not applied",
            Self::Unknown => {
                "outcome unknown: the request was sent; DigitalOcean may have applied it"
            }
            Self::Applied => "DigitalOcean applied the request, but its answer was lost",
        })
    }
}

/// How the client settled a create whose first outcome was unknown.
///
/// ```no_run
/// use digitalocean::{ResponseExt, Resolution};
/// # async fn run(client: &digitalocean::Client, body: digitalocean::types::TagCreate) -> Result<(), digitalocean::Error> {
/// let created = client.tags_create().body(body).send().await?;
/// if let Some(reconciliation) = created.reconciliation() {
///     // The answer to the create was lost; the client found the tag by looking it up.
///     assert_eq!(reconciliation.resolution, Resolution::Found);
///     println!("settled by {}", reconciliation.lookup);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// The lookup, as requests a person can repeat: `GET /v2/volumes?name=data&region=nyc1`.
    pub lookup: String,
    /// What it showed.
    pub resolution: Resolution,
}

/// What a reconciliation lookup showed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Resolution {
    /// Exactly what the create asked for exists: the call returns it as a success.
    Found,
    /// The lookup proved the create was not applied, and it was sent again.
    AbsentSentAgain,
    /// The lookup proved the create was not applied; it was not sent again (no attempt or
    /// time left in the retry policy).
    Absent,
    /// The lookup could not settle it; the reason says why (the outcome stays unknown).
    Unsettled(String),
}

impl fmt::Display for Reconciliation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.resolution {
            Resolution::Found => write!(f, "found by {}", self.lookup),
            Resolution::AbsentSentAgain => {
                write!(f, "{} proved it absent; sent again", self.lookup)
            }
            Resolution::Absent => write!(f, "{} proved it absent", self.lookup),
            Resolution::Unsettled(reason) => {
                write!(f, "{reason}; check with {}", self.lookup)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_takes_the_least_certain_outcome_of_its_attempts() {
        assert_eq!(
            [Outcome::Unknown, Outcome::Rejected].into_iter().max(),
            Some(Outcome::Unknown)
        );
        assert!(Outcome::NotSent < Outcome::Rejected);
        assert!(Outcome::Unknown < Outcome::Applied);
    }

    #[test]
    fn statuses_map_to_outcomes() {
        assert_eq!(Outcome::of_status(201), Outcome::Applied);
        assert_eq!(Outcome::of_status(307), Outcome::Rejected);
        assert_eq!(Outcome::of_status(429), Outcome::Rejected);
        assert_eq!(Outcome::of_status(422), Outcome::Rejected);
        assert_eq!(Outcome::of_status(503), Outcome::Unknown);
        assert!(Outcome::Unknown.may_have_been_applied());
        assert!(!Outcome::Rejected.may_have_been_applied());
        assert!(!Outcome::NotSent.was_sent());
    }
}
