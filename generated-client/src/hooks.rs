//! progenitor's `ClientHooks`, implemented once for every operation of the generated client:
//!
//! * `pre`: drops progenitor's undocumented `api-version` header, checks the arguments
//!   against the document's constraints, and fails fast when the rate limit is spent and
//!   the policy says so;
//! * `exec`: one tracing span per call; before each attempt the rate-limit pacing; the
//!   attempt; retries of transient failures (never a second send of a POST that may have
//!   reached the server, unless the policy allows it); the body is buffered so that errors
//!   can quote it, and the number of attempts is recorded on the response;
//! * `post`: an error status whose body is not a documented error body (an HTML page,
//!   an empty or truncated body) becomes `UnexpectedResponse`, so the error keeps the status
//!   and an excerpt instead of a bare decoding failure.

use std::time::Instant;

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::ResponseBuilderExt;
use reqwest::header::HeaderValue;
use tracing::Instrument;

use crate::error::{ATTEMPTS_HEADER, BufferedBody, RATE_LIMIT_EXHAUSTED, is_documented_error_body};
use crate::rate_limit::{Gate, RateLimit};
use crate::retry::{self, RetryReason};
use crate::{Client, ClientState};

/// The outcome of one attempt: a complete response (body read), or a transport error.
enum Attempt {
    Response(reqwest::Response),
    /// The error, and whether the response headers had arrived (the body was cut).
    Failed(reqwest::Error, bool),
}

async fn attempt_once(http: &reqwest::Client, request: reqwest::Request) -> Attempt {
    let response = match http.execute(request).await {
        Ok(response) => response,
        Err(error) => return Attempt::Failed(error, false),
    };
    let status = response.status();
    let version = response.version();
    let url = response.url().clone();
    let headers = response.headers().clone();
    // Read the whole body inside the attempt: a connection that breaks mid-body is a
    // transport failure like any other (and retryable for idempotent methods).
    let body: Bytes = match response.bytes().await {
        Ok(body) => body,
        Err(error) => return Attempt::Failed(error, true),
    };
    Attempt::Response(rebuild(status, version, url, headers, body))
}

/// A response with the given parts and a buffered body (kept as an extension too, so the
/// post hook and the error conversion can read it without consuming the response).
fn rebuild(
    status: reqwest::StatusCode,
    version: reqwest::Version,
    url: reqwest::Url,
    headers: reqwest::header::HeaderMap,
    body: Bytes,
) -> reqwest::Response {
    // Only the URL goes through the builder (reqwest keeps it in a private extension);
    // nothing fallible is set on it, and the rest is set through infallible accessors.
    let mut response = http::Response::builder()
        .url(url)
        .body(body.clone())
        .unwrap_or_else(|_| http::Response::new(body.clone()));
    *response.status_mut() = status;
    *response.version_mut() = version;
    *response.headers_mut() = headers;
    response.extensions_mut().insert(BufferedBody(body));
    reqwest::Response::from(response)
}

impl ClientHooks<ClientState> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        // progenitor adds `api-version` to every request; DigitalOcean documents no such
        // header, so only documented headers leave the client.
        request.headers_mut().remove("api-version");

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
                let limit = state.shared.rate_limit.latest();
                return Err(progenitor_client::Error::Custom(exhausted_message(
                    limit.as_ref(),
                    &reason,
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
        self.exec_with_retries(request, info).instrument(span).await
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
        let status = response.status();
        let malformed = if status.is_client_error() || status.is_server_error() {
            !is_documented_error_body(body)
        } else {
            // A success body that is not even JSON (truncated, an HTML page): report the
            // status and an excerpt rather than a bare parse error. An empty body is left
            // to the generated code (204, 202 have none).
            !body.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err()
        };
        if malformed {
            return Err(progenitor_client::Error::UnexpectedResponse(copy_response(
                response,
                body.clone(),
            )));
        }
        Ok(())
    }
}

fn copy_response(response: &reqwest::Response, body: Bytes) -> reqwest::Response {
    rebuild(
        response.status(),
        response.version(),
        response.url().clone(),
        response.headers().clone(),
        body,
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
    format!("{RATE_LIMIT_EXHAUSTED}: {reason}{budget}; not waiting; nothing was sent")
}

impl Client {
    async fn exec_with_retries(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let state = &self.inner;
        let policy = &state.retry;
        let rate_policy = &state.shared.rate_limit_policy;
        let may_repeat_after_send =
            retry::idempotent(request.method()) || policy.retries_posts_after_send();
        let started = Instant::now();
        // The whole call, sleeps included, fits in the policy's time budget.
        let deadline = started.checked_add(policy.max_elapsed());
        let time_left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let mut attempt: u32 = 0;
        let mut current = request;
        let mut previous: Option<Attempt> = None;
        loop {
            // A request whose body cannot be cloned (a stream) gets exactly one attempt.
            let next = current.try_clone();
            let last_possible = next.is_none() || attempt + 1 >= policy.max_attempts();

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
                        // A retry the budget does not allow: the last answer stands.
                        return finish(previous, attempt, started);
                    }
                }
            }
            // The last attempt is cut at the deadline, so the call never outlives it.
            if let Some(left) = time_left() {
                let per_attempt = current
                    .timeout()
                    .copied()
                    .or(state.shared.request_timeout)
                    .map_or(left, |t| t.min(left));
                *current.timeout_mut() = Some(per_attempt);
            }

            attempt += 1;
            let outcome = attempt_once(self.client(), current).await;
            let reason: Option<RetryReason> = match &outcome {
                Attempt::Response(response) => {
                    if let Some(limit) = RateLimit::from_headers(response.headers()) {
                        state.shared.rate_limit.observe(limit);
                    }
                    retry::retryable_status(response.status().as_u16())
                }
                Attempt::Failed(error, after_headers) => {
                    retry::transport_failure(error, *after_headers)
                        .filter(|kind| policy.retries_transport_failure(*kind))
                        .map(RetryReason::Transport)
                }
            };

            let delay = reason.and_then(|reason| {
                if last_possible {
                    return None;
                }
                if reason.reached_server() && !may_repeat_after_send {
                    tracing::debug!(operation = info.operation_id, %reason, "not retrying: the request may have reached the server");
                    return None;
                }
                let asked = match &outcome {
                    Attempt::Response(response) => retry::server_delay(response.headers()),
                    Attempt::Failed(..) => None,
                };
                if let Some(asked) = asked
                    && asked > rate_policy.max_wait()
                {
                    tracing::debug!(operation = info.operation_id, %reason, "not retrying: the server asks for a longer wait than max_wait");
                    return None;
                }
                let delay = asked.unwrap_or_else(|| policy.backoff(attempt, retry::random()));
                if time_left().is_some_and(|left| delay >= left) {
                    tracing::debug!(operation = info.operation_id, %reason, "not retrying: the time budget would be exceeded");
                    return None;
                }
                Some((reason, delay))
            });

            let (Some((reason, delay)), Some(next)) = (delay, next) else {
                return finish(outcome, attempt, started);
            };
            tracing::warn!(
                operation = info.operation_id,
                attempt,
                reason = %reason,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying DigitalOcean request"
            );
            previous = Some(outcome);
            tokio::time::sleep(delay).await;
            current = next;
        }
    }
}

/// Records the outcome on the span and on what is returned: the number of attempts as a
/// response header, or in the URL fragment of a transport error.
fn finish(outcome: Attempt, attempts: u32, started: Instant) -> reqwest::Result<reqwest::Response> {
    let span = tracing::Span::current();
    span.record("attempt", attempts);
    span.record("elapsed_ms", started.elapsed().as_millis() as u64);
    match outcome {
        Attempt::Response(mut response) => {
            span.record("status", response.status().as_u16());
            if let Some(request_id) = response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
            {
                span.record("request_id", request_id);
            }
            response
                .headers_mut()
                .insert(ATTEMPTS_HEADER, HeaderValue::from(attempts));
            Ok(response)
        }
        Attempt::Failed(mut error, _) => {
            if let Some(url) = error.url_mut() {
                url.set_fragment(Some(&format!("attempts={attempts}")));
            }
            Err(error)
        }
    }
}
