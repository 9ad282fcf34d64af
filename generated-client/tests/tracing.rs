//! Tracing: one span per request with the operation, method, path, status, request id,
//! attempts and elapsed time; an event per retry and per reconciliation; never the token. Alone in its test binary:
//! tracing caches per call site whether anyone listens, and a test without a subscriber
//! running first on another thread would disable the span for this one.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use digitalocean::RetryPolicy;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn traces_name_the_request_and_never_contain_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("x-request-id", "trace-req-1")
                .set_body_json(support::error_body("service_unavailable", "down")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "trace-req-2")
                .set_body_json(serde_json::json!({"tags": [], "meta": {"total": 0}})),
        )
        .mount(&server)
        .await;
    let client = support::client_with(&server.uri(), |b| {
        b.retry_policy(
            RetryPolicy::default().with_initial_backoff(std::time::Duration::from_millis(5)),
        )
    });
    client.tags_list().send().await.unwrap();

    // A create whose answer is a proxy's 503: the reconciliation is traced.
    Mock::given(method("POST"))
        .and(path("/v2/tags"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>503</html>"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/tags/traced"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"tag": {"name": "traced"}})),
        )
        .mount(&server)
        .await;
    let body: digitalocean::types::TagCreate =
        serde_json::from_value(serde_json::json!({"name": "traced"})).unwrap();
    client.tags_create().body(body).send().await.unwrap();

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(output.contains("digitalocean.request"), "{output}");
    assert!(
        output.contains("operation=\"tags_list\"") || output.contains("operation=tags_list"),
        "{output}"
    );
    assert!(output.contains("retrying DigitalOcean request"), "{output}");
    assert!(output.contains("reason=HTTP 503"), "{output}");
    assert!(output.contains("status=200"), "{output}");
    assert!(
        output.contains("request_id=\"trace-req-2\"") || output.contains("request_id=trace-req-2"),
        "{output}"
    );
    assert!(output.contains("attempt=2"), "{output}");
    assert!(
        output.contains("reconciled a create whose outcome was unknown"),
        "{output}"
    );
    assert!(output.contains("lookup=GET /v2/tags/traced"), "{output}");
    assert!(output.contains("resolution=Found"), "{output}");
    assert!(
        !output.contains(support::TOKEN),
        "the token leaked into traces: {output}"
    );
    assert!(
        !output.contains("Bearer"),
        "an authorization header leaked into traces: {output}"
    );
}
