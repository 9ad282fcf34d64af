//! The API surface snapshot: what the crate offers, one line per operation and per type
//! member. A spec edit shows up as a small diff in `snapshots/surface__api_surface.snap`;
//! the mutation tests prove that a change touches exactly the line of what changed.

mod support;

use serde_json::{Value, json};

fn surface_of(raw: Value) -> Vec<String> {
    let spec = digitalocean_codegen::from_value("mutated copy of the spec", raw)
        .expect("the mutated spec loads");
    digitalocean_maintainer_tools::surface::render(&spec)
        .expect("the mutated spec renders")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Lines only in `before`, lines only in `after`.
fn line_diff(before: &[String], after: &[String]) -> (Vec<String>, Vec<String>) {
    let removed = before
        .iter()
        .filter(|l| !after.contains(l))
        .cloned()
        .collect();
    let added = after
        .iter()
        .filter(|l| !before.contains(l))
        .cloned()
        .collect();
    (removed, added)
}

fn raw_spec() -> Value {
    support::spec().raw().clone()
}

#[test]
fn api_surface() {
    let surface = digitalocean_maintainer_tools::surface::render(&support::spec()).unwrap();
    assert_eq!(
        surface
            .lines()
            .filter(|l| l.starts_with("operation "))
            .count(),
        38
    );
    insta::assert_snapshot!("api_surface", surface);
}

#[test]
fn removing_a_field_changes_exactly_its_line() {
    let before = surface_of(raw_spec());
    let mut raw = raw_spec();
    raw["components"]["schemas"]["Droplet"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("vpc_uuid");
    let (removed, added) = line_diff(&before, &surface_of(raw));
    assert_eq!(
        removed,
        ["type Droplet.vpc_uuid: Option<String> (optional)"]
    );
    assert!(added.is_empty(), "{added:?}");
}

#[test]
fn adding_an_enum_value_adds_exactly_its_line() {
    let before = surface_of(raw_spec());
    let mut raw = raw_spec();
    raw["components"]["schemas"]["DropletStatus"]["enum"]
        .as_array_mut()
        .unwrap()
        .push(json!("migrating"));
    let (removed, added) = line_diff(&before, &surface_of(raw));
    assert!(removed.is_empty(), "{removed:?}");
    assert_eq!(added, [r#"type DropletStatus::Migrating = "migrating""#]);
}

#[test]
fn changing_a_parameter_type_changes_exactly_its_operation() {
    let before = surface_of(raw_spec());
    let mut raw = raw_spec();
    let parameters = raw["paths"]["/v2/droplets"]["get"]["parameters"]
        .as_array_mut()
        .unwrap();
    let name = parameters.iter_mut().find(|p| p["name"] == "name").unwrap();
    name["schema"] = json!({"type": "integer"});
    let (removed, added) = line_diff(&before, &surface_of(raw));
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(added.len(), 1, "{added:?}");
    assert!(
        removed[0].starts_with("operation droplets_list:") && removed[0].contains("name: String")
    );
    assert!(added[0].starts_with("operation droplets_list:") && added[0].contains("name: i64"));
}

#[test]
fn making_a_field_required_changes_exactly_its_line() {
    let before = surface_of(raw_spec());
    let mut raw = raw_spec();
    raw["components"]["schemas"]["Volume"]["required"] = json!(["id"]);
    let (removed, added) = line_diff(&before, &surface_of(raw));
    assert_eq!(removed, ["type Volume.id: Option<String> (optional)"]);
    assert_eq!(added, ["type Volume.id: String"]);
}
