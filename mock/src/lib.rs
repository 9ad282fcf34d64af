//! Typed mocks of the DigitalOcean API for testing code that uses the `digitalocean` crate,
//! generated from the same spec by progenitor's `httpmock` support: `MockServerExt` adds one
//! method per operation to [`httpmock::MockServer`], whose `when` and `then` take the
//! client's own types, so a mock cannot drift from the API.
//!
//! ```no_run
//! use digitalocean_mock::MockServerExt;
//! # async fn run() {
//! let server = httpmock::MockServer::start_async().await;
//! let mock = server.tags_get(|when, then| {
//!     when.tag_id(&"web".parse::<digitalocean::types::TagName>().unwrap());
//!     // Error statuses share one body type: `client_error` (4xx) and `server_error` (5xx).
//!     then.client_error(404, &digitalocean::types::Error {
//!         id: "not_found".into(),
//!         message: "The resource you requested could not be found.".into(),
//!         request_id: None,
//!     });
//! });
//! # let _ = mock;
//! # }
//! ```

// Everything below the re-exports is progenitor's generated mock code; its style is
// progenitor's (the generated client's modules carry the same allowance).
#![allow(clippy::all)]

pub use httpmock;

include!(concat!(env!("OUT_DIR"), "/mock.rs"));
