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

use std::time::{Duration, Instant};

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::ResponseBuilderExt;
use reqwest::header::HeaderValue;
use tracing::Instrument;

use crate::error::{ATTEMPTS_HEADER, BufferedBody, RATE_LIMIT_EXHAUSTED, is_documented_error_body};
use crate::rate_limit::{Pace, RateLimit, WhenExhausted};
use crate::retry::{self, RetryReason};
use crate::{Client, ClientState};

/// The outcome of one attempt: a complete response (body read), or a transport error.
enum Attempt {
    Response(reqwest::Response),
    Failed(reqwest::Error),
}

async fn attempt_once(http: &reqwest::Client, request: reqwest::Request) -> Attempt {
    let response = match http.execute(request).await {
        Ok(response) => response,
        Err(error) => return Attempt::Failed(error),
    };
    let status = response.status();
    let version = response.version();
    let url = response.url().clone();
    let headers = response.headers().clone();
    // Read the whole body inside the attempt: a connection that breaks mid-body is a
    // transport failure like any other (and retryable for idempotent methods).
    let body: Bytes = match response.bytes().await {
        Ok(body) => body,
        Err(error) => return Attempt::Failed(error),
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

        let state = &self.inner;
        let policy = &state.shared.rate_limit_policy;
        if let Some(limit) = state.shared.rate_limit.latest()
            && limit.is_exhausted()
        {
            let wait = limit.resets_in();
            let refuse = match policy.when_exhausted() {
                WhenExhausted::FailFast => !wait.is_zero(),
                WhenExhausted::Wait => wait > policy.max_wait(),
                WhenExhausted::Send => false,
            };
            if refuse {
                return Err(progenitor_client::Error::Custom(exhausted_message(
                    &limit,
                    wait,
                    policy.max_wait(),
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

fn exhausted_message(limit: &RateLimit, wait: Duration, max_wait: Duration) -> String {
    format!(
        "{RATE_LIMIT_EXHAUSTED}: 0 of {} requests left, the oldest expires in {} s; not waiting (the policy allows {} s); nothing was sent",
        limit.limit,
        wait.as_secs(),
        max_wait.as_secs()
    )
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
        let mut attempt: u32 = 0;
        let mut current = request;
        loop {
            attempt += 1;
            // A request whose body cannot be cloned (a stream) gets exactly one attempt.
            let next = current.try_clone();
            let last_possible = next.is_none() || attempt >= policy.max_attempts();

            // Pacing: spend the remaining budget evenly until the reset; when it is spent,
            // wait for the reset if the policy allows (the pre hook failed fast otherwise).
            match state.shared.rate_limit.before_send(rate_policy) {
                Pace::Go => {}
                Pace::Wait(wait) => {
                    tracing::debug!(
                        operation = info.operation_id,
                        wait_ms = wait.as_millis() as u64,
                        "pacing under the rate limit"
                    );
                    tokio::time::sleep(wait).await;
                }
                Pace::Exhausted(wait)
                    if rate_policy.when_exhausted() == WhenExhausted::Wait
                        && wait <= rate_policy.max_wait() =>
                {
                    tracing::info!(
                        operation = info.operation_id,
                        wait_ms = wait.as_millis() as u64,
                        "rate limit spent, waiting for the reset"
                    );
                    tokio::time::sleep(wait).await;
                }
                Pace::Exhausted(_) => {}
            }

            let outcome = attempt_once(self.client(), current).await;
            let reason: Option<RetryReason> = match &outcome {
                Attempt::Response(response) => {
                    if let Some(limit) = RateLimit::from_headers(response.headers()) {
                        state.shared.rate_limit.observe(limit);
                    }
                    retry::retryable_status(response.status().as_u16())
                }
                Attempt::Failed(error) => retry::retryable_error(error),
            };

            let delay = reason.and_then(|reason| {
                if last_possible {
                    return None;
                }
                if reason.reached_server() && !may_repeat_after_send {
                    tracing::debug!(operation = info.operation_id, %reason, "not retrying: the request may have reached the server");
                    return None;
                }
                let delay = match &outcome {
                    Attempt::Response(response) => retry::server_delay(response.headers()),
                    Attempt::Failed(_) => None,
                }
                .unwrap_or_else(|| policy.backoff(attempt, retry::random()));
                if started.elapsed() + delay > policy.max_elapsed() {
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
                delay_ms = delay.as_millis() as u64,
                "retrying DigitalOcean request"
            );
            drop(outcome);
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
        Attempt::Failed(mut error) => {
            if let Some(url) = error.url_mut() {
                url.set_fragment(Some(&format!("attempts={attempts}")));
            }
            Err(error)
        }
    }
}
