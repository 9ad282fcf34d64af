//! `doapi`: the DigitalOcean API from the command line. The commands are generated at build
//! time by progenitor's CLI generator from `spec/digitalocean.yaml`, the document the
//! `digitalocean` crate is generated from, and run through that crate's client: retries,
//! rate-limit pacing, validation, pagination and typed errors apply to every command.
//!
//! Why `doapi`: `doctl` is DigitalOcean's own, hand-written CLI; this one is the API itself,
//! one command per operation, so it gets a name that says so and can sit beside `doctl`.

/// progenitor's generated command line and the build script's extras (the paginated
/// operations, the `list_overrides!` macro, the documented body examples).
#[macro_use]
mod generated {
    #![allow(unused_variables, dead_code, clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/cli_extras.rs"));
    include!(concat!(env!("OUT_DIR"), "/cli.rs"));
}

mod app;
mod capture;
mod commands;
mod exit;
mod output;
mod sdk;
mod trace;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    app::run(std::env::args_os()).await.code()
}
