//! `codegen diff` classifies each kind of change as breaking or compatible, exits 1 when
//! anything is breaking, and prints JSON for tools.

use std::path::{Path, PathBuf};
use std::process::Command;

use digitalocean_codegen::load;
use digitalocean_maintainer_tools::diff::{Change, ChangeKind, Class, diff};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/diff")
        .join(name)
}

fn changes(name: &str) -> Vec<Change> {
    let base = load(&fixture("base.yaml")).unwrap();
    let changed = load(&fixture(name)).unwrap();
    diff(&base, &changed).changes
}

/// Each fixture changes one thing; the diff must report exactly that, classified right.
const CASES: [(&str, Class, ChangeKind, &str); 13] = [
    (
        "operation-added.yaml",
        Class::Compatible,
        ChangeKind::Added,
        "operation things_delete",
    ),
    (
        "operation-removed.yaml",
        Class::Breaking,
        ChangeKind::Removed,
        "operation things_create",
    ),
    (
        "field-removed.yaml",
        Class::Breaking,
        ChangeKind::Removed,
        "field Thing.count",
    ),
    (
        "field-added-optional.yaml",
        Class::Compatible,
        ChangeKind::Added,
        "field Thing.note",
    ),
    (
        "field-added-required.yaml",
        Class::Breaking,
        ChangeKind::Added,
        "field ThingCreate.size",
    ),
    (
        "type-changed.yaml",
        Class::Breaking,
        ChangeKind::Changed,
        "field Thing.count",
    ),
    (
        "enum-value-added.yaml",
        Class::Compatible,
        ChangeKind::Added,
        "enum value ThingStatus \"paused\"",
    ),
    (
        "enum-value-removed.yaml",
        Class::Breaking,
        ChangeKind::Removed,
        "enum value ThingStatus \"off\"",
    ),
    (
        "parameter-newly-required.yaml",
        Class::Breaking,
        ChangeKind::Changed,
        "operation things_list parameter page",
    ),
    (
        "parameter-added-optional.yaml",
        Class::Compatible,
        ChangeKind::Added,
        "operation things_list parameter per_page",
    ),
    (
        "response-code-added.yaml",
        Class::Compatible,
        ChangeKind::Added,
        "operation things_list response 429",
    ),
    (
        "constraint-narrowed.yaml",
        Class::Breaking,
        ChangeKind::Changed,
        "field ThingCreate.name",
    ),
    (
        "constraint-relaxed.yaml",
        Class::Compatible,
        ChangeKind::Changed,
        "field ThingCreate.name",
    ),
];

#[test]
fn each_fixture_pair_is_one_change_classified_right() {
    for (name, class, kind, subject) in CASES {
        let found = changes(name);
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        assert_eq!(
            (found[0].class, found[0].kind),
            (class, kind),
            "{name}: {found:#?}"
        );
        assert_eq!(found[0].subject, subject, "{name}");
    }
}

#[test]
fn a_document_compared_with_itself_has_no_changes() {
    let spec =
        load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/digitalocean.yaml")).unwrap();
    assert!(diff(&spec, &spec).changes.is_empty());
}

fn run(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_maintainer-tools"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn the_binary_exits_1_on_breaking_changes_and_0_otherwise() {
    for (name, class, _, subject) in CASES {
        let (code, stdout) = run(&[
            "diff",
            fixture("base.yaml").to_str().unwrap(),
            fixture(name).to_str().unwrap(),
        ]);
        let expected = if class == Class::Breaking { 1 } else { 0 };
        assert_eq!(code, expected, "{name}: {stdout}");
        assert!(stdout.contains(subject), "{name}: {stdout}");
        let heading = if class == Class::Breaking {
            "breaking:"
        } else {
            "compatible:"
        };
        assert!(stdout.contains(heading), "{name}: {stdout}");
    }
}

#[test]
fn json_output_lists_each_change_with_its_class() {
    let (code, stdout) = run(&[
        "diff",
        "--json",
        fixture("base.yaml").to_str().unwrap(),
        fixture("field-removed.yaml").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(report["changes"][0]["class"], "breaking");
    assert_eq!(report["changes"][0]["kind"], "removed");
    assert_eq!(report["changes"][0]["subject"], "field Thing.count");
}

#[test]
fn an_unreadable_document_exits_2() {
    let (code, _) = run(&[
        "diff",
        fixture("base.yaml").to_str().unwrap(),
        "/nonexistent/spec.yaml",
    ]);
    assert_eq!(code, 2);
}
