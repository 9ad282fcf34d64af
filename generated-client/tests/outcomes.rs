//! Writes that never lie: for each way an answer can be lost, the error says whether the
//! request may have been applied, and creates are settled by a lookup instead of being sent
//! twice. Against the fake (which applies the request and then loses the answer) on
//! 127.0.0.1, and wiremock where a raw answer is needed.

mod support;

use std::time::{Duration, Instant};

use digitalocean::{ErrorKind, Outcome, Resolution, ResponseExt, types};
use digitalocean_fake::{FakeServer, Fault, Knobs};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn body<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("a valid request body")
}

fn volume(name: &str) -> types::VolumeCreateRequest {
    body(json!({"size_gigabytes": 10, "name": name, "region": "nyc3"}))
}

async fn fake() -> FakeServer {
    FakeServer::start().await.expect("the fake starts")
}

#[tokio::test]
async fn a_tag_create_whose_answer_is_lost_after_it_was_applied_is_found_by_a_lookup() {
    let fake = fake().await;
    let client = support::client(fake.url());
    fake.fault_next(&[Fault::ResetAfterApply]);
    let created = client
        .tags_create()
        .body(support::tag_create("lost-answer"))
        .send()
        .await
        .expect("reconciled");
    assert_eq!(
        created.tag.as_ref().and_then(|t| t.name.as_deref()),
        Some("lost-answer")
    );
    assert_eq!(created.status().as_u16(), 201);
    let reconciliation = created
        .reconciliation()
        .expect("the reconciliation is visible");
    assert_eq!(reconciliation.resolution, Resolution::Found);
    assert_eq!(reconciliation.lookup, "GET /v2/tags/lost-answer");
    assert_eq!(created.attempts(), 1, "the create was sent once");
    assert_eq!(fake.inventory().tags, ["lost-answer"]);
}

#[tokio::test]
async fn a_volume_create_answered_by_a_proxys_html_503_after_apply_is_found() {
    let fake = fake().await;
    let client = support::client(fake.url());
    fake.fault_next(&[Fault::Html503AfterApply]);
    let created = client
        .volumes_create()
        .body(volume("behind-a-proxy"))
        .send()
        .await
        .expect("reconciled");
    let found = created.volume.as_ref().expect("the volume");
    assert_eq!(found.name.as_deref(), Some("behind-a-proxy"));
    assert_eq!(
        created.reconciliation().map(|r| r.lookup),
        Some("GET /v2/volumes?name=behind-a-proxy&region=nyc3".to_string())
    );
    assert_eq!(fake.inventory().volumes.len(), 1, "no duplicate");
}

#[tokio::test]
async fn a_volume_create_whose_body_is_cut_after_apply_is_found() {
    let fake = fake().await;
    let client = support::client(fake.url());
    fake.fault_next(&[Fault::CutBodyAfterApply]);
    let created = client
        .volumes_create()
        .body(volume("cut-short"))
        .send()
        .await
        .expect("reconciled");
    assert_eq!(
        created.reconciliation().map(|r| r.resolution),
        Some(Resolution::Found)
    );
    assert_eq!(fake.inventory().volumes.len(), 1);
}

#[tokio::test]
async fn a_multiple_droplet_create_whose_answer_is_lost_is_found_with_its_tags() {
    let fake = fake().await;
    let client = support::client(fake.url());
    fake.fault_next(&[Fault::ResetAfterApply]);
    let created = client
        .droplets_create()
        .body(body::<types::DropletCreateRequest>(json!({
            "names": ["lost-1", "lost-2"], "region": "nyc3", "size": "s-1vcpu-1gb",
            "image": "ubuntu-22-04-x64", "tags": ["batch-7"]
        })))
        .send()
        .await
        .expect("reconciled");
    assert_eq!(created.status().as_u16(), 202);
    let types::DropletCreateResponse::MultipleResponse(many) = created.into_inner() else {
        panic!("a create of several names answers several Droplets");
    };
    let names: Vec<&str> = many.droplets.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["lost-1", "lost-2"]);
    assert!(
        many.droplets
            .iter()
            .all(|d| d.tags.contains(&"batch-7".to_string())),
        "the lookup matched the request's tags"
    );
    assert_eq!(fake.inventory().droplets.len(), 2, "no duplicate");
}

#[tokio::test]
async fn a_volume_snapshot_create_whose_answer_is_lost_is_found_on_its_volume() {
    let fake = FakeServer::builder().volumes(1).start().await.unwrap();
    let client = support::client(fake.url());
    let volume_id = fake.inventory().volumes[0].0.clone();
    fake.fault_next(&[Fault::ResetAfterApply]);
    let created = client
        .volume_snapshots_create()
        .volume_id(volume_id.as_str())
        .body(body::<types::VolumeSnapshotCreate>(
            json!({"name": "nightly"}),
        ))
        .send()
        .await
        .expect("reconciled");
    assert_eq!(
        created.snapshot.as_ref().map(|s| s.name.as_str()),
        Some("nightly")
    );
    assert_eq!(
        created.reconciliation().map(|r| r.resolution),
        Some(Resolution::Found)
    );
    assert_eq!(fake.inventory().volume_snapshots.len(), 1);
}

#[tokio::test]
async fn a_create_that_was_not_applied_is_sent_again_once_the_lookup_proves_it_absent() {
    let fake = fake().await;
    let client = support::client(fake.url());
    fake.fault_next(&[Fault::Reset]);
    let created = client
        .volumes_create()
        .body(volume("second-try"))
        .send()
        .await
        .expect("sent again");
    assert_eq!(created.attempts(), 2);
    assert_eq!(
        created.reconciliation().map(|r| r.resolution),
        Some(Resolution::AbsentSentAgain)
    );
    assert_eq!(fake.inventory().volumes.len(), 1);
}

#[tokio::test]
async fn an_ambiguous_droplet_lookup_leaves_the_outcome_unknown_and_names_the_lookup() {
    let fake = fake().await;
    let client = support::client(fake.url());
    let droplet = || {
        body::<types::DropletCreateRequest>(json!({
            "name": "web", "region": "nyc3", "size": "s-1vcpu-1gb", "image": "ubuntu-22-04-x64"
        }))
    };
    client
        .droplets_create()
        .body(droplet())
        .send()
        .await
        .unwrap();
    fake.fault_next(&[Fault::ResetAfterApply]);
    let error: digitalocean::Error = client
        .droplets_create()
        .body(droplet())
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.outcome(), Outcome::Unknown);
    assert!(error.may_have_been_applied());
    let reconciliation = error.reconciliation().expect("a lookup ran");
    assert!(
        matches!(&reconciliation.resolution, Resolution::Unsettled(reason) if reason.contains("2 Droplets named \"web\"")),
        "{reconciliation:?}"
    );
    let text = error.to_string();
    assert!(text.contains("DigitalOcean may have applied it"), "{text}");
    assert!(text.contains("GET /v2/droplets?name=web"), "{text}");
    assert!(!text.contains("cannot reach"), "{text}");
    assert_eq!(fake.inventory().droplets.len(), 2, "not sent a third time");
}

#[tokio::test]
async fn a_create_that_timed_out_is_not_sent_again_when_nothing_is_found_yet() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/tags/slow"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(support::error_body(
                "not_found",
                "The resource you were accessing could not be found.",
            )),
        )
        .mount(&server)
        .await;
    let client = support::client_with(&server.uri(), |b| {
        b.request_timeout(Duration::from_millis(200))
    });
    let error: digitalocean::Error = client
        .tags_create()
        .body(support::tag_create("slow"))
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(
        error.transport_failure(),
        Some(digitalocean::TransportFailure::Timeout)
    );
    assert_eq!(error.outcome(), Outcome::Unknown);
    assert!(matches!(
        error.reconciliation().map(|r| &r.resolution),
        Some(Resolution::Unsettled(_))
    ));
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(
        posts, 1,
        "a timed-out create is never sent again on absence"
    );
}

#[tokio::test]
async fn without_reconciliation_a_lost_answer_is_an_error_that_says_the_write_may_have_happened() {
    let fake = fake().await;
    let client = support::client(fake.url()).with_reconcile_creates(false);
    fake.fault_next(&[Fault::Html503AfterApply]);
    let error: digitalocean::Error = client
        .volumes_create()
        .body(volume("proxy"))
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(error.kind(), ErrorKind::UnexpectedBody);
    assert_eq!(error.outcome(), Outcome::Unknown);
    assert_eq!(error.attempts(), 1);
    assert!(
        error
            .body_excerpt()
            .is_some_and(|e| e.contains("503 Service"))
    );
    assert!(
        error
            .to_string()
            .contains("the request was sent; DigitalOcean may have applied it"),
        "{error}"
    );
    assert_eq!(fake.inventory().volumes.len(), 1, "it was applied");

    fake.fault_next(&[Fault::ResetAfterApply]);
    let error: digitalocean::Error = client
        .tags_create()
        .body(support::tag_create("reset"))
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert_eq!(
        error.transport_failure(),
        Some(digitalocean::TransportFailure::ResetBeforeResponse)
    );
    let text = error.to_string();
    assert!(
        !text.contains("cannot reach"),
        "the request was sent: {text}"
    );
    assert!(text.contains("may have applied it"), "{text}");
}

#[tokio::test]
async fn a_cut_error_body_keeps_the_status_and_the_request_id() {
    let fake = fake().await;
    let client = support::client(fake.url()).with_reconcile_creates(false);
    fake.fault_next(&[Fault::CutBodyAfterApply]);
    let error: digitalocean::Error = client
        .tags_create()
        .body(support::tag_create("cut"))
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(201));
    assert_eq!(
        error.transport_failure(),
        Some(digitalocean::TransportFailure::BodyCut)
    );
    assert_eq!(error.outcome(), Outcome::Applied);
    assert!(
        error
            .request_id()
            .is_some_and(|id| id.starts_with("00000000-fa6e"))
    );
    assert!(error.to_string().contains("its answer was lost"), "{error}");
}

#[tokio::test]
async fn nothing_sent_says_so() {
    let client = support::client("http://127.0.0.1:9"); // discard port: refused
    let error: digitalocean::Error = client
        .tags_create()
        .body(support::tag_create("never"))
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.outcome(), Outcome::NotSent);
    assert!(!error.may_have_been_applied());
    assert!(
        error
            .to_string()
            .starts_with("cannot reach the DigitalOcean API"),
        "{error}"
    );
}

#[tokio::test]
async fn a_delete_whose_answer_is_lost_and_whose_retry_answers_404_succeeded() {
    let fake = FakeServer::builder().volumes(1).start().await.unwrap();
    let client = support::client(fake.url());
    let volume_id = fake.inventory().volumes[0].0.clone();
    fake.fault_next(&[Fault::ResetAfterApply]);
    let deleted = client
        .volumes_delete()
        .volume_id(volume_id.as_str())
        .send()
        .await
        .expect("the retry's 404 proves the first attempt deleted it");
    assert_eq!(deleted.status().as_u16(), 204);
    assert_eq!(deleted.attempts(), 2);
    assert!(fake.inventory().volumes.is_empty());

    // A DELETE of something that never existed is still "not found".
    let error: digitalocean::Error = client
        .volumes_delete()
        .volume_id(volume_id.as_str())
        .send()
        .await
        .unwrap_err()
        .into();
    assert!(error.is_not_found());
    assert_eq!(error.outcome(), Outcome::Rejected);
}

#[tokio::test]
async fn every_idempotent_read_is_retried_after_each_transport_failure_kind() {
    let fake = fake().await;
    support::assert_reads_retried_after_each_lost_answer(&support::client(fake.url()), &fake).await;
    // A timeout: the first answer comes after the attempt's time.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"tags": [], "meta": {"total": 0}}))
                .set_delay(Duration::from_secs(2)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"tags": [], "meta": {"total": 0}})),
        )
        .mount(&server)
        .await;
    let client = support::client_with(&server.uri(), |b| {
        b.request_timeout(Duration::from_millis(200))
    });
    let tags = client
        .tags_list()
        .send()
        .await
        .expect("retried after the timeout");
    assert_eq!(tags.attempts(), 2);
}

#[tokio::test]
async fn a_write_answered_with_a_redirect_is_not_followed_and_names_the_location() {
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(204))
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    for status in [301, 307, 308] {
        server.reset().await;
        Mock::given(method("DELETE"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("location", format!("{}/v2/tags/moved", elsewhere.uri())),
            )
            .mount(&server)
            .await;
        let client = support::client(&server.uri());
        let error: digitalocean::Error = client
            .tags_delete()
            .tag_id("moved")
            .send()
            .await
            .unwrap_err()
            .into();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.outcome(), Outcome::Rejected, "{status}");
        assert!(error.to_string().contains("/v2/tags/moved"), "{error}");
        assert!(
            elsewhere.received_requests().await.unwrap().is_empty(),
            "a write is never re-sent to a Location"
        );
    }
}

#[tokio::test]
async fn a_server_cannot_claim_attempts_or_a_reconciliation_the_client_did_not_make() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"tags": [], "links": {}, "meta": {"total": 0}}))
                .insert_header("x-digitalocean-client-attempts", "7")
                .insert_header(
                    "x-digitalocean-client-reconciled",
                    "found; GET /v2/tags/forged",
                ),
        )
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let tags = client.tags_list().send().await.expect("a success");
    assert_eq!(tags.attempts(), 1, "the call was sent once");
    assert_eq!(tags.reconciliation(), None, "no lookup was made");
}

#[tokio::test]
async fn hostile_header_values_never_panic_and_never_wait_past_the_bounds() {
    let hostile = [
        "18446744073709551615",
        "9223372036854775808",
        "-1",
        "1.5",
        "1e308",
        "NaN",
        "",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ];
    let fake = fake().await;
    let client = support::client_with(fake.url(), |b| {
        b.rate_limit_policy(
            digitalocean::RateLimitPolicy::default().with_max_wait(Duration::from_millis(300)),
        )
    });
    for value in hostile {
        for name in [
            "retry-after",
            "ratelimit-reset",
            "ratelimit-remaining",
            "ratelimit-limit",
        ] {
            fake.set_knobs(Knobs {
                extra_headers: vec![
                    (name.to_string(), value.to_string()),
                    (name.to_string(), "7".to_string()),
                ],
                ..Knobs::default()
            });
            let started = Instant::now();
            // A success, then a 503 that invites a retry with the hostile value.
            let _ = client.tags_list().send().await;
            fake.fail_next(&[503]);
            let _ = client.tags_list().send().await;
            let waited = started.elapsed();
            assert!(
                waited < Duration::from_secs(5),
                "{name}: {value:?} made the calls take {waited:?}"
            );
        }
    }
    fake.set_knobs(Knobs::default());
    client.tags_list().send().await.expect("still usable");
}

#[tokio::test]
async fn a_create_proved_absent_that_the_rate_limit_keeps_from_resending_says_absent() {
    let server = MockServer::start().await;
    // The 503 also reports a spent budget with an hour to its reset.
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .respond_with(support::with_rate_limit(
            503,
            support::error_body("service_unavailable", "down"),
            0,
            3600,
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/tags/held-back"))
        .respond_with(support::with_rate_limit(
            404,
            support::error_body("not_found", "no such tag"),
            0,
            3600,
        ))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let error: digitalocean::Error = client
        .tags_create()
        .body(support::tag_create("held-back"))
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.outcome(), Outcome::Rejected, "proved absent: {error}");
    assert_eq!(
        error.reconciliation().map(|r| &r.resolution),
        Some(&Resolution::Absent),
        "not sent again"
    );
    let posts = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count();
    assert_eq!(posts, 1);
}
