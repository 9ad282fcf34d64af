//! One attempt on the wire: the token goes only to the base URL's origin, GET and HEAD
//! follow redirects by hand (a write is never re-sent to a Location), and the whole body is
//! read inside the attempt so that a connection cut mid-body is a transport failure with
//! the status that had arrived.

use std::fmt;

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, HeaderMap, LOCATION};
use reqwest::{Method, StatusCode};

use crate::Client;
use crate::retry::TransportFailure;

/// Redirects a GET or HEAD follows at most.
const MAX_REDIRECTS: usize = 10;

/// A complete answer.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub status: StatusCode,
    pub version: reqwest::Version,
    pub url: Option<reqwest::Url>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// An attempt that got no complete answer.
#[derive(Debug)]
pub(crate) struct TransportError {
    /// What kind of failure (`None`: the request could not even be built).
    pub kind: Option<TransportFailure>,
    /// The status and headers, when they had arrived before the body was cut.
    pub head: Option<(StatusCode, HeaderMap)>,
    pub error: reqwest::Error,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(kind) = self.kind {
            write!(f, "{kind}")?;
            if let Some((status, _)) = &self.head {
                write!(f, " (after HTTP {})", status.as_u16())?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&chain(&self.error))
    }
}

/// The chain of messages of an error, outermost first, without repeats.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.origin() == b.origin()
}

/// Sends one attempt of `request` and reads the whole answer.
pub(crate) async fn send(
    client: &Client,
    mut request: reqwest::Request,
) -> Result<Exchange, TransportError> {
    let base = reqwest::Url::parse(&client.baseurl).ok();
    let authorization = client.inner.shared.authorization.as_ref();
    let follows = matches!(*request.method(), Method::GET | Method::HEAD);
    let mut hops = 0;
    loop {
        request.headers_mut().remove(AUTHORIZATION);
        if let (Some(token), Some(base)) = (authorization, &base)
            && same_origin(request.url(), base)
        {
            request.headers_mut().insert(AUTHORIZATION, token.clone());
        }
        let again = follows.then(|| request.try_clone()).flatten();
        let response = client
            .client
            .execute(request)
            .await
            .map_err(|error| TransportError {
                kind: crate::retry::transport_failure(&error, false),
                head: None,
                error,
            })?;
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| response.url().join(v).ok());
        if status.is_redirection()
            && hops < MAX_REDIRECTS
            && let (Some(mut next), Some(location)) = (again, location)
        {
            hops += 1;
            *next.url_mut() = location;
            request = next;
            continue;
        }
        return read(response).await;
    }
}

/// The most bytes a `content-length` may reserve up front; a longer body still reads, into
/// a buffer that grows as the bytes arrive (a length a server claims is not trusted).
const MOST_RESERVED: u64 = 8 << 20;

async fn read(response: reqwest::Response) -> Result<Exchange, TransportError> {
    let status = response.status();
    let version = response.version();
    let url = Some(response.url().clone());
    let headers = response.headers().clone();
    crate::read_turns::wait_for_turn().await;
    match body(response).await {
        Ok(body) => Ok(Exchange {
            status,
            version,
            url,
            headers,
            body,
        }),
        Err(error) => Err(TransportError {
            kind: crate::retry::transport_failure(&error, true),
            head: Some((status, headers)),
            error,
        }),
    }
}

/// The whole body, in one buffer of the announced length: collecting the chunks and then
/// joining them held a body twice at its peak. (Keeping a body that came in one chunk
/// instead measured worse: the chunk pins the connection's whole read buffer.)
async fn body(mut response: reqwest::Response) -> reqwest::Result<Bytes> {
    let reserved = response.content_length().unwrap_or(0).min(MOST_RESERVED);
    let mut buffer = bytes::BytesMut::with_capacity(usize::try_from(reserved).unwrap_or(0));
    while let Some(chunk) = response.chunk().await? {
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}
