//! One attempt on the wire: the token goes only to the base URL's origin, GET and HEAD
//! follow redirects by hand (a write is never re-sent to a Location), the whole body is
//! read inside the attempt so that a connection cut mid-body is a transport failure with
//! the status that had arrived, one timer bounds the whole attempt, and a body longer
//! than the client accepts ends the attempt before it fills the memory.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

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
    /// What reqwest and hyper attached to the answer (the connection's addresses), moved
    /// to the response the layer rebuilds: it then needs no map of its own for the URL.
    pub extensions: http::Extensions,
    pub body: Bytes,
}

/// An attempt that got no complete answer.
#[derive(Debug)]
pub(crate) struct TransportError {
    /// What kind of failure (`None`: the request could not even be built).
    pub kind: Option<TransportFailure>,
    /// The status and headers, when they had arrived before the body was cut.
    pub head: Option<(StatusCode, HeaderMap)>,
    /// Where the attempt went, when known.
    pub url: Option<reqwest::Url>,
    /// reqwest's error, or [`AttemptTimedOut`].
    pub error: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    fn of(
        error: reqwest::Error,
        head: Option<(StatusCode, HeaderMap)>,
        url: Option<reqwest::Url>,
    ) -> Self {
        Self {
            kind: crate::retry::transport_failure(&error, head.is_some()),
            head,
            url: url.or_else(|| error.url().cloned()),
            error: Box::new(error),
        }
    }

    fn timed_out(
        limit: Duration,
        head: Option<(StatusCode, HeaderMap)>,
        url: Option<reqwest::Url>,
    ) -> Self {
        Self {
            kind: Some(TransportFailure::Timeout),
            head,
            url,
            error: Box::new(AttemptTimedOut { limit }),
        }
    }
}

/// The answer's body is longer than the client accepts
/// ([`ClientBuilder::max_response_body`](crate::ClientBuilder::max_response_body)).
#[derive(Debug)]
pub(crate) struct BodyTooLarge {
    limit: usize,
    /// The length the answer announced (`content-length`), when it announced one above the
    /// limit; `None` when the bytes themselves went past it.
    announced: Option<u64>,
}

/// Written after [`TransportFailure::BodyTooLarge`]'s own words, so without repeating them.
impl fmt::Display for BodyTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.announced {
            Some(length) => write!(
                f,
                "the server announced {length} bytes, the client accepts at most {}",
                self.limit
            )?,
            None => write!(f, "more than {} bytes arrived", self.limit)?,
        }
        f.write_str(" (raise the limit with ClientBuilder::max_response_body)")
    }
}

impl std::error::Error for BodyTooLarge {}

/// Why reading a body failed.
enum BodyError {
    Transport(reqwest::Error),
    TooLarge(BodyTooLarge),
}

impl From<reqwest::Error> for BodyError {
    fn from(error: reqwest::Error) -> Self {
        Self::Transport(error)
    }
}

/// The attempt's time limit passed before its answer was complete.
#[derive(Debug, thiserror::Error)]
#[error("the attempt timed out after {} ms", limit.as_millis())]
pub(crate) struct AttemptTimedOut {
    limit: Duration,
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
        f.write_str(&chain(&*self.error))
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

/// The scheme, host and port of a base URL: where the token may go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
    /// `scheme://host[:port]` as the `url` crate writes it (no default port), which begins
    /// every URL of the origin that has no user name or password.
    written: String,
}

impl Origin {
    fn of(url: &reqwest::Url) -> Option<Self> {
        let host = url.host_str()?;
        let written = match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        };
        Some(Self {
            scheme: url.scheme().to_string(),
            host: host.to_string(),
            port: url.port_or_known_default(),
            written,
        })
    }

    /// Whether `url` is on this origin (compared in place: `Url::origin` allocates). Its
    /// text is compared first, one comparison for the usual URL; one that does not begin
    /// with the origin's text (a user name in it) is compared part by part.
    fn holds(&self, url: &reqwest::Url) -> bool {
        if let Some(rest) = url.as_str().strip_prefix(self.written.as_str())
            && matches!(rest.as_bytes().first(), None | Some(b'/' | b'?' | b'#'))
        {
            return true;
        }
        url.scheme() == self.scheme
            && url.host_str() == Some(self.host.as_str())
            && url.port_or_known_default() == self.port
    }
}

/// The base URL's origin, parsed once: the generated client keeps its base URL as a
/// string, and parsing it for every attempt was a tenth of the layer's cost per call.
/// Set by the first request, then only read (a lock per attempt cost more than the
/// comparison it guarded).
#[derive(Debug, Default)]
pub(crate) struct BaseOrigin(std::sync::OnceLock<(String, Option<Origin>)>);

impl BaseOrigin {
    /// Whether `url` is on the origin of `base_url`.
    fn holds(&self, base_url: &str, url: &reqwest::Url) -> bool {
        let parse = || {
            reqwest::Url::parse(base_url)
                .ok()
                .as_ref()
                .and_then(Origin::of)
        };
        let (base, origin) = self.0.get_or_init(|| (base_url.to_string(), parse()));
        if base == base_url {
            origin.as_ref().is_some_and(|origin| origin.holds(url))
        } else {
            // A state shared with a client of another base URL: parsed each time.
            parse().is_some_and(|origin| origin.holds(url))
        }
    }
}

/// A copy of `request` to send again (`None`: its body is a stream). A request
/// without a body is copied by hand: `reqwest::Request::try_clone` always builds an
/// extension map for the timeout, then replaces it with a copy of the original's, three
/// allocations per call for a request that has no timeout of its own. (The timeout is the
/// only extension reqwest lets a request carry; a body only `try_clone` can share.)
pub(crate) fn copy_of(request: &reqwest::Request) -> Option<reqwest::Request> {
    if request.body().is_some() {
        return request.try_clone();
    }
    let mut copy = reqwest::Request::new(request.method().clone(), request.url().clone());
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    if let Some(timeout) = request.timeout() {
        *copy.timeout_mut() = Some(*timeout);
    }
    Some(copy)
}

/// Sends one attempt of `request` and reads the whole answer, all of it (redirects
/// followed, the body) within `limit`. A GET or HEAD that is redirected is sent again from
/// `spare` (an untouched copy of the request the caller keeps anyway, cloned only when a
/// redirect comes), else from a copy made before sending.
///
/// The limit is this layer's own timer rather than reqwest's `timeout`: reqwest boxes a
/// timer for every request and polls it before every chunk of the body, about 2,300 CPU
/// instructions per call; this one lives in the attempt's future and is polled only while
/// the answer is not ready.
///
/// Written as a function returning a block, not as an `async fn`: an `async fn` moves each
/// argument into a local of its own, and its future would hold the request twice.
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn would store its arguments twice in its future"
)]
#[inline(always)]
pub(crate) fn send<'a>(
    client: &'a Client,
    mut request: reqwest::Request,
    spare: Option<&'a reqwest::Request>,
    limit: Option<Duration>,
    // When the attempt started, which the limit counts from (the caller has read the clock).
    started: Instant,
) -> impl Future<Output = Result<Exchange, TransportError>> + 'a {
    async move {
        let mut timer = std::pin::pin!(limit.map(|limit| match started.checked_add(limit) {
            Some(end) => tokio::time::sleep_until(end.into()),
            None => tokio::time::sleep(limit),
        }));
        let timed_out = |head, url| TransportError::timed_out(limit.unwrap_or_default(), head, url);
        let base = &client.inner.shared.base_origin;
        let authorization = client.inner.shared.authorization.as_ref();
        let follows = matches!(*request.method(), Method::GET | Method::HEAD);
        let mut hops = 0;
        // The loop ends with the answer to read: what it kept for a redirect is out of
        // scope by then, and not stored in this future while the body is read.
        let response = loop {
            match authorization {
                Some(token) if base.holds(&client.baseurl, request.url()) => {
                    request.headers_mut().insert(AUTHORIZATION, token.clone());
                }
                _ => {
                    request.headers_mut().remove(AUTHORIZATION);
                }
            }
            let mut copy = (follows && spare.is_none())
                .then(|| copy_of(&request))
                .flatten();
            let execute = std::pin::pin!(client.client.execute(request));
            let response = match within(execute, timer.as_mut()).await {
                Some(Ok(response)) => response,
                Some(Err(error)) => return Err(TransportError::of(error, None, None)),
                None => {
                    let url = copy.as_ref().or(spare).map(|r| r.url().clone());
                    return Err(timed_out(None, url));
                }
            };
            let location = (follows && hops < MAX_REDIRECTS)
                .then(|| location_of(&response))
                .flatten();
            let Some(location) = location else {
                break response;
            };
            let Some(mut next) = copy.take().or_else(|| spare.and_then(copy_of)) else {
                break response;
            };
            *next.url_mut() = location;
            hops += 1;
            request = next;
        };
        let most = client.inner.shared.max_response_body;
        read(response, most, timer.as_mut(), timed_out).await
    }
}

/// Where a redirect points, resolved against the URL it came from.
fn location_of(response: &reqwest::Response) -> Option<reqwest::Url> {
    if !response.status().is_redirection() {
        return None;
    }
    let location = response.headers().get(LOCATION)?.to_str().ok()?;
    response.url().join(location).ok()
}

/// The output of `work`, or `None` when `timer` fires first. The work is polled first, so
/// that an answer that is ready is taken even when the timer has fired too, and the timer
/// is polled (and registered) only while the work waits. Both are borrowed pinned, not
/// moved in: a future taken by value would be stored twice in the caller's future (once
/// as the argument, once pinned), and these are among the largest of a call.
fn within<'a, F: Future>(
    mut work: Pin<&'a mut F>,
    mut timer: Pin<&'a mut Option<tokio::time::Sleep>>,
) -> impl Future<Output = Option<F::Output>> + 'a {
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(output) = work.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        match timer.as_mut().as_pin_mut().map(|sleep| sleep.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(None),
            _ => Poll::Pending,
        }
    })
}

/// The most bytes a `content-length` may reserve up front; a longer body still reads, into
/// a buffer that grows as the bytes arrive (a length a server claims is not trusted).
const MOST_RESERVED: u64 = 8 << 20;

#[inline(always)]
fn read<'t>(
    mut response: reqwest::Response,
    // The most bytes the body may have.
    most: usize,
    timer: Pin<&'t mut Option<tokio::time::Sleep>>,
    timed_out: impl FnOnce(Option<(StatusCode, HeaderMap)>, Option<reqwest::Url>) -> TransportError + 't,
) -> impl Future<Output = Result<Exchange, TransportError>> + 't {
    let status = response.status();
    let version = response.version();
    let url = Some(response.url().clone());
    // Taken, not cloned: reading the body needs no headers.
    let headers = std::mem::take(response.headers_mut());
    let extensions = std::mem::take(response.extensions_mut());
    async move {
        let reading = std::pin::pin!(body(response, most));
        match within(reading, timer).await {
            Some(Ok(body)) => Ok(Exchange {
                status,
                version,
                url,
                headers,
                extensions,
                body,
            }),
            Some(Err(BodyError::Transport(error))) => {
                Err(TransportError::of(error, Some((status, headers)), url))
            }
            Some(Err(BodyError::TooLarge(error))) => Err(TransportError {
                kind: Some(TransportFailure::BodyTooLarge),
                head: Some((status, headers)),
                url,
                error: Box::new(error),
            }),
            None => Err(timed_out(Some((status, headers)), url)),
        }
    }
}

/// Bodies up to this size that arrive in one chunk are kept as they came, without a copy.
/// A larger one is copied: a chunk keeps the connection's whole read buffer alive, and with
/// many pages in flight the buffers that pages pinned outweighed the copies.
const KEPT_AS_ARRIVED: usize = 64 << 10;

/// The whole body, in one buffer of the announced length (collecting the chunks and then
/// joining them held a body twice at its peak), once it is this task's turn to read; at
/// most `most` bytes: a longer one (announced, or arriving without end) fails as
/// [`BodyTooLarge`] without being read further, so no server can fill the memory.
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn would store its arguments twice in its future"
)]
#[inline(always)]
fn body(
    mut response: reqwest::Response,
    most: usize,
) -> impl Future<Output = Result<Bytes, BodyError>> {
    async move {
        let too_large = |announced| {
            BodyError::TooLarge(BodyTooLarge {
                limit: most,
                announced,
            })
        };
        let announced = response.content_length();
        if let Some(length) = announced.filter(|&length| length > most as u64) {
            return Err(too_large(Some(length)));
        }
        crate::read_turns::wait_for_turn().await;
        let reserved = announced.unwrap_or(0).min(MOST_RESERVED);
        let reserved = usize::try_from(reserved).unwrap_or(0);
        let Some(first) = response.chunk().await? else {
            return Ok(Bytes::new());
        };
        if first.len() > most {
            return Err(too_large(None));
        }
        // The body's own count of what is left (hyper lowers it by every chunk it hands out):
        // at 0 the framing says the body is complete, so the usual case, a body that came in
        // one piece, is not polled again for the end it has reached. Hyper has already marked
        // the connection reusable when the last byte was decoded, so not asking for the end
        // does not cost the connection.
        if response.content_length() == Some(0) {
            return Ok(kept(first));
        }
        let Some(second) = response.chunk().await? else {
            return Ok(kept(first));
        };
        let mut length = first.len() + second.len();
        if length > most {
            return Err(too_large(None));
        }
        let mut buffer = bytes::BytesMut::with_capacity(reserved.max(length));
        buffer.extend_from_slice(&first);
        buffer.extend_from_slice(&second);
        drop((first, second));
        while let Some(chunk) = response.chunk().await? {
            length += chunk.len();
            if length > most {
                return Err(too_large(None));
            }
            buffer.extend_from_slice(&chunk);
        }
        Ok(buffer.freeze())
    }
}

/// A body that came in one piece: kept as it came when small, else copied out of the
/// connection's read buffer so that it does not hold that buffer.
fn kept(only: Bytes) -> Bytes {
    if only.len() <= KEPT_AS_ARRIVED {
        only
    } else {
        Bytes::copy_from_slice(&only)
    }
}

#[cfg(test)]
mod tests {
    use super::{BaseOrigin, copy_of};
    use reqwest::header::{ACCEPT, HeaderValue};
    use std::time::Duration;

    fn request(body: Option<&'static str>, timeout: Option<Duration>) -> reqwest::Request {
        let url = reqwest::Url::parse("http://127.0.0.1:9/v2/droplets?page=2").unwrap();
        let mut request = reqwest::Request::new(reqwest::Method::POST, url);
        request
            .headers_mut()
            .insert(ACCEPT, HeaderValue::from_static("application/json"));
        *request.version_mut() = reqwest::Version::HTTP_11;
        *request.body_mut() = body.map(reqwest::Body::from);
        if let Some(timeout) = timeout {
            *request.timeout_mut() = Some(timeout);
        }
        request
    }

    fn same(a: &reqwest::Request, b: &reqwest::Request) {
        assert_eq!(a.method(), b.method());
        assert_eq!(a.url(), b.url());
        assert_eq!(a.headers(), b.headers());
        assert_eq!(a.version(), b.version());
        assert_eq!(a.timeout(), b.timeout());
        assert_eq!(
            a.body().and_then(reqwest::Body::as_bytes),
            b.body().and_then(reqwest::Body::as_bytes)
        );
    }

    #[test]
    fn a_copy_keeps_method_url_headers_version_timeout_and_body() {
        for body in [None, Some(r#"{"name":"web-1"}"#)] {
            for timeout in [None, Some(Duration::from_secs(7))] {
                let original = request(body, timeout);
                let copy = copy_of(&original).expect("a copy");
                same(&original, &copy);
            }
        }
    }

    #[test]
    fn a_streamed_body_has_no_copy() {
        let mut original = request(None, None);
        let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>("x")]);
        *original.body_mut() = Some(reqwest::Body::wrap_stream(chunks));
        assert!(copy_of(&original).is_none());
    }

    #[test]
    fn the_token_goes_only_to_the_base_origin() {
        let url = |text: &str| reqwest::Url::parse(text).unwrap();
        let base = BaseOrigin::default();
        let on = |text: &str| base.holds("http://127.0.0.1:8080/", &url(text));
        assert!(on("http://127.0.0.1:8080/v2/droplets"));
        assert!(on("http://127.0.0.1:8080/v2/droplets?page=2"));
        // Compared part by part: a user name does not change the origin.
        assert!(on("http://someone@127.0.0.1:8080/v2/droplets"));
        assert!(!on("http://127.0.0.1:18080/v2/droplets"));
        assert!(!on("http://127.0.0.1:808/v2/droplets"), "a shorter port");
        assert!(!on("http://127.0.0.1:8081/v2/droplets"));
        assert!(!on("https://127.0.0.1:8080/v2/droplets"));
        assert!(!on("http://127.0.0.10:8080/v2/droplets"), "a longer host");
        assert!(!on("http://127.0.0.1/v2/droplets"));

        let named = BaseOrigin::default();
        let on = |text: &str| named.holds("https://api.digitalocean.com", &url(text));
        assert!(on("https://api.digitalocean.com/v2/tags"));
        assert!(
            on("https://api.digitalocean.com:443/v2/tags"),
            "the default port"
        );
        assert!(!on("https://api.digitalocean.com.example.net/v2/tags"));
        assert!(!on("https://api.digitalocean.com:8443/v2/tags"));
        assert!(!on("http://api.digitalocean.com/v2/tags"));
        // A state first used with one base URL still answers for another.
        assert!(named.holds("http://127.0.0.1:9", &url("http://127.0.0.1:9/v2/tags")));
        assert!(!named.holds(
            "http://127.0.0.1:9",
            &url("https://api.digitalocean.com/v2/tags")
        ));
    }
}
