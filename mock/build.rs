//! Generates the typed mocks from ../spec/digitalocean.yaml into OUT_DIR, with the same
//! codegen library (and the same normalization) as the `digitalocean` crate.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by Cargo"));
    let spec_path = manifest_dir.join("../spec/digitalocean.yaml");
    println!("cargo::rerun-if-changed={}", spec_path.display());

    let code = digitalocean_codegen::load(&spec_path)
        .and_then(|spec| digitalocean_codegen::render::render_httpmock(&spec, "digitalocean"))
        .unwrap_or_else(|error| {
            eprintln!("error: cannot generate the DigitalOcean mocks: {error}");
            eprintln!(
                "hint: run `cargo run -p digitalocean-codegen -- check spec/digitalocean.yaml`"
            );
            std::process::exit(1);
        });

    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by Cargo")).join("mock.rs");
    if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(&out, code).unwrap_or_else(|error| {
            eprintln!("error: cannot write {}: {error}", out.display());
            std::process::exit(1);
        });
    }
}
