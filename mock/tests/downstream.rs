//! Written the way a user of the `digitalocean` crate would test their own code: the
//! function under test lists the web Droplets; the test mocks `droplets_list` with typed
//! values, so the mock cannot drift from the API the client speaks.

use digitalocean::{Client, Error, types};
use digitalocean_mock::MockServerExt;
use digitalocean_mock::httpmock::MockServer;

/// The user's code: the names of the running Droplets tagged `web`, sorted.
async fn running_web_droplets(client: &Client) -> Result<Vec<String>, Error> {
    let page = client
        .droplets_list()
        .tag_name("web")
        .per_page(200u64)
        .send()
        .await?;
    // An empty page may come as `null`: the list is then `None`.
    let mut names: Vec<String> = page
        .droplets
        .iter()
        .flatten()
        .filter(|droplet| droplet.status == types::DropletStatus::Active)
        .map(|droplet| droplet.name.clone())
        .collect();
    names.sort();
    Ok(names)
}

fn droplet(id: u64, name: &str, status: types::DropletStatus) -> types::Droplet {
    // A Droplet as a test would build it: start from a value the API documents.
    let mut value: serde_json::Value = serde_json::from_str(include_str!("droplet.json")).unwrap();
    value["id"] = id.into();
    value["name"] = name.into();
    let mut droplet: types::Droplet = serde_json::from_value(value).unwrap();
    droplet.status = status;
    droplet
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .token("dop_v1_test")
        .base_url(server.base_url())
        .retry_policy(digitalocean::RetryPolicy::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn lists_only_the_running_web_droplets() {
    let server = MockServer::start_async().await;
    let mock = server.droplets_list(|when, then| {
        when.tag_name(&"web".parse::<types::TagName>().unwrap());
        then.ok(&types::DropletList {
            droplets: Some(vec![
                droplet(3, "web-c", types::DropletStatus::Active),
                droplet(1, "web-a", types::DropletStatus::Active),
                droplet(2, "web-b", types::DropletStatus::Off),
                droplet(
                    4,
                    "web-d",
                    types::DropletStatus::Unknown("migrating".into()),
                ),
            ]),
            links: None,
            meta: types::Meta { total: 4 },
        });
    });

    let names = running_web_droplets(&client(&server)).await.unwrap();

    assert_eq!(names, ["web-a", "web-c"]);
    mock.assert_async().await;
}

#[tokio::test]
async fn an_api_error_reaches_the_caller_typed() {
    let server = MockServer::start_async().await;
    server.droplets_list(|when, then| {
        when.tag_name(&"web".parse::<types::TagName>().unwrap());
        then.client_error(
            401,
            &types::Error {
                id: "unauthorized".into(),
                message: "Unable to authenticate you.".into(),
                request_id: Some("req-1".into()),
            },
        );
    });

    let error = running_web_droplets(&client(&server)).await.unwrap_err();

    assert_eq!(error.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(error.id(), Some("unauthorized"));
    assert_eq!(error.request_id(), Some("req-1"));
}
