//! Exit codes by class of failure, so that scripts can tell "not found" from "may have been
//! applied" without reading messages (the table is in `doapi --help`).

use std::process::ExitCode;

use digitalocean::ErrorKind;

/// A class of outcome and its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    Usage = 2,
    Configuration = 3,
    Authentication = 4,
    NotFound = 5,
    RateLimited = 6,
    Rejected = 7,
    ServerError = 8,
    NoCompleteAnswer = 9,
    WaitTimedOut = 10,
    Interrupted = 130,
}

impl Exit {
    /// The class of a client error.
    pub fn of(error: &digitalocean::Error) -> Self {
        match error.kind() {
            ErrorKind::Configuration => Self::Configuration,
            ErrorKind::InvalidArgument => Self::Rejected,
            ErrorKind::RateLimitExhausted => Self::RateLimited,
            ErrorKind::Timeout => Self::WaitTimedOut,
            ErrorKind::Transport => Self::NoCompleteAnswer,
            // The request was answered as a success but not understood: it was applied.
            ErrorKind::Decode => Self::NoCompleteAnswer,
            _ => match error.status().map(|s| s.as_u16()) {
                Some(401 | 403) => Self::Authentication,
                Some(404) => Self::NotFound,
                Some(429) => Self::RateLimited,
                Some(400..=499) => Self::Rejected,
                Some(500..=599) => Self::ServerError,
                _ => Self::NoCompleteAnswer,
            },
        }
    }

    pub fn code(self) -> ExitCode {
        ExitCode::from(self as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn codes_are_distinct_and_fit_a_process_status() {
        let all = [
            Exit::Success,
            Exit::Usage,
            Exit::Configuration,
            Exit::Authentication,
            Exit::NotFound,
            Exit::RateLimited,
            Exit::Rejected,
            Exit::ServerError,
            Exit::NoCompleteAnswer,
            Exit::WaitTimedOut,
            Exit::Interrupted,
        ];
        let codes: std::collections::BTreeSet<u8> = all.iter().map(|e| *e as u8).collect();
        assert_eq!(codes.len(), all.len());
    }
}
