//! Drift: answers that no longer match the document, on purpose. The API can change under
//! an unchanged document (a new field, a new enum value, `null` for a list, a status the
//! document does not list); a drift lets tests of drift detection (`conform`) see that
//! happen against the fake.

use std::fmt;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

/// One answer on its way out, which a drift may change.
#[derive(Debug)]
#[non_exhaustive]
pub struct DriftedAnswer<'a> {
    /// The request's method (`GET`, `POST`, …) and path (`/v2/droplets/3164444`).
    pub method: &'a str,
    pub path: &'a str,
    /// The status to answer; a drift may change it.
    pub status: StatusCode,
    /// The JSON body (`Value::Null` when the answer has none); a drift may change it.
    pub body: Value,
}

/// A change the fake applies to every answer (see
/// [`FakeServerBuilder::drift`](crate::FakeServerBuilder::drift)).
#[derive(Clone)]
pub(crate) struct Drift(pub(crate) Arc<dyn Fn(&mut DriftedAnswer<'_>) + Send + Sync>);

impl fmt::Debug for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Drift")
    }
}

impl Drift {
    /// The response after the drift: unchanged when the drift leaves it as it was (or the
    /// body is not JSON), else with the new status and body.
    pub(crate) async fn apply(&self, method: &str, path: &str, response: Response) -> Response {
        let (mut parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let parsed = if bytes.is_empty() {
            Some(Value::Null)
        } else {
            serde_json::from_slice(&bytes).ok()
        };
        let Some(original) = parsed else {
            return Response::from_parts(parts, Body::from(bytes));
        };
        let mut answer = DriftedAnswer {
            method,
            path,
            status: parts.status,
            body: original.clone(),
        };
        (self.0)(&mut answer);
        parts.status = answer.status;
        if answer.body == original {
            return Response::from_parts(parts, Body::from(bytes));
        }
        let body = if answer.body.is_null() {
            parts.headers.remove(header::CONTENT_TYPE);
            Body::empty()
        } else {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Body::from(answer.body.to_string())
        };
        parts.headers.remove(header::CONTENT_LENGTH);
        Response::from_parts(parts, body)
    }
}
