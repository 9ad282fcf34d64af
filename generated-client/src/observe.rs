//! Exchange observers: a read-only look at every attempt as it went over the wire, for
//! tools that check traffic against the document (`conform`), record it, or debug it.
//!
//! The observer sees the raw answer before any decoding and before the client adds its
//! own facts, so what it sees is what the server sent. It never sees the token: the
//! `Authorization` header is not part of the request headers it is shown.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use reqwest::{Method, StatusCode, Url};

/// One attempt of a call, as sent and as answered.
#[derive(Debug)]
#[non_exhaustive]
pub struct ObservedExchange<'a> {
    /// The operation (its `operationId`).
    pub operation_id: &'a str,
    /// Which attempt of the call this was (1 for the first).
    pub attempt: u32,
    pub method: &'a Method,
    pub url: &'a Url,
    /// The request's headers, without `Authorization`.
    pub request_headers: &'a HeaderMap,
    /// The request body, when it had one.
    pub request_body: Option<&'a [u8]>,
    /// The complete answer; `None` when the attempt got none (a connection failure, a
    /// timeout, a body cut short).
    pub response: Option<ObservedResponse<'a>>,
}

/// The complete answer of an attempt, unchanged.
#[derive(Debug)]
#[non_exhaustive]
pub struct ObservedResponse<'a> {
    pub status: StatusCode,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// A function that is shown every attempt (see
/// [`ClientBuilder::observe_exchanges`](crate::ClientBuilder::observe_exchanges)).
#[derive(Clone)]
pub(crate) struct ExchangeObserver(pub(crate) Arc<dyn Fn(&ObservedExchange<'_>) + Send + Sync>);

impl fmt::Debug for ExchangeObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExchangeObserver")
    }
}

/// What the observer is shown of a request, taken before the request is sent (sending
/// consumes it). Taken only when an observer is set, so a client without one pays nothing.
pub(crate) struct SentRequest {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Bytes>,
}

impl SentRequest {
    pub(crate) fn of(request: &reqwest::Request) -> Self {
        let mut headers = request.headers().clone();
        headers.remove(AUTHORIZATION);
        Self {
            method: request.method().clone(),
            url: request.url().clone(),
            headers,
            body: request
                .body()
                .and_then(reqwest::Body::as_bytes)
                .map(Bytes::copy_from_slice),
        }
    }
}

impl ExchangeObserver {
    /// Shows the observer one attempt and its answer, if it got one.
    pub(crate) fn show(
        &self,
        operation_id: &str,
        attempt: u32,
        request: &SentRequest,
        response: Option<(StatusCode, &HeaderMap, &[u8])>,
    ) {
        let exchange = ObservedExchange {
            operation_id,
            attempt,
            method: &request.method,
            url: &request.url,
            request_headers: &request.headers,
            request_body: request.body.as_deref(),
            response: response.map(|(status, headers, body)| ObservedResponse {
                status,
                headers,
                body,
            }),
        };
        (self.0)(&exchange);
    }
}
