//! Typed async client for the DigitalOcean API: tags, Droplets, project resources and
//! block storage.
//!
//! The client and every type are generated at build time from `spec/digitalocean.yaml`
//! by `digitalocean-codegen` (progenitor, builder style): one method per operation on
//! [`Client`], returning a request builder whose `send()` performs the call.

// The generated code sits at the crate root: its open enums are referenced as
// `crate::types::…` (see digitalocean_codegen::render::TYPES_PATH).
include!(concat!(env!("OUT_DIR"), "/digitalocean.rs"));
