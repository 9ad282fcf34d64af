//! The one error type of the crate. Every generated `send()` returns progenitor's generic
//! error; `?` (or `Error::from`) turns it into this one, which keeps what a caller needs to
//! act: the HTTP status, DigitalOcean's error `id`, `message` and `request_id`, the
//! `root_causes` of tag validation, the rate limit, how many attempts were made, and for a
//! body that is not DigitalOcean's JSON (an HTML 502 page, an empty or truncated body) a
//! short excerpt. `Display` is one line and never contains the token.

use std::fmt;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::hooks::{CallFailure, CallRecord};
use crate::outcome::{Outcome, Reconciliation, Resolution};
use crate::retry::TransportFailure;
use crate::{RateLimit, types};

/// Response header the client adds to what it returns: how many attempts the call took.
pub const ATTEMPTS_HEADER: &str = "x-digitalocean-client-attempts";

/// Response header the client adds to a success that a reconciliation produced:
/// `found; <lookup>` or `sent-again; <lookup>` (read it with
/// [`ResponseExt::reconciliation`](crate::ResponseExt::reconciliation)).
pub const RECONCILED_HEADER: &str = "x-digitalocean-client-reconciled";

/// The value of [`RECONCILED_HEADER`] for a reconciliation (only successes carry one).
pub(crate) fn encode_reconciliation(reconciliation: &Reconciliation) -> String {
    let resolution = match reconciliation.resolution {
        Resolution::Found => "found",
        _ => "sent-again",
    };
    format!("{resolution}; {}", reconciliation.lookup)
}

/// The reconciliation a [`RECONCILED_HEADER`] value describes.
pub(crate) fn decode_reconciliation(value: &str) -> Option<Reconciliation> {
    let (resolution, lookup) = value.split_once("; ")?;
    let resolution = match resolution {
        "found" => Resolution::Found,
        "sent-again" => Resolution::AbsentSentAgain,
        _ => return None,
    };
    Some(Reconciliation {
        lookup: lookup.to_string(),
        resolution,
    })
}

/// The body of a response, kept by the `exec` hook so errors can quote it.
#[derive(Debug, Clone)]
pub(crate) struct BufferedBody(pub Bytes);

/// What kind of failure an [`Error`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The API answered 4xx/5xx with its documented error body.
    Api,
    /// The API answered with a body that is not the documented JSON: an HTML error page,
    /// an empty body, truncated JSON.
    UnexpectedBody,
    /// A success response whose JSON does not have the documented shape.
    Decode,
    /// No complete answer: no connection (nothing sent), or the connection broke or timed
    /// out after the request was sent ([`Error::outcome`] tells which).
    Transport,
    /// An argument breaks a documented constraint; nothing was sent.
    InvalidArgument,
    /// The rate limit is spent and the client was told not to wait; nothing was sent.
    RateLimitExhausted,
    /// The client is not configured correctly (token, base URL, timeouts).
    Configuration,
    /// A wait for a condition (e.g. a Droplet's destruction) ran out of time.
    Timeout,
}

/// An error of any DigitalOcean call.
///
/// ```no_run
/// # async fn run(client: &digitalocean::Client) {
/// match client.droplets_get().droplet_id(42u64).send().await.map_err(digitalocean::Error::from) {
///     Ok(droplet) => println!("{:?}", droplet.droplet),
///     Err(error) if error.is_not_found() => println!("no such Droplet"),
///     Err(error) => eprintln!("{error}"), // one line, with the request id
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(Box<ErrorData>);

/// The fields of an [`Error`], boxed so that `Result<T, Error>` stays small.
#[derive(Debug, thiserror::Error)]
struct ErrorData {
    kind: ErrorKind,
    status: Option<StatusCode>,
    id: Option<String>,
    message: String,
    request_id: Option<String>,
    root_causes: Vec<String>,
    rate_limit: Option<RateLimit>,
    attempts: u32,
    excerpt: Option<String>,
    outcome: Outcome,
    /// Whether the method writes (anything but GET and HEAD).
    write: bool,
    transport_failure: Option<TransportFailure>,
    reconciliation: Option<Reconciliation>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorData {
            kind,
            status: None,
            id: None,
            message: message.into(),
            request_id: None,
            root_causes: Vec::new(),
            rate_limit: None,
            attempts: 0,
            excerpt: None,
            outcome: Outcome::NotSent,
            write: false,
            transport_failure: None,
            reconciliation: None,
            source: None,
        }))
    }

    pub(crate) fn configuration(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Configuration, message)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// DigitalOcean's error id (`not_found`, `too_many_requests`, …), from the body.
    pub fn id(&self) -> Option<&str> {
        self.0.id.as_deref()
    }

    /// What went wrong: DigitalOcean's message, or the client's description.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The request id to quote to DigitalOcean support: from the body, else the
    /// `x-request-id` header.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// The underlying causes of a tag-creation 400 (`root_causes`); empty otherwise.
    pub fn root_causes(&self) -> &[String] {
        &self.0.root_causes
    }

    /// The rate limit the failing response reported.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.0.rate_limit
    }

    /// How many attempts were made (0 if nothing was sent).
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// What is known about whether DigitalOcean applied the request.
    ///
    /// ```no_run
    /// # async fn run(client: &digitalocean::Client, body: digitalocean::types::VolumeCreateRequest) {
    /// match client.volumes_create().body(body).send().await.map_err(digitalocean::Error::from) {
    ///     Ok(created) => println!("{:?}", created.volume),
    ///     Err(error) if error.may_have_been_applied() => {
    ///         // Do not create it again blindly: look it up first.
    ///         eprintln!("{error}");
    ///     }
    ///     Err(error) => eprintln!("not created: {error}"),
    /// }
    /// # }
    /// ```
    pub fn outcome(&self) -> Outcome {
        self.0.outcome
    }

    /// Whether DigitalOcean may have applied the request (the outcome is
    /// [`Unknown`](Outcome::Unknown) or [`Applied`](Outcome::Applied)).
    pub fn may_have_been_applied(&self) -> bool {
        self.0.outcome.may_have_been_applied()
    }

    /// How the client tried to settle a create whose outcome was unknown, and what the
    /// lookup showed; `None` when it ran no lookup.
    pub fn reconciliation(&self) -> Option<&Reconciliation> {
        self.0.reconciliation.as_ref()
    }

    /// How the last attempt failed below HTTP, for errors of kind
    /// [`Transport`](ErrorKind::Transport).
    pub fn transport_failure(&self) -> Option<TransportFailure> {
        self.0.transport_failure
    }

    /// The start of a body that is not the documented JSON.
    pub fn body_excerpt(&self) -> Option<&str> {
        self.0.excerpt.as_deref()
    }

    /// Whether the resource does not exist (HTTP 404).
    pub fn is_not_found(&self) -> bool {
        self.0.status == Some(StatusCode::NOT_FOUND)
    }

    /// Whether the rate limit stopped the call (HTTP 429, or exhausted before sending).
    pub fn is_rate_limited(&self) -> bool {
        self.0.status == Some(StatusCode::TOO_MANY_REQUESTS)
            || self.0.kind == ErrorKind::RateLimitExhausted
    }

    /// Whether the same call could succeed later: 429, 500, 502, 503, 504, a connection
    /// failure or a timeout (the client already retried as its policy allowed).
    pub fn is_retryable(&self) -> bool {
        match self.0.kind {
            ErrorKind::RateLimitExhausted | ErrorKind::Timeout => true,
            ErrorKind::Transport => self.0.transport_failure.is_some(),
            _ => self
                .0
                .status
                .is_some_and(|s| crate::retry::retryable_status(s.as_u16()).is_some()),
        }
    }
}

impl fmt::Display for ErrorData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Api | ErrorKind::UnexpectedBody => {
                if let Some(status) = self.status {
                    write!(f, "HTTP {}", status.as_u16())?;
                    if let Some(id) = &self.id {
                        write!(f, " {id}")?;
                    }
                    f.write_str(": ")?;
                }
                f.write_str(&self.message)?;
                if let Some(excerpt) = &self.excerpt {
                    write!(f, ": {excerpt:?}")?;
                }
                if !self.root_causes.is_empty() {
                    write!(f, " (root causes: {})", self.root_causes.join("; "))?;
                }
            }
            ErrorKind::Decode => {
                write!(
                    f,
                    "the response does not have the documented shape: {}",
                    self.message
                )?;
                if let Some(excerpt) = &self.excerpt {
                    write!(f, ": {excerpt:?}")?;
                }
            }
            ErrorKind::Transport if self.outcome == Outcome::NotSent => {
                write!(f, "cannot reach the DigitalOcean API: {}", self.message)?;
            }
            _ => f.write_str(&self.message)?,
        }
        // What a caller must know before sending a write again.
        if self.write && self.outcome.may_have_been_applied() {
            write!(f, "; {}", self.outcome)?;
        }
        if let Some(reconciliation) = &self.reconciliation {
            write!(f, " (reconciliation: {reconciliation})")?;
        }
        let mut notes = Vec::new();
        if let Some(request_id) = &self.request_id {
            notes.push(format!("request id {request_id}"));
        }
        if self.attempts > 1 {
            notes.push(format!("{} attempts", self.attempts));
        }
        if !notes.is_empty() {
            write!(f, " [{}]", notes.join(", "))?;
        }
        Ok(())
    }
}

/// The fields of a documented error body.
#[doc(hidden)]
#[derive(Debug, Default, Clone)]
pub struct ErrorParts {
    pub id: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    pub root_causes: Vec<String>,
}

/// An error body the API documents; the generated operations use these as their error type.
pub trait ErrorBody: Send + Sync + 'static {
    #[doc(hidden)]
    fn parts(self) -> ErrorParts;
}

impl ErrorBody for types::Error {
    fn parts(self) -> ErrorParts {
        ErrorParts {
            id: Some(self.id),
            message: Some(self.message),
            request_id: self.request_id,
            root_causes: Vec::new(),
        }
    }
}

impl ErrorBody for types::TagsCreateBadRequest {
    fn parts(self) -> ErrorParts {
        ErrorParts {
            id: None,
            message: Some(self.error),
            request_id: None,
            root_causes: self.root_causes,
        }
    }
}

impl ErrorBody for types::TagsCreateErrorBody {
    fn parts(self) -> ErrorParts {
        match self {
            Self::TagsCreateBadRequest(body) => body.parts(),
            Self::Error(body) => body.parts(),
        }
    }
}

impl ErrorBody for () {
    fn parts(self) -> ErrorParts {
        ErrorParts::default()
    }
}

/// Reads an error body without knowing its shape: either documented form, or whatever of
/// `id`, `message`, `request_id`, `root_causes` a JSON object has.
pub(crate) fn loose_parts(body: &[u8]) -> Option<ErrorParts> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object()?;
    let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let parts = ErrorParts {
        id: text("id"),
        message: text("message").or_else(|| text("error")),
        request_id: text("request_id"),
        root_causes: object
            .get("root_causes")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    };
    (parts.id.is_some() || parts.message.is_some()).then_some(parts)
}

/// Whether a body is one of the documented error bodies.
pub(crate) fn is_documented_error_body(body: &[u8]) -> bool {
    serde_json::from_slice::<types::Error>(body).is_ok()
        || serde_json::from_slice::<types::TagsCreateBadRequest>(body).is_ok()
}

fn excerpt(body: &[u8]) -> String {
    const LIMIT: usize = 160;
    let text = String::from_utf8_lossy(body);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > LIMIT {
        format!("{}…", collapsed.chars().take(LIMIT).collect::<String>())
    } else {
        collapsed
    }
}

fn request_id_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

impl Error {
    /// An error for a response. `documented` tells whether the body is a documented error
    /// body; otherwise whatever `parts` could be read loosely is shown with an excerpt.
    fn from_response_parts(
        status: StatusCode,
        headers: &HeaderMap,
        documented: bool,
        parts: Option<ErrorParts>,
        body: Option<&[u8]>,
    ) -> Self {
        let parts = parts.unwrap_or_default();
        let mut error = Self::new(
            if documented {
                ErrorKind::Api
            } else {
                ErrorKind::UnexpectedBody
            },
            parts.message.clone().unwrap_or_else(|| match body {
                Some([]) => "empty body where DigitalOcean's JSON was expected".to_string(),
                Some(_) => "the body is not DigitalOcean's JSON".to_string(),
                None => format!("unexpected status {}", status.as_u16()),
            }),
        );
        error.0.status = Some(status);
        error.0.id = parts.id;
        error.0.request_id = parts.request_id.or_else(|| request_id_header(headers));
        error.0.root_causes = parts.root_causes;
        error.0.rate_limit = RateLimit::from_headers(headers);
        error.0.attempts = headers
            .get(ATTEMPTS_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        error.0.outcome = Outcome::of_status(status.as_u16());
        if !documented && let Some(body) = body.filter(|b| !b.is_empty()) {
            error.0.excerpt = Some(excerpt(body));
        }
        error
    }

    /// A reqwest error that reached the conversion without a call record: building the
    /// request failed (nothing sent), or a client without these hooks failed.
    fn transport(source: reqwest::Error) -> Self {
        let kind = crate::retry::transport_failure(&source, false);
        let mut error = Self::new(
            if source.is_builder() {
                ErrorKind::InvalidArgument
            } else {
                ErrorKind::Transport
            },
            crate::transport::chain(&source),
        );
        error.0.status = source.status();
        error.0.attempts = u32::from(!source.is_builder());
        error.0.transport_failure = kind;
        error.0.outcome = match kind {
            None | Some(TransportFailure::Connect) => Outcome::NotSent,
            Some(_) => Outcome::Unknown,
        };
        error.0.source = Some(Box::new(source));
        error
    }

    /// The error of a response whose body the exec hook buffered.
    fn from_buffered(response: &reqwest::Response) -> Self {
        let body = response
            .extensions()
            .get::<BufferedBody>()
            .map(|b| b.0.clone());
        let documented = body.as_deref().is_some_and(is_documented_error_body);
        let parts = body.as_deref().and_then(loose_parts);
        Self::from_response_parts(
            response.status(),
            response.headers(),
            documented,
            parts,
            body.as_deref(),
        )
    }

    /// The error of a call the hooks recorded.
    fn from_record(response: &reqwest::Response, record: CallRecord) -> Self {
        let mut error = match &record.failure {
            Some(CallFailure::Transport {
                kind,
                head,
                message,
                source,
            }) => {
                let mut error = Self::new(ErrorKind::Transport, message.clone());
                if let Some((status, headers)) = head {
                    error.0.status = Some(*status);
                    error.0.request_id = request_id_header(headers);
                    error.0.rate_limit = RateLimit::from_headers(headers);
                }
                error.0.transport_failure = *kind;
                error.0.source = Some(Box::new(source.clone()));
                error
            }
            Some(CallFailure::RateLimitRefused { message, limit }) => {
                let mut error = Self::new(ErrorKind::RateLimitExhausted, message.clone());
                error.0.rate_limit = *limit;
                error
            }
            Some(CallFailure::RedirectedWrite { location }) => {
                let mut error = Self::new(
                    ErrorKind::UnexpectedBody,
                    format!(
                        "DigitalOcean answered the write with a redirect to {}; writes are never sent to another location",
                        location.as_deref().unwrap_or("no location")
                    ),
                );
                error.0.status = Some(response.status());
                error.0.request_id = request_id_header(response.headers());
                error
            }
            None => {
                let mut error = Self::from_buffered(response);
                if response.status().is_success() {
                    // A success body that is not JSON: nothing in it can be read.
                    error.0.kind = ErrorKind::UnexpectedBody;
                }
                error
            }
        };
        error.0.attempts = record.attempts;
        error.0.outcome = record.outcome;
        error.0.write = record.write;
        error.0.reconciliation = record.reconciliation;
        error
    }

    fn invalid_request(message: String) -> Self {
        // progenitor's builders report "x was not initialized" and
        // "conversion to `T` for x failed"; name the argument and the rule.
        let text = if let Some(name) = message.strip_suffix(" was not initialized") {
            format!(
                "missing argument `{name}`: set it on the request builder before send(); nothing was sent"
            )
        } else if let Some(rest) = message.strip_prefix("conversion to `")
            && let Some((type_name, rest)) = rest.split_once("` for ")
            && let Some((name, detail)) = rest.split_once(" failed")
        {
            let rule = crate::validation::describe_parameter(name)
                .map(|rule| format!(": it {rule}"))
                .unwrap_or_default();
            let detail = detail.trim_start_matches(':').trim();
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            };
            format!(
                "invalid argument `{name}`: not a valid {}{rule}{detail}; nothing was sent",
                type_name.replace(' ', "")
            )
        } else {
            message
        };
        Self::new(ErrorKind::InvalidArgument, text)
    }
}

impl<E: ErrorBody> From<progenitor_client::Error<E>> for Error {
    fn from(error: progenitor_client::Error<E>) -> Self {
        use progenitor_client::Error as Generated;
        match error {
            Generated::InvalidRequest(message) => Self::invalid_request(message),
            Generated::CommunicationError(source)
            | Generated::InvalidUpgrade(source)
            | Generated::ResponseBodyError(source) => Self::transport(source),
            Generated::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                Self::from_response_parts(
                    status,
                    &headers,
                    true,
                    Some(response.into_inner().parts()),
                    None,
                )
            }
            Generated::InvalidResponsePayload(body, source) => {
                // Only a success status is decoded: DigitalOcean did what was asked.
                let mut error = Self::new(ErrorKind::Decode, source.to_string());
                error.0.excerpt = Some(excerpt(&body));
                error.0.outcome = Outcome::Applied;
                error.0.attempts = 1;
                error.0.source = Some(Box::new(source));
                error
            }
            Generated::UnexpectedResponse(response) => {
                // The post hook sends every failed call here, with the exec hook's record.
                match response.extensions().get::<CallRecord>().cloned() {
                    Some(record) => Self::from_record(&response, record),
                    None => Self::from_buffered(&response),
                }
            }
            Generated::Custom(message) => Self::new(ErrorKind::Configuration, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_arguments_are_named() {
        let error = Error::invalid_request("droplet_id was not initialized".into());
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(
            error.to_string().contains("missing argument `droplet_id`"),
            "{error}"
        );
    }

    #[test]
    fn conversion_failures_name_the_argument_and_the_rule() {
        let error = Error::invalid_request("conversion to `TagName` for tag_id failed".into());
        let text = error.to_string();
        assert!(text.contains("`tag_id`"), "{text}");
        assert!(text.contains("255 characters"), "{text}");
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        let body = format!("<html>\n<body>{}</body></html>", "x".repeat(500));
        let text = excerpt(body.as_bytes());
        assert!(text.chars().count() <= 161);
        assert!(!text.contains('\n'));
    }

    #[test]
    fn loose_parts_reads_both_documented_shapes() {
        let standard =
            loose_parts(br#"{"id":"not_found","message":"gone","request_id":"r1"}"#).unwrap();
        assert_eq!(standard.id.as_deref(), Some("not_found"));
        let tags =
            loose_parts(br#"{"error":"bad tag","messages":null,"root_causes":["a"]}"#).unwrap();
        assert_eq!(tags.message.as_deref(), Some("bad tag"));
        assert_eq!(tags.root_causes, ["a"]);
        assert!(loose_parts(b"<html>").is_none());
    }
}
