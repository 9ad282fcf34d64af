//! The quickstart's tour runs against the fake without a token (the same code as
//! `cargo run --example quickstart`, included here so that `cargo test` runs it).

#[path = "../examples/quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

#[tokio::test]
async fn the_quickstart_tour_runs_against_the_fake() {
    let fake = digitalocean_fake::FakeServer::builder()
        .droplets(40)
        .volumes(5)
        .start()
        .await
        .unwrap();
    let client = digitalocean::Client::builder()
        .token("dop_v1_quickstart")
        .base_url(fake.url())
        .build()
        .unwrap();
    quickstart::tour(&client, digitalocean_fake::SECOND_PROJECT_ID)
        .await
        .expect("every step of the tour succeeds");
    // The tour cleaned up after itself: only the seeded world is left.
    let tags = client.tags_list().send().await.unwrap();
    assert!(
        tags.tags
            .iter()
            .flatten()
            .all(|t| t.name.as_deref() != Some("quickstart-web"))
    );
    let volumes = client.volumes_list().send().await.unwrap();
    assert_eq!(volumes.meta.total, 5);
}
