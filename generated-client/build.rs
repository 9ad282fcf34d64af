//! Generates the client from spec/digitalocean.yaml into OUT_DIR. All logic lives in the
//! digitalocean-codegen library; this script only wires it to Cargo. In the repository
//! `spec/digitalocean.yaml` of this crate is a symbolic link to the workspace's document (the
//! one maintainers edit); `cargo package` puts the document itself into the package.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by Cargo"));
    let spec_path = manifest_dir.join("spec/digitalocean.yaml");
    // Rerun only when the document changes; a change of codegen (a build-dependency)
    // reruns the script anyway.
    println!("cargo::rerun-if-changed={}", spec_path.display());

    // Cargo runs the script again when the feature set changes.
    let options = digitalocean_codegen::RenderOptions {
        json_schema: std::env::var_os("CARGO_FEATURE_SCHEMARS").is_some(),
    };
    let code = digitalocean_codegen::load(&spec_path)
        .and_then(|spec| digitalocean_codegen::render_with(&spec, options))
        .unwrap_or_else(|error| {
            eprintln!("error: cannot generate the DigitalOcean client: {error}");
            eprintln!(
                "hint: run `cargo run -p digitalocean-maintainer-tools -- check spec/digitalocean.yaml`"
            );
            std::process::exit(1);
        });

    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("set by Cargo")).join("digitalocean.rs");
    // Leave the file untouched when nothing changed, so its timestamp does not move.
    if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
        std::fs::write(&out, code).unwrap_or_else(|error| {
            eprintln!("error: cannot write {}: {error}", out.display());
            std::process::exit(1);
        });
    }
}
