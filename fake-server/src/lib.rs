//! An in-memory fake of the DigitalOcean API for the 38 operations of the `digitalocean`
//! crate (tags, Droplets, project resources, block storage), following the spec: pagination,
//! error bodies with request ids, `ratelimit-*` headers from a configurable budget and 429
//! with `retry-after`, plus knobs for tests and benchmarks (latency, 5xx and dropped
//! connections, deterministic failures, seeded Droplets and volumes).
//!
//! Nothing here contacts DigitalOcean: the server listens on 127.0.0.1 only.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let fake = digitalocean_fake::FakeServer::builder().droplets(30).start().await?;
//! let client = digitalocean::Client::builder().token("anything").base_url(fake.url()).build()?;
//! let page = client.droplets_list().send().await?;
//! assert_eq!(page.meta.total, 25); // every sixth seeded Droplet is a GPU one, listed with type=gpus
//! # Ok(()) }
//! ```

mod api_error;
mod budget;
mod drift;
mod droplet_view;
mod faults;
mod model;
mod routes;
mod server;
mod state;

/// The status type of [`DriftedAnswer`].
pub use axum::http::StatusCode;
pub use budget::Limits;
pub use drift::DriftedAnswer;
pub use faults::{Fault, Knobs};
pub use model::SECOND_PROJECT_ID;
pub use server::{FakeServer, FakeServerBuilder, Inventory};
pub use state::Exchange;
