//! `digitalocean-maintainer-tools`: what a maintainer runs on `spec/digitalocean.yaml`
//! besides generating the client (that is `digitalocean-codegen`, kept small because every
//! user of the client builds it):
//!
//! * [`check()`]: structure, references, every example against its schema, and that the
//!   client renders;
//! * [`diff`]: every change between two versions, breaking or compatible;
//! * [`docs_coverage`]: what the reference pages have that the document lacks or changes;
//! * [`surface`]: the API surface of the generated client, one line per member (snapshots).
//!
//! ```no_run
//! let spec = digitalocean_codegen::load(std::path::Path::new("spec/digitalocean.yaml"))?;
//! println!("{}", digitalocean_maintainer_tools::check(&spec)?.summary());
//! # Ok::<(), digitalocean_codegen::CodegenError>(())
//! ```

pub mod check;
pub mod diff;
pub mod docs_coverage;
pub mod examples;
pub mod json_schema;
pub mod surface;

// The generator's modules, under the names the tools were written against.
pub(crate) use digitalocean_codegen::{
    error, load, location, normalize, open_enums, refs, render, walk,
};

pub use check::{CheckReport, check};
