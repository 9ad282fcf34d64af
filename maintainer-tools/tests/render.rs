//! `maintainer-tools render` is deterministic across processes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/digitalocean.yaml")
}

#[test]
fn renders_in_two_processes_are_identical() {
    // Separate processes get different hash seeds, which would expose any iteration over
    // a HashMap leaking into the output.
    let run = || {
        let output = Command::new(env!("CARGO_BIN_EXE_maintainer-tools"))
            .args(["render", spec_path().to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    assert!(run() == run(), "two renders differ");
}
