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

/// A fake whose Droplet reads answer `new` for the first `booting` reads (then whatever
/// the fake says, `active`), with the id of one of its Droplets.
async fn booting_fake(booting: usize) -> (digitalocean_fake::FakeServer, u64) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let reads = AtomicUsize::new(0);
    let fake = digitalocean_fake::FakeServer::builder()
        .droplets(1)
        .drift(move |answer| {
            if answer.method == "GET"
                && answer.path.starts_with("/v2/droplets/")
                && reads.fetch_add(1, Ordering::SeqCst) < booting
            {
                answer.body["droplet"]["status"] = json!("new");
            }
        })
        .start()
        .await
        .unwrap();
    let id = fake.inventory().droplets[0].0;
    (fake, id)
}

#[tokio::test]
async fn wait_for_droplet_active_polls_until_the_droplet_is_active() {
    let (fake, id) = booting_fake(2).await;
    let client = support::client(fake.url());
    let droplet = client.wait_for_droplet_active(id, options()).await.unwrap();
    assert_eq!(droplet.status, digitalocean::types::DropletStatus::Active);
    assert_eq!(droplet.id.get(), id);
    assert_eq!(fake.requests(), 3, "two `new` answers, then `active`");
}

#[tokio::test]
async fn wait_for_droplet_active_gives_up_at_its_deadline_naming_the_last_status() {
    let (fake, id) = booting_fake(usize::MAX).await;
    let client = support::client(fake.url());
    let options = WaitOptions {
        interval: Duration::from_millis(80),
        timeout: Duration::from_millis(300),
    };
    let started = std::time::Instant::now();
    let error = client
        .wait_for_droplet_active(id, options)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert!(error.to_string().contains("still `new`"), "{error}");
    assert!(
        started.elapsed() < Duration::from_millis(300) + Duration::from_millis(200),
        "never sleeps past the deadline: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn wait_for_droplet_active_ends_with_the_404_of_a_droplet_that_is_gone() {
    let fake = digitalocean_fake::FakeServer::builder()
        .start()
        .await
        .unwrap();
    let client = support::client(fake.url());
    let error = client
        .wait_for_droplet_active(99, options())
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error}");
}
