//! Injected faults: the knobs (rates, latency, extra headers), the faults queued for the
//! next requests, the seeded draw that picks one per request, and the broken answers
//! (a reset before the headers, a body cut half-way, a proxy's HTML 503).

use std::collections::VecDeque;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::state::{ServerState, lock};

/// Fault injection and latency, changeable while the server runs. Each request draws one
/// number from the seeded generator and meets at most one fault; the rates add up.
#[derive(Debug, Clone, PartialEq)]
pub struct Knobs {
    /// Added before every response.
    pub latency: Duration,
    /// Share of requests answered 503 without being applied (0.0–1.0).
    pub error_rate: f64,
    /// Share of requests whose connection is closed before the response, without being
    /// applied (0.0–1.0).
    pub drop_rate: f64,
    /// Share of requests that are applied and whose connection is then closed before the
    /// response headers: a lost answer (0.0–1.0).
    pub lost_after_apply_rate: f64,
    /// Share of requests that are applied and whose response body is cut half-way (0.0–1.0).
    pub cut_body_after_apply_rate: f64,
    /// Share of requests that are applied and then answered with a proxy's HTML 503 page
    /// (0.0–1.0).
    pub html_503_after_apply_rate: f64,
    /// Headers set on every response, replacing the fake's own values of the same name; a
    /// name listed twice is sent twice. For hostile values (`retry-after: 18446744073709551615`).
    pub extra_headers: Vec<(String, String)>,
    /// Seed of the random faults, so that a run can be repeated.
    pub seed: u64,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            error_rate: 0.0,
            drop_rate: 0.0,
            lost_after_apply_rate: 0.0,
            cut_body_after_apply_rate: 0.0,
            html_503_after_apply_rate: 0.0,
            extra_headers: Vec::new(),
            seed: 0x5eed,
        }
    }
}

/// A fault the fake injects into one exchange ([`FakeServer::fault_next`](crate::FakeServer::fault_next), or drawn from
/// the [`Knobs`] rates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer this status with DigitalOcean's error body; the request is not applied.
    Fail(u16),
    /// Close the connection before the response headers; the request is not applied.
    Reset,
    /// Apply the request, then close the connection before the response headers.
    ResetAfterApply,
    /// Apply the request, send the headers and half of the body, then close the connection.
    CutBodyAfterApply,
    /// Apply the request, then answer a proxy's HTML 503 page instead of the API's response.
    Html503AfterApply,
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub(crate) next: VecDeque<Fault>,
    pub(crate) random: u64,
}

impl ServerState {
    fn random(&self) -> f64 {
        // xorshift64*: reproducible faults from a seed, no dependency.
        let mut faults = lock(&self.faults);
        let mut x = faults.random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        faults.random = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The fault of the next request: a queued one, else one drawn from the knobs' rates.
    pub(crate) fn fault(&self) -> Option<Fault> {
        if let Some(fault) = lock(&self.faults).next.pop_front() {
            return Some(fault);
        }
        let knobs = lock(&self.knobs).clone();
        let bands = [
            (knobs.drop_rate, Fault::Reset),
            (knobs.error_rate, Fault::Fail(503)),
            (knobs.lost_after_apply_rate, Fault::ResetAfterApply),
            (knobs.cut_body_after_apply_rate, Fault::CutBodyAfterApply),
            (knobs.html_503_after_apply_rate, Fault::Html503AfterApply),
        ];
        if bands.iter().all(|(rate, _)| *rate <= 0.0) {
            return None;
        }
        let draw = self.random();
        let mut upper = 0.0;
        for (rate, fault) in bands {
            upper += rate.clamp(0.0, 1.0);
            if draw < upper {
                return Some(fault);
            }
        }
        None
    }
}

/// A response whose body fails at once: hyper closes the connection without writing the
/// headers it had buffered, so the client sees the connection end before any response.
pub(crate) fn reset() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection closed by the fake",
        ))
    });
    Response::new(Body::from_stream(stream))
}

/// The response with its headers and the first half of its body, then a broken connection.
pub(crate) async fn cut_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    let stream = futures::StreamExt::chain(
        futures::stream::iter([Ok::<Bytes, std::io::Error>(half)]),
        futures::stream::once(async {
            // Let hyper flush the headers and the first half before the connection breaks.
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "body cut by the fake",
            ))
        }),
    );
    Response::from_parts(parts, Body::from_stream(stream))
}

/// What a proxy in front of the API answers when the backend's answer does not reach it.
pub(crate) fn html_503() -> Response {
    let mut response = Response::new(Body::from(
        "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n",
    ));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}
