//! Retries in the exec hook: transient failures are retried with the documented limits, a
//! POST is never sent twice unless it provably never reached the server or the caller
//! opted in, and the server's `retry-after` is honoured.

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use digitalocean::{ErrorKind, ResponseExt, RetryPolicy, types};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn empty_tag_list() -> serde_json::Value {
    json!({"tags": [], "links": {}, "meta": {"total": 0}})
}

fn tag_create_body() -> types::TagCreate {
    types::TagCreate::builder()
        .name("awesome")
        .try_into()
        .expect("a valid tag")
}

fn created_tag() -> serde_json::Value {
    json!({"tag": {"name": "awesome", "resources": {"count": 0}}})
}

#[tokio::test]
async fn retries_503_then_succeeds_with_2_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_json(support::error_body("service_unavailable", "try again")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty_tag_list()))
        .mount(&server)
        .await;

    let client = support::client(&server.uri());
    let response = client.tags_list().send().await.expect("the retry succeeds");
    assert_eq!(response.attempts(), 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(support::error_body(
                    "too_many_requests",
                    "API rate limit exceeded.",
                )),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(ResponseTemplate::new(200).set_body_json(empty_tag_list()))
        .mount(&server)
        .await;

    let client = support::client(&server.uri());
    let started = Instant::now();
    let response = client
        .tags_list()
        .send()
        .await
        .expect("succeeds after waiting");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(1),
        "retried after {waited:?}, before retry-after"
    );
    assert!(waited < Duration::from_secs(5), "took {waited:?}");
    assert_eq!(response.attempts(), 2);
}

#[tokio::test]
async fn a_500_on_post_without_reconciliation_is_not_retried_and_says_it_may_have_been_applied() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(support::error_body(
                "server_error",
                "Unexpected server-side error",
            )),
        )
        .mount(&server)
        .await;

    let client = support::client(&server.uri()).with_reconcile_creates(false);
    let error: digitalocean::Error = client
        .tags_create()
        .body(tag_create_body())
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.outcome(), digitalocean::Outcome::Unknown);
    assert!(error.reconciliation().is_none());
    assert!(
        error
            .to_string()
            .contains("the request was sent; DigitalOcean may have applied it"),
        "{error}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_429_on_post_is_not_retried_by_default() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(429)
                .set_body_json(support::error_body("too_many_requests", "slow down")),
        )
        .mount(&server)
        .await;

    let client = support::client(&server.uri());
    let error: digitalocean::Error = client
        .tags_create()
        .body(tag_create_body())
        .send()
        .await
        .unwrap_err()
        .into();
    assert!(error.is_rate_limited());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_caller_can_opt_in_to_retrying_a_post() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(500).set_body_json(support::error_body("server_error", "oops")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .respond_with(ResponseTemplate::new(201).set_body_json(created_tag()))
        .mount(&server)
        .await;

    let client = support::client(&server.uri());
    let retrying =
        client.with_retry_policy(client.retry_policy().clone().retry_posts_after_send(true));
    let response = retrying
        .tags_create()
        .body(tag_create_body())
        .send()
        .await
        .expect("retried");
    assert_eq!(response.attempts(), 2);
    // The original handle keeps its policy.
    assert!(!client.retry_policy().retries_posts_after_send());
}

#[tokio::test]
async fn a_post_whose_connection_was_refused_is_retried() {
    // A port that refuses connections until a server starts on it, 300 ms later.
    let reserved = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = reserved.local_addr().unwrap();
    drop(reserved);
    let late_server = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listener = TcpListener::bind(address).expect("the port is still free");
        let server = MockServer::builder().listener(listener).start().await;
        Mock::given(method("POST"))
            .and(path("/v2/tags"))
            .respond_with(ResponseTemplate::new(201).set_body_json(created_tag()))
            .mount(&server)
            .await;
        server
    });

    let client = support::client_with(&format!("http://{address}"), |b| {
        b.retry_policy(
            RetryPolicy::default()
                .with_max_attempts(20)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_millis(100)),
        )
    });
    let response = client
        .tags_create()
        .body(tag_create_body())
        .send()
        .await
        .expect("retried until the server was up");
    assert!(response.attempts() >= 2, "{} attempts", response.attempts());
    let server = late_server.await.unwrap();
    // The refused attempts never reached a server: exactly one POST was received.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn with_retries_off_there_is_one_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_json(support::error_body("service_unavailable", "down")),
        )
        .mount(&server)
        .await;

    let client = support::client_with(&server.uri(), |b| b.retry_policy(RetryPolicy::disabled()));
    let error: digitalocean::Error = client.tags_list().send().await.unwrap_err().into();
    assert_eq!(error.attempts(), 1);
    assert!(error.is_retryable(), "a 503 is worth retrying later");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_get_gives_up_after_the_maximum_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(502).set_body_json(support::error_body("bad_gateway", "no")),
        )
        .mount(&server)
        .await;

    let client = support::client_with(&server.uri(), |b| {
        b.retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(10)),
        )
    });
    let error: digitalocean::Error = client.tags_list().send().await.unwrap_err().into();
    assert_eq!(error.attempts(), 3);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_refused_connection_reports_the_attempts() {
    let reserved = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = reserved.local_addr().unwrap();
    drop(reserved);
    let client = support::client_with(&format!("http://{address}"), |b| {
        b.retry_policy(
            RetryPolicy::default()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5)),
        )
    });
    let error: digitalocean::Error = client.tags_list().send().await.unwrap_err().into();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert_eq!(error.attempts(), 3);
    assert!(error.is_retryable());
    let text = error.to_string();
    assert!(text.contains("3 attempts"), "{text}");
    assert!(
        !text.contains("#attempts"),
        "the internal marker leaked: {text}"
    );
}

#[tokio::test]
async fn a_client_error_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets/7"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(support::error_body("not_found", "gone")),
        )
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let error: digitalocean::Error = client
        .droplets_get()
        .droplet_id(7u64)
        .send()
        .await
        .unwrap_err()
        .into();
    assert!(error.is_not_found());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_time_budget_stops_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("retry-after", "30")
                .set_body_json(support::error_body("service_unavailable", "down")),
        )
        .mount(&server)
        .await;
    let client = support::client_with(&server.uri(), |b| {
        b.retry_policy(RetryPolicy::default().with_max_elapsed(Duration::from_secs(2)))
    });
    let started = Instant::now();
    let error: digitalocean::Error = client.tags_list().send().await.unwrap_err().into();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "waited for a retry-after beyond the budget"
    );
    assert_eq!(error.attempts(), 1);
}

#[tokio::test]
async fn an_exchange_observer_sees_every_attempt_raw_and_never_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>busy</html>"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .respond_with(ResponseTemplate::new(201).set_body_json(created_tag()))
        .mount(&server)
        .await;
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let log = seen.clone();
    let client = digitalocean::Client::builder()
        .token("dop_v1_secret_observed")
        .base_url(server.uri())
        // A 503 answered in HTML did not apply the create: the client may send it again.
        .retry_policy(
            RetryPolicy::default()
                .retry_posts_after_send(true)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .reconcile_creates(false)
        .observe_exchanges(move |exchange| {
            let response = exchange
                .response
                .as_ref()
                .expect("every attempt was answered");
            log.lock().unwrap().push(format!(
                "{} {} {} attempt {} -> {} {} | body {} | headers {:?}",
                exchange.operation_id,
                exchange.method,
                exchange.url.path(),
                exchange.attempt,
                response.status.as_u16(),
                String::from_utf8_lossy(response.body),
                String::from_utf8_lossy(exchange.request_body.unwrap_or_default()),
                exchange.request_headers,
            ));
        })
        .build()
        .unwrap();
    client
        .tags_create()
        .body(tag_create_body())
        .send()
        .await
        .unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert!(seen[0].starts_with("tags_create POST /v2/tags attempt 1 -> 503 <html>busy</html> | body {\"name\":\"awesome\"}"), "{}", seen[0]);
    assert!(
        seen[1].starts_with("tags_create POST /v2/tags attempt 2 -> 201 {\"tag\""),
        "{}",
        seen[1]
    );
    assert!(
        seen.iter()
            .all(|line| !line.contains("secret") && !line.to_lowercase().contains("authorization")),
        "{seen:#?}"
    );
}

/// A server that sends a complete head promising `content-length: 1000`, then a few bytes
/// of body, then nothing, holding every connection open; it counts the connections.
async fn server_whose_body_stalls() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if support::read_request_head(&mut socket).await.is_none() {
                    return;
                }
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            x-request-id: stalled-1\r\ncontent-length: 1000\r\n\r\n{\"tags\": [";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
                drop(socket);
            });
        }
    });
    (format!("http://{address}"), connections)
}

#[tokio::test]
async fn a_body_that_stalls_after_the_head_times_out_within_the_request_timeout() {
    let (url, connections) = server_whose_body_stalls().await;
    let client = support::client_with(&url, |b| {
        b.request_timeout(Duration::from_millis(200)).retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(10))
                .with_max_backoff(Duration::from_millis(10)),
        )
    });
    let started = Instant::now();
    let error: digitalocean::Error = client.tags_list().send().await.unwrap_err().into();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(400),
        "two attempts of 200 ms each, ended after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(2),
        "the stalled body was waited for past the attempt's limit: {elapsed:?}"
    );
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert_eq!(
        error.transport_failure(),
        Some(digitalocean::TransportFailure::Timeout)
    );
    assert_eq!(
        error.status(),
        Some(reqwest::StatusCode::OK),
        "the head had arrived"
    );
    assert_eq!(error.request_id(), Some("stalled-1"));
    assert_eq!(error.attempts(), 2);
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "a connection whose body stalled is not reused"
    );
    let text = error.to_string();
    assert!(text.contains("timed out after 200 ms"), "{text}");
}
