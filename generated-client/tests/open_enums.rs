//! Enums are open: a value the document does not list decodes into `Unknown`, and unknown
//! object fields are ignored, so a new server value does not break a whole response.

mod support;

use digitalocean::types::{self, DropletStatus};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The List All Droplets example of the spec, with a status the document does not know
/// and fields it does not know at three levels.
fn droplets_from_the_future() -> Value {
    let spec = support::spec();
    let mut body = spec.raw()["paths"]["/v2/droplets"]["get"]["responses"]["200"]["content"]["application/json"]
        ["example"]
        .clone();
    body["droplets"][0]["status"] = json!("migrating");
    body["droplets"][0]["brand_new_field"] = json!({"nested": [1, 2, 3]});
    body["droplets"][0]["region"]["latency_zone"] = json!("nyc-a");
    body["shiny_top_level_key"] = json!(true);
    body
}

#[test]
fn an_unknown_status_and_unknown_fields_decode() {
    let body = droplets_from_the_future();
    let list: types::DropletList = serde_json::from_value(body.clone()).expect("decodes");
    assert_eq!(
        list.droplets.as_ref().unwrap()[0].status,
        DropletStatus::Unknown("migrating".into())
    );
    assert!(list.droplets.as_ref().unwrap()[0].status.is_unknown());
    assert_eq!(
        list.droplets.as_ref().map_or(0, Vec::len),
        body["droplets"].as_array().unwrap().len()
    );
    assert_eq!(Some(list.meta.total), body["meta"]["total"].as_u64());
}

#[test]
fn an_unknown_value_is_encoded_back_unchanged() {
    let list: types::DropletList = serde_json::from_value(droplets_from_the_future()).unwrap();
    let reencoded = serde_json::to_value(&list).unwrap();
    assert_eq!(reencoded["droplets"][0]["status"], "migrating");
}

#[test]
fn documented_values_decode_into_their_variants() {
    assert_eq!(
        serde_json::from_value::<DropletStatus>(json!("active")).unwrap(),
        DropletStatus::Active
    );
    assert_eq!(DropletStatus::from("archive"), DropletStatus::Archive);
    assert_eq!(DropletStatus::Off.to_string(), "off");
    assert_eq!(
        serde_json::to_value(DropletStatus::New).unwrap(),
        json!("new")
    );
    let documented: Vec<String> = serde_json::from_value(
        support::spec().raw()["components"]["schemas"]["DropletStatus"]["enum"].clone(),
    )
    .unwrap();
    assert_eq!(
        DropletStatus::DOCUMENTED,
        documented.as_slice(),
        "the values come from the spec"
    );
    // Parsing never fails: an unknown value is kept.
    let parsed: DropletStatus = "hibernating".parse().unwrap();
    assert_eq!(parsed.as_str(), "hibernating");
}

#[test]
fn a_non_string_status_is_still_an_error_not_a_guess() {
    let mut body = droplets_from_the_future();
    body["droplets"][0]["status"] = json!(42);
    let error = serde_json::from_value::<types::DropletList>(body).unwrap_err();
    assert!(error.to_string().contains("a string"), "{error}");
}

#[tokio::test]
async fn the_client_decodes_a_list_with_unknown_values_from_a_server() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .respond_with(ResponseTemplate::new(200).set_body_json(droplets_from_the_future()))
        .expect(1)
        .mount(&server)
        .await;
    let client = digitalocean::Client::new(&server.uri(), digitalocean::ClientState::default());
    let response = client
        .droplets_list()
        .send()
        .await
        .expect("the response decodes");
    assert_eq!(
        response.droplets.as_ref().unwrap()[0].status,
        DropletStatus::Unknown("migrating".into())
    );
}
