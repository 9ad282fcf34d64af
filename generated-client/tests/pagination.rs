//! Streams over paginated lists: every item once and in order, filters kept on every page,
//! pages fetched concurrently once the total is known, and `next` links to other hosts
//! never followed.

mod support;

use std::num::{NonZeroU64, NonZeroUsize};
use std::time::Duration;

use digitalocean::{PageOptions, Paginate};
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn options(per_page: u64, concurrency: usize) -> PageOptions {
    PageOptions {
        per_page: NonZeroU64::new(per_page).unwrap(),
        concurrency: NonZeroUsize::new(concurrency).unwrap(),
    }
}

/// Mounts pages of `per_page` Droplets with ids 1..=total; page `slow` answers after a delay.
async fn droplet_pages(
    server: &MockServer,
    total: u64,
    per_page: u64,
    slow: Option<(u64, Duration)>,
) {
    let pages = total.div_ceil(per_page);
    for page in 1..=pages {
        let first = (page - 1) * per_page + 1;
        let last = (page * per_page).min(total);
        let next = (page < pages).then(|| {
            format!(
                "{}/v2/droplets?page={}&per_page={per_page}",
                server.uri(),
                page + 1
            )
        });
        let mut response = ResponseTemplate::new(200).set_body_json(support::droplet_page(
            first..=last,
            total,
            next.as_deref(),
        ));
        if let Some((slow_page, delay)) = slow
            && slow_page == page
        {
            response = response.set_delay(delay);
        }
        Mock::given(method("GET"))
            .and(path("/v2/droplets"))
            .and(query_param("page", page.to_string()))
            .and(query_param("per_page", per_page.to_string()))
            .respond_with(response)
            .mount(server)
            .await;
    }
}

use support::droplet_ids as ids;

#[tokio::test]
async fn three_pages_give_exactly_total_items_in_order() {
    let server = MockServer::start().await;
    droplet_pages(&server, 5, 2, None).await;
    let client = support::client(&server.uri());
    let all = ids(client.droplets_list().stream_with(options(2, 1))).await;
    assert_eq!(all, [1, 2, 3, 4, 5]);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn concurrent_prefetch_gives_the_same_items_in_the_same_order() {
    let server = MockServer::start().await;
    // Page 2 is slow: pages 3 and 4 complete before it and must still come after it.
    droplet_pages(&server, 9, 2, Some((2, Duration::from_millis(300)))).await;
    let client = support::client(&server.uri());
    let sequential = ids(client.droplets_list().stream_with(options(2, 1))).await;
    let concurrent = ids(client.droplets_list().stream_with(options(2, 4))).await;
    assert_eq!(sequential, (1..=9).collect::<Vec<_>>());
    assert_eq!(concurrent, sequential);
}

#[tokio::test]
async fn prefetch_overlaps_pages_and_stays_within_its_bound() {
    // 25 listed Droplets, 5 per page: the first page alone, then pages 2..=5 at once. The
    // fake's latency keeps each request in flight long enough to be seen concurrently.
    for (concurrency, expected) in [(1, 1), (3, 3), (4, 4)] {
        let fake = digitalocean_fake::FakeServer::builder()
            .droplets(30)
            .latency(Duration::from_millis(50))
            .start()
            .await
            .unwrap();
        let client = support::client(fake.url());
        let all = ids(client.droplets_list().stream_with(options(5, concurrency))).await;
        assert_eq!(all.len(), 25);
        assert_eq!(
            fake.max_concurrent_requests(),
            expected,
            "concurrency {concurrency}"
        );
    }
}

/// The most requests the fake had in flight while `stream()` listed 25 Droplets (5 per
/// page, up to 4 pages in flight) against a fake with this hourly budget.
async fn adaptive_peak(per_hour: u64) -> u64 {
    // 30 seeded, 25 listed (GPU Droplets are listed apart): page 1, then pages 2..=5.
    let fake = digitalocean_fake::FakeServer::builder()
        .droplets(30)
        .latency(Duration::from_millis(50))
        .rate_limit(per_hour, per_hour)
        .start()
        .await
        .unwrap();
    let client = support::client_with(fake.url(), |b| b.per_page(5).max_pages_in_flight(4));
    let all = ids(client.droplets_list().stream()).await;
    let peak = fake.max_concurrent_requests();
    let one_at_a_time = ids(client.droplets_list().stream_with(options(5, 1))).await;
    assert_eq!(all.len(), 25);
    assert_eq!(all, one_at_a_time, "every Droplet once, in order");
    peak
}

#[tokio::test]
async fn stream_keeps_the_most_pages_in_flight_while_the_budget_is_plentiful() {
    assert_eq!(adaptive_peak(5000).await, 4);
}

#[tokio::test]
async fn stream_keeps_fewer_pages_in_flight_as_the_budget_drains() {
    // After the first page 250 + 32 requests remain: 32 of headroom before pacing starts at
    // 250, four pages' worth at 8 each. Requests go out one at a time, each reading the
    // budget again: the second sees 31 left (three pages), so the window never reaches
    // the four it would hold with a plentiful budget.
    assert_eq!(adaptive_peak(250 + 32 + 1).await, 3);
}

#[tokio::test]
async fn stream_with_keeps_its_fixed_window_whatever_the_budget() {
    let fake = digitalocean_fake::FakeServer::builder()
        .droplets(30)
        .latency(Duration::from_millis(50))
        .rate_limit(267, 267)
        .start()
        .await
        .unwrap();
    let client = support::client(fake.url());
    let all = ids(client.droplets_list().stream_with(options(5, 4))).await;
    assert_eq!(all.len(), 25);
    assert_eq!(fake.max_concurrent_requests(), 4);
}

#[tokio::test]
async fn a_next_link_to_another_host_is_not_followed() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(support::droplet_page(99..=99, 1, None)),
        )
        .mount(&elsewhere)
        .await;
    let foreign_next = format!("{}/v2/droplets?page=2&per_page=2", elsewhere.uri());
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(support::droplet_page(
                1..=2,
                3,
                Some(&foreign_next),
            )),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(support::droplet_page(3..=3, 3, None)),
        )
        .mount(&server)
        .await;

    let client = support::client(&server.uri());
    let all = ids(client.droplets_list().stream_with(options(2, 2))).await;
    assert_eq!(all, [1, 2, 3], "page 2 came from the configured server");
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "the other host received a request"
    );
}

#[tokio::test]
async fn filters_are_kept_on_every_page() {
    let server = MockServer::start().await;
    for page in 1..=3u64 {
        Mock::given(method("GET"))
            .and(path("/v2/droplets"))
            .and(query_param("page", page.to_string()))
            .and(query_param("tag_name", "env:prod"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(support::droplet_page(
                    page..=page,
                    3,
                    (page < 3).then_some("more"),
                )),
            )
            .mount(&server)
            .await;
    }
    let client = support::client(&server.uri());
    let all = ids(client
        .droplets_list()
        .tag_name("env:prod")
        .stream_with(options(1, 2)))
    .await;
    assert_eq!(all, [1, 2, 3]);
    for request in server.received_requests().await.unwrap() {
        let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
        assert!(
            pairs.contains(&("tag_name".into(), "env:prod".into())),
            "{pairs:?}"
        );
    }
}

#[tokio::test]
async fn the_client_default_page_size_is_200() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/tags"))
        .and(query_param("per_page", "200"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"tags": [{"name": "a"}, {"name": "b"}], "meta": {"total": 2}}),
            ),
        )
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let names: Vec<_> = client
        .tags_list()
        .stream()
        .map_ok(|t| t.name.unwrap_or_default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names, ["a", "b"]);
}

#[tokio::test]
async fn short_pages_are_continued_by_number_until_the_total_is_seen() {
    // The total (5) planned pages 1..=3 of 2 items, but the server returns one item per page
    // and keeps announcing a next page: the walk goes on page by page until 5 items.
    let server = MockServer::start().await;
    for page in 1..=5u64 {
        Mock::given(method("GET"))
            .and(path("/v2/droplets"))
            .and(query_param("page", page.to_string()))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(support::droplet_page(
                    page..=page,
                    5,
                    (page < 5).then_some("more"),
                )),
            )
            .mount(&server)
            .await;
    }
    let client = support::client(&server.uri());
    let all = ids(client.droplets_list().stream_with(options(2, 2))).await;
    assert_eq!(all, [1, 2, 3, 4, 5]);
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}

#[tokio::test]
async fn the_walk_stops_when_a_page_announces_no_next_page() {
    // The total says 6, but page 2 has no next link (the collection shrank): stop there.
    let server = MockServer::start().await;
    droplet_pages(&server, 6, 2, None).await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(support::droplet_page(3..=4, 6, None)),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let all = ids(client.droplets_list().stream_with(options(2, 1))).await;
    assert_eq!(all, [1, 2, 3, 4]);
}

#[tokio::test]
async fn an_error_on_a_later_page_ends_the_stream_with_that_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(support::droplet_page(1..=1, 2, Some("more"))),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/droplets"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(support::error_body("not_found", "gone")),
        )
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let items: Vec<_> = client
        .droplets_list()
        .stream_with(options(1, 2))
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    assert!(items[1].as_ref().unwrap_err().is_not_found());
}

#[tokio::test]
async fn backup_policies_keyed_by_droplet_id_stream_in_key_order() {
    let server = MockServer::start().await;
    let policy = |id: u64| json!({"droplet_id": id, "backup_enabled": false});
    Mock::given(method("GET"))
        .and(path("/v2/droplets/backups/policies"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "policies": {"30": policy(30), "10": policy(10), "20": policy(20)},
            "links": {},
            "meta": {"total": 3}
        })))
        .mount(&server)
        .await;
    let client = support::client(&server.uri());
    let ids: Vec<u64> = client
        .droplets_list_backup_policies()
        .stream()
        .map_ok(|p| p.droplet_id.map(|id| id.get()).unwrap_or(0))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids, [10, 20, 30]);
}
