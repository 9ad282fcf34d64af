//! `codegen check` accepts the DigitalOcean document and rejects broken ones with a message
//! that names the place, through the library and through the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use digitalocean_codegen::{CodegenError, load};
use digitalocean_maintainer_tools::check;

fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/digitalocean.yaml")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn codegen(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_maintainer-tools"))
        .args(args)
        .output()
        .expect("the codegen binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_spec_passes_with_38_operations_and_every_page_example() {
    let spec = load(&spec_path()).expect("the spec loads");
    let report = check(&spec).expect("the spec passes every check");
    assert_eq!(report.operations, 38);
    assert!(
        report.body_examples >= 225,
        "the pages print 225 body examples; the spec carries {}",
        report.body_examples
    );
}

#[test]
fn the_binary_prints_one_summary_line_for_the_spec() {
    let (ok, stdout, stderr) = codegen(&["check", spec_path().to_str().unwrap()]);
    assert!(ok, "check failed: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("38 operations, "), "{stdout}");
    assert!(lines[0].contains(" examples: all valid"), "{stdout}");
}

#[test]
fn the_minimal_fixture_passes() {
    let spec = load(&fixture("valid.yaml")).expect("loads");
    let report = check(&spec).expect("passes");
    assert_eq!((report.operations, report.body_examples), (1, 5));
}

#[test]
fn a_broken_example_is_reported_with_its_place_and_the_violation() {
    let spec =
        load(&fixture("broken-example.yaml")).expect("loads: the example is only checked by check");
    let error = check(&spec).expect_err("the broken example is rejected");
    let CodegenError::Invalid { problems, .. } = &error else {
        panic!("unexpected error: {error}");
    };
    assert_eq!(problems.len(), 1, "{error}");
    assert_eq!(
        problems[0].location,
        r#"paths."/v2/things".get.responses."200".content."application/json".example"#
    );
    assert!(
        problems[0]
            .message
            .contains("GET /v2/things (things_list) response 200"),
        "{error}"
    );
    assert!(
        problems[0].message.contains("at /things/0/count"),
        "{error}"
    );
    assert!(problems[0].message.contains("integer"), "{error}");
}

#[test]
fn an_unresolved_reference_is_reported_where_it_is_and_what_is_missing() {
    let error =
        load(&fixture("unresolved-ref.yaml")).expect_err("the dangling reference is rejected");
    let message = error.to_string();
    assert!(
        message.contains(
            r#"paths."/v2/things".get.responses."200".content."application/json".schema"#
        ),
        "{message}"
    );
    assert!(
        message.contains("components.schemas.ThingPage"),
        "{message}"
    );
}

#[test]
fn a_missing_operation_id_is_reported_with_what_to_add() {
    let spec = load(&fixture("missing-operation-id.yaml")).expect("loads");
    let error = check(&spec).expect_err("the operation without id is rejected");
    let message = error.to_string();
    assert!(
        message.contains(r#"paths."/v2/things".get: no operationId"#),
        "{message}"
    );
    assert!(message.contains("snake_case"), "{message}");
}

#[test]
fn the_binary_exits_non_zero_with_the_message_on_stderr() {
    for (name, expected) in [
        ("broken-example.yaml", "does not match its schema"),
        ("unresolved-ref.yaml", "does not resolve"),
        ("missing-operation-id.yaml", "no operationId"),
    ] {
        let (ok, stdout, stderr) = codegen(&["check", fixture(name).to_str().unwrap()]);
        assert!(!ok, "{name} passed");
        assert!(stdout.is_empty(), "{name}: {stdout}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[test]
fn a_file_that_is_not_openapi_names_the_place() {
    let error =
        digitalocean_codegen::load_str("inline", "openapi: 3.0.3\ninfo: {title: x}\npaths: {}\n")
            .expect_err("info.version is required");
    assert!(error.to_string().contains("info"), "{error}");
}

#[test]
fn an_openapi_3_1_document_is_refused_with_the_reason() {
    let error = digitalocean_codegen::load_str(
        "inline",
        "openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n",
    )
    .expect_err("3.1 is refused");
    assert!(error.to_string().contains("3.0.x"), "{error}");
}
