//! DigitalOcean sends `null` for empty lists in places. An optional list that comes as
//! `null` decodes as absent (`None`) instead of failing the whole response (the codegen pass
//! `accept_null_for_optional_arrays`); a list the document requires still must be a list.

mod support;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server whose Droplet list answers `"droplets": null`.
async fn a_null_droplet_page() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"droplets": null, "links": {"pages": {}}, "meta": {"total": 0}}),
            ),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_null_optional_list_decodes_as_absent() {
    let server = a_null_droplet_page().await;
    let client = support::client(&server.uri());
    let page = client.droplets_list().send().await.expect("null decodes");
    assert_eq!(page.droplets, None);
}

#[tokio::test]
async fn a_null_optional_list_inside_an_item_decodes_as_absent() {
    let mut droplet = support::droplet(7);
    droplet["disk_info"] = serde_json::Value::Null;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "droplet": droplet })))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let response = client
        .droplets_get()
        .droplet_id(7u64)
        .send()
        .await
        .expect("null decodes");
    assert_eq!(
        response.droplet.as_ref().map(|d| d.disk_info.clone()),
        Some(None)
    );
}

#[tokio::test]
async fn a_stream_over_a_null_page_is_empty() {
    use digitalocean::Paginate;
    use futures::TryStreamExt;
    let server = a_null_droplet_page().await;
    let client = support::client(&server.uri());
    let all: Vec<_> = client.droplets_list().stream().try_collect().await.unwrap();
    assert!(all.is_empty());
}

#[tokio::test]
async fn a_null_required_list_is_still_a_decode_error() {
    let mut droplet = support::droplet(8);
    droplet["tags"] = serde_json::Value::Null;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets/8"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "droplet": droplet })))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let error: digitalocean::Error = client
        .droplets_get()
        .droplet_id(8u64)
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.kind(), digitalocean::ErrorKind::Decode);
    assert!(error.to_string().contains("invalid type: null"), "{error}");
}
