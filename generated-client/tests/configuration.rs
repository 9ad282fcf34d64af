//! Configuration and secrets: `from_env` reads and trims the token and names both variables
//! when it is missing; the base URL must be https unless loopback; the user agent and the
//! bearer header are sent; the token appears in no Debug output or error (traces: tests/tracing.rs).

mod support;

use digitalocean::{ClientBuilder, ClientInfo, ErrorKind};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

#[test]
fn a_missing_token_names_both_variables() {
    let error = ClientBuilder::from_env_vars(vars(&[])).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Configuration);
    let text = error.to_string();
    assert!(text.contains("DIGITALOCEAN_TOKEN"), "{text}");
    assert!(text.contains("DIGITALOCEAN_ACCESS_TOKEN"), "{text}");
}

#[test]
fn an_empty_or_blank_token_counts_as_missing() {
    let error = ClientBuilder::from_env_vars(vars(&[
        ("DIGITALOCEAN_TOKEN", "  \"\" "),
        ("DIGITALOCEAN_ACCESS_TOKEN", ""),
    ]))
    .unwrap_err();
    assert!(
        error.to_string().contains("DIGITALOCEAN_ACCESS_TOKEN"),
        "{error}"
    );
}

#[tokio::test]
async fn the_token_is_trimmed_and_sent_as_a_bearer_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .and(header("authorization", "Bearer dop_v1_trimmed"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"tags": [], "meta": {"total": 0}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = ClientBuilder::from_env_vars(vars(&[
        ("DIGITALOCEAN_TOKEN", " \"dop_v1_trimmed\"\n"),
        ("DIGITALOCEAN_API_URL", &server.uri()),
    ]))
    .unwrap()
    .build()
    .unwrap();
    client
        .tags_list()
        .send()
        .await
        .expect("authorized with the trimmed token");
}

#[test]
fn the_access_token_variable_is_the_fallback() {
    let builder =
        ClientBuilder::from_env_vars(vars(&[("DIGITALOCEAN_ACCESS_TOKEN", "dop_v1_second")]))
            .unwrap();
    assert!(format!("{builder:?}").contains("dop_v1_<redacted>"));
}

#[test]
fn a_plain_http_base_url_is_refused_unless_loopback() {
    let refused = digitalocean::Client::builder()
        .token("t")
        .base_url("http://api.example.com")
        .build()
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Configuration);
    assert!(refused.to_string().contains("plain http"), "{refused}");
    assert!(
        digitalocean::Client::builder()
            .token("t")
            .base_url("http://127.0.0.1:9")
            .build()
            .is_ok()
    );
    assert!(
        digitalocean::Client::builder()
            .token("t")
            .base_url("http://localhost:9")
            .build()
            .is_ok()
    );
    assert!(
        digitalocean::Client::builder().token("t").build().is_ok(),
        "https by default"
    );
}

#[tokio::test]
async fn the_user_agent_is_the_callers_then_ours_and_api_version_is_not_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"tags": [], "meta": {"total": 0}})),
        )
        .mount(&server)
        .await;
    let client = support::client_with(&server.uri(), |b| b.user_agent("deployer/1.2"));
    client.tags_list().send().await.unwrap();
    let request = &server.received_requests().await.unwrap()[0];
    let agent = request.headers.get("user-agent").unwrap().to_str().unwrap();
    assert_eq!(
        agent,
        format!(
            "deployer/1.2 digitalocean-rust/{}",
            env!("CARGO_PKG_VERSION")
        )
    );
    assert!(
        request.headers.get("api-version").is_none(),
        "an undocumented header was sent"
    );
}

#[tokio::test]
async fn debug_output_and_errors_never_contain_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(support::error_body(
                "unauthorized",
                "Unable to authenticate you.",
            )),
        )
        .mount(&server)
        .await;
    let builder = digitalocean::Client::builder()
        .token(support::TOKEN)
        .base_url(server.uri());
    let client = builder.clone().build().unwrap();
    let error: digitalocean::Error = client.tags_list().send().await.unwrap_err().into();
    for text in [
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{client:#?}"),
        format!("{:?}", client.inner()),
        format!("{error}"),
        format!("{error:?}"),
    ] {
        assert!(!text.contains(support::TOKEN), "the token leaked: {text}");
        assert!(
            !text.contains("4c0ffee5ecret"),
            "part of the token leaked: {text}"
        );
    }
}

#[tokio::test]
async fn a_redirect_to_another_host_does_not_carry_the_token() {
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"tags": [], "meta": {"total": 0}})),
        )
        .mount(&elsewhere)
        .await;
    let server = MockServer::start().await;
    // `localhost` and `127.0.0.1` are different hosts to the HTTP client.
    let target = elsewhere.uri().replace("127.0.0.1", "localhost");
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{target}/v2/tags").as_str()),
        )
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    client
        .tags_list()
        .send()
        .await
        .expect("the redirect is followed");
    let received = elsewhere.received_requests().await.unwrap();
    assert_eq!(received.len(), 1, "the redirect was followed");
    assert!(
        received[0].headers.get("authorization").is_none(),
        "the token followed a redirect to another host"
    );
}
