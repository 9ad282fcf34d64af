//! `codegen docs-coverage`: operations and examples of the reference pages against the
//! spec. The fixture proves each outcome; the real pages are checked when present.

use std::path::{Path, PathBuf};
use std::process::Command;

use digitalocean_codegen::load;
use digitalocean_maintainer_tools::docs_coverage::{Outcome, coverage, read_pages};

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_report() -> digitalocean_maintainer_tools::docs_coverage::CoverageReport {
    let dir = manifest().join("tests/fixtures/pages");
    let spec = load(&dir.join("spec.yaml")).unwrap();
    coverage(&read_pages(&dir).unwrap(), &spec)
}

#[test]
fn both_renderings_are_read() {
    let pages = read_pages(&manifest().join("tests/fixtures/pages")).unwrap();
    let found: Vec<String> = pages
        .operations
        .iter()
        .map(|o| format!("{} {}", o.method, o.path))
        .collect();
    assert_eq!(
        found,
        [
            "GET /v2/things",
            "POST /v2/things",
            "DELETE /v2/things/{thing_id}"
        ]
    );
    let list = &pages.operations[0];
    let statuses: Vec<&str> = list.responses.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(statuses, ["200", "401"]);
    let create = &pages.operations[1];
    assert!(create.request.is_some());
    // The 204 lists no fields, so the one example block belongs to the 201.
    let statuses: Vec<&str> = create.responses.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(statuses, ["201"]);
    assert!(pages.operations.iter().all(|o| o.problems.is_empty()));
}

#[test]
fn each_outcome_is_reported() {
    let report = fixture_report();
    assert_eq!(report.missing_operations.len(), 1);
    assert!(report.missing_operations[0].ends_with("DELETE /v2/things/{thing_id}"));
    let outcomes: Vec<(&str, &Outcome)> = report
        .examples
        .iter()
        .map(|e| {
            (
                e.place.split_once(' ').map_or("", |(_, rest)| rest),
                &e.outcome,
            )
        })
        .collect();
    assert_eq!(outcomes.len(), 4, "{outcomes:#?}");
    assert_eq!(
        outcomes[0],
        ("GET /v2/things response 200", &Outcome::Identical)
    );
    assert_eq!(
        outcomes[1],
        ("GET /v2/things response 401", &Outcome::Identical)
    );
    assert_eq!(
        outcomes[2],
        (
            "POST /v2/things request",
            &Outcome::Corrected {
                ids: "IC-99".into(),
                change: "name first_thing written as first-thing".into()
            }
        )
    );
    assert_eq!(outcomes[3].0, "POST /v2/things response 201");
    let Outcome::Differs(difference) = outcomes[3].1 else {
        panic!("{:?}", outcomes[3]);
    };
    assert!(difference.contains("/name"), "{difference}");
    assert!(!report.complete());
}

#[test]
fn the_binary_exits_1_when_something_is_not_accounted_for() {
    let dir = manifest().join("tests/fixtures/pages");
    let output = Command::new(env!("CARGO_BIN_EXE_maintainer-tools"))
        .args([
            "docs-coverage",
            dir.to_str().unwrap(),
            dir.join("spec.yaml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("operations: 2/3 of the pages are in the spec"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 corrected as the spec documents, 1 differ"),
        "{stdout}"
    );
    assert!(stdout.contains("IC-99"), "{stdout}");
}

/// The real reference pages: `DIGITALOCEAN_SEEDS_DIR`, else `../shared/seeds` beside the
/// repository.
fn seeds_dir() -> Option<PathBuf> {
    std::env::var_os("DIGITALOCEAN_SEEDS_DIR")
        .map(PathBuf::from)
        .or_else(|| Some(manifest().join("../../shared/seeds")))
        .filter(|dir| dir.is_dir())
}

#[test]
fn the_reference_pages_are_fully_covered_by_the_spec() {
    let Some(dir) = seeds_dir() else {
        eprintln!(
            "SKIPPED the_reference_pages_are_fully_covered_by_the_spec: no reference pages \
             (set DIGITALOCEAN_SEEDS_DIR or put them in ../shared/seeds)"
        );
        return;
    };
    let spec = load(&manifest().join("../spec/digitalocean.yaml")).unwrap();
    let report = coverage(&read_pages(&dir).unwrap(), &spec);
    assert!(report.complete(), "{}", report.render_text());
    assert_eq!(report.page_operations.len(), 38);
    assert!(report.missing_operations.is_empty() && report.extra_operations.is_empty());
    assert_eq!(report.examples.len(), 225, "216 responses and 9 requests");
    let corrected = report
        .examples
        .iter()
        .filter(|e| matches!(e.outcome, Outcome::Corrected { .. }))
        .count();
    assert_eq!(corrected, 8, "{}", report.render_text());
}
