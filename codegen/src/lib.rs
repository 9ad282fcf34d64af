//! `digitalocean-codegen` turns the OpenAPI document `spec/digitalocean.yaml` into the
//! Rust client of the `digitalocean` crate, in three stages that can each be called alone:
//!
//! 1. [`load()`]: parse, check that it is OpenAPI 3.0, resolve every `$ref`;
//! 2. [`normalize`](mod@normalize): named passes that adapt the document to progenitor without changing
//!    the wire format;
//! 3. [`render()`]: progenitor's builder-style generator, open enums, prettyplease.
//!
//! It is the client's build-dependency, so it holds only the generator: the maintainer's
//! verbs (`check`, `diff`, `docs-coverage`, the API surface) live in
//! `digitalocean-maintainer-tools`.
//!
//! ```no_run
//! let spec = digitalocean_codegen::load(std::path::Path::new("spec/digitalocean.yaml"))?;
//! let code = digitalocean_codegen::render(&spec)?;
//! # Ok::<(), digitalocean_codegen::CodegenError>(())
//! ```

pub mod error;
pub mod load;
pub mod location;
pub mod names;
pub mod normalize;
pub mod open_enums;
pub mod pagination;
pub mod refs;
pub mod render;
pub mod request_rules;
pub mod walk;

pub use error::{CodegenError, Problem, Result};
pub use load::{Spec, from_value, load, load_str};
pub use render::{RenderOptions, render, render_with};
