//! What progenitor's generated command line reaches through `use crate::sdk::*`: the
//! client, its request builders and types, and progenitor's own generic `Error` and
//! `ResponseValue` (the client crate's `Error` is a different, non-generic type).

pub use digitalocean::progenitor_client::{Error, ResponseValue};
pub use digitalocean::{Client, builder, types};
