//! The wait helper polls the destroy-with-associated-resources status until it completes
//! or reports failures, and gives up after its timeout.

mod support;

use std::time::Duration;

use digitalocean::{ErrorKind, WaitOptions};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const STATUS: &str = "/v2/droplets/187000742/destroy_with_associated_resources/status";

fn in_progress() -> serde_json::Value {
    json!({"droplet": {"id": "187000742", "name": "web"}, "failures": 0, "resources": {}})
}

fn options() -> WaitOptions {
    WaitOptions {
        interval: Duration::from_millis(20),
        timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn polls_until_completed_at_is_set() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(STATUS))
        .respond_with(ResponseTemplate::new(200).set_body_json(in_progress()))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    let mut done = in_progress();
    done["completed_at"] = json!("2020-04-01T18:11:49Z");
    Mock::given(method("GET"))
        .and(path(STATUS))
        .respond_with(ResponseTemplate::new(200).set_body_json(done))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let status = client
        .wait_for_destroy_with_associated_resources(187000742, options())
        .await
        .unwrap();
    assert!(status.completed_at.is_some());
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn returns_the_status_as_soon_as_failures_are_reported() {
    let server = MockServer::start().await;
    let mut failed = in_progress();
    failed["failures"] = json!(1);
    failed["resources"] =
        json!({"volumes": [{"id": "v1", "name": "data", "error_message": "volume is attached"}]});
    Mock::given(method("GET"))
        .and(path(STATUS))
        .respond_with(ResponseTemplate::new(200).set_body_json(failed))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let status = client
        .wait_for_destroy_with_associated_resources(187000742, options())
        .await
        .unwrap();
    assert_eq!(status.failures, Some(1));
    assert!(status.completed_at.is_none());
    assert_eq!(
        status.resources.unwrap().volumes.unwrap()[0]
            .error_message
            .as_deref(),
        Some("volume is attached")
    );
}

#[tokio::test]
async fn gives_up_after_the_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(STATUS))
        .respond_with(ResponseTemplate::new(200).set_body_json(in_progress()))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let options = WaitOptions {
        interval: Duration::from_millis(50),
        timeout: Duration::from_millis(300),
    };
    let error = client
        .wait_for_destroy_with_associated_resources(187000742, options)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.to_string().contains("187000742"), "{error}");
}

#[tokio::test]
async fn an_api_error_while_waiting_is_returned() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(STATUS))
        .respond_with(
            ResponseTemplate::new(404)
                .set_body_json(support::error_body("not_found", "no such request")),
        )
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let error = client
        .wait_for_destroy_with_associated_resources(187000742, options())
        .await
        .unwrap_err();
    assert!(error.is_not_found());
}
