//! Typed async client for the DigitalOcean API: tags, Droplets, project resources and
//! block storage (38 operations).
//!
//! The client and its types are generated at build time from `spec/digitalocean.yaml` by
//! `digitalocean-codegen` (progenitor, builder style): one method per operation on
//! [`Client`], named after its operationId, returning a request builder whose `send()`
//! performs the call. A small hand-written layer extends it:
//!
//! * configuration and auth: [`Client::from_env`], [`Client::builder`];
//! * retries, rate-limit tracking and pacing, tracing: for every operation, through
//!   progenitor's `ClientHooks` ([`RetryPolicy`], [`RateLimitPolicy`], [`RateLimit`]);
//! * one error type, [`Error`], with status, DigitalOcean's id, message and request id;
//! * pagination streams ([`Paginate::stream`]) and [`ResponseExt`] for response metadata;
//! * a wait helper for Droplets destroyed with their associated resources.
//!
//! ```no_run
//! use digitalocean::{Client, Paginate};
//! use futures::TryStreamExt;
//!
//! # async fn run() -> Result<(), digitalocean::Error> {
//! let client = Client::from_env()?;
//! let volume = client.volumes_get().volume_id("7724db7c-e098-11e5-b522-000f53304e51").send().await?;
//! let droplets: Vec<_> = client.droplets_list().tag_name("web").stream().try_collect().await?;
//! # Ok(()) }
//! ```

/// The code progenitor generates from the document (`Client`, its request builders in
/// `builder`, the `types`), re-exported at the crate root. A local item shadows a glob
/// re-export, so the crate's own [`Error`] stands where progenitor re-exports its error.
mod generated {
    include!(concat!(env!("OUT_DIR"), "/digitalocean.rs"));
}
pub use generated::*;

mod config;
mod error;
mod hooks;
mod observe;
mod outcome;
pub mod pagination;
mod rate_limit;
mod read_turns;
mod reconcile;
mod response_ext;
mod retry;
mod state;
mod transport;
mod validation;
mod wait;

pub use config::{BASE_URL_VARIABLE, ClientBuilder, DEFAULT_BASE_URL, TOKEN_VARIABLES, USER_AGENT};
pub use error::{ATTEMPTS_HEADER, Error, ErrorBody, ErrorKind, RECONCILED_HEADER};
pub use observe::{ObservedExchange, ObservedResponse};
pub use outcome::{Outcome, Reconciliation, Resolution};
pub use pagination::{ItemStream, PageOptions, Paginate};
pub use progenitor_client;
pub use rate_limit::{RateLimit, RateLimitPolicy, WhenExhausted};
pub use response_ext::ResponseExt;
pub use retry::{RetryPolicy, TransportFailure};
pub use state::{ClientState, PageDefaults};
pub use wait::WaitOptions;

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
