//! Every failure becomes one typed error with the status, DigitalOcean's id, message and
//! request id, whatever the server sent: both documented error bodies, an HTML 502 page, an
//! empty 500, truncated JSON. Invalid arguments fail before anything is sent.

mod support;

use digitalocean::{ErrorKind, RetryPolicy, types};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn server_answering(
    method_name: &str,
    route: &str,
    response: ResponseTemplate,
) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(method_name))
        .and(path(route))
        .respond_with(response)
        .mount(&server)
        .await;
    server
}

fn no_retries(server: &MockServer) -> digitalocean::Client {
    support::client_with(&server.uri(), |b| b.retry_policy(RetryPolicy::disabled()))
}

async fn get_droplet_error(response: ResponseTemplate) -> digitalocean::Error {
    let server = server_answering("GET", "/v2/droplets/42", response).await;
    no_retries(&server)
        .droplets_get()
        .droplet_id(42u64)
        .send()
        .await
        .unwrap_err()
        .into()
}

#[tokio::test]
async fn the_standard_error_body_is_typed() {
    let error = get_droplet_error(ResponseTemplate::new(404).set_body_json(json!({
        "id": "not_found",
        "message": "The resource you requested could not be found.",
        "request_id": "4d9d8375-3c56-4925-a3e7-eb137fed17e9"
    })))
    .await;
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(error.id(), Some("not_found"));
    assert_eq!(
        error.message(),
        "The resource you requested could not be found."
    );
    assert_eq!(
        error.request_id(),
        Some("4d9d8375-3c56-4925-a3e7-eb137fed17e9")
    );
    assert!(error.is_not_found());
    assert!(!error.is_retryable());
    assert_eq!(
        error.to_string(),
        "HTTP 404 not_found: The resource you requested could not be found. [request id 4d9d8375-3c56-4925-a3e7-eb137fed17e9]"
    );
}

#[tokio::test]
async fn the_tag_creation_400_keeps_its_root_causes_and_the_header_request_id() {
    let server = server_answering(
        "POST",
        "/v2/tags",
        ResponseTemplate::new(400)
            .insert_header("x-request-id", "515d8ac0-3a0f-4b1a-8b3e-7c2a0f1e5a2b")
            .set_body_json(json!({
                "error": "Error validating resource tag: tag-name contains invalid characters",
                "messages": null,
                "root_causes": ["rpc error: code = InvalidArgument desc = tag-name contains invalid characters"]
            })),
    )
    .await;
    let body: types::TagCreate = types::TagCreate::builder()
        .name("valid-here")
        .try_into()
        .unwrap();
    let error: digitalocean::Error = no_retries(&server)
        .tags_create()
        .body(body)
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    assert_eq!(
        error.request_id(),
        Some("515d8ac0-3a0f-4b1a-8b3e-7c2a0f1e5a2b")
    );
    assert_eq!(error.root_causes().len(), 1);
    assert!(error.message().contains("invalid characters"));
    assert!(
        error.to_string().contains("root causes: rpc error"),
        "{error}"
    );
}

#[tokio::test]
async fn an_html_502_page_keeps_the_status_and_an_excerpt() {
    let error = get_droplet_error(
        ResponseTemplate::new(502)
            .insert_header("x-request-id", "edge-7")
            .insert_header("content-type", "text/html")
            .set_body_string("<html>\n<head><title>502 Bad Gateway</title></head>\n<body>cloudflare</body></html>"),
    )
    .await;
    assert_eq!(error.kind(), ErrorKind::UnexpectedBody);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(error.request_id(), Some("edge-7"));
    assert!(
        error
            .body_excerpt()
            .unwrap()
            .starts_with("<html> <head><title>502 Bad Gateway")
    );
    assert!(error.is_retryable());
    let text = error.to_string();
    assert!(
        text.starts_with("HTTP 502: the body is not DigitalOcean's JSON"),
        "{text}"
    );
    assert!(!text.contains('\n'), "one line: {text}");
}

#[tokio::test]
async fn an_empty_500_keeps_the_status() {
    let error =
        get_droplet_error(ResponseTemplate::new(500).insert_header("x-request-id", "r-500")).await;
    assert_eq!(error.kind(), ErrorKind::UnexpectedBody);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(error.request_id(), Some("r-500"));
    assert!(error.message().contains("empty body"), "{error}");
}

#[tokio::test]
async fn truncated_json_in_an_error_keeps_the_status_and_an_excerpt() {
    let error = get_droplet_error(
        ResponseTemplate::new(503)
            .insert_header("x-request-id", "r-503")
            .set_body_raw(r#"{"id": "service_unavailable", "mess"#, "application/json"),
    )
    .await;
    assert_eq!(error.kind(), ErrorKind::UnexpectedBody);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(error.request_id(), Some("r-503"));
    assert!(
        error
            .body_excerpt()
            .unwrap()
            .contains("service_unavailable")
    );
}

#[tokio::test]
async fn truncated_json_in_a_success_keeps_the_status() {
    let error = get_droplet_error(
        ResponseTemplate::new(200)
            .insert_header("x-request-id", "r-200")
            .set_body_raw(r#"{"droplet": {"id": 42, "name": "web"#, "application/json"),
    )
    .await;
    assert_eq!(error.kind(), ErrorKind::UnexpectedBody);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(error.request_id(), Some("r-200"));
}

#[tokio::test]
async fn a_success_body_framed_as_json_but_broken_inside_is_a_decode_error_of_an_applied_call() {
    // Starts with `{` and ends with `}`: the hooks take it for JSON without parsing it, so
    // the generated decoding is what finds it broken.
    let error = get_droplet_error(
        ResponseTemplate::new(200)
            .set_body_raw(r#"{"droplet": {"id": 42, "image": {}"#, "application/json"),
    )
    .await;
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert_eq!(error.outcome(), digitalocean::Outcome::Applied);
    assert!(
        error.body_excerpt().is_some_and(|e| e.contains("droplet")),
        "{error}"
    );
}

#[tokio::test]
async fn a_broken_success_body_after_a_retry_comes_with_the_calls_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets/42"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets/42"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "r-200")
                .set_body_raw(r#"{"droplet": {"id": 42, "image": {}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let error: digitalocean::Error = support::client(&server.uri())
        .droplets_get()
        .droplet_id(42u64)
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.attempts(), 2, "{error}");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(error.request_id(), Some("r-200"));
}

#[tokio::test]
async fn a_success_body_of_the_wrong_shape_is_a_decode_error_naming_the_field() {
    let server = server_answering(
        "GET",
        "/v2/droplets/42",
        ResponseTemplate::new(200).set_body_json(json!({"droplet": {"id": "forty-two"}})),
    )
    .await;
    let error: digitalocean::Error = no_retries(&server)
        .droplets_get()
        .droplet_id(42u64)
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(error.to_string().contains("invalid type"), "{error}");
}

#[tokio::test]
async fn an_undocumented_status_with_the_error_body_is_still_typed() {
    let error = get_droplet_error(ResponseTemplate::new(403).set_body_json(
        json!({"id": "forbidden", "message": "You do not have access for the attempted action."}),
    ))
    .await;
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.id(), Some("forbidden"));
}

async fn assert_rejected_before_sending<T, E: Into<digitalocean::Error>>(
    call: impl AsyncFnOnce(&digitalocean::Client) -> Result<T, E>,
    expected: &[&str],
) {
    let server = MockServer::start().await;
    let client = support::client(&server.uri());
    let Err(error) = call(&client).await else {
        panic!("the argument is invalid, yet the call succeeded");
    };
    let error: digitalocean::Error = error.into();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{error}");
    assert_eq!(error.attempts(), 0);
    let text = error.to_string();
    for part in expected {
        assert!(text.contains(part), "{text:?} does not mention {part:?}");
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "something was sent"
    );
}

#[tokio::test]
async fn per_page_above_200_fails_before_sending() {
    assert_rejected_before_sending(
        async |client| client.droplets_list().per_page(500u64).send().await,
        &["per_page", "500", "from 1 to 200", "nothing was sent"],
    )
    .await;
}

#[tokio::test]
async fn a_zero_page_fails_before_sending() {
    assert_rejected_before_sending(
        async |client| client.tags_list().page(0u64).send().await,
        &["`page`"],
    )
    .await;
}

#[tokio::test]
async fn eleven_droplet_names_fail_before_sending() {
    let names: Vec<String> = (1..=11).map(|i| format!("web-{i}")).collect();
    let body = json!({"names": names, "size": "s-1vcpu-1gb", "image": "ubuntu-20-04-x64"});
    let body: types::DropletCreateRequest = serde_json::from_value(body).unwrap();
    assert_rejected_before_sending(
        async move |client| client.droplets_create().body(body).send().await,
        &["body/names", "11 items", "1 to 10 items"],
    )
    .await;
}

#[tokio::test]
async fn a_dangerous_destroy_without_the_acknowledgement_fails_before_sending() {
    assert_rejected_before_sending(
        async |client| {
            client
                .droplets_destroy_with_associated_resources_dangerous()
                .droplet_id(3164444u64)
                .x_dangerous(false)
                .send()
                .await
        },
        &["X-Dangerous", "must be true"],
    )
    .await;
}

#[tokio::test]
async fn a_tag_name_breaking_the_rule_names_the_argument_and_the_rule() {
    assert_rejected_before_sending(
        async |client| client.tags_get().tag_id("здорово").send().await,
        &["`tag_id`", "255 characters", "^[a-zA-Z0-9_:-]+$"],
    )
    .await;
}

#[tokio::test]
async fn a_volume_too_large_fails_before_sending() {
    let body: types::VolumeCreateRequest =
        serde_json::from_value(json!({"size_gigabytes": 20000, "name": "big", "region": "nyc1"}))
            .unwrap();
    assert_rejected_before_sending(
        async move |client| client.volumes_create().body(body).send().await,
        &["size_gigabytes", "20000", "from 1 to 16384"],
    )
    .await;
}

#[tokio::test]
async fn a_missing_required_argument_is_named() {
    assert_rejected_before_sending(
        async |client| client.droplets_get().send().await,
        &["missing argument `droplet_id`"],
    )
    .await;
}
