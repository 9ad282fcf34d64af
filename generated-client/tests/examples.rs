//! Every body example of the spec decodes into the generated type that the client uses for
//! its operation and status, and re-encodes to the same JSON (absent optional fields
//! aside): what the client sends is what the pages show, and nothing it did not set. This is what proves the generated types match the documented payloads.

mod support;

use std::collections::BTreeMap;

use digitalocean::types;
use digitalocean_maintainer_tools::examples::{self, ExampleKind};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

type RoundTrip = fn(&Value) -> Result<Value, String>;

fn round_trip<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Value, String> {
    let typed: T =
        serde_json::from_value(value.clone()).map_err(|e| format!("does not decode: {e}"))?;
    serde_json::to_value(&typed).map_err(|e| format!("does not re-encode: {e}"))
}

/// The Rust type of every component schema used as a body. A schema missing here fails
/// the test with its name, so a new body type cannot go untested.
fn body_types() -> BTreeMap<&'static str, RoundTrip> {
    macro_rules! table {
        ($($name:ident),* $(,)?) => {
            BTreeMap::from([$((stringify!($name), round_trip::<types::$name> as RoundTrip)),*])
        };
    }
    table![
        DestroyAssociatedResourcesStatus,
        DropletAssociatedResources,
        DropletBackupList,
        DropletBackupPolicyList,
        DropletBackupPolicyResponse,
        DropletCreateRequest,
        DropletCreateResponse,
        DropletList,
        DropletNeighborIds,
        DropletNeighbors,
        DropletResponse,
        DropletSnapshotList,
        Error,
        FirewallList,
        KernelList,
        ProjectAssignRequest,
        ProjectResourceAssignment,
        ProjectResourceList,
        SelectiveDestroyRequest,
        SupportedBackupPolicyList,
        TagCreate,
        TagList,
        TagResourcesRequest,
        TagResponse,
        TagsCreateErrorBody,
        VolumeCreateRequest,
        VolumeList,
        VolumeResponse,
        VolumeSnapshotCreate,
        VolumeSnapshotList,
        VolumeSnapshotResponse,
    ]
}

/// The component the generated client decodes for this example: the schema of the same
/// operation and status in the normalized document. Error statuses that normalization
/// folded into `4XX`/`5XX` (and `default`) decode as the range does.
fn generated_body_type(normalized: &Value, example: &examples::Example) -> String {
    let segments = example.location.segments();
    let (path, method) = (&segments[1], &segments[2]);
    let operation = &normalized["paths"][path.as_str()][method.as_str()];
    let holder = match example.kind {
        ExampleKind::RequestBody => &operation["requestBody"],
        ExampleKind::ResponseBody => {
            let status = segments[4].as_str();
            let responses = &operation["responses"];
            match responses.get(status) {
                Some(response) => response,
                None if status.starts_with('5') => &responses["5XX"],
                None => &responses["4XX"],
            }
        }
        _ => unreachable!("only body examples are collected"),
    };
    let reference = holder["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: the body schema is not a component", example.label));
    reference.rsplit('/').next().unwrap().to_string()
}

#[test]
fn every_body_example_round_trips_through_its_generated_type() {
    let spec = support::spec();
    let normalized = digitalocean_codegen::normalize::normalize(&spec)
        .unwrap()
        .document;
    let table = body_types();
    let bodies: Vec<_> = examples::collect(spec.raw())
        .into_iter()
        .filter(|e| e.kind.is_body())
        .collect();
    assert!(bodies.len() >= 225, "only {} body examples", bodies.len());

    let mut failures = Vec::new();
    for example in &bodies {
        let type_name = generated_body_type(&normalized, example);
        let Some(round_trip) = table.get(type_name.as_str()) else {
            failures.push(format!(
                "{}: add types::{type_name} to body_types()",
                example.label
            ));
            continue;
        };
        match round_trip(&example.value) {
            Err(e) => failures.push(format!("{} as {type_name}: {e}", example.label)),
            Ok(reencoded) => {
                if let Err(difference) = support::json_equivalent(&example.value, &reencoded) {
                    failures.push(format!("{} as {type_name}: {difference}", example.label));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} example(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_request_example_decodes_into_the_body_type_of_its_builder() {
    // The request examples of the pages, decoded the way a caller would build them.
    let spec = support::spec();
    let requests: Vec<_> = examples::collect(spec.raw())
        .into_iter()
        .filter(|e| e.kind == ExampleKind::RequestBody)
        .collect();
    // 9 from the pages, plus the multi-Droplet and from-size volume examples of the spec.
    assert_eq!(requests.len(), 11);
    let droplet = requests
        .iter()
        .find(|e| e.label.starts_with("POST /v2/droplets ") && e.label.ends_with("[page]"))
        .expect("the droplet create example");
    let body: types::DropletCreateRequest = serde_json::from_value(droplet.value.clone()).unwrap();
    let types::DropletCreateRequest::Single(single) = body else {
        panic!("the page's example creates a single Droplet");
    };
    assert_eq!(single.name, "example.com");
    assert_eq!(
        single.ssh_keys,
        Some(vec![
            types::SshKeyIdOrFingerprint::Id(289794),
            types::SshKeyIdOrFingerprint::Fingerprint(
                "3b:16:e4:bf:8b:00:8b:b8:59:8c:a9:d3:f0:19:fa:45".into()
            ),
        ])
    );
}

#[test]
fn the_comparison_itself_catches_a_changed_value_and_a_lost_field() {
    use serde_json::json;
    assert!(support::json_equivalent(&json!({"a": 1, "b": []}), &json!({"a": 1.0})).is_ok());
    assert!(support::json_equivalent(&json!({"a": 1}), &json!({"a": 2})).is_err());
    assert!(support::json_equivalent(&json!({"a": "x"}), &json!({})).is_err());
    assert!(support::json_equivalent(&json!({}), &json!({"a": "x"})).is_err());
}
