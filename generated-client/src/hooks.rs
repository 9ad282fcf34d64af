//! progenitor's `ClientHooks`, implemented once for every operation of the generated client:
//!
//! * `pre`: drops progenitor's undocumented `api-version` header, checks the arguments
//!   against the document's constraints, and fails fast when the rate limit is spent and
//!   the policy says so;
//! * `exec`: one tracing span per call; before each attempt the rate-limit pacing; the
//!   attempt; retries of transient failures (never a second send of a POST that may have
//!   reached the server, unless the policy allows it); reconciliation of creates whose
//!   outcome is unknown (see `reconcile`); a DELETE whose retry answers 404 finishes as the
//!   success it was. It always returns a response carrying a [`CallRecord`] (attempts,
//!   [`Outcome`], the transport failure if any), with the body buffered;
//! * `post`: every failed call (a transport failure, an error status, a success body that
//!   is not JSON) becomes `UnexpectedResponse`, so that `crate::Error` reads the record.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use progenitor_client::{ClientHooks, OperationInfo};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, ResponseBuilderExt, StatusCode};

use crate::error::{ATTEMPTS_HEADER, BufferedBody, RECONCILED_HEADER};
use crate::observe::SentRequest;
use crate::outcome::{Outcome, Reconciliation, Resolution};
use crate::rate_limit::{Gate, RateLimit};
use crate::reconcile::{Create, Verdict};
use crate::retry::{self, RetryReason, TransportFailure};
use crate::transport::{self, Exchange, TransportError};
use crate::{Client, ClientState};

/// The facts of a finished call, attached (as an extension) to the response `exec`
/// returns, and read by the `post` hook and by the conversion into `crate::Error`.
#[derive(Debug, Clone)]
pub(crate) struct CallRecord {
    /// Attempts sent (0: none).
    pub attempts: u32,
    /// What is known about the effect of the call.
    pub outcome: Outcome,
    /// Whether the method writes (anything but GET and HEAD).
    pub write: bool,
    /// Why the call has no usable answer, when it has none.
    pub failure: Option<CallFailure>,
    /// How an unknown outcome of a create was settled.
    pub reconciliation: Option<Reconciliation>,
}

/// Why a call has no usable answer.
#[derive(Debug, Clone)]
pub(crate) enum CallFailure {
    /// The last attempt got no complete answer.
    Transport {
        kind: Option<TransportFailure>,
        /// The status and headers, when they arrived before the body was cut.
        head: Option<(StatusCode, HeaderMap)>,
        message: String,
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// A write was answered with a redirect, which the client never follows.
    RedirectedWrite { location: Option<String> },
    /// The rate-limit budget refused the call before anything was sent.
    RateLimitRefused {
        message: String,
        limit: Option<RateLimit>,
    },
}

/// One attempt's result.
type Attempt = Result<Exchange, TransportError>;

/// What one attempt tells about the effect of the request.
fn outcome_of(attempt: &Attempt) -> Outcome {
    match attempt {
        Ok(exchange) => Outcome::of_status(exchange.status.as_u16()),
        Err(TransportError {
            head: Some((status, _)),
            ..
        }) => Outcome::of_status(status.as_u16()),
        Err(TransportError {
            kind: None | Some(TransportFailure::Connect),
            ..
        }) => Outcome::NotSent,
        Err(_) => Outcome::Unknown,
    }
}

/// Whether "not found by the lookup" proves a create was not applied after this attempt:
/// only when the server side ended the exchange (an answer, or a closed connection). After
/// a timeout DigitalOcean may still be working on the request.
fn absence_proves_not_applied(attempt: &Attempt) -> bool {
    match attempt {
        Ok(_) => true,
        Err(error) => matches!(
            error.kind,
            Some(
                TransportFailure::ResetBeforeResponse
                    | TransportFailure::BodyCut
                    | TransportFailure::MalformedResponse
            )
        ),
    }
}

/// How long an attempt that starts at `now` may take: the client's `per_attempt` time, cut
/// so that the attempt ends by the call's deadline. (A request's own reqwest timeout, which
/// the generated client never sets, is still applied by reqwest.)
pub(crate) fn attempt_limit(
    per_attempt: Option<Duration>,
    deadline: Option<Instant>,
    now: Instant,
) -> Option<Duration> {
    let left = deadline.map(|d| d.saturating_duration_since(now));
    match (per_attempt, left) {
        (Some(per_attempt), Some(left)) => Some(per_attempt.min(left)),
        (per_attempt, left) => per_attempt.or(left),
    }
}

/// A response with the given parts, the body buffered (also as an extension, so the post
/// hook and the error conversion read it without consuming the response) and the record.
fn rebuild(
    status: StatusCode,
    version: reqwest::Version,
    url: Option<reqwest::Url>,
    headers: HeaderMap,
    extensions: http::Extensions,
    body: Bytes,
    record: CallRecord,
) -> reqwest::Response {
    let mut response = http_response(status, version, url, headers, extensions, body.clone());
    response.extensions_mut().insert(BufferedBody(body));
    response.extensions_mut().insert(record);
    reqwest::Response::from(response)
}

/// A response with the given parts and nothing else: a usable success. (Its URL stays:
/// without one, reqwest parses a placeholder URL for every response.)
fn plain(
    status: StatusCode,
    version: reqwest::Version,
    url: Option<reqwest::Url>,
    headers: HeaderMap,
    extensions: http::Extensions,
    body: Bytes,
) -> reqwest::Response {
    reqwest::Response::from(http_response(
        status, version, url, headers, extensions, body,
    ))
}

fn http_response(
    status: StatusCode,
    version: reqwest::Version,
    url: Option<reqwest::Url>,
    headers: HeaderMap,
    extensions: http::Extensions,
    body: Bytes,
) -> http::Response<Bytes> {
    // Only the URL goes through the builder (reqwest keeps it in a private extension), into
    // the answer's own extensions: a map of its own cost two more allocations per call.
    // Nothing fallible is set on the builder; the rest is set through infallible accessors.
    let mut builder = http::Response::builder();
    if let Some(own) = builder.extensions_mut() {
        *own = extensions;
    }
    let builder = match url {
        Some(url) => builder.url(url),
        None => builder,
    };
    // Built on `()` so that the body is moved in once (a clone of a fresh buffer allocates).
    let mut response = builder
        .body(())
        .unwrap_or_else(|_| http::Response::new(()))
        .map(|()| body);
    *response.status_mut() = status;
    *response.version_mut() = version;
    *response.headers_mut() = headers;
    response
}

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        // progenitor adds `api-version` to every request; DigitalOcean documents no such
        // header, so only documented headers leave the client.
        request.headers_mut().remove(API_VERSION);

        crate::validation::check(info.operation_id, request)
            .map_err(progenitor_client::Error::InvalidRequest)?;

        // The first attempt's wait under the rate limit (pacing, or a spent budget), bounded
        // by max_wait and the call's time budget; refused here, nothing is sent.
        let state = &self.inner;
        let policy = &state.shared.rate_limit_policy;
        let pace = state.shared.rate_limit.before_send(policy);
        match pace.gate(policy, Some(state.retry.max_elapsed())) {
            Gate::Go => {}
            Gate::Sleep(wait) => wait_under_rate_limit(info.operation_id, wait).await,
            Gate::Refuse(reason) => {
                // Nothing was sent: the refusal travels to crate::Error as a call record on
                // an empty response, like every other failed call.
                let limit = state.shared.rate_limit.latest();
                let record = CallRecord {
                    attempts: 0,
                    outcome: Outcome::NotSent,
                    write: !matches!(*request.method(), Method::GET | Method::HEAD),
                    failure: Some(CallFailure::RateLimitRefused {
                        message: exhausted_message(limit.as_ref(), &reason),
                        limit,
                    }),
                    reconciliation: None,
                };
                return Err(progenitor_client::Error::UnexpectedResponse(rebuild(
                    StatusCode::TOO_MANY_REQUESTS,
                    reqwest::Version::HTTP_11,
                    Some(request.url().clone()),
                    HeaderMap::new(),
                    http::Extensions::new(),
                    Bytes::new(),
                    record,
                )));
            }
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let span = tracing::info_span!(
            "digitalocean.request",
            operation = info.operation_id,
            method = %request.method(),
            path = %request.url().path(),
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            attempt = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        // The call loop runs inside the span, polled where it was built: `.instrument(span)`
        // would copy the loop's whole future (2 KB, most of a call's state) into its wrapper,
        // memory not yet in cache (measured: 105 instructions and 15 L1 write misses a call).
        let mut call = std::pin::pin!(self.exec_with_retries(request, info));
        std::future::poll_fn(|cx| {
            let _entered = span.enter();
            call.as_mut().poll(cx)
        })
        .await
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let Ok(response) = result else {
            return Ok(());
        };
        let Some(BufferedBody(body)) = response.extensions().get::<BufferedBody>() else {
            return Ok(());
        };
        let failed = response
            .extensions()
            .get::<CallRecord>()
            .is_some_and(|record| record.failure.is_some());
        let status = response.status();
        let unusable = failed
            || !status.is_success()
            // A success body that is not even JSON (truncated, an HTML page): report the
            // status and an excerpt rather than a bare parse error. An empty body is left
            // to the generated code (204, 202 have none).
            || (!body.is_empty() && !parses_as_json(body));
        if unusable {
            // Every failed call reaches crate::Error through here, with its record.
            return Err(progenitor_client::Error::UnexpectedResponse(copy_response(
                response,
                body.clone(),
            )));
        }
        Ok(())
    }
}

/// Whether a body parses as JSON.
fn parses_as_json(body: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

/// Whether a success body of a call's first attempt can go to the generated code as it
/// is. A body framed as one object or array (its first and last characters) is taken for
/// JSON without parsing it: the generated code decodes it next, and parsing every body
/// twice was a third of this layer's cost per call. The rare body framed as JSON but
/// broken inside (cut right after a closing brace) then fails that decoding: an error of
/// kind `Decode` with the excerpt and the outcome `Applied`, as is true of a first attempt
/// that was answered 2xx. A later attempt's body is parsed, so that such an error comes
/// with the call's record (its attempts) instead.
fn usable_as_it_is(body: &[u8], attempts: u32) -> bool {
    let text = body.trim_ascii();
    let framed = matches!(
        (text.first(), text.last()),
        (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
    );
    body.is_empty() || (framed && attempts <= 1) || parses_as_json(body)
}

fn copy_response(response: &reqwest::Response, body: Bytes) -> reqwest::Response {
    let record = response
        .extensions()
        .get::<CallRecord>()
        .cloned()
        .unwrap_or(CallRecord {
            attempts: 1,
            outcome: Outcome::of_status(response.status().as_u16()),
            write: false,
            failure: None,
            reconciliation: None,
        });
    rebuild(
        response.status(),
        response.version(),
        Some(response.url().clone()),
        response.headers().clone(),
        http::Extensions::new(),
        body,
        record,
    )
}

/// A wait the rate-limit gate allowed (already bounded by max_wait and the time budget).
async fn wait_under_rate_limit(operation_id: &str, wait: std::time::Duration) {
    tracing::debug!(
        operation = operation_id,
        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
        "waiting under the rate limit"
    );
    tokio::time::sleep(wait).await;
}

fn exhausted_message(limit: Option<&RateLimit>, reason: &str) -> String {
    let budget = limit
        .map(|l| format!(" ({} of {} requests left)", l.remaining, l.limit))
        .unwrap_or_default();
    format!("rate limit exhausted: {reason}{budget}; not waiting; nothing was sent")
}

/// [`ATTEMPTS_HEADER`] and [`RECONCILED_HEADER`] as header names, checked at compile time
/// rather than parsed on every call.
const ATTEMPTS: http::HeaderName = http::HeaderName::from_static(ATTEMPTS_HEADER);
const RECONCILED: http::HeaderName = http::HeaderName::from_static(RECONCILED_HEADER);
/// What both header names start with (checked by a test).
const CLIENT_HEADER_PREFIX: &str = "x-digitalocean-client-";
const REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");
const API_VERSION: http::HeaderName = http::HeaderName::from_static("api-version");

/// The value of [`ATTEMPTS_HEADER`]: a static string for the usual counts (formatting a
/// number into a header value allocates).
fn attempts_value(attempts: u32) -> HeaderValue {
    const COUNTS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
    match COUNTS.get(attempts as usize) {
        Some(count) => HeaderValue::from_static(count),
        None => HeaderValue::from(attempts),
    }
}

/// What the call loop knows so far.
struct CallProgress {
    attempts: u32,
    /// The least certain outcome of the attempts since the last proof of absence.
    outcome: Outcome,
    write: bool,
    reconciliation: Option<Reconciliation>,
    /// When the call started, which is when its first attempt was sent: the wait under
    /// the rate limit before it happens in the `pre` hook, before the call's clock starts.
    started: Instant,
}

impl CallProgress {
    fn record(&self, outcome: Outcome, failure: Option<CallFailure>) -> CallRecord {
        CallRecord {
            attempts: self.attempts,
            outcome,
            write: self.write,
            failure,
            reconciliation: self.reconciliation.clone(),
        }
    }
}

impl Client {
    /// The call loop. A function returning a block rather than an `async fn`, whose future
    /// would hold the request twice: an `async fn` moves each argument into a local.
    #[allow(
        clippy::manual_async_fn,
        reason = "an async fn would store its arguments twice in its future"
    )]
    #[inline(always)]
    fn exec_with_retries<'a>(
        &'a self,
        // The request of the attempt about to be sent: sent from this argument itself, not
        // moved through locals (each move copies the request's 264 bytes, and each local is
        // one more slot in this future).
        mut current: reqwest::Request,
        info: &'a OperationInfo,
    ) -> impl Future<Output = reqwest::Result<reqwest::Response>> + 'a {
        async move {
            let state = &self.inner;
            let policy = &state.retry;
            let rate_policy = &state.shared.rate_limit_policy;
            let method = current.method().clone();
            let may_repeat_after_send =
                retry::idempotent(&method) || policy.retries_posts_after_send();
            let create = if state.reconcile_creates {
                Create::of(info.operation_id, &current)
            } else {
                None
            };
            let started = Instant::now();
            // The whole call, sleeps and lookups included, fits in the policy's time budget.
            let deadline = started.checked_add(policy.max_elapsed());
            let time_left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let mut progress = CallProgress {
                attempts: 0,
                outcome: Outcome::NotSent,
                write: !matches!(method, Method::GET | Method::HEAD),
                reconciliation: None,
                started,
            };
            let mut previous: Option<Attempt> = None;
            loop {
                // A request whose body cannot be cloned (a stream) gets exactly one attempt.
                let next = transport::copy_of(&current);
                let last_possible =
                    next.is_none() || progress.attempts + 1 >= policy.max_attempts();

                // Pacing and the spent budget, bounded by max_wait and the time budget: past
                // them the policy's WhenExhausted decides.
                // (The first attempt passed the same gate in the pre hook.)
                let gate = match previous {
                    None => Gate::Go,
                    Some(_) => state
                        .shared
                        .rate_limit
                        .before_send(rate_policy)
                        .gate(rate_policy, time_left()),
                };
                match gate {
                    Gate::Go => {}
                    Gate::Sleep(wait) => wait_under_rate_limit(info.operation_id, wait).await,
                    Gate::Refuse(reason) => {
                        tracing::debug!(operation = info.operation_id, %reason, "not retrying under the rate limit");
                        if let Some(previous) = previous {
                            // A retry the budget does not allow: the last answer stands, and a
                            // create proved absent was not sent again after all.
                            if let Some(reconciliation) = progress.reconciliation.as_mut()
                                && reconciliation.resolution == Resolution::AbsentSentAgain
                            {
                                reconciliation.resolution = Resolution::Absent;
                            }
                            return Ok(finish(previous, &progress));
                        }
                    }
                }
                // The attempt is cut at the deadline, so the call never outlives it. The
                // first one leaves as the call starts: its limit counts from then, with no
                // second clock read.
                let now = if previous.is_none() {
                    started
                } else {
                    Instant::now()
                };
                let limit = attempt_limit(state.shared.request_timeout, deadline, now);

                progress.attempts += 1;
                // Boxed: kept across the attempt, and only when an observer is set, it
                // would otherwise take its 240 bytes in every call's future.
                let observed = state
                    .shared
                    .observer
                    .as_ref()
                    .map(|observer| (observer, Box::new(SentRequest::of(&current))));
                let attempt = transport::send(self, current, next.as_ref(), limit, now).await;
                if let Some((observer, sent)) = &observed {
                    let answer = attempt
                        .as_ref()
                        .ok()
                        .map(|exchange| (exchange.status, &exchange.headers, &exchange.body[..]));
                    observer.show(info.operation_id, progress.attempts, sent, answer);
                }
                let headers = match &attempt {
                    Ok(exchange) => Some(&exchange.headers),
                    Err(error) => error.head.as_ref().map(|(_, headers)| headers),
                };
                if let Some(limit) = headers.and_then(RateLimit::from_headers) {
                    state.shared.rate_limit.observe(limit);
                }
                let this_outcome = outcome_of(&attempt);

                // A DELETE that may have been applied by an earlier attempt and now answers
                // 404 has done its job: report the documented success.
                // (Checked in place: a match that hands the attempt on would keep a second
                // copy of it in the call's future.)
                if method == Method::DELETE
                    && progress.outcome.may_have_been_applied()
                    && let Ok(exchange) = &attempt
                    && exchange.status == StatusCode::NOT_FOUND
                {
                    let status = crate::validation::success_status(info.operation_id);
                    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::NO_CONTENT);
                    tracing::info!(
                        operation = info.operation_id,
                        attempts = progress.attempts,
                        "a retried DELETE answered 404 after an attempt that may have applied it: reporting success"
                    );
                    let success = attempt.map(|exchange| Exchange {
                        status,
                        body: Bytes::new(),
                        ..exchange
                    });
                    return Ok(finish_with(success, &progress, Outcome::Applied));
                }
                progress.outcome = progress.outcome.max(this_outcome);

                // A create that may have been applied, without a usable answer, is settled by
                // looking it up (a 5xx, or a broken exchange; a complete 2xx needs nothing).
                let unsettled = match &attempt {
                    Ok(_) => this_outcome == Outcome::Unknown,
                    Err(_) => this_outcome.may_have_been_applied(),
                };
                if let Some(create) = &create
                    && unsettled
                {
                    let lookup = create.describe_lookup();
                    // Boxed: the lookup's future is large and rarely run, and inlined it would
                    // grow every call's future by its size.
                    let verdict = Box::pin(self.look_up(create, started, deadline)).await;
                    let resolution = match verdict {
                    Verdict::Found(body, headers) => {
                        progress.reconciliation = Some(Reconciliation {
                            lookup,
                            resolution: Resolution::Found,
                        });
                        log_reconciliation(info.operation_id, &progress);
                        let status = crate::validation::success_status(info.operation_id);
                        let found = Exchange {
                            status: StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
                            version: reqwest::Version::HTTP_11,
                            url: match &attempt {
                                Ok(exchange) => exchange.url.clone(),
                                Err(error) => error.url.clone(),
                            },
                            headers: rate_limit_headers(&headers),
                            extensions: http::Extensions::new(),
                            body,
                        };
                        return Ok(finish_with(Ok(found), &progress, Outcome::Applied));
                    }
                    Verdict::Absent if this_outcome == Outcome::Applied => Resolution::Unsettled(
                        "DigitalOcean accepted the create, but the lookup does not show it yet".into(),
                    ),
                    Verdict::Absent if absence_proves_not_applied(&attempt) => {
                        // Nothing any attempt sent was applied.
                        progress.outcome = Outcome::Rejected;
                        let can_resend = !last_possible
                            && time_left().is_none_or(|left| left > Duration::ZERO);
                        if can_resend && let Some(next) = next {
                            progress.reconciliation = Some(Reconciliation {
                                lookup,
                                resolution: Resolution::AbsentSentAgain,
                            });
                            log_reconciliation(info.operation_id, &progress);
                            previous = Some(attempt);
                            current = next;
                            continue;
                        }
                        Resolution::Absent
                    }
                    Verdict::Absent => Resolution::Unsettled(
                        "the lookup found nothing yet, but the attempt timed out and DigitalOcean may still be processing it".into(),
                    ),
                    Verdict::Unsettled(reason) => Resolution::Unsettled(reason),
                };
                    progress.reconciliation = Some(Reconciliation { lookup, resolution });
                    log_reconciliation(info.operation_id, &progress);
                    return Ok(finish(attempt, &progress));
                }

                let reason: Option<RetryReason> = match &attempt {
                    Ok(exchange) => retry::retryable_status(exchange.status.as_u16()),
                    Err(error) => error
                        .kind
                        .filter(|kind| policy.retries_transport_failure(*kind))
                        .map(RetryReason::Transport),
                };
                let delay = reason.and_then(|reason| {
                if last_possible {
                    return None;
                }
                if reason.reached_server() && !may_repeat_after_send {
                    tracing::debug!(operation = info.operation_id, %reason, "not retrying: the request may have reached the server");
                    return None;
                }
                let asked = match &attempt {
                    Ok(exchange) => retry::server_delay(&exchange.headers),
                    Err(_) => None,
                };
                if let Some(asked) = asked
                    && asked > rate_policy.max_wait()
                {
                    tracing::debug!(operation = info.operation_id, %reason, "not retrying: the server asks for a longer wait than max_wait");
                    return None;
                }
                let delay =
                    asked.unwrap_or_else(|| policy.backoff(progress.attempts, retry::random()));
                if time_left().is_some_and(|left| delay >= left) {
                    tracing::debug!(operation = info.operation_id, %reason, "not retrying: the time budget would be exceeded");
                    return None;
                }
                Some((reason, delay))
            });

                let (Some((reason, delay)), Some(next)) = (delay, next) else {
                    return Ok(finish(attempt, &progress));
                };
                tracing::warn!(
                    operation = info.operation_id,
                    attempt = progress.attempts,
                    reason = %reason,
                    delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                    "retrying DigitalOcean request"
                );
                previous = Some(attempt);
                tokio::time::sleep(delay).await;
                current = next;
            }
        }
    }
}

/// The rate-limit headers of a lookup response, for the response made from it.
fn rate_limit_headers(headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for name in ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] {
        for value in headers.get_all(name) {
            kept.append(name, value.clone());
        }
    }
    kept
}

fn log_reconciliation(operation_id: &str, progress: &CallProgress) {
    if let Some(reconciliation) = &progress.reconciliation {
        tracing::warn!(
            operation = operation_id,
            attempts = progress.attempts,
            lookup = %reconciliation.lookup,
            resolution = ?reconciliation.resolution,
            "reconciled a create whose outcome was unknown"
        );
    }
}

/// The call's result with the outcome the loop accumulated.
fn finish(attempt: Attempt, progress: &CallProgress) -> reqwest::Response {
    finish_with(attempt, progress, progress.outcome)
}

/// Records the call on the span and on the response `exec` returns.
fn finish_with(attempt: Attempt, progress: &CallProgress, outcome: Outcome) -> reqwest::Response {
    let span = tracing::Span::current();
    // Nothing to record when no subscriber wants the span: the clock and the header lookup
    // are skipped too.
    let recording = !span.is_disabled();
    if recording {
        span.record("attempt", progress.attempts);
        span.record(
            "elapsed_ms",
            u64::try_from(progress.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
    }
    match attempt {
        Ok(mut exchange) => {
            if recording {
                span.record("status", exchange.status.as_u16());
                if let Some(request_id) = exchange
                    .headers
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                {
                    span.record("request_id", request_id);
                }
            }
            // ResponseValue keeps only the headers, so a success tells its attempts and
            // reconciliation there. Headers of those names the server sent are dropped
            // first, so that it cannot speak for the client; then one attempt needs no
            // header (it is what an absent one means).
            if exchange
                .headers
                .keys()
                .any(|name| name.as_str().starts_with(CLIENT_HEADER_PREFIX))
            {
                exchange.headers.remove(ATTEMPTS);
                exchange.headers.remove(RECONCILED);
            }
            if progress.attempts != 1 {
                exchange
                    .headers
                    .insert(ATTEMPTS, attempts_value(progress.attempts));
            }
            if let Some(reconciliation) = &progress.reconciliation
                && let Ok(value) =
                    HeaderValue::from_str(&crate::error::encode_reconciliation(reconciliation))
            {
                exchange.headers.insert(RECONCILED, value);
            }
            let failure = (progress.write && exchange.status.is_redirection()).then(|| {
                CallFailure::RedirectedWrite {
                    location: exchange
                        .headers
                        .get(reqwest::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string),
                }
            });
            // A usable success goes to the generated code as it is: the record and the
            // buffered copy are read only on the way to an error.
            if failure.is_none()
                && exchange.status.is_success()
                && usable_as_it_is(&exchange.body, progress.attempts)
            {
                return plain(
                    exchange.status,
                    exchange.version,
                    exchange.url,
                    exchange.headers,
                    exchange.extensions,
                    exchange.body,
                );
            }
            let record = progress.record(outcome, failure);
            rebuild(
                exchange.status,
                exchange.version,
                exchange.url,
                exchange.headers,
                exchange.extensions,
                exchange.body,
                record,
            )
        }
        Err(error) => {
            let message = error.to_string();
            let url = error.url;
            let (status, headers) = error
                .head
                .clone()
                .unwrap_or((StatusCode::BAD_GATEWAY, HeaderMap::new()));
            if recording
                && let Some(request_id) = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok())
            {
                span.record("request_id", request_id);
            }
            let record = progress.record(
                outcome,
                Some(CallFailure::Transport {
                    kind: error.kind,
                    head: error.head,
                    message,
                    source: Arc::from(error.error),
                }),
            );
            rebuild(
                status,
                reqwest::Version::HTTP_11,
                url,
                headers,
                http::Extensions::new(),
                Bytes::new(),
                record,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::attempt_limit;
    use std::time::{Duration, Instant};

    const MINUTE: Duration = Duration::from_secs(60);

    #[test]
    fn the_client_headers_share_the_prefix_checked_for() {
        for name in [super::ATTEMPTS_HEADER, super::RECONCILED_HEADER] {
            assert!(name.starts_with(super::CLIENT_HEADER_PREFIX), "{name}");
        }
    }

    #[test]
    fn an_attempt_has_the_per_attempt_time_while_the_deadline_is_further() {
        let far = Instant::now().checked_add(10 * MINUTE);
        assert_eq!(
            attempt_limit(Some(MINUTE), far, Instant::now()),
            Some(MINUTE)
        );
        assert_eq!(
            attempt_limit(Some(MINUTE), None, Instant::now()),
            Some(MINUTE)
        );
    }

    #[test]
    fn a_nearer_deadline_cuts_the_attempt() {
        let near = Instant::now().checked_add(Duration::from_secs(5));
        for per_attempt in [Some(MINUTE), None] {
            let limit = attempt_limit(per_attempt, near, Instant::now()).expect("a limit");
            assert!(limit <= Duration::from_secs(5), "{limit:?}");
        }
    }

    #[test]
    fn a_passed_deadline_leaves_no_time() {
        let passed = Instant::now().checked_sub(Duration::from_secs(1));
        assert_eq!(
            attempt_limit(Some(MINUTE), passed, Instant::now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn without_a_per_attempt_time_or_deadline_nothing_bounds_the_attempt_here() {
        assert_eq!(attempt_limit(None, None, Instant::now()), None);
    }
}
