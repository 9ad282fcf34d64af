//! `conform` against the fake: as it is (every operation exercised, nothing found), and
//! made to drift (each drift found once, where it is, with a suggested edit).

use std::collections::BTreeMap;

use digitalocean_conform::{Document, FindingKind, Options, Report};
use digitalocean_fake::{FakeServer, FakeServerBuilder, SECOND_PROJECT_ID};
use serde_json::{Value, json};

fn document() -> Document {
    Document::new(digitalocean_conform::bundled_document().expect("the bundled document loads"))
}

fn options(write: bool) -> Options {
    Options {
        operations: None,
        write,
        max_requests: 200,
        project_id: Some(SECOND_PROJECT_ID.to_string()),
        prefix: "conform-test".to_string(),
    }
}

async fn run(fake: FakeServerBuilder, options: Options) -> (Report, FakeServer) {
    let fake = fake.start().await.expect("the fake starts");
    let report = digitalocean_conform::run(&document(), fake.url(), "token", options, |_| {})
        .await
        .expect("conform runs");
    (report, fake)
}

fn skipped(report: &Report) -> BTreeMap<String, String> {
    report
        .operations
        .iter()
        .filter_map(|o| {
            o.skipped
                .clone()
                .map(|reason| (o.operation.clone(), reason))
        })
        .collect()
}

#[tokio::test]
async fn with_write_every_operation_is_exercised_and_the_fake_conforms() {
    let (report, fake) = run(FakeServer::builder().droplets(3).volumes(2), options(true)).await;
    assert_eq!(skipped(&report), BTreeMap::new());
    assert_eq!(report.operations.len(), 38);
    assert_eq!(report.exercised(), 38);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert!(report.requests <= 200, "{} requests", report.requests);
    // The run cleaned up after itself: only the seeded resources are left.
    let inventory = fake.inventory();
    assert!(
        inventory
            .droplets
            .iter()
            .all(|(_, name, _)| !name.starts_with("conform-test")),
        "{inventory:?}"
    );
    assert!(
        inventory
            .volumes
            .iter()
            .all(|(_, name, _)| !name.starts_with("conform-test")),
        "{inventory:?}"
    );
    assert!(
        !inventory.tags.iter().any(|tag| tag == "conform-test"),
        "{inventory:?}"
    );
    assert!(report.left_behind.is_empty());
}

#[tokio::test]
async fn read_only_exercises_every_get_and_sends_no_write() {
    let (report, fake) = run(
        FakeServer::builder().droplets(3).volumes(2).record(true),
        options(false),
    )
    .await;
    let document = document();
    let gets = document.operations().filter(|o| o.method == "GET").count();
    // Volume snapshots are made only by --write; the fake seeds none.
    assert_eq!(report.exercised(), gets - 1, "{:#?}", skipped(&report));
    assert!(skipped(&report).contains_key("volume_snapshots_get_by_id"));
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert!(
        fake.exchanges()
            .iter()
            .all(|exchange| exchange.method == "GET")
    );
}

#[tokio::test]
async fn the_request_budget_is_never_exceeded() {
    let mut options = options(true);
    options.max_requests = 10;
    let (report, fake) = run(FakeServer::builder().droplets(3).volumes(2), options).await;
    assert!(fake.requests() <= 10, "{} requests", fake.requests());
    assert!(report.requests <= 10);
    assert!(
        skipped(&report)
            .values()
            .any(|reason| reason.contains("--max-requests 10"))
    );
}

/// The fake, drifted four ways.
fn drifted() -> FakeServerBuilder {
    FakeServer::builder().droplets(3).volumes(2).drift(|answer| {
        // A new field on every Droplet.
        for pointer in ["/droplet", "/droplets"] {
            match answer.body.pointer_mut(pointer) {
                Some(Value::Object(droplet)) => {
                    droplet.insert("carbon_footprint".into(), json!({"count": 1}));
                }
                Some(Value::Array(droplets)) => {
                    for droplet in droplets.iter_mut().filter_map(Value::as_object_mut) {
                        droplet.insert("carbon_footprint".into(), json!({"count": 1}));
                    }
                }
                _ => {}
            }
        }
        // A new value of the volume snapshots' resource type.
        if let Some(Value::Object(snapshot)) = answer.body.pointer_mut("/snapshot") {
            snapshot.insert("resource_type".into(), json!("bucket"));
        }
        // `null` for the tags of one Droplet.
        let one_droplet = answer.method == "GET"
            && answer.path.starts_with("/v2/droplets/")
            && answer.path.matches('/').count() == 3;
        if one_droplet && let Some(droplet) = answer.body.pointer_mut("/droplet") {
            droplet["tags"] = Value::Null;
        }
        // A status the document does not list.
        if answer.method == "DELETE" && answer.path == "/v2/volumes" {
            answer.status = axum_status(422);
            answer.body = json!({"id": "unprocessable_entity", "message": "size_gigabytes too large", "request_id": "r"});
        }
    })
}

fn axum_status(code: u16) -> digitalocean_fake::StatusCode {
    digitalocean_fake::StatusCode::from_u16(code).expect("a status")
}

#[tokio::test]
async fn each_drift_is_found_once_where_it_is_and_nothing_else() {
    let (report, fake) = run(drifted(), options(true)).await;
    // The volume deleted by name answered 422; the clean-up deleted it by id.
    assert!(
        fake.inventory()
            .volumes
            .iter()
            .all(|(_, name, _)| !name.starts_with("conform-test"))
    );
    assert!(report.left_behind.is_empty(), "{:?}", report.left_behind);
    let found: Vec<(String, FindingKind, String)> = report
        .findings
        .iter()
        .map(|f| (f.operation.clone(), f.kind, f.pointer.clone()))
        .collect();
    let expected = [
        (
            "droplets_create",
            FindingKind::UndocumentedField,
            "/droplets/0/carbon_footprint",
        ),
        (
            "droplets_get",
            FindingKind::UndocumentedField,
            "/droplet/carbon_footprint",
        ),
        ("droplets_get", FindingKind::UnexpectedNull, "/droplet/tags"),
        // `tags` is required: the typed client cannot take the null either.
        ("droplets_get", FindingKind::TypedDecodeFailure, ""),
        (
            "droplets_list",
            FindingKind::UndocumentedField,
            "/droplets/0/carbon_footprint",
        ),
        (
            "droplets_list_neighbors",
            FindingKind::UndocumentedField,
            "/droplets/0/carbon_footprint",
        ),
        (
            "volume_snapshots_create",
            FindingKind::UnknownEnumValue,
            "/snapshot/resource_type",
        ),
        (
            "volume_snapshots_get_by_id",
            FindingKind::UnknownEnumValue,
            "/snapshot/resource_type",
        ),
        (
            "volumes_delete_by_name",
            FindingKind::UndocumentedStatus,
            "",
        ),
    ];
    for (operation, kind, pointer) in expected {
        let matching = found
            .iter()
            .filter(|(o, k, p)| o == operation && *k == kind && p == pointer)
            .count();
        assert_eq!(matching, 1, "{operation} {kind:?} {pointer}: {found:#?}");
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    let field = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::UndocumentedField)
        .unwrap();
    let suggestion = field.suggestion.as_deref().unwrap();
    assert!(
        suggestion.contains("carbon_footprint:\n  type: object"),
        "{suggestion}"
    );
    // Every Droplet of the list shows the field: one finding, counted.
    let listed = report
        .findings
        .iter()
        .find(|f| f.operation == "droplets_list")
        .unwrap();
    assert_eq!(listed.occurrences, 3);
}

#[tokio::test]
async fn a_new_enum_value_is_found_with_its_suggested_enum() {
    let fake = FakeServer::builder()
        .droplets(1)
        .volumes(1)
        .drift(|answer| {
            if let Some(Value::Object(snapshot)) = answer.body.pointer_mut("/snapshot") {
                snapshot.insert("resource_type".into(), json!("bucket"));
            }
        });
    let (report, _fake) = run(fake, options(true)).await;
    let enums: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::UnknownEnumValue)
        .collect();
    assert!(!enums.is_empty(), "{:#?}", report.findings);
    for finding in &enums {
        assert_eq!(finding.pointer, "/snapshot/resource_type");
        assert_eq!(finding.seen, "\"bucket\"");
        let suggestion = finding.suggestion.as_deref().unwrap();
        assert!(
            suggestion.contains("- \"volume\"\n  - \"bucket\""),
            "{suggestion}"
        );
    }
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.kind == FindingKind::UnknownEnumValue),
        "{:#?}",
        report.findings
    );
}

/// The `conform` binary against `fake`, with a token unless `token` is `None`.
async fn conform_binary(fake: &FakeServer, token: Option<&str>, extra: &[&str]) -> (i32, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_conform"));
    command
        .args([
            "--base-url",
            fake.url(),
            "--token-env",
            "CONFORM_TEST_TOKEN",
        ])
        .args(extra)
        .env_remove("CONFORM_TEST_TOKEN");
    if let Some(token) = token {
        command.env("CONFORM_TEST_TOKEN", token);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the process ran")
        .expect("conform starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.code().unwrap_or(-1), stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_exits_1_on_drift_0_when_it_conforms_and_2_without_a_token() {
    let fake = drifted().start().await.unwrap();
    let project = ["--write", "--project-id", SECOND_PROJECT_ID];
    let (code, stdout) = conform_binary(&fake, Some("secret-token-value"), &project).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("undocumented field"), "{stdout}");
    assert!(stdout.contains("suggested spec edit"), "{stdout}");
    assert!(!stdout.contains("secret-token-value"), "{stdout}");

    let fake = FakeServer::builder()
        .droplets(3)
        .volumes(2)
        .start()
        .await
        .unwrap();
    let (code, stdout) = conform_binary(&fake, Some("t"), &project).await;
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("38/38 operations exercised, 0 findings"),
        "{stdout}"
    );

    let (code, _) = conform_binary(&fake, None, &[]).await;
    assert_eq!(code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_the_run_and_deletes_what_it_made() {
    // 100 ms a request: the lifecycle takes seconds, the interrupt lands inside it.
    let fake = FakeServer::builder()
        .droplets(3)
        .volumes(2)
        .latency(std::time::Duration::from_millis(100))
        .start()
        .await
        .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .args([
            "--base-url",
            fake.url(),
            "--token-env",
            "CONFORM_TEST_TOKEN",
            "--write",
        ])
        .env("CONFORM_TEST_TOKEN", "t")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("conform starts");
    // Wait until the run has made its Droplets, then interrupt it.
    let made = |fake: &FakeServer| {
        fake.inventory()
            .droplets
            .iter()
            .filter(|(_, name, _)| name.starts_with("conform-"))
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while made(&fake) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never created its Droplets"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(interrupted.success());
    let output = tokio::task::spawn_blocking(move || {
        let status = child.wait();
        let mut stdout = String::new();
        if let Some(mut pipe) = child.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stdout);
        }
        (status, stdout)
    })
    .await
    .unwrap();
    let stdout = output.1;
    assert!(
        stdout.contains("interrupted by Ctrl-C; cleaned up"),
        "{stdout}"
    );
    assert_eq!(made(&fake), 0, "{:?}", fake.inventory());
    let inventory = fake.inventory();
    assert!(
        inventory
            .volumes
            .iter()
            .all(|(_, name, _)| !name.starts_with("conform-")),
        "{inventory:?}"
    );
    assert!(
        inventory
            .tags
            .iter()
            .all(|tag| !tag.starts_with("conform-")),
        "{inventory:?}"
    );
}
