//! DigitalOcean's error, as the routes raise it: the middleware in `server` turns it into
//! the documented body with the request id (or the tag-creation body with root causes).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error the middleware turns into DigitalOcean's body (with the request id).
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub id: &'static str,
    pub message: String,
    /// Tag creation answers 400 with `{error, messages, root_causes}` instead.
    pub root_causes: bool,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, id: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            id,
            message: message.into(),
            root_causes: false,
        }
    }

    pub(crate) fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "The resource you requested could not be found.",
        )
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable_entity",
            message,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        response.extensions_mut().insert(self);
        response
    }
}
