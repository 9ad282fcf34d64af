//! `conform`: drives the DigitalOcean client against a live server (DigitalOcean with a
//! token, a staging proxy, the fake, a mock) and reports every place where the traffic and
//! the OpenAPI document disagree. Snapshots catch drift when the document changes; this
//! catches the API changing under an unchanged document.
//!
//! Every answer is checked on its raw body, before the typed decode, against the schema of
//! its operation and status (JSON Schema), walked for what a validator accepts but the
//! document does not say (fields, enum values, `null`s), and then decoded by the typed
//! client. The requests the client sent are checked too.
//!
//! ```no_run
//! # async fn run() -> Result<(), String> {
//! let document = digitalocean_conform::Document::new(digitalocean_conform::bundled_document()?);
//! let options = digitalocean_conform::Options {
//!     operations: None,
//!     write: false,
//!     max_requests: 200,
//!     project_id: None,
//!     prefix: digitalocean_conform::unique_prefix(),
//! };
//! let report = digitalocean_conform::run(&document, "http://127.0.0.1:8080", "token", options, |_| {}).await?;
//! println!("{} findings", report.findings.len());
//! # Ok(()) }
//! ```

mod document;
mod drive;
mod findings;
pub mod report;
mod suggest;
mod traffic;

pub use document::{Document, Operation};
pub use drive::{OperationReport, Options, Report};
pub use findings::{Finding, FindingKind};

use digitalocean::Client;

/// The document the client was generated from (`spec/digitalocean.yaml`), parsed.
pub fn bundled_document() -> Result<serde_json::Value, String> {
    const TEXT: &str = include_str!("../../spec/digitalocean.yaml");
    digitalocean_codegen::load_str("spec/digitalocean.yaml", TEXT)
        .map(|spec| spec.raw().clone())
        .map_err(|error| error.to_string())
}

/// A prefix no earlier run used: `conform-` and the time in seconds, in hex.
pub fn unique_prefix() -> String {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!("conform-{seconds:x}-{:x}", std::process::id())
}

/// Runs every operation in scope against `base_url`; Ctrl-C stops the run and cleans up.
/// `progress` is told about each operation as it finishes. An error means the run could
/// not start (the client could not be built).
pub async fn run(
    document: &Document,
    base_url: &str,
    token: &str,
    options: Options,
    progress: impl FnMut(&OperationReport) + Send,
) -> Result<Report, String> {
    let recorder = traffic::Recorder::default();
    let observer = recorder.clone();
    let client: Client = Client::builder()
        .token(token)
        .base_url(base_url)
        .observe_exchanges(move |exchange| observer.observe(exchange))
        .build()
        .map_err(|error| error.to_string())?;
    let mut run = drive::Run::new(client, recorder, document, options, Box::new(progress));
    let interrupted = tokio::select! {
        () = run.drive() => false,
        _ = tokio::signal::ctrl_c() => true,
    };
    let left_behind = run.clean_up(interrupted).await;
    Ok(run.report(interrupted, left_behind))
}
