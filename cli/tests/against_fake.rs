//! The `doapi` binary against the fake: every command group, `--all` across pages,
//! `--wait`, errors by class, a missing token, templates, tables and `--trace`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use digitalocean_fake::FakeServer;
use serde_json::Value;

const TOKEN: &str = "dop_v1_cli5ecret0123456789abcdef0123456789abcdef0123456789abcd";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("each line is one JSON item"))
            .collect()
    }
}

/// Runs `doapi ARGS` with the token in `DIGITALOCEAN_TOKEN` (unless `token` is `None`)
/// and nothing else of the caller's DigitalOcean environment.
async fn doapi_with(token: Option<&str>, args: &[&str]) -> Run {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_doapi"));
    command
        .args(args)
        .env_remove("DIGITALOCEAN_TOKEN")
        .env_remove("DIGITALOCEAN_ACCESS_TOKEN")
        .env_remove("DIGITALOCEAN_API_URL");
    if let Some(token) = token {
        command.env("DIGITALOCEAN_TOKEN", token);
    }
    let output = command.output().await.expect("doapi runs");
    Run {
        code: output.status.code().expect("doapi exits, not killed"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

/// Runs `doapi --api-url FAKE ARGS` and asserts it succeeded.
async fn doapi_ok(fake: &FakeServer, args: &[&str]) -> Run {
    let run = doapi(fake, args).await;
    assert_eq!(run.code, 0, "doapi {args:?} failed: {}", run.stderr);
    run
}

async fn doapi(fake: &FakeServer, args: &[&str]) -> Run {
    let mut all = vec!["--api-url", fake.url()];
    all.extend_from_slice(args);
    doapi_with(Some(TOKEN), &all).await
}

/// A body file with `text`, unique to this test process.
fn body_file(text: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "doapi-test-{}-{}.json",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::write(&path, text).unwrap();
    path
}

async fn fake(droplets: usize, volumes: usize) -> FakeServer {
    FakeServer::builder()
        .droplets(droplets)
        .volumes(volumes)
        .start()
        .await
        .expect("the fake starts")
}

#[tokio::test]
async fn tags_create_get_list_and_delete() {
    let fake = fake(0, 0).await;
    let created = doapi_ok(&fake, &["tags", "create", "--name", "cli-web"]).await;
    assert_eq!(created.json()["tag"]["name"], "cli-web");
    let got = doapi_ok(&fake, &["tags", "get", "--tag-id", "cli-web"]).await;
    assert_eq!(got.json()["tag"]["name"], "cli-web");
    let listed = doapi_ok(&fake, &["tags", "list"]).await.json();
    assert!(
        listed["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "cli-web")
    );
    let deleted = doapi_ok(&fake, &["tags", "delete", "--tag-id", "cli-web"]).await;
    assert_eq!(deleted.stdout, "", "a 204 prints nothing");
    assert!(fake.inventory().tags.iter().all(|t| t != "cli-web"));
}

#[tokio::test]
async fn droplets_volumes_snapshots_and_projects_answer_as_json() {
    let fake = fake(3, 2).await;
    let droplet = fake.inventory().droplets[0].0.to_string();
    let got = doapi_ok(&fake, &["droplets", "get", "--droplet-id", &droplet]).await;
    assert_eq!(got.json()["droplet"]["id"].to_string(), droplet);
    let kernels = doapi_ok(
        &fake,
        &["droplets", "list-kernels", "--droplet-id", &droplet],
    )
    .await;
    assert!(kernels.json()["kernels"].is_array());

    let volume = fake.inventory().volumes[0].0.clone();
    let volumes = doapi_ok(&fake, &["volumes", "list"]).await.json();
    assert_eq!(volumes["volumes"].as_array().unwrap().len(), 2);
    let snapshot = doapi_ok(
        &fake,
        &[
            "volumes",
            "snapshots",
            "create",
            "--volume-id",
            &volume,
            "--name",
            "cli-snap",
        ],
    )
    .await
    .json();
    assert_eq!(snapshot["snapshot"]["name"], "cli-snap");
    let snapshots = doapi_ok(
        &fake,
        &["volumes", "snapshots", "list", "--volume-id", &volume],
    )
    .await;
    assert!(snapshots.stdout.contains("cli-snap"));

    let resources = doapi_ok(&fake, &["projects", "list-resources-default"]).await;
    assert!(resources.json()["resources"].is_array());
}

#[tokio::test]
async fn all_streams_every_item_of_every_page() {
    let fake = fake(500, 0).await;
    let first = doapi_ok(&fake, &["droplets", "list", "--per-page", "1"])
        .await
        .json();
    let total = first["meta"]["total"].as_u64().unwrap() as usize;
    assert!(total > 400, "the seed lists more than two pages: {total}");
    let run = doapi_ok(&fake, &["droplets", "list", "--all"]).await;
    let items = run.lines();
    assert_eq!(items.len(), total, "one JSON item per line");
    let ids: std::collections::BTreeSet<String> =
        items.iter().map(|d| d["id"].to_string()).collect();
    assert_eq!(ids.len(), total, "no item twice");
    assert_eq!(fake.requests(), 1 + 3, "pages of 200: 3 requests");
}

#[tokio::test]
async fn all_keeps_the_filters_of_the_command() {
    let fake = fake(10, 0).await;
    let tagged = fake
        .inventory()
        .droplets
        .iter()
        .filter(|(_, _, tags)| tags.iter().any(|t| t == "web"))
        .count();
    assert!(
        tagged > 0 && tagged < 10,
        "the seed tags some Droplets `web`"
    );
    let run = doapi_ok(&fake, &["droplets", "list", "--all", "--tag-name", "web"]).await;
    assert_eq!(run.lines().len(), tagged);
}

#[tokio::test]
async fn create_with_wait_prints_the_droplet_once_it_is_active() {
    let fake = fake(0, 0).await;
    let template = doapi_with(None, &["droplets", "create", "--json-body-template"]).await;
    assert_eq!(template.code, 0, "{}", template.stderr);
    let body = body_file(&template.stdout);
    let body = body.to_str().unwrap();
    let run = doapi_ok(
        &fake,
        &[
            "droplets",
            "create",
            "--json-body",
            body,
            "--wait",
            "--poll-interval",
            "0.05",
        ],
    )
    .await;
    let droplet = &run.json()["droplet"];
    assert_eq!(droplet["status"], "active");
    assert_eq!(fake.inventory().droplets.len(), 1, "created once");
    assert!(
        fake.requests() >= 2,
        "the create, then the reads of the wait"
    );
}

#[tokio::test]
async fn destroy_with_associated_resources_waits_for_completion() {
    let fake = fake(1, 0).await;
    let droplet = fake.inventory().droplets[0].0.to_string();
    let run = doapi_ok(
        &fake,
        &[
            "droplets",
            "destroy-with-associated-resources-dangerous",
            "--droplet-id",
            &droplet,
            "--x-dangerous",
            "true",
            "--wait",
            "--poll-interval",
            "0.05",
        ],
    )
    .await;
    let status = run.json();
    assert!(status["completed_at"].is_string(), "{status}");
    assert!(fake.inventory().droplets.is_empty());
}

#[tokio::test]
async fn a_4xx_is_one_line_with_the_id_message_and_request_id_and_exit_code_5() {
    let fake = fake(0, 0).await;
    let run = doapi(&fake, &["droplets", "get", "--droplet-id", "999"]).await;
    assert_eq!(run.code, 5, "not found");
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 404 not_found"), "{}", run.stderr);
    assert!(run.stderr.contains("request id "), "{}", run.stderr);
}

#[tokio::test]
async fn a_rejected_write_exits_7() {
    let fake = fake(0, 0).await;
    let template = doapi_with(None, &["volumes", "create", "--json-body-template"]).await;
    // The documented example restores a snapshot; this one is a new, empty volume.
    let mut volume = template.json();
    volume.as_object_mut().unwrap().remove("snapshot_id");
    volume["size_gigabytes"] = 10.into();
    let body = body_file(&volume.to_string());
    let body = body.to_str().unwrap();
    doapi_ok(&fake, &["volumes", "create", "--json-body", body]).await;
    let run = doapi(&fake, &["volumes", "create", "--json-body", body]).await;
    assert_eq!(run.code, 7, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("doapi: error: HTTP 409 conflict"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.inventory().volumes.len(), 1);
}

#[tokio::test]
async fn a_5xx_after_the_retries_exits_8_with_the_attempts() {
    let fake = fake(0, 0).await;
    fake.fail_next(&[500; 10]);
    let run = doapi(&fake, &["tags", "list"]).await;
    assert_eq!(run.code, 8, "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 500"), "{}", run.stderr);
    assert!(run.stderr.contains("attempts"), "retried: {}", run.stderr);
}

#[tokio::test]
async fn a_missing_token_exits_3_and_names_the_variables() {
    let run = doapi_with(None, &["--api-url", "http://127.0.0.1:9", "tags", "list"]).await;
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("DIGITALOCEAN_TOKEN"), "{}", run.stderr);
}

#[tokio::test]
async fn bad_arguments_exit_2_before_anything_is_sent() {
    let fake = fake(0, 0).await;
    let run = doapi(&fake, &["droplets", "get", "--droplet-id", "not-a-number"]).await;
    assert_eq!(run.code, 2);
    let run = doapi(
        &fake,
        &["tags", "create", "--json-body", "/nonexistent/body.json"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("/nonexistent/body.json"),
        "{}",
        run.stderr
    );
    assert_eq!(fake.requests(), 0);
}

#[tokio::test]
async fn the_template_is_the_documented_example_and_needs_no_token() {
    let run = doapi_with(None, &["volumes", "create", "--json-body-template"]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let example = run.json();
    assert!(
        example["name"].is_string() && example["region"].is_string(),
        "{example}"
    );
}

#[tokio::test]
async fn table_output_is_aligned_rows_with_a_header() {
    let fake = fake(2, 0).await;
    let run = doapi_ok(&fake, &["droplets", "list", "--output", "table"]).await;
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(lines[0].starts_with("ID "), "{}", lines[0]);
    assert!(lines[0].contains("NAME") && lines[0].contains("STATUS"));
    assert!(lines[1].contains("seed-droplet-0000"));
}

#[tokio::test]
async fn trace_prints_each_request_and_never_the_token() {
    let fake = fake(0, 0).await;
    fake.fail_next(&[503]);
    let run = doapi_ok(&fake, &["tags", "list", "--trace"]).await;
    let trace: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        trace.len(),
        2,
        "a retried request is two lines: {}",
        run.stderr
    );
    assert!(
        trace[0].starts_with("trace: GET /v2/tags -> 503 (request id "),
        "{}",
        trace[0]
    );
    assert!(
        trace[1].contains("-> 200") && trace[1].contains("attempt 2"),
        "{}",
        trace[1]
    );
    assert!(
        trace[1].contains("rate limit ") && trace[1].contains(" left"),
        "{}",
        trace[1]
    );
    assert!(!run.stderr.contains(TOKEN) && !run.stdout.contains(TOKEN));
}

/// A fake whose Droplets never leave `new`.
async fn never_booting_fake() -> FakeServer {
    FakeServer::builder()
        .drift(|answer| {
            if answer.method == "GET" && answer.path.starts_with("/v2/droplets/") {
                answer.body["droplet"]["status"] = "new".into();
            }
        })
        .start()
        .await
        .expect("the fake starts")
}

async fn droplet_body() -> String {
    let template = doapi_with(None, &["droplets", "create", "--json-body-template"]).await;
    body_file(&template.stdout).to_str().unwrap().to_string()
}

#[tokio::test]
async fn wait_gives_up_at_its_deadline_with_exit_code_10() {
    let fake = never_booting_fake().await;
    let body = droplet_body().await;
    let started = std::time::Instant::now();
    let run = doapi(
        &fake,
        &[
            "droplets",
            "create",
            "--json-body",
            &body,
            "--wait",
            "--wait-timeout",
            "0.5",
            "--poll-interval",
            "0.1",
        ],
    )
    .await;
    assert_eq!(run.code, 10, "{}", run.stderr);
    assert!(run.stderr.contains("still `new`"), "{}", run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        fake.inventory().droplets.len(),
        1,
        "the Droplet exists all the same"
    );
}

#[tokio::test]
async fn ctrl_c_while_waiting_exits_130_and_says_the_droplet_was_created() {
    let fake = never_booting_fake().await;
    let body = droplet_body().await;
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_doapi"))
        .args([
            "--api-url",
            fake.url(),
            "droplets",
            "create",
            "--json-body",
            &body,
            "--wait",
        ])
        .args(["--poll-interval", "0.1"])
        .env("DIGITALOCEAN_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the wait has begun: the create and at least one read were answered.
    while fake.requests() < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let pid = child.id().unwrap().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let id = fake.inventory().droplets[0].0;
    assert!(
        stderr.contains(&format!("Droplet {id} was created")),
        "{stderr}"
    );
}
