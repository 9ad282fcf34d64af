//! What the fake does beyond single operations: pagination across pages with absolute links
//! to itself, the rate limit with 429 and retry-after, injected 503s and dropped
//! connections, latency, authentication, and the documented rules.

mod support;

use std::num::{NonZeroU64, NonZeroUsize};
use std::time::{Duration, Instant};

use digitalocean::{
    ErrorKind, PageOptions, Paginate, RateLimitPolicy, ResponseExt, RetryPolicy, WhenExhausted,
    types,
};
use digitalocean_fake::{FakeServer, Knobs};
use futures::TryStreamExt;
use serde_json::json;

#[tokio::test]
async fn pagination_walks_every_page_of_seeded_droplets() {
    let fake = FakeServer::builder().droplets(45).start().await.unwrap();
    let client = support::client(fake.url());
    let first = client.droplets_list().send().await.unwrap();
    // Every sixth seeded size is a GPU size; GPU Droplets are listed only with type=gpus.
    let total = first.meta.total;
    assert_eq!(
        first.droplets.as_ref().map_or(0, Vec::len),
        20,
        "default page size is 20"
    );
    let next = first
        .links
        .as_ref()
        .and_then(|l| l.pages.as_ref())
        .and_then(|p| p.next.clone())
        .unwrap();
    assert!(
        next.starts_with(fake.url()),
        "links point at the fake itself: {next}"
    );
    assert!(next.contains("page=2"));

    let options = PageOptions {
        per_page: NonZeroU64::new(20).unwrap(),
        concurrency: NonZeroUsize::new(3).unwrap(),
    };
    let all: Vec<types::Droplet> = client
        .droplets_list()
        .stream_with(options)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len() as u64, total);
    let ids: Vec<u64> = all.iter().map(|d| d.id.get()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "in order, each once");

    let gpus: Vec<types::Droplet> = client
        .droplets_list()
        .type_("gpus")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        gpus.len(),
        7,
        "every sixth of 45 seeded Droplets is a GPU one"
    );
    assert_eq!(gpus.len() as u64 + total, 45);
    assert!(gpus.iter().all(|d| d.size_slug.starts_with("gpu-")));
    assert!(all.iter().all(|d| !d.size_slug.starts_with("gpu-")));
}

#[tokio::test]
async fn a_429_with_retry_after_is_honoured_by_the_client() {
    let fake = FakeServer::start().await.unwrap();
    let client = support::client(fake.url());
    fake.fail_next(&[429]);
    let started = Instant::now();
    let tags = client
        .tags_list()
        .send()
        .await
        .expect("retried after retry-after");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(tags.attempts(), 2);
}

#[tokio::test]
async fn an_injected_503_is_retried() {
    let fake = FakeServer::start().await.unwrap();
    let client = support::client(fake.url());
    fake.fail_next(&[503]);
    let tags = client.tags_list().send().await.expect("retried");
    assert_eq!(tags.attempts(), 2);
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn the_rate_limit_budget_refuses_with_429_and_reports_its_headers() {
    let fake = FakeServer::builder()
        .rate_limit(2, 100)
        .start()
        .await
        .unwrap();
    let client = support::client_with_policies(
        fake.url(),
        RetryPolicy::disabled(),
        RateLimitPolicy::disabled(),
    );
    let first = client.tags_list().send().await.unwrap();
    let limit = first.rate_limit().unwrap();
    assert_eq!((limit.limit, limit.remaining), (100, 99));
    client.tags_list().send().await.unwrap();
    let refused: digitalocean::Error = client.tags_list().send().await.unwrap_err().into();
    assert!(refused.is_rate_limited());
    assert_eq!(refused.rate_limit().map(|l| l.remaining), Some(0));
    // The client remembers the spent budget and, told to fail fast, stops sending.
    let strict = support::client_with_policies(
        fake.url(),
        RetryPolicy::disabled(),
        RateLimitPolicy::default().with_when_exhausted(WhenExhausted::FailFast),
    );
    let _ = strict.tags_list().send().await;
    let before = fake.requests();
    let error: digitalocean::Error = strict.tags_list().send().await.unwrap_err().into();
    assert_eq!(error.kind(), ErrorKind::RateLimitExhausted);
    assert_eq!(fake.requests(), before, "nothing was sent");
}

#[tokio::test]
async fn a_dropped_connection_is_retried_for_a_get_and_a_create_is_sent_again_only_after_a_lookup()
{
    let fake = FakeServer::start().await.unwrap();
    let client = support::client(fake.url());
    fake.drop_next(1);
    let tags = client.tags_list().send().await.expect("retried");
    assert_eq!(tags.attempts(), 2);

    let body: types::TagCreate = types::TagCreate::builder()
        .name("dropped")
        .try_into()
        .unwrap();
    // Without reconciliation the POST is not sent twice, and the error says why.
    fake.drop_next(1);
    let error: digitalocean::Error = client
        .with_reconcile_creates(false)
        .tags_create()
        .body(body.clone())
        .send()
        .await
        .unwrap_err()
        .into();
    assert_eq!(error.kind(), ErrorKind::Transport);
    assert_eq!(
        error.attempts(),
        1,
        "a POST that may have reached the server is not sent twice"
    );
    assert_eq!(error.outcome(), digitalocean::Outcome::Unknown);

    // With it (the default), the lookup proves the tag absent and the create is sent again.
    fake.drop_next(1);
    let created = client
        .tags_create()
        .body(body)
        .send()
        .await
        .expect("settled");
    assert_eq!(created.attempts(), 2);
    assert_eq!(
        created.reconciliation().map(|r| r.resolution),
        Some(digitalocean::Resolution::AbsentSentAgain)
    );
}

#[tokio::test]
async fn latency_and_error_rate_knobs_apply_to_every_request() {
    let fake = FakeServer::builder()
        .latency(Duration::from_millis(150))
        .start()
        .await
        .unwrap();
    let client = support::client_with_policies(
        fake.url(),
        RetryPolicy::disabled(),
        RateLimitPolicy::default(),
    );
    let started = Instant::now();
    client.tags_list().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));

    fake.set_knobs(Knobs {
        error_rate: 1.0,
        ..Knobs::default()
    });
    for _ in 0..3 {
        let error: digitalocean::Error = client.tags_list().send().await.unwrap_err().into();
        assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    }
    fake.set_knobs(Knobs::default());
    client.tags_list().send().await.expect("faults off");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_faults() {
    let outcomes = |seed| async move {
        let fake = FakeServer::builder()
            .error_rate(0.5)
            .seed(seed)
            .start()
            .await
            .unwrap();
        let client = support::client_with_policies(
            fake.url(),
            RetryPolicy::disabled(),
            RateLimitPolicy::default(),
        );
        let mut outcomes = Vec::new();
        for _ in 0..20 {
            outcomes.push(client.tags_list().send().await.is_ok());
        }
        outcomes
    };
    let first = outcomes(7).await;
    assert_eq!(first, outcomes(7).await);
    assert!(first.contains(&true) && first.contains(&false));
}

#[tokio::test]
async fn requests_without_a_bearer_token_are_refused() {
    let fake = FakeServer::builder()
        .token("dop_v1_fake")
        .start()
        .await
        .unwrap();
    let raw = reqwest::Client::new();
    let anonymous = raw
        .get(format!("{}/v2/tags", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["id"], "unauthorized");
    let wrong = raw
        .get(format!("{}/v2/tags", fake.url()))
        .bearer_auth("other")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    support::client(fake.url())
        .tags_list()
        .send()
        .await
        .expect("the right token");
}

#[tokio::test]
async fn the_documented_rules_are_enforced() {
    let fake = FakeServer::start().await.unwrap();
    let raw = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        raw.post(format!("{}{path}", fake.url()))
            .bearer_auth("t")
            .json(&body)
            .send()
    };
    let bad_tag = post("/v2/tags", json!({"name": "has spaces"}))
        .await
        .unwrap();
    assert_eq!(bad_tag.status(), 400);
    assert!(bad_tag.headers().contains_key("x-request-id"));
    let body: serde_json::Value = bad_tag.json().await.unwrap();
    assert!(
        body["root_causes"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{body}"
    );

    let bad_volume = post(
        "/v2/volumes",
        json!({"size_gigabytes": 10, "name": "Bad_Name", "region": "nyc1"}),
    )
    .await
    .unwrap();
    assert_eq!(bad_volume.status(), 400);
    let too_big = post(
        "/v2/volumes",
        json!({"size_gigabytes": 16385, "name": "big", "region": "nyc1"}),
    )
    .await
    .unwrap();
    assert_eq!(too_big.status(), 400);
    let eleven: Vec<String> = (0..11).map(|i| format!("d{i}")).collect();
    let too_many = post(
        "/v2/droplets",
        json!({"names": eleven, "size": "s-1vcpu-1gb", "image": "x"}),
    )
    .await
    .unwrap();
    assert_eq!(too_many.status(), 422);
    let per_page = raw
        .get(format!("{}/v2/droplets?per_page=500", fake.url()))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(per_page.status(), 400);
    let not_json = raw
        .post(format!("{}/v2/tags", fake.url()))
        .bearer_auth("t")
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let dangerous = raw
        .delete(format!(
            "{}/v2/droplets/1/destroy_with_associated_resources/dangerous",
            fake.url()
        ))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(dangerous.status(), 400, "X-Dangerous: true is required");
}

#[tokio::test]
async fn deleting_a_tag_untags_its_resources_and_counts_follow() {
    let fake = FakeServer::builder().droplets(4).start().await.unwrap();
    let client = support::client(fake.url());
    let web = client
        .tags_get()
        .tag_id("web")
        .send()
        .await
        .unwrap()
        .into_inner()
        .tag
        .unwrap();
    let droplets = web
        .resources
        .as_ref()
        .and_then(|r| r.droplets.as_ref())
        .unwrap();
    assert_eq!(droplets.count, Some(2));
    assert!(
        droplets
            .last_tagged_uri
            .as_deref()
            .is_some_and(|u| u.starts_with(fake.url()))
    );
    client.tags_delete().tag_id("web").send().await.unwrap();
    let tagged = client.droplets_list().tag_name("web").send().await.unwrap();
    assert_eq!(tagged.meta.total, 0);
}
